/**
 * Azure DevOps data (pipeline runs, open pull requests, README) for catalog entities.
 *
 * @packageDocumentation
 */
export { azureDevOpsPlugin as default } from './plugin';
export {
  PROJECT_REPO_ANNOTATION,
  HOST_ORG_ANNOTATION,
  repoRefOf,
} from './router';
export type { PipelineRun, PullRequest } from './AzureDevOpsClient';
