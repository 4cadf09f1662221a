import { randomUUID } from 'node:crypto';
import { Emulator, GRAPH_APP_ID, GRAPH_RESOURCE } from '../Emulator';
import { resourceUnitCost } from '../faults';
import { BearerTokenError, verifyBearer } from '../tokens';
import { stableGuid } from '../tenant/loadTenants';
import { TenantStore } from '../tenant/TenantStore';
import { EmulatedGroup, EmulatedUser } from '../tenant/types';
import { FilterError, FilterNode, matches, parseFilter } from './filter';

/** A Graph request, transport-free, so `$batch` can run inner requests through the same code. */
export interface GraphRequest {
  method: string;
  /** Path below `/v1.0`, e.g. `/users/delta`. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body?: unknown;
}

export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extraHeaders: Record<string, string> = {},
  ) {
    super(message);
  }
}

const USER_PROPS = [
  'id',
  'displayName',
  'userPrincipalName',
  'mail',
  'mailNickname',
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'accountEnabled',
  'userType',
  'businessPhones',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
];
/** The properties Graph returns for a user when there is no `$select`. */
const USER_DEFAULT = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const GROUP_FIELDS = [
  'id',
  'displayName',
  'description',
  'mail',
  'mailNickname',
  'mailEnabled',
  'securityEnabled',
  'groupTypes',
];
/** Group properties a delta query may select: `members` is the relationship tracked with `members@delta`. */
const GROUP_DELTA_PROPS = [...GROUP_FIELDS, 'members'];
const ORGANIZATION_FIELDS = [
  'id',
  'displayName',
  'tenantType',
  'verifiedDomains',
];
const APP_ROLE_ASSIGNMENT_FIELDS = [
  'id',
  'deletedDateTime',
  'appRoleId',
  'createdDateTime',
  'principalDisplayName',
  'principalId',
  'principalType',
  'resourceDisplayName',
  'resourceId',
];
/** The sizes of `/photos/{size}`, as Graph lists them. */
const PHOTO_SIZES = [
  '48x48',
  '64x64',
  '96x96',
  '120x120',
  '240x240',
  '360x360',
  '432x432',
  '504x504',
  '648x648',
];

/**
 * The object id of an app's service principal in a tenant. The emulator keeps no service
 * principal objects, so the id is derived, stable for the tenant and the app.
 */
export function servicePrincipalId(t: TenantStore, appId: string): string {
  return stableGuid(t.id, 'servicePrincipal', appId);
}

const MEMBER_PROPS = [...new Set([...USER_PROPS, ...GROUP_FIELDS])];
const KNOWN_QUERY = new Set([
  '$select',
  '$top',
  '$filter',
  '$skiptoken',
  '$deltatoken',
  '$count',
  '$orderby',
]);
/** Largest page Graph serves for directory objects. */
const MAX_PAGE = 999;
const DEFAULT_PAGE = 100;
const MAX_BATCH = 20;

const PERMISSIONS = {
  users: {
    app: [
      'User.Read.All',
      'User.ReadWrite.All',
      'Directory.Read.All',
      'Directory.ReadWrite.All',
    ],
    delegated: [
      'User.ReadBasic.All',
      'User.Read.All',
      'User.ReadWrite.All',
      'Directory.Read.All',
    ],
  },
  groups: {
    app: [
      'Group.Read.All',
      'GroupMember.Read.All',
      'Directory.Read.All',
      'Group.ReadWrite.All',
    ],
    delegated: ['Group.Read.All', 'GroupMember.Read.All', 'Directory.Read.All'],
  },
  memberOf: {
    app: ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'],
    delegated: ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'],
  },
  organization: {
    app: ['Organization.Read.All', 'Directory.Read.All'],
    delegated: ['User.Read', 'Organization.Read.All', 'Directory.Read.All'],
  },
  appRoleAssignments: {
    app: [
      'Application.Read.All',
      'Application.ReadWrite.All',
      'AppRoleAssignment.ReadWrite.All',
      'Directory.Read.All',
    ],
    delegated: [
      'Application.Read.All',
      'Application.ReadWrite.All',
      'AppRoleAssignment.ReadWrite.All',
      'Directory.Read.All',
    ],
  },
  applications: {
    app: [
      'Application.Read.All',
      'Application.ReadWrite.All',
      'Directory.Read.All',
    ],
    delegated: ['Application.Read.All', 'Directory.Read.All'],
  },
} as const;

type Caller = {
  tenant: TenantStore;
  appId: string;
  userId?: string;
  permissions: Set<string>;
};

function encodeToken(obj: object): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}
function decodeToken<T>(text: string): T | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null
      ? (value as T)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A query string as Graph writes it in its links: `$skiptoken=...`, with the `$` of system
 * query options left as is and values percent-encoded.
 */
function formatQuery(params: Iterable<[string, string]>): string {
  return [...params]
    .map(([k, v]) => {
      const key = k.startsWith('$')
        ? `$${encodeURIComponent(k.slice(1))}`
        : encodeURIComponent(k);
      return `${key}=${encodeURIComponent(v)}`;
    })
    .join('&');
}

