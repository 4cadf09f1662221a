import {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  Entity,
  RELATION_CHILD_OF,
  RELATION_MEMBER_OF,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { decodeJwt, decodeProtectedHeader } from 'jose';

export const GROUP_ID_ANNOTATION = 'graph.microsoft.com/group-id';
export const USER_ID_ANNOTATION = 'graph.microsoft.com/user-id';

/** Who a user is, for the policy: catalog groups through nesting, Entra ids, app roles. */
export interface UserIdentity {
  userEntityRef: string;
  /** The user's Entra object id (token `entra_oid`, or the catalog annotation). */
  entraOid?: string;
  /** Every group the user is in, directly or through nesting (lower-case refs). */
  groupRefs: string[];
  /** The Entra object ids of those groups (`graph.microsoft.com/group-id`). */
  entraGroupIds: string[];
  /** Entra group object id to the catalog group that carries it today. */
  groupRefById: Record<string, string>;
  /** App roles from the token's `roles` claim (`entra_roles`). */
  appRoles: string[];
  /**
   * The ownership claims for `owner` conditions: the user and their groups (past 20 refs,
   * only the groups that own something in the catalog: see {@link CatalogOwnerIndex}).
   */
  ownershipClaims: string[];
}

/** The catalog's answer for one user: direct groups and their ancestors. */
export interface Membership {
  entraOid?: string;
  groupRefs: string[];
  entraGroupIds: string[];
  /** Entra group object id to the catalog group that carries it today. */
  groupRefById: Record<string, string>;
}

const FIELDS = [
  'kind',
  'metadata.name',
  'metadata.namespace',
  'metadata.annotations',
  'relations',
];

/** Lower-case entity ref, the form relations and the policy compare in. */
export const normalizeRef = (e: Entity) => stringifyEntityRef(e).toLowerCase();

const targets = (e: Entity, type: string) =>
  (e.relations ?? [])
    .filter(r => r.type === type)
    .map(r => r.targetRef.toLowerCase());

/**
 * Resolves a user's groups from the catalog: `memberOf`, then `childOf` of each group, up to
 * the top (any depth; cycles are cut). One catalog request per nesting level. Answers are
 * cached per user for a short time, and concurrent asks share one lookup, so a batch of 100
 * decisions reads the catalog once.
 */
export class CatalogMembershipResolver {
  private readonly cache = new Map<
    string,
    { expires: number; value: Promise<Membership> }
  >();

  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
    private ttlMs: number,
  ) {}

  setTtl(ms: number) {
    this.ttlMs = ms;
  }

  /** Forgets everything (after a policy reload, say). */
  clear() {
    this.cache.clear();
  }

  async resolve(
    userEntityRef: string,
    extraGroupRefs: string[] = [],
  ): Promise<Membership> {
    const key = `${userEntityRef}|${[...extraGroupRefs].sort().join(',')}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = this.lookup(userEntityRef, extraGroupRefs);
    this.cache.set(key, { expires: now + this.ttlMs, value });
    value.catch(() => this.cache.delete(key));
    if (this.cache.size > 10_000) {
      for (const [k, v] of this.cache)
        if (v.expires <= now) this.cache.delete(k);
    }
    return value;
  }

  private async lookup(
    userEntityRef: string,
    extraGroupRefs: string[],
  ): Promise<Membership> {
    const credentials = await this.auth.getOwnServiceCredentials();
    const { items: users } = await this.catalog.getEntitiesByRefs(
      { entityRefs: [userEntityRef], fields: FIELDS },
      { credentials },
    );
    const user = users[0];
    const groupRefs = new Set<string>();
    const entraGroupIds = new Set<string>();
    const groupRefById: Record<string, string> = {};
    let frontier = [
      ...new Set([
        ...(user ? targets(user, RELATION_MEMBER_OF) : []),
        ...extraGroupRefs
          .map(r => r.toLowerCase())
          .filter(r => r.startsWith('group:')),
      ]),
    ];
    while (frontier.length) {
      frontier.forEach(r => groupRefs.add(r));
      const { items } = await this.catalog.getEntitiesByRefs(
        { entityRefs: frontier, fields: FIELDS },
        { credentials },
      );
      const next = new Set<string>();
      for (const group of items) {
        if (!group) continue;
        const id = group.metadata.annotations?.[GROUP_ID_ANNOTATION];
        if (id) {
          entraGroupIds.add(id.toLowerCase());
          groupRefById[id.toLowerCase()] = normalizeRef(group);
        }
        for (const parent of targets(group, RELATION_CHILD_OF)) {
          if (!groupRefs.has(parent)) next.add(parent);
        }
      }
      frontier = [...next];
    }
    const oid = user?.metadata.annotations?.[USER_ID_ANNOTATION];
    return {
      ...(oid ? { entraOid: oid.toLowerCase() } : {}),
      groupRefs: [...groupRefs].sort(),
      entraGroupIds: [...entraGroupIds].sort(),
      groupRefById,
    };
  }
}

/** The Entra claims the sign-in module puts in the Backstage token. */
export interface EntraClaims {
  entraOid?: string;
  appRoles: string[];
}

function claimsFrom(payload: Record<string, unknown>): EntraClaims | undefined {
  const roles = payload.entra_roles;
  const oid = payload.entra_oid;
  if (roles === undefined && oid === undefined) return undefined;
  return {
    ...(typeof oid === 'string' ? { entraOid: oid.toLowerCase() } : {}),
    appRoles: Array.isArray(roles)
      ? roles.filter((r): r is string => typeof r === 'string')
      : [],
  };
}

/**
 * Reads `entra_roles` and `entra_oid` for the user behind a request. The permission backend
 * hands the policy the request's credentials, which carry the verified Backstage token (the
 * field Backstage's own user-info service reads). A full user token holds the claims; the
 * limited token other plugins forward does not, and then the auth backend's `/v1/userinfo`
 * (the claims of the user's last sign-in) answers, cached for a short time.
 */
export class EntraClaimsReader {
  private readonly cache = new Map<
    string,
    { expires: number; value: Promise<EntraClaims> }
  >();
  /** The app roles last seen per user, for explanations about someone else. */
  private readonly lastSeen = new Map<string, string[]>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly logger: LoggerService,
    private readonly ttlMs: number,
  ) {}

  lastSeenAppRoles(userEntityRef: string): string[] | undefined {
    return this.lastSeen.get(userEntityRef.toLowerCase());
  }

  /** Every user whose app roles this process has seen, with them. */
  allLastSeen(): Map<string, string[]> {
    return new Map(this.lastSeen);
  }

  async read(
    credentials: BackstageCredentials,
    userEntityRef: string,
  ): Promise<EntraClaims> {
    const token = (credentials as { token?: unknown }).token;
    const userRef = userEntityRef.toLowerCase();
    // No token (or not a JWT): credentials made in-process, e.g. by tests; no app roles.
    if (typeof token !== 'string' || token.split('.').length !== 3) {
      return { appRoles: [] };
    }
    let claims: EntraClaims | undefined;
    try {
      claims = claimsFrom(decodeJwt(token));
      if (!claims) {
        const typ = decodeProtectedHeader(token).typ;
        // Only a limited token lacks them legitimately; a full token without them is a
        // sign-in that did not go through Entra (no app roles).
        if (typ === 'vnd.backstage.limited-user') {
          claims = await this.fromUserInfo(userRef, token);
        }
      }
    } catch (e) {
      this.logger.warn(
        `Could not read the Entra claims of ${userRef}; no app roles: ${e}`,
      );
    }
    const result = claims ?? { appRoles: [] };
    this.lastSeen.set(userRef, result.appRoles);
    return result;
  }

  private fromUserInfo(userRef: string, token: string) {
    const now = Date.now();
    const hit = this.cache.get(userRef);
    if (hit && hit.expires > now) return hit.value;
    const value = (async () => {
      const base = await this.discovery.getBaseUrl('auth');
      const res = await fetch(`${base}/v1/userinfo`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!res.ok) throw new Error(`userinfo answered ${res.status}`);
      const body = (await res.json()) as { claims?: Record<string, unknown> };
      return claimsFrom(body.claims ?? {}) ?? { appRoles: [] };
    })();
    this.cache.set(userRef, { expires: now + this.ttlMs, value });
    value.catch(() => this.cache.delete(userRef));
    return value;
  }
}

/**
 * The refs that own at least one entity (the catalog's `relations.ownedBy` facet), cached
 * for a short time and shared by all users. For users in many groups, ownership conditions
 * name only their groups found here: a user in 300 groups of which 5 own something sends 6
 * claims, not 301, and a batch of 100 conditional decisions stays under the 100 kB body the
 * catalog's apply-conditions endpoint accepts. A group that becomes an owner is seen within
 * the TTL; until then its members are refused, never wrongly allowed.
 */
export class CatalogOwnerIndex {
  private cached?: { expires: number; value: Promise<Set<string>> };

  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
    private ttlMs: number,
  ) {}

  setTtl(ms: number) {
    this.ttlMs = ms;
  }

  clear() {
    this.cached = undefined;
  }

  owners(): Promise<Set<string>> {
    const now = Date.now();
    if (this.cached && this.cached.expires > now) return this.cached.value;
    const value = (async () => {
      const credentials = await this.auth.getOwnServiceCredentials();
      const { facets } = await this.catalog.getEntityFacets(
        { facets: ['relations.ownedBy'] },
        { credentials },
      );
      return new Set(
        (facets['relations.ownedBy'] ?? []).map(f => f.value.toLowerCase()),
      );
    })();
    this.cached = { expires: now + this.ttlMs, value };
    value.then(
      owners => {
        // An empty catalog is most likely one still loading: ask again soon.
        if (!owners.size && this.cached?.value === value) {
          this.cached.expires = Math.min(this.cached.expires, now + 2000);
        }
      },
      () => {
        if (this.cached?.value === value) this.cached = undefined;
      },
    );
    return value;
  }
}
