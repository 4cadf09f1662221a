import { adoErrors } from './errors';
import type { AdoOrganization } from './AdoStore';
import type { PatScope } from './model';
import type { RestContext, RestResult, RestRoute } from './rest';
import { sha256Hex } from '../tenant/loadTenants';

/**
 * The minimum of Azure DevOps security the golden-path template needs to give an Entra group
 * access to a new repository, with the real routes and shapes:
 *
 * - `POST {org}/_apis/graph/groups` `{ originId }` (on `vssps.dev.azure.com` in the service)
 *   adds an Entra group of the organization's tenant to the organization; its members are then
 *   members of the organization here (they count for `isMember`);
 * - `GET {org}/_apis/identities?subjectDescriptors=` gives the identity descriptor of a
 *   subject (what access control entries name);
 * - `POST {org}/_apis/accesscontrolentries/{namespaceId}` `{ token, merge, accessControlEntries }`
 *   sets entries (merging allow/deny bits with `merge: true`);
 * - `GET {org}/_apis/accesscontrollists/{namespaceId}?token=` reads them back.
 *
 * The entries are stored, not enforced: access is still decided by membership and PAT scopes.
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
    if (!ctx.org.members.includes(entra.displayName)) {
      ctx.org.members.push(entra.displayName);
    }
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
