import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { DeltaLinks } from './DeltaReader';
import { EntityHashes } from './entityDiff';
import { OrgState, OrgStateJson } from './OrgState';

const TABLE = 'entra_org_sync_state';
/** Our own migration bookkeeping: the catalog's database already has its `knex_migrations`. */
const MIGRATIONS_TABLE = 'entra_org_knex_migrations';
const PAYLOAD_VERSION = 1;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The directory after a finished round, and what the catalog was given for it. */
export interface SyncSnapshot {
  state: OrgState;
  /** Object id to entity name, so names stay stable from round to round. */
  names: Record<string, string>;
  /** Entity ref to hash of what was written, to find the entities a round changed. */
  hashes: EntityHashes;
}

/** What a provider keeps between rounds. */
export interface StoredSync extends SyncSnapshot {
  /** Tenant, Graph URL and selected properties: a state read otherwise is not reused. */
  source: string;
  links: DeltaLinks;
}

interface Payload {
  v: number;
  state: OrgStateJson;
  names: Record<string, string>;
  hashes: EntityHashes;
}

/**
 * The sync state, one row per provider id in the catalog's database. One gzip'd JSON value
 * rather than tables of users, groups and memberships: a round needs the whole directory in
 * memory anyway (names and nesting depend on all of it), the row is replaced in one write,
 * which is what makes a round all-or-nothing, and gzip keeps a tenant of 10,000 people to a
 * few megabytes. A round that changed nothing rewrites only the links.
 */
export class OrgSyncStore {
  private constructor(private readonly db: Knex) {}

  /** Opens the store, bringing the table up to date unless migrations are switched off. */
  static async create(database: DatabaseService): Promise<OrgSyncStore> {
    const db = await database.getClient();
    if (!database.migrations?.skip) {
      await db.migrate.latest({
        directory: resolvePackagePath(
          '@gatehouse/plugin-catalog-backend-module-entra-org',
          'migrations',
        ),
        tableName: MIGRATIONS_TABLE,
      });
    }
    return new OrgSyncStore(db);
  }

  /** The state the last finished round of this provider left, if any. */
  async load(providerId: string): Promise<StoredSync | undefined> {
    const row = await this.db(TABLE).where({ provider_id: providerId }).first();
    if (!row) return undefined;
    const payload = JSON.parse(
      (await gunzipAsync(row.state as Buffer)).toString('utf8'),
    ) as Payload;
    // A state written by another version of the sync is read again from Graph.
    if (payload.v !== PAYLOAD_VERSION) return undefined;
    return {
      source: row.source,
      links: { users: row.users_delta_link, groups: row.groups_delta_link },
      state: OrgState.fromJSON(payload.state),
      names: payload.names,
      hashes: payload.hashes,
    };
  }

  /**
   * Commits a finished round: the links, and the snapshot when the round changed it (without
   * one, the stored snapshot stays and only the links move on).
   */
  async save(
    providerId: string,
    round: { source: string; links: DeltaLinks; snapshot?: SyncSnapshot },
  ): Promise<void> {
    const links = {
      source: round.source,
      users_delta_link: round.links.users,
      groups_delta_link: round.links.groups,
      updated_at: this.db.fn.now(),
    };
    if (!round.snapshot) {
      const updated = await this.db(TABLE)
        .where({ provider_id: providerId })
        .update(links);
      if (updated === 1) return;
      throw new Error(`No stored Entra org sync state for ${providerId}`);
    }
    const payload: Payload = {
      v: PAYLOAD_VERSION,
      state: round.snapshot.state.toJSON(),
      names: round.snapshot.names,
      hashes: round.snapshot.hashes,
    };
    const state = await gzipAsync(Buffer.from(JSON.stringify(payload)));
    await this.db(TABLE)
      .insert({ provider_id: providerId, ...links, state })
      .onConflict('provider_id')
      .merge();
  }
}
