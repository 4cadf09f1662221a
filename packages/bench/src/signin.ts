/*
 * `yarn bench:signin`: outbound requests and latency per sign-in, Gatehouse against the
 * request pattern of Backstage's own Microsoft provider, both against the emulator with the
 * same latency added to every endpoint.
 */
import { ConfigReader } from '@backstage/config';
import {
  encodeOAuthState,
  OAuthAuthenticatorAuthenticateInput,
} from '@backstage/plugin-auth-node';
import {
  defaultTenantFile,
  loadTenantFile,
  RouteCounter,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import { createEntraAuthenticator } from '@gatehouse/plugin-auth-backend-module-entra-provider';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isEntraRoute, machineInfo } from './common';

/** The redirect URI registered on the seeded app; the browser is sent there, nothing listens. */
const CALLBACK_URL = 'http://localhost:7007/api/auth/microsoft/handler/frame';
const APP_ORIGIN = 'http://localhost:3000';
/** What Backstage's frontend asks the `microsoft` provider for (microsoftAuthApiRef). */
const SCOPE = 'openid offline_access profile email User.Read';
const SIGN_IN_USER = 'lee.gu@contoso.example';
const OVERAGE_USER = 'morgan.lee@contoso.example';

/** What the upstream pattern replicates, and where it was read. */
export const UPSTREAM_SOURCES = [
  '@backstage/plugin-auth-backend-module-microsoft-provider 0.3.19 (the release for plugin-auth-node 0.7.6): src/authenticator.ts and src/strategy.ts, as shipped in its source maps (github.com/backstage/backstage, plugins/auth-backend-module-microsoft-provider/src)',
  'passport-microsoft 1.1.0 (its dependency ^1.0.0): lib/strategy.js',
  '@backstage/plugin-auth-node 0.7.6: PassportOAuthAuthenticatorHelper (authenticate, refresh)',
];

/** The requests of one upstream sign-in, in order, and why each is made. */
const UPSTREAM_PATTERN = [
  'browser → IdP: GET /{tenant}/oauth2/v2.0/authorize (passport-oauth2 builds the URL from the configured tenant: no discovery; no PKCE, no nonce), then the account page',
  'backend → IdP: POST /{tenant}/oauth2/v2.0/token, grant authorization_code with the client secret (passport-oauth2)',
  'backend → Graph: GET /v1.0/me/ (passport-microsoft userProfile; ExtendedMicrosoftStrategy fetches it when the access token is a Graph token with User.Read, as on a normal sign-in)',
  'backend → Graph: GET /v1.0/me/photos/96x96/$value (ExtendedMicrosoftStrategy.getProfilePhotos, on every sign-in and refresh; the body is turned into a data: URL whatever the status, so a 404 for a user without a photo becomes the "photo")',
  'no refresh on a normal sign-in: withProfileFetchedViaGraph refreshes (POST token, grant refresh_token, then /me and the photo again) only when the access token is not a Graph token, i.e. when a scope of another resource was asked',
  'the ID token is not validated (passport does not), so neither discovery nor the JWKS is fetched',
];

export interface SigninBenchOptions {
  /** Measured sign-ins per path (after one warm-up each). */
  n: number;
  /** Latency added by the emulator to every endpoint, ms. */
  latencyMs: number;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
}

export interface Percentiles {
  p50: number;
  p95: number;
}

export interface PathResult {
  name: string;
  user: string;
  signIns: number;
  /** Requests per sign-in (totals divided by sign-ins). */
  perSignIn: {
    backendIdp: number;
    browserIdp: number;
    graph: number;
    roundTrips: number;
  };
  /** Emulator counters over the measured sign-ins. */
  routes: Record<string, RouteCounter>;
  /** From the callback reaching the backend to the sign-in result. */
  backendMs: Percentiles;
  /** From the backend's start to the sign-in result, browser steps included. */
  wholeFlowMs: Percentiles;
}

export interface RefreshResult {
  name: string;
  refreshes: number;
  perRefresh: { backendIdp: number; graph: number };
  routes: Record<string, RouteCounter>;
  ms: Percentiles;
}

export interface SigninBenchResult {
  date: string;
  machine: {
    cpu: string;
    cores: number;
    node: string;
    platform: string;
    /** The 1-minute load average when the run started: other work on the machine. */
    loadAverage: number;
  };
  latencyMs: number;
  n: number;
  signIn: PathResult[];
  /** Requests of the warm-up sign-in beyond those of a measured one: once per process. */
  oneTime: Record<string, Record<string, number>>;
  refresh: RefreshResult[];
  upstream: { sources: string[]; pattern: string[] };
}

