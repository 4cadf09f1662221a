/* eslint jest/expect-expect: ["warn", { "assertFunctionNames": ["expect", "expect*"] }] */
/*
 * The client credentials grant over real HTTP, with a client secret and with a client
 * assertion (private_key_jwt) signed by a key registered on the app.
 */
import { decodeJwt, exportSPKI, generateKeyPair, KeyLike, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import {
  CONTOSO,
  DAEMON,
  expectAadstsError,
  GATEHOUSE,
  Harness,
  startHarness,
  testTenants,
  token,
  WIKI,
} from './oidcTestHarness';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const GRAPH = 'https://graph.microsoft.com';

let h: Harness;
let daemonKey: KeyLike;
let strangerKey: KeyLike;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  daemonKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256', { extractable: true }))
    .privateKey;
  h = await startHarness(
    testTenants({ daemonPublicKeyPem: await exportSPKI(pair.publicKey) }),
  );
});

afterAll(async () => {
  await h.close();
});

const tokenEndpoint = () => `${h.base}/${CONTOSO.id}/oauth2/v2.0/token`;

/** A client assertion as MSAL builds one; `claims` overrides or removes (undefined) claims. */
async function assertion(
  options: {
    key?: KeyLike;
    claims?: Record<string, unknown>;
  } = {},
): Promise<string> {
  const now = Math.floor(h.clock.now().getTime() / 1000);
  const claims: Record<string, unknown> = {
    iss: DAEMON.appId,
    sub: DAEMON.appId,
    aud: tokenEndpoint(),
    jti: randomUUID(),
    iat: now,
    nbf: now,
    exp: now + 600,
    ...options.claims,
  };
  for (const [k, v] of Object.entries(claims))
    if (v === undefined) delete claims[k];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .sign(options.key ?? daemonKey);
}

const withAssertion = (
  clientAssertion: string,
  extra: Record<string, string> = {},
) =>
  token(h, {
    grant_type: 'client_credentials',
    client_id: DAEMON.appId,
    scope: `${GRAPH}/.default`,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: clientAssertion,
    ...extra,
  });

describe('client_credentials with a client secret', () => {
  const withSecret = (scope: string | undefined, tenant?: string) =>
    token(
      h,
      {
        grant_type: 'client_credentials',
        client_id: GATEHOUSE.appId,
        client_secret: h.secrets[GATEHOUSE.appId],
        scope,
      },
      { tenant },
    );

  it('gives an app-only Graph token whose roles are the app’s Graph application permissions', async () => {
    const { status, headers, body } = await withSecret(`${GRAPH}/.default`);
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3600);
    expect(body).not.toHaveProperty('refresh_token');
    expect(body).not.toHaveProperty('id_token');
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({
      aud: GRAPH,
      tid: CONTOSO.id,
      appid: GATEHOUSE.appId,
      idtyp: 'app',
    });
    expect([...(claims.roles as string[])].sort()).toEqual(
      [
        'User.Read.All',
        'GroupMember.Read.All',
        'Organization.Read.All',
        'Application.Read.All',
      ].sort(),
    );
    expect(claims).not.toHaveProperty('scp');
  });

  it('accepts the Graph app id as the resource, and a verified domain as the tenant', async () => {
    const { status, body } = await withSecret(
      '00000003-0000-0000-c000-000000000000/.default',
      CONTOSO.domain,
    );
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token).tid).toBe(CONTOSO.id);
  });

  it('gives an app with no Graph permissions a token without roles', async () => {
    const { status, body } = await token(h, {
      grant_type: 'client_credentials',
      client_id: WIKI.appId,
      client_secret: h.secrets[WIKI.appId],
      scope: `${GRAPH}/.default`,
    });
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token).roles).toEqual([]);
  });

  it.each([
    ['a delegated permission', `${GRAPH}/User.Read.All`],
    ['a bare permission name', 'User.Read.All'],
    ['two scopes', `${GRAPH}/.default openid`],
  ])(
    'refuses %s instead of /.default (AADSTS1002012)',
    async (_what, scope) => {
      expectAadstsError(await withSecret(scope), {
        error: 'invalid_scope',
        code: 1002012,
      });
    },
  );

  it('refuses a missing scope (AADSTS900144)', async () => {
    expectAadstsError(await withSecret(undefined), {
      error: 'invalid_request',
      code: 900144,
    });
  });

  it('refuses a resource that is not in the tenant (AADSTS500011)', async () => {
    const result = await withSecret(
      'api://77777777-6666-4555-8444-333333333333/.default',
    );
    expectAadstsError(result, { error: 'invalid_resource', code: 500011 });
    expect(result.body.error_description).toContain('Contoso');
  });

  it('refuses /common, which names no tenant (AADSTS9001023)', async () => {
    expectAadstsError(await withSecret(`${GRAPH}/.default`, 'common'), {
      error: 'invalid_request',
      code: 9001023,
    });
  });

  it('refuses /organizations, which names no tenant either (AADSTS50059)', async () => {
    expectAadstsError(await withSecret(`${GRAPH}/.default`, 'organizations'), {
      error: 'invalid_request',
      code: 50059,
    });
  });

  it('refuses a wrong secret (AADSTS7000215)', async () => {
    expectAadstsError(
      await token(h, {
        grant_type: 'client_credentials',
        client_id: GATEHOUSE.appId,
        client_secret: `${h.secrets[GATEHOUSE.appId]}x`,
        scope: `${GRAPH}/.default`,
      }),
      { status: 401, error: 'invalid_client', code: 7000215 },
    );
  });

  it('works with client_secret_basic', async () => {
    const { status, body } = await token(
      h,
      { grant_type: 'client_credentials', scope: `${GRAPH}/.default` },
      { basic: [GATEHOUSE.appId, h.secrets[GATEHOUSE.appId]] },
    );
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token).appid).toBe(GATEHOUSE.appId);
  });
});

