/*
 * `yarn bench:orgsync`: reading the org from Microsoft Graph, Backstage's msgraph module
 * (`readMicrosoftGraphOrg`) against Gatehouse's delta sync, both against the emulator with a
 * synthetic tenant, 50 ms added latency and Graph's resource-unit budget enforced. Each reader
 * runs in a child process, so its peak RSS is its own.
 */
import {
  EmulatedTenantData,
  generateTenant,
  prng,
  parseTenants,
  RouteCounter,
  RunningEmulator,
  startEmulator,
  TenantStore,
} from '@gatehouse/entra-emulator';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  runWorker,
  WorkerDone,
  WorkerMessage,
  WorkerRound,
  WorkerTask,
} from './orgsyncWorker';
import { isEntraRoute, machineInfo } from './common';

const APP_ID = '5b0f7c1e-2d3a-4b8c-9e6f-a1b2c3d4e5f6';
/** Objects and member references per delta page the emulator serves (its conservative default). */
export const DELTA_PAGE_SIZE = 100;
/** `$top` of the list endpoints: Graph's maximum, which the upstream module asks for. */
export const LIST_PAGE_SIZE = 999;
/** Graph's budget for tenants of more than 500 users, RU per second. */
const RU_PER_SECOND = 800;

export interface SizeSpec {
  name: string;
  users: number;
  groups: number;
  membershipsPerUser: number;
  largeGroups: number;
  nestingDepth: number;
}

export const SIZES: Record<string, SizeSpec> = {
  S: {
    name: 'S',
    users: 1000,
    groups: 200,
    membershipsPerUser: 3,
    largeGroups: 0,
    nestingDepth: 3,
  },
  M: {
    name: 'M',
    users: 20_000,
    groups: 5000,
    membershipsPerUser: 5,
    largeGroups: 2,
    nestingDepth: 4,
  },
  L: {
    name: 'L',
    users: 100_000,
    groups: 20_000,
    membershipsPerUser: 10,
    largeGroups: 20,
    nestingDepth: 5,
  },
};

export interface OrgSyncBenchOptions {
  sizes: SizeSpec[];
  latencyMs: number;
  /** Run readers in child processes (honest peak RSS); tests run them in-process. */
  isolate: boolean;
  /** Gatehouse's Graph requests in flight (the provider's default when absent). */
  concurrency?: number;
  /** Skip the upstream reader (no comparison, no goals): for quick runs of Gatehouse alone. */
  skipUpstream?: boolean;
  /** Also run the largest size with this share of Graph requests answered 429 (0: skip). */
  rate429: number;
  log?: (line: string) => void;
}

export interface PhaseResult {
  size: string;
  reader:
    | 'Upstream (msgraph 0.10.6)'
    | 'Gatehouse first round'
    | 'Gatehouse delta round';
  ok: boolean;
  error?: string;
  graphRequests: number;
  resourceUnits: number;
  throttled429: number;
  tokenRequests: number;
  wallMs: number;
  /** Peak RSS of the reading process (both Gatehouse rounds share a process). */
  peakRssMb?: number;
  entities: number;
  /** Time until the catalog would show a change: the round (Gatehouse) or a full read (upstream). */
  catalogShowsChangeMs: number;
  /** Gatehouse: max(RU / 800 per s, sequential requests × latency). */
  lowerBoundMs?: number;
  /** The longest chain of requests that each waited for the one before (Gatehouse). */
  sequentialRequests?: number;
  routes: Record<string, RouteCounter>;
}

export interface TenantShape {
  size: string;
  users: number;
  groups: number;
  memberships: number;
  groupsOver999: number;
  churn: { users: number; groups: number; memberships: number };
}

export interface GoalResult {
  goal: string;
  measured: string;
  pass: boolean;
}

export interface OrgSyncBenchResult {
  date: string;
  machine: {
    cpu: string;
    cores: number;
    node: string;
    platform: string;
    loadAverage: number;
  };
  latencyMs: number;
  deltaPageSize: number;
  listPageSize: number;
  budget: string;
  tenants: TenantShape[];
  phases: PhaseResult[];
  faultRun?: { size: string; rate429: number; phases: PhaseResult[] };
  goals: GoalResult[];
  goalsSize?: string;
}