interface Sample {
  backendMs: number;
  wholeFlowMs: number;
}

/** A request object for the authenticator: it reads `query` only. */
function fakeRequest(
  query: Record<string, string>,
): OAuthAuthenticatorAuthenticateInput['req'] {
  return { query } as unknown as OAuthAuthenticatorAuthenticateInput['req'];
}

function isBrowserRoute(route: string): boolean {
  return /^[A-Z]+ \/\{tenant\}\/oauth2\/v2\.0\/authorize(\/select)?$/.test(
    route,
  );
}

function tally(routes: Record<string, RouteCounter>) {
  let backendIdp = 0;
  let browserIdp = 0;
  let graph = 0;
  for (const [route, c] of Object.entries(routes)) {
    if (!isEntraRoute(route)) graph += c.requests;
    else if (isBrowserRoute(route)) browserIdp += c.requests;
    else backendIdp += c.requests;
  }
  return { backendIdp, browserIdp, graph };
}

/** Nearest-rank percentile. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

async function readCounters(
  running: RunningEmulator,
): Promise<Record<string, RouteCounter>> {
  // Entra ID routes are counted when their response has been written out.
  await new Promise(resolve => setImmediate(resolve));
  return running.emulator.faults.snapshot();
}

/**
 * The user's browser at the emulator: the authorize request (the account page), then the
 * account picked. Returns the redirect to the callback, as the browser would follow it.
 */
async function browserSignIn(
  authorizeUrl: string,
  userId: string,
): Promise<URL> {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  const html = await page.text();
  const txn = /name="txn" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!txn || !action) {
    throw new Error(
      `the authorize request gave no account page (${
        page.status
      }): ${html.slice(0, 300)}`,
    );
  }
  const picked = await fetch(action.replace(/&amp;/g, '&'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ txn, user: userId }),
    redirect: 'manual',
  });
  await picked.arrayBuffer();
  const location = picked.headers.get('location');
  if (picked.status !== 302 || !location) {
    throw new Error(`picking the account gave ${picked.status}, no redirect`);
  }
  const callback = new URL(location);
  if (!callback.searchParams.get('code')) {
    throw new Error(
      `the IdP refused the sign-in: ${callback.searchParams.get(
        'error_description',
      )}`,
    );
  }
  return callback;
}

function newState(): string {
  return encodeOAuthState({
    nonce: randomBytes(16).toString('base64url'),
    env: 'development',
    origin: APP_ORIGIN,
  });
}

interface Setup {
  running: RunningEmulator;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  users: Record<'signIn' | 'overage', string>;
}

/** Gatehouse: the real authenticator, configured as for a real tenant. */
function gatehouse(setup: Setup) {
  const unused = () => {
    throw new Error('the built-in emulator service must not be used here');
  };
  const logger = {
    error() {},
    warn() {},
    info() {},
    debug() {},
    child: () => logger,
  };
  const authenticator = createEntraAuthenticator({
    emulator: { isEnabled: () => false, getConnection: async () => unused() },
    logger,
  });
  const ctx = authenticator.initialize({
    callbackUrl: CALLBACK_URL,
    config: new ConfigReader({
      clientId: setup.clientId,
      tenantId: setup.tenantId,
      clientSecret: setup.clientSecret,
      authority: setup.running.url,
      // Graph is on the emulator too (used only for a groups overage).
      graphUrl: setup.running.emulator.graphBaseUrl,
    }),
  });

  const signIn = async (userId: string) => {
    const t0 = performance.now();
    const { url } = await authenticator.start(
      { scope: SCOPE, state: newState(), req: fakeRequest({}) },
      ctx,
    );
    const callback = await browserSignIn(url, userId);
    const t1 = performance.now();
    const result = await authenticator.authenticate(
      { req: fakeRequest(Object.fromEntries(callback.searchParams)) },
      ctx,
    );
    const t2 = performance.now();
    if (result.fullProfile.claims.oid !== userId) {
      throw new Error('Gatehouse signed in someone else');
    }
    return {
      sample: { backendMs: t2 - t1, wholeFlowMs: t2 - t0 },
      refreshToken: result.session.refreshToken!,
    };
  };

  const refresh = async (refreshToken: string) => {
    const t0 = performance.now();
    const result = await authenticator.refresh(
      { refreshToken, scope: SCOPE, req: fakeRequest({}) },
      ctx,
    );
    const ms = performance.now() - t0;
    return { ms, refreshToken: result.session.refreshToken ?? refreshToken };
  };
  return { signIn, refresh };
}

