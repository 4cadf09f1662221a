import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createAzurePipelineCreateAction } from './actions/pipeline';
import { createAzureRepoGrantAction } from './actions/grant';
import {
  createAzureRepoCreateAction,
  createAzureRepoPushAction,
} from './actions/repo';

/** The Azure DevOps scaffolder actions: azure:repo:create, azure:repo:push, azure:pipeline:create, azure:repo:grant. */
export const scaffolderModuleAzureDevOps = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'gatehouse-azure-devops',
  register(env) {
    env.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        catalog: catalogServiceRef,
      },
      async init({ scaffolder, config, catalog }) {
        scaffolder.addActions(
          createAzureRepoCreateAction({ config }),
          createAzureRepoPushAction({ config }),
          createAzurePipelineCreateAction({ config }),
          createAzureRepoGrantAction({ config, catalog }),
        );
      },
    });
  },
});
