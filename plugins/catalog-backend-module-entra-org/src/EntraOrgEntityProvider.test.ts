import { TestDatabases } from '@backstage/backend-test-utils';
import {
  defaultTenantFile,
  generateTenant,
  loadTenantFile,
  parseTenants,
  prng,
} from '@gatehouse/entra-emulator';
import { hashEntities } from './entityDiff';
import { byRef, SyncHarness, withSyncApp } from './__testUtils__/syncHarness';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('delta sync of the seeded tenant', () => {
  let h: SyncHarness;
  const userId = (upn: string) =>
    h.tenant.getUser(`${upn}@contoso.example`)!.id;
  const groupId = (displayName: string) =>
    h.tenant.listGroups().find(g => g.displayName === displayName)!.id;

  beforeEach(async () => {
    h = await SyncHarness.start({
      tenants: loadTenantFile(defaultTenantFile),
      db: await databases.init('SQLITE_3'),
      deltaPageSize: 25,
    });
  });
  afterEach(() => h.close());

  it('writes on its first round exactly the entities the full read makes', async () => {
    const { provider, catalog } = await h.provider();
    const summary = await provider.read();

    expect(catalog.applyMutation).toHaveBeenCalledTimes(1);
    const mutation = catalog.mutations[0];
    expect(mutation.type).toBe('full');
    const written = mutation.type === 'full' ? mutation.entities : [];
    expect(written.map(d => d.entity)).toEqual(await h.fullRead());
    expect(new Set(written.map(d => d.locationKey))).toEqual(
      new Set([`msgraph:default/${h.tenantId}`]),
    );
    // Contoso: 20 users (one disabled, left out), 220 groups.
    expect(summary).toMatchObject({
      kind: 'full',
      users: 20,
      groups: 220,
      changedEntities: 19 + 220,
    });
    expect(summary.memberships).toBeGreaterThan(220);
    // A group round of 25 objects and member references a page takes many requests.
    expect(summary.graphRequests).toBeGreaterThan(15);
    expect(summary.resourceUnits).toBe(summary.graphRequests);
  });

  it('writes on a later round only the entities the directory changes touched', async () => {
    const { provider, catalog, logger } = await h.provider();
    await provider.read();
    const t = h.tenant;

    t.upsertUser({
      id: '0a0a0a0a-0000-4000-8000-000000000001',
      userPrincipalName: 'new.person@contoso.example',
      displayName: 'New Person',
      mail: 'new.person@contoso.example',
      mailNickname: 'new.person',
      accountEnabled: true,
      userType: 'Member',
      emailVerified: true,
    });
    t.addMember(groupId('Platform'), '0a0a0a0a-0000-4000-8000-000000000001');
    t.updateUser(userId('lee.gu'), { mailNickname: 'lee.gunnarsson' }); // a rename
    t.removeUser(userId('irvin.sayers'));
    t.addMember(groupId('Web'), userId('megan.bowen'));
    t.removeMember(groupId('Product'), userId('miriam.graham'));
    t.removeMember(groupId('Platform'), userId('grady.archie')); // a move
    t.addMember(groupId('Payments'), userId('grady.archie'));
    t.removeGroup(groupId('Gatehouse Admins'));
    t.updateUser(userId('nestor.wilke'), { department: 'Facilities' }); // not in any entity

    const summary = await provider.read();
    expect(summary).toMatchObject({ kind: 'delta', changedEntities: 16 });
    expect(catalog.lastDelta()).toEqual({
      added: [
        'group:default/operations', // Irvin left
        'group:default/payments', // Grady came
        'group:default/payments-api', // Lee's new name
        'group:default/platform', // New Person came, Grady left
        'group:default/product', // Miriam left
        'group:default/web', // Megan came
        'user:default/alex.wilber', // Gatehouse Admins is gone
        'user:default/grady.archie',
        'user:default/lee.gunnarsson',
        'user:default/megan.bowen',
        'user:default/miriam.graham',
        'user:default/new.person',
        'user:default/patti.fernandez', // Gatehouse Admins is gone
      ],
      removed: [
        'group:default/gatehouse-admins',
        'user:default/irvin.sayers',
        'user:default/lee.gu',
      ],
    });
    // The catalog now holds what a full read of the changed directory makes.
    expect(catalog.entities).toEqual(byRef(await h.fullRead()));
    expect(
      catalog.entities.get('user:default/grady.archie')!.spec,
    ).toMatchObject({ memberOf: ['payments'] });
    // Graph requests: one page of user changes, one of group changes.
    expect(summary.graphRequests).toBe(2);
    expect(logger.info).toHaveBeenLastCalledWith(
      expect.stringMatching(/delta round.*16 entities changed/),
      expect.objectContaining({
        kind: 'delta',
        changedEntities: 16,
        graphRequests: 2,
        resourceUnits: 2,
        throttled: 0,
      }),
    );

    // Nothing changed since: no mutation at all.
    const quiet = await provider.read();
    expect(quiet).toMatchObject({ kind: 'delta', changedEntities: 0 });
    expect(catalog.applyMutation).toHaveBeenCalledTimes(2);
  });

  it('continues after a restart from the stored delta links, reading only the changes', async () => {
    const first = await h.provider();
    await first.provider.read();
    const fullRound = h.running.emulator.faults.snapshot();
    expect(fullRound['GET /groups/delta'].requests).toBeGreaterThan(15);

    h.tenant.updateUser(userId('alex.wilber'), { jobTitle: 'Staff Engineer' });
    h.running.emulator.faults.resetCounters();

    // A new backend: a new provider and store over the same database, an empty catalog.
    const second = await h.provider();
    const summary = await second.provider.read();

    expect(summary.kind).toBe('delta');
    const counters = h.running.emulator.faults.snapshot();
    expect(counters['GET /users/delta'].requests).toBe(1);
    expect(counters['GET /groups/delta'].requests).toBe(1);
    expect(counters['GET /users']).toBeUndefined();
    expect(second.catalog.lastDelta()).toEqual({
      added: ['user:default/alex.wilber'],
      removed: [],
    });
    expect(
      second.catalog.entities.get('user:default/alex.wilber')!.metadata
        .description,
    ).toBe('Staff Engineer');
  });

  it('stores delta rounds as journal entries and the whole directory again every maxJournal rounds', async () => {
    const { provider, store } = await h.provider({ maxJournal: 2 });
    await provider.read();
    expect(await store.head('default')).toMatchObject({
      generation: 1,
      journalLength: 0,
    });
    const titles = ['Staff Engineer', 'Principal Engineer', 'Fellow'];
    for (const [i, jobTitle] of titles.entries()) {
      h.tenant.updateUser(userId('alex.wilber'), { jobTitle });
      h.tenant.removeMember(groupId('Platform'), userId('alex.wilber'));
      if (i % 2 === 0)
        h.tenant.addMember(groupId('Platform'), userId('alex.wilber'));
      expect((await provider.read()).kind).toBe('delta');
    }
    // Two rounds went to the journal; the third stored a snapshot again.
    expect(await store.head('default')).toMatchObject({
      generation: 4,
      journalLength: 0,
    });
    h.tenant.updateUser(userId('adele.vance'), { jobTitle: 'Engineer' });
    await provider.read();
    expect((await store.head('default'))!.journalLength).toBe(1);

    // A restarted backend rebuilds snapshot + journal into the state this one holds, and
    // its next round writes exactly what changed since.
    const restarted = await h.provider();
    h.tenant.updateUser(userId('adele.vance'), { jobTitle: 'Lead Engineer' });
    const summary = await restarted.provider.read();
    expect(summary).toMatchObject({ kind: 'delta', changedEntities: 1 });
    expect(restarted.catalog.lastDelta()).toEqual({
      added: ['user:default/adele.vance'],
      removed: [],
    });
    const again = await h.provider();
    await again.provider.read();
    expect(again.catalog.mutations).toEqual([]);
    const loaded = await store.load('default');
    expect(
      restarted.catalog.entities.get('user:default/adele.vance')!.metadata
        .description,
    ).toBe('Lead Engineer');
    const platform = h.tenant
      .listGroups()
      .find(g => g.displayName === 'Platform')!;
    expect(loaded!.state.memberIds(platform.id).sort()).toEqual(
      [...platform.members].sort(),
    );
    expect(platform.members).toContain(userId('alex.wilber'));
    expect(Object.keys(loaded!.hashes).sort()).toEqual(
      (await h.fullRead())
        .map(e => `${e.kind.toLowerCase()}:default/${e.metadata.name}`)
        .sort(),
    );
  });

  it('refuses to store a round over one another replica stored meanwhile, and keeps the stored one', async () => {
    const a = await h.provider();
    await a.provider.read();
    const b = await h.provider();
    h.tenant.updateUser(userId('alex.wilber'), { jobTitle: 'Staff Engineer' });
    await b.provider.read(); // generation 2, stored by replica B

    const stored = await a.store.load('default');
    await expect(
      a.store.saveJournal('default', {
        source: stored!.source,
        links: { users: 'stale', groups: 'stale' },
        after: 1,
        journal: {
          users: [],
          groups: [],
          names: {},
          namesRemoved: [],
          hashes: {},
          hashesRemoved: [],
        },
      }),
    ).rejects.toMatchObject({ code: 'SyncConflict' });
    expect((await a.store.head('default'))!.links).toEqual(stored!.links);
    expect((await a.store.head('default'))!.generation).toBe(2);

    // Replica A's next round sees the newer generation and loads it: only the new change.
    h.tenant.updateUser(userId('adele.vance'), { jobTitle: 'Engineer' });
    await a.provider.read();
    expect(a.catalog.lastDelta()).toEqual({
      added: ['user:default/adele.vance'],
      removed: [],
    });
  });

  it('applies user.filter and group.filter itself, as Graph would on a full read', async () => {
    const filters = {
      userFilter: "userType eq 'Member' and not startswith(jobTitle, 'Head')",
      groupFilter:
        "securityEnabled eq true and not startswith(displayName, 'Project')",
    };
    const { provider, catalog } = await h.provider(filters);
    await provider.read();
    const expected = await h.fullRead(filters);
    expect(catalog.entities).toEqual(byRef(expected));
    expect(
      catalog.entities.has('user:default/casey.jordan_fabrikam.example'),
    ).toBe(false);
    expect(catalog.entities.has('user:default/adele.vance')).toBe(false);
    expect(catalog.entities.has('group:default/all-staff-microsoft-365')).toBe(
      false,
    );
    expect(catalog.entities.has('group:default/platform')).toBe(true);

    // A user who now matches the filter comes in with her groups, read rounds ago.
    h.tenant.updateUser(userId('adele.vance'), { jobTitle: 'Engineer' });
    await provider.read();
    expect(catalog.lastDelta().added).toEqual([
      'group:default/engineering',
      'user:default/adele.vance',
    ]);
    expect(catalog.entities).toEqual(byRef(await h.fullRead(filters)));
  });
});

