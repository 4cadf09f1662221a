/**
 * Entity page content for Azure DevOps components: pipeline runs, open pull requests, README.
 *
 * @packageDocumentation
 */
export { azureDevOpsPlugin as default } from './plugin';
export {
  hasAzureDevOpsRepo,
  PROJECT_REPO_ANNOTATION,
} from './components/useAzureDevOps';
