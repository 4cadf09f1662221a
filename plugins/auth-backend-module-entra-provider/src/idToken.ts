import {
  errors as joseErrors,
  JWTVerifyGetKey,
  jwtVerify,
  decodeProtectedHeader,
} from 'jose';
import { EntraClaims } from './authenticator';

/** Why an ID token was refused; callers switch on `code`, people read `message`. */
export class IdTokenError extends Error {
  constructor(
    readonly code:
      | 'MALFORMED'
      | 'ALG_NOT_ALLOWED'
      | 'UNKNOWN_KEY'
      | 'BAD_SIGNATURE'
      | 'WRONG_ISSUER'
      | 'TENANT_MISMATCH'
      | 'TENANT_NOT_ALLOWED'
      | 'WRONG_AUDIENCE'
      | 'EXPIRED'
      | 'NOT_YET_VALID'
      | 'ISSUED_IN_FUTURE'
      | 'NONCE_MISMATCH'
      | 'MISSING_CLAIM',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IdTokenError';
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a valid ID token must match. */
export interface IdTokenExpectations {
  /** The issuer from discovery: exact for a single tenant, or containing `{tenantid}`. */
  issuer: string;
  clientId: string;
  /** With an issuer template: the tenant ids accepted (empty: any). */
  allowedTenants?: string[];
  nonce?: string;
  /** Leeway on exp/nbf/iat, seconds (at most a few minutes). */
  clockToleranceSeconds: number;
  now?: Date;
}

/**
 * Validates an Entra ID token: RS256 signature against the tenant's keys (`getKey` refetches on
 * an unknown `kid`), issuer and `tid` consistency, allowed tenants, audience and `azp`,
 * exp/nbf/iat with leeway, and the nonce of this sign-in.
 */
export async function validateIdToken(
  token: string,
  getKey: JWTVerifyGetKey,
  expect: IdTokenExpectations,
): Promise<EntraClaims> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch (e) {
    throw new IdTokenError('MALFORMED', 'The ID token is not a JWT', {
      cause: e,
    });
  }
  if (alg !== 'RS256') {
    throw new IdTokenError(
      'ALG_NOT_ALLOWED',
      `ID token algorithm ${alg} is not allowed (RS256 only)`,
    );
  }
  const now = expect.now ?? new Date();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, getKey, {
      algorithms: ['RS256'],
      clockTolerance: expect.clockToleranceSeconds,
      currentDate: now,
    }));
  } catch (e) {
    if (e instanceof joseErrors.JWKSNoMatchingKey) {
      throw new IdTokenError(
        'UNKNOWN_KEY',
        'The ID token is signed with a key the tenant does not publish',
        { cause: e },
      );
    }
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw new IdTokenError(
        'BAD_SIGNATURE',
        'The ID token signature is invalid',
        { cause: e },
      );
    }
    if (e instanceof joseErrors.JWTExpired) {
      throw new IdTokenError('EXPIRED', 'The ID token has expired', {
        cause: e,
      });
    }
    if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'nbf') {
      throw new IdTokenError(
        'NOT_YET_VALID',
        'The ID token is not valid yet (nbf)',
        { cause: e },
      );
    }
    throw new IdTokenError(
      'MALFORMED',
      `The ID token is invalid: ${(e as Error).message}`,
      { cause: e },
    );
  }

  const tid = payload.tid;
  if (typeof tid !== 'string' || !GUID.test(tid)) {
    throw new IdTokenError(
      'MISSING_CLAIM',
      'The ID token has no tenant id (tid)',
    );
  }
  // The issuer always carries the real tenant id; a tid that differs is forged or mixed up.
  const issTenant =
    typeof payload.iss === 'string'
      ? /\/([0-9a-f-]{36})\/v2\.0$/i.exec(payload.iss)?.[1]
      : undefined;
  if (issTenant && issTenant.toLowerCase() !== tid.toLowerCase()) {
    throw new IdTokenError(
      'TENANT_MISMATCH',
      `The ID token's tid ${tid} does not match its issuer ${String(
        payload.iss,
      )}`,
    );
  }
  const expectedIssuer = expect.issuer.replace('{tenantid}', tid);
  if (payload.iss !== expectedIssuer) {
    throw new IdTokenError(
      'WRONG_ISSUER',
      `The ID token is from ${String(payload.iss)}, expected ${expectedIssuer}`,
    );
  }
  if (expect.issuer.includes('{tenantid}') && expect.allowedTenants?.length) {
    if (
      !expect.allowedTenants
        .map(t => t.toLowerCase())
        .includes(tid.toLowerCase())
    ) {
      throw new IdTokenError(
        'TENANT_NOT_ALLOWED',
        `Tenant ${tid} is not in allowedTenants`,
      );
    }
  }
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!aud.includes(expect.clientId)) {
    throw new IdTokenError(
      'WRONG_AUDIENCE',
      `The ID token is for ${aud.join(', ')}, not this app (${
        expect.clientId
      })`,
    );
  }
  if (aud.length > 1 && payload.azp !== expect.clientId) {
    throw new IdTokenError(
      'WRONG_AUDIENCE',
      `The ID token has several audiences and azp ${String(
        payload.azp,
      )} is not this app`,
    );
  }
  if (typeof payload.iat !== 'number') {
    throw new IdTokenError('MISSING_CLAIM', 'The ID token has no iat');
  }
  if (payload.iat > now.getTime() / 1000 + expect.clockToleranceSeconds) {
    throw new IdTokenError(
      'ISSUED_IN_FUTURE',
      'The ID token was issued in the future (iat)',
    );
  }
  if (expect.nonce !== undefined && payload.nonce !== expect.nonce) {
    throw new IdTokenError(
      'NONCE_MISMATCH',
      'The ID token nonce does not match this sign-in',
    );
  }
  if (typeof payload.oid !== 'string' || !payload.oid) {
    throw new IdTokenError(
      'MISSING_CLAIM',
      'The ID token has no object id (oid)',
    );
  }
  return payload as unknown as EntraClaims;
}