describe('entity names across rounds', () => {
  const TENANT = '7e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b';
  const id = (n: number) => `10000000-0000-4000-8000-00000000000${n}`;
  let h: SyncHarness;

  beforeEach(async () => {
    h = await SyncHarness.start({
      tenants: [
        withSyncApp(
          parseTenants(`
tenants:
  - id: ${TENANT}
    displayName: Collisions
    domains: [collide.example]
    users:
      - { id: '${id(
        3,
      )}', userPrincipalName: jo.smith@collide.example, displayName: Jo Smith }
      - { id: '${id(
        5,
      )}', userPrincipalName: jsmith@collide.example, displayName: Jo Smith, mailNickname: Jo.Smith }
      - { id: '${id(
        7,
      )}', userPrincipalName: other@collide.example, displayName: Jo Smith, mailNickname: 'jo smith' }
    groups:
      - { displayName: Team, members: [jo.smith@collide.example, jsmith@collide.example, other@collide.example] }
`)[0],
        ),
      ],
      db: await databases.init('SQLITE_3'),
      deltaPageSize: 2,
    });
  });
  afterEach(() => h.close());

  const names = (entities: Map<string, any>) =>
    Object.fromEntries(
      [...entities.values()]
        .filter(e => e.kind === 'User')
        .map(e => [
          e.metadata.annotations['graph.microsoft.com/user-id'],
          e.metadata.name,
        ]),
    );

  it('stay unique, and nobody is renamed when a newcomer or a departure would reshuffle them', async () => {
    const { provider, catalog } = await h.provider();
    await provider.read();
    expect(names(catalog.entities)).toEqual({
      [id(3)]: 'jo.smith',
      [id(5)]: 'jo.smith-2',
      [id(7)]: 'jo_smith',
    });

    // A newcomer sorts first by id: a fresh full read would hand them `jo.smith`.
    h.tenant.upsertUser({
      id: id(1),
      userPrincipalName: 'jo.smith.new@collide.example',
      displayName: 'Jo Smith',
      mailNickname: 'jo.smith',
      accountEnabled: true,
      userType: 'Member',
      emailVerified: true,
    });
    await provider.read();
    expect(names(catalog.entities)).toEqual({
      [id(1)]: 'jo.smith-3',
      [id(3)]: 'jo.smith',
      [id(5)]: 'jo.smith-2',
      [id(7)]: 'jo_smith',
    });
    expect(catalog.lastDelta()).toEqual({
      added: ['user:default/jo.smith-3'],
      removed: [],
    });

    // The first `jo.smith` leaves: the others keep their names.
    h.tenant.removeUser(id(3));
    await provider.read();
    expect(names(catalog.entities)).toEqual({
      [id(1)]: 'jo.smith-3',
      [id(5)]: 'jo.smith-2',
      [id(7)]: 'jo_smith',
    });
    expect(catalog.lastDelta()).toEqual({
      added: ['group:default/team'],
      removed: ['user:default/jo.smith'],
    });

    // A real rename takes the name that is free.
    h.tenant.updateUser(id(7), { mailNickname: 'jo.smith' });
    await provider.read();
    expect(names(catalog.entities)[id(7)]).toBe('jo.smith');
    expect(catalog.lastDelta()).toEqual({
      added: ['group:default/team', 'user:default/jo.smith'],
      removed: ['user:default/jo_smith'],
    });
  });
});