/** Ordinal comparison (object ids are lowercase GUIDs): the order delta and paging rely on. */
function compareIds(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** The first index whose id is greater than (or, with `inclusive`, equal to) `id`. */
function searchAfter<T>(
  items: T[],
  idOf: (item: T) => string,
  id: string,
  inclusive: boolean,
): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = compareIds(idOf(items[mid]), id);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface DeltaCursor {
  r: 'users' | 'groups';
  /** changes after this version */
  s: number;
  /** the version at the start of the round: the deltaLink asks for changes after it */
  v: number;
  /** the id of the last object fully sent in this round (entries are in id order) */
  a?: string;
  /** a group whose `members@delta` goes on on the next page, and the last member id sent */
  g?: string;
  m?: string;
  sel?: string;
  /** a scoping `$filter` (by object id only) */
  f?: string;
  /** emulator instance and issue time: a token from another instance, or older than 7 days, is gone */
  e: string;
  t: number;
}

type DeltaEntry =
  | { kind: 'user'; id: string; user: EmulatedUser }
  | { kind: 'removed'; id: string; type: 'user' | 'group' }
  | {
      kind: 'group';
      id: string;
      group: EmulatedGroup;
      added: string[];
      removed: string[];
    };

type MemberRef = {
  '@odata.type': string;
  id: string;
  '@removed'?: { reason: string };
};

const DELTA_TOKEN_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** How a collection is listed: its OData context, properties, defaults and whether it filters. */
interface ListShape {
  context: string;
  typeName: string;
  known: string[];
  defaults: string[];
  filterable?: boolean;
}

const USERS: ListShape = {
  context: 'users',
  typeName: 'user',
  known: USER_PROPS,
  defaults: USER_DEFAULT,
  filterable: true,
};
const GROUPS: ListShape = {
  context: 'groups',
  typeName: 'group',
  known: GROUP_FIELDS,
  defaults: GROUP_FIELDS,
  filterable: true,
};
const MEMBER_GROUPS: ListShape = {
  context: 'directoryObjects',
  typeName: 'directoryObject',
  known: GROUP_FIELDS,
  defaults: GROUP_FIELDS,
};
const MEMBERS: ListShape = {
  context: 'directoryObjects',
  typeName: 'directoryObject',
  known: MEMBER_PROPS,
  defaults: MEMBER_PROPS,
};

/** Microsoft Graph v1.0 directory reads, with Graph's permissions, paging, limits and throttling. */
export class GraphService {
  private readonly epoch = randomUUID();
  private readonly deltaCache = new Map<string, DeltaEntry[]>();
  /** Users and groups as list rows, in id order, per tenant version (see `rows`). */
  private readonly rowCache = new Map<string, Record<string, unknown>[]>();

  constructor(private readonly emulator: Emulator) {}

  /** Handles one request, throttling and accounting included. */
  async handle(req: GraphRequest, inBatch = false): Promise<GraphResponse> {
    const route = routeTemplate(req.method, req.path);
    const requestId = randomUUID();
    const clientRequestId = req.headers['client-request-id'] ?? requestId;
    const base = {
      'request-id': requestId,
      'client-request-id': clientRequestId,
    };
    let ru = 0;
    let usage: Record<string, string> = {};
    try {
      const caller = await this.authenticate(req);
      if (route === 'POST /$batch') {
        if (inBatch)
          throw new GraphError(
            400,
            'BadRequest',
            'A batch request cannot contain another batch request.',
          );
        const res = await this.batch(req);
        res.headers = { ...base, ...res.headers };
        this.emulator.faults.count(route, res.status, 0);
        return res;
      }
      const injected = this.emulator.faults.injectedError(route);
      if (injected) {
        throw new GraphError(
          injected.status,
          injected.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable',
          injected.status === 429
            ? 'Too many requests. Please retry after the time in the Retry-After header.'
            : 'The service is temporarily unavailable.',
          { 'Retry-After': String(injected.retryAfter) },
        );
      }
      ru = resourceUnitCost(route, req.query);
      const charged = this.emulator.faults.charge(
        `${caller.tenant.id}:${caller.appId}`,
        ru,
        caller.tenant.userCount,
        this.emulator.clock.now().getTime(),
      );
      if (!charged.ok) {
        ru = 0;
        throw new GraphError(
          429,
          'TooManyRequests',
          'Too many requests. The application exceeded its resource unit budget for this tenant.',
          {
            'Retry-After': String(charged.retryAfter),
            'x-ms-throttle-scope': `Tenant_Application/ReadWrite/${caller.appId}/${caller.tenant.id}`,
            'x-ms-throttle-information': 'ResourceUnitLimitExceeded',
          },
        );
      }
      usage = { 'x-ms-resource-unit': String(ru) };
      if (charged.usedShare > 0.8) {
        usage['x-ms-throttle-limit-percentage'] = charged.usedShare.toFixed(2);
      }
      const res = await this.dispatch(route, req, caller);
      res.headers = { ...base, ...usage, ...res.headers };
      this.emulator.faults.count(route, res.status, ru);
      return res;
    } catch (e) {
      const err = this.asGraphError(e);
      if (err.status === 500) console.error(e);
      this.emulator.faults.count(route, err.status, ru);
      const res = this.errorResponse(
        err.status,
        err.code,
        err.message,
        clientRequestId,
        requestId,
      );
      res.headers = { ...res.headers, ...usage, ...err.extraHeaders };
      return res;
    }
  }

  private asGraphError(e: unknown): GraphError {
    if (e instanceof GraphError) return e;
    if (e instanceof BearerTokenError) {
      return new GraphError(401, e.graphCode, e.message, {
        'WWW-Authenticate': `Bearer realm="", authorization_uri="${this.emulator.baseUrl}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
      });
    }
    if (e instanceof FilterError) {
      return new GraphError(400, 'Request_UnsupportedQuery', e.message);
    }
    return new GraphError(
      500,
      'generalException',
      'An internal error occurred.',
    );
  }

  /** An error in Graph's shape: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
  errorResponse(
    status: number,
    code: string,
    message: string,
    clientRequestId?: string,
    requestId: string = randomUUID(),
  ): GraphResponse {
    const clientId = clientRequestId ?? requestId;
    return {
      status,
      headers: { 'request-id': requestId, 'client-request-id': clientId },
      body: {
        error: {
          code,
          message,
          innerError: {
            date: this.emulator.clock
              .now()
              .toISOString()
              .replace(/\.\d+Z$/, ''),
            'request-id': requestId,
            'client-request-id': clientId,
          },
        },
      },
    };
  }

  private async authenticate(req: GraphRequest): Promise<Caller> {
    const payload = await verifyBearer(
      this.emulator,
      req.headers.authorization,
      [GRAPH_RESOURCE, GRAPH_APP_ID, `${GRAPH_RESOURCE}/`],
    );
    const tenant = this.emulator.tenants.get(String(payload.tid));
    if (!tenant) {
      throw new GraphError(
        401,
        'InvalidAuthenticationToken',
        'Access token validation failure. Invalid tenant.',
      );
    }
    const delegated = payload.idtyp === 'user';
    return {
      tenant,
      appId: String(payload.appid ?? payload.azp),
      userId: delegated ? String(payload.oid) : undefined,
      permissions: new Set(
        delegated
          ? String(payload.scp ?? '').split(' ')
          : (payload.roles as string[]) ?? [],
      ),
    };
  }

  private require(caller: Caller, kind: keyof typeof PERMISSIONS): void {
    const allowed: readonly string[] = caller.userId
      ? PERMISSIONS[kind].delegated
      : PERMISSIONS[kind].app;
    if (!allowed.some(p => caller.permissions.has(p))) {
      throw new GraphError(
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
    }
  }

  private async dispatch(
    route: string,
    req: GraphRequest,
    caller: Caller,
  ): Promise<GraphResponse> {
    for (const key of req.query.keys()) {
      if (key === '$expand') {
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          'The emulator does not support $expand (Graph returns at most 20 expanded objects, without a next link); read members with /members.',
        );
      }
      if (key.startsWith('$') && !KNOWN_QUERY.has(key)) {
        throw new GraphError(
          400,
          'BadRequest',
          `Query option '${key}' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.`,
        );
      }
    }
    const t = caller.tenant;
    let parts: string[];
    try {
      parts = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new GraphError(
        400,
        'BadRequest',
        `The request URI '${req.path}' is not valid.`,
      );
    }
    const me = () => {
      if (!caller.userId) {
        throw new GraphError(
          400,
          'BadRequest',
          '/me request is only valid with delegated authentication flow.',
        );
      }
      return this.user(t, caller.userId);
    };
    switch (route) {
      case 'GET /me':
        return this.one(this.userJson(me(), req.query), 'users/$entity');
      case 'GET /me/photo/$value':
      case 'GET /me/photos/{size}/$value': {
        // A user without a photo gets 404 ImageNotFound, at any size.
        const user = me();
        if (parts[1] === 'photos') this.photoSize(parts[2]);
        if (!user.photo) throw this.noImage();
        return {
          status: 200,
          headers: { 'content-type': user.photo.contentType },
          body: Buffer.from(user.photo.data, 'base64'),
        };
      }
      case 'GET /me/memberOf':
        this.require(caller, 'memberOf');
        return this.list(
          req,
          t.directMemberOf(me().id).map(g => this.groupJson(g, true)),
          MEMBER_GROUPS,
        );
      case 'GET /me/transitiveMemberOf':
        this.require(caller, 'memberOf');
        return this.list(
          req,
          t.transitiveMemberOf(me().id).map(g => this.groupJson(g, true)),
          MEMBER_GROUPS,
        );
      case 'GET /users':
        this.require(caller, 'users');
        return this.list(
          req,
          this.rows(t, 'users', () => t.listUsers().map(u => this.userData(u))),
          USERS,
          true,
        );
      case 'GET /users/delta':
        this.require(caller, 'users');
        return this.delta(req, t, 'users');
      case 'GET /users/{id}': {
        // An app needs the permission even to learn that a user does not exist; a signed-in user may read themselves.
        if (!caller.userId) this.require(caller, 'users');
        const user = this.user(t, parts[1]);
        if (caller.userId && caller.userId !== user.id)
          this.require(caller, 'users');
        return this.one(this.userJson(user, req.query), 'users/$entity');
      }
      case 'GET /users/{id}/photo/$value':
      case 'GET /users/{id}/photos/{size}/$value': {
        // Graph's photo reads need a user-read permission, as the user itself does.
        this.require(caller, 'users');
        const user = this.user(t, parts[1]);
        if (parts[2] === 'photos') this.photoSize(parts[3]);
        if (!user.photo) throw this.noImage();
        return {
          status: 200,
          headers: { 'content-type': user.photo.contentType },
          body: Buffer.from(user.photo.data, 'base64'),
        };
      }
      case 'GET /users/{id}/memberOf':
        this.require(caller, 'memberOf');
        return this.list(
          req,
          t
            .directMemberOf(this.user(t, parts[1]).id)
            .map(g => this.groupJson(g, true)),
          MEMBER_GROUPS,
        );
      case 'GET /users/{id}/transitiveMemberOf':
        this.require(caller, 'memberOf');
        return this.list(
          req,
          t
            .transitiveMemberOf(this.user(t, parts[1]).id)
            .map(g => this.groupJson(g, true)),
          MEMBER_GROUPS,
        );
      case 'POST /users/{id}/getMemberObjects':
      case 'POST /me/getMemberObjects': {
        this.require(caller, 'memberOf');
        const user = route.startsWith('POST /me')
          ? me()
          : this.user(t, parts[1]);
        const body = (req.body ?? {}) as { securityEnabledOnly?: boolean };
        if (typeof body.securityEnabledOnly !== 'boolean') {
          throw new GraphError(
            400,
            'Request_BadRequest',
            "The parameter 'securityEnabledOnly' is required.",
          );
        }
        const groups = t
          .transitiveMemberOf(user.id)
          .filter(g => !body.securityEnabledOnly || g.securityEnabled);
        return {
          status: 200,
          headers: {},
          body: {
            '@odata.context': `${this.emulator.graphBaseUrl}/$metadata#Collection(Edm.String)`,
            value: groups.map(g => g.id),
          },
        };
      }
      case 'GET /groups':
        this.require(caller, 'groups');
        return this.list(
          req,
          this.rows(t, 'groups', () =>
            t.listGroups().map(g => this.groupJson(g)),
          ),
          GROUPS,
          true,
        );
      case 'GET /groups/delta':
        this.require(caller, 'groups');
        return this.delta(req, t, 'groups');
      case 'GET /groups/{id}':
        this.require(caller, 'groups');
        return this.one(
          this.pick(
            this.groupJson(this.group(t, parts[1])),
            this.selectFields(req.query, GROUP_FIELDS, GROUP_FIELDS, 'group'),
          ),
          'groups/$entity',
        );
      case 'GET /groups/{id}/members':
        this.require(caller, 'memberOf');
        return this.list(
          req,
          this.memberObjects(t, this.group(t, parts[1]).members),
          MEMBERS,
        );
      case 'GET /groups/{id}/transitiveMembers':
        this.require(caller, 'memberOf');
        this.group(t, parts[1]);
        return this.list(
          req,
          this.memberObjects(
            t,
            t.transitiveMembers(parts[1]).map(o => o.id),
          ),
          MEMBERS,
        );
      case 'GET /organization': {
        this.require(caller, 'organization');
        return this.list(req, [this.organizationJson(t)], {
          context: 'organization',
          typeName: 'organization',
          known: ORGANIZATION_FIELDS,
          defaults: ORGANIZATION_FIELDS,
        });
      }
      case 'GET /organization/{id}': {
        this.require(caller, 'organization');
        // Only the tenant the caller is signed in to is readable, as in Graph.
        if (parts[1].toLowerCase() !== t.id) {
          throw new GraphError(
            404,
            'Request_ResourceNotFound',
            `Resource '${parts[1]}' does not exist or one of its queried reference-property objects are not present.`,
          );
        }
        return this.one(
          this.pick(
            this.organizationJson(t),
            this.selectFields(
              req.query,
              ORGANIZATION_FIELDS,
              ORGANIZATION_FIELDS,
              'organization',
            ),
          ),
          'organization/$entity',
        );
      }
      case 'GET /servicePrincipals/{id}/appRoleAssignedTo':
      case "GET /servicePrincipals(appId='{appId}')/appRoleAssignedTo": {
        this.require(caller, 'appRoleAssignments');
        const byAppId = /^servicePrincipals\(appId='([^']*)'\)$/i.exec(
          parts[0],
        );
        const app = byAppId
          ? t.getApplication(byAppId[1].toLowerCase())
          : t.applications.find(
              a => servicePrincipalId(t, a.appId) === parts[1].toLowerCase(),
            );
        if (!app) {
          throw new GraphError(
            404,
            'Request_ResourceNotFound',
            `Resource '${
              byAppId ? byAppId[1] : parts[1]
            }' does not exist or one of its queried reference-property objects are not present.`,
          );
        }
        const resourceId = servicePrincipalId(t, app.appId);
        return this.list(
          req,
          app.appRoleAssignments.map(a => {
            const principal = t.getObject(a.principalId);
            return {
              id: Buffer.from(
                `${a.principalId}:${a.appRoleId}`.replace(/-/g, ''),
                'hex',
              )
                .subarray(0, 32)
                .toString('base64url'),
              deletedDateTime: null,
              appRoleId: a.appRoleId,
              createdDateTime: '2024-01-01T00:00:00Z',
              principalDisplayName: principal?.displayName ?? null,
              principalId: a.principalId,
              principalType: t.isUser(a.principalId) ? 'User' : 'Group',
              resourceDisplayName: app.displayName,
              resourceId,
            };
          }),
          {
            context: `servicePrincipals('${resourceId}')/appRoleAssignedTo`,
            typeName: 'appRoleAssignment',
            known: APP_ROLE_ASSIGNMENT_FIELDS,
            defaults: APP_ROLE_ASSIGNMENT_FIELDS,
          },
        );
      }
      case 'GET /applications': {
        this.require(caller, 'applications');
        const props = [
          'id',
          'appId',
          'displayName',
          'signInAudience',
          'web',
          'passwordCredentials',
          'keyCredentials',
          'appRoles',
          'groupMembershipClaims',
        ];
        return this.list(
          req,
          t.applications.map(a => ({
            id: a.id,
            appId: a.appId,
            displayName: a.displayName,
            signInAudience: a.signInAudience,
            web: { redirectUris: a.redirectUris },
            passwordCredentials: a.passwordCredentials.map(c => ({
              keyId: c.keyId,
              displayName: c.displayName,
              hint: c.hint,
              startDateTime: c.startDateTime,
              endDateTime: c.endDateTime,
              secretText: null,
              customKeyIdentifier: null,
            })),
            keyCredentials: a.keyCredentials.map(k => ({
              keyId: k.keyId,
              displayName: k.displayName,
              endDateTime: k.endDateTime,
              type: 'AsymmetricX509Cert',
              usage: 'Verify',
            })),
            appRoles: a.appRoles.map(r => ({ ...r, isEnabled: true })),
            groupMembershipClaims: a.groupMembershipClaims,
          })),
          {
            context: 'applications',
            typeName: 'application',
            known: props,
            defaults: props,
            filterable: true,
          },
        );
      }
      default:
        throw new GraphError(
          400,
          'BadRequest',
          `Resource not found for the segment '${
            parts[parts.length - 1] ?? ''
          }'.`,
        );
    }
  }

  private user(t: TenantStore, idOrUpn: string): EmulatedUser {
    const u = t.getUser(idOrUpn);
    if (!u) {
      throw new GraphError(
        404,
        'Request_ResourceNotFound',
        `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    return u;
  }

  private group(t: TenantStore, id: string): EmulatedGroup {
    const g = t.getGroup(id);
    if (!g) {
      throw new GraphError(
        404,
        'Request_ResourceNotFound',
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    return g;
  }

  /**
   * The properties `$select` asks for. Graph returns exactly those (`id` only when selected),
   * except in delta responses, which always carry `id` (`alwaysId`).
   */
  private selectFields(
    query: URLSearchParams,
    known: string[],
    defaults: string[],
    typeName: string,
    alwaysId = false,
  ): string[] {
    const sel = query.get('$select');
    if (!sel) return defaults;
    const fields = sel
      .split(',')
      .map(s => s.trim())
      .filter(Boolean);
    for (const f of fields) {
      if (!known.includes(f)) {
        throw new GraphError(
          400,
          'Request_BadRequest',
          `Could not find a property named '${f}' on type 'microsoft.graph.${typeName}'.`,
        );
      }
    }
    return fields.includes('id') || !alwaysId
      ? [...new Set(fields)]
      : ['id', ...new Set(fields)];
  }

  /** Every property of a user the emulator serves (for `$filter`, then trimmed by `$select`). */
  private userData(u: EmulatedUser, typed = false): Record<string, unknown> {
    return {
      ...(typed ? { '@odata.type': '#microsoft.graph.user' } : {}),
      id: u.id,
      displayName: u.displayName,
      userPrincipalName: u.userPrincipalName,
      mail: u.mail ?? null,
      mailNickname: u.mailNickname,
      givenName: u.givenName ?? null,
      surname: u.surname ?? null,
      jobTitle: u.jobTitle ?? null,
      department: u.department ?? null,
      accountEnabled: u.accountEnabled,
      userType: u.userType,
      businessPhones: [],
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: null,
    };
  }

  private userJson(
    u: EmulatedUser,
    query: URLSearchParams,
  ): Record<string, unknown> {
    return this.pick(
      this.userData(u),
      this.selectFields(query, USER_PROPS, USER_DEFAULT, 'user'),
    );
  }

  private organizationJson(t: TenantStore): Record<string, unknown> {
    // The initial domain is the `.onmicrosoft` one the tenant was created with; the default is the first listed.
    const initial =
      t.domains.find(d => d.includes('.onmicrosoft.')) ?? t.domains[0];
    return {
      id: t.id,
      displayName: t.displayName,
      tenantType: 'AAD',
      verifiedDomains: t.domains.map((d, i) => ({
        name: d,
        isDefault: i === 0,
        isInitial: d === initial,
        type: 'Managed',
        capabilities: 'Email, OfficeCommunicationsOnline',
      })),
    };
  }

  /** The sizes Graph keeps a photo in; any other size is a 404, like a missing photo. */
  private photoSize(size: string): void {
    if (!PHOTO_SIZES.includes(size)) throw this.noImage();
  }

  private noImage(): GraphError {
    return new GraphError(
      404,
      'ImageNotFound',
      "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.",
    );
  }

  private groupJson(g: EmulatedGroup, typed = false): Record<string, unknown> {
    return {
      ...(typed ? { '@odata.type': '#microsoft.graph.group' } : {}),
      id: g.id,
      displayName: g.displayName,
      description: g.description ?? null,
      mail: g.mail ?? null,
      mailNickname: g.mailNickname,
      mailEnabled: g.mailEnabled,
      securityEnabled: g.securityEnabled,
      groupTypes: g.groupTypes,
    };
  }

  /** Members as directory objects (users and groups, typed); ids of objects that no longer exist are left out. */
  private memberObjects(
    t: TenantStore,
    ids: string[],
  ): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const id of ids) {
      const u = t.getUser(id);
      if (u) {
        out.push(this.userData(u, true));
        continue;
      }
      const g = t.getGroup(id);
      if (g) out.push(this.groupJson(g, true));
    }
    return out;
  }

  private pick(
    obj: Record<string, unknown>,
    fields: string[],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (obj['@odata.type']) out['@odata.type'] = obj['@odata.type'];
    for (const f of fields) if (f in obj) out[f] = obj[f];
    return out;
  }

  private one(body: Record<string, unknown>, context: string): GraphResponse {
    return {
      status: 200,
      headers: {},
      body: {
        '@odata.context': `${this.emulator.graphBaseUrl}/$metadata#${context}`,
        ...body,
      },
    };
  }

  /**
   * A collection with `$filter`, `$select`, `$orderby`, `$top` (1..999, default 100) and
   * `@odata.nextLink` paging. Without `$orderby` objects come in id order and the skip token
   * holds the last id sent, so objects added or removed between pages neither shift nor
   * hide the others.
   */
  /**
   * The rows of `/users` or `/groups` in id order, made once per tenant version: a client
   * paging through 100,000 users would otherwise have every page rebuild and sort them all.
   */
  private rows(
    t: TenantStore,
    resource: 'users' | 'groups',
    make: () => Record<string, unknown>[],
  ): Record<string, unknown>[] {
    const key = `${t.id}:${resource}:${t.version}`;
    let rows = this.rowCache.get(key);
    if (!rows) {
      rows = make().sort((a, b) => compareIds(String(a.id), String(b.id)));
      if (this.rowCache.size >= 8)
        this.rowCache.delete(this.rowCache.keys().next().value!);
      this.rowCache.set(key, rows);
    }
    return rows;
  }

  /** A page of a collection; `inIdOrder` says the items come sorted by id already. */
  private list(
    req: GraphRequest,
    items: Record<string, unknown>[],
    shape: ListShape,
    inIdOrder = false,
  ): GraphResponse {
    let top = DEFAULT_PAGE;
    if (req.query.has('$top')) {
      const raw = req.query.get('$top')!;
      top = Number(raw);
      if (
        !/^\s*\d+\s*$/.test(raw) ||
        !Number.isInteger(top) ||
        top < 1 ||
        top > MAX_PAGE
      ) {
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          `Invalid page size specified: '${raw}'. Must be between 1 and ${MAX_PAGE} inclusive.`,
        );
      }
    }
    const fields = this.selectFields(
      req.query,
      shape.known,
      shape.defaults,
      shape.typeName,
    );
    let rows = items;
    const filter = req.query.get('$filter');
    if (filter) {
      if (!shape.filterable) {
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          'Filter is not supported on this resource.',
        );
      }
      const node = parseFilter(filter);
      const knownSet = new Set(shape.known);
      rows = rows.filter(r => matches(node, r, knownSet));
    }
    const orderBy = req.query.get('$orderby');
    const byId = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      compareIds(String(a.id), String(b.id));
    if (orderBy) {
      const m = /^\s*(\w+)(?:\s+(asc|desc))?\s*$/i.exec(orderBy);
      if (!m || !shape.known.includes(m[1]) || m[1] === 'id') {
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          `Unsupported sort property or expression '${orderBy}'.`,
        );
      }
      const prop = m[1];
      const dir = m[2]?.toLowerCase() === 'desc' ? -1 : 1;
      const key = (r: Record<string, unknown>) =>
        String(r[prop] ?? '').toLowerCase();
      rows = [...rows].sort((a, b) => {
        if (key(a) === key(b)) return byId(a, b);
        return key(a) < key(b) ? -dir : dir;
      });
    } else if (!inIdOrder) {
      rows = [...rows].sort(byId);
    }
    let start = 0;
    const skip = req.query.get('$skiptoken');
    if (skip) {
      const c = decodeToken<{ o?: number; a?: string }>(skip);
      if (!c || (typeof c.o !== 'number' && typeof c.a !== 'string')) {
        throw new GraphError(
          400,
          'Request_BadRequest',
          'The specified page token value has expired or is invalid.',
        );
      }
      start =
        typeof c.a === 'string'
          ? searchAfter(rows, r => String(r.id), c.a, false)
          : c.o!;
    }
    const slice = rows.slice(start, start + top);
    const body: Record<string, unknown> = {
      '@odata.context': `${this.emulator.graphBaseUrl}/$metadata#${shape.context}`,
      value: slice.map(r => this.pick(r, fields)),
    };
    if (start + top < rows.length) {
      const q = new URLSearchParams(req.query);
      q.set(
        '$skiptoken',
        encodeToken(
          orderBy
            ? { o: start + top }
            : { a: String(slice[slice.length - 1].id) },
        ),
      );
      body['@odata.nextLink'] = `${this.emulator.graphBaseUrl}${
        req.path
      }?${formatQuery(q)}`;
    }
    return { status: 200, headers: {}, body };
  }

  /** The changes after version `since`, in id order; cached while the tenant does not change. */
  private deltaEntries(
    t: TenantStore,
    resource: 'users' | 'groups',
    since: number,
  ): DeltaEntry[] {
    const key = `${t.id}:${resource}:${since}:${t.version}`;
    let entries = this.deltaCache.get(key);
    if (!entries) {
      if (resource === 'users') {
        const { changed, removed } = t.userChanges(since);
        entries = [
          ...changed.map(user => ({
            kind: 'user' as const,
            id: user.id,
            user,
          })),
          ...removed.map(id => ({
            kind: 'removed' as const,
            id,
            type: 'user' as const,
          })),
        ];
      } else {
        const { changed, removed } = t.groupChanges(since);
        entries = [
          ...changed.map(c => ({
            kind: 'group' as const,
            id: c.group.id,
            group: c.group,
            added: c.added,
            removed: c.removedMembers,
          })),
          ...removed.map(id => ({
            kind: 'removed' as const,
            id,
            type: 'group' as const,
          })),
        ];
      }
      entries.sort((a, b) => compareIds(a.id, b.id));
      if (this.deltaCache.size >= 16)
        this.deltaCache.delete(this.deltaCache.keys().next().value!);
      this.deltaCache.set(key, entries);
    }
    return entries;
  }

  /** Per cached delta entry: a big group's members are sent over many pages. */
  private readonly refsCache = new WeakMap<object, MemberRef[]>();

  private memberRefs(
    t: TenantStore,
    e: Extract<DeltaEntry, { kind: 'group' }>,
  ): MemberRef[] {
    let refs = this.refsCache.get(e);
    if (!refs) {
      refs = this.buildMemberRefs(t, e);
      this.refsCache.set(e, refs);
    }
    return refs;
  }

  private buildMemberRefs(
    t: TenantStore,
    e: Extract<DeltaEntry, { kind: 'group' }>,
  ): MemberRef[] {
    const type = (id: string) => {
      const kind = t.objectType(id);
      return kind
        ? `#microsoft.graph.${kind}`
        : '#microsoft.graph.directoryObject';
    };
    const refs: MemberRef[] = [
      ...e.added.map(id => ({ '@odata.type': type(id), id })),
      ...e.removed.map(id => ({
        '@odata.type': type(id),
        id,
        '@removed': { reason: 'deleted' },
      })),
    ];
    return refs.sort((a, b) => compareIds(a.id, b.id));
  }

  /** A `$filter` on delta may only scope the query to object ids (`id eq '...'`, `or`, `in`). */
  private deltaFilter(filter: string): FilterNode {
    const node = parseFilter(filter);
    const onlyIds = (n: FilterNode): boolean =>
      n.op === 'or'
        ? onlyIds(n.left) && onlyIds(n.right)
        : (n.op === 'eq' || n.op === 'in') && n.prop === 'id';
    if (!onlyIds(node)) {
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        "Delta queries support $filter only by object id (id eq '...' joined with or).",
      );
    }
    return node;
  }

  private deltaUrl(
    resource: string,
    cursor: Pick<DeltaCursor, 'sel' | 'f'>,
  ): string {
    const q: Array<[string, string]> = [];
    if (cursor.sel) q.push(['$select', cursor.sel]);
    if (cursor.f) q.push(['$filter', cursor.f]);
    return `${this.emulator.graphBaseUrl}/${resource}/delta${
      q.length ? `?${formatQuery(q)}` : ''
    }`;
  }

  /**
   * `/users/delta` and `/groups/delta`. A page holds at most `deltaPageSize` objects and
   * member references together (with a page size of 1, a group still carries one member
   * reference so that a round makes progress); a group with more members goes on over several
   * pages. The skip token names the last object (and member) sent, not a position, so a
   * directory that changes during a round loses nothing: later changes come again in the next
   * round.
   */
  private delta(
    req: GraphRequest,
    t: TenantStore,
    resource: 'users' | 'groups',
  ): GraphResponse {
    const now = this.emulator.clock.now().getTime();
    const known = resource === 'users' ? USER_PROPS : GROUP_DELTA_PROPS;
    const typeName = resource === 'users' ? 'user' : 'group';
    let cursor: DeltaCursor;
    const token = req.query.get('$skiptoken') ?? req.query.get('$deltatoken');
    if (
      req.query.get('$deltatoken') === 'latest' &&
      !req.query.has('$skiptoken')
    ) {
      // "Sync from now": no data, a deltaLink for the changes from here on.
      const sel = req.query.get('$select') ?? undefined;
      const f = req.query.get('$filter') ?? undefined;
      if (sel) this.selectFields(req.query, known, known, typeName);
      if (f) this.deltaFilter(f);
      const latest: DeltaCursor = {
        r: resource,
        s: 0,
        v: t.version,
        sel,
        f,
        e: this.epoch,
        t: now,
      };
      return this.deltaPage(resource, [], undefined, latest, now);
    }
    if (token) {
      const c = decodeToken<DeltaCursor>(token);
      if (
        !c ||
        c.r !== resource ||
        typeof c.s !== 'number' ||
        typeof c.v !== 'number' ||
        typeof c.t !== 'number'
      ) {
        throw new GraphError(
          400,
          'Request_BadRequest',
          'The specified delta token value is invalid.',
        );
      }
      if (c.e !== this.epoch || now - c.t > DELTA_TOKEN_LIFETIME_MS) {
        throw new GraphError(
          410,
          'syncStateNotFound',
          'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
          { Location: this.deltaUrl(resource, c) },
        );
      }
      cursor = req.query.has('$skiptoken')
        ? c
        : {
            r: resource,
            s: c.v,
            v: t.version,
            sel: c.sel,
            f: c.f,
            e: this.epoch,
            t: now,
          };
    } else {
      const f = req.query.get('$filter') ?? undefined;
      if (f) this.deltaFilter(f);
      cursor = {
        r: resource,
        s: 0,
        v: t.version,
        sel: req.query.get('$select') ?? undefined,
        f,
        e: this.epoch,
        t: now,
      };
    }
    const defaults = resource === 'users' ? USER_DEFAULT : GROUP_DELTA_PROPS;
    const fields = cursor.sel
      ? this.selectFields(
          new URLSearchParams({ $select: cursor.sel }),
          known,
          known,
          typeName,
          true,
        )
      : defaults;
    const withMembers = resource === 'groups' && fields.includes('members');
    let entries = this.deltaEntries(t, resource, cursor.s);
    if (cursor.f) {
      // Only ids can be named (deltaFilter), so look them up in the id-ordered entries
      // rather than testing every entry: a sync reads a big tenant in thousands of such chains.
      const ids = new Set<string>();
      const collect = (n: FilterNode): void => {
        if (n.op === 'or') {
          collect(n.left);
          collect(n.right);
        } else if (n.op === 'eq') ids.add(String(n.value));
        else if (n.op === 'in') for (const v of n.values) ids.add(String(v));
      };
      collect(this.deltaFilter(cursor.f));
      const all = entries;
      entries = [...ids]
        .map(id => all[searchAfter(all, e => e.id, id, true)])
        .filter(e => e !== undefined && ids.has(e.id))
        .sort((a, b) => compareIds(a.id, b.id));
    }

    const value: Record<string, unknown>[] = [];
    let budget = this.emulator.deltaPageSize;
    // Go on after the last object sent, or with the group whose members were cut short.
    let i = 0;
    if (cursor.g !== undefined)
      i = searchAfter(entries, e => e.id, cursor.g, true);
    else if (cursor.a !== undefined)
      i = searchAfter(entries, e => e.id, cursor.a, false);
    let partial: { g: string; m: string } | undefined;
    while (i < entries.length && budget > 0) {
      const e = entries[i];
      if (e.kind === 'removed') {
        value.push({ id: e.id, '@removed': { reason: 'changed' } });
        budget -= 1;
        i += 1;
        continue;
      }
      if (e.kind === 'user') {
        value.push(this.pick(this.userData(e.user), fields));
        budget -= 1;
        i += 1;
        continue;
      }
      const obj = this.pick(
        this.groupJson(e.group),
        fields.filter(f => f !== 'members'),
      );
      let refs = withMembers ? this.memberRefs(t, e) : [];
      if (cursor.g === e.id && cursor.m !== undefined) {
        const after = cursor.m;
        refs = refs.filter(r => compareIds(r.id, after) > 0);
      }
      // A group that has member references to send but no room for one waits for the next page.
      if (refs.length > 0 && budget < 2 && value.length > 0) break;
      budget -= 1;
      const slice = refs.slice(0, Math.max(budget, refs.length > 0 ? 1 : 0));
      budget -= slice.length;
      if (slice.length) obj['members@delta'] = slice;
      value.push(obj);
      if (slice.length < refs.length) {
        partial = { g: e.id, m: slice[slice.length - 1].id };
        break;
      }
      i += 1;
    }
    let next: DeltaCursor | undefined;
    if (partial) next = { ...cursor, a: undefined, ...partial };
    else if (i < entries.length)
      next = { ...cursor, a: entries[i - 1].id, g: undefined, m: undefined };
    return this.deltaPage(resource, value, next, cursor, now);
  }

  private deltaPage(
    resource: string,
    value: Record<string, unknown>[],
    next: DeltaCursor | undefined,
    round: DeltaCursor,
    now: number,
  ): GraphResponse {
    const body: Record<string, unknown> = {
      '@odata.context': `${this.emulator.graphBaseUrl}/$metadata#${resource}`,
      value,
    };
    if (next) {
      body['@odata.nextLink'] = `${
        this.emulator.graphBaseUrl
      }/${resource}/delta?${formatQuery([['$skiptoken', encodeToken(next)]])}`;
    } else {
      const link: DeltaCursor = {
        r: round.r,
        s: round.s,
        v: round.v,
        sel: round.sel,
        f: round.f,
        e: this.epoch,
        t: now,
      };
      body['@odata.deltaLink'] = `${
        this.emulator.graphBaseUrl
      }/${resource}/delta?${formatQuery([['$deltatoken', encodeToken(link)]])}`;
    }
    return { status: 200, headers: {}, body };
  }

  /** JSON batching: at most 20 requests; each inner request is throttled and counted on its own. */
  private async batch(req: GraphRequest): Promise<GraphResponse> {
    const body = req.body as {
      requests?: Array<{
        id?: string;
        method?: string;
        url?: string;
        headers?: Record<string, string>;
        body?: unknown;
      }>;
    };
    if (!body || !Array.isArray(body.requests)) {
      throw new GraphError(400, 'BadRequest', 'Invalid batch payload format.');
    }
    if (body.requests.length > MAX_BATCH) {
      throw new GraphError(
        400,
        'BadRequest',
        `Maximum number of requests in a batch is ${MAX_BATCH}.`,
      );
    }
    const ids = new Set<string>();
    for (const inner of body.requests) {
      if (!inner || !inner.id || !inner.method || !inner.url) {
        throw new GraphError(
          400,
          'BadRequest',
          'Each batch request needs id, method and url.',
        );
      }
      if (ids.has(inner.id))
        throw new GraphError(
          400,
          'BadRequest',
          `Batch request id '${inner.id}' is duplicated.`,
        );
      ids.add(inner.id);
    }
    const responses = [];
    for (const inner of body.requests) {
      const url = new URL(
        inner.url!.replace(/^\/?(v1\.0\/)?/, '/'),
        'http://graph.invalid',
      );
      const res = await this.handle(
        {
          method: inner.method!.toUpperCase(),
          path: url.pathname,
          query: url.searchParams,
          headers: {
            ...(inner.headers ?? {}),
            authorization: req.headers.authorization,
          },
          body: inner.body,
        },
        true,
      );
      responses.push({
        id: inner.id,
        status: res.status,
        headers: res.headers,
        // A binary body (a photo) comes back base64-encoded inside a batch, as in Graph.
        body: Buffer.isBuffer(res.body)
          ? res.body.toString('base64')
          : res.body,
      });
    }
    return { status: 200, headers: {}, body: { responses } };
  }
}

