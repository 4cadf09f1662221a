import {
  LoggerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import { AzureDevOpsCredentialsProvider } from '@backstage/integration';
import {
  EntityProvider,
  EntityProviderConnection,
  locationSpecToLocationEntity,
} from '@backstage/plugin-catalog-node';
import { AzureDevOpsClient, AzureDevOpsRepository } from './AzureDevOpsClient';
import { AzureDevOpsDiscoveryConfig, namePattern } from './config';

/** What one discovery round found; also the fields of its log line. */
export interface AzureDevOpsDiscoverySummary {
  provider: string;
  organization: string;
  projects: number;
  repositories: number;
  /** Repositories left out by `repository`/`exclude`, disabled or empty. */
  skipped: number;
  /** Repositories without the catalog file on the branch. */
  withoutFile: number;
  /** Location entities given to the catalog. */
  locations: number;
  requests: number;
  throttled: number;
  durationMs: number;
}

/**
 * Finds `catalog-info.yaml` in an Azure DevOps organization by listing projects and
 * repositories and asking for the file in each, rather than through Code Search: no extension
 * to install and no 1,000-result cap. Each round replaces the provider's Location entities, so
 * a repository (or a file) that is gone takes its entities out of the catalog.
 */
export class AzureDevOpsDiscoveryProvider implements EntityProvider {
  private connection?: EntityProviderConnection;

  constructor(
    private readonly options: {
      config: AzureDevOpsDiscoveryConfig;
      credentials: AzureDevOpsCredentialsProvider;
      logger: LoggerService;
      taskRunner: SchedulerServiceTaskRunner;
      fetch?: typeof fetch;
      sleep?: (ms: number) => Promise<void>;
    },
  ) {}

  getProviderName(): string {
    return `AzureDevOpsDiscovery:${this.options.config.id}`;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.options.taskRunner.run({
      id: `${this.getProviderName()}:refresh`,
      fn: async () => {
        try {
          await this.read();
        } catch (e) {
          // Nothing was written: the catalog keeps what the last good round found.
          this.options.logger.error(
            `Azure DevOps discovery ${
              this.options.config.id
            } failed; the catalog is unchanged: ${(e as Error).message}`,
          );
        }
      },
    });
  }

  /** One round: list, check each repository for the file, replace the Location entities. */
  async read(): Promise<AzureDevOpsDiscoverySummary> {
    if (!this.connection)
      throw new Error(`${this.getProviderName()} is not connected`);
    const started = Date.now();
    const { config, logger } = this.options;
    const client = new AzureDevOpsClient({
      baseUrl: config.baseUrl,
      credentialsUrl: `https://${config.host}/${config.organization}`,
      organization: config.organization,
      credentials: this.options.credentials,
      fetch: this.options.fetch,
      sleep: this.options.sleep,
    });

    const projectMatches = namePattern(config.project);
    const projects = config.project.match(/[*?]/)
      ? (await client.projects()).filter(p => projectMatches(p.name))
      : [{ id: config.project, name: config.project }];
    const included = namePattern(config.repository);
    const excluded = config.exclude.map(namePattern);
    const candidates: Array<{ repo: AzureDevOpsRepository; branch: string }> =
      [];
    let listed = 0;
    await inParallel(projects, config.concurrency, async project => {
      for (const repo of await client.repositories(project.name)) {
        listed += 1;
        const branch =
          config.branch ?? repo.defaultBranch?.replace(/^refs\/heads\//, '');
        if (
          !branch ||
          repo.isDisabled ||
          !included(repo.name) ||
          excluded.some(x => x(repo.name))
        )
          continue;
        candidates.push({ repo, branch });
      }
    });

    const found: Array<{ repo: AzureDevOpsRepository; branch: string }> = [];
    await inParallel(candidates, config.concurrency, async c => {
      if (
        await client.fileExists(
          c.repo.project.name,
          c.repo.id,
          config.path,
          c.branch,
        )
      )
        found.push(c);
    });
    found.sort((a, b) =>
      `${a.repo.project.name}/${a.repo.name}`.localeCompare(
        `${b.repo.project.name}/${b.repo.name}`,
      ),
    );

    const locationKey = this.getProviderName();
    await this.connection.applyMutation({
      type: 'full',
      entities: found.map(({ repo, branch }) => ({
        locationKey,
        entity: locationSpecToLocationEntity({
          location: {
            type: 'url',
            target: this.fileUrl(repo, branch),
            presence: 'required',
          },
        }),
      })),
    });

    const summary: AzureDevOpsDiscoverySummary = {
      provider: config.id,
      organization: config.organization,
      projects: projects.length,
      repositories: listed,
      skipped: listed - candidates.length,
      withoutFile: candidates.length - found.length,
      locations: found.length,
      requests: client.stats.requests,
      throttled: client.stats.throttled,
      durationMs: Date.now() - started,
    };
    logger.info(
      `Azure DevOps discovery ${config.id}: ${summary.locations} catalog files in ${summary.repositories} repositories of ${summary.projects} projects (${summary.withoutFile} without ${config.path}, ${summary.skipped} skipped), ${summary.requests} requests, ${summary.throttled} throttled (429), ${summary.durationMs} ms`,
      { ...summary },
    );
    return summary;
  }

  /**
   * The file's URL as Backstage's Azure integration reads it:
   * `https://<host>/<org>/<project>/_git/<repo>?path=<path>&version=GB<branch>` (with
   * `baseUrl` in place of `https://<host>` when set).
   */
  private fileUrl(repo: AzureDevOpsRepository, branch: string): string {
    const { baseUrl, organization, path } = this.options.config;
    const query = new URLSearchParams({ path, version: `GB${branch}` });
    return `${baseUrl}/${encodeURIComponent(organization)}/${encodeURIComponent(
      repo.project.name,
    )}/_git/${encodeURIComponent(repo.name)}?${query}`;
  }
}

/** Runs `fn` over `items`, at most `concurrency` at a time; the first failure is thrown. */
async function inParallel<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, worker),
  );
  if (failure) throw failure.error;
}
