import { createFrontendPlugin } from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { hasAzureDevOpsRepo } from './components/useAzureDevOps';

/** Recent runs on the overview of components with `dev.azure.com/project-repo`. */
const pipelineRunsCard = EntityCardBlueprint.make({
  name: 'pipeline-runs',
  params: {
    filter: hasAzureDevOpsRepo,
    loader: () =>
      import('./components/PipelineRunsCard').then(m => <m.PipelineRunsCard />),
  },
});

/** Open pull requests on the overview of the same components. */
const pullRequestsCard = EntityCardBlueprint.make({
  name: 'pull-requests',
  params: {
    filter: hasAzureDevOpsRepo,
    loader: () =>
      import('./components/PullRequestsCard').then(m => <m.PullRequestsCard />),
  },
});

/** An "Azure DevOps" tab with runs, pull requests and the README. */
const azureDevOpsContent = EntityContentBlueprint.make({
  name: 'azure-devops',
  params: {
    path: '/azure-devops',
    title: 'Azure DevOps',
    filter: hasAzureDevOpsRepo,
    loader: () =>
      import('./components/AzureDevOpsContent').then(m => (
        <m.AzureDevOpsContent />
      )),
  },
});

/** Azure DevOps on entity pages (backend: `@gatehouse/plugin-azure-devops-backend`). */
export const azureDevOpsPlugin = createFrontendPlugin({
  pluginId: 'azure-devops',
  extensions: [pipelineRunsCard, pullRequestsCard, azureDevOpsContent],
});
