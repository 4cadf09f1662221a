import type { AccessToken, TokenCredential } from '@azure/identity';
import { graphScope } from './clouds';
import { GetResponse, httpGet } from './httpGet';

/**
 * How to get a Microsoft Graph access token (app-only): a client secret sent by this client
 * (plain-HTTP authorities such as the built-in emulator), or any `@azure/identity` credential.
 */
export type GraphCredentials =
  | {
      authority: string;
      tenantId: string;
      clientId: string;
      clientSecret: string;
    }
  | {
      tenantId: string;
      credential: TokenCredential;
      /** Default: the Graph of the base URL's cloud, `https://graph.microsoft.com/.default` otherwise. */
      scope?: string;
    };

/** Thrown for a Graph error response; `code` is Graph's error code. */
export class GraphRequestError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'GraphRequestError';
  }
}

/** Retry and pacing settings; the defaults suit Graph, tests shorten them. */
export interface GraphClientOptions {
  /** Retries of a throttled (429) or unavailable (503, 504) request, or of a failed connection. Default 6. */
  maxRetries?: number;
  /** First backoff when there is no `Retry-After`; doubles per attempt, with jitter. Default 500 ms. */
  backoffBaseMs?: number;
  /** Longest backoff. Default 30 s. */
  backoffMaxMs?: number;
  /**
   * Longest pause before the next request once Graph says more than 95% of the budget is used
   * (`x-ms-throttle-limit-percentage`); the pause grows with the share used, to all of this at
   * 100%. Default 500 ms.
   */
  slowdownMs?: number;
  /** Requests a sync round keeps in flight at once. Default 64; the client slows down past 95% of the app's budget, so more in flight does not mean more 429s. */
  concurrency?: number;
  /** How to wait (tests record the waits instead). */
  sleep?: (ms: number) => Promise<void>;
}

/** What a client spent, for the sync's log line. */
export interface GraphClientStats {
  /** Requests sent, retries included. */
  requests: number;
  /** Sum of the `x-ms-resource-unit` response headers. */
  resourceUnits: number;
  /** 429 answers met. */
  throttled: number;
}

/** Above this share of the app's resource-unit budget, the client slows down. */
const SLOWDOWN_ABOVE = 0.95;

const defaultSleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/**
 * A small Microsoft Graph client: client-credentials token (cached), paging through
 * `@odata.nextLink`, retries on 429/503/504 honouring `Retry-After` (exponential backoff with
 * jitter without one), and a short pause when `x-ms-throttle-limit-percentage` says the budget
 * is nearly spent, so a big first round slows down before Graph starts answering 429.
 */
export class GraphClient {
  private token?: { value: string; expiresAt: number };
  private tokenRequest?: Promise<string>;
  /** A pause every request waits out before it is sent (slow-down or `Retry-After`). */
  private pause?: Promise<void>;
  private pauseMs = 0;
  private readonly maxRetries: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly slowdownMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  readonly stats: GraphClientStats = {
    requests: 0,
    resourceUnits: 0,
    throttled: 0,
  };

