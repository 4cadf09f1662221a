import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import {
  DefaultAzureDevOpsCredentialsProvider,
  ScmIntegrations,
} from '@backstage/integration';
import {
  EntityProviderConnection,
  EntityProviderMutation,
} from '@backstage/plugin-catalog-node';
import {
  defaultTenantFile,
  generateAzureDevOps,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import { AzureDevOpsDiscoveryProvider } from './AzureDevOpsDiscoveryProvider';
import { readDiscoveryConfigs } from './config';

const TENANT = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
const USER = 'alex.wilber@contoso.example';

/** Records the provider's mutations; `targets` are the Location targets of the last full one. */
class RecordingCatalog implements EntityProviderConnection {
  readonly mutations: EntityProviderMutation[] = [];
  async applyMutation(m: EntityProviderMutation) {
    this.mutations.push(m);
  }
  async refresh() {}
  get targets(): string[] {
    const m = this.mutations[this.mutations.length - 1];
    if (!m || m.type !== 'full') return [];
    return m.entities.map(e => (e.entity.spec as { target: string }).target);
  }
}

describe('Azure DevOps discovery without Code Search', () => {
  let e: RunningEmulator;
  let pat: string;
  let waits: number[];

  beforeAll(async () => {
    e = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
    pat = e.ado.createPersonalAccessToken('contoso', USER).token;
  });
  afterAll(() => e.close());
  beforeEach(() => {
    waits = [];
  });

  async function discover(
    provider: JsonObject,
    credentials: JsonObject[] = [{ personalAccessToken: pat }],
  ) {
    const config = new ConfigReader({
      integrations: { azure: [{ host: e.adoHost, credentials }] },
      catalog: {
        providers: {
          azureDevOps: {
            test: { host: e.adoHost, baseUrl: e.adoUrl, ...provider },
          },
        },
      },
    });
    const logger = mockServices.logger.mock();
    const discovery = new AzureDevOpsDiscoveryProvider({
      config: readDiscoveryConfigs(config)[0],
      credentials: DefaultAzureDevOpsCredentialsProvider.fromIntegrations(
        ScmIntegrations.fromConfig(config),
      ),
      logger,
      taskRunner: { run: async () => {} },
      sleep: async ms => {
        waits.push(ms);
      },
    });
    const catalog = new RecordingCatalog();
    await discovery.connect(catalog);
    return { discovery, catalog, logger };
  }

  const file = (project: string, repo: string, branch = 'main') =>
    `${e.adoUrl}/contoso/${encodeURIComponent(
      project,
    )}/_git/${repo}?path=%2Fcatalog-info.yaml&version=GB${encodeURIComponent(
      branch,
    )}`;

  it('finds the catalog file of every repository that has one, in every project', async () => {
    const { discovery, catalog } = await discover({ organization: 'contoso' });
    const summary = await discovery.read();
    expect(catalog.targets).toEqual([
      file('Payments', 'ledger'),
      file('Payments', 'payments-api'),
      file('Platform', 'gatehouse-portal'),
    ]);
    expect(summary).toMatchObject({
      projects: 2,
      repositories: 4,
      withoutFile: 1, // platform-scripts
      locations: 3,
    });
    const [mutation] = catalog.mutations;
    expect(mutation.type === 'full' && mutation.entities[0].locationKey).toBe(
      'AzureDevOpsDiscovery:test',
    );
  });

  it('honours project and repository patterns, exclusions, a branch and a path', async () => {
    const onBranch = await discover({
      organization: 'contoso',
      project: 'Plat*',
      repository: 'gatehouse-*',
      branch: 'feature/ado-discovery',
    });
    await onBranch.discovery.read();
    expect(onBranch.catalog.targets).toEqual([
      file('Platform', 'gatehouse-portal', 'feature/ado-discovery'),
    ]);

    const excluded = await discover({
      organization: 'contoso',
      project: 'Payments',
      exclude: ['LEDG*'],
    });
    await excluded.discovery.read();
    expect(excluded.catalog.targets).toEqual([
      file('Payments', 'payments-api'),
    ]);

    const readme = await discover({
      organization: 'contoso',
      path: 'README.md',
    });
    expect((await readme.discovery.read()).locations).toBe(3);
    expect(
      readme.catalog.targets.every(t => t.includes('path=%2FREADME.md')),
    ).toBe(true);
  });

  it('names the organization when no credential fits, and writes nothing', async () => {
    const { discovery, catalog } = await discover({ organization: 'contoso' }, [
      { personalAccessToken: pat, organizations: ['fabrikam'] },
    ]);
    await expect(discovery.read()).rejects.toMatchObject({
      code: 'NoCredentials',
      message: expect.stringContaining("organization 'contoso'"),
    });
    expect(catalog.mutations).toEqual([]);
  });

  it('refuses a credential Azure DevOps refuses, naming the organization, and writes nothing', async () => {
    const { discovery, catalog } = await discover({ organization: 'contoso' }, [
      { personalAccessToken: 'not-a-token' },
    ]);
    await expect(discovery.read()).rejects.toMatchObject({
      code: 'HttpError',
      status: 401,
      message: expect.stringMatching(/organization 'contoso' answered 401/),
    });
    expect(catalog.mutations).toEqual([]);
  });

  describe('at scale', () => {
    beforeAll(() => {
      const seed = generateAzureDevOps({
        organization: 'bigorg',
        repositories: 2500,
        projects: 2,
        withoutCatalogInfoShare: 0.1,
        members: [USER],
      }).organizations[0];
      e.ado.addOrganization(e.emulator.tenants.get(TENANT)!, seed);
    });
    afterEach(() =>
      e.emulator.faults.configure({ adoRate429: 0, adoRoutes: null }),
    );

    it('reads 2,500 repositories across two projects with 429s injected, and drops what is gone', async () => {
      const bigPat = e.ado.createPersonalAccessToken('bigorg', USER).token;
      e.emulator.faults.configure({ adoRate429: 0.05, retryAfterSeconds: 1 });
      const { discovery, catalog } = await discover(
        { organization: 'bigorg', concurrency: 16 },
        [{ personalAccessToken: bigPat }],
      );
      const first = await discovery.read();
      expect(first).toMatchObject({
        projects: 2,
        repositories: 2500,
        withoutFile: 250,
        locations: 2250,
      });
      expect(first.throttled).toBeGreaterThan(0);
      expect(waits.length).toBe(first.throttled);
      expect(waits.every(w => w === 1000)).toBe(true);
      expect(new Set(catalog.targets).size).toBe(2250);

      // A repository deleted, and another one's catalog file removed, between rounds.
      e.emulator.faults.configure({ adoRate429: 0 });
      const org = e.ado.findOrganization('bigorg')!;
      const repoNamed = (name: string) =>
        [...org.projects.values()]
          .map(p => e.ado.findRepository(org, name, p))
          .find(r => r !== undefined)!;
      const [deleted, emptied] = catalog.targets
        .slice(0, 2)
        .map(t => decodeURIComponent(t.split('/_git/')[1].split('?')[0]))
        .map(repoNamed);
      e.ado.deleteRepository(deleted);
      e.ado.commitFiles(emptied, emptied.defaultBranch!, {
        'catalog-info.yaml': null,
      });
      const second = await discovery.read();
      expect(second).toMatchObject({
        repositories: 2499,
        withoutFile: 251,
        locations: 2248,
      });
      const names = catalog.targets.map(
        t => t.split('/_git/')[1].split('?')[0],
      );
      expect(names).not.toContain(encodeURIComponent(deleted.name));
      expect(names).not.toContain(encodeURIComponent(emptied.name));
      // Two rounds of ~2,500 real HTTP requests: more than Jest's default 5 s on a busy machine.
    }, 60_000);
  });
});
