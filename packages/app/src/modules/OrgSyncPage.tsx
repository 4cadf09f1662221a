import {
  Content,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StructuredMetadataTable,
  WarningPanel,
} from '@backstage/core-components';
import {
  discoveryApiRef,
  fetchApiRef,
  useApi,
} from '@backstage/frontend-plugin-api';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import type { EntraOrgProviderStatus } from '@gatehouse/plugin-entra-org-common';
import { useCallback, useEffect, useState } from 'react';

/** While a round may be running, the page asks again this often. */
const POLL_MS = 5_000;

const when = (iso?: string) => (iso ? new Date(iso).toLocaleString() : '—');

function useOrgSyncApi() {
  const discovery = useApi(discoveryApiRef);
  const { fetch } = useApi(fetchApiRef);
  return useCallback(
    async <T,>(path: string, init?: RequestInit): Promise<T> => {
      const base = await discovery.getBaseUrl('entra-org');
      const res = await fetch(`${base}${path}`, init);
      if (!res.ok) {
        throw new Error(
          `${init?.method ?? 'GET'} ${path}: ${res.status} ${res.statusText}`,
        );
      }
      return (await res.json()) as T;
    },
    [discovery, fetch],
  );
}

function ProviderCard(props: {
  provider: EntraOrgProviderStatus;
  onSyncNow: () => Promise<void>;
}) {
  const { provider, onSyncNow } = props;
  const [requesting, setRequesting] = useState(false);
  const [requestError, setRequestError] = useState<Error>();
  const round = provider.lastRound;
  const syncNow = async () => {
    setRequesting(true);
    setRequestError(undefined);
    try {
      await onSyncNow();
    } catch (e) {
      setRequestError(e as Error);
    } finally {
      setRequesting(false);
    }
  };
  return (
    <InfoCard
      title={`Provider ${provider.id}`}
      subheader={provider.running ? 'A round is running' : undefined}
      action={
        <Button
          variant="contained"
          color="primary"
          disabled={requesting || provider.running}
          onClick={syncNow}
        >
          Sync now
        </Button>
      }
    >
      {provider.lastError && (
        <WarningPanel
          severity="error"
          title={`Last round failed at ${when(provider.lastError.at)}`}
          message={provider.lastError.message}
        />
      )}
      {requestError && (
        <WarningPanel
          severity="error"
          title="Could not start a round"
          message={requestError.message}
        />
      )}
      {round ? (
        <StructuredMetadataTable
          metadata={{
            'Last round': `${round.kind} round, finished ${when(
              round.finishedAt,
            )}`,
            Duration:
              round.durationMs < 1000
                ? `${round.durationMs} ms`
                : `${(round.durationMs / 1000).toFixed(1)} s`,
            Users: `${round.users} in Entra, ${round.userEntities} in the catalog`,
            Groups: `${round.groups} in Entra, ${round.groupEntities} in the catalog`,
            Memberships: round.memberships,
            'Entities changed': round.changedEntities,
            'Graph requests': round.graphRequests,
            'Resource units': round.resourceUnits,
            'Throttled (429)': round.throttled,
            'Next round': when(provider.nextRoundAt),
          }}
        />
      ) : (
        <Typography>No round has finished yet.</Typography>
      )}
    </InfoCard>
  );
}

/** Where each Entra org sync provider stands, with "Sync now". */
export function OrgSyncPage() {
  const api = useOrgSyncApi();
  const [providers, setProviders] = useState<EntraOrgProviderStatus[]>();
  const [error, setError] = useState<Error>();

  const load = useCallback(async () => {
    try {
      const body = await api<{ providers: EntraOrgProviderStatus[] }>(
        '/status',
      );
      setProviders(body.providers);
      setError(undefined);
    } catch (e) {
      setError(e as Error);
    }
  }, [api]);

  useEffect(() => {
    load();
    const timer = setInterval(load, POLL_MS);
    return () => clearInterval(timer);
  }, [load]);

  const syncNow = async (id: string) => {
    await api(`/providers/${encodeURIComponent(id)}/refresh`, {
      method: 'POST',
    });
    await load();
  };

  return (
    <Content>
      {error && <ResponseErrorPanel error={error} />}
      {!providers && !error && <Progress />}
      {providers?.length === 0 && (
        <Typography>No org sync provider is configured.</Typography>
      )}
      <Grid container spacing={3}>
        {providers?.map(p => (
          <Grid item xs={12} md={6} key={p.id}>
            <section aria-label={`Provider ${p.id}`}>
              <ProviderCard provider={p} onSyncNow={() => syncNow(p.id)} />
            </section>
          </Grid>
        ))}
      </Grid>
    </Content>
  );
}
