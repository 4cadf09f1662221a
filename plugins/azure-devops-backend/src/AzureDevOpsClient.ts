import {
  AzureDevOpsCredentialsProvider,
  DefaultAzureDevOpsCredentialsProvider,
  ScmIntegrations,
} from '@backstage/integration';
import { Config } from '@backstage/config';

/** An Azure DevOps call that failed; `status` is Azure DevOps' (or 0 when unreachable). */
export class AzureDevOpsCallError extends Error {
  readonly name = 'AzureDevOpsCallError';
  constructor(
    readonly code: 'NoCredentials' | 'HttpError',
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Where a component's repository is (from its annotations). */
export interface RepoRef {
  host: string;
  organization: string;
  project: string;
  repository: string;
}

/** A pipeline run (build) as the entity page shows it. */
export interface PipelineRun {
  id: number;
  buildNumber: string;
  pipeline: string;
  status: string;
  result?: string;
  sourceBranch: string;
  queueTime?: string;
  finishTime?: string;
  url?: string;
}

/** An open pull request as the entity page shows it. */
export interface PullRequest {
  id: number;
  title: string;
  createdBy?: string;
  creationDate?: string;
  sourceBranch: string;
  targetBranch: string;
  isDraft: boolean;
  url: string;
}

/** Loopback hosts (the built-in emulator) are plain HTTP; every other host is HTTPS. */
export function originOf(host: string): string {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = ['localhost', '127.0.0.1', '::1'].includes(name);
  return `${loopback ? 'http' : 'https'}://${host}`;
}

/** Reads runs, pull requests and files of repositories with the `integrations.azure` credentials. */
export class AzureDevOpsClient {
  static fromConfig(config: Config) {
    return new AzureDevOpsClient(
      DefaultAzureDevOpsCredentialsProvider.fromIntegrations(
        ScmIntegrations.fromConfig(config),
      ),
    );
  }

  constructor(private readonly credentials: AzureDevOpsCredentialsProvider) {}

  private async get(
    ref: RepoRef,
    path: string,
    accept = 'application/json',
  ): Promise<Response> {
    const creds = await this.credentials.getCredentials({
      url: `https://${ref.host}/${encodeURIComponent(ref.organization)}`,
    });
    if (!creds) {
      throw new AzureDevOpsCallError(
        'NoCredentials',
        `No integrations.azure credential for organization ${ref.organization} on ${ref.host}`,
        0,
      );
    }
    const url = `${originOf(ref.host)}/${encodeURIComponent(
      ref.organization,
    )}/${encodeURIComponent(ref.project)}${path}${
      path.includes('?') ? '&' : '?'
    }api-version=7.1`;
    const res = await fetch(url, {
      headers: { ...creds.headers, Accept: accept },
      redirect: 'manual',
    });
    if (!res.ok || res.status === 203) {
      let message = `${res.status}`;
      try {
        message = (await res.json()).message ?? message;
      } catch {
        // not JSON
      }
      throw new AzureDevOpsCallError(
        'HttpError',
        `Azure DevOps ${ref.organization}/${ref.project}: ${message}`,
        res.status === 203 ? 401 : res.status,
      );
    }
    return res;
  }

  private repoPath(ref: RepoRef) {
    return `/_apis/git/repositories/${encodeURIComponent(ref.repository)}`;
  }

  /** The newest builds of the repository's pipelines, newest first. */
  async runs(ref: RepoRef, top: number): Promise<PipelineRun[]> {
    const repo = (await (await this.get(ref, this.repoPath(ref))).json()) as {
      id: string;
    };
    const query = new URLSearchParams({
      repositoryId: repo.id,
      repositoryType: 'TfsGit',
      $top: String(top),
      queryOrder: 'queueTimeDescending',
    });
    const body = (await (
      await this.get(ref, `/_apis/build/builds?${query}`)
    ).json()) as { value: any[] };
    return body.value.map(b => ({
      id: b.id,
      buildNumber: String(b.buildNumber ?? b.id),
      pipeline: b.definition?.name ?? '',
      status: b.status,
      result: b.result,
      sourceBranch: b.sourceBranch,
      queueTime: b.queueTime,
      finishTime: b.finishTime,
      url: b._links?.web?.href,
    }));
  }

  /** The repository's active pull requests. */
  async pullRequests(ref: RepoRef): Promise<PullRequest[]> {
    const body = (await (
      await this.get(
        ref,
        `${this.repoPath(ref)}/pullrequests?searchCriteria.status=active`,
      )
    ).json()) as { value: any[] };
    const web = `${originOf(ref.host)}/${encodeURIComponent(
      ref.organization,
    )}/${encodeURIComponent(ref.project)}/_git/${encodeURIComponent(
      ref.repository,
    )}/pullrequest`;
    return body.value.map(pr => ({
      id: pr.pullRequestId,
      title: pr.title,
      createdBy: pr.createdBy?.displayName,
      creationDate: pr.creationDate,
      sourceBranch: pr.sourceRefName,
      targetBranch: pr.targetRefName,
      isDraft: pr.isDraft === true,
      url: `${web}/${pr.pullRequestId}`,
    }));
  }

  /** The README at the root of the default branch, or undefined when there is none. */
  async readme(ref: RepoRef): Promise<string | undefined> {
    try {
      const res = await this.get(
        ref,
        `${this.repoPath(ref)}/items?path=/README.md&$format=text`,
        'text/plain',
      );
      return await res.text();
    } catch (e) {
      if (e instanceof AzureDevOpsCallError && e.status === 404) {
        return undefined;
      }
      throw e;
    }
  }
}
