/*
 * The reading side of `yarn bench:orgsync`: one reader (upstream or Gatehouse) in its own
 * process, so that its peak RSS is its own and not the emulator's. The parent sends a task,
 * then `next` before every further round, and gets a message per finished round.
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import {
  MicrosoftGraphClient,
  readMicrosoftGraphOrg,
} from '@backstage/plugin-catalog-backend-module-msgraph';
import {
  EntityProviderConnection,
  EntityProviderMutation,
} from '@backstage/plugin-catalog-node';
import {
  EntraOrgEntityProvider,
  OrgSyncStore,
} from '@gatehouse/plugin-catalog-backend-module-entra-org';
import knexFactory from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** What the parent asks a worker to do. */
export interface WorkerTask {
  reader: 'upstream' | 'gatehouse';
  /** The emulator: authority, and Graph at `${url}/v1.0`. */
  url: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Rounds to run; the parent sends `next` before each one after the first. */
  rounds: number;
  /** Gatehouse: Graph requests in flight (the provider's default when absent). */
  concurrency?: number;
}

/** One finished (or failed) round. */
export interface WorkerRound {
  type: 'round';
  round: number;
  ok: boolean;
  error?: string;
  wallMs: number;
  /** Entities the catalog got (written, or removed on a delta round). */
  entities: number;
  /** Gatehouse: kind of round, and what its Graph client counted. */
  kind?: 'full' | 'delta';
  clientRequests?: number;
  clientResourceUnits?: number;
  clientThrottled?: number;
  /** Gatehouse: the longest chain of requests that each waited for the one before. */
  clientSequential?: number;
}

export interface WorkerDone {
  type: 'done';
  /** process.resourceUsage().maxRSS at the end: peak resident set, kilobytes. */
  maxRssKb: number;
}

export type WorkerMessage = WorkerRound | WorkerDone;

/** How a worker talks to its parent: over IPC in a child process, or directly in tests. */
export interface WorkerChannel {
  send(message: WorkerMessage): void;
  /** Resolves when the parent says to go on with the next round. */
  next(): Promise<void>;
}

const silentLogger: LoggerService = {
  error: (message: string) => process.stderr.write(`[reader] ${message}\n`),
  warn: () => {},
  info: () => {},
  debug: () => {},
  child: () => silentLogger,
};

/**
 * A `TokenCredential` for the upstream client: client credentials against the emulator's
 * token endpoint (`@azure/identity` refuses a non-https authority), kept until a minute before
 * it expires, as `@azure/identity` keeps its tokens.
 */
export class ClientSecretTokenCredential {
  private cached?: { token: string; expiresOnTimestamp: number };
  requests = 0;

  constructor(
    private readonly authority: string,
    private readonly tenantId: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
  ) {}