/** The request pattern of Backstage's Microsoft provider, with plain fetch (see UPSTREAM_PATTERN). */
function upstreamPattern(setup: Setup) {
  const authority = `${setup.running.url}/${setup.tenantId}`;
  const graph = setup.running.emulator.graphBaseUrl;

  const tokenRequest = async (params: Record<string, string>) => {
    const res = await fetch(`${authority}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...params,
        client_id: setup.clientId,
        client_secret: setup.clientSecret,
      }),
    });
    const body = (await res.json()) as {
      access_token?: string;
      refresh_token?: string;
      error_description?: string;
    };
    if (!res.ok || !body.access_token) {
      throw new Error(`token request refused: ${body.error_description}`);
    }
    return body as { access_token: string; refresh_token?: string };
  };

  /** passport-microsoft's userProfile, then the photo of ExtendedMicrosoftStrategy. */
  const profile = async (accessToken: string) => {
    const headers = { authorization: `Bearer ${accessToken}` };
    const me = await fetch(`${graph}/me/`, { headers });
    const body = (await me.json()) as { id?: string };
    if (!me.ok) throw new Error(`Graph /me answered ${me.status}`);
    const photo = await fetch(`${graph}/me/photos/96x96/$value`, { headers });
    await photo.arrayBuffer();
    return body.id;
  };

  const signIn = async (userId: string) => {
    const t0 = performance.now();
    const authorize = new URL(`${authority}/oauth2/v2.0/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      redirect_uri: CALLBACK_URL,
      scope: SCOPE,
      state: newState(),
      client_id: setup.clientId,
    }).toString();
    const callback = await browserSignIn(authorize.toString(), userId);
    const t1 = performance.now();
    const tokens = await tokenRequest({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: CALLBACK_URL,
    });
    const id = await profile(tokens.access_token);
    const t2 = performance.now();
    if (id !== userId)
      throw new Error('the upstream pattern read someone else');
    return {
      sample: { backendMs: t2 - t1, wholeFlowMs: t2 - t0 },
      refreshToken: tokens.refresh_token!,
    };
  };

  const refresh = async (refreshToken: string) => {
    const t0 = performance.now();
    const tokens = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      scope: SCOPE,
    });
    await profile(tokens.access_token);
    const ms = performance.now() - t0;
    return { ms, refreshToken: tokens.refresh_token ?? refreshToken };
  };
  return { signIn, refresh };
}

type SignInFn = (
  userId: string,
) => Promise<{ sample: Sample; refreshToken: string }>;
type RefreshFn = (
  refreshToken: string,
) => Promise<{ ms: number; refreshToken: string }>;

