import { randomBytes } from 'node:crypto';
import {
  decodeProtectedHeader,
  importJWK,
  JWK,
  jwtVerify,
  JWTPayload,
} from 'jose';
import {
  AZURE_DEVOPS_RESOURCE,
  Emulator,
  GRAPH_APP_ID,
  GRAPH_RESOURCE,
} from './Emulator';
import { TenantStore } from './tenant/TenantStore';
import { EmulatedApplication, EmulatedUser } from './tenant/types';

/** The most group ids Entra puts in a JWT before switching to the overage indicator. */
export const GROUPS_CLAIM_LIMIT = 200;

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** What a requested scope string asks for: OIDC scopes and one resource's permissions. */
export interface ScopeRequest {
  oidc: string[];
  /** `graph`, `devops`, or an app id of the tenant (own API). */
  resource: string;
  /** Permission names on that resource (`User.Read`, `.default`, ...). */
  permissions: string[];
  /**
   * The access token's `aud`: the resource as it was named. Entra gives Graph tokens
   * `00000003-0000-0000-c000-000000000000` for short scopes (`User.Read`), and
   * `https://graph.microsoft.com` when the scope names that URI.
   */
  audience: string;
}

/** Splits a scope parameter into OIDC scopes and one resource; an error names the resources when there are several or an unknown one. */
export function parseScopes(
  scope: string,
  tenant: TenantStore,
): ScopeRequest | { error: string } {
  const parts = scope.split(/\s+/).filter(Boolean);
  const oidc = parts.filter(p => OIDC_SCOPES.has(p));
  const rest = parts.filter(p => !OIDC_SCOPES.has(p));
  const resources = new Map<string, string[]>();
  const named = new Map<string, string>();
  for (const p of rest) {
    let resource: string;
    let permission: string;
    const slash = p.lastIndexOf('/');
    if (slash < 0) {
      resource = 'graph';
      permission = p;
    } else {
      const r = p.slice(0, slash).replace(/\/$/, '');
      permission = p.slice(slash + 1);
      if (r === GRAPH_RESOURCE || r === GRAPH_APP_ID) {
        resource = 'graph';
        named.set(resource, r);
      } else if (
        r === AZURE_DEVOPS_RESOURCE ||
        r === `api://${AZURE_DEVOPS_RESOURCE}`
      )
        resource = 'devops';
      else {
        const appId = r.replace(/^api:\/\//, '');
        if (!tenant.getApplication(appId)) return { error: r };
        resource = appId;
      }
    }
    resources.set(resource, [...(resources.get(resource) ?? []), permission]);
  }
  if (resources.size > 1) return { error: [...resources.keys()].join(', ') };
  const [resource, permissions] = [...resources][0] ?? ['graph', []];
  return {
    oidc,
    resource,
    permissions,
    audience: named.get(resource) ?? audienceFor(resource),
  };
}

export function audienceFor(resource: string): string {
  if (resource === 'graph') return GRAPH_APP_ID;
  if (resource === 'devops') return AZURE_DEVOPS_RESOURCE;
  return resource;
}

/** Group ids for the `groups` claim under the app's `groupMembershipClaims` setting. */
export function groupsForClaim(
  tenant: TenantStore,
  app: EmulatedApplication,
  userId: string,
): string[] | undefined {
  switch (app.groupMembershipClaims) {
    case 'None':
      return undefined;
    case 'All':
      return tenant.transitiveMemberOf(userId).map(g => g.id);
    case 'SecurityGroup':
      return tenant
        .transitiveMemberOf(userId)
        .filter(g => g.securityEnabled)
        .map(g => g.id);
    case 'ApplicationGroup': {
      const assigned = new Set(app.appRoleAssignments.map(a => a.principalId));
      return tenant
        .transitiveMemberOf(userId)
        .filter(g => assigned.has(g.id))
        .map(g => g.id);
    }
    default:
      return undefined;
  }
}

/**
 * App roles of a user for an app: assigned to the user or to a group the user is a direct
 * member of (Entra does not pass app roles down nested groups).
 */
export function rolesFor(
  tenant: TenantStore,
  app: EmulatedApplication,
  userId: string,
): string[] {
  const principals = new Set([
    userId,
    ...tenant.directMemberOf(userId).map(g => g.id),
  ]);
  const roleIds = new Set(
    app.appRoleAssignments
      .filter(a => principals.has(a.principalId))
      .map(a => a.appRoleId),
  );
  return app.appRoles.filter(r => roleIds.has(r.id)).map(r => r.value);
}

export function isAssigned(
  tenant: TenantStore,
  app: EmulatedApplication,
  userId: string,
): boolean {
  const principals = new Set([
    userId,
    ...tenant.directMemberOf(userId).map(g => g.id),
  ]);
  return app.appRoleAssignments.some(a => principals.has(a.principalId));
}

/** An ID token shaped like Entra's v2.0 ID tokens. */
export async function createIdToken(
  emulator: Emulator,
  tenant: TenantStore,
  app: EmulatedApplication,
  user: EmulatedUser,
  scopes: string[],
  nonce?: string,
): Promise<string> {
  const now = emulator.nowSeconds();
  const claims: JWTPayload & Record<string, unknown> = {
    aud: app.appId,
    iss: emulator.issuer(tenant.id),
    iat: now,
    nbf: now,
    exp: now + emulator.tokenLifetimeSeconds,
    sub: emulator.pairwiseSubject(user, app.appId),
    tid: tenant.id,
    uti: randomBytes(16).toString('base64url'),
    ver: '2.0',
  };
  // Entra sends `name`, `preferred_username` and `oid` only with the `profile` scope.
  if (scopes.includes('profile')) {
    claims.name = user.displayName;
    claims.oid = user.id;
    claims.preferred_username = user.userPrincipalName;
  }
  if (nonce) claims.nonce = nonce;
  // `email` comes with the `email` scope, and by default for guests that have one.
  if ((scopes.includes('email') || user.userType === 'Guest') && user.mail) {
    claims.email = user.mail;
    claims.xms_edov = user.emailVerified;
  }
  const groups = groupsForClaim(tenant, app, user.id);
  if (groups) {
    if (groups.length > GROUPS_CLAIM_LIMIT) {
      claims._claim_names = { groups: 'src1' };
      claims._claim_sources = {
        src1: {
          endpoint: `${emulator.graphBaseUrl}/users/${user.id}/getMemberObjects`,
        },
      };
    } else {
      claims.groups = groups;
    }
  }
  const roles = rolesFor(tenant, app, user.id);
  if (roles.length) claims.roles = roles;
  return emulator.keys.sign(claims);
}

/** An access token for a resource: Graph and Azure DevOps get v1.0-shaped tokens, as they do. */
export async function createAccessToken(
  emulator: Emulator,
  tenant: TenantStore,
  app: EmulatedApplication,
  resource: string,
  grant: {
    user?: EmulatedUser;
    scp?: string[];
    roles?: string[];
    /** The `aud` to give, when the resource was named in a particular form. */
    audience?: string;
  },
): Promise<{ token: string; expiresIn: number }> {
  const now = emulator.nowSeconds();
  const expiresIn = emulator.tokenLifetimeSeconds;
  const v1 = resource === 'graph' || resource === 'devops';
  const claims: JWTPayload & Record<string, unknown> = {
    aud: grant.audience ?? audienceFor(resource),
    iss: v1 ? `${emulator.baseUrl}/${tenant.id}/` : emulator.issuer(tenant.id),
    iat: now,
    nbf: now,
    exp: now + expiresIn,
    tid: tenant.id,
    uti: randomBytes(16).toString('base64url'),
    ver: v1 ? '1.0' : '2.0',
    idtyp: grant.user ? 'user' : 'app',
    [v1 ? 'appid' : 'azp']: app.appId,
  };
  if (grant.user) {
    claims.oid = grant.user.id;
    claims.sub = emulator.pairwiseSubject(grant.user, app.appId);
    claims.upn = grant.user.userPrincipalName;
    claims.name = grant.user.displayName;
    claims.scp = (grant.scp ?? []).join(' ');
  } else {
    claims.oid = app.id;
    claims.sub = app.id;
    claims.roles = grant.roles ?? [];
  }
  return { token: await emulator.keys.sign(claims), expiresIn };
}

/** Why a bearer token was refused, in Graph's words. */
export class BearerTokenError extends Error {
  constructor(readonly graphCode: string, message: string) {
    super(message);
  }
}

/** Verifies a bearer token the emulator issued for `audiences`; throws BearerTokenError. */

/** Public keys imported once per signing key (importing a JWK on every Graph call showed in profiles). */
const importedKeys = new WeakMap<JWK, ReturnType<typeof importJWK>>();
function verificationKey(jwk: JWK) {
  let key = importedKeys.get(jwk);
  if (!key) {
    key = importJWK(jwk, 'RS256');
    importedKeys.set(jwk, key);
  }
  return key;
}

/**
 * Tokens whose signature verified, with the key that verified them: a sync sends thousands of
 * requests with one token, and an RSA verification per request was ~6% of the emulator's
 * busy time in profiles. The oldest goes first past the limit.
 */
const verifiedTokens = new Map<string, { jwk: JWK; payload: JWTPayload }>();
const VERIFIED_TOKENS_KEPT = 1000;

export async function verifyBearer(
  emulator: Emulator,
  header: string | undefined,
  audiences: string[],
): Promise<JWTPayload & Record<string, any>> {
  if (!header)
    throw new BearerTokenError(
      'InvalidAuthenticationToken',
      'Access token is empty.',
    );
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m)
    throw new BearerTokenError(
      'InvalidAuthenticationToken',
      'Access token is empty.',
    );
  const token = m[1].trim();
  let kid: string | undefined;
  try {
    const h = decodeProtectedHeader(token);
    kid = h.kid;
    if (h.alg !== 'RS256') throw new Error('alg');
  } catch {
    throw new BearerTokenError(
      'InvalidAuthenticationToken',
      'IDX14100: JWT is not well formed.',
    );
  }
  const jwk = kid ? emulator.keys.publicJwk(kid) : undefined;
  if (!jwk)
    throw new BearerTokenError(
      'InvalidAuthenticationToken',
      'Access token validation failure. Invalid audience or signature.',
    );
  try {
    let payload: JWTPayload;
    const known = verifiedTokens.get(token);
    if (known && known.jwk === jwk) {
      // The signature was checked with this key before; the times are checked again, as the
      // clock may have moved.
      payload = known.payload;
      const now = Math.floor(emulator.clock.now().getTime() / 1000);
      if (typeof payload.exp === 'number' && payload.exp <= now - 300)
        throw Object.assign(new Error('expired'), { code: 'ERR_JWT_EXPIRED' });
      if (typeof payload.nbf === 'number' && payload.nbf > now + 300)
        throw new Error('not yet valid');
    } else {
      ({ payload } = await jwtVerify(token, await verificationKey(jwk), {
        currentDate: emulator.clock.now(),
        algorithms: ['RS256'],
        clockTolerance: 300,
      }));
      if (verifiedTokens.size >= VERIFIED_TOKENS_KEPT)
        verifiedTokens.delete(verifiedTokens.keys().next().value!);
      verifiedTokens.set(token, { jwk, payload });
    }
    if (!audiences.includes(String(payload.aud))) {
      throw new BearerTokenError(
        'InvalidAuthenticationToken',
        'Access token validation failure. Invalid audience.',
      );
    }
    return payload as JWTPayload & Record<string, any>;
  } catch (e) {
    if (e instanceof BearerTokenError) throw e;
    if ((e as { code?: string }).code === 'ERR_JWT_EXPIRED') {
      throw new BearerTokenError(
        'InvalidAuthenticationToken',
        'Lifetime validation failed, the token is expired.',
      );
    }
    throw new BearerTokenError(
      'InvalidAuthenticationToken',
      'Access token validation failure. Invalid audience or signature.',
    );
  }
}
