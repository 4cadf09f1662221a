import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  GroupEntity,
  UserEntity,
} from '@backstage/catalog-model';
import { GraphClient } from './GraphClient';

export const USER_ID_ANNOTATION = 'graph.microsoft.com/user-id';
export const GROUP_ID_ANNOTATION = 'graph.microsoft.com/group-id';
export const TENANT_ID_ANNOTATION = 'graph.microsoft.com/tenant-id';
export const EMAIL_ANNOTATION = 'microsoft.com/email';

export interface GraphUser {
  id: string;
  displayName?: string;
  userPrincipalName: string;
  mail?: string | null;
  mailNickname?: string;
  accountEnabled?: boolean;
  jobTitle?: string | null;
}

export interface GraphGroup {
  id: string;
  displayName?: string;
  description?: string | null;
  mail?: string | null;
  mailNickname?: string;
  securityEnabled?: boolean;
  groupTypes?: string[];
}

export interface OrgSnapshot {
  tenantId: string;
  users: GraphUser[];
  groups: GraphGroup[];
  /** groupId -> member ids (users and groups) */
  members: Map<string, string[]>;
}

const USER_SELECT =
  'id,displayName,userPrincipalName,mail,mailNickname,accountEnabled,jobTitle';
const GROUP_SELECT =
  'id,displayName,description,mail,mailNickname,securityEnabled,groupTypes';

/** Reads users, groups and direct memberships of a tenant (a full read; the first cut). */
export async function readOrg(
  client: GraphClient,
  tenantId: string,
  options: {
    userFilter?: string;
    groupFilter?: string;
    concurrency?: number;
  } = {},
): Promise<OrgSnapshot> {
  const q = (select: string, filter?: string) =>
    `?$select=${select}&$top=999${
      filter ? `&$filter=${encodeURIComponent(filter)}` : ''
    }`;
  const users = await client.list<GraphUser>(
    `/users${q(USER_SELECT, options.userFilter)}`,
  );
  const groups = await client.list<GraphGroup>(
    `/groups${q(GROUP_SELECT, options.groupFilter)}`,
  );
  const members = new Map<string, string[]>();
  const queue = [...groups];
  const worker = async () => {
    for (let g = queue.shift(); g; g = queue.shift()) {
      const list = await client.list<{ id: string }>(
        `/groups/${g.id}/members?$select=id&$top=999`,
      );
      members.set(
        g.id,
        list.map(m => m.id),
      );
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return { tenantId, users, groups, members };
}

/** A valid, unique entity name from a Graph name (`[a-z0-9._-]`, at most 63 characters). */
export function entityName(raw: string, taken: Set<string>): string {
  let base = raw
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 58);
  if (!base) base = 'unnamed';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

/** Turns a snapshot into User and Group entities; disabled users are left out. */
export function toEntities(
  snapshot: OrgSnapshot,
  providerId: string,
): Array<UserEntity | GroupEntity> {
  const location = `msgraph:${providerId}/${snapshot.tenantId}`;
  const annotationsBase = {
    [ANNOTATION_LOCATION]: location,
    [ANNOTATION_ORIGIN_LOCATION]: location,
    [TENANT_ID_ANNOTATION]: snapshot.tenantId,
  };
  const users = [...snapshot.users]
    .filter(u => u.accountEnabled !== false)
    .sort((a, b) => a.id.localeCompare(b.id));
  const groups = [...snapshot.groups].sort((a, b) => a.id.localeCompare(b.id));
  const taken = new Set<string>();
  const userName = new Map<string, string>();
  for (const u of users) {
    userName.set(
      u.id,
      entityName(u.mailNickname || u.userPrincipalName.split('@')[0], taken),
    );
  }
  const groupTaken = new Set<string>();
  const groupName = new Map<string, string>();
  for (const g of groups) {
    groupName.set(
      g.id,
      entityName(g.mailNickname || g.displayName || g.id, groupTaken),
    );
  }
  const parents = new Map<string, string[]>();
  const userGroups = new Map<string, string[]>();
  for (const [gid, ids] of snapshot.members) {
    if (!groupName.has(gid)) continue;
    for (const id of ids) {
      if (groupName.has(id)) parents.set(id, [...(parents.get(id) ?? []), gid]);
      if (userName.has(id))
        userGroups.set(id, [...(userGroups.get(id) ?? []), gid]);
    }
  }
  const userEntities: UserEntity[] = users.map(u => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: userName.get(u.id)!,
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
      },
      memberOf: (userGroups.get(u.id) ?? []).map(g => groupName.get(g)!).sort(),
    },
  }));
  const groupEntities: GroupEntity[] = groups.map(g => {
    const children = (snapshot.members.get(g.id) ?? [])
      .filter(id => groupName.has(id))
      .map(id => groupName.get(id)!);
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
        children: children.sort(),
        members: (snapshot.members.get(g.id) ?? [])
          .filter(id => userName.has(id))
          .map(id => userName.get(id)!)
          .sort(),
      },
    };
  });
  return [...userEntities, ...groupEntities];
}
