import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { UserEntity } from '@backstage/catalog-model';
import {
  defaultTenantFile,
  loadTenantFile,
  placeholderPhoto,
} from '@gatehouse/entra-emulator';
import http from 'node:http';
import { PhotoLoader, PhotoStore } from './photos';
import { SyncHarness } from './__testUtils__/syncHarness';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('profile photos', () => {
  let h: SyncHarness;
  /** Photo requests the client sent: which, and the most in flight at once. */
  let photoRequests: string[];
  let inFlight: number;
  let maxInFlight: number;
  let clock: number;
  const realGet = http.get;

  beforeEach(async () => {
    h = await SyncHarness.start({
      tenants: loadTenantFile(defaultTenantFile),
      db: await databases.init('SQLITE_3'),
    });
    // Every user has a photo, so a round has many to fetch; Lee Gu keeps none.
    for (const u of h.tenant.listUsers()) {
      if (u.displayName !== 'Lee Gu') {
        h.tenant.setUserPhoto(u.id, {
          contentType: 'image/png',
          data: placeholderPhoto(u.id).toString('base64'),
        });
      }
    }
    // Each request takes a while at the emulator, so concurrent ones overlap.
    h.running.emulator.faults.configure({ latencyMs: 15 });
    photoRequests = [];
    inFlight = 0;
    maxInFlight = 0;
    clock = Date.parse('2026-01-01T00:00:00Z');
    // The Graph client's GETs go through `http.get`: photo requests are counted there, each
    // in flight until its response (or error) arrives.
    jest.spyOn(http, 'get').mockImplementation(((
      url: URL,
      options: http.RequestOptions,
      callback: (res: http.IncomingMessage) => void,
    ) => {
      if (!String(url).includes('/photos/'))
        return realGet(url, options, callback);
      photoRequests.push(String(url));
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let done = false;
      const settle = () => {
        if (!done) inFlight -= 1;
        done = true;
      };
      return realGet(url, options, res => {
        settle();
        callback(res);
      }).once('error', settle);
    }) as typeof http.get);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await h.close();
  });

  async function provider(options: { maxPerRound?: number } = {}) {
    const store = await PhotoStore.create(
      mockServices.database({ knex: h.db }),
    );
    return h.provider({
      photos: new PhotoLoader({
        providerId: 'default',
        store,
        logger: mockServices.logger.mock(),
        now: () => clock,
        ...options,
      }),
    });
  }
  const picture = (entities: Iterable<unknown>, name: string) =>
    [...(entities as Iterable<UserEntity>)].find(
      e => e.kind === 'User' && e.metadata.name === name,
    )?.spec.profile?.picture;

  it('are off by default: no photo request, no picture', async () => {
    const { provider: p, catalog } = await h.provider();
    await p.read();
    expect(photoRequests).toEqual([]);
    expect(picture(catalog.entities.values(), 'alex.wilber')).toBeUndefined();
  });

  it('are fetched at most 4 at a time, 48x48, and stored as data URLs', async () => {
    const { provider: p, catalog } = await provider();
    const summary = await p.read();
    // 19 users in the catalog (Debra is disabled): one photo request each.
    expect(photoRequests).toHaveLength(19);
    expect(photoRequests.every(u => u.endsWith('/photos/48x48/$value'))).toBe(
      true,
    );
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThan(1);
    const alex = h.tenant.getUser('alex.wilber@contoso.example')!;
    expect(picture(catalog.entities.values(), 'alex.wilber')).toBe(
      `data:image/png;base64,${placeholderPhoto(alex.id).toString('base64')}`,
    );
    expect(picture(catalog.entities.values(), 'lee.gu')).toBeUndefined();
    // The photo requests count in the round's Graph requests.
    expect(summary.graphRequests).toBeGreaterThanOrEqual(19);
  });

  it('later rounds fetch only new and changed users, and old photos again', async () => {
    const first = await provider();
    await first.provider.read();
    photoRequests = [];

    // A restarted backend: the photos come from the database, none is fetched again, and
    // no entity changes.
    const second = await provider();
    await second.provider.read();
    expect(photoRequests).toEqual([]);
    expect(second.catalog.applyMutation).not.toHaveBeenCalled();

    // A new user, and a changed one (a new job title comes through /users/delta).
    h.tenant.upsertUser({
      id: '0a0a0a0a-0000-4000-8000-0000000000aa',
      userPrincipalName: 'new.hire@contoso.example',
      displayName: 'New Hire',
      mailNickname: 'new.hire',
      accountEnabled: true,
      userType: 'Member',
      emailVerified: true,
      photo: {
        contentType: 'image/png',
        data: placeholderPhoto('x').toString('base64'),
      },
    });
    const joni = h.tenant.getUser('joni.sherman@contoso.example')!;
    h.tenant.updateUser(joni.id, { jobTitle: 'Staff API Engineer' });
    h.tenant.setUserPhoto(joni.id, {
      contentType: 'image/png',
      data: placeholderPhoto(joni.id, 48, 2).toString('base64'),
    });
    await second.provider.read();
    expect(photoRequests.map(u => u.split('/users/')[1]).sort()).toEqual(
      [
        `0a0a0a0a-0000-4000-8000-0000000000aa/photos/48x48/$value`,
        `${joni.id}/photos/48x48/$value`,
      ].sort(),
    );
    expect(picture(second.catalog.entities.values(), 'joni.sherman')).toBe(
      `data:image/png;base64,${placeholderPhoto(joni.id, 48, 2).toString(
        'base64',
      )}`,
    );
    expect(second.catalog.lastDelta().added).toEqual(
      expect.arrayContaining([
        'user:default/joni.sherman',
        'user:default/new.hire',
      ]),
    );

    // A week on, every photo is fetched again (Graph does not report a new photo): a photo
    // that changed meanwhile reaches the catalog although Graph's delta shows no change.
    const lee = h.tenant.listUsers().find(u => u.displayName === 'Lee Gu')!;
    h.tenant.setUserPhoto(lee.id, {
      contentType: 'image/png',
      data: placeholderPhoto(lee.id, 48, 3).toString('base64'),
    });
    photoRequests = [];
    clock += 8 * 24 * 3600_000;
    await second.provider.read();
    expect(photoRequests).toHaveLength(20);
    expect(picture(second.catalog.entities.values(), 'lee.gu')).toBe(
      `data:image/png;base64,${placeholderPhoto(lee.id, 48, 3).toString(
        'base64',
      )}`,
    );
    expect(second.catalog.lastDelta().added).toEqual(['user:default/lee.gu']);
  });

  it('fetch at most maxPerRound a round, and the rest in the next rounds', async () => {
    const { provider: p, catalog } = await provider({ maxPerRound: 8 });
    await p.read();
    expect(photoRequests).toHaveLength(8);
    await p.read();
    await p.read();
    expect(photoRequests).toHaveLength(19);
    const withPicture = [...catalog.entities.values()].filter(
      e => (e as UserEntity).spec?.profile?.picture,
    );
    expect(withPicture).toHaveLength(18);
  });
});
