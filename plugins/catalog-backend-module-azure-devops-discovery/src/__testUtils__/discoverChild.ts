/*
 * Run by managedIdentity.test.ts in a process of its own, with `dev.azure.com` routed to the
 * emulator (node --require @gatehouse/entra-emulator's hostRoutingPreload): one discovery round
 * with the credentials Backstage builds from `integrations.azure`, as module.ts does. Prints
 * the round's summary and the Location targets as one JSON line.
 */
import { ConfigReader } from '@backstage/config';
import {
  DefaultAzureDevOpsCredentialsProvider,
  ScmIntegrations,
} from '@backstage/integration';
import { EntityProviderMutation } from '@backstage/plugin-catalog-node';
import { AzureDevOpsDiscoveryProvider } from '../AzureDevOpsDiscoveryProvider';
import { readDiscoveryConfigs } from '../config';

type Logger = ConstructorParameters<
  typeof AzureDevOpsDiscoveryProvider
>[0]['logger'];

async function main() {
  const config = new ConfigReader(
    JSON.parse(process.env.GATEHOUSE_CHILD_INPUT ?? '{}'),
  );
  const errors: string[] = [];
  const logger: Logger = {
    info: () => {},
    warn: () => {},
    debug: () => {},
    error: (message: string) => {
      errors.push(message);
    },
    child: () => logger,
  };
  const mutations: EntityProviderMutation[] = [];
  const provider = new AzureDevOpsDiscoveryProvider({
    config: readDiscoveryConfigs(config)[0],
    credentials: DefaultAzureDevOpsCredentialsProvider.fromIntegrations(
      ScmIntegrations.fromConfig(config),
    ),
    logger,
    taskRunner: { run: async () => {} },
  });
  await provider.connect({
    applyMutation: async m => {
      mutations.push(m);
    },
    refresh: async () => {},
  });
  const summary = await provider.read();
  const last = mutations[mutations.length - 1];
  const targets =
    last?.type === 'full'
      ? last.entities.map(e => (e.entity.spec as { target: string }).target)
      : [];
  process.stdout.write(`${JSON.stringify({ summary, targets, errors })}\n`);
}

main().then(
  () => process.exit(0),
  e => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  },
);