  async getToken(
    scopes: string | string[],
  ): Promise<{ token: string; expiresOnTimestamp: number }> {
    if (this.cached && this.cached.expiresOnTimestamp > Date.now() + 60_000)
      return this.cached;
    const scope = Array.isArray(scopes) ? scopes.join(' ') : scopes;
    this.requests += 1;
    const res = await fetch(
      `${this.authority}/${this.tenantId}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: this.clientId,
          client_secret: this.clientSecret,
          // Graph's resource, whatever host the client was given (it asks for `{host}/.default`).
          scope: scope.includes('graph.microsoft')
            ? scope
            : 'https://graph.microsoft.com/.default',
        }),
      },
    );
    const body = (await res.json()) as {
      access_token?: string;
      expires_in?: number;
      error_description?: string;
    };
    if (!res.ok || !body.access_token)
      throw new Error(`token request failed: ${body.error_description}`);
    this.cached = {
      token: body.access_token,
      expiresOnTimestamp: Date.now() + (body.expires_in ?? 3600) * 1000,
    };
    return this.cached;
  }
}

/**
 * The upstream client as it is, but for `GET /organization/{tenantId}` (the root group),
 * answered here without a request, as in every recorded run (the emulator did not serve it
 * before 2026-11-22). Graph would count one more request and one RU for it.
 */
class UpstreamClient extends MicrosoftGraphClient {
  async getOrganization(tenantId: string) {
    return { id: tenantId, displayName: 'Synthetic tenant' };
  }
}

/** A catalog connection that counts what it is given and keeps nothing (as a database would). */
class CountingCatalog implements EntityProviderConnection {
  entities = 0;
  async applyMutation(m: EntityProviderMutation): Promise<void> {
    this.entities +=
      m.type === 'full' ? m.entities.length : m.added.length + m.removed.length;
  }
  async refresh(): Promise<void> {}
}

async function timed(
  round: number,
  fn: () => Promise<Omit<WorkerRound, 'type' | 'round' | 'ok' | 'wallMs'>>,
): Promise<WorkerRound> {
  const started = performance.now();
  try {
    const r = await fn();
    return {
      type: 'round',
      round,
      ok: true,
      wallMs: performance.now() - started,
      ...r,
    };
  } catch (e) {
    return {
      type: 'round',
      round,
      ok: false,
      error: String((e as Error)?.message ?? e).slice(0, 300),
      wallMs: performance.now() - started,
      entities: 0,
    };
  }
}

/** Runs a task's rounds, reporting each, then the peak RSS. */
export async function runWorker(
  task: WorkerTask,
  channel: WorkerChannel,
): Promise<void> {
  if (task.reader === 'upstream') {
    for (let round = 1; round <= task.rounds; round++) {
      if (round > 1) await channel.next();
      channel.send(
        await timed(round, async () => {
          // A new client per round, as the upstream provider makes per run.
          const credential = new ClientSecretTokenCredential(
            task.url,
            task.tenantId,
            task.clientId,
            task.clientSecret,
          );
          const client = new UpstreamClient(`${task.url}/v1.0`, credential);
          const { users, groups } = await readMicrosoftGraphOrg(
            client,
            task.tenantId,
            {
              logger: silentLogger,
              // Photos off: one request less per user than the upstream default.
              loadUserPhotos: false,
            },
          );
          return { entities: users.length + groups.length };
        }),
      );
    }
  } else {
    // The store in a file, as production keeps it in a database server: an in-memory
    // database would count the stored chunks in the reader's own RSS.
    const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orgsync-bench-'));
    const dbFile = path.join(dbDir, 'orgsync.sqlite');
    const db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: dbFile },
      useNullAsDefault: true,
    });
    try {
      const store = await OrgSyncStore.create({
        getClient: async () => db,
        migrations: { skip: false },
      });
      const catalog = new CountingCatalog();
      const provider = new EntraOrgEntityProvider({
        id: 'bench',
        target: async () => ({
          graphBaseUrl: `${task.url}/v1.0`,
          credentials: {
            authority: task.url,
            tenantId: task.tenantId,
            clientId: task.clientId,
            clientSecret: task.clientSecret,
          },
        }),
        logger: silentLogger,
        store,
        taskRunner: { run: async () => {} },
        graph: task.concurrency ? { concurrency: task.concurrency } : {},
      });
      await provider.connect(catalog);
      for (let round = 1; round <= task.rounds; round++) {
        if (round > 1) await channel.next();
        channel.send(
          await timed(round, async () => {
            const before = catalog.entities;
            const s = await provider.read();
            process.stderr.write(
              `[reader] round ${round}: ${JSON.stringify(s.phasesMs)} ms\n`,
            );
            return {
              entities: catalog.entities - before,
              kind: s.kind,
              clientRequests: s.graphRequests,
              clientResourceUnits: s.resourceUnits,
              clientThrottled: s.throttled,
              clientSequential: s.sequentialRequests,
            };
          }),
        );
      }
    } finally {
      await db.destroy();
      fs.rmSync(dbDir, { recursive: true, force: true });
    }
  }
  channel.send({ type: 'done', maxRssKb: process.resourceUsage().maxRSS });
}

/** The child process side: a task comes over IPC, messages go back over it. */
export function runWorkerProcess(): void {
  const waiting: Array<() => void> = [];
  let pendingNext = 0;
  let started = false;
  process.on('message', (m: { type: string; task?: WorkerTask }) => {
    if (m.type === 'task' && m.task && !started) {
      started = true;
      const channel: WorkerChannel = {
        send: msg => process.send!(msg),
        next: () =>
          new Promise<void>(resolve => {
            if (pendingNext > 0) {
              pendingNext -= 1;
              resolve();
            } else waiting.push(resolve);
          }),
      };
      runWorker(m.task, channel).then(
        () => process.disconnect?.(),
        e => {
          process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
          process.exit(1);
        },
      );
    } else if (m.type === 'next') {
      const w = waiting.shift();
      if (w) w();
      else pendingNext += 1;
    }
  });
}
