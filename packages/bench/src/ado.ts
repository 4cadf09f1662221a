import { LoggerService } from '@backstage/backend-plugin-api';
import { ConfigReader } from '@backstage/config';
import {
  DefaultAzureDevOpsCredentialsProvider,
  ScmIntegrations,
} from '@backstage/integration';
import { EntityProviderMutation } from '@backstage/plugin-catalog-node';
import { generateTenant, startEmulator } from '@gatehouse/entra-emulator';
import {
  AzureDevOpsDiscoveryProvider,
  readDiscoveryConfigs,
} from '@gatehouse/plugin-catalog-backend-module-azure-devops-discovery';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { machineInfo, MachineInfo } from './common';

/** One reader's round over one organization. */
export interface AdoBenchRow {
  repositories: number;
  /** Repositories that have `catalog-info.yaml` on their default branch. */
  expected: number;
  reader: 'Gatehouse (list repositories)' | 'Code Search (upstream method)';
  ok: boolean;
  error?: string;
  requests: number;
  wallMs: number;
  found: number;
}

export interface AdoBenchResult {
  date: string;
  machine: MachineInfo;
  latencyMs: number;
  concurrency: number;
  rows: AdoBenchRow[];
}

const USER = 'bench.user@synthetic.example';

const silentLogger: LoggerService = {
  error: (message: string) => process.stderr.write(`[discovery] ${message}\n`),
  warn: () => {},
  info: () => {},
  debug: () => {},
  child: () => silentLogger,
};

/**
 * What upstream's Azure DevOps entity provider does, reimplemented here because its package
 * (`@backstage/plugin-catalog-backend-module-azure`) is not on this machine's registry: one
 * Code Search query for the catalog file across the organization, `$top=1000`, `$skip` moving
 * on until a page comes back short. Code Search refuses a `$skip` past 1,000.
 */
async function codeSearchRound(
  baseUrl: string,
  organization: string,
  pat: string,
): Promise<{ found: number; requests: number }> {
  const auth = `Basic ${Buffer.from(`:${pat}`).toString('base64')}`;
  const found = new Set<string>();
  let requests = 0;
  for (let skip = 0; ; skip += 1000) {
    requests += 1;
    const res = await fetch(
      `${baseUrl}/${organization}/_apis/search/codesearchresults?api-version=7.1`,
      {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          searchText: 'path:/catalog-info.yaml',
          $skip: skip,
          $top: 1000,
        }),
      },
    );
    const body = (await res.json()) as {
      message?: string;
      results?: Array<{ repository: { name: string }; path: string }>;
    };
    if (!res.ok) {
      throw Object.assign(
        new Error(
          `Code Search answered ${res.status} at $skip=${skip}: ${body.message}`,
        ),
        { found: found.size, requests },
      );
    }
    for (const r of body.results ?? []) found.add(r.repository.name);
    if ((body.results ?? []).length < 1000)
      return { found: found.size, requests };
  }
}

