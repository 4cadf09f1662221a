import {
  LoggerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import { affectedObjects } from './affected';
import { DeltaReader, DeltaRound } from './DeltaReader';
import {
  entityRefs,
  GROUP_PROPERTIES,
  nameObjects,
  renderEntities,
  RenderOptions,
  USER_PROPERTIES,
} from './entities';
import { diffEntities, EntityHashes, hashEntities } from './entityDiff';
import { filterProperties, ODataFilter, parseFilter } from './filter';
import {
  GraphClient,
  GraphClientOptions,
  GraphCredentials,
} from './GraphClient';
import {
  OrgSyncStore,
  StoredSync,
  SyncJournal,
  SyncSnapshot,
} from './OrgSyncStore';
import { DeltaObject } from './OrgState';
import { recordOrgSyncRound } from './metrics';
import { PhotoLoader } from './photos';
import { RoundExtras } from './roundExtras';
import { EntraOrgProviderStatus, EntraOrgRoundStatus } from './status';
import { EntraOrgTransformers } from './transformers';

export interface EntraOrgProviderOptions {
  id: string;
  /** Resolves credentials late, so the built-in emulator starts only when the catalog does. */
  target: () => Promise<{
    graphBaseUrl: string;
    credentials: GraphCredentials;
  }>;
  /** OData filter on users, evaluated by the sync (delta queries cannot filter). */
  userFilter?: string;
  /** OData filter on groups, evaluated by the sync. */
  groupFilter?: string;
  logger: LoggerService;
  taskRunner: SchedulerServiceTaskRunner;
  /** Where the directory and delta links are kept between rounds (and replicas). */
  store: OrgSyncStore;
  /** Retries and pacing of Graph requests. */
  graph?: GraphClientOptions;
  /**
   * Delta rounds stored as journal entries before the next round stores the whole directory
   * again. Default 50.
   */
  maxJournal?: number;
  /** The schedule's frequency, when it is a fixed one: gives the status its next round. */
  frequencyMs?: number;
  /** User properties read besides those entities are made from (for transformers). */
  userSelect?: string[];
  /** Group properties read besides those entities are made from (for transformers). */
  groupSelect?: string[];
  /** Keep only the groups assigned to this app (client id); needs Application.Read.All. */
  groupAssignedToApp?: string;
  /** Profile photos as `spec.profile.picture`; off when undefined (the default). */
  photos?: PhotoLoader;
  /** Transformers from `entraOrgTransformersExtensionPoint`. */
  transformers?: EntraOrgTransformers;
  /**
   * Users' `memberOf` also lists the groups above their groups, so a member of a child group
   * owns what the parent groups own. Default false.
   */
  includeTransitiveGroupOwnership?: boolean;
}

/** What one round did; also the fields of its log line. */
export interface EntraOrgRoundSummary {
  provider: string;
  tenantId: string;
  /** `full`: the directory was read from scratch and replaced the provider's entities. */
  kind: 'full' | 'delta';
  users: number;
  groups: number;
  memberships: number;
  /** Entities written (added or changed) and removed. */
  changedEntities: number;
  graphRequests: number;
  resourceUnits: number;
  throttled: number;
  /** The longest chain of Graph requests that each waited for the one before. */
  sequentialRequests: number;
  durationMs: number;
  /** Where the time went: loading the stored state, Graph, entities, catalog, storing. */
  phasesMs: {
    load: number;
    graph: number;
    entities: number;
    catalog: number;
    store: number;
  };
}

const unique = (list: string[]) => [...new Set(list)];

/**
 * Reads users and groups from Microsoft Graph into the catalog on a schedule, with delta
 * queries: the first round reads everything and replaces the provider's entities; later
 * rounds read changes only and write the entities they changed. The directory and the delta
 * links live in the database, so a restart (or another replica) goes on where the last
 * finished round stopped.
 */
export class EntraOrgEntityProvider implements EntityProvider {
  private connection?: EntityProviderConnection;
  private readonly userFilter?: ODataFilter;
  private readonly groupFilter?: ODataFilter;
  private readonly userSelect: string[];
  private readonly groupSelect: string[];
  private running = false;
  private lastRound?: EntraOrgRoundStatus;
  private lastStartedAt?: number;
  private lastError?: { message: string; at: string };
  /** The state this process stored last (see `read`). */
  private cache?: StoredSync;
  private readonly maxJournal: number;
  /** Assigned groups, photos and transformers: what a round adds to the directory it read. */
  private readonly extras: RoundExtras;

  constructor(private readonly options: EntraOrgProviderOptions) {
    this.maxJournal = options.maxJournal ?? 50;
    this.userFilter = options.userFilter
      ? parseFilter(options.userFilter)
      : undefined;
    this.groupFilter = options.groupFilter
      ? parseFilter(options.groupFilter)
      : undefined;
    this.userSelect = unique([
      ...USER_PROPERTIES,
      ...(this.userFilter ? filterProperties(this.userFilter) : []),
      ...(options.userSelect ?? []),
    ]);
    this.groupSelect = unique([
      ...GROUP_PROPERTIES,
      ...(this.groupFilter ? filterProperties(this.groupFilter) : []),
      ...(options.groupSelect ?? []),
    ]);
    this.extras = new RoundExtras({
      assignedToApp: options.groupAssignedToApp,
      photos: options.photos,
      userFilter: this.userFilter,
      transformers: options.transformers,
      includeTransitiveGroupOwnership: options.includeTransitiveGroupOwnership,
    });
  }

  getProviderName(): string {
    return `EntraOrgEntityProvider:${this.options.id}`;
  }

  /** The provider id from the config (`catalog.providers.microsoftGraphOrg.<id>`). */
  get id(): string {
    return this.options.id;
  }

  /** The scheduler task id of this provider's rounds. */
  get taskId(): string {
    return `${this.getProviderName()}:refresh`;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.options.taskRunner.run({
      id: this.taskId,
      fn: async () => {
        this.running = true;
        try {
          await this.read();
          this.lastError = undefined;
        } catch (e) {
          // A failed round writes nothing: the catalog and the stored links stay as the last
          // finished round left them, and the next round starts from there.
          this.lastError = {
            message: (e as Error).message,
            at: new Date().toISOString(),
          };
          this.options.logger.error(
            `Entra org sync ${
              this.options.id
            } failed; the catalog is unchanged: ${(e as Error).message}`,
          );
        } finally {
          this.running = false;
        }
      },
    });
  }

  /** Where this provider stands: last finished round, next round, last failure. */
  status(): EntraOrgProviderStatus {
    const { frequencyMs } = this.options;
    return {
      id: this.options.id,
      taskId: this.taskId,
      running: this.running,
      lastRound: this.lastRound,
      nextRoundAt:
        frequencyMs && this.lastStartedAt
          ? new Date(this.lastStartedAt + frequencyMs).toISOString()
          : undefined,
      lastError: this.lastError,
    };
  }

  /** One round: read the changes (or everything), update the catalog, then store the round. */
  async read(): Promise<EntraOrgRoundSummary> {
    const connection = this.connection;
    if (!connection)
      throw new Error(`${this.getProviderName()} is not connected`);
    const { id, logger, store } = this.options;
    const started = Date.now();
    this.lastStartedAt = started;
    const { graphBaseUrl, credentials } = await this.options.target();
    const { tenantId } = credentials;
    const client = new GraphClient(
      graphBaseUrl,
      credentials,
      this.options.graph,
    );
    const source = JSON.stringify({
      tenantId,
      graphBaseUrl,
      users: this.userSelect,
      groups: this.groupSelect,
    });
    // The state this process stored last is still in memory, unless another replica (or
    // another version) stored a round since: then it is loaded from the database.
    const head = await store.head(id);
    const cached = this.cache;
    this.cache = undefined; // a round changes the state in place; a failed one leaves it half-done
    const stored =
      head && cached && cached.generation === head.generation
        ? cached
        : head && (await store.load(id));
    const loadedAt = Date.now();
    const resumable = stored && stored.source === source ? stored : undefined;
    if (stored && !resumable) {
      logger.info(
        `Entra org sync ${id}: the stored state was read from another tenant, Graph URL or property list; reading the whole directory`,
      );
    }

    const round = await new DeltaReader(client, {
      userSelect: this.userSelect,
      groupSelect: this.groupSelect,
      logger,
      concurrency: this.options.graph?.concurrency,
    }).read(resumable);

    const readAt = Date.now();
    const { names, hashes, changedEntities, renderedAt } =
      await this.writeEntities(connection, client, round, {
        tenantId,
        previousNames: stored?.names,
        resumable,
      });
    // Stored only now: a round that failed before this line is read again from the old links.
    const writtenAt = Date.now();
    const snapshot = { state: round.state, names, hashes };
    // A delta round is stored as what it changed; every `maxJournal` rounds (and after a
    // full one) the whole directory is stored again, so loading never replays a long journal.
    const journaled =
      !round.full &&
      round.applied &&
      resumable &&
      resumable.journalLength < this.maxJournal
        ? { applied: round.applied, from: resumable }
        : undefined;
    const generation = journaled
      ? await store.saveJournal(id, {
          source,
          links: round.links,
          after: journaled.from.generation,
          journal: journalOf(journaled.applied, journaled.from, snapshot),
        })
      : await store.saveSnapshot(id, {
          source,
          links: round.links,
          after: head?.generation,
          snapshot,
        });
    this.cache = {
      ...snapshot,
      source,
      links: round.links,
      generation,
      journalLength: journaled ? journaled.from.journalLength + 1 : 0,
    };

    const storedAt = Date.now();
    const summary: EntraOrgRoundSummary = {
      provider: id,
      tenantId,
      kind: round.full ? 'full' : 'delta',
      users: round.state.users.size,
      groups: round.state.groups.size,
      memberships: round.state.membershipCount,
      changedEntities,
      graphRequests: client.stats.requests,
      resourceUnits: client.stats.resourceUnits,
      throttled: client.stats.throttled,
      sequentialRequests: round.sequentialRequests,
      durationMs: Date.now() - started,
      phasesMs: {
        load: loadedAt - started,
        graph: readAt - loadedAt,
        entities: renderedAt - readAt,
        catalog: writtenAt - renderedAt,
        store: storedAt - writtenAt,
      },
    };
    logger.info(
      `Entra org sync ${id}: ${summary.kind} round, ${summary.users} users, ${summary.groups} groups, ${summary.memberships} memberships, ${summary.changedEntities} entities changed, ${summary.graphRequests} Graph requests, ${summary.resourceUnits} RU, ${summary.throttled} throttled (429), ${summary.durationMs} ms`,
      { ...recordOrgSyncRound(summary) },
    );
    const {
      provider: _p,
      tenantId: _t,
      sequentialRequests: _s,
      phasesMs: _m,
      ...counts
    } = summary;
    this.lastRound = {
      ...counts,
      userEntities: refsOfKind(hashes, 'user'),
      groupEntities: refsOfKind(hashes, 'group'),
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(started + summary.durationMs).toISOString(),
    };
    return summary;
  }

  /**
   * Makes the round's entities and gives the catalog what changed: everything on a full
   * round, on a delta round the entities of the objects it may have changed. The entities
   * are not kept past this call, so their memory is free before the round is stored.
   */
  private async writeEntities(
    connection: EntityProviderConnection,
    client: GraphClient,
    round: DeltaRound,
    from: {
      tenantId: string;
      previousNames?: Record<string, string>;
      resumable?: StoredSync;
    },
  ): Promise<{
    names: Record<string, string>;
    hashes: EntityHashes;
    changedEntities: number;
    renderedAt: number;
  }> {
    const { id } = this.options;
    const { tenantId, previousNames, resumable } = from;
    const renderOptions: RenderOptions = {
      providerId: id,
      tenantId,
      userFilter: this.userFilter,
      groupFilter: this.groupFilter,
      previousNames,
      ...(await this.extras.forRound(client, round)),
    };
    const naming = nameObjects(round.state, renderOptions);
    const { names } = naming;
    // A delta round renders only the entities it may have changed (see `affectedObjects`);
    // every other entity keeps its name and its hash from the last round.
    let only: Set<string> | undefined;
    const carried: EntityHashes = {};
    if (
      round.applied &&
      resumable &&
      renderOptions.rehash !== 'all' &&
      !renderOptions.transformers
    ) {
      only = affectedObjects(
        round.state,
        round.applied,
        resumable.names,
        names,
      );
      for (const objectId of renderOptions.rehash ?? []) only.add(objectId);
      for (const [objectId, ref] of entityRefs(naming)) {
        if (only.has(objectId)) continue;
        const previous = resumable.hashes[ref];
        if (previous === undefined) only.add(objectId);
        else carried[ref] = previous;
      }
    }
    const { entities } = renderEntities(
      round.state,
      { ...renderOptions, only },
      naming,
    );
    // A full round hashes every entity; a delta round adds its own to the carried hashes.
    const hashes = only
      ? Object.assign(carried, hashEntities(entities))
      : hashEntities(entities);
    const renderedAt = Date.now();
    const locationKey = `msgraph:${id}/${tenantId}`;
    const deferred = (entity: Entity) => ({ entity, locationKey });
    let changedEntities: number;
    if (round.full || !resumable) {
      await connection.applyMutation({
        type: 'full',
        entities: entities.map(deferred),
      });
      changedEntities = entities.length;
    } else {
      const { added, removed } = diffEntities(
        resumable.hashes,
        entities,
        hashes,
      );
      changedEntities = added.length + removed.length;
      if (changedEntities > 0) {
        await connection.applyMutation({
          type: 'delta',
          added: added.map(deferred),
          removed: removed.map(entityRef => ({ entityRef, locationKey })),
        });
      }
    }
    return { names, hashes, changedEntities, renderedAt };
  }
}

/** How many of the refs are of this kind (lower case, as refs spell it). */
function refsOfKind(hashes: EntityHashes, kind: string): number {
  return Object.keys(hashes).filter(ref => ref.startsWith(`${kind}:`)).length;
}

/** What a delta round changed, against the state it started from. */
function journalOf(
  { users, groups }: { users: DeltaObject[]; groups: DeltaObject[] },
  before: SyncSnapshot,
  after: SyncSnapshot,
): SyncJournal {
  const changed = <T>(prev: Record<string, T>, next: Record<string, T>) => {
    const set: Record<string, T> = {};
    for (const k of Object.keys(next))
      if (prev[k] !== next[k]) set[k] = next[k];
    const gone = Object.keys(prev).filter(k => !(k in next));
    return [set, gone] as const;
  };
  const [names, namesRemoved] = changed(before.names, after.names);
  const [hashes, hashesRemoved] = changed(before.hashes, after.hashes);
  return { users, groups, names, namesRemoved, hashes, hashesRemoved };
}
