import { TestDatabases } from '@backstage/backend-test-utils';
import { defaultTenantFile, loadTenantFile } from '@gatehouse/entra-emulator';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPoint,
  Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { SyncHarness } from './__testUtils__/syncHarness';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

/**
 * Org sync figures as OpenTelemetry metrics, read with an in-memory exporter after real
 * rounds against the emulator's Graph.
 */
describe('org sync metrics', () => {
  let h: SyncHarness;
  const exporter = new InMemoryMetricExporter(
    AggregationTemporality.CUMULATIVE,
  );
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 3_600_000,
  });
  const provider = new MeterProvider({ readers: [reader] });

  beforeAll(() => metrics.setGlobalMeterProvider(provider));
  afterAll(async () => {
    metrics.disable();
    await provider.shutdown();
  });

  beforeEach(async () => {
    h = await SyncHarness.start({
      tenants: loadTenantFile(defaultTenantFile),
      db: await databases.init('SQLITE_3'),
    });
  });
  afterEach(() => h.close());

  async function metric(name: string) {
    await reader.forceFlush();
    const last = exporter.getMetrics().at(-1);
    return (last?.scopeMetrics ?? [])
      .flatMap(s => s.metrics)
      .filter(m => m.descriptor.name === name)
      .flatMap(m => m.dataPoints as DataPoint<any>[]);
  }

  const sum = (points: DataPoint<any>[], kind: string) =>
    points
      .filter(
        p => p.attributes.kind === kind && p.attributes.provider === 'default',
      )
      .reduce((total, p) => total + (p.value as number), 0);

  it('records each round: count, duration, Graph requests, RU and 429s', async () => {
    const before = {
      full: sum(await metric('gatehouse.org_sync.rounds'), 'full'),
      delta: sum(await metric('gatehouse.org_sync.rounds'), 'delta'),
    };
    // The first Graph request of the round is throttled once, with Retry-After: 0.
    let calls = 0;
    h.running.emulator.faults.configure({
      rate429: 0.5,
      retryAfterSeconds: 0,
      random: () => (calls++ === 0 ? 0 : 0.9),
    });
    const { provider: sync } = await h.provider();
    const full = await sync.read();
    h.running.emulator.faults.configure({ rate429: 0 });
    const delta = await sync.read();
    expect(full.kind).toBe('full');
    expect(delta.kind).toBe('delta');
    expect(full.throttled).toBe(1);

    const rounds = await metric('gatehouse.org_sync.rounds');
    expect(sum(rounds, 'full') - before.full).toBe(1);
    expect(sum(rounds, 'delta') - before.delta).toBe(1);
    expect(sum(await metric('gatehouse.org_sync.graph.requests'), 'full')).toBe(
      full.graphRequests,
    );
    expect(
      sum(await metric('gatehouse.org_sync.graph.throttled'), 'full'),
    ).toBe(1);
    expect(
      sum(await metric('gatehouse.org_sync.graph.resource_units'), 'delta'),
    ).toBe(delta.resourceUnits);
    expect(delta.resourceUnits).toBeGreaterThan(0);

    const durations = (await metric(
      'gatehouse.org_sync.round.duration',
    )) as DataPoint<Histogram>[];
    const fullDurations = durations.find(
      p => p.attributes.kind === 'full' && p.attributes.provider === 'default',
    );
    expect(fullDurations?.value.count).toBeGreaterThanOrEqual(1);
    expect(fullDurations?.value.max).toBeGreaterThanOrEqual(
      full.durationMs / 1000,
    );
  });
});
