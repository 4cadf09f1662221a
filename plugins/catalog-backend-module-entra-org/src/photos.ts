import {
  DatabaseService,
  LoggerService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { GraphClient } from './GraphClient';
import { TaskLimiter } from './limiter';

/** Graph's photo reads follow Outlook's limit: 4 concurrent requests per app and mailbox. */
export const PHOTO_CONCURRENCY = 4;
const MIGRATIONS_TABLE = 'entra_org_photo_knex_migrations';
const TABLE = 'entra_org_user_photos';

interface PhotoRecord {
  /** data: URL, or null when the user has no photo. */
  picture: string | null;
  fetchedAt: number;
}

/** Fetched photos in the database, per provider and user. */
export class PhotoStore {
  private constructor(private readonly db: Knex) {}

  static async create(database: DatabaseService): Promise<PhotoStore> {
    const db = await database.getClient();
    if (!database.migrations?.skip) {
      await db.migrate.latest({
        directory: resolvePackagePath(
          '@gatehouse/plugin-catalog-backend-module-entra-org',
          'photo-migrations',
        ),
        tableName: MIGRATIONS_TABLE,
      });
    }
    return new PhotoStore(db);
  }

  async load(providerId: string): Promise<Map<string, PhotoRecord>> {
    const rows: Array<{
      user_id: string;
      picture: string | null;
      fetched_at: string | number;
    }> = await this.db(TABLE).where({ provider_id: providerId });
    return new Map(
      rows.map(r => [
        r.user_id,
        { picture: r.picture, fetchedAt: Number(r.fetched_at) },
      ]),
    );
  }

  async save(
    providerId: string,
    records: Map<string, PhotoRecord>,
    removed: string[],
  ): Promise<void> {
    await this.db.transaction(async tx => {
      for (let i = 0; i < removed.length; i += 500) {
        await tx(TABLE)
          .where({ provider_id: providerId })
          .whereIn('user_id', removed.slice(i, i + 500))
          .delete();
      }
      const rows = [...records].map(([userId, r]) => ({
        provider_id: providerId,
        user_id: userId,
        picture: r.picture,
        fetched_at: r.fetchedAt,
      }));
      for (let i = 0; i < rows.length; i += 200) {
        await tx(TABLE)
          .insert(rows.slice(i, i + 200))
          .onConflict(['provider_id', 'user_id'])
          .merge();
      }
    });
  }
}

/** When photos are fetched again, and how many a round fetches at most. */
export interface PhotoLoaderOptions {
  providerId: string;
  store: PhotoStore;
  logger: LoggerService;
  /** A photo older than this is fetched again (Graph does not report photo changes). Default 7 days. */
  refreshAfterMs?: number;
  /** Photos fetched in one round at most; the rest come in later rounds. Default 1,000. */
  maxPerRound?: number;
  /** Requests in flight at once; at most 4, Graph's limit for photos. */
  concurrency?: number;
  /** `/photos/{size}/$value`; default `48x48`, the smallest Graph keeps. */
  size?: string;
  now?: () => number;
}

/**
 * Profile photos for the sync, within Graph's photo limits: at most 4 requests at a time,
 * only for users it has no photo of yet, users the round's delta changed, and photos older
 * than `refreshAfterMs` (Graph's user delta does not report a new photo), at most
 * `maxPerRound` a round, new users first.
 */
export class PhotoLoader {
  private known?: Map<string, PhotoRecord>;
  private readonly refreshAfterMs: number;
  private readonly maxPerRound: number;
  private readonly concurrency: number;
  private readonly size: string;
  private readonly now: () => number;

  constructor(private readonly options: PhotoLoaderOptions) {
    this.refreshAfterMs = options.refreshAfterMs ?? 7 * 24 * 3600_000;
    this.maxPerRound = options.maxPerRound ?? 1000;
    this.concurrency = Math.min(
      PHOTO_CONCURRENCY,
      Math.max(1, options.concurrency ?? PHOTO_CONCURRENCY),
    );
    this.size = options.size ?? '48x48';
    this.now = options.now ?? Date.now;
  }

  /**
   * The pictures (data URLs) of `userIds`, fetching those due. `changed`: users the round's
   * delta reported (their photo is fetched again). Also says whose picture is not the one it
   * had before (`updated`).
   */
  async load(
    client: GraphClient,
    userIds: string[],
    changed: ReadonlySet<string>,
  ): Promise<{ pictures: Map<string, string>; updated: Set<string> }> {
    const { providerId, store, logger } = this.options;
    const known = (this.known ??= await store.load(providerId));
    const now = this.now();
    const fresh: string[] = [];
    const due: string[] = [];
    for (const id of userIds) {
      const record = known.get(id);
      if (!record) fresh.push(id);
      else if (changed.has(id) || now - record.fetchedAt > this.refreshAfterMs)
        due.push(id);
    }
    due.sort((a, b) => known.get(a)!.fetchedAt - known.get(b)!.fetchedAt);
    const batch = [...fresh, ...due].slice(0, this.maxPerRound);

    const fetched = new Map<string, PhotoRecord>();
    const updated = new Set<string>();
    const limiter = new TaskLimiter(this.concurrency);
    for (const id of batch) {
      limiter.add(async () => {
        const photo = await limiter.slot(() =>
          client.getBinary(
            `/users/${encodeURIComponent(id)}/photos/${this.size}/$value`,
          ),
        );
        fetched.set(id, {
          picture: photo
            ? `data:${photo.contentType};base64,${photo.data.toString(
                'base64',
              )}`
            : null,
          fetchedAt: now,
        });
      });
    }
    try {
      await limiter.settle();
    } finally {
      // What was fetched is kept even when a request failed: the next round goes on from there.
      const present = new Set(userIds);
      const removed = [...known.keys()].filter(id => !present.has(id));
      if (fetched.size || removed.length) {
        await store.save(providerId, fetched, removed);
        for (const id of removed) known.delete(id);
        for (const [id, r] of fetched) {
          if (known.get(id)?.picture !== r.picture) updated.add(id);
          known.set(id, r);
        }
      }
    }
    if (batch.length < fresh.length + due.length) {
      logger.info(
        `Entra org sync ${providerId}: fetched ${
          batch.length
        } profile photos; ${
          fresh.length + due.length - batch.length
        } more in the next rounds`,
      );
    }
    const pictures = new Map<string, string>();
    for (const id of userIds) {
      const picture = known.get(id)?.picture;
      if (picture) pictures.set(id, picture);
    }
    return { pictures, updated };
  }
}
