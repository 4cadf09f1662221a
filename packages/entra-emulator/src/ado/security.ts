import { adoErrors } from './errors';
import type {
  AdoOrganization,
  AdoPrincipal,
  AdoProject,
  AdoRepository,
} from './AdoStore';
import type { PatScope } from './model';
import type { RestContext, RestResult, RestRoute } from './rest';
import { sha256Hex } from '../tenant/loadTenants';

/**
 * The part of Azure DevOps security the golden-path template needs to give an Entra group
 * access to a new repository, with the real routes and shapes:
 *
 * - `POST {org}/_apis/graph/groups` `{ originId }` (on `vssps.dev.azure.com` in the service)
 *   adds an Entra group of the organization's tenant to the organization; its (transitive)
 *   members can then sign in to the organization, with exactly the Git permissions the
 *   access control entries give the group (see `gitAllowed`);
 * - `GET {org}/_apis/identities?subjectDescriptors=` gives the identity descriptor of a
 *   subject (what access control entries name);
 * - `POST {org}/_apis/accesscontrolentries/{namespaceId}` `{ token, merge, accessControlEntries }`
 *   sets entries (merging allow/deny bits with `merge: true`);
 * - `GET {org}/_apis/accesscontrollists/{namespaceId}?token=` reads them back.
 *
 * Entries of the Git Repositories namespace are enforced by `gitAllowed`; other namespaces are
 * stored only.
 */
interface GraphGroup {
  originId: string;
  displayName: string;
  subjectDescriptor: string;
  identityDescriptor: string;
}

interface OrgSecurity {
  groups: Map<string, GraphGroup>;
  /** `${namespaceId}|${token}` to identity descriptor to bits. */
  acls: Map<string, Map<string, { allow: number; deny: number }>>;
}

const state = new WeakMap<AdoOrganization, OrgSecurity>();

function securityOf(org: AdoOrganization): OrgSecurity {
  let s = state.get(org);
  if (!s) {
    s = { groups: new Map(), acls: new Map() };
    state.set(org, s);
  }
  return s;
}

/** The Git Repositories security namespace. */
export const GIT_NAMESPACE = '2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87';

/** Its permission bits, as Microsoft documents them. */
export const GitPermission = {
  Administer: 1,
  GenericRead: 2,
  GenericContribute: 4,
  ForcePush: 8,
  CreateBranch: 16,
  CreateTag: 32,
  ManageNote: 64,
  PolicyExempt: 128,
  CreateRepository: 256,
  DeleteRepository: 512,
  RenameRepository: 1024,
  EditPolicies: 2048,
  RemoveOthersLocks: 4096,
  ManagePermissions: 8192,
  PullRequestContribute: 16384,
  PullRequestBypassPolicy: 32768,
} as const;
export type GitPermissionName = keyof typeof GitPermission;

const seededCache = new WeakMap<AdoPrincipal, boolean>();

/**
 * Whether the organization's seeded `members` name the principal: a user directly or through a
 * group of the tenant (nested ones included), an app registration, a managed identity.
 */
export function seededMember(
  org: AdoOrganization,
  principal: AdoPrincipal,
): boolean {
  // A principal object lives for one request: decide once per request, not once per repository.
  let known = seededCache.get(principal);
  if (known === undefined) {
    known = findSeeded(org, principal);
    seededCache.set(principal, known);
  }
  return known;
}

function findSeeded(org: AdoOrganization, principal: AdoPrincipal): boolean {
  const t = org.tenant;
  for (const m of org.members) {
    if (principal.kind === 'user') {
      const user = t.getUser(m);
      if (user && user.id === principal.id) return true;
      const group = t.listGroups().find(g => g.displayName === m);
      if (
        group &&
        t.transitiveMembers(group.id).some(x => x.id === principal.id)
      )
        return true;
    } else {
      const app = t.applications.find(
        a => a.appId === m || a.displayName === m,
      );
      if (app && app.appId === principal.id) return true;
      const mi = t.managedIdentities.find(
        x => x.name === m || x.clientId === m,
      );
      if (mi && mi.clientId === principal.id) return true;
    }
  }
  return false;
}

