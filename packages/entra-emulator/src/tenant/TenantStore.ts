import {
  EmulatedApplication,
  EmulatedManagedIdentity,
  EmulatedGroup,
  EmulatedPhoto,
  EmulatedTenantData,
  EmulatedUser,
} from './types';

/** A removal of an object or of a membership, remembered for delta queries. */
interface Tombstone {
  version: number;
  kind: 'user' | 'group' | 'member';
  id: string;
  /** For a member removal: the member's id. */
  memberId?: string;
}

/**
 * The directory of one emulated tenant, with a change version on every object and membership
 * so that delta queries can answer "what changed since".
 */
export class TenantStore {
  readonly id: string;
  displayName: string;
  readonly domains: string[];
  readonly applications: EmulatedApplication[];
  readonly managedIdentities: EmulatedManagedIdentity[];

  private readonly users = new Map<string, EmulatedUser>();
  private readonly groups = new Map<string, EmulatedGroup>();
  private readonly objectVersion = new Map<string, number>();
  /** groupId -> memberId -> version the membership was added at */
  private readonly memberVersion = new Map<string, Map<string, number>>();
  private readonly tombstones: Tombstone[] = [];
  private memberOfCache?: Map<string, Set<string>>;
  private versionCounter = 0;

  constructor(data: EmulatedTenantData) {
    this.id = data.id;
    this.displayName = data.displayName;
    this.domains = data.domains.map(d => d.toLowerCase());
    this.applications = data.applications;
    this.managedIdentities = data.managedIdentities ?? [];
    const v = this.nextVersion();
    for (const u of data.users) {
      this.users.set(u.id, u);
      this.objectVersion.set(u.id, v);
    }
    for (const g of data.groups) {
      this.groups.set(g.id, { ...g, members: [...g.members] });
      this.objectVersion.set(g.id, v);
      this.memberVersion.set(g.id, new Map(g.members.map(m => [m, v])));
    }
  }

  /** The current change version; a delta round started now covers everything up to it. */
  get version(): number {
    return this.versionCounter;
  }

  private nextVersion(): number {
    this.versionCounter += 1;
    this.memberOfCache = undefined;
    return this.versionCounter;
  }

  get userCount(): number {
    return this.users.size;
  }

  listUsers(): EmulatedUser[] {
    return [...this.users.values()];
  }

  listGroups(): EmulatedGroup[] {
    return [...this.groups.values()];
  }

  getUser(idOrUpn: string): EmulatedUser | undefined {
    const direct = this.users.get(idOrUpn);
    if (direct) return direct;
    const lower = idOrUpn.toLowerCase();
    return this.listUsers().find(
      u => u.userPrincipalName.toLowerCase() === lower,
    );
  }

  getGroup(id: string): EmulatedGroup | undefined {
    return this.groups.get(id);
  }

  getObject(id: string): EmulatedUser | EmulatedGroup | undefined {
    return this.users.get(id) ?? this.groups.get(id);
  }

  isUser(id: string): boolean {
    return this.users.has(id);
  }

  /** The type of a directory object, also of one that was removed (for delta's member references). */
  objectType(id: string): 'user' | 'group' | undefined {
    if (this.users.has(id)) return 'user';
    if (this.groups.has(id)) return 'group';
    for (let i = this.tombstones.length - 1; i >= 0; i--) {
      const t = this.tombstones[i];
      if (t.id === id && t.kind !== 'member') return t.kind;
    }
    return undefined;
  }

  getApplication(appId: string): EmulatedApplication | undefined {
    return this.applications.find(a => a.appId === appId);
  }

  /** Groups the object is a direct member of. */
  directMemberOf(objectId: string): EmulatedGroup[] {
    return this.memberOf().get(objectId)
      ? [...this.memberOf().get(objectId)!].map(id => this.groups.get(id)!)
      : [];
  }

  /** Groups the object is a member of, directly or through nested groups. */
  transitiveMemberOf(objectId: string): EmulatedGroup[] {
    const seen = new Set<string>();
    const queue = [objectId];
    while (queue.length) {
      const current = queue.shift()!;
      for (const parent of this.memberOf().get(current) ?? []) {
        if (!seen.has(parent)) {
          seen.add(parent);
          queue.push(parent);
        }
      }
    }
    return [...seen].map(id => this.groups.get(id)!);
  }

  /** Members of a group and of its nested groups (users and groups), each once. */
  transitiveMembers(groupId: string): Array<EmulatedUser | EmulatedGroup> {
    const seen = new Set<string>();
    const queue = [groupId];
    while (queue.length) {
      const g = this.groups.get(queue.shift()!);
      for (const m of g?.members ?? []) {
        if (!seen.has(m)) {
          seen.add(m);
          if (this.groups.has(m)) queue.push(m);
        }
      }
    }
    return [...seen].map(id => this.getObject(id)!).filter(Boolean);
  }

  private memberOf(): Map<string, Set<string>> {
    if (!this.memberOfCache) {
      const index = new Map<string, Set<string>>();
      for (const g of this.groups.values()) {
        for (const m of g.members) {
          let set = index.get(m);
          if (!set) {
            set = new Set();
            index.set(m, set);
          }
          set.add(g.id);
        }
      }
      this.memberOfCache = index;
    }
    return this.memberOfCache;
  }

  // Mutations, for tests, benchmarks and the admin API. Each bumps the change version.

  upsertUser(user: EmulatedUser): void {
    this.users.set(user.id, user);
    this.objectVersion.set(user.id, this.nextVersion());
  }

  updateUser(id: string, patch: Partial<Omit<EmulatedUser, 'id'>>): void {
    const user = this.users.get(id);
    if (!user) throw new Error(`No user ${id} in tenant ${this.id}`);
    this.upsertUser({ ...user, ...patch, id });
  }

