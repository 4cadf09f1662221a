/* eslint jest/expect-expect: ["warn", { "assertFunctionNames": ["expect", "expect*"] }] */
/*
 * The Entra ID side of the emulator over real HTTP: discovery, signing keys, the authorization
 * endpoint (driven like a browser) and logout. Token endpoint: oidc.token.test.ts; client
 * credentials and client assertions: oidc.clientCredentials.test.ts.
 */
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
} from 'jose';
import {
  authorize,
  CONTOSO,
  expectAadstsError,
  expectPageError,
  expectRedirectError,
  FABRIKAM,
  GATEHOUSE,
  Harness,
  INTRANET,
  parseSignInPage,
  PARTNER,
  PAYROLL,
  pkce,
  redeem,
  sessionCookie,
  signIn,
  startHarness,
  submitUser,
  UPN,
  WIKI,
} from './oidcTestHarness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

async function getJson(url: string) {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** A valid authorization request for the portal; tests change one thing at a time. */
function portalRequest(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    client_id: GATEHOUSE.appId,
    response_type: 'code',
    redirect_uri: GATEHOUSE.redirectUri,
    scope: 'openid profile email offline_access User.Read',
    state: 'st-123',
    nonce: 'n-456',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
}

describe('discovery', () => {
  it('publishes a per-tenant document whose issuer carries the tenant GUID', async () => {
    const { status, body } = await getJson(
      `${h.base}/${CONTOSO.id}/v2.0/.well-known/openid-configuration`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      issuer: `${h.base}/${CONTOSO.id}/v2.0`,
      authorization_endpoint: `${h.base}/${CONTOSO.id}/oauth2/v2.0/authorize`,
      token_endpoint: `${h.base}/${CONTOSO.id}/oauth2/v2.0/token`,
      end_session_endpoint: `${h.base}/${CONTOSO.id}/oauth2/v2.0/logout`,
      jwks_uri: `${h.base}/${CONTOSO.id}/discovery/v2.0/keys`,
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['pairwise'],
    });
    expect(body.response_types_supported).toContain('code');
    expect(body.response_modes_supported).toEqual(
      expect.arrayContaining(['query', 'fragment', 'form_post']),
    );
    expect(body.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining([
        'client_secret_post',
        'client_secret_basic',
        'private_key_jwt',
      ]),
    );
  });

  it.each([
    ['the default domain', 'contoso.example'],
    ['another verified domain, any case', 'Contoso.OnMicrosoft.Example'],
  ])(
    'resolves %s to the tenant GUID in issuer and endpoints',
    async (_what, domain) => {
      const { status, body } = await getJson(
        `${h.base}/${domain}/v2.0/.well-known/openid-configuration`,
      );
      expect(status).toBe(200);
      expect(body.issuer).toBe(`${h.base}/${CONTOSO.id}/v2.0`);
      expect(body.token_endpoint).toBe(
        `${h.base}/${CONTOSO.id}/oauth2/v2.0/token`,
      );
      expect(body.jwks_uri).toBe(`${h.base}/${CONTOSO.id}/discovery/v2.0/keys`);
    },
  );

  it('gives each tenant its own issuer', async () => {
    const { body } = await getJson(
      `${h.base}/${FABRIKAM.id}/v2.0/.well-known/openid-configuration`,
    );
    expect(body.issuer).toBe(`${h.base}/${FABRIKAM.id}/v2.0`);
  });

  it.each(['common', 'organizations'])(
    'answers for /%s with an issuer template holding {tenantid}',
    async segment => {
      const { status, body } = await getJson(
        `${h.base}/${segment}/v2.0/.well-known/openid-configuration`,
      );
      expect(status).toBe(200);
      expect(body.issuer).toBe(`${h.base}/{tenantid}/v2.0`);
      expect(body.authorization_endpoint).toBe(
        `${h.base}/${segment}/oauth2/v2.0/authorize`,
      );
      expect(body.token_endpoint).toBe(
        `${h.base}/${segment}/oauth2/v2.0/token`,
      );
      expect(body.jwks_uri).toBe(`${h.base}/${segment}/discovery/v2.0/keys`);
    },
  );

  it.each([
    ['an unknown domain', 'nowhere.example'],
    ['an unknown GUID', '00000000-1111-2222-3333-444444444444'],
  ])('refuses %s with AADSTS90002', async (_what, segment) => {
    const result = await getJson(
      `${h.base}/${segment}/v2.0/.well-known/openid-configuration`,
    );
    expectAadstsError(result, { error: 'invalid_tenant', code: 90002 });
    expect(result.body.error_description).toContain(`Tenant '${segment}'`);
    expect(result.body).not.toHaveProperty('issuer');
  });
});