/** The identity descriptors of the added Entra groups a user is a (transitive) member of. */
function groupDescriptorsOf(
  org: AdoOrganization,
  principal: AdoPrincipal,
): string[] {
  const s = state.get(org);
  if (!s || principal.kind !== 'user') return [];
  const t = org.tenant;
  return [...s.groups.values()]
    .filter(g =>
      t.transitiveMembers(g.originId).some(x => x.id === principal.id),
    )
    .map(g => g.identityDescriptor);
}

/** Whether the principal is in the organization only through an added Entra group. */
export function isMemberThroughAddedGroup(
  org: AdoOrganization,
  principal: AdoPrincipal,
): boolean {
  return groupDescriptorsOf(org, principal).length > 0;
}

/**
 * Whether the principal has a Git permission on a project (`repo` undefined: token
 * `repoV2/{projectId}`) or repository (`repoV2/{projectId}/{repoId}`). Principals the
 * organization's seeded `members` name keep every permission (they stand for the project's
 * contributors and administrators). Anyone else has what the entries of the added Entra groups
 * they belong to give: entries on `repoV2`, the project's token and the repository's token all
 * apply (inherited downward), allows of all groups are combined, and a deny anywhere wins.
 */
export function gitAllowed(
  org: AdoOrganization,
  principal: AdoPrincipal,
  project: AdoProject,
  repo: AdoRepository | undefined,
  permission: GitPermissionName,
): boolean {
  if (seededMember(org, principal)) return true;
  const descriptors = groupDescriptorsOf(org, principal);
  if (!descriptors.length) return false;
  const acls = state.get(org)!.acls;
  const tokens = [
    'repov2',
    `repov2/${project.id.toLowerCase()}`,
    ...(repo
      ? [`repov2/${project.id.toLowerCase()}/${repo.id.toLowerCase()}`]
      : []),
  ];
  let allow = 0;
  let deny = 0;
  for (const [key, acl] of acls) {
    const bar = key.indexOf('|');
    if (key.slice(0, bar) !== GIT_NAMESPACE) continue;
    const token = key
      .slice(bar + 1)
      .toLowerCase()
      .replace(/\/+$/, '');
    if (!tokens.includes(token)) continue;
    for (const d of descriptors) {
      const bits = acl.get(d);
      if (bits) {
        allow |= bits.allow;
        deny |= bits.deny;
      }
    }
  }
  const bit = GitPermission[permission];
  return (allow & ~deny & bit) !== 0;
}

/** Whether the principal may use a project's other services (pipelines, builds): seeded members only. */
export function projectMember(
  org: AdoOrganization,
  principal: AdoPrincipal,
): boolean {
  return seededMember(org, principal);
}

function groupJson(g: GraphGroup, ctx: RestContext) {
  return {
    subjectKind: 'group',
    origin: 'aad',
    originId: g.originId,
    displayName: g.displayName,
    principalName: `[TEAM FOUNDATION]\\${g.displayName}`,
    domain: `./Directory/${ctx.org.tenant.id}`,
    descriptor: g.subjectDescriptor,
    url: `${ctx.base}/${encodeURIComponent(ctx.org.name)}/_apis/Graph/Groups/${
      g.subjectDescriptor
    }`,
  };
}

function createGroup(ctx: RestContext): RestResult {
  const originId = String(ctx.body?.originId ?? '');
  if (!originId) {
    throw adoErrors.badRequest(
      'InvalidSubjectTypeException',
      'originId is required (this emulator materializes Entra groups only).',
    );
  }
  const entra = ctx.org.tenant.getGroup(originId);
  if (!entra) {
    throw adoErrors.notFound(
      'GraphSubjectNotFoundException',
      `No group with origin id ${originId} in the organization's directory.`,
    );
  }
  const sec = securityOf(ctx.org);
  let g = sec.groups.get(originId);
  if (!g) {
    const hash = sha256Hex(`${ctx.org.id}|${originId}`);
    g = {
      originId,
      displayName: entra.displayName,
      subjectDescriptor: `aadgp.${Buffer.from(hash.slice(0, 32)).toString(
        'base64url',
      )}`,
      identityDescriptor: `Microsoft.TeamFoundation.Identity;S-1-9-1551374245-${parseInt(
        hash.slice(0, 8),
        16,
      )}-${parseInt(hash.slice(8, 16), 16)}`,
    };
    sec.groups.set(originId, g);
  }
  return { status: 201, body: groupJson(g, ctx) };
}

