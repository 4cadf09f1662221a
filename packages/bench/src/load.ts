import {
  bundleFile,
  prepareProductionBundle,
  ProductionBackend,
  productionDir,
  ProductionEnvironment,
  signIn,
  signInOnceSynced,
  startProductionEnvironment,
} from '@gatehouse/production-tests';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineInfo } from './common';

/** Options of {@link runLoadBench}. */
export interface LoadBenchOptions {
  /** Seeded catalog Components (default 20,000). */
  entities: number;
  /** Seconds of load per scenario (default 20). */
  seconds: number;
  /** Concurrent clients for catalog reads (default 16). */
  concurrency: number;
  /** Concurrent clients for sign-ins (default 4). */
  signInConcurrency: number;
}

/** One scenario's figures. */
export interface LoadResult {
  scenario: string;
  replicas: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  perSecond: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Runs `concurrency` loops of `once` for `seconds`, round-robin over the replicas. */
async function load(
  scenario: string,
  backends: ProductionBackend[],
  options: { seconds: number; concurrency: number },
  once: (backend: ProductionBackend, i: number) => Promise<boolean>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const end = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < end) {
        const i = next++;
        const t = performance.now();
        const ok = await once(backends[i % backends.length], i).catch(
          () => false,
        );
        if (ok) latencies.push(performance.now() - t);
        else errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  return {
    scenario,
    replicas: backends.length,
    requests: latencies.length,
    errors,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    perSecond: latencies.length / elapsed,
  };
}

/** A catalog file of `count` Components owned by the seeded teams. */
function writeCatalog(count: number): string {
  const file = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-load-')),
    'entities.yaml',
  );
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    docs.push(
      `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: load-${i}\n  description: Seeded component ${i} of ${count}\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/platform\n`,
    );
  }
  fs.writeFileSync(file, docs.join('---\n'));
  return file;
}

async function waitForCatalog(
  backend: ProductionBackend,
  token: string,
  count: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await fetch(
      `${
        backend.baseUrl
      }/api/catalog/entities/by-query?filter=kind=component,metadata.name=load-${
        count - 1
      }&limit=1`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    const body = (await res.json()) as { items: unknown[] };
    const total = await fetch(
      `${backend.baseUrl}/api/catalog/entities/by-query?filter=kind=component&limit=1`,
      { headers: { authorization: `Bearer ${token}` } },
    ).then(r => r.json() as Promise<{ totalItems: number }>);
    if (body.items.length === 1 && total.totalItems >= count) {
      return Date.now() - started;
    }
    if (Date.now() - started > 30 * 60_000) {
      throw new Error(
        `the catalog holds ${total.totalItems} of ${count} seeded components after 30 minutes`,
      );
    }
    await new Promise(r => setTimeout(r, 2000));
  }
}

