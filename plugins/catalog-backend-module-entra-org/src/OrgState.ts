/** A user as Graph returns it (the properties the sync selects). */
export interface GraphUser {
  id: string;
  displayName?: string;
  userPrincipalName: string;
  mail?: string | null;
  mailNickname?: string;
  accountEnabled?: boolean;
  jobTitle?: string | null;
  /** Properties a `user.filter` reads, when it reads others. */
  [property: string]: unknown;
}

/** A group as Graph returns it (the properties the sync selects). */
export interface GraphGroup {
  id: string;
  displayName?: string;
  description?: string | null;
  mail?: string | null;
  mailNickname?: string;
  securityEnabled?: boolean;
  groupTypes?: string[];
  [property: string]: unknown;
}

/** An object on a delta page: properties, or `@removed`, and for groups `members@delta`. */
export interface DeltaObject {
  id: string;
  '@removed'?: { reason?: string };
  'members@delta'?: Array<{
    id: string;
    '@odata.type'?: string;
    '@removed'?: { reason?: string };
  }>;
  [property: string]: unknown;
}

/** The stored form: object ids as keys, so an id is not written twice. */
export interface OrgStateJson {
  users: Record<string, Omit<GraphUser, 'id'>>;
  groups: Record<string, Omit<GraphGroup, 'id'>>;
  members: Record<string, string[]>;
}

/** Member references of these types are kept; devices, contacts and apps are not catalog entities. */
const MEMBER_TYPES = new Set([
  '#microsoft.graph.user',
  '#microsoft.graph.group',
]);

/** The properties of a delta object, without the OData annotations. */
function properties(o: DeltaObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!k.includes('@')) out[k] = v;
  return out;
}

/**
 * The directory as the delta rounds so far describe it: every user and group (filters are
 * applied when entities are made, so a user who becomes enabled again is already known) and
 * every direct membership, group id to member ids.
 */
export class OrgState {
  readonly users = new Map<string, GraphUser>();
  readonly groups = new Map<string, GraphGroup>();
  /**
   * Group id to member ids: an array, or a set while a round adds to or removes from the
   * group's members (`seal` turns it back; an array takes about half the memory of a set).
   */
  readonly members = new Map<string, string[] | Set<string>>();

  /**
   * Applies a user from `/users/delta`. Graph may send only the properties that changed, and
   * may send an object twice in a round: properties are merged, the later value wins.
   */
  applyUser(o: DeltaObject): void {
    if (o['@removed']) {
      this.users.delete(o.id);
      return;
    }
    const user = { ...this.users.get(o.id), ...properties(o) } as GraphUser;
    this.users.set(o.id, user);
  }

  /**
   * Applies a group from `/groups/delta`: a group whose members span several pages comes once
   * per page with more `members@delta`, which add up; a member reference with `@removed`
   * ends that membership.
   */
  applyGroup(o: DeltaObject): void {
    if (o['@removed']) {
      this.groups.delete(o.id);
      this.members.delete(o.id);
      return;
    }
    const group = { ...this.groups.get(o.id), ...properties(o) } as GraphGroup;
    this.groups.set(o.id, group);
    const refs = o['members@delta'];
    if (!refs?.length) return;
    const current = this.members.get(o.id);
    let set: Set<string>;
    if (current instanceof Set) set = current;
    else {
      set = new Set(current);
      this.members.set(o.id, set);
    }
    for (const ref of refs) {
      if (ref['@removed']) set.delete(ref.id);
      else if (!ref['@odata.type'] || MEMBER_TYPES.has(ref['@odata.type']))
        set.add(this.intern(ref.id));
    }
  }

  /** Sets a group's members as stored (ids of users and groups, each once). */
  setMembers(groupId: string, ids: string[]): void {
    this.members.set(
      groupId,
      ids.map(id => this.intern(id)),
    );
  }

  /** Turns the member sets of these groups (default: all) into arrays, once they are complete. */
  seal(groupIds: Iterable<string> = this.members.keys()): void {
    for (const id of groupIds) {
      const members = this.members.get(id);
      if (members instanceof Set) this.members.set(id, [...members]);
    }
  }

  /** A group's member ids. */
  memberIds(groupId: string): string[] {
    return [...(this.members.get(groupId) ?? [])];
  }

  /**
   * The id string the state already holds for an object, so that a million member references
   * share a hundred thousand strings rather than each keeping its own copy.
   */
  private intern(id: string): string {
    return this.users.get(id)?.id ?? this.groups.get(id)?.id ?? id;
  }

  /** Direct memberships, all groups together. */
  get membershipCount(): number {
    let n = 0;
    for (const members of this.members.values())
      n += members instanceof Set ? members.size : members.length;
    return n;
  }

  toJSON(): OrgStateJson {
    const strip = <T extends { id: string }>(m: Map<string, T>) =>
      Object.fromEntries(
        [...m].map(([id, { id: _, ...rest }]) => [id, rest]),
      ) as Record<string, Omit<T, 'id'>>;
    return {
      users: strip(this.users),
      groups: strip(this.groups),
      members: Object.fromEntries(
        [...this.members]
          .map(([gid, members]): [string, string[]] => [gid, [...members]])
          .filter(([, ids]) => ids.length > 0),
      ),
    };
  }

  static fromJSON(json: OrgStateJson): OrgState {
    const state = new OrgState();
    for (const [id, u] of Object.entries(json.users))
      state.users.set(id, { ...u, id } as GraphUser);
    for (const [id, g] of Object.entries(json.groups))
      state.groups.set(id, { ...g, id } as GraphGroup);
    for (const [gid, ids] of Object.entries(json.members))
      state.members.set(gid, ids);
    return state;
  }
}