describe('signing keys (JWKS)', () => {
  it('publishes RS256 public keys with a kid and nothing private', async () => {
    const { status, body } = await getJson(
      `${h.base}/${CONTOSO.id}/discovery/v2.0/keys`,
    );
    expect(status).toBe(200);
    expect(body.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of body.keys) {
      expect(key).toMatchObject({ kty: 'RSA', use: 'sig' });
      expect(typeof key.kid).toBe('string');
      expect(key.kid.length).toBeGreaterThan(0);
      expect(typeof key.n).toBe('string');
      expect(key.e).toBe('AQAB');
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
        expect(key).not.toHaveProperty(secret);
      }
    }
  });

  it('refuses the keys of an unknown tenant with AADSTS90002', async () => {
    const result = await getJson(
      `${h.base}/nowhere.example/discovery/v2.0/keys`,
    );
    expectAadstsError(result, { error: 'invalid_tenant', code: 90002 });
    expect(result.body).not.toHaveProperty('keys');
  });

  it('signs ID tokens with a published key, and rotation keeps the old key published', async () => {
    const discovery = (
      await getJson(
        `${h.base}/${CONTOSO.id}/v2.0/.well-known/openid-configuration`,
      )
    ).body;
    const signInAndRedeem = async () => {
      const signedIn = await signIn(h, {
        clientId: GATEHOUSE.appId,
        redirectUri: GATEHOUSE.redirectUri,
        upn: UPN.alex,
      });
      const { status, body } = await redeem(h, GATEHOUSE.appId, signedIn);
      expect(status).toBe(200);
      return body.id_token as string;
    };
    const verify = (idToken: string) =>
      jwtVerify(idToken, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
        issuer: discovery.issuer,
        audience: GATEHOUSE.appId,
        algorithms: ['RS256'],
        currentDate: h.clock.now(),
      });

    const before = await signInAndRedeem();
    const oldKid = decodeProtectedHeader(before).kid;
    expect(decodeProtectedHeader(before)).toMatchObject({
      alg: 'RS256',
      typ: 'JWT',
    });
    await expect(verify(before)).resolves.toBeDefined();

    const rotated = await fetch(`${h.base}/_emulator/keys/rotate`, {
      method: 'POST',
    });
    expect(rotated.status).toBe(200);
    const { kid: newKid } = await rotated.json();
    expect(newKid).not.toBe(oldKid);

    const kids = (await getJson(discovery.jwks_uri)).body.keys.map(
      (k: { kid: string }) => k.kid,
    );
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));

    const after = await signInAndRedeem();
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    // Both verify against the published set: a relying party that refetches on an unknown kid
    // keeps working across the rotation.
    await expect(verify(after)).resolves.toBeDefined();
    await expect(verify(before)).resolves.toBeDefined();
  });

  it('does not verify a token whose signature was tampered with', async () => {
    const signedIn = await signIn(h, {
      clientId: GATEHOUSE.appId,
      redirectUri: GATEHOUSE.redirectUri,
      upn: UPN.alex,
    });
    const idToken = (await redeem(h, GATEHOUSE.appId, signedIn)).body
      .id_token as string;
    const [header, payload] = idToken.split('.');
    const claims = decodeJwt(idToken);
    const forged = `${header}.${Buffer.from(
      JSON.stringify({ ...claims, oid: 'someone-else' }),
    ).toString('base64url')}.${idToken.split('.')[2]}`;
    expect(payload).not.toBe(forged.split('.')[1]);
    await expect(
      jwtVerify(
        forged,
        createRemoteJWKSet(
          new URL(`${h.base}/${CONTOSO.id}/discovery/v2.0/keys`),
        ),
        { currentDate: h.clock.now() },
      ),
    ).rejects.toThrow(/signature/);
  });
});