describe('client_credentials with a client assertion (private_key_jwt)', () => {
  it('accepts an assertion signed by the registered key', async () => {
    const { status, body } = await withAssertion(await assertion());
    expect(status).toBe(200);
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({
      aud: GRAPH,
      appid: DAEMON.appId,
      idtyp: 'app',
    });
    expect([...(claims.roles as string[])].sort()).toEqual(
      [...DAEMON.graphApplicationPermissions].sort(),
    );
  });

  it('accepts the token endpoint named by a verified domain as audience, when posted there', async () => {
    const aud = `${h.base}/${CONTOSO.domain}/oauth2/v2.0/token`;
    const { status } = await token(
      h,
      {
        grant_type: 'client_credentials',
        client_id: DAEMON.appId,
        scope: `${GRAPH}/.default`,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion({ claims: { aud } }),
      },
      { tenant: CONTOSO.domain },
    );
    expect(status).toBe(200);
  });

  it('refuses a replayed assertion (same jti)', async () => {
    const once = await assertion();
    expect((await withAssertion(once)).status).toBe(200);
    const replay = await withAssertion(once);
    expectAadstsError(replay, {
      status: 401,
      error: 'invalid_client',
      code: 50027,
    });
    expect(replay.body.error_description).toContain('jti');
  });

  it('refuses an assertion signed by another key (AADSTS700027)', async () => {
    expectAadstsError(
      await withAssertion(await assertion({ key: strangerKey })),
      {
        status: 401,
        error: 'invalid_client',
        code: 700027,
      },
    );
  });

  it('refuses an assertion for an app without a registered key (AADSTS700027)', async () => {
    expectAadstsError(
      await token(h, {
        grant_type: 'client_credentials',
        client_id: WIKI.appId,
        scope: `${GRAPH}/.default`,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion({
          claims: { iss: WIKI.appId, sub: WIKI.appId },
        }),
      }),
      { status: 401, error: 'invalid_client', code: 700027 },
    );
  });

  it('refuses an expired assertion (AADSTS700024)', async () => {
    const now = Math.floor(h.clock.now().getTime() / 1000);
    expectAadstsError(
      await withAssertion(
        await assertion({
          claims: { iat: now - 1200, nbf: now - 1200, exp: now - 600 },
        }),
      ),
      { status: 401, error: 'invalid_client', code: 700024 },
    );
  });

  it('refuses an assertion that becomes expired as the clock moves (AADSTS700024)', async () => {
    const made = await assertion();
    h.clock.advance(601);
    expectAadstsError(await withAssertion(made), {
      status: 401,
      error: 'invalid_client',
      code: 700024,
    });
  });

  it('refuses an assertion not yet valid (AADSTS700024)', async () => {
    const now = Math.floor(h.clock.now().getTime() / 1000);
    expectAadstsError(
      await withAssertion(
        await assertion({ claims: { nbf: now + 3600, exp: now + 7200 } }),
      ),
      { status: 401, error: 'invalid_client', code: 700024 },
    );
  });

  it.each([
    [
      'another tenant’s token endpoint',
      'https://login.microsoftonline.com/{t}/oauth2/v2.0/token',
    ],
    ['the authorize endpoint', '{base}/{t}/oauth2/v2.0/authorize'],
    [
      'the token endpoint of another tenant',
      '{base}/9b2f4e6a-1c3d-4e5f-8a7b-6c5d4e3f2a10/oauth2/v2.0/token',
    ],
  ])(
    'refuses an assertion whose aud is %s (AADSTS50027)',
    async (_what, aud) => {
      const result = await withAssertion(
        await assertion({
          claims: {
            aud: aud.replace('{base}', h.base).replace('{t}', CONTOSO.id),
          },
        }),
      );
      expectAadstsError(result, {
        status: 401,
        error: 'invalid_client',
        code: 50027,
      });
      expect(result.body.error_description).toContain("'aud'");
    },
  );

  it('refuses an assertion whose iss and sub differ (AADSTS50048)', async () => {
    expectAadstsError(
      await withAssertion(await assertion({ claims: { sub: WIKI.appId } })),
      { status: 401, error: 'invalid_client', code: 50048 },
    );
  });

  it('refuses an assertion made for another client id (AADSTS700021)', async () => {
    expectAadstsError(
      await withAssertion(
        await assertion({ claims: { iss: WIKI.appId, sub: WIKI.appId } }),
      ),
      { status: 401, error: 'invalid_client', code: 700021 },
    );
  });

  it.each(['jti', 'exp'])(
    'refuses an assertion without %s (AADSTS50027)',
    async claim => {
      expectAadstsError(
        await withAssertion(
          await assertion({ claims: { [claim]: undefined } }),
        ),
        { status: 401, error: 'invalid_client', code: 50027 },
      );
    },
  );

  it('refuses an unsigned assertion (alg none) (AADSTS50027)', async () => {
    const now = Math.floor(h.clock.now().getTime() / 1000);
    const part = (o: object) =>
      Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${part({ alg: 'none', typ: 'JWT' })}.${part({
      iss: DAEMON.appId,
      sub: DAEMON.appId,
      aud: tokenEndpoint(),
      jti: randomUUID(),
      exp: now + 600,
    })}.`;
    expectAadstsError(await withAssertion(unsigned), {
      status: 401,
      error: 'invalid_client',
      code: 50027,
    });
  });

  it('refuses something that is not a JWT (AADSTS50027)', async () => {
    expectAadstsError(await withAssertion('not-a-jwt'), {
      status: 401,
      error: 'invalid_client',
      code: 50027,
    });
  });

  it('refuses a wrong client_assertion_type (AADSTS50027)', async () => {
    expectAadstsError(
      await withAssertion(await assertion(), {
        client_assertion_type: 'urn:example:other',
      }),
      { status: 401, error: 'invalid_client', code: 50027 },
    );
  });

  it('shows AADSTS900971 on the page when an app without redirect URIs starts a sign-in', async () => {
    const res = await fetch(
      `${h.base}/${CONTOSO.id}/oauth2/v2.0/authorize?${new URLSearchParams({
        client_id: DAEMON.appId,
        response_type: 'code',
        scope: 'openid',
      })}`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('AADSTS900971');
  });
});
