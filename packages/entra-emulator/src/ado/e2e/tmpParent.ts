import { spawnSync } from 'node:child_process';
import { startEmulator, loadTenantFile, defaultTenantFile } from '../..';
import { emulatorProcessEnv, HOST_ROUTING_PRELOAD } from '../../hostRouting';
(async () => {
  const e = await startEmulator({ tenants: loadTenantFile(defaultTenantFile), https: true, adoHttps: true });
  const secret = e.emulator.addClientSecret('3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82');
  const config = { integrations: { azure: [{ host: 'dev.azure.com', credentials: [{ clientId: '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82', clientSecret: secret.secretText, tenantId: '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11' }] }] } };
  const r = spawnSync(process.execPath, ['--require', require.resolve('@backstage/cli/config/nodeTransform.cjs'), '--require', HOST_ROUTING_PRELOAD, '/work/main/packages/entra-emulator/src/ado/e2e/readUrlsChild.ts'], {
    env: { ...process.env, ...emulatorProcessEnv(e), CHILD_CONFIG: JSON.stringify({ config, urls: ['https://dev.azure.com/contoso/Platform/_git/gatehouse-portal?path=/catalog-info.yaml'] }) }, encoding: 'utf8', cwd: '/work/main/packages/entra-emulator' });
  console.log(r.stdout, r.stderr.slice(0, 3000));
  console.log(JSON.stringify(e.emulator.faults.snapshot()).slice(0, 2000));
  await e.close();
})();