describe('authorization endpoint: the sign-in page', () => {
  it('shows a page listing the tenant users, whose form posts to /authorize/select', async () => {
    const res = await authorize(h, portalRequest());
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    const page = parseSignInPage(await res.text());
    expect(page.txn.length).toBeGreaterThan(10);
    expect(page.action).toBe(
      `${h.base}/${CONTOSO.id}/oauth2/v2.0/authorize/select`,
    );
    expect(page.users.map(u => u.upn)).toEqual(
      expect.arrayContaining([UPN.alex, UPN.casey, UPN.morgan]),
    );
    expect(page.users.find(u => u.upn === UPN.alex)!.id).toBe(
      h.userId(CONTOSO.id, UPN.alex),
    );
    // Only Contoso's people: Fabrikam's user is not offered.
    expect(page.users.map(u => u.upn)).not.toContain(UPN.pat);
  });

  it('signs in the picked user and redirects with a code and the state', async () => {
    const res = await authorize(h, portalRequest());
    const page = parseSignInPage(await res.text());
    const picked = await submitUser(page, h.userId(CONTOSO.id, UPN.alex));
    expect(picked.status).toBe(302);
    const location = new URL(picked.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(
      GATEHOUSE.redirectUri,
    );
    expect(location.searchParams.get('code')).toMatch(/^\S{20,}$/);
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.has('error')).toBe(false);
    expect(sessionCookie(picked)).toMatch(/^emulator_sso=\S+$/);
  });

  it('accepts the authorization request as a form POST too', async () => {
    const res = await authorize(h, portalRequest(), { method: 'POST' });
    expect(res.status).toBe(200);
    expect(parseSignInPage(await res.text()).users.length).toBeGreaterThan(1);
  });

  it('refuses a sign-in transaction that is used twice or is unknown (AADSTS50089)', async () => {
    const page = parseSignInPage(
      await (await authorize(h, portalRequest())).text(),
    );
    const first = await submitUser(page, h.userId(CONTOSO.id, UPN.alex));
    expect(first.status).toBe(302);
    await expectPageError(
      await submitUser(page, h.userId(CONTOSO.id, UPN.alex)),
      50089,
    );
    await expectPageError(
      await submitUser(
        { ...page, txn: 'made-up' },
        h.userId(CONTOSO.id, UPN.alex),
      ),
      50089,
    );
  });

  it('expires a sign-in transaction after 15 minutes (clock)', async () => {
    const page = parseSignInPage(
      await (await authorize(h, portalRequest())).text(),
    );
    h.clock.advance(16 * 60);
    await expectPageError(
      await submitUser(page, h.userId(CONTOSO.id, UPN.alex)),
      50089,
    );
  });

  it('refuses a posted user who is not in the tenant (AADSTS50020)', async () => {
    const page = parseSignInPage(
      await (await authorize(h, portalRequest())).text(),
    );
    await expectPageError(
      await submitUser(page, h.userId(FABRIKAM.id, UPN.pat)),
      50020,
    );
  });
});

