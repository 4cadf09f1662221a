import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  GroupEntity,
  stringifyEntityRef,
  UserEntity,
} from '@backstage/catalog-model';
import { matchesFilter, ODataFilter } from './filter';
import { GraphGroup, GraphUser, OrgState } from './OrgState';
import { EntraOrgTransformers } from './transformers';

export const USER_ID_ANNOTATION = 'graph.microsoft.com/user-id';
export const GROUP_ID_ANNOTATION = 'graph.microsoft.com/group-id';
export const TENANT_ID_ANNOTATION = 'graph.microsoft.com/tenant-id';
export const EMAIL_ANNOTATION = 'microsoft.com/email';

/** The user properties entities are made from (a `user.filter` may need more). */
export const USER_PROPERTIES = [
  'id',
  'displayName',
  'userPrincipalName',
  'mail',
  'mailNickname',
  'accountEnabled',
  'jobTitle',
];
/** The group properties entities are made from (a `group.filter` may need more). */
export const GROUP_PROPERTIES = [
  'id',
  'displayName',
  'description',
  'mail',
  'mailNickname',
  'securityEnabled',
  'groupTypes',
];

/** What entities are made of besides the directory. */
export interface RenderOptions {
  providerId: string;
  tenantId: string;
  userFilter?: ODataFilter;
  groupFilter?: ODataFilter;
  /**
   * The names the last round gave, object id to entity name. An object keeps its name while
   * its Graph name says the same, so a newcomer with a colliding name never renames anyone.
   */
  previousNames?: Record<string, string>;
  /** Keep only these groups (after `groupFilter`): e.g. the groups assigned to the app. */
  groupIds?: ReadonlySet<string>;
  /** Profile pictures (data URLs) by user id, for `spec.profile.picture`. */
  pictures?: ReadonlyMap<string, string>;
  /** Run on every entity made; they may change or drop it. */
  transformers?: EntraOrgTransformers;
  /**
   * A user's `memberOf` also lists every group above their groups (all parents, up the
   * nesting), so the catalog's ownership (`memberOf` relations) includes what those own.
   */
  transitiveMemberOf?: boolean;
  /**
   * Objects (ids) whose entities changed besides what Graph's delta reported, or `all`: a
   * delta round renders them again even when Graph did not change them.
   */
  rehash?: ReadonlySet<string> | 'all';
  /**
   * Render only the entities of these objects (ids); names still cover every object, so the
   * member lists are whole. Transformers need every entity and ignore it.
   */
  only?: ReadonlySet<string>;
}

/** Which objects become entities, and their names. */
export interface OrgNaming {
  users: GraphUser[];
  groups: GraphGroup[];
  userName: Map<string, string>;
  groupName: Map<string, string>;
  /** Object id to entity name, users and groups. */
  names: Record<string, string>;
}

/** The entities, and the names they were given (for the next round's `previousNames`). */
export interface RenderedOrg {
  entities: Array<UserEntity | GroupEntity>;
  names: Record<string, string>;
}

/** The sanitised form of a Graph name, before any `-2` that makes it unique. */
function baseName(raw: string): string {
  const base = raw
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 58);
  return base || 'unnamed';
}

