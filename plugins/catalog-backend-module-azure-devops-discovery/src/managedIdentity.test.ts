import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  defaultTenantFile,
  emulatorProcessEnv,
  hostRoutingPreload,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';

/*
 * Discovery with a managed identity on the real host name: Backstage's credential provider
 * and @azure/identity, unchanged, in a child process whose `dev.azure.com` is routed to the
 * emulator (a global fetch dispatcher set under Jest would not reach `fetch`).
 */
describe('Azure DevOps discovery with a managed identity on dev.azure.com', () => {
  let e: RunningEmulator;
  beforeAll(async () => {
    e = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
      https: true,
      adoHttps: true,
    });
  });
  afterAll(() => e?.close());

  it('lists the organization and finds every catalog file with the identity token', async () => {
    const config = {
      integrations: {
        azure: [
          {
            host: 'dev.azure.com',
            credentials: [{ clientId: 'system-assigned' }],
          },
        ],
      },
      catalog: {
        providers: { azureDevOps: { contoso: { organization: 'contoso' } } },
      },
    };
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--require',
        require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        '--require',
        hostRoutingPreload(),
        require.resolve('./__testUtils__/discoverChild'),
      ],
      {
        env: {
          PATH: process.env.PATH,
          ...emulatorProcessEnv(e),
          GATEHOUSE_CHILD_INPUT: JSON.stringify(config),
        },
      },
    );
    const { summary, targets, errors } = JSON.parse(stdout);
    expect(errors).toEqual([]);
    const file = (project: string, repo: string) =>
      `https://dev.azure.com/contoso/${project}/_git/${repo}?path=%2Fcatalog-info.yaml&version=GBmain`;
    expect(targets).toEqual([
      file('Payments', 'ledger'),
      file('Payments', 'payments-api'),
      file('Platform', 'gatehouse-portal'),
    ]);
    expect(summary).toMatchObject({
      projects: 2,
      repositories: 4,
      locations: 3,
    });
    const counters = e.emulator.faults.snapshot();
    expect(counters['GET /msi/token']?.requests).toBeGreaterThanOrEqual(1);
    expect(counters['POST /{tenant}/oauth2/v2.0/token']).toBeUndefined();
  });
});
