/**
 * Scaffolder actions for Azure DevOps: repository, content, pipeline and access.
 *
 * @packageDocumentation
 */
export { scaffolderModuleAzureDevOps as default } from './module';
export {
  createAzureRepoCreateAction,
  createAzureRepoPushAction,
} from './actions/repo';
export { createAzurePipelineCreateAction } from './actions/pipeline';
export {
  createAzureRepoGrantAction,
  GIT_PERMISSIONS,
  GIT_REPOSITORIES_NAMESPACE,
} from './actions/grant';
export { AzureDevOpsApiError, azureDevOpsOrigin } from './AzureDevOpsApi';
