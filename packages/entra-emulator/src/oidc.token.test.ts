/* eslint jest/expect-expect: ["warn", { "assertFunctionNames": ["expect", "expect*"] }] */
/*
 * The token endpoint of the emulator over real HTTP: the authorization code grant (after a
 * browser-like sign-in), the ID token's claims, client authentication and the refresh grant.
 */
import { decodeJwt } from 'jose';
import {
  CONTOSO,
  expectAadstsError,
  FABRIKAM,
  GATEHOUSE,
  Harness,
  PARTNER,
  redeem,
  signIn,
  SignInResult,
  startHarness,
  token,
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

function portalSignIn(
  upn: string,
  extra: { scope?: string; nonce?: string } = {},
): Promise<SignInResult> {
  return signIn(h, {
    clientId: GATEHOUSE.appId,
    redirectUri: GATEHOUSE.redirectUri,
    upn,
    ...extra,
  });
}

async function idTokenOf(upn: string, clientId = GATEHOUSE.appId) {
  const redirectUri =
    clientId === GATEHOUSE.appId ? GATEHOUSE.redirectUri : WIKI.redirectUri;
  const signedIn = await signIn(h, { clientId, redirectUri, upn });
  const { status, body } = await redeem(h, clientId, signedIn);
  expect(status).toBe(200);
  return decodeJwt(body.id_token);
}

describe('authorization_code grant', () => {
  it('returns an ID token, an access token and a refresh token', async () => {
    const signedIn = await portalSignIn(UPN.alex, { nonce: 'nonce-abc' });
    const { status, headers, body } = await redeem(
      h,
      GATEHOUSE.appId,
      signedIn,
    );
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3600);
    expect(typeof body.access_token).toBe('string');
    expect(typeof body.id_token).toBe('string');
    expect(typeof body.refresh_token).toBe('string');
    expect(body.scope.split(' ')).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'User.Read']),
    );
  });

  it('gives an ID token shaped like Entra v2.0', async () => {
    const signedIn = await portalSignIn(UPN.alex, { nonce: 'nonce-abc' });
    const { body } = await redeem(h, GATEHOUSE.appId, signedIn);
    const claims = decodeJwt(body.id_token);
    const now = Math.floor(h.clock.now().getTime() / 1000);
    expect(claims).toMatchObject({
      iss: `${h.base}/${CONTOSO.id}/v2.0`,
      aud: GATEHOUSE.appId,
      tid: CONTOSO.id,
      oid: h.userId(CONTOSO.id, UPN.alex),
      preferred_username: UPN.alex,
      name: 'Alex Wilber',
      nonce: 'nonce-abc',
      ver: '2.0',
      email: UPN.alex,
      xms_edov: true,
    });
    expect(claims.iat).toBe(now);
    expect(claims.nbf).toBe(now);
    expect(claims.exp).toBe(now + 3600);
    expect(typeof claims.sub).toBe('string');
    expect(claims.sub).not.toBe(claims.oid);
  });

  it('gives a pairwise sub: the same user gets another sub in another app, and the same oid', async () => {
    const portal = await idTokenOf(UPN.alex, GATEHOUSE.appId);
    const portalAgain = await idTokenOf(UPN.alex, GATEHOUSE.appId);
    const wiki = await idTokenOf(UPN.alex, WIKI.appId);
    expect(portalAgain.sub).toBe(portal.sub);
    expect(wiki.sub).not.toBe(portal.sub);
    expect(wiki.oid).toBe(portal.oid);
    expect(wiki.aud).toBe(WIKI.appId);
    // The wiki does not ask for group claims.
    expect(wiki).not.toHaveProperty('groups');
  });

  it('marks a member’s email as verified and a guest’s as not (xms_edov)', async () => {
    const guest = await idTokenOf(UPN.casey);
    expect(guest.email).toBe('casey.jordan@fabrikam.example');
    expect(guest.xms_edov).toBe(false);
    expect(guest.preferred_username).toBe(UPN.casey);
    const member = await idTokenOf(UPN.joni);
    expect(member.email).toBe(UPN.joni);
    expect(member.xms_edov).toBe(true);
  });

  it('puts security groups in `groups`, nested parents included, Microsoft 365 groups left out', async () => {
    const joni = await idTokenOf(UPN.joni);
    const expected = ['Payments API', 'Payments', 'Engineering', 'Contoso'].map(
      g => h.groupId(CONTOSO.id, g),
    );
    expect([...(joni.groups as string[])].sort()).toEqual([...expected].sort());
    expect(joni.groups).not.toContain(
      h.groupId(CONTOSO.id, 'All Staff (Microsoft 365)'),
    );
    expect(joni).not.toHaveProperty('_claim_names');
  });

  it('gives app roles assigned through groups in `roles`', async () => {
    const alex = await idTokenOf(UPN.alex);
    expect([...(alex.roles as string[])].sort()).toEqual([
      'Catalog.Editor',
      'Portal.Admin',
    ]);
    expect(alex.groups).toEqual(
      expect.arrayContaining([
        h.groupId(CONTOSO.id, 'Gatehouse Admins'),
        h.groupId(CONTOSO.id, 'Platform'),
      ]),
    );
    const joni = await idTokenOf(UPN.joni);
    expect(joni).not.toHaveProperty('roles');
  });

  it('sends the groups overage indicator, not `groups`, for a user in more than 200 groups', async () => {
    const morgan = await idTokenOf(UPN.morgan);
    expect(morgan).not.toHaveProperty('groups');
    expect(morgan._claim_names).toEqual({ groups: 'src1' });
    const sources = morgan._claim_sources as Record<
      string,
      { endpoint: string }
    >;
    expect(sources.src1.endpoint).toBe(
      `${h.base}/v1.0/users/${h.userId(
        CONTOSO.id,
        UPN.morgan,
      )}/getMemberObjects`,
    );
  });

  it('leaves out name, preferred_username and oid without the profile scope, and email without the email scope', async () => {
    const signedIn = await portalSignIn(UPN.joni, {
      scope: 'openid User.Read',
    });
    const { status, body } = await redeem(h, GATEHOUSE.appId, signedIn);
    expect(status).toBe(200);
    const claims = decodeJwt(body.id_token);
    expect(claims.sub).toBeTruthy();
    expect(claims.tid).toBe(CONTOSO.id);
    for (const c of [
      'name',
      'preferred_username',
      'oid',
      'email',
      'xms_edov',
    ]) {
      expect(claims).not.toHaveProperty(c);
    }
  });

  it('issues a refresh token only with offline_access, and an ID token only with openid', async () => {
    const noOffline = await redeem(
      h,
      GATEHOUSE.appId,
      await portalSignIn(UPN.joni, { scope: 'openid profile User.Read' }),
    );
    expect(noOffline.status).toBe(200);
    expect(noOffline.body.id_token).toBeTruthy();
    expect(noOffline.body).not.toHaveProperty('refresh_token');

    const noOpenId = await redeem(
      h,
      GATEHOUSE.appId,
      await portalSignIn(UPN.joni, { scope: 'User.Read' }),
    );
    expect(noOpenId.status).toBe(200);
    expect(noOpenId.body.access_token).toBeTruthy();
    expect(noOpenId.body).not.toHaveProperty('id_token');
  });

  it('gives a Graph access token for the user with the consented scopes', async () => {
    const signedIn = await portalSignIn(UPN.alex, {
      scope: 'openid profile GroupMember.Read.All',
    });
    const { body } = await redeem(h, GATEHOUSE.appId, signedIn);
    const access = decodeJwt(body.access_token);
    expect(access).toMatchObject({
      // Short scopes (GroupMember.Read.All) give Graph's app id as the audience, as Entra does.
      aud: '00000003-0000-0000-c000-000000000000',
      tid: CONTOSO.id,
      oid: h.userId(CONTOSO.id, UPN.alex),
      idtyp: 'user',
      appid: GATEHOUSE.appId,
    });
    expect(String(access.scp).split(' ')).toEqual(
      expect.arrayContaining(['openid', 'profile', 'GroupMember.Read.All']),
    );
  });

  it('answers the userinfo endpoint of the discovery document with that access token', async () => {
    const discovery = await (
      await fetch(
        `${h.base}/${CONTOSO.id}/v2.0/.well-known/openid-configuration`,
      )
    ).json();
    const signedIn = await portalSignIn(UPN.alex);
    const { body } = await redeem(h, GATEHOUSE.appId, signedIn);
    const res = await fetch(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(res.status).toBe(200);
    const info = await res.json();
    expect(info).toMatchObject({
      sub: decodeJwt(body.id_token).sub,
      name: 'Alex Wilber',
      given_name: 'Alex',
      family_name: 'Wilber',
      email: UPN.alex,
    });

    const anonymous = await fetch(discovery.userinfo_endpoint);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.code).toBe(
      'InvalidAuthenticationToken',
    );
    const idTokenAsBearer = await fetch(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${body.id_token}` },
    });
    expect(idTokenAsBearer.status).toBe(401);
  });

  it('accepts client_secret_basic (Authorization: Basic)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    const { status, body } = await token(
      h,
      {
        grant_type: 'authorization_code',
        code: signedIn.code,
        redirect_uri: signedIn.redirectUri,
        code_verifier: signedIn.verifier,
      },
      { basic: [GATEHOUSE.appId, h.secrets[GATEHOUSE.appId]] },
    );
    expect(status).toBe(200);
    expect(decodeJwt(body.id_token).aud).toBe(GATEHOUSE.appId);
  });

  it('redeems a code up to 10 minutes after issue (clock)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    h.clock.advance(9 * 60 + 50);
    const { status } = await redeem(h, GATEHOUSE.appId, signedIn);
    expect(status).toBe(200);
  });
});

describe('authorization_code grant: refusals', () => {
  it('refuses a code redeemed twice (AADSTS54005)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    expect((await redeem(h, GATEHOUSE.appId, signedIn)).status).toBe(200);
    const again = await redeem(h, GATEHOUSE.appId, signedIn);
    expectAadstsError(again, { error: 'invalid_grant', code: 54005 });
  });

  it('refuses a code past its 10 minutes (AADSTS70008)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    h.clock.advance(10 * 60 + 1);
    expectAadstsError(await redeem(h, GATEHOUSE.appId, signedIn), {
      error: 'invalid_grant',
      code: 70008,
    });
  });

  it('refuses a wrong code_verifier (AADSTS501481)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    expectAadstsError(
      await redeem(h, GATEHOUSE.appId, signedIn, {
        code_verifier: 'x'.repeat(43),
      }),
      { error: 'invalid_grant', code: 501481 },
    );
  });

  it('refuses a missing code_verifier (AADSTS50148)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    expectAadstsError(
      await redeem(h, GATEHOUSE.appId, signedIn, { code_verifier: undefined }),
      { error: 'invalid_grant', code: 50148 },
    );
  });

  it('refuses a redirect_uri other than the one of the authorization request (AADSTS500112)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    const result = await redeem(h, GATEHOUSE.appId, signedIn, {
      redirect_uri: `${GATEHOUSE.redirectUri}/`,
    });
    expectAadstsError(result, { error: 'invalid_grant', code: 500112 });
    expect(result.body.error_description).toContain(GATEHOUSE.redirectUri);
  });

  it('refuses a missing redirect_uri (AADSTS900144)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    expectAadstsError(
      await redeem(h, GATEHOUSE.appId, signedIn, { redirect_uri: undefined }),
      { error: 'invalid_request', code: 900144 },
    );
  });

  it('refuses a code issued to another client (AADSTS70000)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    expectAadstsError(await redeem(h, WIKI.appId, signedIn), {
      error: 'invalid_grant',
      code: 70000,
    });
  });

  it('refuses a code redeemed at another tenant’s token endpoint (AADSTS700005)', async () => {
    // The partner portal is multi-tenant, so Fabrikam's endpoint knows the client.
    const signedIn = await signIn(h, {
      clientId: PARTNER.appId,
      redirectUri: PARTNER.redirectUri,
      upn: UPN.alex,
    });
    expectAadstsError(
      await redeem(h, PARTNER.appId, signedIn, {}, { tenant: FABRIKAM.id }),
      { error: 'invalid_grant', code: 700005 },
    );
    // The same code still works where it was issued.
    expect((await redeem(h, PARTNER.appId, signedIn)).status).toBe(200);
  });

  it('refuses an unknown code (AADSTS9002313)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    expectAadstsError(
      await redeem(h, GATEHOUSE.appId, { ...signedIn, code: '1.not-a-code' }),
      { error: 'invalid_grant', code: 9002313 },
    );
  });

  it('refuses a wrong client secret with 401 invalid_client (AADSTS7000215)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    const wrong = await redeem(h, GATEHOUSE.appId, signedIn, {
      client_secret: 'not-the-secret',
    });
    expectAadstsError(wrong, {
      status: 401,
      error: 'invalid_client',
      code: 7000215,
    });
    // The secret of another app is just as wrong.
    expectAadstsError(
      await redeem(h, GATEHOUSE.appId, signedIn, {
        client_secret: h.secrets[WIKI.appId],
      }),
      { status: 401, error: 'invalid_client', code: 7000215 },
    );
    // Refused client authentication does not burn the code.
    expect((await redeem(h, GATEHOUSE.appId, signedIn)).status).toBe(200);
  });

  it('refuses a wrong secret sent with client_secret_basic (AADSTS7000215)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    expectAadstsError(
      await token(
        h,
        {
          grant_type: 'authorization_code',
          code: signedIn.code,
          redirect_uri: signedIn.redirectUri,
          code_verifier: signedIn.verifier,
        },
        { basic: [GATEHOUSE.appId, 'nope'] },
      ),
      { status: 401, error: 'invalid_client', code: 7000215 },
    );
  });

  it('refuses an expired client secret (AADSTS7000222)', async () => {
    const { secretText } = h.running.emulator.addClientSecret(GATEHOUSE.appId, {
      endDateTime: new Date(h.clock.now().getTime() + 3600 * 1000),
    });
    h.clock.advance(2 * 3600);
    const signedIn = await portalSignIn(UPN.alex);
    expectAadstsError(
      await redeem(h, GATEHOUSE.appId, signedIn, { client_secret: secretText }),
      { status: 401, error: 'invalid_client', code: 7000222 },
    );
  });

  it('refuses a request without client authentication (AADSTS7000218)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    expectAadstsError(
      await redeem(h, GATEHOUSE.appId, signedIn, { client_secret: undefined }),
      { status: 401, error: 'invalid_client', code: 7000218 },
    );
  });

  it('refuses an unknown client (AADSTS700016)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    const result = await redeem(h, GATEHOUSE.appId, signedIn, {
      client_id: '99999999-8888-4777-8666-555555555555',
    });
    expectAadstsError(result, { error: 'unauthorized_client', code: 700016 });
    expect(result.body.error_description).toContain('Contoso');
  });

  it('refuses a single-tenant client at another tenant’s token endpoint (AADSTS700016)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    expectAadstsError(
      await redeem(h, GATEHOUSE.appId, signedIn, {}, { tenant: FABRIKAM.id }),
      { error: 'unauthorized_client', code: 700016 },
    );
  });

  it('refuses an unknown tenant (AADSTS90002)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    expectAadstsError(
      await redeem(
        h,
        GATEHOUSE.appId,
        signedIn,
        {},
        { tenant: 'nowhere.example' },
      ),
      { error: 'invalid_tenant', code: 90002 },
    );
  });

  it('refuses an unsupported grant type (AADSTS70003)', async () => {
    const result = await token(h, {
      grant_type: 'password',
      client_id: GATEHOUSE.appId,
      client_secret: h.secrets[GATEHOUSE.appId],
      username: UPN.alex,
      password: 'x',
      scope: 'openid',
    });
    expectAadstsError(result, { error: 'unsupported_grant_type', code: 70003 });
    expect(result.body.error_description).toContain("'password'");
  });

  it('refuses a request without grant_type (AADSTS900144)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    const result = await redeem(h, GATEHOUSE.appId, signedIn, {
      grant_type: undefined,
    });
    expectAadstsError(result, { error: 'invalid_request', code: 900144 });
    expect(result.body.error_description).toContain("'grant_type'");
  });

  it('refuses a parameter given twice (AADSTS90100)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: GATEHOUSE.appId,
      client_secret: h.secrets[GATEHOUSE.appId],
      code: signedIn.code,
      redirect_uri: signedIn.redirectUri,
      code_verifier: signedIn.verifier,
    });
    form.append('client_secret', 'another');
    const res = await fetch(`${h.base}/${CONTOSO.id}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const result = {
      status: res.status,
      headers: res.headers,
      body: await res.json(),
    };
    expectAadstsError(result, { error: 'invalid_request', code: 90100 });
    expect(result.body.error_description).toContain("'client_secret'");
  });

  it('refuses a request without client_id (AADSTS900144)', async () => {
    const signedIn = await portalSignIn(UPN.alex);
    const result = await redeem(h, GATEHOUSE.appId, signedIn, {
      client_id: undefined,
    });
    expectAadstsError(result, { error: 'invalid_request', code: 900144 });
    expect(result.body.error_description).toContain("'client_id'");
  });

  it('refuses a user disabled between sign-in and redemption (AADSTS50057)', async () => {
    const signedIn = await portalSignIn(UPN.henrietta);
    const store = h.running.emulator.tenants.get(CONTOSO.id)!;
    const id = h.userId(CONTOSO.id, UPN.henrietta);
    store.updateUser(id, { accountEnabled: false });
    try {
      expectAadstsError(await redeem(h, GATEHOUSE.appId, signedIn), {
        error: 'invalid_grant',
        code: 50057,
      });
    } finally {
      store.updateUser(id, { accountEnabled: true });
    }
  });
});