/** A valid, unique entity name from a Graph name (`[a-z0-9._-]`, at most 63 characters). */
export function entityName(raw: string, taken: Set<string>): string {
  const base = baseName(raw);
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

/** Whether `name` is `base` or `base-N`, i.e. still fits an object whose base name is `base`. */
function fits(name: string, base: string): boolean {
  if (name === base) return true;
  const suffix = name.startsWith(`${base}-`) ? name.slice(base.length + 1) : '';
  return /^[1-9]\d*$/.test(suffix) && Number(suffix) >= 2;
}

/**
 * Names for objects in id order. Without previous names this is first come, first served by
 * object id; with them, every object whose name still fits keeps it and the rest are named
 * after, so names are stable from round to round.
 */
function assignNames(
  items: Array<{ id: string; raw: string }>,
  previous: Record<string, string> = {},
): Map<string, string> {
  const taken = new Set<string>();
  const names = new Map<string, string>();
  for (const { id, raw } of items) {
    const prev = previous[id];
    if (prev && !taken.has(prev) && fits(prev, baseName(raw))) {
      taken.add(prev);
      names.set(id, prev);
    }
  }
  for (const { id, raw } of items)
    if (!names.has(id)) names.set(id, entityName(raw, taken));
  return names;
}

/** Id order by code unit: object ids are GUIDs, for which it is the same as `localeCompare`, and cheaper. */
const byId = (a: { id: string }, b: { id: string }) => {
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
};

/**
 * The objects that become entities (users the filter keeps, disabled users never; groups the
 * filter keeps) in id order, and their names.
 */
export function nameObjects(
  state: OrgState,
  options: Pick<
    RenderOptions,
    'userFilter' | 'groupFilter' | 'groupIds' | 'previousNames'
  >,
): OrgNaming {
  const { userFilter, groupFilter } = options;
  const users: GraphUser[] = [...state.users.values()]
    .filter(u => u.accountEnabled !== false)
    .filter(u => !userFilter || matchesFilter(userFilter, u))
    .sort(byId);
  const { groupIds } = options;
  const groups: GraphGroup[] = [...state.groups.values()]
    .filter(g => !groupFilter || matchesFilter(groupFilter, g))
    .filter(g => !groupIds || groupIds.has(g.id))
    .sort(byId);
  const userName = assignNames(
    users.map(u => ({
      id: u.id,
      raw: u.mailNickname || (u.userPrincipalName ?? '').split('@')[0],
    })),
    options.previousNames,
  );
  const groupName = assignNames(
    groups.map(g => ({
      id: g.id,
      raw: g.mailNickname || g.displayName || g.id,
    })),
    options.previousNames,
  );
  const names: Record<string, string> = {};
  for (const [id, name] of userName) names[id] = name;
  for (const [id, name] of groupName) names[id] = name;
  return { users, groups, userName, groupName, names };
}

/** The entity refs of the named objects, as object id and ref (as the entities will carry it). */
export function* entityRefs(naming: OrgNaming): Generator<[string, string]> {
  for (const [kind, names] of [
    ['User', naming.userName],
    ['Group', naming.groupName],
  ] as const)
    for (const [id, name] of names)
      yield [id, stringifyEntityRef({ kind, namespace: 'default', name })];
}

/**
 * User and Group entities from the directory: users the filter keeps (disabled users never),
 * groups the filter keeps, members and nesting between those.
 */
export function renderEntities(
  state: OrgState,
  options: RenderOptions,
  naming: OrgNaming = nameObjects(state, options),
): RenderedOrg {
  const location = `msgraph:${options.providerId}/${options.tenantId}`;
  const annotationsBase = {
    [ANNOTATION_LOCATION]: location,
    [ANNOTATION_ORIGIN_LOCATION]: location,
    [TENANT_ID_ANNOTATION]: options.tenantId,
  };
  const { userName, groupName, names } = naming;
  const { pictures } = options;
  const only =
    options.transformers?.user.length || options.transformers?.group.length
      ? undefined
      : options.only;
  const users = only ? naming.users.filter(u => only.has(u.id)) : naming.users;
  const groups = only
    ? naming.groups.filter(g => only.has(g.id))
    : naming.groups;

  const parents = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, key: string, value: string) => {
    const list = m.get(key);
    if (list) list.push(value);
    else m.set(key, [value]);
  };
  // Each user's name and groups in one place, so a membership costs one lookup. A user's
  // groups are kept as names, or as ids when the groups above them are added later.
  const transitive = options.transitiveMemberOf;
  const userInfo = new Map<string, { name: string; groups: string[] }>();
  for (const [uid, name] of userName) userInfo.set(uid, { name, groups: [] });
  // One pass over the memberships: each group's member and child names (sorted, as the
  // entities carry them), each user's groups, each group's parents.
  const memberNames = new Map<string, string[]>();
  const childNames = new Map<string, string[]>();
  for (const [gid, ids] of state.members) {
    const gname = groupName.get(gid);
    if (gname === undefined) continue;
    const rendered = !only || only.has(gid);
    const people: string[] = [];
    const children: string[] = [];
    for (const id of ids) {
      const user = userInfo.get(id);
      if (user !== undefined) {
        if (rendered) people.push(user.name);
        if (!only || only.has(id)) user.groups.push(transitive ? gid : gname);
        continue;
      }
      const group = groupName.get(id);
      if (group !== undefined) {
        if (rendered) children.push(group);
        add(parents, id, gid);
      }
    }
    if (!rendered) continue;
    memberNames.set(gid, people.sort());
    childNames.set(gid, children.sort());
  }
  const ancestorsOf = ancestorLookup(parents);
  /** The names of a user's groups (with `transitiveMemberOf`, and of every group above them). */
  const memberOf = (uid: string): string[] => {
    const direct = userInfo.get(uid)!.groups;
    if (!transitive) return direct.sort();
    const all = new Set(direct);
    for (const gid of direct) for (const a of ancestorsOf(gid)) all.add(a);
    return [...all].map(g => groupName.get(g)!).sort();
  };

  const userEntities: UserEntity[] = users.map(u => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: userInfo.get(u.id)!.name,
      annotations: {
        ...annotationsBase,
        [USER_ID_ANNOTATION]: u.id,
        ...(u.mail ? { [EMAIL_ANNOTATION]: u.mail } : {}),
      },
      ...(u.jobTitle ? { description: u.jobTitle } : {}),
    },
    spec: {
      profile: {
        displayName: u.displayName,
        ...(u.mail ? { email: u.mail } : {}),
        ...(pictures?.has(u.id) ? { picture: pictures.get(u.id) } : {}),
      },
      memberOf: memberOf(u.id),
    },
  }));
  const groupEntities: GroupEntity[] = groups.map(g => {
    const parent = (parents.get(g.id) ?? [])
      .map(id => groupName.get(id)!)
      .sort()[0];
    return {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: {
        name: groupName.get(g.id)!,
        ...(g.description ? { description: g.description } : {}),
        annotations: { ...annotationsBase, [GROUP_ID_ANNOTATION]: g.id },
      },
      spec: {
        type: g.groupTypes?.includes('Unified') ? 'microsoft365' : 'team',
        profile: {
          displayName: g.displayName,
          ...(g.mail ? { email: g.mail } : {}),
        },
        ...(parent ? { parent } : {}),
        children: childNames.get(g.id) ?? [],
        members: memberNames.get(g.id) ?? [],
      },
    };
  });
  const entities =
    options.transformers?.user.length || options.transformers?.group.length
      ? transform(userEntities, users, groupEntities, groups, options)
      : [...userEntities, ...groupEntities];
  return { entities, names };
}

