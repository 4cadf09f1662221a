import { Config } from '@backstage/config';
import {
  AzureDevOpsCredentialsProvider,
  DefaultAzureDevOpsCredentialsProvider,
  ScmIntegrations,
} from '@backstage/integration';

const API_VERSION = '7.1';

/** An Azure DevOps answer that was not a success; `status` and the service's message kept. */
export class AzureDevOpsApiError extends Error {
  readonly name = 'AzureDevOpsApiError';
  constructor(
    readonly code: 'NoCredentials' | 'HttpError',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * The origin Azure DevOps is served from for an `integrations.azure` host. Loopback hosts (the
 * built-in emulator) are plain HTTP; every other host is HTTPS.
 */
export function azureDevOpsOrigin(host: string): string {
  const hostname = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = ['localhost', '127.0.0.1', '::1'].includes(hostname);
  return `${loopback ? 'http' : 'https'}://${host}`;
}

/** The host the actions use when the template gives none: the first `integrations.azure` entry. */
export function defaultAzureDevOpsHost(config: Config): string {
  const first = config.getOptionalConfigArray('integrations.azure')?.[0];
  return first?.getOptionalString('host') ?? 'dev.azure.com';
}

/** Where a repository is, as the actions' inputs name it. */
export interface RepoLocation {
  host: string;
  organization: string;
  project: string;
  repository: string;
}

/** The Git URL of a repository, as Azure DevOps shows it. */
export function remoteUrlOf(loc: RepoLocation): string {
  return `${azureDevOpsOrigin(loc.host)}/${encodeURIComponent(
    loc.organization,
  )}/${encodeURIComponent(loc.project)}/_git/${encodeURIComponent(
    loc.repository,
  )}`;
}

/** The few REST calls the actions make, with the organization's `integrations.azure` credential. */
export class AzureDevOpsApi {
  private readonly credentials: AzureDevOpsCredentialsProvider;

  static fromConfig(config: Config): AzureDevOpsApi {
    return new AzureDevOpsApi(
      DefaultAzureDevOpsCredentialsProvider.fromIntegrations(
        ScmIntegrations.fromConfig(config),
      ),
    );
  }

  constructor(credentials: AzureDevOpsCredentialsProvider) {
    this.credentials = credentials;
  }

  /** The credential for an organization: headers for REST, and the Git basic/bearer auth. */
  async credentialsFor(host: string, organization: string) {
    const url = `https://${host}/${encodeURIComponent(organization)}`;
    const creds = await this.credentials.getCredentials({ url });
    if (!creds) {
      throw new AzureDevOpsApiError(
        'NoCredentials',
        `No integrations.azure credential for organization ${organization} on ${host}`,
      );
    }
    return creds;
  }

  /** One REST call below `{origin}/{organization}`; JSON in and out; api-version 7.1 unless the path has one. */
  async request<T>(
    host: string,
    organization: string,
    path: string,
    init: { method?: string; body?: unknown } = {},
  ): Promise<T> {
    const creds = await this.credentialsFor(host, organization);
    const version = /[?&]api-version=/.test(path)
      ? ''
      : `${path.includes('?') ? '&' : '?'}api-version=${API_VERSION}`;
    const url = `${azureDevOpsOrigin(host)}/${encodeURIComponent(
      organization,
    )}${path}${version}`;
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        ...creds.headers,
        Accept: 'application/json',
        ...(init.body !== undefined
          ? { 'Content-Type': 'application/json' }
          : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      redirect: 'manual',
    });
    const text = await res.text();
    if (!res.ok || res.status === 203) {
      let message = text.slice(0, 300);
      try {
        message = JSON.parse(text).message ?? message;
      } catch {
        // not JSON (the sign-in page): keep the text
      }
      throw new AzureDevOpsApiError(
        'HttpError',
        `${init.method ?? 'GET'} ${path} on ${host}/${organization}: ${
          res.status
        } ${message}`,
        res.status,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
