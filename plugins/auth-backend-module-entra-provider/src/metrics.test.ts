import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  authResponse,
  keptCookies,
  startPortalBackend,
  waitForEntities,
} from './__testUtils__/signIn';

/**
 * Sign-in figures as OpenTelemetry metrics, read with an in-memory exporter after real
 * sign-ins through the built-in emulator (the same backend as module.test.ts).
 */
describe('sign-in metrics', () => {
  let backend: Awaited<ReturnType<typeof startPortalBackend>>['backend'];
  let base: string;
  const exporter = new InMemoryMetricExporter(
    AggregationTemporality.CUMULATIVE,
  );
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 3_600_000,
  });
  const provider = new MeterProvider({ readers: [reader] });

  beforeAll(async () => {
    metrics.setGlobalMeterProvider(provider);
    ({ backend, base } = await startPortalBackend());
    // The org sync must have brought Lee Gu into the catalog before anyone signs in.
    await waitForEntities(base, ['user/default/lee.gu']);
  }, 60_000);

  afterAll(async () => {
    await backend?.stop();
    metrics.disable();
    await provider.shutdown();
  });

  /** The data points of a metric, as the exporter last received them. */
  async function points(name: string): Promise<DataPoint<number>[]> {
    await reader.forceFlush();
    const last = exporter.getMetrics().at(-1);
    return (last?.scopeMetrics ?? [])
      .flatMap(s => s.metrics)
      .filter(m => m.descriptor.name === name)
      .flatMap(m => m.dataPoints as DataPoint<number>[]);
  }

  const count = (list: DataPoint<number>[], attrs: Record<string, string>) =>
    list
      .filter(p =>
        Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
      )
      .reduce((sum, p) => sum + p.value, 0);

  it('counts a sign-in that resolves, and a failure by its AADSTS code', async () => {
    const start = await fetch(
      `${base}/api/auth/microsoft/start?env=development&scope=${encodeURIComponent(
        'openid profile email offline_access User.Read',
      )}`,
      { redirect: 'manual' },
    );
    const cookies = keptCookies(start);
    const authorizeUrl = new URL(start.headers.get('location')!);
    const html = await (await fetch(authorizeUrl)).text();
    const txn = /name="txn" value="([^"]+)"/.exec(html)![1];
    const action = /<form method="post" action="([^"]+)"/
      .exec(html)![1]
      .replace(/&amp;/g, '&');
    const userId = /value="([0-9a-f-]{36})"[^>]*>Lee Gu/.exec(html)![1];
    const picked = await fetch(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ txn, user: userId }),
      redirect: 'manual',
    });
    const callback = new URL(picked.headers.get('location')!);

    const before = await points('gatehouse.sign_in.attempts');
    const first = authResponse(
      await (
        await fetch(callback, { headers: { cookie: cookies.join('; ') } })
      ).text(),
    );
    expect(first.response.backstageIdentity.token).toBeTruthy();
    // The same code again: Entra refuses it (AADSTS54005), the sign-in fails.
    const replay = authResponse(
      await (
        await fetch(callback, { headers: { cookie: cookies.join('; ') } })
      ).text(),
    );
    expect(replay.error.message).toContain('AADSTS54005');

    const after = await points('gatehouse.sign_in.attempts');
    expect(
      count(after, { outcome: 'success' }) -
        count(before, { outcome: 'success' }),
    ).toBe(1);
    expect(
      count(after, { outcome: 'failure', code: 'AADSTS54005' }) -
        count(before, { outcome: 'failure', code: 'AADSTS54005' }),
    ).toBe(1);
  });

  it('records the org sync round that ran at start-up', async () => {
    const rounds = await points('gatehouse.org_sync.rounds');
    expect(
      count(rounds, { provider: 'emulator', kind: 'full' }),
    ).toBeGreaterThanOrEqual(1);
    const requests = await points('gatehouse.org_sync.graph.requests');
    expect(count(requests, { provider: 'emulator' })).toBeGreaterThan(0);
  });
});