describe('refresh_token grant', () => {
  async function refreshTokenOf(upn: string, clientId = GATEHOUSE.appId) {
    const redirectUri =
      clientId === GATEHOUSE.appId ? GATEHOUSE.redirectUri : WIKI.redirectUri;
    const signedIn = await signIn(h, {
      clientId,
      redirectUri,
      upn,
      nonce: 'first-nonce',
    });
    const { body } = await redeem(h, clientId, signedIn);
    return {
      refreshToken: body.refresh_token as string,
      idToken: decodeJwt(body.id_token),
    };
  }

  const refresh = (
    refreshToken: string,
    extra: Record<string, string | undefined> = {},
  ) =>
    token(h, {
      grant_type: 'refresh_token',
      client_id: GATEHOUSE.appId,
      client_secret: h.secrets[GATEHOUSE.appId],
      refresh_token: refreshToken,
      ...extra,
    });

  it('issues new tokens for the same user', async () => {
    const first = await refreshTokenOf(UPN.joni);
    const { status, body } = await refresh(first.refreshToken);
    expect(status).toBe(200);
    expect(body.token_type).toBe('Bearer');
    expect(body.access_token).toBeTruthy();
    expect(body.refresh_token).toBeTruthy();
    expect(body.refresh_token).not.toBe(first.refreshToken);
    const claims = decodeJwt(body.id_token);
    expect(claims.sub).toBe(first.idToken.sub);
    expect(claims.oid).toBe(first.idToken.oid);
    expect(claims.aud).toBe(GATEHOUSE.appId);
    expect(claims).not.toHaveProperty('nonce');
    // The new refresh token works in turn.
    expect((await refresh(body.refresh_token)).status).toBe(200);
  });

  it('gives a token for another consented scope, keeping the ID token', async () => {
    const first = await refreshTokenOf(UPN.joni);
    const { status, body } = await refresh(first.refreshToken, {
      scope: 'GroupMember.Read.All',
    });
    expect(status).toBe(200);
    expect(String(decodeJwt(body.access_token).scp).split(' ')).toContain(
      'GroupMember.Read.All',
    );
    expect(body.id_token).toBeTruthy();
    expect(body.refresh_token).toBeTruthy();
  });

  it('refuses a scope the tenant has not consented to (AADSTS65001)', async () => {
    const first = await refreshTokenOf(UPN.joni);
    expectAadstsError(
      await refresh(first.refreshToken, { scope: 'Mail.Read' }),
      {
        error: 'invalid_grant',
        code: 65001,
      },
    );
  });

  it('refuses scopes for two resources (AADSTS28000)', async () => {
    const first = await refreshTokenOf(UPN.joni);
    expectAadstsError(
      await refresh(first.refreshToken, {
        scope: `User.Read api://${WIKI.appId}/Notes.Read`,
      }),
      { error: 'invalid_scope', code: 28000 },
    );
  });

  it('refuses an unknown refresh token (AADSTS9002313)', async () => {
    expectAadstsError(await refresh('1.made-up-refresh-token'), {
      error: 'invalid_grant',
      code: 9002313,
    });
  });

  it('refuses a missing refresh token (AADSTS900144)', async () => {
    expectAadstsError(await refresh(''), {
      error: 'invalid_request',
      code: 900144,
    });
  });

  it('refuses a refresh token of another app (AADSTS70000)', async () => {
    const wikiToken = await refreshTokenOf(UPN.joni, WIKI.appId);
    expectAadstsError(await refresh(wikiToken.refreshToken), {
      error: 'invalid_grant',
      code: 70000,
    });
    // ... and still works for its own app.
    const own = await token(h, {
      grant_type: 'refresh_token',
      client_id: WIKI.appId,
      client_secret: h.secrets[WIKI.appId],
      refresh_token: wikiToken.refreshToken,
    });
    expect(own.status).toBe(200);
  });

  it('refuses a refresh without client authentication (AADSTS7000218)', async () => {
    const first = await refreshTokenOf(UPN.joni);
    expectAadstsError(
      await refresh(first.refreshToken, { client_secret: undefined }),
      {
        status: 401,
        error: 'invalid_client',
        code: 7000218,
      },
    );
  });

  it('refuses refresh tokens of a user whose sessions were revoked', async () => {
    const first = await refreshTokenOf(UPN.joni);
    h.running.emulator.revokeUserSessions(h.userId(CONTOSO.id, UPN.joni));
    expectAadstsError(await refresh(first.refreshToken), {
      error: 'invalid_grant',
      code: 9002313,
    });
  });
});
