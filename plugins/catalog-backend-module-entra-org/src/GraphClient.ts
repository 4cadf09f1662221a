/** How to get a Microsoft Graph access token (app-only). */
export interface GraphCredentials {
  authority: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** Thrown for a Graph error response; `code` is Graph's error code. */
export class GraphRequestError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'GraphRequestError';
  }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * A small Microsoft Graph client: client-credentials token (cached), paging through
 * `@odata.nextLink`, and retries on 429/503/504 honouring `Retry-After`.
 */
export class GraphClient {
  private token?: { value: string; expiresAt: number };
  /** Requests sent, for the sync's log line. */
  requests = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly credentials: GraphCredentials,
    private readonly maxRetries = 6,
  ) {}

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now() + 60_000)
      return this.token.value;
    const { authority, tenantId, clientId, clientSecret } = this.credentials;
    const graphResource = new URL(this.baseUrl).origin.includes(
      'graph.microsoft',
    )
      ? new URL(this.baseUrl).origin
      : 'https://graph.microsoft.com';
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

  /** GET a Graph URL (absolute, or a path below the base URL), retrying throttled requests. */
  async get<T>(pathOrUrl: string): Promise<T> {
    const url = pathOrUrl.startsWith('http')
      ? pathOrUrl
      : `${this.baseUrl}${pathOrUrl}`;
    for (let attempt = 0; ; attempt++) {
      this.requests += 1;
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${await this.accessToken()}` },
      });
      if (res.ok) return (await res.json()) as T;
      const retryable =
        res.status === 429 || res.status === 503 || res.status === 504;
      if (retryable && attempt < this.maxRetries) {
        const retryAfter = Number(res.headers.get('retry-after'));
        const wait =
          Number.isFinite(retryAfter) && retryAfter > 0
            ? retryAfter * 1000
            : Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random());
        await res.body?.cancel();
        await sleep(wait);
        continue;
      }
      let code = String(res.status);
      let message = res.statusText;
      try {
        const body = (await res.json()) as {
          error?: { code?: string; message?: string };
        };
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
