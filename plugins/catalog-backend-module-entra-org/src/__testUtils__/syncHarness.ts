import { mockServices } from '@backstage/backend-test-utils';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  EntityProviderConnection,
  EntityProviderMutation,
} from '@backstage/plugin-catalog-node';
import {
  Clock,
  EmulatedTenantData,
  parseTenants,
  RunningEmulator,
  startEmulator,
  TenantStore,
} from '@gatehouse/entra-emulator';
import { Knex } from 'knex';
import {
  EntraOrgEntityProvider,
  EntraOrgProviderOptions,
} from '../EntraOrgEntityProvider';
import { GraphClient, GraphClientOptions } from '../GraphClient';
import { OrgSyncStore } from '../OrgSyncStore';
import { readOrg, toEntities } from '../readOrg';

/** The app registration of the seeded Contoso tenant; `withSyncApp` adds it to others. */
export const APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';

/** A tenant with an app registration holding the sync's Graph permissions. */
export function withSyncApp(tenant: EmulatedTenantData): EmulatedTenantData {
  const [{ applications }] = parseTenants(`
tenants:
  - id: ${tenant.id}
    displayName: x
    domains: [x.example]
    applications:
      - displayName: Org sync
        appId: ${APP_ID}
        graphApplicationPermissions: [User.Read.All, GroupMember.Read.All]
`);
  return { ...tenant, applications: [...tenant.applications, ...applications] };
}

/** Entities by ref, as the catalog holds them for one provider. */
export function byRef(entities: Entity[]): Map<string, Entity> {
  return new Map(entities.map(e => [stringifyEntityRef(e), e]));
}

/** A catalog connection that records mutations and applies them as the catalog does. */
export class RecordingCatalog implements EntityProviderConnection {
  readonly entities = new Map<string, Entity>();
  readonly mutations: EntityProviderMutation[] = [];

  readonly applyMutation = jest.fn(async (m: EntityProviderMutation) => {
    this.mutations.push(m);
    if (m.type === 'full') {
      this.entities.clear();
      for (const { entity } of m.entities)
        this.entities.set(stringifyEntityRef(entity), entity);
      return;
    }
    for (const r of m.removed)
      this.entities.delete(
        'entityRef' in r ? r.entityRef : stringifyEntityRef(r.entity),
      );
    for (const { entity } of m.added)
      this.entities.set(stringifyEntityRef(entity), entity);
  });

  readonly refresh = jest.fn(async () => {});

  /** The refs of the last mutation, when it was a delta. */
  lastDelta(): { added: string[]; removed: string[] } {
    const m = this.mutations[this.mutations.length - 1];
    if (m?.type !== 'delta') throw new Error(`last mutation is ${m?.type}`);
    return {
      added: m.added.map(d => stringifyEntityRef(d.entity)).sort(),
      removed: m.removed
        .map(r =>
          'entityRef' in r ? r.entityRef : stringifyEntityRef(r.entity),
        )
        .sort(),
    };
  }
}

/** An emulator on a free port, a SQLite database, and providers reading one from the other. */
export class SyncHarness {
  /** Waits the Graph client asked for; nothing really waits, so tests stay fast. */
  readonly waits: number[] = [];

  private constructor(
    readonly running: RunningEmulator,
    readonly tenantId: string,
    readonly clientSecret: string,
    readonly db: Knex,
  ) {}

  static async start(options: {
    tenants: EmulatedTenantData[];
    db: Knex;
    deltaPageSize?: number;
    clock?: Clock;
  }): Promise<SyncHarness> {
    const running = await startEmulator({
      tenants: options.tenants,
      port: 0,
      deltaPageSize: options.deltaPageSize,
      clock: options.clock,
    });
    const clientSecret = running.emulator.addClientSecret(APP_ID).secretText;
    return new SyncHarness(
      running,
      options.tenants[0].id,
      clientSecret,
      options.db,
    );
  }

  /** The emulated directory, to change between rounds. */
  get tenant(): TenantStore {
    return this.running.emulator.tenants.get(this.tenantId)!;
  }

  get credentials() {
    return {
      authority: this.running.url,
      tenantId: this.tenantId,
      clientId: APP_ID,
      clientSecret: this.clientSecret,
    };
  }

  get graphOptions(): GraphClientOptions {
    return {
      maxRetries: 3,
      backoffBaseMs: 100,
      sleep: async ms => {
        this.waits.push(ms);
      },
    };
  }

  client(): GraphClient {
    return new GraphClient(
      `${this.running.url}/v1.0`,
      this.credentials,
      this.graphOptions,
    );
  }

  /** A store over the harness database, as a (re)started backend opens it. */
  store(): Promise<OrgSyncStore> {
    return OrgSyncStore.create(mockServices.database({ knex: this.db }));
  }

  /** A new provider instance, connected to a new recording catalog. */
  async provider(options: Partial<EntraOrgProviderOptions> = {}) {
    const catalog = new RecordingCatalog();
    const logger = mockServices.logger.mock();
    const store = await this.store();
    const provider = new EntraOrgEntityProvider({
      id: 'default',
      target: async () => ({
        graphBaseUrl: `${this.running.url}/v1.0`,
        credentials: this.credentials,
      }),
      logger,
      store,
      taskRunner: { run: async () => {} },
      graph: this.graphOptions,
      ...options,
    });
    await provider.connect(catalog);
    return { provider, catalog, logger, store };
  }

  /** The entities the old full read makes of the directory as it is now. */
  async fullRead(
    options: { userFilter?: string; groupFilter?: string } = {},
    providerId = 'default',
  ): Promise<Entity[]> {
    return toEntities(
      await readOrg(this.client(), this.tenantId, options),
      providerId,
    );
  }

  close(): Promise<void> {
    return this.running.close();
  }
}
