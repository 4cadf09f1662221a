import {
  budgetForTenantSize,
  FaultInjector,
  resourceUnitCost,
  validateFaultSettings,
} from './faults';
import { routeTemplate } from './graph/GraphService';
import {
  CONTOSO_APP,
  CONTOSO_TENANT,
  expectGraphError,
  GraphHarness,
  MovableClock,
} from './graph/testHarness';
import { defaultTenantFile } from './paths';
import { entraRouteTemplate } from './server';
import { loadTenantFile, parseTenants } from './tenant/loadTenants';
import { EmulatedTenantData } from './tenant/types';

const OTHER_TENANT = '8e9f0a1b-2c3d-4e5f-9a6b-7c8d9e0f1a2b';
const OTHER_APP = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';
const OTHER_YAML = `
tenants:
  - id: ${OTHER_TENANT}
    domains: [other.example]
    users: [{ userPrincipalName: solo@other.example, displayName: Solo }]
    applications:
      - { displayName: Other, appId: ${OTHER_APP}, graphApplicationPermissions: [User.Read.All, GroupMember.Read.All] }
`;

describe('resource units and budgets (units)', () => {
  it.each([
    ['GET /users', '', 2],
    ['GET /users', '$select=id', 1],
    ['GET /users', '$top=999', 2],
    ['GET /users', '$top=19', 1],
    ['GET /users', '$top=20', 2],
    ['GET /users', '$select=id&$top=5', 1],
    ['GET /users', '$expand=manager', 3],
    ['GET /users/{id}', '', 1],
    ['GET /groups', '', 1],
    ['GET /groups', '$select=id', 1],
    ['GET /groups/{id}/members', '', 3],
    ['GET /groups/{id}/members', '$select=id', 2],
    ['GET /groups/{id}/transitiveMembers', '', 5],
    ['GET /groups/{id}/transitiveMembers', '$select=id&$top=999', 4],
    ['GET /users/{id}/transitiveMemberOf', '', 2],
    ['GET /me/memberOf', '', 2],
    ['POST /users/{id}/getMemberObjects', '', 2],
    ['GET /applications', '', 2],
    ['GET /users/delta', '', 1],
    ['GET /organization', '', 1],
  ])('%s?%s costs %i RU', (route, query, cost) => {
    expect(resourceUnitCost(route, new URLSearchParams(query))).toBe(cost);
  });

  it.each([
    [0, 3500],
    [49, 3500],
    [50, 5000],
    [500, 5000],
    [501, 8000],
    [100_000, 8000],
  ])('budgets %i users at %i RU per 10 s', (users, budget) => {
    expect(budgetForTenantSize(users)).toBe(budget);
  });

  it('charges against the tenant-size budget in a sliding 10 s window', () => {
    for (const [users, budget] of [
      [20, 3500],
      [60, 5000],
      [900, 8000],
    ]) {
      const f = new FaultInjector();
      const t0 = 1_000_000;
      expect(f.charge('t:a', budget - 1, users, t0)).toEqual({
        ok: true,
        usedShare: (budget - 1) / budget,
      });
      expect(f.charge('t:a', 1, users, t0 + 1000)).toEqual({
        ok: true,
        usedShare: 1,
      });
      expect(f.charge('t:a', 1, users, t0 + 2000)).toEqual({
        ok: false,
        retryAfter: 8,
      });
      // Another app, or the same app in another tenant, has its own budget.
      expect(f.charge('t:b', 1, users, t0 + 2000).ok).toBe(true);
      // The first charge leaves the window 10 s after it was made.
      expect(f.charge('t:a', budget - 1, users, t0 + 10_000).ok).toBe(true);
    }
  });

  it('validates admin settings', () => {
    expect(
      validateFaultSettings({
        rate429: 0.5,
        routes: '^GET /users$',
        retryAfterSeconds: 3,
      }),
    ).toEqual([]);
    expect(
      validateFaultSettings({ routes: null, budgetOverride: null }),
    ).toEqual([]);
    expect(validateFaultSettings({ foo: 1 })).toEqual([
      'unknown settings: foo',
    ]);
    expect(validateFaultSettings({ rate429: 1.5 })).toEqual([
      'rate429 must be a number between 0 and 1',
    ]);
    expect(validateFaultSettings({ rate429: 0.6, rate503: 0.6 })).toEqual([
      'rate429 + rate503 must not exceed 1',
    ]);
    expect(validateFaultSettings({ retryAfterSeconds: 1.5 })).toHaveLength(1);
    expect(validateFaultSettings({ routes: '(' })[0]).toMatch(
      /not a valid regular expression/,
    );
    expect(validateFaultSettings({ throttling: 'yes' })).toEqual([
      'throttling must be true or false',
    ]);
    expect(validateFaultSettings([])).toEqual([
      'the body must be a JSON object',
    ]);
  });

  it.each([
    ['GET', '/users', 'GET /users'],
    ['GET', '/users/delta', 'GET /users/delta'],
    ['GET', '/users/abc@contoso.example', 'GET /users/{id}'],
    ['get', '/groups/123/members', 'GET /groups/{id}/members'],
    [
      'GET',
      '/groups/123/transitiveMembers',
      'GET /groups/{id}/transitiveMembers',
    ],
    [
      'POST',
      '/users/123/getMemberObjects',
      'POST /users/{id}/getMemberObjects',
    ],
    ['GET', '/me/transitiveMemberOf', 'GET /me/transitiveMemberOf'],
    ['POST', '/$batch', 'POST /$batch'],
    ['GET', '/me/photos/96x96/$value', 'GET /me/photos/{size}/$value'],
    ['GET', '/me/photo/$value', 'GET /me/photo/$value'],
  ])('names %s %s by its template %s', (method, path, template) => {
    expect(routeTemplate(method, path)).toBe(template);
  });

  it.each([
    [
      'GET',
      '/contoso.example/v2.0/.well-known/openid-configuration',
      'GET /{tenant}/v2.0/.well-known/openid-configuration',
    ],
    [
      'GET',
      `/${CONTOSO_TENANT}/discovery/v2.0/keys`,
      'GET /{tenant}/discovery/v2.0/keys',
    ],
    [
      'GET',
      '/common/oauth2/v2.0/authorize',
      'GET /{tenant}/oauth2/v2.0/authorize',
    ],
    [
      'post',
      '/common/oauth2/v2.0/authorize/select',
      'POST /{tenant}/oauth2/v2.0/authorize/select',
    ],
    [
      'POST',
      `/${CONTOSO_TENANT}/oauth2/v2.0/token`,
      'POST /{tenant}/oauth2/v2.0/token',
    ],
    ['GET', '/msi/token', 'GET /msi/token'],
    ['GET', `/${CONTOSO_TENANT}/oauth2/v2.0/token`, undefined],
    ['GET', '/v1.0/me', undefined],
    ['GET', '/_emulator/counters', undefined],
  ])(
    'names the Entra ID request %s %s by its template %s',
    (method, path, template) => {
      expect(entraRouteTemplate(method, path)).toBe(template);
    },
  );
});