/** Runs the benchmark on a fresh emulator and returns the numbers. */
export async function runSigninBench(
  options: SigninBenchOptions,
): Promise<SigninBenchResult> {
  const log = options.log ?? (() => {});
  const loadAverage = os.loadavg()[0];
  const n = options.n;
  if (!Number.isInteger(n) || n < 1)
    throw new Error('n must be a positive integer');
  const tenants = loadTenantFile(defaultTenantFile);
  const tenant = tenants[0];
  const app = tenant.applications[0];
  // Entra does not require PKCE of a confidential (web) client; the emulator does by default.
  // Relaxed so that the upstream pattern, which sends none, is accepted. Gatehouse sends it.
  app.requirePkce = false;
  const userId = (upn: string) => {
    const u = tenant.users.find(x => x.userPrincipalName === upn);
    if (!u) throw new Error(`no ${upn} in the seeded tenant`);
    return u.id;
  };
  const running = await startEmulator({
    tenants,
    port: 0,
    host: '127.0.0.1',
    publicHost: '127.0.0.1',
  });
  try {
    running.emulator.faults.configure({ latencyMs: options.latencyMs });
    const setup: Setup = {
      running,
      tenantId: tenant.id,
      clientId: app.appId,
      clientSecret: running.emulator.addClientSecret(app.appId, {
        displayName: 'bench',
      }).secretText,
      users: { signIn: userId(SIGN_IN_USER), overage: userId(OVERAGE_USER) },
    };
    const paths: Array<{
      name: string;
      user: string;
      signIn: SignInFn;
      refresh?: RefreshFn;
    }> = [];
    const g = gatehouse(setup);
    const u = upstreamPattern(setup);
    paths.push({
      name: 'Gatehouse',
      user: SIGN_IN_USER,
      signIn: () => g.signIn(setup.users.signIn),
      refresh: g.refresh,
    });
    paths.push({
      name: 'Upstream pattern',
      user: SIGN_IN_USER,
      signIn: () => u.signIn(setup.users.signIn),
      refresh: u.refresh,
    });
    paths.push({
      name: 'Gatehouse, groups overage',
      user: OVERAGE_USER,
      signIn: () => g.signIn(setup.users.overage),
    });

    // One warm-up sign-in per path first: what it costs beyond a measured sign-in is paid
    // once per process (discovery and keys for Gatehouse).
    const warmUps = new Map<string, Record<string, RouteCounter>>();
    const refreshTokens = new Map<string, string>();
    for (const p of paths) {
      running.emulator.faults.resetCounters();
      log(`warm-up: ${p.name}`);
      const { refreshToken } = await p.signIn(p.user);
      refreshTokens.set(p.name, refreshToken);
      warmUps.set(p.name, await readCounters(running));
    }

    const signIn: PathResult[] = [];
    for (const p of paths) {
      log(`${n} sign-ins: ${p.name}`);
      running.emulator.faults.resetCounters();
      const samples: Sample[] = [];
      for (let i = 0; i < n; i++) samples.push((await p.signIn(p.user)).sample);
      const routes = await readCounters(running);
      const t = tally(routes);
      const per = {
        backendIdp: t.backendIdp / n,
        browserIdp: t.browserIdp / n,
        graph: t.graph / n,
        roundTrips: (t.backendIdp + t.browserIdp + t.graph) / n,
      };
      signIn.push({
        name: p.name,
        user: p.user,
        signIns: n,
        perSignIn: per,
        routes,
        backendMs: percentiles(samples.map(s => s.backendMs)),
        wholeFlowMs: percentiles(samples.map(s => s.wholeFlowMs)),
      });
    }

    const oneTime: Record<string, Record<string, number>> = {};
    for (const r of signIn) {
      const warm = warmUps.get(r.name)!;
      const extra: Record<string, number> = {};
      for (const [route, c] of Object.entries(warm)) {
        const perSignIn = (r.routes[route]?.requests ?? 0) / n;
        if (c.requests - perSignIn > 0) extra[route] = c.requests - perSignIn;
      }
      oneTime[r.name] = extra;
    }

    const refresh: RefreshResult[] = [];
    for (const p of paths) {
      if (!p.refresh) continue;
      log(`${n} session refreshes: ${p.name}`);
      running.emulator.faults.resetCounters();
      let token = refreshTokens.get(p.name)!;
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await p.refresh(token);
        token = r.refreshToken;
        ms.push(r.ms);
      }
      const routes = await readCounters(running);
      const t = tally(routes);
      refresh.push({
        name: p.name,
        refreshes: n,
        perRefresh: { backendIdp: t.backendIdp / n, graph: t.graph / n },
        routes,
        ms: percentiles(ms),
      });
    }
    return {
      date: new Date().toISOString(),
      machine: machineInfo(loadAverage),
      latencyMs: options.latencyMs,
      n,
      signIn,
      oneTime,
      refresh,
      upstream: { sources: UPSTREAM_SOURCES, pattern: UPSTREAM_PATTERN },
    };
  } finally {
    await running.close();
  }
}

