import { randomUUID } from 'node:crypto';
import { Emulator, GRAPH_APP_ID, GRAPH_RESOURCE } from '../Emulator';
import { resourceUnitCost } from '../faults';
import { BearerTokenError, verifyBearer } from '../tokens';
import { TenantStore } from '../tenant/TenantStore';
import { EmulatedGroup, EmulatedUser } from '../tenant/types';
import { FilterError, matches, parseFilter } from './filter';

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
  constructor(readonly status: number, readonly code: string, message: string, readonly extraHeaders: Record<string, string> = {}) {
    super(message);
  }
}

const USER_PROPS = [
  'id', 'displayName', 'userPrincipalName', 'mail', 'mailNickname', 'givenName', 'surname',
  'jobTitle', 'department', 'accountEnabled', 'userType', 'businessPhones', 'mobilePhone',
  'officeLocation', 'preferredLanguage',
];
const USER_DEFAULT = [
  'businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone',
  'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id',
];
const GROUP_PROPS = [
  'id', 'displayName', 'description', 'mail', 'mailNickname', 'mailEnabled', 'securityEnabled',
  'groupTypes', 'members',
];
const KNOWN_QUERY = new Set(['$select', '$top', '$filter', '$skiptoken', '$deltatoken', '$count', '$orderby', 'securityEnabledOnly']);