function identities(ctx: RestContext): RestResult {
  const wanted = (ctx.query.get('subjectDescriptors') ?? '')
    .split(',')
    .filter(Boolean);
  const groups = [...securityOf(ctx.org).groups.values()];
  const value = wanted.flatMap(d => {
    const g = groups.find(x => x.subjectDescriptor === d);
    return g
      ? [
          {
            id: g.originId,
            descriptor: g.identityDescriptor,
            subjectDescriptor: g.subjectDescriptor,
            providerDisplayName: g.displayName,
            isActive: true,
            isContainer: true,
          },
        ]
      : [];
  });
  return { body: { count: value.length, value } };
}

function setEntries(ctx: RestContext): RestResult {
  const b = ctx.body ?? {};
  if (typeof b.token !== 'string' || !Array.isArray(b.accessControlEntries)) {
    throw adoErrors.badRequest(
      'ArgumentException',
      'token and accessControlEntries are required.',
    );
  }
  const key = `${ctx.params.securityNamespaceId.toLowerCase()}|${b.token}`;
  const sec = securityOf(ctx.org);
  const acl = sec.acls.get(key) ?? new Map();
  const known = new Set(
    [...sec.groups.values()].map(g => g.identityDescriptor),
  );
  const out = [];
  for (const ace of b.accessControlEntries) {
    if (typeof ace?.descriptor !== 'string' || !known.has(ace.descriptor)) {
      throw adoErrors.badRequest(
        'InvalidAccessControlEntryException',
        `Unknown identity descriptor ${ace?.descriptor}.`,
      );
    }
    const before = b.merge === true ? acl.get(ace.descriptor) : undefined;
    const bits = {
      allow: (before?.allow ?? 0) | Number(ace.allow ?? 0),
      deny: (before?.deny ?? 0) | Number(ace.deny ?? 0),
    };
    acl.set(ace.descriptor, bits);
    out.push({ descriptor: ace.descriptor, ...bits });
  }
  sec.acls.set(key, acl);
  return { body: { count: out.length, value: out } };
}

function listAcls(ctx: RestContext): RestResult {
  const ns = ctx.params.securityNamespaceId.toLowerCase();
  const token = ctx.query.get('token');
  const value = [...securityOf(ctx.org).acls.entries()]
    .filter(([k]) => k.startsWith(`${ns}|`))
    .map(([k, acl]) => ({ token: k.slice(ns.length + 1), acl }))
    .filter(x => token === null || x.token === token)
    .map(x => ({
      inheritPermissions: true,
      token: x.token,
      acesDictionary: Object.fromEntries(
        [...x.acl.entries()].map(([d, bits]) => [
          d,
          { descriptor: d, ...bits },
        ]),
      ),
    }));
  return { body: { count: value.length, value } };
}

/** The routes above, made with `rest.ts`'s route factory. */
export function securityRoutes(
  route: (
    method: string,
    template: string,
    scope: PatScope | undefined,
    handler: RestRoute['handler'],
  ) => RestRoute,
): RestRoute[] {
  const O = '/{organization}';
  return [
    route('POST', `${O}/_apis/graph/groups`, 'vso.graph_manage', createGroup),
    route('GET', `${O}/_apis/identities`, 'vso.graph_manage', identities),
    route(
      'POST',
      `${O}/_apis/accesscontrolentries/{securityNamespaceId}`,
      'vso.security_manage',
      setEntries,
    ),
    route(
      'GET',
      `${O}/_apis/accesscontrollists/{securityNamespaceId}`,
      'vso.security_manage',
      listAcls,
    ),
  ];
}