function count(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function formatMs(v: number): string {
  return v.toFixed(0);
}

function routeList(
  routes: Record<string, RouteCounter>,
  n: number,
  filter: (route: string) => boolean,
): string {
  const items = Object.entries(routes)
    .filter(([route]) => filter(route))
    .map(([route, c]) => {
      const statuses = Object.entries(c.statuses)
        .map(([s, k]) => (k === c.requests ? s : `${s}×${count(k / n)}`))
        .join(', ');
      return `\`${route}\` ×${count(c.requests / n)} (${statuses})`;
    });
  return items.length ? items.join(', ') : 'none';
}

/** The result as Markdown: the table the lead records in docs/benchmarks.md, and its notes. */
export function formatSigninMarkdown(r: SigninBenchResult): string {
  const lines: string[] = [];
  lines.push(
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, Node ${
      r.machine.node
    }, ${r.machine.platform}; load average ${r.machine.loadAverage.toFixed(
      2,
    )} at the start; run ${r.date}.`,
    '',
    `Emulator latency: ${r.latencyMs} ms added to every emulator endpoint (Entra ID, Graph). ${r.n} sign-ins per row, one after the other, after one warm-up sign-in per row.`,
    '',
    '| Path (user) | Backend → IdP / sign-in | Browser → IdP / sign-in | Graph / sign-in | Round trips / sign-in | Backend p50 ms | Backend p95 ms | Whole flow p50 ms | Whole flow p95 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const p of r.signIn) {
    lines.push(
      `| ${p.name} (${p.user.split('@')[0]}) | ${count(
        p.perSignIn.backendIdp,
      )} | ${count(p.perSignIn.browserIdp)} | ${count(
        p.perSignIn.graph,
      )} | ${count(p.perSignIn.roundTrips)} | ${formatMs(
        p.backendMs.p50,
      )} | ${formatMs(p.backendMs.p95)} | ${formatMs(
        p.wholeFlowMs.p50,
      )} | ${formatMs(p.wholeFlowMs.p95)} |`,
    );
  }
  lines.push(
    '',
    'Backend part: from the callback reaching the backend to the sign-in result. Whole flow: from the backend building the authorize URL to the result, the browser steps included (in a real browser add the redirects to and from the portal).',
    '',
    'Requests per sign-in, by route (status):',
    '',
  );
  for (const p of r.signIn) {
    const list = (filter: (route: string) => boolean) =>
      routeList(p.routes, p.signIns, filter);
    lines.push(
      `- ${p.name}: backend → IdP ${list(
        x => isEntraRoute(x) && !isBrowserRoute(x),
      )}; backend → Graph ${list(x => !isEntraRoute(x))}; browser → IdP ${list(
        isBrowserRoute,
      )}`,
    );
  }
  lines.push(
    '',
    'One-time costs, not in the rows above (requests of the warm-up sign-in beyond a measured one):',
    '',
  );
  for (const p of r.signIn) {
    const extra = Object.entries(r.oneTime[p.name] ?? {});
    lines.push(
      `- ${p.name}: ${
        extra.length
          ? extra.map(([route, k]) => `\`${route}\` ×${count(k)}`).join(', ')
          : 'none'
      }`,
    );
  }
  lines.push(
    '',
    "Gatehouse keeps the discovery document for the life of the process. The keys come from jose's remote JWKS set, which fetches them again when its copy is older than 10 minutes (cacheMaxAge, on the next sign-in after that) and when a token names an unknown key (at most every 5 s): in a long-running portal the JWKS costs one request per 10 minutes of sign-in activity, not one per process.",
  );
  if (r.refresh.length) {
    lines.push(
      '',
      `Session refresh (Backstage's frontend refreshes the session when the portal is opened or reloaded, and before the access token expires), ${r.n} per row:`,
      '',
      '| Path | Backend → IdP / refresh | Graph / refresh | p50 ms | p95 ms |',
      '| --- | ---: | ---: | ---: | ---: |',
    );
    for (const x of r.refresh) {
      lines.push(
        `| ${x.name} | ${count(x.perRefresh.backendIdp)} | ${count(
          x.perRefresh.graph,
        )} | ${formatMs(x.ms.p50)} | ${formatMs(x.ms.p95)} |`,
      );
    }
  }
  lines.push('', 'The upstream pattern, per sign-in:', '');
  for (const step of r.upstream.pattern) lines.push(`- ${step}`);
  lines.push('', 'Read in:', '');
  for (const s of r.upstream.sources) lines.push(`- ${s}`);
  return `${lines.join('\n')}\n`;
}

/** `bench-signin [--n 30] [--latency 50] [--json]`; returns the exit code. */
export async function runSigninCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string', default: '30' },
      latency: { type: 'string', default: '50' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: yarn bench:signin [--n 30] [--latency 50] [--json]\n' +
        '  --n        measured sign-ins per path (after one warm-up each)\n' +
        '  --latency  ms the emulator adds to every endpoint\n' +
        '  --json     machine-readable results instead of the Markdown table\n',
    );
    return 0;
  }
  const n = Number(values.n);
  const latencyMs = Number(values.latency);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write('--n must be a positive integer\n');
    return 2;
  }
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 60_000) {
    process.stderr.write('--latency must be between 0 and 60000 ms\n');
    return 2;
  }
  const result = await runSigninBench({
    n,
    latencyMs,
    log: line => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(
    values.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : formatSigninMarkdown(result),
  );
  return 0;
}
