/** Faults the emulator injects, for tests and benchmarks. */
export interface FaultSettings {
  /**
   * Added to every response of a Microsoft endpoint (Entra ID, Graph, managed identity), in
   * milliseconds; not to the `/_emulator` admin API.
   */
  latencyMs: number;
  /** Share of Graph requests (0..1) answered 429 with Retry-After. */
  rate429: number;
  /** Share of Graph requests (0..1) answered 503. */
  rate503: number;
  /** Only Graph routes whose template matches this regular expression get the injected errors. */
  routes?: string;
  /** The Retry-After value sent with injected 429s and 503s, seconds. */
  retryAfterSeconds: number;
  /** Enforce Graph's resource-unit budget per app and tenant (on by default, as Graph does). */
  throttling: boolean;
  /** Override the budget (RU per 10 s); by default it follows the tenant's size. */
  budgetOverride?: number;
  /** Random source for the rates, so tests can make them deterministic. */
  random?: () => number;
  /**
   * Share of Azure DevOps requests (0..1) answered 429 TF400733 with `Retry-After`
   * (`retryAfterSeconds`). Separate from `rate429`, which is Graph's.
   */
  adoRate429?: number;
  /** Only Azure DevOps routes whose template matches this regular expression get the 429s. */
  adoRoutes?: string;
}

type OptionalSetting =
  | 'routes'
  | 'budgetOverride'
  | 'random'
  | 'adoRate429'
  | 'adoRoutes';

export interface RouteCounter {
  requests: number;
  resourceUnits: number;
  statuses: Record<string, number>;
}

const WINDOW_MS = 10_000;

/**
 * Graph's identity-and-access throttling budget per app per tenant, in resource units per 10
 * seconds, by tenant size (fewer than 50 users, 50 to 500, more than 500).
 */
export function budgetForTenantSize(userCount: number): number {
  if (userCount < 50) return 3500;
  if (userCount <= 500) return 5000;
  return 8000;
}

/**
 * Base costs Graph publishes for the identity-and-access reads the emulator serves; anything
 * not listed costs 1. A cost for a path under `me/` also applies to `users/{id}/`.
 */
const BASE_COSTS: Record<string, number> = {
  'GET /applications': 2,
  'GET /users': 2,
  'GET /groups/{id}/members': 3,
  'GET /groups/{id}/transitiveMembers': 5,
  'GET /me/memberOf': 2,
  'GET /me/transitiveMemberOf': 2,
  'POST /me/getMemberObjects': 2,
  'GET /users/{id}/memberOf': 2,
  'GET /users/{id}/transitiveMemberOf': 2,
  'POST /users/{id}/getMemberObjects': 2,
};

/**
 * The resource-unit cost of a Graph request, as published: list users 2, group members 3,
 * transitive members 5, list applications and a user's (transitive) groups 2, other reads 1;
 * `$select` takes one off, `$top` under 20 takes one off, `$expand` adds one; at least 1.
 */
export function resourceUnitCost(
  route: string,
  query: URLSearchParams,
): number {
  let cost = BASE_COSTS[route] ?? 1;
  if (query.has('$select')) cost -= 1;
  const top = Number(query.get('$top') ?? NaN);
  if (query.has('$top') && Number.isFinite(top) && top < 20) cost -= 1;
  if (query.has('$expand')) cost += 1;
  return Math.max(1, cost);
}

/**
 * Checks settings sent to the admin API (`PUT /_emulator/faults`); returns what is wrong, or
 * an empty list. `random` cannot be set over HTTP.
 */
export function validateFaultSettings(input: unknown): string[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return ['the body must be a JSON object'];
  }
  const problems: string[] = [];
  const allowed = [
    'latencyMs',
    'rate429',
    'rate503',
    'routes',
    'retryAfterSeconds',
    'throttling',
    'budgetOverride',
    'adoRate429',
    'adoRoutes',
  ];
  const body = input as Record<string, unknown>;
  const unknown = Object.keys(body).filter(k => !allowed.includes(k));
  if (unknown.length) problems.push(`unknown settings: ${unknown.join(', ')}`);
  const number = (key: string, min: number, max: number, integer = false) => {
    if (!(key in body)) return;
    const v = body[key];
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v < min ||
      v > max ||
      (integer && !Number.isInteger(v))
    ) {
      problems.push(
        `${key} must be ${
          integer ? 'an integer' : 'a number'
        } between ${min} and ${max}`,
      );
    }
  };
  number('latencyMs', 0, 60_000);
  number('rate429', 0, 1);
  number('rate503', 0, 1);
  if ('adoRate429' in body && body.adoRate429 !== null)
    number('adoRate429', 0, 1);
  number('retryAfterSeconds', 0, 3600, true);
  if ('budgetOverride' in body && body.budgetOverride !== null)
    number('budgetOverride', 1, 1_000_000, true);
  if ('rate429' in body && 'rate503' in body && !problems.length) {
    if ((body.rate429 as number) + (body.rate503 as number) > 1)
      problems.push('rate429 + rate503 must not exceed 1');
  }
  if ('throttling' in body && typeof body.throttling !== 'boolean')
    problems.push('throttling must be true or false');
  for (const key of ['routes', 'adoRoutes']) {
    if (!(key in body) || body[key] === null) continue;
    if (typeof body[key] !== 'string')
      problems.push(`${key} must be a regular expression (a string)`);
    else {
      try {
        RegExp(body[key] as string);
      } catch (e) {
        problems.push(
          `${key} is not a valid regular expression: ${(e as Error).message}`,
        );
      }
    }
  }
  return problems;
}

