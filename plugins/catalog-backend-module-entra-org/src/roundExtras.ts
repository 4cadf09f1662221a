import { RenderOptions } from './entities';
import { matchesFilter, ODataFilter } from './filter';
import { GraphClient } from './GraphClient';
import { DeltaObject, OrgState } from './OrgState';
import { PhotoLoader } from './photos';
import { EntraOrgTransformers } from './transformers';

/** What the extras of a round need from it. */
export interface RoundView {
  state: OrgState;
  full: boolean;
  applied?: { users: DeltaObject[] };
}

/** The optional parts of a round: groups assigned to an app, photos, transformers. */
export interface RoundExtrasOptions {
  /** Keep only the groups assigned to this app (client id), through its service principal. */
  assignedToApp?: string;
  /** Profile photos; undefined: none (the default). */
  photos?: PhotoLoader;
  /** Users the photos are for are those the user filter keeps. */
  userFilter?: ODataFilter;
  transformers?: EntraOrgTransformers;
  /** Users' `memberOf` lists the groups above their groups too (see `RenderOptions`). */
  includeTransitiveGroupOwnership?: boolean;
}

type Extras = Pick<
  RenderOptions,
  'groupIds' | 'pictures' | 'transformers' | 'transitiveMemberOf' | 'rehash'
>;

/** Group assignments of an app, as `GET /servicePrincipals(appId=...)/appRoleAssignedTo` lists them. */
export async function groupsAssignedToApp(
  client: GraphClient,
  appId: string,
): Promise<Set<string>> {
  const assignments = await client.list<{
    principalId: string;
    principalType: string;
  }>(
    `/servicePrincipals(appId='${encodeURIComponent(
      appId,
    )}')/appRoleAssignedTo`,
  );
  return new Set(
    assignments
      .filter(a => a.principalType === 'Group')
      .map(a => a.principalId.toLowerCase()),
  );
}

/**
 * The render options a round adds to the directory: read at the end of the round's Graph
 * reads, with the same client (its requests and resource units count in the round's).
 */
export class RoundExtras {
  /** The assigned groups the last round kept, to notice a change of assignments. */
  private lastAssigned?: string;

  constructor(private readonly options: RoundExtrasOptions) {}

  async forRound(client: GraphClient, round: RoundView): Promise<Extras> {
    const { assignedToApp, photos, userFilter, transformers } = this.options;
    const out: Extras = {};
    // A round hashes only the entities of objects Graph's delta changed. What changes an
    // entity besides the directory must say which entities it may have changed: all of them
    // for transformers (code may change) and for transitive memberships (a change far up the
    // nesting reaches many users), the assigned groups when the assignments change, and the
    // users whose photo changed.
    const rehash = new Set<string>();
    let rehashAll = false;
    if (transformers?.user.length || transformers?.group.length) {
      out.transformers = transformers;
      rehashAll = true;
    }
    if (this.options.includeTransitiveGroupOwnership) {
      out.transitiveMemberOf = true;
      rehashAll = true;
    }
    if (assignedToApp) {
      out.groupIds = await groupsAssignedToApp(client, assignedToApp);
      const key = [...out.groupIds].sort().join(',');
      if (key !== this.lastAssigned) rehashAll = true;
      this.lastAssigned = key;
    }
    if (photos) {
      const users = [...round.state.users.values()]
        .filter(u => u.accountEnabled !== false)
        .filter(u => !userFilter || matchesFilter(userFilter, u))
        .map(u => u.id);
      const changed = new Set(
        round.full ? [] : (round.applied?.users ?? []).map(u => u.id),
      );
      const { pictures, updated } = await photos.load(client, users, changed);
      out.pictures = pictures;
      for (const id of updated) rehash.add(id);
    }
    if (rehashAll) out.rehash = 'all';
    else if (rehash.size) out.rehash = rehash;
    return out;
  }
}
