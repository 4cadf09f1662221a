import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  JWK,
  JWTPayload,
  KeyLike,
  SignJWT,
} from 'jose';
import { IdTokenError, validateIdToken } from './idToken';

const TID = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
const OTHER_TID = '11111111-2222-4333-8444-555555555555';
const CLIENT = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';
const AUTHORITY = 'https://login.microsoftonline.com';
const NOW = new Date('2026-11-22T10:00:00Z');
const nowS = NOW.getTime() / 1000;

let key: KeyLike;
let otherKey: KeyLike;
let jwks: { keys: JWK[] };

beforeAll(async () => {
  ({ privateKey: key } = await generateKeyPair('RS256'));
  const pair = await generateKeyPair('RS256', { extractable: true });
  ({ privateKey: otherKey } = await generateKeyPair('RS256'));
  // The published key is `pair`'s; `key` is re-generated below so kid "k1" maps to it.
  const published = await generateKeyPair('RS256', { extractable: true });
  key = published.privateKey;
  jwks = {
    keys: [
      {
        ...(await exportJWK(published.publicKey)),
        kid: 'k1',
        alg: 'RS256',
        use: 'sig',
      },
      { ...(await exportJWK(pair.publicKey)), kid: 'k0' },
    ],
  };
});

function claims(extra: JWTPayload = {}): JWTPayload {
  return {
    iss: `${AUTHORITY}/${TID}/v2.0`,
    aud: CLIENT,
    tid: TID,
    oid: 'a1b2c3d4-0000-4000-8000-000000000001',
    sub: 'pairwise-subject',
    iat: nowS - 10,
    nbf: nowS - 10,
    exp: nowS + 3600,
    nonce: 'n-0S6_WzA2Mj',
    ...extra,
  };
}

const sign = (
  payload: JWTPayload,
  opts: { kid?: string; signer?: KeyLike } = {},
) =>
  new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'k1' })
    .sign(opts.signer ?? key);

const expectations = (extra = {}) => ({
  issuer: `${AUTHORITY}/${TID}/v2.0`,
  clientId: CLIENT,
  nonce: 'n-0S6_WzA2Mj',
  clockToleranceSeconds: 120,
  now: NOW,
  ...extra,
});

async function refusal(token: string, extra = {}): Promise<string> {
  try {
    await validateIdToken(token, createLocalJWKSet(jwks), expectations(extra));
  } catch (e) {
    expect(e).toBeInstanceOf(IdTokenError);
    return (e as IdTokenError).code;
  }
  throw new Error('the token was accepted');
}

describe('validateIdToken', () => {
  it('accepts a well-formed token and returns its claims', async () => {
    const c = await validateIdToken(
      await sign(claims()),
      createLocalJWKSet(jwks),
      expectations(),
    );
    expect(c.oid).toBe('a1b2c3d4-0000-4000-8000-000000000001');
    expect(c.tid).toBe(TID);
  });

  it('refuses a bad signature', async () => {
    expect(await refusal(await sign(claims(), { signer: otherKey }))).toBe(
      'BAD_SIGNATURE',
    );
  });

  it('refuses alg none', async () => {
    const header = Buffer.from(
      JSON.stringify({ alg: 'none', typ: 'JWT' }),
    ).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims())).toString('base64url');
    expect(await refusal(`${header}.${body}.`)).toBe('ALG_NOT_ALLOWED');
  });

  it('refuses HS256 (a key confusion attempt)', async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect(await refusal(token)).toBe('ALG_NOT_ALLOWED');
  });

  it('refuses an unknown kid', async () => {
    expect(await refusal(await sign(claims(), { kid: 'rotated-away' }))).toBe(
      'UNKNOWN_KEY',
    );
  });

  it('refuses a wrong issuer', async () => {
    expect(
      await refusal(
        await sign(claims({ iss: `https://evil.example/${TID}/v2.0` })),
      ),
    ).toBe('WRONG_ISSUER');
  });

  it('refuses a tid that does not match the issuer', async () => {
    expect(await refusal(await sign(claims({ tid: OTHER_TID })))).toBe(
      'TENANT_MISMATCH',
    );
  });

  it('multi-tenant: accepts an allowed tenant, refuses another', async () => {
    const multi = {
      issuer: `${AUTHORITY}/{tenantid}/v2.0`,
      allowedTenants: [TID],
    };
    const ok = await validateIdToken(
      await sign(claims()),
      createLocalJWKSet(jwks),
      expectations(multi),
    );
    expect(ok.tid).toBe(TID);
    const other = await sign(
      claims({ tid: OTHER_TID, iss: `${AUTHORITY}/${OTHER_TID}/v2.0` }),
    );
    expect(await refusal(other, multi)).toBe('TENANT_NOT_ALLOWED');
  });

  it('refuses a token for another app, and a multi-audience token whose azp is another app', async () => {
    expect(await refusal(await sign(claims({ aud: 'another-app' })))).toBe(
      'WRONG_AUDIENCE',
    );
    expect(
      await refusal(
        await sign(
          claims({ aud: [CLIENT, 'another-app'], azp: 'another-app' }),
        ),
      ),
    ).toBe('WRONG_AUDIENCE');
  });

  it('refuses an expired token beyond the leeway, accepts one within it', async () => {
    expect(await refusal(await sign(claims({ exp: nowS - 121 })))).toBe(
      'EXPIRED',
    );
    await expect(
      validateIdToken(
        await sign(claims({ exp: nowS - 60 })),
        createLocalJWKSet(jwks),
        expectations(),
      ),
    ).resolves.toBeDefined();
  });

  it('refuses a token not valid yet, or issued in the future', async () => {
    expect(await refusal(await sign(claims({ nbf: nowS + 600 })))).toBe(
      'NOT_YET_VALID',
    );
    expect(
      await refusal(await sign(claims({ iat: nowS + 600, nbf: undefined }))),
    ).toBe('ISSUED_IN_FUTURE');
  });

  it("refuses a nonce that is not this sign-in's", async () => {
    expect(await refusal(await sign(claims({ nonce: 'someone-elses' })))).toBe(
      'NONCE_MISMATCH',
    );
    expect(await refusal(await sign(claims({ nonce: undefined })))).toBe(
      'NONCE_MISMATCH',
    );
  });

  it('refuses a token without oid or tid', async () => {
    expect(await refusal(await sign(claims({ oid: undefined })))).toBe(
      'MISSING_CLAIM',
    );
    expect(await refusal(await sign(claims({ tid: undefined })))).toBe(
      'MISSING_CLAIM',
    );
  });
});
