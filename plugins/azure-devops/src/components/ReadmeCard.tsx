import {
  InfoCard,
  MarkdownContent,
  Progress,
  WarningPanel,
} from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import { useAzureDevOps } from './useAzureDevOps';

/** The README.md of the component's repository, rendered. */
export function ReadmeCard() {
  const { entity } = useEntity();
  const { loading, value, error } = useAzureDevOps<{ content: string }>(
    entity,
    'readme',
  );
  return (
    <InfoCard title="README">
      {loading && <Progress />}
      {error && (
        <WarningPanel
          title="Could not load the README"
          message={error.message}
        />
      )}
      {value && <MarkdownContent content={value.content} />}
    </InfoCard>
  );
}