describe('authorization endpoint: refusals shown on the emulator page', () => {
  it('refuses a request without client_id (AADSTS900144)', async () => {
    const html = await expectPageError(
      await authorize(h, portalRequest({ client_id: undefined })),
      900144,
    );
    expect(html).toContain('client_id');
  });

  it('refuses a parameter given twice (AADSTS90100)', async () => {
    const url = new URL(`${h.base}/${CONTOSO.id}/oauth2/v2.0/authorize`);
    for (const [k, v] of Object.entries(portalRequest())) {
      url.searchParams.set(k, v!);
    }
    url.searchParams.append('redirect_uri', 'https://evil.example/cb');
    const html = await expectPageError(
      await fetch(url, { redirect: 'manual' }),
      90100,
    );
    expect(html).toContain('redirect_uri');
  });

  it('refuses an unknown tenant (AADSTS90002)', async () => {
    await expectPageError(
      await authorize(h, portalRequest(), { tenant: 'nowhere.example' }),
      90002,
    );
  });

  it('refuses an unknown client without redirecting (AADSTS700016)', async () => {
    const html = await expectPageError(
      await authorize(
        h,
        portalRequest({ client_id: '99999999-8888-4777-8666-555555555555' }),
      ),
      700016,
    );
    expect(html).toContain('99999999-8888-4777-8666-555555555555');
  });

  it('refuses a single-tenant app of another tenant (AADSTS700016)', async () => {
    await expectPageError(
      await authorize(h, portalRequest(), { tenant: FABRIKAM.id }),
      700016,
    );
    await expectPageError(
      await authorize(
        h,
        portalRequest({
          client_id: INTRANET.appId,
          redirect_uri: INTRANET.redirectUri,
        }),
      ),
      700016,
    );
  });

  it.each([
    ['an unregistered host', 'https://evil.example/cb'],
    ['a trailing slash', `${GATEHOUSE.redirectUri}/`],
    [
      'a different path',
      'http://localhost:7007/api/auth/microsoft/handler/frame2',
    ],
    [
      'a path in another case',
      'http://localhost:7007/API/auth/microsoft/handler/frame',
    ],
    [
      'https instead of http',
      'https://localhost:7007/api/auth/microsoft/handler/frame',
    ],
    [
      '127.0.0.1 for localhost',
      'http://127.0.0.1:7007/api/auth/microsoft/handler/frame',
    ],
    ['an added query', `${GATEHOUSE.redirectUri}?next=/admin`],
    ['another app’s redirect URI', WIKI.redirectUri],
  ])(
    'refuses a redirect URI with %s on the page, never redirecting (AADSTS50011)',
    async (_what, redirectUri) => {
      const html = await expectPageError(
        await authorize(h, portalRequest({ redirect_uri: redirectUri })),
        50011,
      );
      expect(html).toContain(GATEHOUSE.appId);
    },
  );

  it('refuses a single-tenant app on /common and /organizations (AADSTS50194)', async () => {
    for (const tenant of ['common', 'organizations']) {
      await expectPageError(
        await authorize(h, portalRequest(), { tenant }),
        50194,
      );
    }
  });

  it('refuses a disabled user on the page, without a code or a session (AADSTS50057)', async () => {
    const page = parseSignInPage(
      await (await authorize(h, portalRequest())).text(),
    );
    const debra = page.users.find(u => u.upn === UPN.debra)!;
    expect(debra.label).toContain('disabled');
    const res = await submitUser(page, debra.id);
    await expectPageError(res, 50057);
    expect(sessionCookie(res)).toBeUndefined();
  });

  describe('an app that requires assignment', () => {
    const payrollRequest = () =>
      portalRequest({
        client_id: PAYROLL.appId,
        redirect_uri: PAYROLL.redirectUri,
      });

    it('refuses a user who is not assigned (AADSTS50105)', async () => {
      const page = parseSignInPage(
        await (await authorize(h, payrollRequest())).text(),
      );
      const res = await submitUser(page, h.userId(CONTOSO.id, UPN.alex));
      const html = await expectPageError(res, 50105);
      expect(html).toContain(PAYROLL.appId);
      expect(sessionCookie(res)).toBeUndefined();
    });

    it('admits a direct member of an assigned group', async () => {
      const signedIn = await signIn(h, {
        clientId: PAYROLL.appId,
        redirectUri: PAYROLL.redirectUri,
        upn: UPN.henrietta,
      });
      const { status, body } = await redeem(h, PAYROLL.appId, signedIn);
      expect(status).toBe(200);
      expect(decodeJwt(body.id_token).roles).toEqual(['Payroll.User']);
    });

    it('refuses a member of a nested group: assignment does not flow down nesting (AADSTS50105)', async () => {
      // Joni is in "Payments API", itself a member of the assigned "Payments" group.
      const page = parseSignInPage(
        await (await authorize(h, payrollRequest())).text(),
      );
      await expectPageError(
        await submitUser(page, h.userId(CONTOSO.id, UPN.joni)),
        50105,
      );
    });
  });
});