/** Every group above a group (through all its parents), memoised; cycles are cut. */
function ancestorLookup(
  parents: Map<string, string[]>,
): (gid: string) => Set<string> {
  const memo = new Map<string, Set<string>>();
  const visiting = new Set<string>();
  const up = (gid: string): Set<string> => {
    const known = memo.get(gid);
    if (known) return known;
    const out = new Set<string>();
    if (visiting.has(gid)) return out;
    visiting.add(gid);
    for (const p of parents.get(gid) ?? []) {
      out.add(p);
      for (const a of up(p)) out.add(a);
    }
    visiting.delete(gid);
    memo.set(gid, out);
    return out;
  };
  return up;
}

/**
 * Runs the transformers, then follows what they did in the references between entities:
 * a dropped user or group leaves the members, `memberOf`, `children` and `parent` lists, a
 * renamed one is renamed there too.
 */
function transform(
  userEntities: UserEntity[],
  users: GraphUser[],
  groupEntities: GroupEntity[],
  groups: GraphGroup[],
  options: RenderOptions,
): Array<UserEntity | GroupEntity> {
  const context = {
    providerId: options.providerId,
    tenantId: options.tenantId,
  };
  const { user: userT = [], group: groupT = [] } = options.transformers ?? {};
  const run = <E, G>(
    entity: E,
    source: G,
    list: Array<(e: E, s: G, c: typeof context) => E | undefined>,
  ): E | undefined => {
    let current: E | undefined = structuredClone(entity);
    for (const t of list) {
      if (current === undefined) break;
      current = t(current, source, context);
    }
    return current;
  };
  // Old name to new name, or null when the entity was dropped.
  const userRename = new Map<string, string | null>();
  const groupRename = new Map<string, string | null>();
  const keptUsers: UserEntity[] = [];
  const keptGroups: GroupEntity[] = [];
  userEntities.forEach((e, i) => {
    const out = run(e, users[i], userT);
    userRename.set(e.metadata.name, out ? out.metadata.name : null);
    if (out) keptUsers.push(out);
  });
  groupEntities.forEach((e, i) => {
    const out = run(e, groups[i], groupT);
    groupRename.set(e.metadata.name, out ? out.metadata.name : null);
    if (out) keptGroups.push(out);
  });
  const follow = (rename: Map<string, string | null>, refs: string[]) =>
    refs.flatMap(r => {
      const to = rename.has(r) ? rename.get(r) : r;
      return to ? [to] : [];
    });
  for (const u of keptUsers) {
    u.spec.memberOf = follow(groupRename, u.spec.memberOf ?? []);
  }
  for (const g of keptGroups) {
    g.spec.members = follow(userRename, g.spec.members ?? []);
    g.spec.children = follow(groupRename, g.spec.children);
    if (g.spec.parent) {
      const [parent] = follow(groupRename, [g.spec.parent]);
      if (parent) g.spec.parent = parent;
      else delete g.spec.parent;
    }
  }
  return [...keptUsers, ...keptGroups];
}