  constructor(
    private readonly baseUrl: string,
    private readonly credentials: GraphCredentials,
    options: GraphClientOptions = {},
  ) {
    this.maxRetries = options.maxRetries ?? 6;
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    this.backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.slowdownMs = options.slowdownMs ?? 500;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** Requests sent, retries included. */
  get requests(): number {
    return this.stats.requests;
  }

  /** The token, asked for once however many requests need it at the same moment. */
  private accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now() + 60_000)
      return Promise.resolve(this.token.value);
    if (!this.tokenRequest) {
      this.tokenRequest = this.requestToken().finally(() => {
        this.tokenRequest = undefined;
      });
    }
    return this.tokenRequest;
  }

  private async requestToken(): Promise<string> {
    if ('credential' in this.credentials) {
      const { credential, scope } = this.credentials;
      let got: AccessToken | null;
      try {
        got = await credential.getToken(scope ?? graphScope(this.baseUrl));
      } catch (e) {
        throw new GraphRequestError(
          401,
          'token',
          `Could not get a Graph token: ${(e as Error).message}`,
        );
      }
      if (!got) {
        throw new GraphRequestError(
          401,
          'token',
          'Could not get a Graph token',
        );
      }
      this.token = { value: got.token, expiresAt: got.expiresOnTimestamp };
      return this.token.value;
    }
    const { authority, tenantId, clientId, clientSecret } = this.credentials;
    const graphResource = graphScope(this.baseUrl).replace(/\/\.default$/, '');
    const res = await fetch(
      `${authority}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
          scope: `${graphResource}/.default`,
        }),
      },
    );
    const body = (await res.json()) as {
      access_token?: string;
      expires_in?: number;
      error_description?: string;
    };
    if (!res.ok || !body.access_token) {
      throw new GraphRequestError(
        res.status,
        'token',
        `Could not get a Graph token: ${
          body.error_description ?? res.statusText
        }`,
      );
    }
    this.token = {
      value: body.access_token,
      expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000,
    };
    return this.token.value;
  }

  /** The wait before retry `attempt` (0-based) when Graph gave no usable `Retry-After`. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(
      this.backoffMaxMs,
      this.backoffBaseMs * 2 ** attempt,
    );
    // Jitter spreads the retries of replicas and workers throttled at the same moment.
    return Math.round(ceiling * (0.5 + Math.random()));
  }

  /** GET a Graph URL (absolute, or a path below the base URL), retrying throttled requests. */
  async get<T>(pathOrUrl: string): Promise<T> {
    const { data } = await this.send(pathOrUrl);
    return JSON.parse(data.toString('utf8')) as T;
  }

  /**
   * GET a binary resource (a photo): its bytes and media type, or undefined when Graph says
   * it does not exist (404, e.g. `ImageNotFound` for a user without a photo).
   */
  async getBinary(
    pathOrUrl: string,
  ): Promise<{ contentType: string; data: Buffer } | undefined> {
    try {
      const { res, data } = await this.send(pathOrUrl);
      return {
        contentType: res.header('content-type') ?? 'application/octet-stream',
        data,
      };
    } catch (e) {
      if (e instanceof GraphRequestError && e.status === 404) return undefined;
      throw e;
    }
  }

  /**
   * Sends a GET until it succeeds, retrying 429/503/504 and connections that fail or close
   * mid-response; gives the response and its body. Throws `GraphRequestError` otherwise.
   */
  private async send(
    pathOrUrl: string,
  ): Promise<{ res: GetResponse; data: Buffer }> {
    const url = pathOrUrl.startsWith('http')
      ? pathOrUrl
      : `${this.baseUrl}${pathOrUrl}`;
    for (let attempt = 0; ; attempt++) {
      // Every request in flight waits out a pause one of them was told to take.
      for (;;) {
        if (!this.pause && this.pauseMs > 0) {
          this.pause = this.sleep(this.pauseMs);
          this.pauseMs = 0;
        }
        const pause = this.pause;
        if (!pause) break;
        await pause;
        if (this.pause === pause) this.pause = undefined;
      }
      const authorization = `Bearer ${await this.accessToken()}`;
      this.stats.requests += 1;
      let res: GetResponse;
      let data: Buffer | undefined;
      try {
        res = await httpGet(url, { authorization });
        if (res.ok) data = await res.body();
      } catch (e) {
        // A reset or cut connection (a keep-alive socket the server just closed, a network
        // blip) is retried like a 503: a GET is safe to send again.
        if (attempt < this.maxRetries) {
          await this.sleep(this.backoff(attempt));
          continue;
        }
        throw new GraphRequestError(
          0,
          'network',
          `Graph ${url} failed after ${attempt + 1} attempts: ${
            (e as Error).message
          }`,
        );
      }
      this.stats.resourceUnits += Number(res.header('x-ms-resource-unit')) || 0;
      const used = Number(res.header('x-ms-throttle-limit-percentage'));
      if (used > SLOWDOWN_ABOVE) {
        // The nearer the budget, the longer the pause: a round that runs just past 95% keeps
        // going at nearly full speed, one at 100% waits the whole `slowdownMs`.
        const share = Math.min(
          1,
          (used - SLOWDOWN_ABOVE) / (1 - SLOWDOWN_ABOVE),
        );
        this.pauseMs = Math.max(
          this.pauseMs,
          Math.round(this.slowdownMs * share),
        );
      }
      if (res.status === 429) this.stats.throttled += 1;
      if (data) return { res, data };
      const retryable =
        res.status === 429 || res.status === 503 || res.status === 504;
      if (retryable && attempt < this.maxRetries) {
        const retryAfter = Number(res.header('retry-after'));
        const wait =
          Number.isFinite(retryAfter) && retryAfter > 0
            ? retryAfter * 1000
            : this.backoff(attempt);
        res.discard();
        if (res.header('x-ms-throttle-scope')) {
          // The app's budget for the tenant is spent (`Tenant_Application/...`): every request
          // in flight waits, not only this one. The wait covers any slowdown asked for too.
          this.pauseMs = Math.max(this.pauseMs, wait);
        } else {
          // One request turned away (a busy server, a transient 503): only it waits.
          this.pauseMs = 0;
          await this.sleep(wait);
        }
        continue;
      }
      let code = String(res.status);
      let message = res.statusText;
      try {
        const body = await res.json<{
          error?: { code?: string; message?: string };
        }>();
        code = body.error?.code ?? code;
        message = body.error?.message ?? message;
      } catch {
        // not JSON
      }
      throw new GraphRequestError(
        res.status,
        code,
        `Graph ${url} answered ${res.status} ${code}: ${message}`,
      );
    }
  }

  /** All items of a collection, following `@odata.nextLink`. */
  async list<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: { value: T[]; '@odata.nextLink'?: string } = await this.get(
        next,
      );
      out.push(...page.value);
      next = page['@odata.nextLink'];
    }
    return out;
  }
}