describe('authorization endpoint: refusals sent back to the redirect URI', () => {
  it('requires PKCE: no code_challenge gives invalid_request AADSTS9002325', async () => {
    const res = await authorize(
      h,
      portalRequest({
        code_challenge: undefined,
        code_challenge_method: undefined,
      }),
    );
    expectRedirectError(res, {
      redirectUri: GATEHOUSE.redirectUri,
      error: 'invalid_request',
      code: 9002325,
      state: 'st-123',
    });
  });

  it('refuses code_challenge_method=plain (AADSTS501491)', async () => {
    const { verifier } = pkce();
    const res = await authorize(
      h,
      portalRequest({
        code_challenge: verifier,
        code_challenge_method: 'plain',
      }),
    );
    expectRedirectError(res, {
      redirectUri: GATEHOUSE.redirectUri,
      error: 'invalid_request',
      code: 501491,
      state: 'st-123',
    });
  });

  it('refuses a challenge without a method (plain by default) too', async () => {
    const res = await authorize(
      h,
      portalRequest({ code_challenge_method: undefined }),
    );
    expectRedirectError(res, {
      redirectUri: GATEHOUSE.redirectUri,
      error: 'invalid_request',
      code: 501491,
    });
  });

  it.each([
    ['an unknown method', { code_challenge_method: 'S512' }],
    ['an S256 challenge of the wrong size', { code_challenge: 'abc' }],
  ])('refuses %s (AADSTS501491)', async (_what, overrides) => {
    const res = await authorize(h, portalRequest(overrides));
    expectRedirectError(res, {
      redirectUri: GATEHOUSE.redirectUri,
      error: 'invalid_request',
      code: 501491,
    });
  });

  it.each(['token', 'id_token', 'code id_token'])(
    'refuses response_type=%s (AADSTS700054)',
    async responseType => {
      const url = expectRedirectError(
        await authorize(h, portalRequest({ response_type: responseType })),
        {
          redirectUri: GATEHOUSE.redirectUri,
          error: 'unsupported_response_type',
          code: 700054,
          state: 'st-123',
        },
      );
      expect(url.searchParams.has('id_token')).toBe(false);
      expect(url.searchParams.has('access_token')).toBe(false);
    },
  );

  it('refuses a request without response_type (AADSTS900144)', async () => {
    expectRedirectError(
      await authorize(h, portalRequest({ response_type: undefined })),
      {
        redirectUri: GATEHOUSE.redirectUri,
        error: 'invalid_request',
        code: 900144,
      },
    );
  });

  it('refuses an unknown response_mode (AADSTS70007)', async () => {
    expectRedirectError(
      await authorize(h, portalRequest({ response_mode: 'web_message' })),
      {
        redirectUri: GATEHOUSE.redirectUri,
        error: 'invalid_request',
        code: 70007,
      },
    );
  });

  it('refuses scopes for more than one resource (AADSTS28000)', async () => {
    const url = expectRedirectError(
      await authorize(
        h,
        portalRequest({
          scope: `openid User.Read api://${WIKI.appId}/Notes.Read`,
        }),
      ),
      {
        redirectUri: GATEHOUSE.redirectUri,
        error: 'invalid_scope',
        code: 28000,
        state: 'st-123',
      },
    );
    expect(url.searchParams.get('error_description')).toContain(
      `api://${WIKI.appId}/Notes.Read`,
    );
  });

  it('refuses a Graph permission the tenant has not consented to (consent_required, AADSTS65001)', async () => {
    const url = expectRedirectError(
      await authorize(h, portalRequest({ scope: 'openid profile Mail.Read' })),
      {
        redirectUri: GATEHOUSE.redirectUri,
        error: 'consent_required',
        code: 65001,
        state: 'st-123',
      },
    );
    expect(url.searchParams.get('error_description')).toContain(
      GATEHOUSE.appId,
    );
  });

  it('refuses a resource that is not in the tenant (AADSTS500011)', async () => {
    expectRedirectError(
      await authorize(
        h,
        portalRequest({
          scope: 'openid api://77777777-6666-4555-8444-333333333333/Read',
        }),
      ),
      {
        redirectUri: GATEHOUSE.redirectUri,
        error: 'invalid_resource',
        code: 500011,
      },
    );
  });

  it('answers prompt=none without a session with login_required (AADSTS50058)', async () => {
    expectRedirectError(await authorize(h, portalRequest({ prompt: 'none' })), {
      redirectUri: GATEHOUSE.redirectUri,
      error: 'login_required',
      code: 50058,
      state: 'st-123',
    });
  });

  it('answers prompt=none with a session cookie the emulator does not know with login_required', async () => {
    expectRedirectError(
      await authorize(h, portalRequest({ prompt: 'none' }), {
        cookie: 'emulator_sso=forged-session-id',
      }),
      {
        redirectUri: GATEHOUSE.redirectUri,
        error: 'login_required',
        code: 50058,
      },
    );
  });
});

