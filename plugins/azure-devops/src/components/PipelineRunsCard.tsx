import {
  InfoCard,
  Link,
  Progress,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
  Table,
  TableColumn,
  WarningPanel,
} from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import { useAzureDevOps } from './useAzureDevOps';

/** A run as `/api/azure-devops` gives it. */
interface Run {
  id: number;
  buildNumber: string;
  pipeline: string;
  status: string;
  result?: string;
  sourceBranch: string;
  queueTime?: string;
  url?: string;
}

function RunStatus({ run }: { run: Run }) {
  if (run.status !== 'completed') {
    return run.status === 'inProgress' ? (
      <StatusRunning>in progress</StatusRunning>
    ) : (
      <StatusPending>{run.status}</StatusPending>
    );
  }
  return run.result === 'succeeded' ? (
    <StatusOK>succeeded</StatusOK>
  ) : (
    <StatusError>{run.result ?? 'unknown'}</StatusError>
  );
}

const columns: TableColumn<Run>[] = [
  {
    title: 'Run',
    render: r =>
      r.url ? <Link to={r.url}>{r.buildNumber}</Link> : r.buildNumber,
  },
  { title: 'Pipeline', field: 'pipeline' },
  {
    title: 'Branch',
    render: r => r.sourceBranch.replace(/^refs\/heads\//, ''),
  },
  { title: 'Status', render: r => <RunStatus run={r} /> },
  {
    title: 'Queued',
    render: r => (r.queueTime ? new Date(r.queueTime).toLocaleString() : ''),
  },
];

/** The component's recent pipeline runs in Azure DevOps. */
export function PipelineRunsCard() {
  const { entity } = useEntity();
  const { loading, value, error } = useAzureDevOps<{ runs: Run[] }>(
    entity,
    'runs',
  );
  if (loading) return <Progress />;
  if (error) {
    return (
      <WarningPanel
        title="Could not load pipeline runs"
        message={error.message}
      />
    );
  }
  return (
    <Table<Run>
      title="Azure Pipelines runs"
      options={{ search: false, paging: false, padding: 'dense' }}
      columns={columns}
      data={value?.runs ?? []}
      emptyContent={
        <InfoCard>No pipeline runs for this repository yet.</InfoCard>
      }
    />
  );
}
