import { GroupEntity, UserEntity } from '@backstage/catalog-model';
import { GROUP_PROPERTIES, renderEntities, USER_PROPERTIES } from './entities';
import { GraphClient } from './GraphClient';
import { GraphGroup, GraphUser, OrgState } from './OrgState';

export type { GraphGroup, GraphUser } from './OrgState';
export {
  EMAIL_ANNOTATION,
  entityName,
  GROUP_ID_ANNOTATION,
  TENANT_ID_ANNOTATION,
  USER_ID_ANNOTATION,
} from './entities';

export interface OrgSnapshot {
  tenantId: string;
  users: GraphUser[];
  groups: GraphGroup[];
  /** groupId -> member ids (users and groups) */
  members: Map<string, string[]>;
}

/**
 * Reads users, groups and direct memberships of a tenant with list requests: one request per
 * group for its members. The sync uses delta queries instead; this full read stays as the
 * reference the delta sync is compared with, in tests and benchmarks.
 */
export async function readOrg(
  client: GraphClient,
  tenantId: string,
  options: {
    userFilter?: string;
    groupFilter?: string;
    concurrency?: number;
  } = {},
): Promise<OrgSnapshot> {
  const q = (select: string[], filter?: string) =>
    `?$select=${select.join(',')}&$top=999${
      filter ? `&$filter=${encodeURIComponent(filter)}` : ''
    }`;
  const users = await client.list<GraphUser>(
    `/users${q(USER_PROPERTIES, options.userFilter)}`,
  );
  const groups = await client.list<GraphGroup>(
    `/groups${q(GROUP_PROPERTIES, options.groupFilter)}`,
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

/** Turns a snapshot into User and Group entities; disabled users are left out. */
export function toEntities(
  snapshot: OrgSnapshot,
  providerId: string,
): Array<UserEntity | GroupEntity> {
  const state = new OrgState();
  for (const u of snapshot.users) state.users.set(u.id, u);
  for (const g of snapshot.groups) state.groups.set(g.id, g);
  for (const [gid, ids] of snapshot.members)
    state.members.set(gid, [...new Set(ids)]);
  return renderEntities(state, { providerId, tenantId: snapshot.tenantId })
    .entities;
}