describe('authorization endpoint: redirect URIs and response modes', () => {
  it('lets a localhost redirect URI use another port, and binds the code to that URI', async () => {
    const otherPort = 'http://localhost:3999/api/auth/microsoft/handler/frame';
    const signedIn = await signIn(h, {
      clientId: GATEHOUSE.appId,
      redirectUri: otherPort,
      upn: UPN.alex,
    });
    expect(`${signedIn.location.origin}${signedIn.location.pathname}`).toBe(
      otherPort,
    );
    const wrong = await redeem(h, GATEHOUSE.appId, signedIn, {
      redirect_uri: GATEHOUSE.redirectUri,
    });
    expectAadstsError(wrong, { error: 'invalid_grant', code: 500112 });
    const right = await redeem(h, GATEHOUSE.appId, signedIn);
    expect(right.status).toBe(200);
    expect(right.body.access_token).toBeTruthy();
  });

  it('lets a port be added to a registered localhost URI without one', async () => {
    const signedIn = await signIn(h, {
      clientId: WIKI.appId,
      redirectUri: 'http://localhost:5555/wiki/callback',
      upn: UPN.alex,
    });
    expect(signedIn.location.host).toBe('localhost:5555');
  });

  it('uses the registered redirect URI when the request names none', async () => {
    const res = await authorize(h, portalRequest({ redirect_uri: undefined }));
    const page = parseSignInPage(await res.text());
    const picked = await submitUser(page, h.userId(CONTOSO.id, UPN.alex));
    expect(picked.headers.get('location')).toMatch(
      new RegExp(`^${GATEHOUSE.redirectUri}\\?`),
    );
  });

  it('posts the code to the redirect URI with response_mode=form_post', async () => {
    const page = parseSignInPage(
      await (
        await authorize(h, portalRequest({ response_mode: 'form_post' }))
      ).text(),
    );
    const res = await submitUser(page, h.userId(CONTOSO.id, UPN.alex));
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    const html = await res.text();
    expect(html).toContain(
      `<form method="post" action="${GATEHOUSE.redirectUri}">`,
    );
    const fields = Object.fromEntries(
      [
        ...html.matchAll(
          /<input type="hidden" name="([^"]+)" value="([^"]*)">/g,
        ),
      ].map(m => [m[1], m[2]]),
    );
    expect(fields.state).toBe('st-123');
    expect(fields.code).toMatch(/^\S{20,}$/);
  });

  it('puts the code in the fragment with response_mode=fragment', async () => {
    const page = parseSignInPage(
      await (
        await authorize(h, portalRequest({ response_mode: 'fragment' }))
      ).text(),
    );
    const res = await submitUser(page, h.userId(CONTOSO.id, UPN.alex));
    expect(res.status).toBe(302);
    const url = new URL(res.headers.get('location')!);
    expect(url.search).toBe('');
    const fragment = new URLSearchParams(url.hash.slice(1));
    expect(fragment.get('code')).toMatch(/^\S{20,}$/);
    expect(fragment.get('state')).toBe('st-123');
  });

  it('sends errors as a form post too with response_mode=form_post', async () => {
    const res = await authorize(
      h,
      portalRequest({ response_mode: 'form_post', prompt: 'none' }),
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('name="error" value="login_required"');
    expect(html).toMatch(/name="error_description" value="AADSTS50058: /);
    expect(html).not.toContain('name="code"');
  });
});

describe('authorization endpoint: single sign-on and hints', () => {
  it('signs a browser with a session in again without a page, and prompt=none works too', async () => {
    const first = await signIn(h, {
      clientId: GATEHOUSE.appId,
      redirectUri: GATEHOUSE.redirectUri,
      upn: UPN.joni,
    });
    expect(first.cookie).toBeTruthy();

    for (const prompt of [undefined, 'none']) {
      const { verifier, challenge } = pkce();
      const res = await authorize(
        h,
        portalRequest({ prompt, code_challenge: challenge }),
        { cookie: first.cookie },
      );
      expect(res.status).toBe(302);
      const url = new URL(res.headers.get('location')!);
      const code = url.searchParams.get('code');
      expect(code).toBeTruthy();
      expect(url.searchParams.get('state')).toBe('st-123');
      const { status, body } = await redeem(h, GATEHOUSE.appId, {
        ...first,
        code: code!,
        verifier,
      });
      expect(status).toBe(200);
      expect(decodeJwt(body.id_token).oid).toBe(h.userId(CONTOSO.id, UPN.joni));
    }
  });

  it('shows the page again with prompt=login (and select_account) despite the session', async () => {
    const first = await signIn(h, {
      clientId: GATEHOUSE.appId,
      redirectUri: GATEHOUSE.redirectUri,
      upn: UPN.joni,
    });
    for (const prompt of ['login', 'select_account']) {
      const res = await authorize(h, portalRequest({ prompt }), {
        cookie: first.cookie,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('location')).toBeNull();
      expect(parseSignInPage(await res.text()).users.length).toBeGreaterThan(1);
    }
  });

  it('answers prompt=none for an app the session user may not use with interaction_required (AADSTS50105)', async () => {
    const first = await signIn(h, {
      clientId: GATEHOUSE.appId,
      redirectUri: GATEHOUSE.redirectUri,
      upn: UPN.alex,
    });
    expectRedirectError(
      await authorize(
        h,
        portalRequest({
          client_id: PAYROLL.appId,
          redirect_uri: PAYROLL.redirectUri,
          prompt: 'none',
        }),
        { cookie: first.cookie },
      ),
      {
        redirectUri: PAYROLL.redirectUri,
        error: 'interaction_required',
        code: 50105,
        state: 'st-123',
      },
    );
  });

  it('with login_hint, puts that user first and marks the button', async () => {
    const res = await authorize(h, portalRequest({ login_hint: UPN.morgan }));
    const page = parseSignInPage(await res.text());
    expect(page.users[0]).toMatchObject({ upn: UPN.morgan, hinted: true });
    expect(page.users.filter(u => u.hinted)).toHaveLength(1);
  });

  it('with a login_hint naming someone else, does not reuse the session silently', async () => {
    const first = await signIn(h, {
      clientId: GATEHOUSE.appId,
      redirectUri: GATEHOUSE.redirectUri,
      upn: UPN.alex,
    });
    const res = await authorize(h, portalRequest({ login_hint: UPN.joni }), {
      cookie: first.cookie,
    });
    expect(res.status).toBe(200);
    expect(parseSignInPage(await res.text()).users[0].upn).toBe(UPN.joni);
    expectRedirectError(
      await authorize(
        h,
        portalRequest({ login_hint: UPN.joni, prompt: 'none' }),
        { cookie: first.cookie },
      ),
      {
        redirectUri: GATEHOUSE.redirectUri,
        error: 'login_required',
        code: 50058,
      },
    );
  });

  it('with domain_hint on /common, offers only the users of that tenant', async () => {
    const partner = (extra: Record<string, string> = {}) =>
      portalRequest({
        client_id: PARTNER.appId,
        redirect_uri: PARTNER.redirectUri,
        ...extra,
      });
    const all = parseSignInPage(
      await (await authorize(h, partner(), { tenant: 'common' })).text(),
    );
    expect(all.users.map(u => u.upn)).toEqual(
      expect.arrayContaining([UPN.alex, UPN.pat]),
    );

    const fabrikamOnly = parseSignInPage(
      await (
        await authorize(h, partner({ domain_hint: FABRIKAM.domain }), {
          tenant: 'common',
        })
      ).text(),
    );
    expect(fabrikamOnly.users.map(u => u.upn)).toEqual([UPN.pat]);
  });

  it('signs a user of another tenant in to a multi-tenant app on /common, with that tenant as issuer', async () => {
    const signedIn = await signIn(h, {
      clientId: PARTNER.appId,
      redirectUri: PARTNER.redirectUri,
      upn: UPN.pat,
      tenant: 'common',
    });
    const { status, body } = await redeem(
      h,
      PARTNER.appId,
      signedIn,
      {},
      { tenant: 'common' },
    );
    expect(status).toBe(200);
    const claims = decodeJwt(body.id_token);
    expect(claims.iss).toBe(`${h.base}/${FABRIKAM.id}/v2.0`);
    expect(claims.tid).toBe(FABRIKAM.id);
    expect(claims.oid).toBe(h.userId(FABRIKAM.id, UPN.pat));
  });
});

describe('logout', () => {
  it('ends the SSO session: the next prompt=none gets login_required', async () => {
    const first = await signIn(h, {
      clientId: GATEHOUSE.appId,
      redirectUri: GATEHOUSE.redirectUri,
      upn: UPN.alex,
    });
    // The session works before logout.
    const before = await authorize(h, portalRequest({ prompt: 'none' }), {
      cookie: first.cookie,
    });
    expect(before.status).toBe(302);
    expect(
      new URL(before.headers.get('location')!).searchParams.get('code'),
    ).toBeTruthy();

    const url = new URL(`${h.base}/${CONTOSO.id}/oauth2/v2.0/logout`);
    url.searchParams.set('client_id', GATEHOUSE.appId);
    url.searchParams.set('post_logout_redirect_uri', GATEHOUSE.logoutUri);
    url.searchParams.set('state', 'bye');
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: first.cookie! },
    });
    expect(res.status).toBe(302);
    const target = new URL(res.headers.get('location')!);
    expect(`${target.origin}${target.pathname}`).toBe(GATEHOUSE.logoutUri);
    expect(target.searchParams.get('state')).toBe('bye');
    expect(res.headers.getSetCookie().join(';')).toMatch(/emulator_sso=;/);

    // The old cookie no longer signs anyone in.
    expectRedirectError(
      await authorize(h, portalRequest({ prompt: 'none' }), {
        cookie: first.cookie,
      }),
      {
        redirectUri: GATEHOUSE.redirectUri,
        error: 'login_required',
        code: 50058,
      },
    );
  });

  it.each([
    ['an unregistered URI', GATEHOUSE.appId, 'https://evil.example/after'],
    ['another app’s URI', GATEHOUSE.appId, WIKI.logoutUri],
    [
      'a near miss of a registered URI',
      GATEHOUSE.appId,
      'http://localhost:3000/x',
    ],
  ])(
    'does not redirect to %s: it shows the signed-out page',
    async (_what, clientId, target) => {
      const url = new URL(`${h.base}/${CONTOSO.id}/oauth2/v2.0/logout`);
      url.searchParams.set('client_id', clientId);
      url.searchParams.set('post_logout_redirect_uri', target);
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(200);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('You signed out');
    },
  );

  it('takes the app from id_token_hint, and accepts POST', async () => {
    const signedIn = await signIn(h, {
      clientId: WIKI.appId,
      redirectUri: WIKI.redirectUri,
      upn: UPN.alex,
    });
    const idToken = (await redeem(h, WIKI.appId, signedIn)).body.id_token;
    const post = (target: string) =>
      fetch(`${h.base}/${CONTOSO.id}/oauth2/v2.0/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: signedIn.cookie!,
        },
        body: new URLSearchParams({
          id_token_hint: idToken,
          post_logout_redirect_uri: target,
        }).toString(),
      });
    const ok = await post(WIKI.logoutUri);
    expect(ok.status).toBe(302);
    expect(ok.headers.get('location')).toBe(WIKI.logoutUri);
    // The portal's logout URI is not the wiki's.
    const refused = await post(GATEHOUSE.logoutUri);
    expect(refused.status).toBe(200);
    expect(refused.headers.get('location')).toBeNull();
  });
});