  /**
   * Sets (or, with undefined, removes) a user's photo. Like Graph, a photo change is not a
   * change of the user object: `/users/delta` does not report it.
   */
  setUserPhoto(id: string, photo: EmulatedPhoto | undefined): void {
    const user = this.users.get(id);
    if (!user) throw new Error(`No user ${id} in tenant ${this.id}`);
    this.users.set(id, { ...user, photo });
  }

  removeUser(id: string): void {
    if (!this.users.delete(id)) return;
    const v = this.nextVersion();
    this.objectVersion.delete(id);
    this.tombstones.push({ version: v, kind: 'user', id });
    for (const g of this.groups.values()) {
      if (g.members.includes(id)) this.removeMember(g.id, id);
    }
  }

  /**
   * Creates a group or replaces one: its properties, and its members become exactly
   * `group.members` (members left out are removed, as delta then reports).
   */
  upsertGroup(group: EmulatedGroup): void {
    const existing = this.groups.get(group.id);
    for (const m of group.members) {
      if (m === group.id)
        throw new Error(`Group ${m} cannot be a member of itself`);
      if (!this.getObject(m))
        throw new Error(`No object ${m} in tenant ${this.id}`);
    }
    const v = this.nextVersion();
    this.groups.set(group.id, { ...group, members: existing?.members ?? [] });
    this.objectVersion.set(group.id, v);
    if (!this.memberVersion.has(group.id))
      this.memberVersion.set(group.id, new Map());
    const wanted = new Set(group.members);
    for (const m of existing?.members ?? [])
      if (!wanted.has(m)) this.removeMember(group.id, m);
    for (const m of wanted) this.addMember(group.id, m);
  }

  updateGroup(
    id: string,
    patch: Partial<Omit<EmulatedGroup, 'id' | 'members'>>,
  ): void {
    const group = this.groups.get(id);
    if (!group) throw new Error(`No group ${id} in tenant ${this.id}`);
    this.groups.set(id, { ...group, ...patch, id });
    this.objectVersion.set(id, this.nextVersion());
  }

  removeGroup(id: string): void {
    if (!this.groups.has(id)) return;
    for (const g of this.groups.values()) {
      if (g.members.includes(id)) this.removeMember(g.id, id);
    }
    this.groups.delete(id);
    this.memberVersion.delete(id);
    this.objectVersion.delete(id);
    this.tombstones.push({ version: this.nextVersion(), kind: 'group', id });
  }

  addMember(groupId: string, memberId: string): void {
    const group = this.groups.get(groupId);
    if (!group) throw new Error(`No group ${groupId} in tenant ${this.id}`);
    if (!this.getObject(memberId))
      throw new Error(`No object ${memberId} in tenant ${this.id}`);
    if (memberId === groupId)
      throw new Error(`Group ${groupId} cannot be a member of itself`);
    if (group.members.includes(memberId)) return;
    group.members.push(memberId);
    this.memberVersion.get(groupId)!.set(memberId, this.nextVersion());
  }

  removeMember(groupId: string, memberId: string): void {
    const group = this.groups.get(groupId);
    if (!group || !group.members.includes(memberId)) return;
    group.members = group.members.filter(m => m !== memberId);
    this.memberVersion.get(groupId)!.delete(memberId);
    this.tombstones.push({
      version: this.nextVersion(),
      kind: 'member',
      id: groupId,
      memberId,
    });
  }

  // Change tracking, for delta queries.

  /** Users changed after `since` (0: all), and ids of users removed after it. */
  userChanges(since: number): { changed: EmulatedUser[]; removed: string[] } {
    const changed = this.listUsers().filter(
      u => (this.objectVersion.get(u.id) ?? 0) > since,
    );
    const removed =
      since === 0
        ? []
        : this.tombstones
            .filter(
              t =>
                t.kind === 'user' && t.version > since && !this.users.has(t.id),
            )
            .map(t => t.id);
    return { changed, removed: [...new Set(removed)] };
  }

  /**
   * Groups changed after `since`: a group whose properties or membership changed, with the
   * members added and removed since then (all members on a first round).
   */
  groupChanges(since: number): {
    changed: Array<{
      group: EmulatedGroup;
      added: string[];
      removedMembers: string[];
    }>;
    removed: string[];
  } {
    const byGroup = new Map<
      string,
      { group: EmulatedGroup; added: string[]; removedMembers: string[] }
    >();
    const entry = (g: EmulatedGroup) => {
      let e = byGroup.get(g.id);
      if (!e) {
        e = { group: g, added: [], removedMembers: [] };
        byGroup.set(g.id, e);
      }
      return e;
    };
    for (const g of this.groups.values()) {
      if ((this.objectVersion.get(g.id) ?? 0) > since) entry(g);
      for (const [m, v] of this.memberVersion.get(g.id) ?? []) {
        if (v > since) entry(g).added.push(m);
      }
    }
    const removed: string[] = [];
    if (since > 0) {
      for (const t of this.tombstones) {
        if (t.version <= since) continue;
        if (t.kind === 'group' && !this.groups.has(t.id)) removed.push(t.id);
        if (t.kind === 'member' && this.groups.has(t.id)) {
          const group = this.groups.get(t.id)!;
          if (!group.members.includes(t.memberId!))
            entry(group).removedMembers.push(t.memberId!);
        }
      }
    }
    // A group that is new or whose properties changed, on a later round, still reports only the
    // member changes since `since`; on a first round `added` already holds all members.
    return {
      changed: [...byGroup.values()].map(e => ({
        ...e,
        removedMembers: [...new Set(e.removedMembers)],
      })),
      removed: [...new Set(removed)],
    };
  }
}
