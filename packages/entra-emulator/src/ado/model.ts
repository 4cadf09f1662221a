import { TenantFileError, sha256Hex } from '../tenant/loadTenants';

/** A file in a seeded repository: its path (no leading slash) and text. */
export type SeedFiles = Record<string, string>;

/** A repository as a tenant file (or the generator) describes it. */
export interface AdoRepositorySeed {
  name: string;
  /** Branch name without `refs/heads/`; absent for an empty repository. */
  defaultBranch?: string;
  /** Files per branch: `{ main: { 'catalog-info.yaml': '...' } }`. */
  branches: Record<string, SeedFiles>;
  pullRequests: AdoPullRequestSeed[];
}

export interface AdoPullRequestSeed {
  title: string;
  description?: string;
  status: 'active' | 'abandoned' | 'completed';
  sourceBranch: string;
  targetBranch: string;
  /** A user principal name of the organization's tenant. */
  createdBy?: string;
  isDraft: boolean;
}

export interface AdoPipelineSeed {
  name: string;
  folder: string;
  repository: string;
  /** The YAML file, e.g. `/azure-pipelines.yml`. */
  path: string;
  runs: Array<{
    result: 'succeeded' | 'failed' | 'canceled' | 'partiallySucceeded';
    branch?: string;
    /** Minutes before the emulator started. */
    minutesAgo?: number;
  }>;
}

export interface AdoProjectSeed {
  name: string;
  description?: string;
  visibility: 'private' | 'public';
  repositories: AdoRepositorySeed[];
  pipelines: AdoPipelineSeed[];
}

/** Scopes a PAT can carry (a subset of Azure DevOps' own), or `full`. */
export const PAT_SCOPES = [
  'full',
  'vso.code',
  'vso.code_write',
  'vso.code_manage',
  'vso.build',
  'vso.build_execute',
  'vso.project',
  'vso.graph_manage',
  'vso.security_manage',
] as const;
export type PatScope = (typeof PAT_SCOPES)[number];

export interface AdoPatSeed {
  /** User principal name of the owner. */
  user: string;
  displayName: string;
  /** SHA-256 (hex) of the token text; the text itself is never kept. */
  tokenHash: string;
  scopes: PatScope[];
  validTo: string;
}

/** An Azure DevOps organization connected to an emulated Entra tenant. */
export interface AdoOrganizationSeed {
  name: string;
  /**
   * Who may use the organization: user principal names, app registrations (appId or display
   * name) and managed identities (name) of the tenant.
   */
  members: string[];
  personalAccessTokens: AdoPatSeed[];
  projects: AdoProjectSeed[];
}

export interface EmulatedAzureDevOps {
  organizations: AdoOrganizationSeed[];
}

type Raw = Record<string, any>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$/;

function name(value: unknown, where: string): string {
  if (typeof value !== 'string' || !NAME.test(value) || value.endsWith('.')) {
    throw new TenantFileError(
      `${where} must be a name of letters, digits, '.', '_', '-' or spaces, got ${JSON.stringify(
        value,
      )}`,
    );
  }
  return value;
}

function files(value: unknown, where: string): SeedFiles {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TenantFileError(`${where} must map file paths to their text`);
  }
  const out: SeedFiles = {};
  for (const [p, text] of Object.entries(value as Raw)) {
    const clean = p.replace(/^\/+/, '');
    if (!clean || clean.split('/').some(s => s === '' || s === '..')) {
      throw new TenantFileError(`${where}: "${p}" is not a file path`);
    }
    out[clean] = typeof text === 'string' ? text : String(text);
  }
  return out;
}

/** Parses a tenant's `azureDevOps:` section. */
export function parseAzureDevOps(raw: Raw, where: string): EmulatedAzureDevOps {
  const orgs: Raw[] = raw?.organizations ?? [];
  if (!Array.isArray(orgs)) {
    throw new TenantFileError(`${where}.organizations must be a list`);
  }
  return {
    organizations: orgs.map((o, i) => {
      const w = `${where}.organizations[${i}]`;
      return {
        name: name(o.name, `${w}.name`),
        members: (o.members ?? []).map(String),
        personalAccessTokens: (o.personalAccessTokens ?? []).map(
          (p: Raw, j: number) => parsePat(p, `${w}.personalAccessTokens[${j}]`),
        ),
        projects: (o.projects ?? []).map((p: Raw, j: number) =>
          parseProject(p, `${w}.projects[${j}]`),
        ),
      };
    }),
  };
}

