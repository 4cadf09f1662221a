import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { DeltaLinks } from './DeltaReader';
import { EntityHashes } from './entityDiff';
import { DeltaObject, GraphGroup, GraphUser, OrgState } from './OrgState';

const HEADS = 'entra_org_sync_heads';
const CHUNKS = 'entra_org_sync_chunks';
/** Our own migration bookkeeping: the catalog's database already has its `knex_migrations`. */
const MIGRATIONS_TABLE = 'entra_org_knex_migrations';
/** Objects (or names, or hashes) per snapshot chunk: a few megabytes of JSON at most. */
const CHUNK_ITEMS = 5_000;
/** Chunks compressed ahead of the one being written. */
const COMPRESS_AHEAD = 2;

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

/** Where a provider stands, without its directory. */
export interface StoredHead {
  /** Tenant, Graph URL and selected properties: a state read otherwise is not reused. */
  source: string;
  links: DeltaLinks;
  /** Rounds stored so far: another replica's round changes it. */
  generation: number;
  /** Delta rounds stored as journal since the last snapshot. */
  journalLength: number;
}

/** What a provider keeps between rounds. */
export interface StoredSync extends SyncSnapshot, StoredHead {}

/** What a delta round changed, stored instead of the whole directory. */
export interface SyncJournal {
  /** The objects of the round's delta pages, in the order they were applied. */
  users: DeltaObject[];
  groups: DeltaObject[];
  /** Names given or changed, and names of objects that have no entity any more. */
  names: Record<string, string>;
  namesRemoved: string[];
  /** Hashes of entities written, and refs of entities removed. */
  hashes: EntityHashes;
  hashesRemoved: string[];
}

type Chunk =
  | {
      u?: Array<[string, Omit<GraphUser, 'id'>]>;
      g?: Array<[string, Omit<GraphGroup, 'id'>, string[]]>;
      n?: Array<[string, string]>;
      h?: Array<[string, string]>;
    }
  | { j: SyncJournal };

/** Thrown when another replica stored a round since this one loaded the state. */
export class SyncConflictError extends Error {
  readonly code = 'SyncConflict';
  constructor(providerId: string) {
    super(
      `Another replica stored an Entra org sync round of ${providerId} meanwhile; this round is dropped and the next one starts from the stored state`,
    );
    this.name = 'SyncConflictError';
  }
}

/** The entries of a record one by one (`Object.entries` would make them all at once). */
function* entriesOf<T>(record: Record<string, T>): Generator<[string, T]> {
  for (const key of Object.keys(record)) yield [key, record[key]];
}

function* chunked<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/**
 * The sync state in the catalog's database: per provider a head row (source, delta links,
 * generation) and chunks of gzip'd JSON. A first round stores a snapshot of the directory in
 * chunks of a few thousand objects; a delta round appends a journal chunk with only what it
 * changed, so storing it costs about as much as the change. After `maxJournal` delta rounds
 * the provider stores a snapshot again. Every save is one transaction that also checks the
 * generation it started from: a round is stored whole or not at all, and two replicas cannot
 * both store a round from the same state.
 */
export class OrgSyncStore {
  private constructor(private readonly db: Knex) {}

  /** Opens the store, bringing its tables up to date unless migrations are switched off. */
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

  /** Where the provider stands, read without its directory. */
  async head(providerId: string): Promise<StoredHead | undefined> {
    const row = await this.db(HEADS).where({ provider_id: providerId }).first();
    if (!row) return undefined;
    return {
      source: row.source,
      links: { users: row.users_delta_link, groups: row.groups_delta_link },
      generation: Number(row.generation),
      journalLength: Number(row.generation) - Number(row.snapshot_generation),
    };
  }

  /** The state the last finished round of this provider left, if any. */
  async load(providerId: string): Promise<StoredSync | undefined> {
    const row = await this.db(HEADS).where({ provider_id: providerId }).first();
    if (!row) return undefined;
    const keys: Array<{ generation: number; seq: number }> = await this.db(
      CHUNKS,
    )
      .where({ provider_id: providerId })
      .andWhere('generation', '>=', row.snapshot_generation)
      .andWhere('generation', '<=', row.generation)
      .orderBy([
        { column: 'generation', order: 'asc' },
        { column: 'seq', order: 'asc' },
      ])
      .select('generation', 'seq');
    const state = new OrgState();
    const names: Record<string, string> = {};
    const hashes: EntityHashes = {};
    // One chunk in memory at a time.
    for (const key of keys) {
      const { data } = await this.db(CHUNKS)
        .where({ provider_id: providerId, ...key })
        .first('data');
      const chunk = JSON.parse(
        (await gunzipAsync(data as Buffer)).toString('utf8'),
      ) as Chunk;
      if ('j' in chunk) {
        const j = chunk.j;
        for (const o of j.users) state.applyUser(o);
        for (const o of j.groups) state.applyGroup(o);
        Object.assign(names, j.names);
        for (const id of j.namesRemoved) delete names[id];
        Object.assign(hashes, j.hashes);
        for (const ref of j.hashesRemoved) delete hashes[ref];
        continue;
      }
      for (const [id, props] of chunk.u ?? [])
        state.users.set(id, { ...props, id } as GraphUser);
      for (const [id, props, members] of chunk.g ?? []) {
        state.groups.set(id, { ...props, id } as GraphGroup);
        if (members.length) state.setMembers(id, members);
      }
      for (const [id, name] of chunk.n ?? []) names[id] = name;
      for (const [ref, hash] of chunk.h ?? []) hashes[ref] = hash;
    }
    state.seal(); // groups a journal changed
    return {
      source: row.source,
      links: { users: row.users_delta_link, groups: row.groups_delta_link },
      generation: Number(row.generation),
      journalLength: Number(row.generation) - Number(row.snapshot_generation),
      state,
      names,
      hashes,
    };
  }

