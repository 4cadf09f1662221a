import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  DefaultAzureDevOpsCredentialsProvider,
  ScmIntegrations,
} from '@backstage/integration';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { AzureDevOpsDiscoveryProvider } from './AzureDevOpsDiscoveryProvider';
import { readDiscoveryConfigs } from './config';

/** Azure DevOps repositories' catalog files into the catalog, found by listing (no Code Search). */
export const catalogModuleAzureDevOpsDiscovery = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'azure-devops-discovery',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
      },
      async init({ catalog, config, logger, scheduler }) {
        const configs = readDiscoveryConfigs(config);
        if (!configs.length) return;
        const credentials =
          DefaultAzureDevOpsCredentialsProvider.fromIntegrations(
            ScmIntegrations.fromConfig(config),
          );
        catalog.addEntityProvider(
          configs.map(
            c =>
              new AzureDevOpsDiscoveryProvider({
                config: c,
                credentials,
                logger: logger.child({ provider: c.id }),
                taskRunner: scheduler.createScheduledTaskRunner(c.schedule),
              }),
          ),
        );
      },
    });
  },
});