async function benchOrganization(
  repositories: number,
  options: { latencyMs: number; concurrency: number; log: (l: string) => void },
): Promise<AdoBenchRow[]> {
  const tenant = generateTenant({
    users: 10,
    groups: 2,
    domain: 'synthetic.example',
    azureDevOps: {
      organization: 'bench',
      repositories,
      projects: 2,
      withoutCatalogInfoShare: 0.1,
    },
  });
  tenant.users.push({
    ...tenant.users[0],
    id: '0b0b0b0b-0000-4000-8000-00000000beef',
    userPrincipalName: USER,
    mailNickname: 'bench.user',
  });
  const org = tenant.azureDevOps!.organizations[0];
  org.members = [...(org.members ?? []), USER];
  const running = await startEmulator({ tenants: [tenant], port: 0 });
  try {
    const pat = running.ado.createPersonalAccessToken('bench', USER).token;
    running.emulator.faults.configure({ latencyMs: options.latencyMs });
    const expected = Math.round(repositories * 0.9);
    const rows: AdoBenchRow[] = [];
    const requests = () => {
      let n = 0;
      for (const [route, c] of Object.entries(
        running.emulator.faults.snapshot(),
      ))
        if (route.includes('{organization}')) n += c.requests;
      return n;
    };

    running.emulator.faults.resetCounters();
    const config = new ConfigReader({
      integrations: {
        azure: [
          {
            host: running.adoHost,
            credentials: [{ personalAccessToken: pat }],
          },
        ],
      },
      catalog: {
        providers: {
          azureDevOps: {
            bench: {
              host: running.adoHost,
              baseUrl: running.adoUrl,
              organization: 'bench',
              concurrency: options.concurrency,
            },
          },
        },
      },
    });
    let found = 0;
    const provider = new AzureDevOpsDiscoveryProvider({
      config: readDiscoveryConfigs(config)[0],
      credentials: DefaultAzureDevOpsCredentialsProvider.fromIntegrations(
        ScmIntegrations.fromConfig(config),
      ),
      logger: silentLogger,
      taskRunner: { run: async () => {} },
    });
    await provider.connect({
      applyMutation: async (m: EntityProviderMutation) => {
        if (m.type === 'full') found = m.entities.length;
      },
      refresh: async () => {},
    });
    options.log(`[${repositories}] Gatehouse discovery started`);
    let started = performance.now();
    try {
      await provider.read();
      rows.push({
        repositories,
        expected,
        reader: 'Gatehouse (list repositories)',
        ok: true,
        requests: requests(),
        wallMs: performance.now() - started,
        found,
      });
    } catch (e) {
      rows.push({
        repositories,
        expected,
        reader: 'Gatehouse (list repositories)',
        ok: false,
        error: (e as Error).message,
        requests: requests(),
        wallMs: performance.now() - started,
        found: 0,
      });
    }

    running.emulator.faults.resetCounters();
    options.log(`[${repositories}] Code Search round started`);
    started = performance.now();
    try {
      const r = await codeSearchRound(running.adoUrl, 'bench', pat);
      rows.push({
        repositories,
        expected,
        reader: 'Code Search (upstream method)',
        ok: true,
        requests: requests(),
        wallMs: performance.now() - started,
        found: r.found,
      });
    } catch (e) {
      rows.push({
        repositories,
        expected,
        reader: 'Code Search (upstream method)',
        ok: false,
        error: (e as Error).message,
        requests: requests(),
        wallMs: performance.now() - started,
        found: (e as { found?: number }).found ?? 0,
      });
    }
    for (const r of rows.slice(-2))
      options.log(
        `[${repositories}] ${r.reader}: ${r.ok ? 'done' : 'FAILED'}, ${
          r.found
        } found, ${r.requests} requests, ${(r.wallMs / 1000).toFixed(1)} s`,
      );
    return rows;
  } finally {
    await running.close();
  }
}

/** Runs the benchmark over organizations of the given sizes. */
export async function runAdoBench(options: {
  sizes: number[];
  latencyMs: number;
  concurrency: number;
  log?: (line: string) => void;
}): Promise<AdoBenchResult> {
  const loadAverage = os.loadavg()[0];
  const rows: AdoBenchRow[] = [];
  for (const size of options.sizes) {
    rows.push(
      ...(await benchOrganization(size, {
        latencyMs: options.latencyMs,
        concurrency: options.concurrency,
        log: options.log ?? (() => {}),
      })),
    );
  }
  return {
    date: new Date().toISOString(),
    machine: machineInfo(loadAverage),
    latencyMs: options.latencyMs,
    concurrency: options.concurrency,
    rows,
  };
}

const n = (v: number) => v.toLocaleString('en-US');

export function formatAdoMarkdown(r: AdoBenchResult): string {
  const m = r.machine;
  const lines = [
    `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${
      m.platform
    }; load average ${m.loadAverage.toFixed(2)} at the start; run ${r.date}.`,
    '',
    `Emulator: ${r.latencyMs} ms added to every Azure DevOps request; organizations of two projects, 10% of repositories without \`catalog-info.yaml\`; Gatehouse with ${r.concurrency} requests in flight.`,
    '',
    '| Repositories | Reader | Catalog files found (of) | Requests | Wall time |',
    '| ---: | --- | ---: | ---: | ---: |',
    ...r.rows.map(
      row =>
        `| ${n(row.repositories)} | ${row.reader}${
          row.ok ? '' : ' (failed)'
        } | ${n(row.found)} (${n(row.expected)}) | ${n(row.requests)} | ${(
          row.wallMs / 1000
        ).toFixed(1)} s |`,
    ),
  ];
  for (const row of r.rows.filter(x => !x.ok))
    lines.push('', `${n(row.repositories)}, ${row.reader}: ${row.error}`);
  return `${lines.join('\n')}\n`;
}

/** `bench-ado [--sizes 500,5000] [--latency 50] [--concurrency 8] [--json]` */
export async function runAdoCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '500,5000' },
      latency: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '8' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: yarn bench:ado [--sizes 500,5000] [--latency 50] [--concurrency 8] [--json]\n',
    );
    return 0;
  }
  const sizes = values.sizes.split(',').map(Number);
  if (sizes.some(s => !Number.isInteger(s) || s < 1)) {
    process.stderr.write(
      `--sizes takes repository counts; got ${values.sizes}\n`,
    );
    return 2;
  }
  const result = await runAdoBench({
    sizes,
    latencyMs: Number(values.latency),
    concurrency: Number(values.concurrency),
    log: line =>
      process.stderr.write(
        `${new Date().toISOString().slice(11, 19)} ${line}\n`,
      ),
  });
  process.stdout.write(
    values.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : formatAdoMarkdown(result),
  );
  return 0;
}
