import {
  Link,
  Progress,
  Table,
  TableColumn,
  WarningPanel,
} from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import Typography from '@material-ui/core/Typography';
import { useAzureDevOps } from './useAzureDevOps';

/** A pull request as `/api/azure-devops` gives it. */
interface PullRequest {
  id: number;
  title: string;
  createdBy?: string;
  creationDate?: string;
  sourceBranch: string;
  targetBranch: string;
  isDraft: boolean;
  url: string;
}

const branch = (ref: string) => ref.replace(/^refs\/heads\//, '');

const columns: TableColumn<PullRequest>[] = [
  {
    title: 'Pull request',
    render: pr => (
      <Link to={pr.url}>
        !{pr.id} {pr.title}
        {pr.isDraft ? ' (draft)' : ''}
      </Link>
    ),
  },
  { title: 'Author', render: pr => pr.createdBy ?? '' },
  {
    title: 'Branches',
    render: pr => `${branch(pr.sourceBranch)} → ${branch(pr.targetBranch)}`,
  },
  {
    title: 'Opened',
    render: pr =>
      pr.creationDate ? new Date(pr.creationDate).toLocaleDateString() : '',
  },
];

/** The component's open pull requests in Azure Repos. */
export function PullRequestsCard() {
  const { entity } = useEntity();
  const { loading, value, error } = useAzureDevOps<{
    pullRequests: PullRequest[];
  }>(entity, 'pull-requests');
  if (loading) return <Progress />;
  if (error) {
    return (
      <WarningPanel
        title="Could not load pull requests"
        message={error.message}
      />
    );
  }
  return (
    <Table<PullRequest>
      title="Open pull requests"
      options={{ search: false, paging: false, padding: 'dense' }}
      columns={columns}
      data={value?.pullRequests ?? []}
      emptyContent={
        <Typography variant="body2" style={{ padding: 16 }}>
          No open pull requests.
        </Typography>
      }
    />
  );
}
