import { Counter, Histogram, Meter, metrics } from '@opentelemetry/api';
import type { EntraOrgRoundSummary } from './EntraOrgEntityProvider';

/** The meter's name: the package that records the figures. */
export const ORG_SYNC_METER =
  '@gatehouse/plugin-catalog-backend-module-entra-org';

interface Instruments {
  meter: Meter;
  rounds: Counter;
  duration: Histogram;
  requests: Counter;
  resourceUnits: Counter;
  throttled: Counter;
}

let instruments: Instruments | undefined;

/**
 * The instruments of the meter provider registered now. The metrics API has no proxy
 * provider: a meter taken before OpenTelemetry starts would stay a no-op forever, so the
 * meter is looked up on every record and the instruments made again when it changed.
 */
function current(): Instruments {
  const meter = metrics.getMeter(ORG_SYNC_METER);
  if (instruments?.meter === meter) return instruments;
  instruments = {
    meter,
    rounds: meter.createCounter('gatehouse.org_sync.rounds', {
      description:
        'Org sync rounds finished, by provider and kind (full or delta)',
      unit: '{round}',
    }),
    duration: meter.createHistogram('gatehouse.org_sync.round.duration', {
      description: 'How long an org sync round took, start to stored state',
      unit: 's',
    }),
    requests: meter.createCounter('gatehouse.org_sync.graph.requests', {
      description: 'Microsoft Graph requests of the org sync, retries included',
      unit: '{request}',
    }),
    resourceUnits: meter.createCounter(
      'gatehouse.org_sync.graph.resource_units',
      {
        description:
          'Graph resource units the org sync spent (x-ms-resource-unit), against the tenant budget',
        unit: '{resource_unit}',
      },
    ),
    throttled: meter.createCounter('gatehouse.org_sync.graph.throttled', {
      description: 'Graph 429 (throttled) answers the org sync met',
      unit: '{response}',
    }),
  };
  return instruments;
}

/** Records a finished round's figures as metrics and hands the summary back. */
export function recordOrgSyncRound(
  summary: EntraOrgRoundSummary,
): EntraOrgRoundSummary {
  const i = current();
  const attributes = { provider: summary.provider, kind: summary.kind };
  i.rounds.add(1, attributes);
  i.duration.record(summary.durationMs / 1000, attributes);
  i.requests.add(summary.graphRequests, attributes);
  i.resourceUnits.add(summary.resourceUnits, attributes);
  i.throttled.add(summary.throttled, attributes);
  return summary;
}