/** The generated tenant, with an app registration holding the sync's Graph permissions. */
export function benchTenant(spec: SizeSpec): EmulatedTenantData {
  const tenant = generateTenant({
    users: spec.users,
    groups: spec.groups,
    membershipsPerUser: spec.membershipsPerUser,
    largeGroups: spec.largeGroups,
    nestingDepth: spec.nestingDepth,
    domain: `${spec.name.toLowerCase()}.bench.example`,
  });
  const [{ applications }] = parseTenants(`
tenants:
  - id: ${tenant.id}
    displayName: x
    domains: [x.example]
    applications:
      - displayName: Org sync benchmark
        appId: ${APP_ID}
        graphApplicationPermissions: [User.Read.All, GroupMember.Read.All]
`);
  return { ...tenant, applications };
}

function membershipCount(t: TenantStore): number {
  let n = 0;
  for (const g of t.listGroups()) n += g.members.length;
  return n;
}

/**
 * Changes 1% of the directory: 1% of users renamed, 1% of groups given a new description,
 * and 1% of memberships changed (half removed, half added).
 */
export function churn(
  t: TenantStore,
  share = 0.01,
  seed = 7,
): TenantShape['churn'] {
  const rand = prng(seed);
  const users = t.listUsers();
  const groups = t.listGroups();
  const nUsers = Math.max(1, Math.round(users.length * share));
  const nGroups = Math.max(1, Math.round(groups.length * share));
  const nMembers = Math.max(2, Math.round(membershipCount(t) * share));
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
  const touchedUsers = new Set<string>();
  while (touchedUsers.size < nUsers) {
    const u = pick(users);
    if (touchedUsers.has(u.id)) continue;
    touchedUsers.add(u.id);
    t.updateUser(u.id, { displayName: `${u.displayName} (renamed)` });
  }
  const touchedGroups = new Set<string>();
  while (touchedGroups.size < nGroups) {
    const g = pick(groups);
    if (touchedGroups.has(g.id)) continue;
    touchedGroups.add(g.id);
    t.updateGroup(g.id, { description: `${g.description} (changed)` });
  }
  let removed = 0;
  let added = 0;
  while (removed < Math.floor(nMembers / 2)) {
    const g = pick(groups);
    const current = t.getGroup(g.id)!;
    if (!current.members.length) continue;
    t.removeMember(g.id, pick(current.members));
    removed += 1;
  }
  while (added < nMembers - removed) {
    const g = pick(groups);
    const u = pick(users);
    if (t.getGroup(g.id)!.members.includes(u.id)) continue;
    t.addMember(g.id, u.id);
    added += 1;
  }
  return { users: nUsers, groups: nGroups, memberships: removed + added };
}

function tally(routes: Record<string, RouteCounter>) {
  let graphRequests = 0;
  let resourceUnits = 0;
  let throttled429 = 0;
  let tokenRequests = 0;
  for (const [route, c] of Object.entries(routes)) {
    if (isEntraRoute(route)) {
      tokenRequests += c.requests;
      continue;
    }
    graphRequests += c.requests;
    resourceUnits += c.resourceUnits;
    throttled429 += c.statuses['429'] ?? 0;
  }
  return { graphRequests, resourceUnits, throttled429, tokenRequests };
}

/** A reader: in a child process, or (tests) in this one. */
interface ReaderHandle {
  /** The next message of the reader. */
  receive(): Promise<WorkerMessage>;
  /** Lets the reader go on with its next round. */
  next(): void;
}