describe('a group of 2,000 members', () => {
  it('is read whole although its members span several delta pages, then changed by delta', async () => {
    const data = generateTenant({
      users: 2000,
      groups: 3,
      nestingDepth: 0,
      largeGroups: 1,
      disabledShare: 0,
    });
    data.groups[0].members = data.users.map(u => u.id);
    const h = await SyncHarness.start({
      tenants: [withSyncApp(data)],
      db: await databases.init('SQLITE_3'),
      deltaPageSize: 500,
    });
    try {
      const { provider, catalog } = await h.provider();
      await provider.read();
      const big = catalog.entities.get('group:default/group-0')!;
      expect((big.spec as any).members).toHaveLength(2000);
      // Its members@delta came over at least four pages (500 objects and references each).
      expect(
        h.running.emulator.faults.snapshot()['GET /groups/delta'].requests,
      ).toBeGreaterThanOrEqual(5);
      expect(catalog.entities).toEqual(byRef(await h.fullRead()));

      const leaver = data.users[1234];
      h.tenant.removeMember(data.groups[0].id, leaver.id);
      await provider.read();
      expect(
        (catalog.entities.get('group:default/group-0')!.spec as any).members,
      ).toHaveLength(1999);
      expect(catalog.lastDelta().added).toEqual(
        ['group:default/group-0', `user:default/${leaver.mailNickname}`].sort(),
      );
    } finally {
      await h.close();
    }
  });
});

