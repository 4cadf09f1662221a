import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { AzureDevOpsClient } from './AzureDevOpsClient';
import { createRouter } from './router';

/** Azure DevOps data for components with `dev.azure.com/project-repo`, at /api/azure-devops. */
export const azureDevOpsPlugin = createBackendPlugin({
  pluginId: 'azure-devops',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        catalog: catalogServiceRef,
      },
      async init({ config, logger, httpAuth, httpRouter, catalog }) {
        httpRouter.use(
          await createRouter({
            config,
            logger,
            httpAuth,
            catalog,
            client: AzureDevOpsClient.fromConfig(config),
          }),
        );
      },
    });
  },
});