const PERMISSIONS = {
  users: { app: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'], delegated: ['User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All'] },
  groups: { app: ['Group.Read.All', 'GroupMember.Read.All', 'Directory.Read.All', 'Group.ReadWrite.All'], delegated: ['Group.Read.All', 'GroupMember.Read.All', 'Directory.Read.All'] },
  memberOf: { app: ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'], delegated: ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All'] },
  organization: { app: ['Organization.Read.All', 'Directory.Read.All'], delegated: ['User.Read', 'Organization.Read.All', 'Directory.Read.All'] },
  applications: { app: ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All'], delegated: ['Application.Read.All', 'Directory.Read.All'] },
} as const;

type Caller = { tenant: TenantStore; appId: string; userId?: string; permissions: Set<string> };

function encodeToken(obj: object): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}
function decodeToken<T>(text: string): T | undefined {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

interface DeltaCursor {
  r: 'users' | 'groups';
  /** changes after this version */
  s: number;
  /** the version the round covers up to */
  v: number;
  /** index into the change list, and into the current group's members */
  o: number;
  m: number;
  sel?: string;
  /** emulator instance and issue time: a token from another instance, or older than 7 days, is gone */
  e: string;
  t: number;
}

type DeltaEntry =
  | { kind: 'user'; user: EmulatedUser }
  | { kind: 'removed'; id: string; type: 'user' | 'group' }
  | { kind: 'group'; group: EmulatedGroup; added: string[]; removed: string[] };

const DELTA_TOKEN_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** Microsoft Graph v1.0 directory reads, with Graph's permissions, paging, limits and throttling. */
export class GraphService {
  private readonly epoch = randomUUID();
  private readonly deltaCache = new Map<string, DeltaEntry[]>();

  constructor(private readonly emulator: Emulator) {}

  /** Handles one request, throttling and accounting included. */
  async handle(req: GraphRequest): Promise<GraphResponse> {
    const route = routeTemplate(req.method, req.path);
    const requestId = randomUUID();
    const base = { 'request-id': requestId, 'client-request-id': req.headers['client-request-id'] ?? requestId };
    let ru = 0;
    try {
      const caller = await this.authenticate(req);
      if (route !== 'POST /$batch') {
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
          throw new GraphError(429, 'TooManyRequests', 'Too many requests. The application exceeded its resource unit budget for this tenant.', { 'Retry-After': String(charged.retryAfter) });
        }
        const res = await this.dispatch(route, req, caller);
        res.headers = { ...base, 'x-ms-resource-unit': String(ru), ...res.headers };
        if (charged.usedShare > 0.8) res.headers['x-ms-throttle-limit-percentage'] = charged.usedShare.toFixed(2);
        this.emulator.faults.count(route, res.status, ru);
        return res;
      }
      const res = await this.batch(req);
      res.headers = { ...base, ...res.headers };
      this.emulator.faults.count(route, res.status, 0);
      return res;
    } catch (e) {
      const err =
        e instanceof GraphError
          ? e
          : e instanceof BearerTokenError
            ? new GraphError(401, e.graphCode, e.message)
            : e instanceof FilterError
              ? new GraphError(400, 'Request_UnsupportedQuery', e.message)
              : new GraphError(500, 'generalException', 'An internal error occurred.');
      if (err.status === 500) console.error(e);
      this.emulator.faults.count(route, err.status, ru);
      return {
        status: err.status,
        headers: { ...base, ...err.extraHeaders },
        body: {
          error: {
            code: err.code,
            message: err.message,
            innerError: { date: this.emulator.clock.now().toISOString().replace(/\.\d+Z$/, ''), 'request-id': requestId, 'client-request-id': base['client-request-id'] },
          },
        },
      };
    }
  }

  private async authenticate(req: GraphRequest): Promise<Caller> {
    const payload = await verifyBearer(this.emulator, req.headers.authorization, [GRAPH_RESOURCE, GRAPH_APP_ID, `${GRAPH_RESOURCE}/`]);
    const tenant = this.emulator.tenants.get(String(payload.tid));
    if (!tenant) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid tenant.');
    const delegated = payload.idtyp === 'user';
    return {
      tenant,
      appId: String(payload.appid ?? payload.azp),
      userId: delegated ? String(payload.oid) : undefined,
      permissions: new Set(delegated ? String(payload.scp ?? '').split(' ') : (payload.roles as string[]) ?? []),
    };
  }

  private require(caller: Caller, kind: keyof typeof PERMISSIONS): void {
    const allowed: readonly string[] = caller.userId ? PERMISSIONS[kind].delegated : PERMISSIONS[kind].app;
    if (!allowed.some(p => caller.permissions.has(p))) {
      throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
  }

  private async dispatch(route: string, req: GraphRequest, caller: Caller): Promise<GraphResponse> {
    for (const key of req.query.keys()) {
      if (key.startsWith('$') && !KNOWN_QUERY.has(key)) {
        throw new GraphError(400, 'BadRequest', `Query option '${key}' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.`);
      }
    }
    if (req.query.has('$expand')) {
      throw new GraphError(400, 'Request_UnsupportedQuery', 'The emulator does not support $expand; read members with /members.');
    }
    const t = caller.tenant;
    const parts = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    const me = () => {
      if (!caller.userId) throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
      return this.user(t, caller.userId);
    };
    switch (route) {
      case 'GET /me':
        return this.one(this.userJson(me(), req.query), 'users/$entity');
      case 'GET /me/memberOf':
        this.require(caller, 'memberOf');
        return this.list(req, t.directMemberOf(me().id).map(g => this.groupJson(g, req.query, true)), 'directoryObjects', GROUP_PROPS);
      case 'GET /me/transitiveMemberOf':
        this.require(caller, 'memberOf');
        return this.list(req, t.transitiveMemberOf(me().id).map(g => this.groupJson(g, req.query, true)), 'directoryObjects', GROUP_PROPS);
      case 'GET /users':
        this.require(caller, 'users');
        return this.list(req, t.listUsers().map(u => this.userJson(u, req.query, false, true)), 'users', USER_PROPS, true);
      case 'GET /users/delta':
        this.require(caller, 'users');
        return this.delta(req, t, 'users');
      case 'GET /users/{id}':
        if (caller.userId !== this.user(t, parts[1]).id) this.require(caller, 'users');
        return this.one(this.userJson(this.user(t, parts[1]), req.query), 'users/$entity');
      case 'GET /users/{id}/memberOf':
        this.require(caller, 'memberOf');
        return this.list(req, t.directMemberOf(this.user(t, parts[1]).id).map(g => this.groupJson(g, req.query, true)), 'directoryObjects', GROUP_PROPS);
      case 'GET /users/{id}/transitiveMemberOf':
        this.require(caller, 'memberOf');
        return this.list(req, t.transitiveMemberOf(this.user(t, parts[1]).id).map(g => this.groupJson(g, req.query, true)), 'directoryObjects', GROUP_PROPS);
      case 'POST /users/{id}/getMemberObjects':
      case 'POST /me/getMemberObjects': {
        this.require(caller, 'memberOf');
        const user = route.startsWith('POST /me') ? me() : this.user(t, parts[1]);
        const body = (req.body ?? {}) as { securityEnabledOnly?: boolean };
        if (typeof body.securityEnabledOnly !== 'boolean') {
          throw new GraphError(400, 'Request_BadRequest', "The parameter 'securityEnabledOnly' is required.");
        }
        const groups = t.transitiveMemberOf(user.id).filter(g => !body.securityEnabledOnly || g.securityEnabled);
        return { status: 200, headers: {}, body: { '@odata.context': `${this.emulator.graphBaseUrl}/$metadata#Collection(Edm.String)`, value: groups.map(g => g.id) } };
      }
      case 'GET /groups':
        this.require(caller, 'groups');
        return this.list(req, t.listGroups().map(g => this.groupJson(g, req.query)), 'groups', GROUP_PROPS.filter(p => p !== 'members'), true);
      case 'GET /groups/delta':
        this.require(caller, 'groups');
        return this.delta(req, t, 'groups');
      case 'GET /groups/{id}':
        this.require(caller, 'groups');
        return this.one(this.groupJson(this.group(t, parts[1]), req.query), 'groups/$entity');
      case 'GET /groups/{id}/members':
        this.require(caller, 'memberOf');
        return this.list(req, this.group(t, parts[1]).members.map(id => this.memberJson(t, id, req.query)), 'directoryObjects', [...USER_PROPS, ...GROUP_PROPS]);
      case 'GET /groups/{id}/transitiveMembers':
        this.require(caller, 'memberOf');
        this.group(t, parts[1]);
        return this.list(req, t.transitiveMembers(parts[1]).map(o => this.memberJson(t, o.id, req.query)), 'directoryObjects', [...USER_PROPS, ...GROUP_PROPS]);
      case 'GET /organization':
        this.require(caller, 'organization');
        return this.list(req, [{
          id: t.id,
          displayName: t.displayName,
          tenantType: 'AAD',
          verifiedDomains: t.domains.map((d, i) => ({ name: d, isDefault: i === 0, isInitial: i === 0, type: 'Managed', capabilities: 'Email, OfficeCommunicationsOnline' })),
        }], 'organization', ['id', 'displayName', 'tenantType', 'verifiedDomains']);
      case 'GET /applications':
        this.require(caller, 'applications');
        return this.list(req, t.applications.map(a => ({
          id: a.id,
          appId: a.appId,
          displayName: a.displayName,
          signInAudience: a.signInAudience,
          web: { redirectUris: a.redirectUris },
          passwordCredentials: a.passwordCredentials.map(c => ({ keyId: c.keyId, displayName: c.displayName, hint: c.hint, startDateTime: c.startDateTime, endDateTime: c.endDateTime, secretText: null, customKeyIdentifier: null })),
          keyCredentials: a.keyCredentials.map(k => ({ keyId: k.keyId, displayName: k.displayName, endDateTime: k.endDateTime, type: 'AsymmetricX509Cert', usage: 'Verify' })),
          appRoles: a.appRoles.map(r => ({ ...r, isEnabled: true })),
          groupMembershipClaims: a.groupMembershipClaims,
        })), 'applications', ['id', 'appId', 'displayName', 'signInAudience', 'web', 'passwordCredentials', 'keyCredentials', 'appRoles', 'groupMembershipClaims'], true);
      default:
        throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${parts[parts.length - 1] ?? ''}'.`);
    }
  }

  private user(t: TenantStore, idOrUpn: string): EmulatedUser {
    const u = t.getUser(idOrUpn);
    if (!u) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`);
    return u;
  }

  private group(t: TenantStore, id: string): EmulatedGroup {
    const g = t.getGroup(id);
    if (!g) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    return g;
  }

  private selectFields(query: URLSearchParams, known: string[], defaults: string[]): string[] {
    const sel = query.get('$select');
    if (!sel) return defaults;
    const fields = sel.split(',').map(s => s.trim()).filter(Boolean);
    for (const f of fields) {
      if (!known.includes(f)) throw new GraphError(400, 'Request_BadRequest', `Could not find a property named '${f}' on type 'microsoft.graph.directoryObject'.`);
    }
    return fields.includes('id') ? fields : ['id', ...fields];
  }

  private userJson(u: EmulatedUser, query: URLSearchParams, typed = false, forFilter = false): Record<string, unknown> {
    const full: Record<string, unknown> = {
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
    if (forFilter) return full;
    return this.pick(full, this.selectFields(query, USER_PROPS, USER_DEFAULT));
  }

  private groupJson(g: EmulatedGroup, _query: URLSearchParams, typed = false): Record<string, unknown> {
    const full: Record<string, unknown> = {
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
    return full;
  }

  private memberJson(t: TenantStore, id: string, query: URLSearchParams): Record<string, unknown> {
    const u = t.getUser(id);
    if (u) return { ...this.userJson(u, new URLSearchParams(), true, true) };
    const g = t.getGroup(id)!;
    return this.groupJson(g, query, true);
  }

  private pick(obj: Record<string, unknown>, fields: string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (obj['@odata.type']) out['@odata.type'] = obj['@odata.type'];
    for (const f of fields) if (f in obj) out[f] = obj[f];
    return out;
  }

  private one(body: Record<string, unknown>, context: string): GraphResponse {
    return { status: 200, headers: {}, body: { '@odata.context': `${this.emulator.graphBaseUrl}/$metadata#${context}`, ...body } };
  }

  /** A collection with `$filter`, `$select`, `$top` (1..999) and `@odata.nextLink` paging. */
  private list(req: GraphRequest, items: Record<string, unknown>[], context: string, known: string[], filterable = false): GraphResponse {
    let top = 100;
    if (req.query.has('$top')) {
      const raw = req.query.get('$top')!;
      top = Number(raw);
      if (!Number.isInteger(top) || top < 1 || top > 999) {
        throw new GraphError(400, 'Request_UnsupportedQuery', `Invalid page size specified: '${raw}'. Must be between 1 and 999 inclusive.`);
      }
    }
    let rows = items;
    const filter = req.query.get('$filter');
    if (filter) {
      if (!filterable) throw new GraphError(400, 'Request_UnsupportedQuery', 'Filter is not supported on this resource.');
      const node = parseFilter(filter);
      const knownSet = new Set(known);
      rows = rows.filter(r => matches(node, r, knownSet));
    }
    rows = [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    let offset = 0;
    const skip = req.query.get('$skiptoken');
    if (skip) {
      const c = decodeToken<{ o: number }>(skip);
      if (!c || typeof c.o !== 'number') throw new GraphError(400, 'Request_BadRequest', 'The specified page token value has expired or is invalid.');
      offset = c.o;
    }
    const defaults = context === 'users' ? USER_DEFAULT : known;
    const fields = this.selectFields(req.query, known, defaults);
    const page = rows.slice(offset, offset + top).map(r => this.pick(r, fields));
    const body: Record<string, unknown> = { '@odata.context': `${this.emulator.graphBaseUrl}/$metadata#${context}`, value: page };
    if (offset + top < rows.length) {
      const q = new URLSearchParams(req.query);
      q.set('$skiptoken', encodeToken({ o: offset + top }));
      body['@odata.nextLink'] = `${this.emulator.graphBaseUrl}${req.path}?${q.toString()}`;
    }
    return { status: 200, headers: {}, body };
  }

  private deltaEntries(t: TenantStore, resource: 'users' | 'groups', since: number, version: number): DeltaEntry[] {
    const key = `${t.id}:${resource}:${since}:${version}`;
    let entries = this.deltaCache.get(key);
    if (!entries || version !== t.version) {
      if (resource === 'users') {
        const { changed, removed } = t.userChanges(since);
        entries = [
          ...changed.map(user => ({ kind: 'user' as const, user })),
          ...removed.map(id => ({ kind: 'removed' as const, id, type: 'user' as const })),
        ];
      } else {
        const { changed, removed } = t.groupChanges(since);
        entries = [
          ...changed.map(c => ({ kind: 'group' as const, group: c.group, added: c.added, removed: c.removedMembers })),
          ...removed.map(id => ({ kind: 'removed' as const, id, type: 'group' as const })),
        ];
      }
      const id = (e: DeltaEntry) => (e.kind === 'user' ? e.user.id : e.kind === 'group' ? e.group.id : e.id);
      entries.sort((a, b) => id(a).localeCompare(id(b)));
      if (this.deltaCache.size > 16) this.deltaCache.delete(this.deltaCache.keys().next().value!);
      this.deltaCache.set(key, entries);
    }
    return entries;
  }

  /**
   * `/users/delta` and `/groups/delta`. A page holds at most `deltaPageSize` objects and
   * member references together; a group with more members goes on over several pages.
   */
  private delta(req: GraphRequest, t: TenantStore, resource: 'users' | 'groups'): GraphResponse {
    const now = this.emulator.clock.now().getTime();
    let cursor: DeltaCursor;
    const token = req.query.get('$skiptoken') ?? req.query.get('$deltatoken');
    if (token) {
      const c = decodeToken<DeltaCursor>(token);
      if (!c || c.r !== resource || typeof c.s !== 'number') {
        throw new GraphError(400, 'Request_BadRequest', 'The specified delta token value is invalid.');
      }
      if (c.e !== this.epoch || now - c.t > DELTA_TOKEN_LIFETIME_MS) {
        throw new GraphError(410, 'Resync required', 'The delta token has expired or is no longer valid. Start a new round without a delta token (a full synchronization).', { Location: `${this.emulator.graphBaseUrl}/${resource}/delta` });
      }
      cursor = req.query.has('$deltatoken') ? { ...c, s: c.v, v: t.version, o: 0, m: 0, t: now } : c;
    } else {
      if (req.query.has('$top') || req.query.has('$filter')) {
        // Directory delta takes no $top; the page size is the service's.
        if (req.query.has('$filter')) {
          throw new GraphError(400, 'Request_UnsupportedQuery', 'The emulator supports no $filter on delta queries.');
        }
      }
      cursor = { r: resource, s: 0, v: t.version, o: 0, m: 0, sel: req.query.get('$select') ?? undefined, e: this.epoch, t: now };
    }
    const known = resource === 'users' ? USER_PROPS : GROUP_PROPS;
    const fields = cursor.sel ? this.selectFields(new URLSearchParams({ $select: cursor.sel }), known, known) : (resource === 'users' ? USER_DEFAULT : GROUP_PROPS);
    const withMembers = resource === 'groups' && fields.includes('members');
    const entries = this.deltaEntries(t, resource, cursor.s, cursor.v);
    const value: Record<string, unknown>[] = [];
    let budget = this.emulator.deltaPageSize;
    let o = cursor.o;
    let m = cursor.m;
    while (o < entries.length && budget > 0) {
      const e = entries[o];
      if (e.kind === 'removed') {
        value.push({ id: e.id, '@removed': { reason: 'changed' } });
        budget -= 1;
        o += 1;
        continue;
      }
      if (e.kind === 'user') {
        value.push(this.pick(this.userJson(e.user, new URLSearchParams(), false, true), fields));
        budget -= 1;
        o += 1;
        continue;
      }
      const obj = this.pick(this.groupJson(e.group, new URLSearchParams()), fields.filter(f => f !== 'members'));
      budget -= 1;
      if (withMembers) {
        const refs = [
          ...e.added.map(id => ({ '@odata.type': t.isUser(id) ? '#microsoft.graph.user' : '#microsoft.graph.group', id })),
          ...e.removed.map(id => ({ '@odata.type': '#microsoft.graph.directoryObject', id, '@removed': { reason: 'deleted' } })),
        ];
        const take = Math.max(0, budget);
        const slice = refs.slice(m, m + take);
        if (slice.length) obj['members@delta'] = slice;
        budget -= slice.length;
        if (m + slice.length < refs.length) {
          value.push(obj);
          m += slice.length;
          break;
        }
      }
      value.push(obj);
      o += 1;
      m = 0;
    }
    const body: Record<string, unknown> = { '@odata.context': `${this.emulator.graphBaseUrl}/$metadata#${resource}`, value };
    const q = new URLSearchParams();
    if (o < entries.length) {
      q.set('$skiptoken', encodeToken({ ...cursor, o, m }));
      body['@odata.nextLink'] = `${this.emulator.graphBaseUrl}/${resource}/delta?${q}`;
    } else {
      q.set('$deltatoken', encodeToken({ ...cursor, o: 0, m: 0, t: now }));
      body['@odata.deltaLink'] = `${this.emulator.graphBaseUrl}/${resource}/delta?${q}`;
    }
    return { status: 200, headers: {}, body };
  }

  /** JSON batching: at most 20 requests; each inner request is throttled and counted on its own. */
  private async batch(req: GraphRequest): Promise<GraphResponse> {
    const body = req.body as { requests?: Array<{ id?: string; method?: string; url?: string; headers?: Record<string, string>; body?: unknown }> };
    if (!body || !Array.isArray(body.requests)) throw new GraphError(400, 'BadRequest', 'Invalid batch payload format.');
    if (body.requests.length > 20) throw new GraphError(400, 'BadRequest', 'Maximum number of requests in a batch is 20.');
    const ids = new Set<string>();
    const responses = [];
    for (const inner of body.requests) {
      if (!inner.id || !inner.method || !inner.url) throw new GraphError(400, 'BadRequest', 'Each batch request needs id, method and url.');
      if (ids.has(inner.id)) throw new GraphError(400, 'BadRequest', `Batch request id '${inner.id}' is duplicated.`);
      ids.add(inner.id);
      const url = new URL(inner.url.replace(/^\/?(v1\.0\/)?/, '/'), 'http://graph.invalid');
      const res = await this.handle({
        method: inner.method.toUpperCase(),
        path: url.pathname,
        query: url.searchParams,
        headers: { ...(inner.headers ?? {}), authorization: req.headers.authorization },
        body: inner.body,
      });
      responses.push({ id: inner.id, status: res.status, headers: res.headers, body: res.body });
    }
    return { status: 200, headers: {}, body: { responses } };
  }
}

/** The route template a request matches, e.g. `GET /groups/{id}/members`. */
export function routeTemplate(method: string, path: string): string {
  const parts = path.split('/').filter(Boolean);
  const fixed = new Set(['delta', 'me', '$batch', 'organization', 'applications', 'users', 'groups']);
  const template = parts.map((p, i) => (i === 1 && !fixed.has(p) && parts[0] !== 'me' ? '{id}' : p));
  return `${method.toUpperCase()} /${template.join('/')}`;
}
