import { AzureDevOpsCredentialsProvider } from '@backstage/integration';

/** Thrown for an Azure DevOps error answer, or when no credential fits; `code` says which. */
export class AzureDevOpsRequestError extends Error {
  constructor(
    readonly code: 'NoCredentials' | 'HttpError',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'AzureDevOpsRequestError';
  }
}

/** What a client spent, for the discovery's log line. */
export interface AzureDevOpsClientStats {
  requests: number;
  throttled: number;
}

export interface AzureDevOpsClientOptions {
  /** Where the REST API is served: `https://dev.azure.com`, or a proxy or emulator. */
  baseUrl: string;
  /** The URL credentials are looked up for (`https://<host>/<organization>`). */
  credentialsUrl: string;
  organization: string;
  credentials: AzureDevOpsCredentialsProvider;
  /** Retries of a 429/503 answer. Default 5. */
  maxRetries?: number;
  /** `fetch` to use (tests route the real host names to the emulator). */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

const API_VERSION = '7.1';
const defaultSleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/**
 * The few Azure DevOps REST calls discovery needs, with the organization's credential from
 * `integrations.azure` (re-asked on every request, so an expiring Entra token is renewed),
 * and `Retry-After` honoured on 429 (TF400733) and 503.
 */
export class AzureDevOpsClient {
  readonly stats: AzureDevOpsClientStats = { requests: 0, throttled: 0 };
  private readonly maxRetries: number;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: AzureDevOpsClientOptions) {
    this.maxRetries = options.maxRetries ?? 5;
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** The organization's projects (all pages). */
  async projects(): Promise<Array<{ id: string; name: string }>> {
    const out: Array<{ id: string; name: string }> = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ $top: '100' });
      if (token) query.set('continuationToken', token);
      const { body, headers } = await this.request<{
        value: Array<{ id: string; name: string }>;
      }>(`/_apis/projects?${query}`);
      out.push(...body.value);
      token = headers.get('x-ms-continuationtoken') ?? undefined;
    } while (token);
    return out;
  }

  /** A project's Git repositories. */
  async repositories(project: string): Promise<AzureDevOpsRepository[]> {
    const { body } = await this.request<{ value: AzureDevOpsRepository[] }>(
      `/${encodeURIComponent(project)}/_apis/git/repositories`,
    );
    return body.value;
  }

  /** Whether a file exists on a branch (metadata only; 404 means no). */
  async fileExists(
    project: string,
    repositoryId: string,
    path: string,
    branch: string,
  ): Promise<boolean> {
    const query = new URLSearchParams({
      path,
      'versionDescriptor.version': branch,
      'versionDescriptor.versionType': 'branch',
      includeContent: 'false',
      $format: 'json',
    });
    const res = await this.send(
      `/${encodeURIComponent(
        project,
      )}/_apis/git/repositories/${encodeURIComponent(
        repositoryId,
      )}/items?${query}`,
      [404],
    );
    await res.body?.cancel();
    return res.status !== 404;
  }

  private async request<T>(
    path: string,
  ): Promise<{ body: T; headers: Headers }> {
    const res = await this.send(path, []);
    return { body: (await res.json()) as T, headers: res.headers };
  }

  private async send(path: string, accepted: number[]): Promise<Response> {
    const { baseUrl, organization } = this.options;
    const url = `${baseUrl}/${encodeURIComponent(organization)}${path}${
      path.includes('?') ? '&' : '?'
    }api-version=${API_VERSION}`;
    for (let attempt = 0; ; attempt++) {
      const credentials = await this.options.credentials.getCredentials({
        url: this.options.credentialsUrl,
      });
      if (!credentials) {
        throw new AzureDevOpsRequestError(
          'NoCredentials',
          `No credential in integrations.azure fits organization '${organization}' (${this.options.credentialsUrl}); add one for its host, or one with organizations: [${organization}]`,
        );
      }
      this.stats.requests += 1;
      const res = await this.fetch(url, {
        headers: { ...credentials.headers, accept: 'application/json' },
      });
      if (res.ok || accepted.includes(res.status)) return res;
      if (res.status === 429) this.stats.throttled += 1;
      if (
        (res.status === 429 || res.status === 503) &&
        attempt < this.maxRetries
      ) {
        const retryAfter = Number(res.headers.get('retry-after'));
        await res.body?.cancel();
        await this.sleep(
          Number.isFinite(retryAfter) && retryAfter > 0
            ? retryAfter * 1000
            : Math.min(30_000, 500 * 2 ** attempt * (0.5 + Math.random())),
        );
        continue;
      }
      let message = res.statusText;
      try {
        const body = (await res.json()) as { message?: string };
        message = body.message ?? message;
      } catch {
        // not JSON (a sign-in page, for instance)
      }
      throw new AzureDevOpsRequestError(
        'HttpError',
        `Azure DevOps organization '${organization}' answered ${
          res.status
        } to ${url.replace(/\?.*$/, '')}: ${message}`,
        res.status,
      );
    }
  }
}

/** A repository as `git/repositories` lists it (the fields discovery reads). */
export interface AzureDevOpsRepository {
  id: string;
  name: string;
  /** `refs/heads/main`; absent while the repository is empty. */
  defaultBranch?: string;
  isDisabled?: boolean;
  webUrl?: string;
  project: { id: string; name: string };
}