describe('resource units, throttling and fault injection over HTTP', () => {
  let h: GraphHarness;
  let contoso: EmulatedTenantData;
  let token: string;
  const clock = new MovableClock();
  const group = (name: string) =>
    contoso.groups.find(g => g.displayName === name)!;

  beforeAll(async () => {
    [contoso] = loadTenantFile(defaultTenantFile);
    h = await GraphHarness.start({
      tenants: [
        loadTenantFile(defaultTenantFile)[0],
        parseTenants(OTHER_YAML)[0],
      ],
      clock,
    });
    token = await h.appToken();
  });

  afterAll(() => h.close());

  afterEach(async () => {
    h.emulator.faults.configure({ random: null });
    const reset = await h.admin('PUT', '/faults', {
      rate429: 0,
      rate503: 0,
      routes: null,
      latencyMs: 0,
      retryAfterSeconds: 1,
      throttling: true,
      budgetOverride: null,
    });
    const cleared = await h.admin('DELETE', '/counters');
    if (reset.status !== 200 || cleared.status !== 204) {
      throw new Error(
        `could not reset the emulator: ${JSON.stringify(reset.body)}`,
      );
    }
  });

  it('sends x-ms-resource-unit with the published cost of each request', async () => {
    const joni = contoso.users.find(u => u.displayName === 'Joni Sherman')!;
    const eng = group('Engineering').id;
    const cases: Array<[string, string, string]> = [
      ['GET', '/users', '2'],
      ['GET', '/users?$select=id', '1'],
      ['GET', '/users?$top=5', '1'],
      ['GET', '/users?$top=999', '2'],
      ['GET', '/groups', '1'],
      ['GET', `/groups/${eng}/members`, '3'],
      ['GET', `/groups/${eng}/members?$select=id`, '2'],
      ['GET', `/groups/${eng}/transitiveMembers`, '5'],
      ['GET', `/users/${joni.id}`, '1'],
      ['GET', `/users/${joni.id}/transitiveMemberOf`, '2'],
      ['GET', '/applications', '2'],
      ['GET', '/organization', '1'],
      ['GET', '/users/delta', '1'],
      ['GET', '/groups/delta', '1'],
      // A request that fails after being charged still reports its cost.
      ['GET', '/groups/00000000-0000-4000-8000-000000000000/members', '3'],
    ];
    for (const [method, path, ru] of cases) {
      const res = await h.graph(method, path, token);
      expect([path, res.headers.get('x-ms-resource-unit')]).toEqual([path, ru]);
      expect(res.headers.get('x-ms-throttle-limit-percentage')).toBeNull();
    }
    const post = await h.post(`/users/${joni.id}/getMemberObjects`, token, {
      securityEnabledOnly: false,
    });
    expect(post.headers.get('x-ms-resource-unit')).toBe('2');
  });

  it('counts requests, resource units and statuses per route template, and resets', async () => {
    const eng = group('Engineering').id;
    await h.get(`/groups/${eng}/members`, token);
    await h.get(`/groups/${group('Platform').id}/members?$select=id`, token);
    await h.get('/groups/00000000-0000-4000-8000-000000000000/members', token);
    await h.get('/users', token);
    await h.get('/users?$top=1000', token);
    await h.get('/users', undefined);
    const counters = await h.admin('GET', '/counters');
    expect(counters.status).toBe(200);
    expect(counters.body).toEqual({
      'GET /groups/{id}/members': {
        requests: 3,
        resourceUnits: 8,
        statuses: { '200': 2, '404': 1 },
      },
      'GET /users': {
        requests: 3,
        resourceUnits: 4,
        statuses: { '200': 1, '400': 1, '401': 1 },
      },
    });
    expect((await h.admin('DELETE', '/counters')).status).toBe(204);
    expect((await h.admin('GET', '/counters')).body).toEqual({});
  });

  it('counts Entra ID endpoints per route template, beside Graph', async () => {
    const lee = contoso.users.find(u => u.displayName === 'Lee Gu')!;
    const base = `${h.url}/${CONTOSO_TENANT}`;
    expect(
      (await fetch(`${base}/v2.0/.well-known/openid-configuration`)).status,
    ).toBe(200);
    expect((await fetch(`${base}/discovery/v2.0/keys`)).status).toBe(200);
    const tokens = await h.userTokens({
      userId: lee.id,
      scope: 'openid profile User.Read',
    });
    expect((await h.get('/me', tokens.access_token)).status).toBe(200);
    // A failed token request is counted with its status.
    expect(
      (
        await h.tokenRequest(CONTOSO_TENANT, {
          grant_type: 'authorization_code',
          client_id: CONTOSO_APP,
          client_secret: 'wrong',
          code: 'x',
        })
      ).status,
    ).toBe(401);
    expect((await h.admin('GET', '/counters')).body).toEqual({
      'GET /{tenant}/v2.0/.well-known/openid-configuration': {
        requests: 1,
        resourceUnits: 0,
        statuses: { '200': 1 },
      },
      'GET /{tenant}/discovery/v2.0/keys': {
        requests: 1,
        resourceUnits: 0,
        statuses: { '200': 1 },
      },
      'GET /{tenant}/oauth2/v2.0/authorize': {
        requests: 1,
        resourceUnits: 0,
        statuses: { '200': 1 },
      },
      'POST /{tenant}/oauth2/v2.0/authorize/select': {
        requests: 1,
        resourceUnits: 0,
        statuses: { '302': 1 },
      },
      'POST /{tenant}/oauth2/v2.0/token': {
        requests: 2,
        resourceUnits: 0,
        statuses: { '200': 1, '401': 1 },
      },
      'GET /me': { requests: 1, resourceUnits: 1, statuses: { '200': 1 } },
    });
  });

  it('answers photo requests for a user without a photo with 404 ImageNotFound, at 1 RU', async () => {
    const lee = contoso.users.find(u => u.displayName === 'Lee Gu')!;
    const tokens = await h.userTokens({
      userId: lee.id,
      scope: 'openid User.Read',
    });
    for (const path of ['/me/photos/96x96/$value', '/me/photo/$value']) {
      const res = await h.get(path, tokens.access_token);
      expectGraphError(res, 404, 'ImageNotFound', clock);
      expect(res.headers.get('x-ms-resource-unit')).toBe('1');
    }
    // /me needs a signed-in user.
    expectGraphError(await h.get('/me/photo/$value', token), 400, 'BadRequest');
    const counters = (await h.admin('GET', '/counters')).body;
    expect(counters['GET /me/photos/{size}/$value']).toEqual({
      requests: 1,
      resourceUnits: 1,
      statuses: { '404': 1 },
    });
    expect(counters['GET /me/photo/$value']).toEqual({
      requests: 2,
      resourceUnits: 2,
      statuses: { '404': 1, '400': 1 },
    });
  });

  it('adds the latency to every Microsoft endpoint, not to the admin API', async () => {
    // An unusual delay, recognised among the timers the server and fetch set.
    const latency = 37;
    await h.admin('PUT', '/faults', { latencyMs: latency });
    const timers = jest.spyOn(global, 'setTimeout');
    const delayed = () =>
      timers.mock.calls.filter(([, ms]) => ms === latency).length;
    try {
      await h.admin('GET', '/counters');
      await h.admin('GET', '/faults');
      expect(delayed()).toBe(0);
      const base = `${h.url}/${CONTOSO_TENANT}`;
      await fetch(`${base}/v2.0/.well-known/openid-configuration`);
      expect(delayed()).toBe(1);
      await fetch(`${base}/discovery/v2.0/keys`);
      expect(delayed()).toBe(2);
      await h.appToken();
      expect(delayed()).toBe(3);
      await h.get('/organization', token);
      expect(delayed()).toBe(4);
      await fetch(`${h.url}/msi/token`);
      expect(delayed()).toBe(5);
    } finally {
      timers.mockRestore();
    }
  });

  it('throttles past the budget with 429 and Retry-After, warns past 80%, and recovers after 10 s', async () => {
    h.emulator.faults.configure({ budgetOverride: 10 });
    const percentages: Array<string | null> = [];
    for (let i = 1; i <= 10; i++) {
      const res = await h.get('/groups?$top=1', token); // 1 RU each
      expect(res.status).toBe(200);
      percentages.push(res.headers.get('x-ms-throttle-limit-percentage'));
    }
    expect(percentages).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      '0.90',
      '1.00',
    ]);
    const throttled = await h.get('/groups?$top=1', token);
    expectGraphError(throttled, 429, 'TooManyRequests', clock);
    expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Number(throttled.headers.get('retry-after'))).toBe(10);
    expect(throttled.headers.get('x-ms-throttle-scope')).toBe(
      `Tenant_Application/ReadWrite/${CONTOSO_APP}/${CONTOSO_TENANT}`,
    );
    expect(throttled.headers.get('x-ms-throttle-information')).toBe(
      'ResourceUnitLimitExceeded',
    );
    // Another app in another tenant has its own budget.
    const other = await h.appToken(OTHER_APP, OTHER_TENANT);
    expect((await h.get('/users', other)).status).toBe(200);

    clock.advance(9_000);
    expect((await h.get('/groups?$top=1', token)).status).toBe(429);
    clock.advance(1_000);
    const again = await h.get('/groups?$top=1', token);
    expect(again.status).toBe(200);
    expect(again.headers.get('x-ms-throttle-limit-percentage')).toBeNull();
    const counters = (await h.admin('GET', '/counters')).body;
    expect(counters['GET /groups']).toEqual({
      requests: 13,
      resourceUnits: 11,
      statuses: { '200': 11, '429': 2 },
    });
  });

  it('tells how long to wait for enough of the window to free up', async () => {
    h.emulator.faults.configure({ budgetOverride: 10 });
    for (let i = 0; i < 3; i++)
      expect((await h.get('/users', token)).status).toBe(200); // 6 RU at t0
    clock.advance(6_000);
    for (let i = 0; i < 2; i++)
      expect((await h.get('/users', token)).status).toBe(200); // 4 RU at t0+6s
    const res = await h.get('/users', token);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('4');
    clock.advance(4_000);
    expect((await h.get('/users', token)).status).toBe(200);
  });

  it('charges every inner request of a $batch and counts it, the batch itself costing nothing', async () => {
    h.emulator.faults.configure({ budgetOverride: 10 });
    const res = await h.post('/$batch', token, {
      requests: Array.from({ length: 6 }, (_, i) => ({
        id: `r${i}`,
        method: 'GET',
        url: '/users',
      })),
    });
    expect(res.status).toBe(200);
    expect(res.body.responses.map((r: { status: number }) => r.status)).toEqual(
      [200, 200, 200, 200, 200, 429],
    );
    const throttled = res.body.responses[5];
    expect(throttled.headers['Retry-After']).toMatch(/^\d+$/);
    expect(throttled.body.error.code).toBe('TooManyRequests');
    expect(
      res.body.responses[4].headers['x-ms-throttle-limit-percentage'],
    ).toBe('1.00');
    expect((await h.admin('GET', '/counters')).body).toEqual({
      'GET /users': {
        requests: 6,
        resourceUnits: 10,
        statuses: { '200': 5, '429': 1 },
      },
      'POST /$batch': { requests: 1, resourceUnits: 0, statuses: { '200': 1 } },
    });
  });

  it('does not throttle when throttling is off', async () => {
    expect(
      (
        await h.admin('PUT', '/faults', {
          throttling: false,
          budgetOverride: 1,
        })
      ).status,
    ).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await h.get('/users', token)).status).toBe(200);
  });

  it('injects 429 with Retry-After on matching routes only', async () => {
    const put = await h.admin('PUT', '/faults', {
      rate429: 1,
      routes: '^GET /users$',
      retryAfterSeconds: 7,
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      rate429: 1,
      routes: '^GET /users$',
      retryAfterSeconds: 7,
    });
    expect(put.body).not.toHaveProperty('random');
    const res = await h.get('/users', token);
    expectGraphError(res, 429, 'TooManyRequests', clock);
    expect(res.headers.get('retry-after')).toBe('7');
    expect((await h.get(`/users/${contoso.users[0].id}`, token)).status).toBe(
      200,
    );
    expect((await h.get('/groups', token)).status).toBe(200);
    // Authentication comes first: no token is still 401.
    expect((await h.get('/users', undefined)).status).toBe(401);
    // Injected errors cost nothing.
    expect((await h.admin('GET', '/counters')).body['GET /users']).toEqual({
      requests: 2,
      resourceUnits: 0,
      statuses: { '429': 1, '401': 1 },
    });
  });

  it('injects 503 on matching routes only', async () => {
    const put = await h.admin('PUT', '/faults', {
      rate503: 1,
      routes: '[mM]embers$',
      retryAfterSeconds: 2,
    });
    expect(put.status).toBe(200);
    const eng = group('Engineering').id;
    for (const path of [
      `/groups/${eng}/members`,
      `/groups/${eng}/transitiveMembers`,
    ]) {
      const res = await h.get(path, token);
      expectGraphError(res, 503, 'ServiceUnavailable', clock);
      expect(res.headers.get('retry-after')).toBe('2');
    }
    expect((await h.get(`/groups/${eng}`, token)).status).toBe(200);
    expect((await h.get('/users', token)).status).toBe(200);
  });

  it('draws injected errors from the random source: 429 below rate429, 503 below rate429 + rate503', async () => {
    await h.admin('PUT', '/faults', { rate429: 0.3, rate503: 0.3 });
    let roll = 0;
    h.emulator.faults.configure({ random: () => roll });
    const statusAt = async (r: number) => {
      roll = r;
      return (await h.get('/organization', token)).status;
    };
    expect(await statusAt(0)).toBe(429);
    expect(await statusAt(0.29)).toBe(429);
    expect(await statusAt(0.3)).toBe(503);
    expect(await statusAt(0.59)).toBe(503);
    expect(await statusAt(0.6)).toBe(200);
    expect(await statusAt(0.99)).toBe(200);
    // Through $batch too: each inner request rolls on its own.
    const rolls = [0.1, 0.9, 0.4];
    h.emulator.faults.configure({ random: () => rolls.shift() ?? 0.9 });
    const batch = await h.post('/$batch', token, {
      requests: ['a', 'b', 'c'].map(id => ({
        id,
        method: 'GET',
        url: '/organization',
      })),
    });
    expect(batch.status).toBe(200);
    expect(
      batch.body.responses.map((r: { status: number }) => r.status),
    ).toEqual([429, 200, 503]);
  });

  it('accepts a latency setting and reports the settings', async () => {
    const put = await h.admin('PUT', '/faults', { latencyMs: 5 });
    expect(put.body.latencyMs).toBe(5);
    const get = await h.admin('GET', '/faults');
    expect(get.body).toEqual({
      latencyMs: 5,
      rate429: 0,
      rate503: 0,
      retryAfterSeconds: 1,
      throttling: true,
    });
    expect((await h.get('/organization', token)).status).toBe(200);
  });

  it.each([
    [{ foo: 1 }, /unknown settings: foo/],
    [{ rate429: 2 }, /rate429/],
    [{ rate503: -0.1 }, /rate503/],
    [{ routes: '(' }, /regular expression/],
    [{ retryAfterSeconds: 'soon' }, /retryAfterSeconds/],
    [{ latencyMs: -1 }, /latencyMs/],
    ['{not json', /JSON/],
  ])(
    'refuses the settings %p with 400 and changes nothing',
    async (body, message) => {
      const res = await h.admin('PUT', '/faults', body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(message);
      expect((await h.admin('GET', '/faults')).body).toEqual({
        latencyMs: 0,
        rate429: 0,
        rate503: 0,
        retryAfterSeconds: 1,
        throttling: true,
      });
      expect((await h.get('/organization', token)).status).toBe(200);
    },
  );
});
