import { defaultTenantFile } from '../paths';
import { loadTenantFile, parseTenants } from '../tenant/loadTenants';
import { TenantStore } from '../tenant/TenantStore';
import { EmulatedTenantData } from '../tenant/types';
import {
  expectGraphError,
  GraphHarness,
  GraphResult,
  MovableClock,
} from './testHarness';

const TENANT = '3d4e5f60-7182-4394-a5b6-c7d8e9f00112';
const APP = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const PAGE = 5;
const DAY = 24 * 3600 * 1000;

const users = Array.from(
  { length: 14 },
  (_, i) => `u${String(i + 1).padStart(2, '0')}`,
);
const NORTHWIND = `
tenants:
  - id: ${TENANT}
    displayName: Northwind
    domains: [northwind.example]
    users:
${users
  .map(
    u =>
      `      - { userPrincipalName: ${u}@northwind.example, displayName: User ${u} }`,
  )
  .join('\n')}
    groups:
      - { displayName: Big, members: [${users
        .slice(0, 12)
        .map(u => `${u}@northwind.example`)
        .join(', ')}] }
      - { displayName: Small, members: [u13@northwind.example, u14@northwind.example] }
      - { displayName: Nested, members: [Small, u01@northwind.example] }
      - { displayName: Empty }
      - { displayName: Renamed, members: [u02@northwind.example] }
    applications:
      - displayName: Sync
        appId: ${APP}
        graphApplicationPermissions: [User.Read.All, GroupMember.Read.All]
`;

type Ref = {
  '@odata.type': string;
  id: string;
  '@removed'?: { reason: string };
};
type DeltaObject = Record<string, any> & {
  id: string;
  'members@delta'?: Ref[];
};

interface Round {
  pages: GraphResult[];
  objects: DeltaObject[];
  deltaLink: string;
}

/** Follows a delta round to its deltaLink, checking the page-size limit on every page. */
async function round(
  h: GraphHarness,
  start: string,
  token: string,
  pageSize = PAGE,
): Promise<Round> {
  const pages: GraphResult[] = [];
  let link: string | undefined = start;
  let deltaLink: string | undefined;
  while (link) {
    const page = await h.get(link, token);
    expect(page.status).toBe(200);
    pages.push(page);
    const value: DeltaObject[] = page.body.value;
    const size =
      value.length +
      value.reduce((n, o) => n + (o['members@delta']?.length ?? 0), 0);
    expect(size).toBeLessThanOrEqual(pageSize);
    expect(
      page.body['@odata.nextLink'] && page.body['@odata.deltaLink'],
    ).toBeFalsy();
    link = page.body['@odata.nextLink'];
    deltaLink = page.body['@odata.deltaLink'];
    if (link) expect(link).toMatch(/\/delta\?\$skiptoken=/);
    if (pages.length > 2000) throw new Error('delta round does not end');
  }
  expect(deltaLink).toMatch(/\/delta\?\$deltatoken=/);
  return {
    pages,
    objects: pages.flatMap(p => p.body.value),
    deltaLink: deltaLink!,
  };
}

/** Members per group, merged over every page of a round (the later page adds to the earlier). */
function membersByGroup(objects: DeltaObject[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const o of objects) {
    if (o['@removed']) continue;
    const list = out.get(o.id) ?? [];
    for (const r of o['members@delta'] ?? [])
      if (!r['@removed']) list.push(r.id);
    out.set(o.id, list);
  }
  return out;
}

