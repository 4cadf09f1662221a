import Grid from '@material-ui/core/Grid';
import { PipelineRunsCard } from './PipelineRunsCard';
import { PullRequestsCard } from './PullRequestsCard';
import { ReadmeCard } from './ReadmeCard';

/** The "Azure DevOps" tab: runs, pull requests and the README. */
export function AzureDevOpsContent() {
  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <PipelineRunsCard />
      </Grid>
      <Grid item xs={12}>
        <PullRequestsCard />
      </Grid>
      <Grid item xs={12}>
        <ReadmeCard />
      </Grid>
    </Grid>
  );
}
