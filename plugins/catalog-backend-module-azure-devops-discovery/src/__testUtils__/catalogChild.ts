/*
 * Run by catalogLocations.test.ts in a process of its own, with `dev.azure.com` and
 * `login.microsoftonline.com` routed to the emulator (node --require hostRoutingPreload): a
 * real Backstage backend with the catalog and the credential check, as packages/backend wires
 * them, configured by the `--config` files on its command line (Backstage's own config loading).
 */
import { createBackend } from '@backstage/backend-defaults';
import { azureDevOpsCredentialCheckServiceFactory } from '../credentialCheck';

const backend = createBackend();
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(azureDevOpsCredentialCheckServiceFactory);
backend.start().catch(e => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
