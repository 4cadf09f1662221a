import { generateKeyPair, SignJWT } from 'jose';
import { defaultTenantFile } from '../paths';
import { loadTenantFile, parseTenants } from '../tenant/loadTenants';
import { EmulatedTenantData } from '../tenant/types';
import {
  CONTOSO_APP,
  CONTOSO_TENANT,
  expectGraphError,
  GraphHarness,
  graphDate,
  jwtPayload,
  MovableClock,
} from './testHarness';

const FABRIKAM_TENANT = '7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const FABRIKAM_APP = 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e';
/** A second tenant whose app may read groups and members, and nothing else. */
const FABRIKAM_YAML = `
tenants:
  - id: ${FABRIKAM_TENANT}
    displayName: Fabrikam
    domains: [fabrikam.example]
    users:
      - { userPrincipalName: ana@fabrikam.example, displayName: Ana }
      - { userPrincipalName: bo@fabrikam.example, displayName: Bo }
    groups:
      - { displayName: Crew, members: [ana@fabrikam.example, bo@fabrikam.example] }
    applications:
      - displayName: Groups only
        appId: ${FABRIKAM_APP}
        graphApplicationPermissions: [GroupMember.Read.All]
`;

const byName = (data: EmulatedTenantData, name: string) => {
  const g = data.groups.find(x => x.displayName === name);
  if (!g) throw new Error(`no group ${name}`);
  return g;
};
const byUpn = (data: EmulatedTenantData, upnPrefix: string) => {
  const u = data.users.find(x =>
    x.userPrincipalName.startsWith(`${upnPrefix}@`),
  );
  if (!u) throw new Error(`no user ${upnPrefix}`);
  return u;
};

/** Transitive members computed from the tenant data, independently of the emulator. */
function expectedTransitiveMembers(
  data: EmulatedTenantData,
  groupId: string,
): string[] {
  const seen = new Set<string>();
  const walk = (id: string) => {
    for (const m of data.groups.find(g => g.id === id)?.members ?? []) {
      if (seen.has(m)) continue;
      seen.add(m);
      walk(m);
    }
  };
  walk(groupId);
  return [...seen].sort();
}

function expectedTransitiveMemberOf(
  data: EmulatedTenantData,
  objectId: string,
): string[] {
  const seen = new Set<string>();
  const walk = (id: string) => {
    for (const g of data.groups.filter(x => x.members.includes(id))) {
      if (seen.has(g.id)) continue;
      seen.add(g.id);
      walk(g.id);
    }
  };
  walk(objectId);
  return [...seen].sort();
}

const ids = (values: Array<{ id: string }>) => values.map(v => v.id).sort();