function startReader(task: WorkerTask, isolate: boolean): ReaderHandle {
  const inbox: WorkerMessage[] = [];
  const waiters: Array<(m: WorkerMessage) => void> = [];
  let failure: Error | undefined;
  const deliver = (m: WorkerMessage) => {
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  };
  const receive = () =>
    new Promise<WorkerMessage>((resolve, reject) => {
      if (failure) reject(failure);
      else if (inbox.length) resolve(inbox.shift()!);
      else waiters.push(resolve);
    });
  if (!isolate) {
    let nexts = 0;
    const pending: Array<() => void> = [];
    runWorker(task, {
      send: deliver,
      next: () =>
        new Promise<void>(resolve => {
          if (nexts > 0) {
            nexts -= 1;
            resolve();
          } else pending.push(resolve);
        }),
    }).catch(e => {
      failure = e as Error;
    });
    return {
      receive,
      next: () => {
        const p = pending.shift();
        if (p) p();
        else nexts += 1;
      },
    };
  }
  const child: ChildProcess = fork(
    resolvePackagePath('@gatehouse/bench', 'bin', 'bench-orgsync'),
    ['--worker'],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  // The TS transform of the child reports the files it loads over the same channel.
  child.on('message', m => {
    const type = (m as { type?: string }).type;
    if (type === 'round' || type === 'done') deliver(m as WorkerMessage);
  });
  child.on('exit', code => {
    if (code) failure = new Error(`reader process exited with ${code}`);
    // Unblock anyone still waiting.
    if (failure)
      while (waiters.length)
        waiters.shift()!({ type: 'done', maxRssKb: Number.NaN });
  });
  child.send({ type: 'task', task });
  return { receive, next: () => child.send({ type: 'next' }) };
}

async function receiveRound(reader: ReaderHandle): Promise<WorkerRound> {
  const m = await reader.receive();
  if (m.type !== 'round') throw new Error('the reader ended early');
  return m;
}

async function receiveDone(reader: ReaderHandle): Promise<WorkerDone> {
  const m = await reader.receive();
  if (m.type !== 'done') throw new Error('the reader sent more rounds');
  return m;
}

function totalRequests(running: RunningEmulator): number {
  return tally(running.emulator.faults.snapshot()).graphRequests;
}

/** Runs the readers of one size against a fresh emulator. */
async function benchSize(
  spec: SizeSpec,
  options: OrgSyncBenchOptions,
  rate429: number,
): Promise<{ shape: TenantShape; phases: PhaseResult[] }> {
  const log = options.log ?? (() => {});
  const label =
    rate429 > 0 ? `${spec.name}, ${rate429 * 100}% 429s` : spec.name;
  log(`[${label}] generating ${spec.users} users, ${spec.groups} groups`);
  const tenant = benchTenant(spec);
  const running = await startEmulator({
    tenants: [tenant],
    port: 0,
    host: '127.0.0.1',
    publicHost: '127.0.0.1',
    deltaPageSize: DELTA_PAGE_SIZE,
  });
  const { faults } = running.emulator;
  const ticker = setInterval(
    () =>
      log(`[${label}]   ... ${totalRequests(running)} Graph requests so far`),
    15_000,
  );
  try {
    const secret = running.emulator.addClientSecret(APP_ID).secretText;
    faults.configure({
      latencyMs: options.latencyMs,
      rate429,
      throttling: true,
    });
    const store = running.emulator.tenants.get(tenant.id)!;
    const shape: TenantShape = {
      size: spec.name,
      users: store.userCount,
      groups: store.listGroups().length,
      memberships: membershipCount(store),
      groupsOver999: store.listGroups().filter(g => g.members.length > 999)
        .length,
      churn: { users: 0, groups: 0, memberships: 0 },
    };
    const task = (
      reader: WorkerTask['reader'],
      rounds: number,
    ): WorkerTask => ({
      reader,
      url: running.url,
      tenantId: tenant.id,
      clientId: APP_ID,
      clientSecret: secret,
      rounds,
      concurrency: options.concurrency,
    });
    const phases: PhaseResult[] = [];
    const phase = (
      reader: PhaseResult['reader'],
      r: WorkerRound,
      sequential: boolean,
    ): PhaseResult => {
      const routes = faults.snapshot();
      const t = tally(routes);
      const p: PhaseResult = {
        size: spec.name,
        reader,
        ok: r.ok,
        error: r.error,
        ...t,
        wallMs: r.wallMs,
        entities: r.entities,
        catalogShowsChangeMs: r.wallMs,
        routes,
      };
      if (sequential) {
        // Requests that wait for the one before (a next link, the token first) cannot overlap;
        // the reader counts its longest such chain.
        p.lowerBoundMs = Math.max(
          (t.resourceUnits / RU_PER_SECOND) * 1000,
          ((r.clientSequential ?? t.graphRequests) + t.tokenRequests) *
            options.latencyMs,
        );
        p.sequentialRequests = r.clientSequential;
      }
      log(
        `[${label}] ${reader} ${r.ok ? 'finished' : `FAILED (${r.error})`}: ${
          t.graphRequests
        } Graph requests, ${t.resourceUnits} RU, ${t.throttled429} 429s, ${(
          r.wallMs / 1000
        ).toFixed(1)} s`,
      );
      return p;
    };

    // Gatehouse: a first round, 1% churn, a delta round; one process.
    faults.resetCounters();
    log(`[${label}] Gatehouse first round started`);
    const gatehouse = startReader(task('gatehouse', 2), options.isolate);
    const first = phase(
      'Gatehouse first round',
      await receiveRound(gatehouse),
      true,
    );
    shape.churn = churn(store);
    log(
      `[${label}] churn: ${shape.churn.users} users, ${shape.churn.groups} groups, ${shape.churn.memberships} memberships changed`,
    );
    faults.resetCounters();
    log(`[${label}] Gatehouse delta round started`);
    gatehouse.next();
    const delta = phase(
      'Gatehouse delta round',
      await receiveRound(gatehouse),
      true,
    );
    const gDone = await receiveDone(gatehouse);
    first.peakRssMb = gDone.maxRssKb / 1024;
    delta.peakRssMb = gDone.maxRssKb / 1024;

    if (options.skipUpstream) {
      phases.push(first, delta);
      return { shape, phases };
    }
    // Upstream: one full read (its only way to see a change).
    faults.resetCounters();
    log(`[${label}] upstream readMicrosoftGraphOrg started`);
    const upstream = startReader(task('upstream', 1), options.isolate);
    const up = phase(
      'Upstream (msgraph 0.10.6)',
      await receiveRound(upstream),
      false,
    );
    up.peakRssMb = (await receiveDone(upstream)).maxRssKb / 1024;
    phases.push(up, first, delta);
    if (!options.isolate) {
      // In-process readers share this process: their RSS is not theirs alone.
      for (const p of phases) delete p.peakRssMb;
    }
    return { shape, phases };
  } finally {
    clearInterval(ticker);
    await running.close();
  }
}

function evaluateGoals(phases: PhaseResult[], size: string): GoalResult[] {
  const get = (reader: PhaseResult['reader']) =>
    phases.find(p => p.size === size && p.reader === reader)!;
  const up = get('Upstream (msgraph 0.10.6)');
  const first = get('Gatehouse first round');
  const delta = get('Gatehouse delta round');
  if (!up) return [];
  const ratio = (a: number, b: number) => (b === 0 ? Infinity : a / b);
  const goals: GoalResult[] = [];
  const upNote = up.ok ? '' : ' (the upstream read failed; its partial counts)';
  const reqRatio = ratio(up.graphRequests, first.graphRequests);
  goals.push({
    goal: `${size} first round: ≥50x fewer Graph requests than upstream`,
    measured: `${reqRatio.toFixed(1)}x (${up.graphRequests} / ${
      first.graphRequests
    })${upNote}`,
    pass: up.ok && reqRatio >= 50,
  });
  const ruRatio = ratio(up.resourceUnits, first.resourceUnits);
  goals.push({
    goal: `${size} first round: ≥100x fewer RU than upstream`,
    measured: `${ruRatio.toFixed(1)}x (${up.resourceUnits} / ${
      first.resourceUnits
    })${upNote}`,
    pass: up.ok && ruRatio >= 100,
  });
  goals.push({
    goal: `${size} first round: ≤1/5 of upstream's wall time`,
    measured: `${ratio(first.wallMs, up.wallMs).toFixed(2)} of it (${(
      first.wallMs / 1000
    ).toFixed(1)} s / ${(up.wallMs / 1000).toFixed(1)} s)${upNote}`,
    pass: up.ok && first.wallMs <= up.wallMs / 5,
  });
  for (const p of [first, delta]) {
    goals.push({
      goal: `${size} ${p.reader}: wall time within 1.5x of max(RU / 800 per s, sequential requests × latency)`,
      measured: `${ratio(p.wallMs, p.lowerBoundMs ?? 0).toFixed(2)}x (${(
        p.wallMs / 1000
      ).toFixed(1)} s against ${((p.lowerBoundMs ?? 0) / 1000).toFixed(1)} s)`,
      pass: p.ok && p.wallMs <= 1.5 * (p.lowerBoundMs ?? 0),
    });
  }
  const share = ratio(delta.graphRequests, up.graphRequests);
  goals.push({
    goal: `${size} 1%-churn delta round: < 0.5% of an upstream run's Graph requests`,
    measured: `${(share * 100).toFixed(2)}% (${delta.graphRequests} / ${
      up.graphRequests
    })${upNote}`,
    pass: up.ok && share < 0.005,
  });
  goals.push({
    goal: `${size}: the catalog shows a 1% change within 60 s`,
    measured: `${(delta.catalogShowsChangeMs / 1000).toFixed(
      1,
    )} s (the delta round)`,
    pass: delta.ok && delta.catalogShowsChangeMs < 60_000,
  });
  if (first.peakRssMb !== undefined && up.peakRssMb !== undefined) {
    goals.push({
      goal: `${size}: Gatehouse peak RSS ≤ upstream's`,
      measured: `${first.peakRssMb.toFixed(
        0,
      )} MB against ${up.peakRssMb.toFixed(0)} MB`,
      pass: first.peakRssMb <= up.peakRssMb,
    });
  }
  return goals;
}

/** Runs the benchmark: per size a fresh emulator, then the readers one after the other. */
export async function runOrgSyncBench(
  options: OrgSyncBenchOptions,
): Promise<OrgSyncBenchResult> {
  const loadAverage = os.loadavg()[0];
  const tenants: TenantShape[] = [];
  const phases: PhaseResult[] = [];
  for (const spec of options.sizes) {
    const r = await benchSize(spec, options, 0);
    tenants.push(r.shape);
    phases.push(...r.phases);
  }
  let faultRun: OrgSyncBenchResult['faultRun'];
  if (options.rate429 > 0 && options.sizes.length) {
    // The largest size: every round must complete there too.
    const largestSize = [...options.sizes].sort((a, b) => b.users - a.users)[0];
    const r = await benchSize(largestSize, options, options.rate429);
    faultRun = {
      size: largestSize.name,
      rate429: options.rate429,
      phases: r.phases,
    };
  }
  const largest = [...options.sizes].sort((a, b) => b.users - a.users)[0];
  return {
    date: new Date().toISOString(),
    machine: machineInfo(loadAverage),
    latencyMs: options.latencyMs,
    deltaPageSize: DELTA_PAGE_SIZE,
    listPageSize: LIST_PAGE_SIZE,
    budget:
      '8,000 RU per 10 s per app and tenant (tenants of more than 500 users), enforced',
    tenants,
    phases,
    faultRun,
    goals: largest
      ? [
          ...evaluateGoals(phases, largest.name),
          ...(faultRun
            ? [
                {
                  goal: `${
                    faultRun.size
                  }: every Gatehouse round completes with ${
                    faultRun.rate429 * 100
                  }% of requests answered 429`,
                  measured: faultRun.phases
                    .filter(p => p.reader !== 'Upstream (msgraph 0.10.6)')
                    .map(
                      p =>
                        `${p.reader}: ${p.ok ? 'completed' : 'failed'}, ${
                          p.throttled429
                        } 429s`,
                    )
                    .join('; '),
                  pass: faultRun.phases
                    .filter(p => p.reader !== 'Upstream (msgraph 0.10.6)')
                    .every(p => p.ok),
                },
              ]
            : []),
        ]
      : [],
    goalsSize: largest?.name,
  };
}

const n = (v: number) => v.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function phaseRow(p: PhaseResult): string {
  return `| ${p.size} | ${p.reader}${p.ok ? '' : ' (failed)'} | ${n(
    p.graphRequests,
  )} | ${n(p.resourceUnits)} | ${n(p.throttled429)} | ${seconds(p.wallMs)} | ${
    p.peakRssMb === undefined ? '–' : `${p.peakRssMb.toFixed(0)} MB`
  } | ${p.ok ? seconds(p.catalogShowsChangeMs) : '–'} |`;
}

export function formatOrgSyncMarkdown(r: OrgSyncBenchResult): string {
  const m = r.machine;
  const lines = [
    `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${
      m.platform
    }; load average ${m.loadAverage.toFixed(2)} at the start; run ${r.date}.`,
    '',
    `Emulator: ${r.latencyMs} ms added to every endpoint; Graph's budget of ${r.budget}; delta pages of at most ${r.deltaPageSize} objects and member references together (\`deltaPageSize\`); list pages \`$top=${r.listPageSize}\` (Graph's maximum).`,
    '',
    '| Size | Users | Groups | Memberships | Groups over 999 members | 1% churn (users / groups / memberships) |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...r.tenants.map(
      t =>
        `| ${t.size} | ${n(t.users)} | ${n(t.groups)} | ${n(t.memberships)} | ${
          t.groupsOver999
        } | ${n(t.churn.users)} / ${n(t.churn.groups)} / ${n(
          t.churn.memberships,
        )} |`,
    ),
    '',
    '| Size | Reader | Graph requests | RU | 429s met | Wall time | Peak RSS (reader) | Catalog shows a change after |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.phases.map(phaseRow),
  ];
  for (const p of r.phases.filter(x => !x.ok))
    lines.push('', `${p.size} ${p.reader} failed: ${p.error}`);
  if (r.faultRun) {
    lines.push(
      '',
      `With ${(r.faultRun.rate429 * 100).toFixed(
        0,
      )}% of Graph requests answered 429 (Retry-After: 1 s), ${
        r.faultRun.size
      }:`,
      '',
      '| Size | Reader | Graph requests | RU | 429s met | Wall time | Peak RSS (reader) | Catalog shows a change after |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...r.faultRun.phases.map(phaseRow),
    );
    for (const p of r.faultRun.phases.filter(x => !x.ok))
      lines.push('', `${p.reader} failed: ${p.error}`);
  }
  if (r.goals.length) {
    lines.push(
      '',
      `Goals (at ${r.goalsSize}, the largest size run):`,
      '',
      '| Goal | Measured | Result |',
      '| --- | --- | --- |',
      ...r.goals.map(
        g => `| ${g.goal} | ${g.measured} | ${g.pass ? 'pass' : '**fail**'} |`,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `bench-orgsync [--sizes S,M,L] [--latency 50] [--json]`; returns the exit code. */
export async function runOrgSyncCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: 'S,M,L' },
      latency: { type: 'string', default: '50' },
      'no-faults': { type: 'boolean', default: false },
      'no-upstream': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: yarn bench:orgsync [--sizes S,M,L] [--latency 50] [--no-faults] [--no-upstream] [--concurrency N] [--json]\n' +
        '  --sizes      tenant sizes to run: S (1k users), M (20k), L (100k)\n' +
        '  --latency    ms the emulator adds to every endpoint\n' +
        '  --no-faults  skip the extra run of the largest size with 5% 429s\n' +
        '  --no-upstream  Gatehouse alone (no comparison, no goals)\n' +
        "  --concurrency  Graph requests Gatehouse keeps in flight (default: the provider's)\n" +
        '  --json       machine-readable results instead of the Markdown tables\n',
    );
    return 0;
  }
  const names = values.sizes.split(',').map(s => s.trim().toUpperCase());
  const unknown = names.filter(s => !SIZES[s]);
  if (unknown.length || !names.length) {
    process.stderr.write(`--sizes takes S, M and L; got ${values.sizes}\n`);
    return 2;
  }
  const latencyMs = Number(values.latency);
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 60_000) {
    process.stderr.write('--latency must be between 0 and 60000 ms\n');
    return 2;
  }
  const result = await runOrgSyncBench({
    sizes: names.map(s => SIZES[s]),
    latencyMs,
    isolate: true,
    rate429: values['no-faults'] ? 0 : 0.05,
    skipUpstream: values['no-upstream'],
    concurrency: values.concurrency ? Number(values.concurrency) : undefined,
    log: line =>
      process.stderr.write(
        `${new Date().toISOString().slice(11, 19)} ${line}\n`,
      ),
  });
  process.stdout.write(
    values.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : formatOrgSyncMarkdown(result),
  );
  return 0;
}
