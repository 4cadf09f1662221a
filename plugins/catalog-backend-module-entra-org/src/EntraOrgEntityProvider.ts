import {
  LoggerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
} from '@backstage/catalog-model';
import {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import { GraphClient, GraphCredentials } from './GraphClient';
import { readOrg, toEntities } from './readOrg';

export interface EntraOrgProviderOptions {
  id: string;
  /** Resolves credentials late, so the built-in emulator starts only when the catalog does. */
  target: () => Promise<{
    graphBaseUrl: string;
    credentials: GraphCredentials;
  }>;
  userFilter?: string;
  groupFilter?: string;
  logger: LoggerService;
  taskRunner: SchedulerServiceTaskRunner;
}

/** Reads users and groups from Microsoft Graph into the catalog on a schedule. */
export class EntraOrgEntityProvider implements EntityProvider {
  private connection?: EntityProviderConnection;

  constructor(private readonly options: EntraOrgProviderOptions) {}

  getProviderName(): string {
    return `EntraOrgEntityProvider:${this.options.id}`;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.options.taskRunner.run({
      id: `${this.getProviderName()}:refresh`,
      fn: async () => {
        try {
          await this.read();
        } catch (e) {
          // A failed round writes nothing: the catalog keeps what the last good round wrote.
          this.options.logger.error(
            `Entra org sync ${
              this.options.id
            } failed; the catalog is unchanged: ${(e as Error).message}`,
          );
        }
      },
    });
  }

  /** One full round: read the tenant, replace this provider's entities. */
  async read(): Promise<{ users: number; groups: number; requests: number }> {
    if (!this.connection)
      throw new Error(`${this.getProviderName()} is not connected`);
    const started = Date.now();
    const { graphBaseUrl, credentials } = await this.options.target();
    const client = new GraphClient(graphBaseUrl, credentials);
    const snapshot = await readOrg(client, credentials.tenantId, {
      userFilter: this.options.userFilter,
      groupFilter: this.options.groupFilter,
    });
    const entities = toEntities(snapshot, this.options.id);
    await this.connection.applyMutation({
      type: 'full',
      entities: entities.map(entity => ({
        entity,
        locationKey:
          entity.metadata.annotations?.[ANNOTATION_ORIGIN_LOCATION] ??
          entity.metadata.annotations?.[ANNOTATION_LOCATION],
      })),
    });
    const users = entities.filter(e => e.kind === 'User').length;
    const groups = entities.length - users;
    this.options.logger.info(
      `Entra org sync ${
        this.options.id
      }: ${users} users, ${groups} groups from tenant ${
        credentials.tenantId
      } in ${Date.now() - started} ms, ${client.requests} Graph requests`,
    );
    return { users, groups, requests: client.requests };
  }
}
