/** Faults the emulator injects on Graph routes, for tests and benchmarks. */
export interface FaultSettings {
  /** Added to every Graph response, in milliseconds. */
  latencyMs: number;
  /** Share of requests (0..1) answered 429 with Retry-After. */
  rate429: number;
  /** Share of requests (0..1) answered 503. */
  rate503: number;
  /** Only routes whose template matches this regular expression get the injected errors. */
  routes?: string;
  /** The Retry-After value sent with injected 429s and 503s, seconds. */
  retryAfterSeconds: number;
  /** Enforce Graph's resource-unit budget per app and tenant (on by default, as Graph does). */
  throttling: boolean;
  /** Override the budget (RU per 10 s); by default it follows the tenant's size. */
  budgetOverride?: number;
  /** Random source for the rates, so tests can make them deterministic. */
  random?: () => number;
}

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
 * The resource-unit cost of a Graph request, as published: list users 2, group members 3,
 * transitive members 5, other reads 1; `$select` takes one off, `$expand` adds one; at least 1.
 */
export function resourceUnitCost(route: string, query: URLSearchParams): number {
  let cost = 1;
  if (route === 'GET /users' || route === 'GET /users/{id}') cost = 2;
  else if (route === 'GET /groups/{id}/members') cost = 3;
  else if (route === 'GET /groups/{id}/transitiveMembers') cost = 5;
  if (query.has('$select')) cost -= 1;
  if (query.has('$expand')) cost += 1;
  return Math.max(1, cost);
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
  private readonly spent = new Map<string, Array<{ at: number; ru: number }>>();
  private counters = new Map<string, RouteCounter>();

  configure(settings: Partial<FaultSettings>): FaultSettings {
    this.settings = { ...this.settings, ...settings };
    return this.settings;
  }

  /** An injected error for this route, if the dice say so. */
  injectedError(route: string): { status: 429 | 503; retryAfter: number } | undefined {
    const s = this.settings;
    if (s.routes && !new RegExp(s.routes).test(route)) return undefined;
    const roll = (s.random ?? Math.random)();
    if (roll < s.rate429) return { status: 429, retryAfter: s.retryAfterSeconds };
    if (roll < s.rate429 + s.rate503) return { status: 503, retryAfter: s.retryAfterSeconds };
    return undefined;
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
    const budget = this.settings.budgetOverride ?? budgetForTenantSize(userCount);
    if (!this.settings.throttling) return { ok: true, usedShare: 0 };
    let entries = this.spent.get(key);
    if (!entries) {
      entries = [];
      this.spent.set(key, entries);
    }
    while (entries.length && entries[0].at <= nowMs - WINDOW_MS) entries.shift();
    const used = entries.reduce((sum, e) => sum + e.ru, 0);
    if (used + cost > budget) {
      // Wait until enough of the window has slid out to fit this request.
      let freed = 0;
      let until = nowMs;
      for (const e of entries) {
        freed += e.ru;
        until = e.at + WINDOW_MS;
        if (used - freed + cost <= budget) break;
      }
      return { ok: false, retryAfter: Math.max(1, Math.ceil((until - nowMs) / 1000)) };
    }
    entries.push({ at: nowMs, ru: cost });
    return { ok: true, usedShare: (used + cost) / budget };
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
      [...this.counters].map(([k, v]) => [k, { ...v, statuses: { ...v.statuses } }]),
    );
  }

  resetCounters(): void {
    this.counters = new Map();
    this.spent.clear();
  }
}