describe('delta rounds after random changes of every kind', () => {
  it('leave the catalog exactly as a full read would, round after round', async () => {
    const data = generateTenant({
      users: 300,
      groups: 60,
      nestingDepth: 3,
      membershipsPerUser: 4,
      disabledShare: 0.05,
      seed: 7,
    });
    const h = await SyncHarness.start({
      tenants: [withSyncApp(data)],
      db: await databases.init('SQLITE_3'),
      deltaPageSize: 40,
    });
    const rand = prng(11);
    const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)];
    try {
      const filters = { groupFilter: "not startswith(displayName, 'Hidden')" };
      const { provider, catalog, store } = await h.provider(filters);
      await provider.read();
      for (let round = 0; round < 6; round++) {
        const t = h.tenant;
        for (let i = 0; i < 12; i++) {
          const users = t.listUsers();
          const groups = t.listGroups();
          const user = pick(users);
          const group = pick(groups);
          switch (Math.floor(rand() * 9)) {
            case 0: // a new mailNickname: a new entity name, in every group listing them
              t.updateUser(user.id, { mailNickname: `renamed-${round}-${i}` });
              break;
            case 1:
              t.updateUser(user.id, { accountEnabled: !user.accountEnabled });
              break;
            case 2:
              t.removeUser(user.id);
              break;
            case 3: // a renamed group: its members' memberOf, its children's parent
              t.updateGroup(group.id, {
                mailNickname: `team-${round}-${i}`,
              });
              break;
            case 4: // filtered out, or back in
              t.updateGroup(group.id, {
                displayName: group.displayName.startsWith('Hidden')
                  ? `Shown ${i}`
                  : `Hidden ${i}`,
              });
              break;
            case 5:
              t.removeGroup(group.id);
              break;
            case 6:
              if (!group.members.includes(user.id))
                t.addMember(group.id, user.id);
              break;
            case 7:
              if (group.members.length)
                t.removeMember(group.id, pick(group.members));
              break;
            default: {
              const other = pick(groups);
              if (other.id !== group.id && !other.members.includes(group.id))
                t.addMember(other.id, group.id);
            }
          }
        }
        const summary = await provider.read();
        expect(summary.kind).toBe('delta');
        expect(catalog.entities).toEqual(byRef(await h.fullRead(filters)));
        // The hashes kept for the next round are those of what the catalog holds.
        const stored = await store.load('default');
        expect(stored!.hashes).toEqual(
          hashEntities([...catalog.entities.values()]),
        );
      }
    } finally {
      await h.close();
    }
  });
});
