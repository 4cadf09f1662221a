import { startTestBackend } from '@backstage/backend-test-utils';
import { exportJWK, generateKeyPair, JWTPayload, KeyLike, SignJWT } from 'jose';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { catalogUser, startAuthBackend } from './__testUtils__/signIn';

const TID = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
const OTHER_TID = '11111111-2222-4333-8444-555555555555';
const CLIENT = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';
const OID = 'a1b2c3d4-0000-4000-8000-000000000001';

/**
 * A broken or hostile identity provider on loopback that answers the token request with the ID
 * token a scenario asks for. Every bad token must be refused by the real auth backend with our
 * module, and no session cookie or Backstage token may be issued.
 */
describe('ID tokens from a hostile identity provider', () => {
  let idp: http.Server;
  let base: string;
  let key: KeyLike;
  let attackerKey: KeyLike;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let nextToken: (nonce: string) => Promise<string>;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    key = pair.privateKey;
    attackerKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', use: 'sig' };
    const nonces = new Map<string, string>();
    idp = http.createServer(async (req, res) => {
      const url = new URL(req.url!, base);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === `/${TID}/v2.0/.well-known/openid-configuration`) {
        json(200, {
          issuer: `${base}/${TID}/v2.0`,
          authorization_endpoint: `${base}/${TID}/oauth2/v2.0/authorize`,
          token_endpoint: `${base}/${TID}/oauth2/v2.0/token`,
          jwks_uri: `${base}/${TID}/discovery/v2.0/keys`,
        });
      } else if (url.pathname === `/${TID}/discovery/v2.0/keys`) {
        json(200, { keys: [jwk] });
      } else if (url.pathname === `/${TID}/oauth2/v2.0/authorize`) {
        // The "code" carries the nonce back so the token can echo it (or not).
        nonces.set('last', url.searchParams.get('nonce')!);
        json(200, {});
      } else if (url.pathname === `/${TID}/oauth2/v2.0/token`) {
        json(200, {
          token_type: 'Bearer',
          access_token: 'opaque',
          refresh_token: 'rt',
          expires_in: 3600,
          scope: 'openid profile',
          id_token: await nextToken(nonces.get('last')!),
        });
      } else {
        json(404, {});
      }
    });
    await new Promise<void>(r => idp.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;

    backend = await startAuthBackend({
      entities: [catalogUser('victim', { 'graph.microsoft.com/user-id': OID })],
      microsoft: {
        clientId: CLIENT,
        clientSecret: 'test-only',
        tenantId: TID,
        authority: base,
      },
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await new Promise(r => idp.close(r));
  });

  const now = () => Math.floor(Date.now() / 1000);
  const good = (nonce: string): JWTPayload => ({
    iss: `${base}/${TID}/v2.0`,
    aud: CLIENT,
    tid: TID,
    oid: OID,
    sub: 'pairwise',
    iat: now(),
    nbf: now(),
    exp: now() + 3600,
    nonce,
  });
  const sign = (
    payload: JWTPayload,
    opts: { kid?: string; signer?: KeyLike } = {},
  ) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'k1' })
      .sign(opts.signer ?? key);

  /** Runs a sign-in whose token request returns `token`; returns what the app window gets. */
  async function signInWith(token: (nonce: string) => Promise<string>) {
    nextToken = token;
    const start = await fetch(
      `http://localhost:${backend.server.port()}/api/auth/microsoft/start?env=development&scope=openid%20profile`,
      { redirect: 'manual' },
    );
    const authorize = new URL(start.headers.get('location')!);
    await fetch(authorize); // the browser visits the IdP
    const cookies = start.headers
      .getSetCookie()
      .filter(c => !/Max-Age=0/i.test(c))
      .map(c => c.split(';')[0]);
    const callback = new URL(authorize.searchParams.get('redirect_uri')!);
    callback.searchParams.set('code', 'any');
    callback.searchParams.set('state', authorize.searchParams.get('state')!);
    const done = await fetch(callback, {
      headers: { cookie: cookies.join('; ') },
    });
    const encoded = /var authResponse = decodeURIComponent\('([^']*)'\)/.exec(
      await done.text(),
    )![1];
    return {
      response: JSON.parse(decodeURIComponent(encoded)),
      setCookies: done.headers.getSetCookie(),
    };
  }

  it('accepts a well-formed token (the control)', async () => {
    const { response, setCookies } = await signInWith(n => sign(good(n)));
    expect(response.response.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/victim',
    );
    expect(setCookies.some(c => c.startsWith('microsoft-refresh-token='))).toBe(
      true,
    );
  });

  it.each([
    [
      'a bad signature',
      (n: string) => sign(good(n), { signer: attackerKey }),
      /signature is invalid/,
    ],
    [
      'alg none',
      async (n: string) =>
        `${Buffer.from(JSON.stringify({ alg: 'none' })).toString(
          'base64url',
        )}.${Buffer.from(JSON.stringify(good(n))).toString('base64url')}.`,
      /algorithm none is not allowed/,
    ],
    [
      'an unknown kid',
      (n: string) => sign(good(n), { kid: 'not-published' }),
      /key the tenant does not publish/,
    ],
    [
      'a wrong issuer',
      (n: string) =>
        sign({ ...good(n), iss: `https://evil.example/${TID}/v2.0` }),
      /expected/,
    ],
    [
      'a tid that does not match the issuer',
      (n: string) => sign({ ...good(n), tid: OTHER_TID }),
      /does not match its issuer/,
    ],
    [
      'a wrong audience',
      (n: string) => sign({ ...good(n), aud: 'another-app' }),
      /not this app/,
    ],
    [
      'an expired token',
      (n: string) =>
        sign({
          ...good(n),
          iat: now() - 7200,
          nbf: now() - 7200,
          exp: now() - 3600,
        }),
      /expired/,
    ],
    [
      'an iat in the future',
      (n: string) => sign({ ...good(n), iat: now() + 3600, nbf: undefined }),
      /issued in the future/,
    ],
    [
      'a nonce from another sign-in',
      (n: string) => sign({ ...good(n), nonce: `${n}x` }),
      /nonce does not match/,
    ],
  ])('refuses %s and issues nothing', async (_name, token, reason) => {
    const { response, setCookies } = await signInWith(token);
    expect(response.response).toBeUndefined();
    expect(response.error.message).toMatch(reason);
    expect(
      setCookies.some(
        c => c.startsWith('microsoft-refresh-token=') && !/Max-Age=0/i.test(c),
      ),
    ).toBe(false);
  });
});