  /**
   * Stores a whole round: the directory in chunks, replacing everything stored for the
   * provider. `after` is the generation the round started from (undefined: none stored).
   * Returns the new generation.
   */
  async saveSnapshot(
    providerId: string,
    round: {
      source: string;
      links: DeltaLinks;
      snapshot: SyncSnapshot;
      after?: number;
    },
  ): Promise<number> {
    const { state, names, hashes } = round.snapshot;
    const chunks = (function* snapshotChunks(): Generator<Chunk> {
      for (const users of chunked(state.users.values(), CHUNK_ITEMS)) {
        yield {
          u: users.map(
            ({ id, ...props }) => [id, props] as [string, typeof props],
          ),
        };
      }
      for (const groups of chunked(state.groups.values(), CHUNK_ITEMS)) {
        yield {
          g: groups.map(
            ({ id, ...props }) =>
              [id, props, state.memberIds(id)] as [
                string,
                typeof props,
                string[],
              ],
          ),
        };
      }
      for (const n of chunked(entriesOf(names), CHUNK_ITEMS * 4)) yield { n };
      for (const h of chunked(entriesOf(hashes), CHUNK_ITEMS * 4)) yield { h };
    })();
    return this.db.transaction(async tx => {
      const generation = (await this.check(tx, providerId, round.after)) + 1;
      await tx(CHUNKS).where({ provider_id: providerId }).delete();
      // Level 1: most of the size for a fraction of the time (ids and names compress well).
      // The next chunks are serialised while earlier ones compress (zlib runs off the main
      // thread), a few at a time so memory stays at a few chunks.
      const compress = (chunk: Chunk) =>
        gzipAsync(Buffer.from(JSON.stringify(chunk)), { level: 1 });
      const ahead: Array<Promise<Buffer>> = [];
      let seq = 0;
      const insertNext = async () =>
        tx(CHUNKS).insert({
          provider_id: providerId,
          generation,
          seq: seq++,
          data: await ahead.shift()!,
        });
      for (const chunk of chunks) {
        const compressed = compress(chunk);
        compressed.catch(() => {}); // awaited below, in order
        ahead.push(compressed);
        if (ahead.length > COMPRESS_AHEAD) await insertNext();
      }
      while (ahead.length) await insertNext();
      await this.writeHead(tx, providerId, round, generation, generation);
      return generation;
    });
  }

  /**
   * Stores a delta round as a journal chunk after the stored state (which must still be at
   * generation `after`). Returns the new generation.
   */
  async saveJournal(
    providerId: string,
    round: {
      source: string;
      links: DeltaLinks;
      journal: SyncJournal;
      after: number;
    },
  ): Promise<number> {
    const data = await gzipAsync(
      Buffer.from(JSON.stringify({ j: round.journal } satisfies Chunk)),
    );
    return this.db.transaction(async tx => {
      const generation = (await this.check(tx, providerId, round.after)) + 1;
      const head = await tx(HEADS)
        .where({ provider_id: providerId })
        .first('snapshot_generation');
      await tx(CHUNKS).insert({
        provider_id: providerId,
        generation,
        seq: 0,
        data,
      });
      await this.writeHead(
        tx,
        providerId,
        round,
        generation,
        Number(head.snapshot_generation),
      );
      return generation;
    });
  }

  /** The stored generation, which must be `after`; locks the head row where the database can. */
  private async check(
    tx: Knex.Transaction,
    providerId: string,
    after: number | undefined,
  ): Promise<number> {
    let query = tx(HEADS).where({ provider_id: providerId });
    if (!/sqlite/.test(String(tx.client.config.client)))
      query = query.forUpdate();
    const row = await query.first('generation');
    const stored = row ? Number(row.generation) : undefined;
    if (stored !== after) throw new SyncConflictError(providerId);
    return stored ?? 0;
  }

  private async writeHead(
    tx: Knex.Transaction,
    providerId: string,
    round: { source: string; links: DeltaLinks },
    generation: number,
    snapshotGeneration: number,
  ): Promise<void> {
    await tx(HEADS)
      .insert({
        provider_id: providerId,
        source: round.source,
        users_delta_link: round.links.users,
        groups_delta_link: round.links.groups,
        generation,
        snapshot_generation: snapshotGeneration,
        updated_at: tx.fn.now(),
      })
      .onConflict('provider_id')
      .merge();
  }
}