/** Fault injection, resource-unit throttling and per-route accounting. */
export class FaultInjector {
  settings: FaultSettings = {
    latencyMs: 0,
    rate429: 0,
    rate503: 0,
    retryAfterSeconds: 1,
    throttling: true,
  };
  /** Charges in the sliding window per app and tenant: entries from `head` on, summing to `used`. */
  private readonly spent = new Map<
    string,
    { entries: Array<{ at: number; ru: number }>; head: number; used: number }
  >();
  private counters = new Map<string, RouteCounter>();

  /** Changes some settings; `null` clears `routes`, `budgetOverride` or `random`. */
  configure(
    settings: Partial<Omit<FaultSettings, OptionalSetting>> & {
      [K in OptionalSetting]?: FaultSettings[K] | null;
    },
  ): FaultSettings {
    const next = { ...this.settings } as Record<string, unknown>;
    for (const [k, v] of Object.entries(settings)) {
      if (v === undefined) continue;
      if (v === null) delete next[k];
      else next[k] = v;
    }
    this.settings = next as unknown as FaultSettings;
    return this.settings;
  }

  /** An injected error for this route, if the dice say so. */
  injectedError(
    route: string,
  ): { status: 429 | 503; retryAfter: number } | undefined {
    const s = this.settings;
    if (s.routes && !new RegExp(s.routes).test(route)) return undefined;
    const roll = (s.random ?? Math.random)();
    if (roll < s.rate429)
      return { status: 429, retryAfter: s.retryAfterSeconds };
    if (roll < s.rate429 + s.rate503)
      return { status: 503, retryAfter: s.retryAfterSeconds };
    return undefined;
  }

  /** An injected Azure DevOps 429 (TF400733) for this route, if the dice say so. */
  adoInjectedError(route: string): { retryAfter: number } | undefined {
    const s = this.settings;
    if (!s.adoRate429) return undefined;
    if (s.adoRoutes && !new RegExp(s.adoRoutes).test(route)) return undefined;
    return (s.random ?? Math.random)() < s.adoRate429
      ? { retryAfter: s.retryAfterSeconds }
      : undefined;
  }

  /**
   * Charges `cost` RU to an app in a tenant. Returns the share of the budget used after the
   * charge, or the seconds to wait when the budget is spent (nothing is charged then).
   */
  charge(
    key: string,
    cost: number,
    userCount: number,
    nowMs: number,
  ): { ok: true; usedShare: number } | { ok: false; retryAfter: number } {
    const budget =
      this.settings.budgetOverride ?? budgetForTenantSize(userCount);
    if (!this.settings.throttling) return { ok: true, usedShare: 0 };
    let w = this.spent.get(key);
    if (!w) {
      w = { entries: [], head: 0, used: 0 };
      this.spent.set(key, w);
    }
    // The window slides: charges older than WINDOW_MS leave it (kept as a running sum).
    while (
      w.head < w.entries.length &&
      w.entries[w.head].at <= nowMs - WINDOW_MS
    ) {
      w.used -= w.entries[w.head].ru;
      w.head += 1;
    }
    if (w.head > 1024 && w.head * 2 > w.entries.length) {
      w.entries = w.entries.slice(w.head);
      w.head = 0;
    }
    const used = w.used;
    if (used + cost > budget) {
      // Wait until enough of the window has slid out to fit this request.
      let freed = 0;
      let until = nowMs;
      for (let i = w.head; i < w.entries.length; i++) {
        const e = w.entries[i];
        freed += e.ru;
        until = e.at + WINDOW_MS;
        if (used - freed + cost <= budget) break;
      }
      return {
        ok: false,
        retryAfter: Math.max(1, Math.ceil((until - nowMs) / 1000)),
      };
    }
    w.entries.push({ at: nowMs, ru: cost });
    w.used += cost;
    return { ok: true, usedShare: w.used / budget };
  }

  count(route: string, status: number, ru: number): void {
    let c = this.counters.get(route);
    if (!c) {
      c = { requests: 0, resourceUnits: 0, statuses: {} };
      this.counters.set(route, c);
    }
    c.requests += 1;
    c.resourceUnits += ru;
    c.statuses[status] = (c.statuses[status] ?? 0) + 1;
  }

  /** Requests, resource units and statuses per route since the last reset. */
  snapshot(): Record<string, RouteCounter> {
    return Object.fromEntries(
      [...this.counters].map(([k, v]) => [
        k,
        { ...v, statuses: { ...v.statuses } },
      ]),
    );
  }

  resetCounters(): void {
    this.counters = new Map();
    this.spent.clear();
  }
}