function parsePat(p: Raw, w: string): AdoPatSeed {
  if ('token' in p) {
    throw new TenantFileError(
      `${w}.token: tokens are never written in tenant files; use tokenHash or tokenEnv`,
    );
  }
  let tokenHash: string | undefined = p.tokenHash;
  if (p.tokenEnv) {
    const text = process.env[p.tokenEnv];
    if (!text) {
      throw new TenantFileError(
        `${w}.tokenEnv: environment variable ${p.tokenEnv} is not set`,
      );
    }
    tokenHash = sha256Hex(text);
  }
  if (!tokenHash || !/^[0-9a-f]{64}$/i.test(tokenHash)) {
    throw new TenantFileError(
      `${w} needs tokenHash (SHA-256 hex of the token) or tokenEnv`,
    );
  }
  const scopes = p.scopes ?? ['full'];
  for (const s of scopes) {
    if (!(PAT_SCOPES as readonly string[]).includes(s)) {
      throw new TenantFileError(
        `${w}.scopes: "${s}" is not one of ${PAT_SCOPES.join(', ')}`,
      );
    }
  }
  if (!p.user) throw new TenantFileError(`${w}.user is required`);
  return {
    user: String(p.user),
    displayName: p.displayName ?? 'emulator',
    tokenHash: tokenHash.toLowerCase(),
    scopes,
    validTo: p.validTo ?? '2099-12-31T00:00:00Z',
  };
}

function parseProject(p: Raw, w: string): AdoProjectSeed {
  const repositories = (p.repositories ?? []).map(
    (r: Raw, k: number): AdoRepositorySeed => {
      const ww = `${w}.repositories[${k}]`;
      const branches: Record<string, SeedFiles> = {};
      for (const [b, content] of Object.entries(r.branches ?? {})) {
        branches[b] = files(content, `${ww}.branches.${b}`);
      }
      if (r.files) {
        branches[r.defaultBranch ?? 'main'] = files(r.files, `${ww}.files`);
      }
      const names = Object.keys(branches);
      const defaultBranch =
        r.defaultBranch ??
        (names.includes('main') ? 'main' : names[0] ?? undefined);
      if (defaultBranch && !branches[defaultBranch]) {
        throw new TenantFileError(
          `${ww}.defaultBranch "${defaultBranch}" has no files`,
        );
      }
      return {
        name: name(r.name, `${ww}.name`),
        defaultBranch,
        branches,
        pullRequests: (r.pullRequests ?? []).map((pr: Raw, n: number) => {
          const www = `${ww}.pullRequests[${n}]`;
          if (!pr.title) throw new TenantFileError(`${www}.title is required`);
          const status = pr.status ?? 'active';
          if (!['active', 'abandoned', 'completed'].includes(status)) {
            throw new TenantFileError(
              `${www}.status must be active, abandoned or completed`,
            );
          }
          return {
            title: String(pr.title),
            description: pr.description,
            status,
            sourceBranch: String(pr.sourceBranch ?? 'feature'),
            targetBranch: String(pr.targetBranch ?? defaultBranch ?? 'main'),
            createdBy: pr.createdBy,
            isDraft: pr.isDraft ?? false,
          };
        }),
      };
    },
  );
  const pipelines = (p.pipelines ?? []).map(
    (pl: Raw, k: number): AdoPipelineSeed => {
      const ww = `${w}.pipelines[${k}]`;
      const repo = String(pl.repository ?? '');
      if (!repositories.some((r: AdoRepositorySeed) => r.name === repo)) {
        throw new TenantFileError(
          `${ww}.repository "${repo}" is not a repository of the project`,
        );
      }
      return {
        name: name(pl.name, `${ww}.name`),
        folder: pl.folder ?? '\\',
        repository: repo,
        path: pl.path ?? '/azure-pipelines.yml',
        runs: (pl.runs ?? []).map((r: Raw) => ({
          result: r.result ?? 'succeeded',
          branch: r.branch,
          minutesAgo: r.minutesAgo,
        })),
      };
    },
  );
  return {
    name: name(p.name, `${w}.name`),
    description: p.description,
    visibility: p.visibility === 'public' ? 'public' : 'private',
    repositories,
    pipelines,
  };
}