/** The route template a request matches, e.g. `GET /groups/{id}/members`. */
export function routeTemplate(method: string, path: string): string {
  const parts = path.split('/').filter(Boolean);
  const fixed = new Set([
    'delta',
    'me',
    '$batch',
    'organization',
    'applications',
    'users',
    'groups',
    'servicePrincipals',
    '$value',
  ]);
  const spByAppId = /^servicePrincipals\(appId='[^']*'\)$/i.test(
    parts[0] ?? '',
  );
  if (spByAppId) {
    return `${method.toUpperCase()} /servicePrincipals(appId='{appId}')${parts
      .slice(1)
      .map(p => `/${p}`)
      .join('')}`;
  }
  if (parts[0] === 'users' && parts[2] === 'photos' && parts.length >= 4) {
    return `${method.toUpperCase()} /users/{id}/photos/{size}${parts
      .slice(4)
      .map(p => `/${p}`)
      .join('')}`;
  }
  if (parts[0] === 'me' && parts[1] === 'photos' && parts.length >= 3) {
    return `${method.toUpperCase()} /me/photos/{size}${parts
      .slice(3)
      .map(p => `/${p}`)
      .join('')}`;
  }
  const template = parts.map((p, i) =>
    (i === 1 || i === 3) && !fixed.has(p) && parts[0] !== 'me' ? '{id}' : p,
  );
  return `${method.toUpperCase()} /${template.join('/')}`;
}