describe('delta queries', () => {
  let data: EmulatedTenantData;
  let h: GraphHarness;
  let store: TenantStore;
  let token: string;
  const clock = new MovableClock();
  const id = (upnPrefix: string) =>
    data.users.find(u => u.userPrincipalName.startsWith(`${upnPrefix}@`))!.id;
  const gid = (name: string) =>
    data.groups.find(g => g.displayName === name)!.id;

  beforeEach(async () => {
    [data] = parseTenants(NORTHWIND);
    h = await GraphHarness.start({
      tenants: parseTenants(NORTHWIND),
      deltaPageSize: PAGE,
      clock,
    });
    store = h.emulator.tenants.get(TENANT)!;
    token = await h.appToken(APP, TENANT);
  });

  afterEach(() => h.close());

  it('splits a first round of /users/delta into pages of at most deltaPageSize users', async () => {
    const r = await round(
      h,
      '/users/delta?$select=id,displayName,accountEnabled',
      token,
    );
    expect(r.pages.map(p => p.body.value.length)).toEqual([5, 5, 4]);
    expect(r.objects.map(u => u.id).sort()).toEqual(
      data.users.map(u => u.id).sort(),
    );
    for (const u of r.objects)
      expect(Object.keys(u).sort()).toEqual([
        'accountEnabled',
        'displayName',
        'id',
      ]);
    expect(r.pages[0].body['@odata.context']).toBe(
      `${h.url}/v1.0/$metadata#users`,
    );
  });

  it('splits a group with more members than a page over several pages, and the union is the directory', async () => {
    const r = await round(
      h,
      '/groups/delta?$select=id,displayName,members',
      token,
    );
    const big = gid('Big');
    const pagesWithBig = r.pages.filter(p =>
      p.body.value.some((o: DeltaObject) => o.id === big),
    );
    expect(pagesWithBig.length).toBeGreaterThanOrEqual(3);
    for (const p of pagesWithBig) {
      const o = p.body.value.find((x: DeltaObject) => x.id === big);
      expect(o.displayName).toBe('Big');
      expect(o['members@delta'].length).toBeGreaterThan(0);
    }
    const members = membersByGroup(r.objects);
    expect([...members.keys()].sort()).toEqual(
      data.groups.map(g => g.id).sort(),
    );
    for (const g of data.groups) {
      const got = members.get(g.id)!;
      expect(new Set(got).size).toBe(got.length); // each member once in the round
      expect([...got].sort()).toEqual([...g.members].sort());
    }
    // Member references are typed; a nested group is a group.
    const refs = r.objects
      .filter(o => o.id === gid('Nested'))
      .flatMap(o => o['members@delta'] ?? []);
    expect(refs).toEqual(
      expect.arrayContaining([
        { '@odata.type': '#microsoft.graph.group', id: gid('Small') },
        { '@odata.type': '#microsoft.graph.user', id: id('u01') },
      ]),
    );
    // A group with members to send never comes as an empty shell on a page of its own making.
    const withMembers = new Set(
      data.groups.filter(g => g.members.length).map(g => g.id),
    );
    const shells = r.objects.filter(
      o => withMembers.has(o.id) && !o['members@delta']?.length,
    );
    expect(shells).toEqual([]);
  });

  it('returns only the changes on the deltaLink, with @removed markers, then nothing', async () => {
    const usersRound = await round(
      h,
      '/users/delta?$select=id,displayName',
      token,
    );
    const groupsRound = await round(
      h,
      '/groups/delta?$select=id,displayName,members',
      token,
    );

    const newcomer = {
      ...data.users[0],
      id: '0f0f0f0f-1111-4222-8333-444455556666',
      userPrincipalName: 'u15@northwind.example',
      displayName: 'User u15',
      mailNickname: 'u15',
    };
    store.upsertUser(newcomer);
    store.updateUser(id('u03'), { displayName: 'User u03 (renamed)' });
    store.removeUser(id('u04')); // also leaves Big
    store.addMember(gid('Small'), newcomer.id);
    store.removeMember(gid('Big'), id('u05'));
    store.removeGroup(gid('Empty'));
    store.updateGroup(gid('Renamed'), { displayName: 'Renamed group' });

    const userChanges = await round(h, usersRound.deltaLink, token);
    // An object may come on several pages: the later one wins, member references add up.
    const byId = (objects: DeltaObject[]) => {
      const out: Record<string, DeltaObject> = {};
      for (const o of objects) {
        const refs = [
          ...(out[o.id]?.['members@delta'] ?? []),
          ...(o['members@delta'] ?? []),
        ];
        out[o.id] = { ...o, ...(refs.length ? { 'members@delta': refs } : {}) };
      }
      return out;
    };
    expect(byId(userChanges.objects)).toEqual({
      [newcomer.id]: { id: newcomer.id, displayName: 'User u15' },
      [id('u03')]: { id: id('u03'), displayName: 'User u03 (renamed)' },
      [id('u04')]: { id: id('u04'), '@removed': { reason: 'changed' } },
    });

    const groupChanges = await round(h, groupsRound.deltaLink, token);
    const user = '#microsoft.graph.user';
    expect(byId(groupChanges.objects)).toEqual({
      [gid('Small')]: {
        id: gid('Small'),
        displayName: 'Small',
        'members@delta': [{ '@odata.type': user, id: newcomer.id }],
      },
      [gid('Big')]: {
        id: gid('Big'),
        displayName: 'Big',
        'members@delta': [
          {
            '@odata.type': user,
            id: id('u04'),
            '@removed': { reason: 'deleted' },
          },
          {
            '@odata.type': user,
            id: id('u05'),
            '@removed': { reason: 'deleted' },
          },
        ].sort((a, b) => (a.id < b.id ? -1 : 1)),
      },
      [gid('Empty')]: { id: gid('Empty'), '@removed': { reason: 'changed' } },
      [gid('Renamed')]: { id: gid('Renamed'), displayName: 'Renamed group' },
    });

    for (const link of [userChanges.deltaLink, groupChanges.deltaLink]) {
      const again = await h.get(link, token);
      expect(again.status).toBe(200);
      expect(again.body.value).toEqual([]);
      expect(again.body['@odata.nextLink']).toBeUndefined();
      expect(again.body['@odata.deltaLink']).toMatch(/\$deltatoken=/);
    }
  });

  it('loses nothing when the directory changes in the middle of a round', async () => {
    const sorted = [...data.users].map(u => u.id).sort();
    const first = await h.get('/users/delta?$select=id', token);
    const firstIds: string[] = first.body.value.map((u: DeltaObject) => u.id);
    expect(firstIds).toEqual(sorted.slice(0, PAGE));
    // Users already sent disappear; the rest must still come in this round.
    store.removeUser(firstIds[0]);
    store.removeUser(firstIds[1]);
    const rest = await round(h, first.body['@odata.nextLink'], token);
    const seen = new Set([...firstIds, ...rest.objects.map(o => o.id)]);
    for (const u of sorted) expect(seen.has(u)).toBe(true);
    // The removals come with the next round.
    const next = await round(h, rest.deltaLink, token);
    expect(next.objects).toEqual(
      expect.arrayContaining([
        { id: firstIds[0], '@removed': { reason: 'changed' } },
        { id: firstIds[1], '@removed': { reason: 'changed' } },
      ]),
    );
  });

  it('loses no member of a split group when members leave in the middle of the round', async () => {
    const big = gid('Big');
    const pages: GraphResult[] = [];
    let link: string | undefined = '/groups/delta?$select=id,members';
    let removed = false;
    while (link) {
      const page = await h.get(link, token);
      expect(page.status).toBe(200);
      pages.push(page);
      const sent: Ref[] = page.body.value
        .filter((o: DeltaObject) => o.id === big)
        .flatMap((o: DeltaObject) => o['members@delta'] ?? []);
      if (!removed && sent.length) {
        // The first member of Big already sent leaves the group.
        store.removeMember(big, sent[0].id);
        removed = true;
      }
      link = page.body['@odata.nextLink'];
    }
    const bigPages = pages.filter(p =>
      p.body.value.some((o: DeltaObject) => o.id === big),
    );
    expect(bigPages.length).toBeGreaterThanOrEqual(3);
    const got = membersByGroup(pages.flatMap(p => p.body.value)).get(big)!;
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort()).toEqual(
      [...data.groups.find(g => g.id === big)!.members].sort(),
    );
  });

  it('scopes a delta query by object id with $filter, and refuses other filters', async () => {
    const r = await round(
      h,
      `/groups/delta?$select=id,displayName&$filter=${encodeURIComponent(
        `id eq '${gid('Small')}' or id eq '${gid('Empty')}'`,
      )}`,
      token,
    );
    expect(r.objects.map(o => o.displayName).sort()).toEqual([
      'Empty',
      'Small',
    ]);
    store.updateGroup(gid('Big'), { description: 'changed' });
    store.updateGroup(gid('Small'), { description: 'changed' });
    const next = await round(h, r.deltaLink, token);
    expect(next.objects.map(o => o.id)).toEqual([gid('Small')]);
    const bad = await h.get(
      `/groups/delta?$filter=${encodeURIComponent("displayName eq 'Big'")}`,
      token,
    );
    expectGraphError(bad, 400, 'Request_UnsupportedQuery', clock);
  });

  it('starts from now with $deltatoken=latest', async () => {
    const latest = await h.get(
      '/users/delta?$deltatoken=latest&$select=id,displayName',
      token,
    );
    expect(latest.status).toBe(200);
    expect(latest.body.value).toEqual([]);
    store.updateUser(id('u07'), { displayName: 'Seven' });
    const changes = await round(h, latest.body['@odata.deltaLink'], token);
    expect(changes.objects).toEqual([{ id: id('u07'), displayName: 'Seven' }]);
  });

  it('answers 410 Gone for a delta token older than 7 days, and serves one just younger', async () => {
    const r = await round(h, '/users/delta?$select=id', token);
    const start = clock.current;
    try {
      clock.advance(7 * DAY - 60_000);
      const fresh = await h.appToken(APP, TENANT);
      const young = await h.get(r.deltaLink, fresh);
      expect(young.status).toBe(200);
      expect(young.body.value).toEqual([]);

      // The token issued just now is young; the first one is now past 7 days.
      clock.advance(2 * 60_000);
      const later = await h.appToken(APP, TENANT);
      const gone = await h.get(r.deltaLink, later);
      expectGraphError(gone, 410, 'syncStateNotFound', clock);
      // Location: a new round, with the same query options.
      expect(gone.headers.get('location')).toBe(
        `${h.url}/v1.0/users/delta?$select=id`,
      );
      expect((await h.get(young.body['@odata.deltaLink'], later)).status).toBe(
        200,
      );
    } finally {
      clock.current = start;
    }
  });

  it('answers 410 Gone for a nextLink of a round started more than 7 days ago', async () => {
    const first = await h.get('/users/delta', token);
    const start = clock.current;
    try {
      clock.advance(7 * DAY + 1000);
      const res = await h.get(
        first.body['@odata.nextLink'],
        await h.appToken(APP, TENANT),
      );
      expectGraphError(res, 410, 'syncStateNotFound', clock);
      expect(res.headers.get('location')).toBe(`${h.url}/v1.0/users/delta`);
    } finally {
      clock.current = start;
    }
  });

  it('answers 410 Gone for a delta token from another emulator instance', async () => {
    const r = await round(h, '/groups/delta?$select=id,members', token);
    const other = await GraphHarness.start({
      tenants: parseTenants(NORTHWIND),
      deltaPageSize: PAGE,
      clock,
    });
    try {
      const otherToken = await other.appToken(APP, TENANT);
      const link = r.deltaLink.replace(h.url, other.url);
      const res = await other.get(link, otherToken);
      expectGraphError(res, 410, 'syncStateNotFound', clock);
      // The other instance's own first round works.
      expect(
        (await other.get('/groups/delta?$select=id', otherToken)).status,
      ).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('refuses a malformed delta token, or one for another resource, with 400', async () => {
    const usersRound = await round(h, '/users/delta', token);
    const token64 = new URL(usersRound.deltaLink).searchParams.get(
      '$deltatoken',
    )!;
    const other = await h.get(`/groups/delta?$deltatoken=${token64}`, token);
    expect(other.body.error?.message).toMatch(/delta token/);
    expectGraphError(
      await h.get(`/groups/delta?$deltatoken=${token64}`, token),
      400,
      'Request_BadRequest',
      clock,
    );
    expectGraphError(
      await h.get('/users/delta?$deltatoken=not-a-token', token),
      400,
      'Request_BadRequest',
      clock,
    );
    expectGraphError(
      await h.get('/users/delta?$select=id,members', token),
      400,
      'Request_BadRequest',
      clock,
    );
  });

  it('still makes progress with a page size of 1', async () => {
    const tiny = await GraphHarness.start({
      tenants: parseTenants(NORTHWIND),
      deltaPageSize: 1,
      clock,
    });
    try {
      const t = await tiny.appToken(APP, TENANT);
      // A page of one object still carries one member reference with its group.
      const r = await round(tiny, '/groups/delta?$select=id,members', t, 2);
      const members = membersByGroup(r.objects);
      for (const g of data.groups)
        expect([...(members.get(g.id) ?? [])].sort()).toEqual(
          [...g.members].sort(),
        );
      const usersRound = await round(tiny, '/users/delta?$select=id', t, 1);
      expect(usersRound.pages).toHaveLength(data.users.length);
    } finally {
      await tiny.close();
    }
  });
});

describe('delta over the seeded Contoso tenant', () => {
  it('returns every group and membership once per round, in pages of at most 5', async () => {
    const [contoso] = loadTenantFile(defaultTenantFile);
    const h = await GraphHarness.start({
      tenants: loadTenantFile(defaultTenantFile),
      deltaPageSize: PAGE,
    });
    try {
      const token = await h.appToken();
      const r = await round(
        h,
        '/groups/delta?$select=id,displayName,members',
        token,
      );
      const members = membersByGroup(r.objects);
      expect(members.size).toBe(contoso.groups.length);
      for (const g of contoso.groups)
        expect([...members.get(g.id)!].sort()).toEqual([...g.members].sort());
      // Every group and member reference takes a slot of a page.
      const total =
        contoso.groups.length +
        contoso.groups.reduce((n, g) => n + g.members.length, 0);
      expect(r.pages.length).toBeGreaterThanOrEqual(Math.ceil(total / PAGE));
      const u = await round(h, '/users/delta', token);
      expect(u.objects.map(x => x.id).sort()).toEqual(
        contoso.users.map(x => x.id).sort(),
      );
      // Without $select, users carry Graph's default properties.
      expect(Object.keys(u.objects[0])).toEqual(
        expect.arrayContaining([
          'id',
          'displayName',
          'userPrincipalName',
          'mail',
        ]),
      );
    } finally {
      await h.close();
    }
  });
});
