import { TestDatabases } from '@backstage/backend-test-utils';
import { defaultTenantFile, loadTenantFile } from '@gatehouse/entra-emulator';
import { byRef, SyncHarness } from './__testUtils__/syncHarness';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const DAY = 24 * 3600 * 1000;

describe('delta sync when Graph misbehaves', () => {
  let h: SyncHarness;
  /** The emulator's clock runs this far ahead of the real one. */
  let skewMs = 0;
  const userId = (upn: string) =>
    h.tenant.getUser(`${upn}@contoso.example`)!.id;
  const groupId = (displayName: string) =>
    h.tenant.listGroups().find(g => g.displayName === displayName)!.id;

  beforeEach(async () => {
    skewMs = 0;
    h = await SyncHarness.start({
      tenants: loadTenantFile(defaultTenantFile),
      db: await databases.init('SQLITE_3'),
      deltaPageSize: 25,
      clock: { now: () => new Date(Date.now() + skewMs) },
    });
  });
  afterEach(() => h.close());

  /** Fails every request to a route from its `after`+1-th on, with `status`. */
  function failFrom(route: string, after: number, status: 429 | 503) {
    let calls = 0;
    h.running.emulator.faults.configure({
      rate429: status === 429 ? 0.5 : 0,
      rate503: status === 503 ? 0.5 : 0,
      retryAfterSeconds: 0,
      routes: route,
      random: () => (calls++ < after ? 0.9 : 0),
    });
  }

  it('reads everything again when Graph answers 410 Gone to the stored delta link', async () => {
    const { provider, catalog, logger } = await h.provider();
    await provider.read();
    h.tenant.updateUser(userId('alex.wilber'), { jobTitle: 'Staff Engineer' });
    // A full round carries no @removed markers: Irvin must go because the state starts empty.
    h.tenant.removeUser(userId('irvin.sayers'));

    skewMs = 8 * DAY; // delta tokens live about 7 days
    const summary = await provider.read();

    expect(summary.kind).toBe('full');
    expect(logger.info).toHaveBeenCalledWith(
      expect.stringMatching(/410 syncStateNotFound.*whole directory/),
    );
    expect(catalog.mutations.map(m => m.type)).toEqual(['full', 'full']);
    expect(catalog.entities).toEqual(byRef(await h.fullRead()));
    expect(
      catalog.entities.get('user:default/alex.wilber')!.metadata.description,
    ).toBe('Staff Engineer');
    expect(catalog.entities.has('user:default/irvin.sayers')).toBe(false);
    const statuses =
      h.running.emulator.faults.snapshot()['GET /users/delta'].statuses;
    expect(statuses[410]).toBe(1);

    // The new links work: the next round is a delta round again.
    h.tenant.updateUser(userId('alex.wilber'), { jobTitle: 'Principal' });
    expect((await provider.read()).kind).toBe('delta');
    expect(catalog.lastDelta().added).toEqual(['user:default/alex.wilber']);
  });

  it('waits as long as Retry-After says on a 429, and finishes the round', async () => {
    let calls = 0;
    h.running.emulator.faults.configure({
      rate429: 0.5,
      retryAfterSeconds: 3,
      routes: '^GET /groups/delta$',
      random: () => (calls++ === 2 ? 0 : 0.9),
    });
    const { provider, catalog } = await h.provider();
    const summary = await provider.read();

    expect(summary).toMatchObject({ kind: 'full', throttled: 1 });
    expect(h.waits).toEqual([3000]);
    expect(catalog.entities).toEqual(byRef(await h.fullRead()));
    expect(
      h.running.emulator.faults.snapshot()['GET /groups/delta'].statuses[429],
    ).toBe(1);
  });

  it('backs off exponentially, with jitter, on 429s without a usable Retry-After', async () => {
    // The second request, and its first retry, are throttled.
    const throttled = new Set([1, 2]);
    let calls = 0;
    h.running.emulator.faults.configure({
      rate429: 0.5,
      retryAfterSeconds: 0,
      routes: '^GET /groups/delta$',
      random: () => (throttled.has(calls++) ? 0 : 0.9),
    });
    // One request at a time, so that the second request and its retry are the same one.
    const { provider, catalog } = await h.provider({
      graph: { ...h.graphOptions, concurrency: 1 },
    });
    const summary = await provider.read();

    expect(summary.throttled).toBe(2);
    // Two 429s in a row on the same request: about 100 ms, then about 200 ms (±50%).
    expect(h.waits).toHaveLength(2);
    expect(h.waits[0]).toBeGreaterThanOrEqual(50);
    expect(h.waits[0]).toBeLessThanOrEqual(150);
    expect(h.waits[1]).toBeGreaterThanOrEqual(100);
    expect(h.waits[1]).toBeLessThanOrEqual(300);
    expect(catalog.entities).toEqual(byRef(await h.fullRead()));
  });

  it('writes nothing and stores nothing when the first round fails half-way', async () => {
    failFrom('^GET /groups/delta$', 4, 503);
    const { provider, catalog, store } = await h.provider();

    await expect(provider.read()).rejects.toThrow(/503/);
    expect(catalog.applyMutation).not.toHaveBeenCalled();
    expect(await store.load('default')).toBeUndefined();
    // Each failing request (member reads run side by side) was sent four times: once and
    // three retries.
    const { statuses } =
      h.running.emulator.faults.snapshot()['GET /groups/delta'];
    expect(statuses[200]).toBe(4);
    expect(statuses[503]).toBeGreaterThanOrEqual(4);
    expect(statuses[503] % 4).toBe(0);

    h.running.emulator.faults.configure({
      rate503: 0,
      routes: null,
      random: null,
    });
    expect((await provider.read()).kind).toBe('full');
    expect(catalog.entities).toEqual(byRef(await h.fullRead()));
  });

  it('keeps the stored links when a delta round fails, and the next round brings the changes', async () => {
    const { provider, catalog, store } = await h.provider();
    await provider.read();
    const before = await store.load('default');

    h.tenant.updateUser(userId('alex.wilber'), { jobTitle: 'Staff Engineer' });
    h.tenant.addMember(groupId('Web'), userId('megan.bowen'));
    // Users read, then every groups request fails: the round is cut half-way.
    failFrom('^GET /groups/delta$', 0, 503);

    await expect(provider.read()).rejects.toThrow(/503/);
    expect(catalog.applyMutation).toHaveBeenCalledTimes(1);
    const after = await store.load('default');
    expect(after!.links).toEqual(before!.links);
    expect(after!.state.users.get(userId('alex.wilber'))!.jobTitle).toBe(
      'Platform Engineer',
    );

    h.running.emulator.faults.configure({
      rate503: 0,
      routes: null,
      random: null,
    });
    const summary = await provider.read();
    expect(summary.kind).toBe('delta');
    expect(catalog.lastDelta()).toEqual({
      added: [
        'group:default/web',
        'user:default/alex.wilber',
        'user:default/megan.bowen',
      ],
      removed: [],
    });
    expect(catalog.entities).toEqual(byRef(await h.fullRead()));
  });

  it('stores nothing when the catalog write fails, so the next round writes the changes again', async () => {
    const { provider, catalog, store } = await h.provider();
    await provider.read();
    const before = await store.load('default');
    h.tenant.updateUser(userId('alex.wilber'), { jobTitle: 'Staff Engineer' });

    catalog.applyMutation.mockRejectedValueOnce(
      new Error('database is locked'),
    );
    await expect(provider.read()).rejects.toThrow(/database is locked/);
    expect((await store.load('default'))!.links).toEqual(before!.links);

    await provider.read();
    expect(catalog.lastDelta().added).toEqual(['user:default/alex.wilber']);
    expect(
      catalog.entities.get('user:default/alex.wilber')!.metadata.description,
    ).toBe('Staff Engineer');
  });

  it('leaves the catalog untouched when it cannot get a token', async () => {
    const { provider, catalog } = await h.provider({
      target: async () => ({
        graphBaseUrl: `${h.running.url}/v1.0`,
        credentials: { ...h.credentials, clientSecret: 'not-the-secret' },
      }),
    });
    await expect(provider.read()).rejects.toThrow(/AADSTS7000215/);
    expect(catalog.applyMutation).not.toHaveBeenCalled();
  });
});