describe('Microsoft Graph over HTTP', () => {
  let h: GraphHarness;
  let contoso: EmulatedTenantData;
  let token: string;
  const clock = new MovableClock();

  beforeAll(async () => {
    [contoso] = loadTenantFile(defaultTenantFile);
    const [fabrikam] = parseTenants(FABRIKAM_YAML);
    // The emulator keeps its own copy of the directory; the test data stays as loaded.
    h = await GraphHarness.start({
      tenants: [loadTenantFile(defaultTenantFile)[0], fabrikam],
      clock,
    });
    token = await h.appToken();
  });

  afterAll(() => h.close());

  describe('bearer tokens', () => {
    it('refuses a request without a token with 401 InvalidAuthenticationToken', async () => {
      const res = await h.get('/users', undefined, {
        'client-request-id': 'c0ffee00-0000-4000-8000-000000000001',
      });
      expectGraphError(res, 401, 'InvalidAuthenticationToken', clock);
      expect(res.body.error.innerError['client-request-id']).toBe(
        'c0ffee00-0000-4000-8000-000000000001',
      );
      expect(res.headers.get('client-request-id')).toBe(
        'c0ffee00-0000-4000-8000-000000000001',
      );
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    });

    it.each([
      ['garbage', 'Bearer not-a-jwt'],
      ['a non-Bearer scheme', 'Basic dXNlcjpwYXNz'],
      [
        'an unsigned token (alg none)',
        `Bearer ${Buffer.from('{"alg":"none"}').toString(
          'base64url',
        )}.${Buffer.from('{"aud":"https://graph.microsoft.com"}').toString(
          'base64url',
        )}.`,
      ],
    ])('refuses %s with 401', async (_name, authorization) => {
      const res = await h.get('/users', undefined, { authorization });
      expectGraphError(res, 401, 'InvalidAuthenticationToken', clock);
      expect(res.headers.get('www-authenticate')).toContain(
        'client_id="00000003-0000-0000-c000-000000000000"',
      );
    });

    it('refuses an expired token (clock moved 2 hours) and accepts a new one', async () => {
      const old = await h.appToken();
      expect((await h.get('/organization', old)).status).toBe(200);
      const start = clock.current;
      clock.advance(2 * 3600 * 1000);
      try {
        const res = await h.get('/organization', old);
        expectGraphError(res, 401, 'InvalidAuthenticationToken', clock);
        expect(res.body.error.message).toMatch(/expired/i);
        const fresh = await h.appToken();
        expect((await h.get('/organization', fresh)).status).toBe(200);
      } finally {
        clock.current = start;
      }
    });

    it("refuses a token for another audience: the app's own API (api://<appId>/.default)", async () => {
      const apiToken = await h.appToken(
        CONTOSO_APP,
        CONTOSO_TENANT,
        `api://${CONTOSO_APP}/.default`,
      );
      expect(jwtPayload(apiToken).aud).toBe(CONTOSO_APP);
      const res = await h.get('/users', apiToken);
      expectGraphError(res, 401, 'InvalidAuthenticationToken', clock);
      expect(res.body.error.message).toMatch(/audience/i);
    });

    it('refuses an ID token, and accepts the access token issued with it', async () => {
      const adele = byUpn(contoso, 'adele.vance');
      const tokens = await h.userTokens({
        userId: adele.id,
        scope: 'openid profile User.Read',
      });
      expect(tokens.id_token).toBeDefined();
      expect(jwtPayload(tokens.id_token!).aud).toBe(CONTOSO_APP);
      expectGraphError(
        await h.get('/me', tokens.id_token),
        401,
        'InvalidAuthenticationToken',
        clock,
      );
      const me = await h.get('/me', tokens.access_token);
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(adele.id);
    });

    it('refuses a token signed by another key, with the emulator kid or an unknown one', async () => {
      const genuine = await h.appToken();
      const [header] = genuine.split('.');
      const { kid } = JSON.parse(
        Buffer.from(header, 'base64url').toString('utf8'),
      );
      const { privateKey } = await generateKeyPair('RS256');
      for (const forgedKid of [kid, 'someone-elses-key']) {
        const forged = await new SignJWT(jwtPayload(genuine))
          .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: forgedKid })
          .sign(privateKey);
        expectGraphError(
          await h.get('/users', forged),
          401,
          'InvalidAuthenticationToken',
          clock,
        );
      }
      expect((await h.get('/users', genuine)).status).toBe(200);
    });
  });

  describe('permissions', () => {
    let groupsOnly: string;

    beforeAll(async () => {
      groupsOnly = await h.appToken(FABRIKAM_APP, FABRIKAM_TENANT);
    });

    it('issues the app a Graph token with only its consented role', () => {
      expect(jwtPayload(groupsOnly).roles).toEqual(['GroupMember.Read.All']);
      expect(jwtPayload(groupsOnly).aud).toBe('https://graph.microsoft.com');
    });

    it.each([
      ['/users'],
      ['/users/delta'],
      ['/users/ana@fabrikam.example'],
      // An app without the permission does not even learn whether a user exists.
      ['/users/00000000-0000-4000-8000-000000000000'],
      ['/organization'],
      ['/applications'],
    ])(
      'answers 403 Authorization_RequestDenied on %s without the permission',
      async path => {
        const res = await h.get(path, groupsOnly);
        expectGraphError(res, 403, 'Authorization_RequestDenied', clock);
        expect(res.body.error.message).toBe(
          'Insufficient privileges to complete the operation.',
        );
      },
    );

    it('lets the same app read groups and members of its own tenant only', async () => {
      const groups = await h.get('/groups', groupsOnly);
      expect(groups.status).toBe(200);
      expect(
        groups.body.value.map((g: { displayName: string }) => g.displayName),
      ).toEqual(['Crew']);
      const members = await h.get(
        `/groups/${groups.body.value[0].id}/members?$select=id,displayName`,
        groupsOnly,
      );
      expect(members.status).toBe(200);
      expect(
        members.body.value
          .map((m: { displayName: string }) => m.displayName)
          .sort(),
      ).toEqual(['Ana', 'Bo']);
      // A Contoso group is not visible from Fabrikam.
      const foreign = await h.get(
        `/groups/${byName(contoso, 'Platform').id}`,
        groupsOnly,
      );
      expectGraphError(foreign, 404, 'Request_ResourceNotFound', clock);
    });

    it('answers /me with an app-only token with 400', async () => {
      const res = await h.get('/me', token);
      expectGraphError(res, 400, 'BadRequest', clock);
      expect(res.body.error.message).toMatch(/delegated/);
    });

    it('serves /me and its groups to a signed-in user, and checks delegated scopes', async () => {
      const joni = byUpn(contoso, 'joni.sherman');
      const tokens = await h.userTokens({
        userId: joni.id,
        scope: 'openid User.Read GroupMember.Read.All',
      });
      const me = await h.get(
        '/me?$select=displayName,userPrincipalName',
        tokens.access_token,
      );
      expect(me.status).toBe(200);
      expect(me.body).toEqual({
        '@odata.context': `${h.url}/v1.0/$metadata#users/$entity`,
        displayName: 'Joni Sherman',
        userPrincipalName: 'joni.sherman@contoso.example',
      });
      const groups = await h.get(
        '/me/transitiveMemberOf?$select=id',
        tokens.access_token,
      );
      expect(ids(groups.body.value)).toEqual(
        expectedTransitiveMemberOf(contoso, joni.id),
      );
      // A user may read themselves by id, but listing users needs User.ReadBasic.All or more.
      expect(
        (await h.get(`/users/${joni.id}`, tokens.access_token)).status,
      ).toBe(200);
      expectGraphError(
        await h.get('/users', tokens.access_token),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(
        await h.get(
          `/users/${byUpn(contoso, 'lee.gu').id}`,
          tokens.access_token,
        ),
        403,
        'Authorization_RequestDenied',
      );
    });
  });

  describe('/users: paging, $select, $filter', () => {
    it('honours $top from 1 to 999', async () => {
      const one = await h.get('/users?$top=1', token);
      expect(one.status).toBe(200);
      expect(one.body.value).toHaveLength(1);
      expect(one.body['@odata.nextLink']).toBeDefined();
      const five = await h.get('/users?$top=5', token);
      expect(five.body.value).toHaveLength(5);
      const all = await h.get('/users?$top=999', token);
      expect(all.body.value).toHaveLength(contoso.users.length);
      expect(all.body['@odata.nextLink']).toBeUndefined();
      expect(all.body['@odata.context']).toBe(`${h.url}/v1.0/$metadata#users`);
    });

    it.each(['1000', '0', '-1', 'ten', '2.5'])(
      'refuses $top=%s with 400',
      async top => {
        const res = await h.get(`/users?$top=${top}`, token);
        expectGraphError(res, 400, 'Request_UnsupportedQuery', clock);
        expect(res.body.error.message).toContain('Must be between 1 and 999');
      },
    );

    it('returns every user exactly once when following @odata.nextLink until it is absent', async () => {
      const pages = await h.pages(
        '/users?$top=3&$select=id,displayName',
        token,
      );
      expect(pages).toHaveLength(Math.ceil(contoso.users.length / 3));
      for (const page of pages.slice(0, -1)) {
        expect(page.body.value).toHaveLength(3);
        const link: string = page.body['@odata.nextLink'];
        // Graph's links keep the query options, with a literal `$`.
        expect(link.startsWith(`${h.url}/v1.0/users?`)).toBe(true);
        expect(link).toContain('$top=3');
        expect(link).toContain('$skiptoken=');
        expect(link).toContain('$select=id%2CdisplayName');
      }
      const seen = pages.flatMap(p =>
        p.body.value.map((u: { id: string }) => u.id),
      );
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual(contoso.users.map(u => u.id).sort());
      for (const page of pages) {
        for (const u of page.body.value)
          expect(Object.keys(u).sort()).toEqual(['displayName', 'id']);
      }
    });

    it('returns the default properties without $select and only the selected ones with it', async () => {
      const adele = byUpn(contoso, 'adele.vance');
      const full = await h.get(`/users?$filter=id eq '${adele.id}'`, token);
      expect(full.body.value).toEqual([
        {
          businessPhones: [],
          displayName: 'Adele Vance',
          givenName: 'Adele',
          jobTitle: 'Head of Engineering',
          mail: 'adele.vance@contoso.example',
          mobilePhone: null,
          officeLocation: null,
          preferredLanguage: null,
          surname: 'Vance',
          userPrincipalName: 'adele.vance@contoso.example',
          id: adele.id,
        },
      ]);
      const trimmed = await h.get(
        `/users?$filter=id eq '${adele.id}'&$select=department,accountEnabled`,
        token,
      );
      expect(trimmed.body.value).toEqual([
        { department: 'Engineering', accountEnabled: true },
      ]);
    });

    it('refuses $select of an unknown property with 400', async () => {
      const res = await h.get('/users?$select=id,favouriteColour', token);
      expectGraphError(res, 400, 'Request_BadRequest', clock);
      expect(res.body.error.message).toContain("'favouriteColour'");
    });

    it('filters on accountEnabled eq true', async () => {
      const res = await h.get(
        '/users?$filter=accountEnabled eq true&$select=id,accountEnabled&$top=999',
        token,
      );
      expect(res.status).toBe(200);
      expect(ids(res.body.value)).toEqual(
        ids(contoso.users.filter(u => u.accountEnabled)),
      );
      expect(res.body.value.length).toBe(contoso.users.length - 1);
      const disabled = await h.get(
        '/users?$filter=accountEnabled eq false&$select=displayName',
        token,
      );
      expect(disabled.body.value).toEqual([{ displayName: 'Debra Berger' }]);
    });

    it("filters on startswith(displayName,'A'), case-insensitively", async () => {
      const res = await h.get(
        "/users?$filter=startswith(displayName,'a')&$select=displayName",
        token,
      );
      expect(
        res.body.value
          .map((u: { displayName: string }) => u.displayName)
          .sort(),
      ).toEqual(['Adele Vance', 'Alex Wilber']);
    });

    it("filters on id in ('..','..'), and combinations with and / or", async () => {
      const [a, b] = [byUpn(contoso, 'lee.gu'), byUpn(contoso, 'megan.bowen')];
      const res = await h.get(
        `/users?$filter=${encodeURIComponent(
          `id in ('${a.id}','${b.id}')`,
        )}&$select=id`,
        token,
      );
      expect(ids(res.body.value)).toEqual([a.id, b.id].sort());
      const combined = await h.get(
        `/users?$filter=${encodeURIComponent(
          "department eq 'Product' and (startswith(displayName,'M') or jobTitle eq 'Head of Product')",
        )}&$select=displayName`,
        token,
      );
      expect(
        combined.body.value
          .map((u: { displayName: string }) => u.displayName)
          .sort(),
      ).toEqual(['Lynne Robbins', 'Megan Bowen', 'Miriam Graham']);
    });

    it('filters groups on securityEnabled eq true and on groupTypes/any(c:c eq Unified)', async () => {
      const security = await h.pages(
        '/groups?$filter=securityEnabled eq true&$select=id&$top=999',
        token,
      );
      expect(ids(security.flatMap(p => p.body.value))).toEqual(
        ids(contoso.groups.filter(g => g.securityEnabled)),
      );
      const unified = await h.get(
        `/groups?$filter=${encodeURIComponent(
          "groupTypes/any(c:c eq 'Unified')",
        )}&$select=displayName,groupTypes`,
        token,
      );
      expect(unified.body.value).toEqual([
        { displayName: 'All Staff (Microsoft 365)', groupTypes: ['Unified'] },
      ]);
    });

    it.each([
      ["displayName gt 'A'", /gt/],
      ["endswith(mail,'.example')", /endswith/],
      ["groupTypes/all(c:c eq 'Unified')", /all/],
      ["favouriteColour eq 'blue'", /favouriteColour/],
      ["displayName eq 'unterminated", /Syntax error/],
      ['displayName eq', /end of \$filter/],
    ])(
      'refuses the filter %s with 400 Request_UnsupportedQuery',
      async (filter, message) => {
        const res = await h.get(
          `/users?$filter=${encodeURIComponent(filter)}`,
          token,
        );
        expectGraphError(res, 400, 'Request_UnsupportedQuery', clock);
        expect(res.body.error.message).toMatch(message);
      },
    );

    it('refuses an unknown query option and $expand with 400', async () => {
      const foo = await h.get('/users?$foo=1', token);
      expectGraphError(foo, 400, 'BadRequest', clock);
      expect(foo.body.error.message).toContain("'$foo'");
      const skip = await h.get('/users?$skip=5', token);
      expectGraphError(skip, 400, 'BadRequest', clock);
      const expand = await h.get(
        `/groups/${byName(contoso, 'Platform').id}?$expand=members`,
        token,
      );
      expectGraphError(expand, 400, 'Request_UnsupportedQuery', clock);
    });

    it('orders with $orderby and pages through the ordered result', async () => {
      const pages = await h.pages(
        '/users?$orderby=displayName desc&$select=displayName&$top=7',
        token,
      );
      const names = pages.flatMap(p =>
        p.body.value.map((u: { displayName: string }) => u.displayName),
      );
      expect(names).toEqual(
        contoso.users
          .map(u => u.displayName)
          .sort((a, b) => b.toLowerCase().localeCompare(a.toLowerCase())),
      );
      expectGraphError(
        await h.get('/users?$orderby=favouriteColour', token),
        400,
        'Request_UnsupportedQuery',
      );
    });

    it('answers an unknown segment with 400 BadRequest', async () => {
      const res = await h.get('/users/someone/photos', token);
      expectGraphError(res, 400, 'BadRequest', clock);
      expect(res.body.error.message).toContain("'photos'");
    });
  });

  describe('single objects, groups and memberships', () => {
    it('reads a user by id and by userPrincipalName (a guest too), with $select', async () => {
      const alex = byUpn(contoso, 'alex.wilber');
      const byId = await h.get(`/users/${alex.id}`, token);
      expect(byId.status).toBe(200);
      expect(byId.body['@odata.context']).toBe(
        `${h.url}/v1.0/$metadata#users/$entity`,
      );
      expect(byId.body).toMatchObject({
        id: alex.id,
        displayName: 'Alex Wilber',
        jobTitle: 'Platform Engineer',
      });
      const byUpnRes = await h.get(
        '/users/ALEX.WILBER@contoso.example?$select=id,mail',
        token,
      );
      expect(byUpnRes.body).toEqual({
        '@odata.context': `${h.url}/v1.0/$metadata#users/$entity`,
        id: alex.id,
        mail: 'alex.wilber@contoso.example',
      });
      const guest = contoso.users.find(u => u.userType === 'Guest')!;
      const guestRes = await h.get(
        `/users/${encodeURIComponent(
          guest.userPrincipalName,
        )}?$select=id,userType,mail`,
        token,
      );
      expect(guestRes.body).toMatchObject({
        id: guest.id,
        userType: 'Guest',
        mail: 'casey.jordan@fabrikam.example',
      });
    });

    it('answers 404 Request_ResourceNotFound for a user or group that does not exist', async () => {
      for (const path of [
        '/users/00000000-0000-4000-8000-000000000000',
        '/users/nobody@contoso.example',
        '/groups/00000000-0000-4000-8000-000000000000',
        '/groups/00000000-0000-4000-8000-000000000000/members',
        '/groups/00000000-0000-4000-8000-000000000000/transitiveMembers',
        '/users/00000000-0000-4000-8000-000000000000/transitiveMemberOf',
      ]) {
        const res = await h.get(path, token);
        expectGraphError(res, 404, 'Request_ResourceNotFound', clock);
        // The request was charged before the object was looked up.
        expect(res.headers.get('x-ms-resource-unit')).toMatch(/^[1-5]$/);
      }
    });

    it('lists groups over pages and reads one group with $select', async () => {
      const pages = await h.pages('/groups?$top=50', token);
      const groups = pages.flatMap(p => p.body.value);
      expect(groups).toHaveLength(contoso.groups.length);
      expect(new Set(ids(groups)).size).toBe(contoso.groups.length);
      const allStaff = groups.find(
        (g: { displayName: string }) =>
          g.displayName === 'All Staff (Microsoft 365)',
      );
      expect(allStaff).toMatchObject({
        mailEnabled: true,
        securityEnabled: false,
        groupTypes: ['Unified'],
      });
      const platform = byName(contoso, 'Platform');
      const one = await h.get(
        `/groups/${platform.id}?$select=displayName,description`,
        token,
      );
      expect(one.body).toEqual({
        '@odata.context': `${h.url}/v1.0/$metadata#groups/$entity`,
        displayName: 'Platform',
        description: 'Runs the developer platform and the portal',
      });
    });

    it('lists direct members only, typed, users and groups', async () => {
      const payments = byName(contoso, 'Payments');
      const res = await h.get(`/groups/${payments.id}/members`, token);
      expect(res.status).toBe(200);
      expect(ids(res.body.value)).toEqual([...payments.members].sort());
      const api = res.body.value.find(
        (m: { id: string }) => m.id === byName(contoso, 'Payments API').id,
      );
      expect(api['@odata.type']).toBe('#microsoft.graph.group');
      const joni = byUpn(contoso, 'joni.sherman');
      expect(ids(res.body.value)).not.toContain(joni.id); // a member of Payments API, not of Payments
      const users = res.body.value.filter(
        (m: { '@odata.type': string }) =>
          m['@odata.type'] === '#microsoft.graph.user',
      );
      expect(users).toHaveLength(3);
      const selected = await h.get(
        `/groups/${payments.id}/members?$select=id`,
        token,
      );
      for (const m of selected.body.value)
        expect(Object.keys(m).sort()).toEqual(['@odata.type', 'id']);
    });

    it('lists transitive members, nested ones included, each once', async () => {
      for (const name of [
        'Engineering',
        'Contoso',
        'All Staff (Microsoft 365)',
      ]) {
        const group = byName(contoso, name);
        const pages = await h.pages(
          `/groups/${group.id}/transitiveMembers?$select=id&$top=7`,
          token,
        );
        const seen = pages.flatMap(p =>
          p.body.value.map((m: { id: string }) => m.id),
        );
        expect(new Set(seen).size).toBe(seen.length);
        expect([...seen].sort()).toEqual(
          expectedTransitiveMembers(contoso, group.id),
        );
      }
      // Engineering includes Joni (Payments > Payments API) and the guest (Web).
      const engineering = await h.get(
        `/groups/${
          byName(contoso, 'Engineering').id
        }/transitiveMembers?$top=999`,
        token,
      );
      expect(ids(engineering.body.value)).toEqual(
        expect.arrayContaining([
          byUpn(contoso, 'joni.sherman').id,
          contoso.users.find(u => u.userType === 'Guest')!.id,
        ]),
      );
    });

    it("lists a user's direct and transitive groups, paging past 100", async () => {
      const joni = byUpn(contoso, 'joni.sherman');
      const direct = await h.get(`/users/${joni.id}/memberOf`, token);
      expect(ids(direct.body.value)).toEqual([
        byName(contoso, 'Payments API').id,
      ]);
      expect(direct.body.value[0]['@odata.type']).toBe(
        '#microsoft.graph.group',
      );
      const transitive = await h.get(
        `/users/${joni.id}/transitiveMemberOf`,
        token,
      );
      expect(ids(transitive.body.value)).toEqual(
        expectedTransitiveMemberOf(contoso, joni.id),
      );
      expect(
        transitive.body.value
          .map((g: { displayName: string }) => g.displayName)
          .sort(),
      ).toEqual([
        'All Staff (Microsoft 365)',
        'Contoso',
        'Engineering',
        'Payments',
        'Payments API',
      ]);
      // Morgan is in 210 project groups: more than the default page of 100.
      const morgan = byUpn(contoso, 'morgan.lee');
      const pages = await h.pages(
        `/users/${morgan.id}/transitiveMemberOf?$select=id`,
        token,
      );
      expect(pages.map(p => p.body.value.length)).toEqual([100, 100, 13]);
      expect(ids(pages.flatMap(p => p.body.value))).toEqual(
        expectedTransitiveMemberOf(contoso, morgan.id),
      );
    });

    it('answers POST getMemberObjects with transitive group ids, security groups only on request', async () => {
      const joni = byUpn(contoso, 'joni.sherman');
      const all = await h.post(`/users/${joni.id}/getMemberObjects`, token, {
        securityEnabledOnly: false,
      });
      expect(all.status).toBe(200);
      expect(all.body['@odata.context']).toBe(
        `${h.url}/v1.0/$metadata#Collection(Edm.String)`,
      );
      expect([...all.body.value].sort()).toEqual(
        expectedTransitiveMemberOf(contoso, joni.id),
      );
      const security = await h.post(
        `/users/${joni.id}/getMemberObjects`,
        token,
        { securityEnabledOnly: true },
      );
      expect(security.body.value).not.toContain(
        byName(contoso, 'All Staff (Microsoft 365)').id,
      );
      expect(security.body.value).toHaveLength(all.body.value.length - 1);
      expectGraphError(
        await h.post(`/users/${joni.id}/getMemberObjects`, token, {}),
        400,
        'Request_BadRequest',
        clock,
      );
    });

    it('answers a body that is not JSON with a Graph error', async () => {
      const res = await fetch(
        `${h.url}/v1.0/users/${byUpn(contoso, 'lee.gu').id}/getMemberObjects`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
          },
          body: '{"securityEnabledOnly": tru',
        },
      );
      const body = await res.json();
      expect(res.status).toBe(400);
      expect(body.error.code).toBe('BadRequest');
      expect(body.error.innerError.date).toBe(graphDate(clock.now()));
    });

    it('reads the organization with its verified domains', async () => {
      const res = await h.get('/organization', token);
      expect(res.status).toBe(200);
      expect(res.body.value).toEqual([
        {
          id: CONTOSO_TENANT,
          displayName: 'Contoso',
          tenantType: 'AAD',
          verifiedDomains: [
            {
              name: 'contoso.example',
              isDefault: true,
              isInitial: false,
              type: 'Managed',
              capabilities: 'Email, OfficeCommunicationsOnline',
            },
            {
              name: 'contoso.onmicrosoft.example',
              isDefault: false,
              isInitial: true,
              type: 'Managed',
              capabilities: 'Email, OfficeCommunicationsOnline',
            },
          ],
        },
      ]);
    });

    it('lists applications with their secrets’ expiry, never the secret text', async () => {
      const end = new Date(clock.now().getTime() + 30 * 24 * 3600 * 1000);
      const added = h.emulator.addClientSecret(CONTOSO_APP, {
        displayName: 'ci',
        endDateTime: end,
      });
      const res = await h.get(
        `/applications?$filter=appId eq '${CONTOSO_APP}'`,
        token,
      );
      expect(res.status).toBe(200);
      expect(res.body.value).toHaveLength(1);
      const app = res.body.value[0];
      expect(app).toMatchObject({
        appId: CONTOSO_APP,
        displayName: 'Gatehouse (local)',
        signInAudience: 'AzureADMyOrg',
      });
      const cred = app.passwordCredentials.find(
        (c: { keyId: string }) => c.keyId === added.keyId,
      );
      expect(cred).toEqual({
        keyId: added.keyId,
        displayName: 'ci',
        hint: added.secretText.slice(0, 3),
        startDateTime: clock.now().toISOString(),
        endDateTime: end.toISOString(),
        secretText: null,
        customKeyIdentifier: null,
      });
      for (const c of app.passwordCredentials) expect(c.secretText).toBeNull();
      const raw = JSON.stringify(res.body);
      expect(raw).not.toContain(added.secretText);
      expect(raw).not.toContain(h.secretFor(CONTOSO_APP));
      expect(raw).not.toContain('secretHash');
      const selected = await h.get(
        '/applications?$select=appId,passwordCredentials',
        token,
      );
      expect(Object.keys(selected.body.value[0]).sort()).toEqual([
        'appId',
        'passwordCredentials',
      ]);
    });
  });

  describe('$batch', () => {
    it('answers up to 20 inner requests, each with its own id, status and body', async () => {
      const platform = byName(contoso, 'Platform');
      const res = await h.post('/$batch', token, {
        requests: [
          { id: '1', method: 'GET', url: '/users?$top=2&$select=id' },
          {
            id: '2',
            method: 'GET',
            url: `/groups/${platform.id}/members?$select=id`,
          },
          {
            id: '3',
            method: 'GET',
            url: '/users/00000000-0000-4000-8000-000000000000',
          },
          {
            id: '4',
            method: 'POST',
            url: `/users/${byUpn(contoso, 'lee.gu').id}/getMemberObjects`,
            body: { securityEnabledOnly: true },
            headers: { 'content-type': 'application/json' },
          },
          { id: '5', method: 'GET', url: 'organization?$select=id' },
        ],
      });
      expect(res.status).toBe(200);
      const responses: Array<{
        id: string;
        status: number;
        headers: Record<string, string>;
        body: any;
      }> = res.body.responses;
      expect(responses.map(r => [r.id, r.status])).toEqual([
        ['1', 200],
        ['2', 200],
        ['3', 404],
        ['4', 200],
        ['5', 200],
      ]);
      expect(responses[0].body.value).toHaveLength(2);
      expect(responses[0].body['@odata.nextLink']).toContain('/v1.0/users?');
      expect(ids(responses[1].body.value)).toEqual(
        [...platform.members].sort(),
      );
      expect(responses[2].body.error.code).toBe('Request_ResourceNotFound');
      expect(responses[3].body.value).toEqual(
        expect.arrayContaining([byName(contoso, 'Payments API').id]),
      );
      expect(responses[4].body.value).toEqual([{ id: CONTOSO_TENANT }]);
      expect(responses[1].headers['x-ms-resource-unit']).toBe('2');
    });

    it('accepts 20 requests and refuses 21 with 400', async () => {
      const requests = (n: number) =>
        Array.from({ length: n }, (_, i) => ({
          id: String(i + 1),
          method: 'GET',
          url: '/organization?$select=id',
        }));
      const twenty = await h.post('/$batch', token, { requests: requests(20) });
      expect(twenty.status).toBe(200);
      expect(twenty.body.responses).toHaveLength(20);
      expect(
        twenty.body.responses.every(
          (r: { status: number }) => r.status === 200,
        ),
      ).toBe(true);
      const twentyOne = await h.post('/$batch', token, {
        requests: requests(21),
      });
      expectGraphError(twentyOne, 400, 'BadRequest', clock);
      expect(twentyOne.body.error.message).toMatch(/20/);
    });

    it('refuses duplicate ids, malformed payloads and nested batches', async () => {
      const dup = await h.post('/$batch', token, {
        requests: [
          { id: 'a', method: 'GET', url: '/organization' },
          { id: 'a', method: 'GET', url: '/organization' },
        ],
      });
      expectGraphError(dup, 400, 'BadRequest', clock);
      expectGraphError(
        await h.post('/$batch', token, { nope: [] }),
        400,
        'BadRequest',
        clock,
      );
      const nested = await h.post('/$batch', token, {
        requests: [
          { id: '1', method: 'POST', url: '/$batch', body: { requests: [] } },
        ],
      });
      expect(nested.status).toBe(200);
      expect(nested.body.responses[0].status).toBe(400);
      expect(
        (await h.post('/$batch', undefined, { requests: [] })).status,
      ).toBe(401);
    });
  });
});