/** The benchmark: the production build on Postgres, one then two replicas. */
export async function runLoadBench(options: LoadBenchOptions) {
  const loadAverage = os.loadavg()[0];
  if (!fs.existsSync(bundleFile)) {
    throw new Error(`${bundleFile} is missing: run "yarn build:backend" first`);
  }
  // Its own copy, so that a test run cannot unpack over it.
  const dir = prepareProductionBundle(`${productionDir}-bench`);
  const catalogFile = writeCatalog(options.entities);
  let env: ProductionEnvironment | undefined;
  try {
    env = await startProductionEnvironment({ dir });
    const seeded = {
      env: { GATEHOUSE_SHUTDOWN_DELAY: '0s' },
      catalogLocations: [{ type: 'file', target: catalogFile }],
    };
    const startReplica = () =>
      env!.startBackend({
        env: seeded.env,
        overlay: {
          catalog: {
            locations: seeded.catalogLocations,
            processingInterval: { minutes: 30 },
          },
        },
      });
    const a = await startReplica();
    const users = ['alex.wilber', 'lee.gu', 'joni.sherman', 'adele.vance'].map(
      u => env!.userId(`${u}@contoso.example`),
    );
    const first = await signInOnceSynced(a.baseUrl, users[0]);
    process.stderr.write(
      `[bench:load] seeding ${options.entities} components...\n`,
    );
    const seedMs = await waitForCatalog(a, first.token, options.entities);
    process.stderr.write(
      `[bench:load] catalog seeded in ${(seedMs / 1000).toFixed(0)} s\n`,
    );

    const read = (token: string) => async (b: ProductionBackend, i: number) => {
      const n = (i * 7919) % options.entities;
      const byName = await fetch(
        `${b.baseUrl}/api/catalog/entities/by-name/component/default/load-${n}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      await byName.arrayBuffer();
      return byName.status === 200;
    };
    const list = (token: string) => async (b: ProductionBackend) => {
      const res = await fetch(
        `${b.baseUrl}/api/catalog/entities/by-query?filter=kind=component&limit=50&orderField=metadata.name,asc`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      await res.arrayBuffer();
      return res.status === 200;
    };
    const signInOnce = async (b: ProductionBackend, i: number) => {
      await signIn(b.baseUrl, users[i % users.length]);
      return true;
    };

    const results: LoadResult[] = [];
    const scenarios = async (backends: ProductionBackend[]) => {
      results.push(
        await load(
          'catalog read by name',
          backends,
          options,
          read(first.token),
        ),
      );
      results.push(
        await load(
          'catalog query (50 components)',
          backends,
          options,
          list(first.token),
        ),
      );
      results.push(
        await load(
          'sign-in (whole flow)',
          backends,
          { seconds: options.seconds, concurrency: options.signInConcurrency },
          signInOnce,
        ),
      );
    };
    await scenarios([a]);
    const b = await startReplica();
    await scenarios([a, b]);
    return {
      results,
      seedSeconds: seedMs / 1000,
      machine: machineInfo(loadAverage),
      options,
    };
  } finally {
    await env?.stop();
    fs.rmSync(path.dirname(catalogFile), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The results as the table printed on stdout (Markdown). */
export function formatLoadMarkdown(
  run: Awaited<ReturnType<typeof runLoadBench>>,
): string {
  const lines = [
    '| Scenario | Replicas | Requests | Errors | p50 (ms) | p99 (ms) | Requests/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...run.results.map(
      r =>
        `| ${r.scenario} | ${r.replicas} | ${r.requests} | ${
          r.errors
        } | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(
          1,
        )} | ${r.perSecond.toFixed(1)} |`,
    ),
  ];
  const m = run.machine;
  lines.push(
    '',
    `${
      run.options.entities
    } seeded components (catalog ready after ${run.seedSeconds.toFixed(
      0,
    )} s); ${run.options.seconds} s per scenario; ${
      run.options.concurrency
    } concurrent readers, ${
      run.options.signInConcurrency
    } concurrent sign-ins; replicas share one Postgres (TLS) and the load client round-robins over them.`,
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.platform}, Node.js ${
      m.node
    }, load average ${m.loadAverage.toFixed(2)} at start; ${new Date()
      .toISOString()
      .slice(0, 10)}.`,
  );
  return lines.join('\n');
}

/** `yarn bench:load [--entities N] [--seconds S] [--concurrency C] [--sign-in-concurrency C]` */
export async function runLoadCli(argv: string[]): Promise<number> {
  const options: LoadBenchOptions = {
    entities: 20_000,
    seconds: 20,
    concurrency: 16,
    signInConcurrency: 4,
  };
  const flags: Record<string, keyof LoadBenchOptions> = {
    '--entities': 'entities',
    '--seconds': 'seconds',
    '--concurrency': 'concurrency',
    '--sign-in-concurrency': 'signInConcurrency',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = flags[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value <= 0) {
      process.stderr.write(
        `usage: yarn bench:load [--entities N] [--seconds S] [--concurrency C] [--sign-in-concurrency C]\n`,
      );
      return 2;
    }
    options[key] = value;
  }
  const run = await runLoadBench(options);
  process.stdout.write(`${formatLoadMarkdown(run)}\n`);
  return 0;
}
