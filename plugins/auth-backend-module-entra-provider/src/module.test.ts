import { decodeJwt } from 'jose';
import {
  authResponse,
  keptCookies,
  startPortalBackend,
  waitForEntities,
} from './__testUtils__/signIn';

/**
 * The whole sign-in as the portal runs it: the real auth and catalog plugins, our modules, the
 * built-in emulator (real HTTP), the org synced from its Graph, and a browser's requests made
 * by hand.
 */
describe('Entra ID sign-in through the built-in emulator', () => {
  let backend: Awaited<ReturnType<typeof startPortalBackend>>['backend'];
  let base: string;

  beforeAll(async () => {
    ({ backend, base } = await startPortalBackend());
    // Wait for the org sync to bring the people and the top of the org into the catalog.
    await waitForEntities(base, [
      'user/default/alex.wilber',
      'group/default/contoso',
      'group/default/project_210',
    ]);
  }, 60_000);

  afterAll(async () => {
    await backend?.stop();
  });

  /** Changes the faults of the emulator the backend started, through its admin API. */
  async function setFaults(authorizeUrl: URL, faults: Record<string, unknown>) {
    const res = await fetch(`${authorizeUrl.origin}/_emulator/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    });
    expect(res.status).toBe(200);
  }

  /** Starts a sign-in and returns the emulator's account page, with the cookies Backstage set. */
  async function startSignIn() {
    const start = await fetch(
      `${base}/api/auth/microsoft/start?env=development&scope=${encodeURIComponent(
        'openid profile email offline_access User.Read',
      )}`,
      { redirect: 'manual' },
    );
    expect(start.status).toBe(302);
    const cookies = keptCookies(start);
    const authorizeUrl = new URL(start.headers.get('location')!);
    expect(authorizeUrl.pathname).toMatch(/\/oauth2\/v2\.0\/authorize$/);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('nonce')).toBeTruthy();
    const page = await fetch(authorizeUrl);
    const html = await page.text();
    return { cookies, authorizeUrl, html };
  }

  async function pickUser(
    authorizeUrl: URL,
    html: string,
    displayName: string,
  ) {
    const txn = /name="txn" value="([^"]+)"/.exec(html)![1];
    const action = /<form method="post" action="([^"]+)"/
      .exec(html)![1]
      .replace(/&amp;/g, '&');
    const userId = new RegExp(
      `value="([0-9a-f-]{36})"[^>]*>${displayName}`,
    ).exec(html)![1];
    const res = await fetch(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ txn, user: userId }),
      redirect: 'manual',
    });
    expect(authorizeUrl.host).toBe(new URL(action).host);
    return res;
  }

  it('signs a person in as their catalog user, keyed on object id, with group ownership', async () => {
    const { cookies, authorizeUrl, html } = await startSignIn();
    expect(html).toContain('Alex Wilber');
    const picked = await pickUser(authorizeUrl, html, 'Alex Wilber');
    expect(picked.status).toBe(302);
    const callback = new URL(picked.headers.get('location')!);
    expect(callback.pathname).toBe('/api/auth/microsoft/handler/frame');

    const done = await fetch(callback, {
      headers: { cookie: cookies.join('; ') },
    });
    const body = await done.text();
    expect(done.status).toBe(200);
    const response = authResponse(body);
    expect(response.error).toBeUndefined();
    const token: string = response.response.backstageIdentity.token;
    const claims = decodeJwt(token);
    expect(claims.sub).toBe('user:default/alex.wilber');
    expect(
      response.response.backstageIdentity.identity.ownershipEntityRefs,
    ).toEqual(
      expect.arrayContaining([
        'user:default/alex.wilber',
        'group:default/platform',
        'group:default/gatehouse-admins',
      ]),
    );
    // Groups from the token (nested included): Platform sits in Engineering, in Contoso.
    expect(
      response.response.backstageIdentity.identity.ownershipEntityRefs,
    ).toEqual(
      expect.arrayContaining([
        'group:default/engineering',
        'group:default/contoso',
      ]),
    );
    // App roles from the token are kept for the permission policy.
    expect(claims.entra_roles).toEqual(['Portal.Admin', 'Catalog.Editor']);
    expect(claims.entra_oid).toMatch(/^[0-9a-f-]{36}$/);
    // A refresh cookie was set: the session outlives the access token.
    expect(
      done.headers
        .getSetCookie()
        .some(c => c.startsWith('microsoft-refresh-token=')),
    ).toBe(true);
  });

  it('issues nothing when the state cookie does not match (login CSRF)', async () => {
    const { authorizeUrl, html } = await startSignIn();
    const picked = await pickUser(authorizeUrl, html, 'Alex Wilber');
    const callback = new URL(picked.headers.get('location')!);
    const done = await fetch(callback, {
      headers: { cookie: 'microsoft-nonce=forged' },
    });
    const response = authResponse(await done.text());
    expect(response.response).toBeUndefined();
    expect(response.error.name).toBe('NotAllowedError');
    expect(
      done.headers
        .getSetCookie()
        .some(c => c.startsWith('microsoft-refresh-token=')),
    ).toBe(false);
  });

  it('issues nothing when the code is replayed', async () => {
    const { cookies, authorizeUrl, html } = await startSignIn();
    const picked = await pickUser(authorizeUrl, html, 'Lee Gu');
    const callback = new URL(picked.headers.get('location')!);
    const first = await fetch(callback, {
      headers: { cookie: cookies.join('; ') },
    });
    expect(
      authResponse(await first.text()).response.backstageIdentity.token,
    ).toBeTruthy();
    const second = await fetch(callback, {
      headers: { cookie: cookies.join('; ') },
    });
    const response = authResponse(await second.text());
    expect(response.response).toBeUndefined();
    expect(response.error.message).toContain('AADSTS54005');
    // Entra's correlation id is kept, so an admin can find the request on both sides.
    expect(response.error.message).toMatch(/Correlation ID: [0-9a-f-]{36}/);
  });

  it('issues nothing when the callback has no state', async () => {
    const { cookies, authorizeUrl, html } = await startSignIn();
    const picked = await pickUser(authorizeUrl, html, 'Alex Wilber');
    const callback = new URL(picked.headers.get('location')!);
    callback.searchParams.delete('state');
    const done = await fetch(callback, {
      headers: { cookie: cookies.join('; ') },
    });
    expect(await done.text()).not.toContain('backstageIdentity');
    expect(
      done.headers
        .getSetCookie()
        .some(c => c.startsWith('microsoft-refresh-token=')),
    ).toBe(false);
  });

  it("refuses a code from one sign-in with another sign-in's state (wrong code_verifier)", async () => {
    // Sign-in A gets a code; the attacker replays it inside sign-in B (B's state and cookie).
    const a = await startSignIn();
    const codeOfA = new URL(
      (await pickUser(a.authorizeUrl, a.html, 'Alex Wilber')).headers.get(
        'location',
      )!,
    ).searchParams.get('code')!;
    const b = await startSignIn();
    const callback = new URL(`${base}/api/auth/microsoft/handler/frame`);
    callback.searchParams.set('code', codeOfA);
    callback.searchParams.set(
      'state',
      b.authorizeUrl.searchParams.get('state')!,
    );
    const done = await fetch(callback, {
      headers: { cookie: b.cookies.join('; ') },
    });
    const response = authResponse(await done.text());
    expect(response.response).toBeUndefined();
    expect(response.error.message).toContain('AADSTS501481');
    expect(
      done.headers
        .getSetCookie()
        .some(c => c.startsWith('microsoft-refresh-token=')),
    ).toBe(false);
  });

  it('refuses a disabled account before any code is issued', async () => {
    const { cookies, authorizeUrl, html } = await startSignIn();
    const picked = await pickUser(authorizeUrl, html, 'Debra Berger');
    expect(picked.status).toBe(400);
    expect(picked.headers.get('location')).toBeNull();
    expect(await picked.text()).toContain('AADSTS50057');
    expect(cookies.some(c => c.startsWith('microsoft-refresh-token='))).toBe(
      false,
    );
  });

  it('asks Graph for the groups of a user past the 200-group overage', async () => {
    const { cookies, authorizeUrl, html } = await startSignIn();
    const picked = await pickUser(authorizeUrl, html, 'Morgan Lee');
    const done = await fetch(new URL(picked.headers.get('location')!), {
      headers: { cookie: cookies.join('; ') },
    });
    const response = authResponse(await done.text());
    expect(response.error).toBeUndefined();
    const refs: string[] =
      response.response.backstageIdentity.identity.ownershipEntityRefs;
    expect(
      refs.filter(r => r.startsWith('group:default/project_')),
    ).toHaveLength(210);
    expect(refs).toEqual(
      expect.arrayContaining([
        'group:default/operations',
        'group:default/contoso',
      ]),
    );
  });

  it('refuses an overage user when Graph cannot answer, rather than signing in without groups', async () => {
    const { cookies, authorizeUrl, html } = await startSignIn();
    await setFaults(authorizeUrl, { rate503: 1, routes: 'getMemberObjects' });
    try {
      const picked = await pickUser(authorizeUrl, html, 'Morgan Lee');
      const done = await fetch(new URL(picked.headers.get('location')!), {
        headers: { cookie: cookies.join('; ') },
      });
      const response = authResponse(await done.text());
      expect(response.response).toBeUndefined();
      expect(response.error.message).toMatch(/more groups than fit in a token/);
      expect(
        done.headers
          .getSetCookie()
          .some(c => c.startsWith('microsoft-refresh-token=')),
      ).toBe(false);
    } finally {
      await setFaults(authorizeUrl, { rate503: 0 });
    }
  });

  it('keeps signing people in after Entra rotates its signing key', async () => {
    const { authorizeUrl } = await startSignIn();
    const rotated = await fetch(
      `${authorizeUrl.origin}/_emulator/keys/rotate`,
      { method: 'POST' },
    );
    const { kid } = (await rotated.json()) as { kid: string };
    // Past the refetch cooldown, the unknown kid makes the module fetch the keys again.
    await new Promise(r => setTimeout(r, 5_500));
    const { cookies, authorizeUrl: again, html } = await startSignIn();
    const picked = await pickUser(again, html, 'Joni Sherman');
    const done = await fetch(new URL(picked.headers.get('location')!), {
      headers: { cookie: cookies.join('; ') },
    });
    const response = authResponse(await done.text());
    expect(response.error).toBeUndefined();
    expect(response.response.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/joni.sherman',
    );
    expect(kid).toBeTruthy();
  }, 20_000);
});
