import { AdoError, adoErrors } from './errors';
import {
  AdoOrganization,
  AdoPipeline,
  AdoPrincipal,
  AdoProject,
  AdoPullRequest,
  AdoRepository,
  AdoRun,
  AdoStore,
  BranchState,
  runGit,
} from './AdoStore';
import { PatScope } from './model';

/** What a REST handler gets. */
export interface RestContext {
  store: AdoStore;
  org: AdoOrganization;
  principal: AdoPrincipal;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  /** The emulator's Azure DevOps root, e.g. `http://localhost:7101`. */
  base: string;
}

export interface RestResult {
  status?: number;
  body?: unknown;
  raw?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RestRoute {
  method: string;
  /** e.g. `/{organization}/{project}/_apis/git/repositories`; also the counter's template. */
  template: string;
  pattern: RegExp;
  names: string[];
  /** The PAT scope the route needs. */
  scope?: PatScope;
  handler: (ctx: RestContext) => Promise<RestResult> | RestResult;
}

import {
  gitAllowed,
  GitPermissionName,
  projectMember,
  securityRoutes,
} from './security';

const enc = encodeURIComponent;

function route(
  method: string,
  template: string,
  scope: PatScope | undefined,
  handler: RestRoute['handler'],
): RestRoute {
  const names: string[] = [];
  const pattern = new RegExp(
    `^${template.replace(/\{(\w+)\}/g, (_m, n) => {
      names.push(n);
      return '([^/]+)';
    })}/?$`,
    'i',
  );
  return { method, template, pattern, names, scope, handler };
}

// ---- JSON shapes -------------------------------------------------------------------------

function projectJson(p: AdoProject, base: string) {
  return {
    id: p.id,
    name: p.name,
    ...(p.description ? { description: p.description } : {}),
    url: `${base}/${enc(p.organization.name)}/_apis/projects/${p.id}`,
    state: 'wellFormed',
    revision: 1,
    visibility: p.visibility,
    lastUpdateTime: p.lastUpdateTime,
  };
}

function repoSize(r: AdoRepository): number {
  const b = r.defaultBranch ? r.branches.get(r.defaultBranch) : undefined;
  let size = 0;
  for (const f of b?.snapshot.files.values() ?? []) size += f.content.length;
  return size;
}

export function repoJson(r: AdoRepository, base: string) {
  const org = enc(r.project.organization.name);
  const u = new URL(base);
  return {
    id: r.id,
    name: r.name,
    url: `${base}/${org}/${r.project.id}/_apis/git/repositories/${r.id}`,
    project: projectJson(r.project, base),
    ...(r.defaultBranch
      ? { defaultBranch: `refs/heads/${r.defaultBranch}` }
      : {}),
    size: repoSize(r),
    remoteUrl: `${u.protocol}//${org}@${u.host}/${org}/${enc(
      r.project.name,
    )}/_git/${enc(r.name)}`,
    webUrl: `${base}/${org}/${enc(r.project.name)}/_git/${enc(r.name)}`,
    isDisabled: false,
    isInMaintenance: false,
  };
}

function identityRef(x?: {
  id: string;
  displayName: string;
  uniqueName: string;
}) {
  return x
    ? { id: x.id, displayName: x.displayName, uniqueName: x.uniqueName }
    : undefined;
}

function prJson(pr: AdoPullRequest, r: AdoRepository, base: string) {
  return {
    repository: {
      id: r.id,
      name: r.name,
      url: repoJson(r, base).url,
      project: projectJson(r.project, base),
    },
    pullRequestId: pr.pullRequestId,
    codeReviewId: pr.pullRequestId,
    status: pr.status,
    createdBy: identityRef(pr.createdBy),
    creationDate: pr.creationDate,
    title: pr.title,
    ...(pr.description ? { description: pr.description } : {}),
    sourceRefName: pr.sourceRefName,
    targetRefName: pr.targetRefName,
    mergeStatus: 'succeeded',
    isDraft: pr.isDraft,
    ...(head(r, pr.sourceRefName)
      ? { lastMergeSourceCommit: head(r, pr.sourceRefName) }
      : {}),
    ...(head(r, pr.targetRefName)
      ? { lastMergeTargetCommit: head(r, pr.targetRefName) }
      : {}),
    reviewers: [],
    url: `${repoJson(r, base).url}/pullRequests/${pr.pullRequestId}`,
    supportsIterations: true,
    artifactId: `vstfs:///Git/PullRequestId/${r.project.id}%2f${r.id}%2f${pr.pullRequestId}`,
  };

  function head(repo: AdoRepository, refName: string) {
    const s = repo.branches.get(refName.replace(/^refs\/heads\//, ''));
    return s
      ? {
          commitId: s.commitId,
          url: `${repoJson(repo, base).url}/commits/${s.commitId}`,
        }
      : undefined;
  }
}

function pipelineUrl(p: AdoPipeline, base: string) {
  return `${base}/${enc(p.project.organization.name)}/${
    p.project.id
  }/_apis/pipelines/${p.id}?revision=${p.revision}`;
}

function pipelineJson(p: AdoPipeline, base: string, full = false) {
  const url = pipelineUrl(p, base);
  const web = `${base}/${enc(p.project.organization.name)}/${enc(
    p.project.name,
  )}/_build/definition?definitionId=${p.id}`;
  return {
    _links: { self: { href: url }, web: { href: web } },
    ...(full
      ? {
          configuration: {
            path: p.path,
            repository: { id: p.repositoryId, type: 'azureReposGit' },
            type: 'yaml',
          },
        }
      : {}),
    url,
    id: p.id,
    revision: p.revision,
    name: p.name,
    folder: p.folder,
  };
}

function runJson(store: AdoStore, run: AdoRun, base: string) {
  const p = run.pipeline;
  const { state, finishTime } = store.runState(run);
  const url = `${base}/${enc(p.project.organization.name)}/${
    p.project.id
  }/_apis/pipelines/${p.id}/runs/${run.id}`;
  return {
    _links: {
      self: { href: url },
      web: {
        href: `${base}/${enc(p.project.organization.name)}/${enc(
          p.project.name,
        )}/_build/results?buildId=${run.id}`,
      },
      pipeline: { href: pipelineUrl(p, base) },
    },
    templateParameters: run.templateParameters,
    pipeline: {
      url: pipelineUrl(p, base),
      id: p.id,
      revision: p.revision,
      name: p.name,
      folder: p.folder,
    },
    state,
    ...(state === 'completed' ? { result: run.result } : {}),
    createdDate: new Date(run.queueTime * 1000).toISOString(),
    ...(finishTime
      ? { finishedDate: new Date(finishTime * 1000).toISOString() }
      : {}),
    url,
    resources: {
      repositories: {
        self: {
          repository: { id: p.repositoryId, type: 'azureReposGit' },
          refName: run.sourceBranch,
          version: run.sourceVersion,
        },
      },
    },
    id: run.id,
    name: run.buildNumber,
  };
}

function buildJson(store: AdoStore, run: AdoRun, base: string) {
  const p = run.pipeline;
  const { state, finishTime } = store.runState(run);
  const org = enc(p.project.organization.name);
  const repo = [...p.project.repositories.values()].find(
    r => r.id === p.repositoryId,
  );
  const queue = new Date(run.queueTime * 1000).toISOString();
  return {
    _links: {
      self: {
        href: `${base}/${org}/${p.project.id}/_apis/build/Builds/${run.id}`,
      },
      web: {
        href: `${base}/${org}/${enc(p.project.name)}/_build/results?buildId=${
          run.id
        }`,
      },
    },
    id: run.id,
    buildNumber: run.buildNumber,
    status: state,
    ...(state === 'completed' ? { result: run.result } : {}),
    queueTime: queue,
    startTime: queue,
    ...(finishTime
      ? { finishTime: new Date(finishTime * 1000).toISOString() }
      : {}),
    url: `${base}/${org}/${p.project.id}/_apis/build/Builds/${run.id}`,
    definition: {
      id: p.id,
      name: p.name,
      path: p.folder,
      type: 'build',
      revision: p.revision,
      project: projectJson(p.project, base),
      url: `${base}/${org}/${p.project.id}/_apis/build/Definitions/${p.id}?revision=${p.revision}`,
    },
    project: projectJson(p.project, base),
    sourceBranch: run.sourceBranch,
    ...(run.sourceVersion ? { sourceVersion: run.sourceVersion } : {}),
    priority: 'normal',
    reason: run.requestedFor ? 'manual' : 'individualCI',
    requestedFor: identityRef(run.requestedFor),
    repository: { id: p.repositoryId, type: 'TfsGit', name: repo?.name },
  };
}

// ---- helpers -----------------------------------------------------------------------------

function project(ctx: RestContext): AdoProject {
  const p = ctx.store.findProject(ctx.org, ctx.params.project);
  if (!p) throw adoErrors.projectNotFound(ctx.params.project);
  return p;
}

/** Whether the caller has a Git permission on a repository (or, without one, a project). */
function can(
  ctx: RestContext,
  permission: GitPermissionName,
  p: AdoProject,
  r?: AdoRepository,
): boolean {
  return gitAllowed(ctx.org, ctx.principal, p, r, permission);
}

function readable(ctx: RestContext, r: AdoRepository): boolean {
  return can(ctx, 'GenericRead', r.project, r);
}

/** The repository of the URL; one the caller cannot read is "not found", as in the service. */
function repository(ctx: RestContext): AdoRepository {
  const p = ctx.params.project ? project(ctx) : undefined;
  const r = ctx.store.findRepository(ctx.org, ctx.params.repositoryId, p);
  if (!r || !readable(ctx, r)) {
    throw adoErrors.repositoryNotFound(ctx.params.repositoryId);
  }
  return r;
}

/** Pipelines and builds: only for members of the project (the organization's seeded members). */
function pipelineProject(ctx: RestContext): AdoProject {
  const p = project(ctx);
  if (!projectMember(ctx.org, ctx.principal)) {
    throw adoErrors.notAuthorized(ctx.principal.uniqueName);
  }
  return p;
}

function page<T>(all: T[], query: URLSearchParams, defaultTop: number) {
  const top = Math.max(
    1,
    Number(query.get('$top') ?? query.get('top') ?? defaultTop) || defaultTop,
  );
  const skip = Math.max(
    0,
    Number(query.get('continuationToken') ?? query.get('$skip') ?? 0) || 0,
  );
  const slice = all.slice(skip, skip + top);
  const next = skip + top < all.length ? String(skip + top) : undefined;
  return {
    slice,
    headers: next
      ? ({ 'x-ms-continuationtoken': next } as Record<string, string>)
      : undefined,
  };
}

function list(value: unknown[], headers?: Record<string, string>): RestResult {
  return { body: { count: value.length, value }, headers };
}

function q(ctx: RestContext, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = ctx.query.get(n);
    if (v !== null && v !== '') return v;
  }
  return undefined;
}

function resolveVersion(
  ctx: RestContext,
  r: AdoRepository,
): { state: BranchState; label: string } {
  const version = q(ctx, 'versionDescriptor.version', 'version');
  const type = (
    q(ctx, 'versionDescriptor.versionType', 'versionType') ?? 'branch'
  ).toLowerCase();
  if (type === 'commit' && version) {
    const found = [...r.branches.values()].find(
      b => b.commitId === version.toLowerCase(),
    );
    if (!found) throw adoErrors.unresolvableVersion(`<Commit: ${version} >`);
    return { state: found, label: `<Commit: ${version} >` };
  }
  const branch = version ?? r.defaultBranch;
  const label = `<${type === 'tag' ? 'Tag' : 'Branch'}: ${branch ?? ''} >`;
  const state = branch
    ? r.branches.get(branch.replace(/^refs\/heads\//, ''))
    : undefined;
  if (!state || type === 'tag') throw adoErrors.unresolvableVersion(label);
  return { state, label };
}

function wantsJson(ctx: RestContext): boolean {
  const format = q(ctx, '$format', 'format')?.toLowerCase();
  if (format) return format === 'json';
  if (q(ctx, 'includeContent') === 'true') return true;
  return String(ctx.headers.accept ?? '').includes('application/json');
}

function wantsZip(ctx: RestContext): boolean {
  const format = q(ctx, '$format', 'format')?.toLowerCase();
  if (format) return format === 'zip';
  return String(ctx.headers.accept ?? '').includes('application/zip');
}

async function items(ctx: RestContext): Promise<RestResult> {
  const r = repository(ctx);
  const { state, label } = resolveVersion(ctx, r);
  const raw = q(ctx, 'path', 'scopePath') ?? '/';
  const p = raw.replace(/^\/+|\/+$/g, '');
  const display = `/${p}`;
  const itemUrl = (x: string) =>
    `${repoJson(r, ctx.base).url}/items?path=${enc(
      x,
    )}&versionType=Branch&versionOptions=None`;
  const file = state.snapshot.files.get(p);
  const treeId = state.snapshot.trees.get(p);
  if (!file && !treeId) {
    throw adoErrors.itemNotFound(display, r.name, label, state.commitId);
  }
  if (file) {
    if (wantsJson(ctx)) {
      const body: Record<string, unknown> = {
        objectId: file.objectId,
        gitObjectType: 'blob',
        commitId: state.commitId,
        path: display,
        url: itemUrl(display),
      };
      if (q(ctx, 'includeContent') === 'true')
        body.content = file.content.toString('utf8');
      return { body, headers: { ETag: `"${file.objectId}"` } };
    }
    const headers: Record<string, string> = { ETag: `"${file.objectId}"` };
    if (q(ctx, 'download') === 'true')
      headers['Content-Disposition'] = `attachment; filename=${p
        .split('/')
        .pop()}`;
    const format = q(ctx, '$format', 'format')?.toLowerCase();
    return {
      raw: file.content,
      contentType:
        format === 'text'
          ? 'text/plain; charset=utf-8'
          : 'application/octet-stream',
      headers,
    };
  }
  // A folder.
  if (wantsZip(ctx) || (q(ctx, 'download') === 'true' && !wantsJson(ctx))) {
    ctx.store.ensureOnDisk(r);
    const args = ['archive', '--format=zip'];
    if (p) {
      const parent = p.split('/').slice(0, -1).join('/');
      args.push(`${state.commitId}:${parent}`, p.split('/').pop()!);
    } else args.push(state.commitId);
    const zip = await runGit(r.dir, args);
    return {
      raw: zip,
      contentType: 'application/zip',
      headers: {
        'Content-Disposition': `attachment; filename=${r.name}.zip`,
        ETag: `"${treeId}"`,
      },
    };
  }
  const level = (q(ctx, 'recursionLevel') ?? 'none').toLowerCase();
  const entries: Array<Record<string, unknown>> = [
    {
      objectId: treeId,
      gitObjectType: 'tree',
      commitId: state.commitId,
      path: display,
      isFolder: true,
      url: itemUrl(display),
    },
  ];
  if (level !== 'none') {
    const prefix = p ? `${p}/` : '';
    const depthOk = (rel: string) => level === 'full' || !rel.includes('/');
    for (const [dir, id] of state.snapshot.trees) {
      if (!dir.startsWith(prefix) || dir === p) continue;
      const rel = dir.slice(prefix.length);
      if (!depthOk(rel)) continue;
      entries.push({
        objectId: id,
        gitObjectType: 'tree',
        commitId: state.commitId,
        path: `/${dir}`,
        isFolder: true,
        url: itemUrl(`/${dir}`),
      });
    }
    for (const [fp, f] of state.snapshot.files) {
      if (!fp.startsWith(prefix)) continue;
      if (!depthOk(fp.slice(prefix.length))) continue;
      entries.push({
        objectId: f.objectId,
        gitObjectType: 'blob',
        commitId: state.commitId,
        path: `/${fp}`,
        url: itemUrl(`/${fp}`),
      });
    }
    entries.sort((a, b) => String(a.path).localeCompare(String(b.path)));
    return list(entries);
  }
  return { body: entries[0] };
}

async function commits(ctx: RestContext): Promise<RestResult> {
  const r = repository(ctx);
  const version =
    q(ctx, 'searchCriteria.itemVersion.version') ?? r.defaultBranch;
  const state = version ? r.branches.get(version) : undefined;
  if (!state) return list([]);
  ctx.store.ensureOnDisk(r);
  const top = Number(q(ctx, 'searchCriteria.$top', '$top') ?? 100) || 100;
  const out = (
    await runGit(r.dir, [
      'log',
      `-n${top}`,
      '--format=%H%x00%an%x00%ae%x00%at%x00%s%x1e',
      state.commitId,
    ])
  )
    .toString()
    .split('\x1e')
    .map(s => s.trim())
    .filter(Boolean)
    .map(line => {
      const [commitId, name, email, at, comment] = line.split('\0');
      const who = {
        name,
        email,
        date: new Date(Number(at) * 1000).toISOString(),
      };
      return {
        commitId,
        author: who,
        committer: who,
        comment,
        url: `${repoJson(r, ctx.base).url}/commits/${commitId}`,
      };
    });
  return list(out);
}

function refs(ctx: RestContext): RestResult {
  const r = repository(ctx);
  const filter = q(ctx, 'filter') ?? '';
  const value = [...r.branches]
    .map(([b, s]) => ({
      name: `refs/heads/${b}`,
      objectId: s.commitId,
      url: `${repoJson(r, ctx.base).url}/refs?filter=${enc(`heads/${b}`)}`,
    }))
    .filter(x => x.name.startsWith(`refs/${filter}`))
    .sort((a, b) => a.name.localeCompare(b.name));
  return list(value);
}

function pullRequests(ctx: RestContext): RestResult {
  const repos = ctx.params.repositoryId
    ? [repository(ctx)]
    : [...project(ctx).repositories.values()].filter(r => readable(ctx, r));
  const status = (q(ctx, 'searchCriteria.status') ?? 'active').toLowerCase();
  const target = q(ctx, 'searchCriteria.targetRefName');
  const source = q(ctx, 'searchCriteria.sourceRefName');
  const all = repos
    .flatMap(r => r.pullRequests.map(pr => ({ pr, r })))
    .filter(
      ({ pr }) =>
        (status === 'all' || status === 'notset'
          ? true
          : pr.status === status) &&
        (!target || pr.targetRefName === target) &&
        (!source || pr.sourceRefName === source),
    )
    .sort((a, b) => b.pr.pullRequestId - a.pr.pullRequestId);
  const top = Number(q(ctx, '$top') ?? 101) || 101;
  const skip = Number(q(ctx, '$skip') ?? 0) || 0;
  return list(
    all.slice(skip, skip + top).map(({ pr, r }) => prJson(pr, r, ctx.base)),
  );
}

function pullRequestNotFound(): AdoError {
  return new AdoError(
    404,
    'GitPullRequestNotFoundException',
    `TF401180: The requested pull request was not found.`,
  );
}

function branchOf(r: AdoRepository, refName: unknown): string | undefined {
  if (typeof refName !== 'string' || !refName.startsWith('refs/heads/')) {
    return undefined;
  }
  const b = refName.slice('refs/heads/'.length);
  return r.branches.has(b) ? b : undefined;
}

/** `POST .../pullrequests`: opens an active (or draft) pull request between two branches. */
function createPullRequest(ctx: RestContext): RestResult {
  const r = repository(ctx);
  if (!can(ctx, 'PullRequestContribute', r.project, r)) {
    throw adoErrors.gitPermission(
      'PullRequestContribute',
      ctx.principal.uniqueName,
    );
  }
  const b = ctx.body ?? {};
  for (const field of ['sourceRefName', 'targetRefName', 'title']) {
    if (typeof b[field] !== 'string' || !b[field].trim()) {
      throw adoErrors.badRequest(
        'ArgumentNullException',
        `Value cannot be null.\r\nParameter name: ${field}`,
      );
    }
  }
  if (b.sourceRefName === b.targetRefName) {
    // The service refuses this too; its exact error text is not documented, so no TF code here.
    throw adoErrors.badRequest(
      'InvalidArgumentValueException',
      'The source and target branch of a pull request must be different.',
    );
  }
  if (!branchOf(r, b.sourceRefName) || !branchOf(r, b.targetRefName)) {
    throw adoErrors.badRequest(
      'GitPullRequestCannotBeActivated',
      'TF401398: The pull request cannot be activated because the source and/or the target branch no longer exists, or the requested refs are not branches',
    );
  }
  if (
    r.pullRequests.some(
      x =>
        x.status === 'active' &&
        x.sourceRefName === b.sourceRefName &&
        x.targetRefName === b.targetRefName,
    )
  ) {
    throw new AdoError(
      409,
      'GitPullRequestExistsException',
      'TF401179: An active pull request for the source and target branch already exists.',
    );
  }
  const pr: AdoPullRequest = {
    pullRequestId: ctx.org.nextPullRequestId++,
    title: b.title,
    ...(typeof b.description === 'string' && b.description
      ? { description: b.description }
      : {}),
    status: 'active',
    sourceRefName: b.sourceRefName,
    targetRefName: b.targetRefName,
    createdBy: {
      id: ctx.principal.id,
      displayName: ctx.principal.displayName,
      uniqueName: ctx.principal.uniqueName,
    },
    creationDate: new Date(
      ctx.store.emulator.clock.now().getTime(),
    ).toISOString(),
    isDraft: b.isDraft === true,
  };
  r.pullRequests.push(pr);
  return { status: 201, body: prJson(pr, r, ctx.base) };
}

function getPullRequest(ctx: RestContext): RestResult {
  const r = repository(ctx);
  const id = Number(ctx.params.pullRequestId);
  const pr = r.pullRequests.find(x => x.pullRequestId === id);
  if (!pr) throw pullRequestNotFound();
  return { body: prJson(pr, r, ctx.base) };
}

function createRepository(ctx: RestContext): RestResult {
  const name = ctx.body?.name;
  const projectRef =
    ctx.params.project ?? ctx.body?.project?.id ?? ctx.body?.project?.name;
  if (!projectRef) {
    throw adoErrors.badRequest(
      'ArgumentException',
      'A project must be given in the URL or as project.id in the body.',
    );
  }
  const p = ctx.store.findProject(ctx.org, String(projectRef));
  if (!p) throw adoErrors.projectNotFound(String(projectRef));
  if (!can(ctx, 'CreateRepository', p)) {
    throw adoErrors.gitPermission('CreateRepository', ctx.principal.uniqueName);
  }
  if (typeof name !== 'string' || !name.trim()) {
    throw adoErrors.badRequest(
      'ArgumentNullException',
      'Value cannot be null.\r\nParameter name: name',
    );
  }
  if (
    !/^[^\\/:*?"<>|;#$*{},+=[\]]{1,64}$/.test(name) ||
    name.startsWith('_') ||
    name.endsWith('.')
  ) {
    throw adoErrors.badRequest(
      'InvalidArgumentValueException',
      `TF401025: '${name}' is not a valid name. Names must not contain special characters or be reserved names.`,
    );
  }
  if (ctx.store.findRepository(ctx.org, name, p)) {
    throw adoErrors.repositoryExists(name);
  }
  const repo = ctx.store.addRepository(p, {
    name,
    branches: {},
    pullRequests: [],
  });
  ctx.store.ensureOnDisk(repo);
  return { status: 201, body: repoJson(repo, ctx.base) };
}

function findPipeline(ctx: RestContext): AdoPipeline {
  const p = pipelineProject(ctx);
  const pl = p.pipelines.get(Number(ctx.params.pipelineId));
  if (!pl) {
    throw adoErrors.notFound(
      'PipelineNotFoundException',
      `Pipeline with id ${ctx.params.pipelineId} not found.`,
    );
  }
  return pl;
}

function createPipeline(ctx: RestContext): RestResult {
  const p = pipelineProject(ctx);
  const b = ctx.body ?? {};
  const cfg = b.configuration ?? {};
  if (typeof b.name !== 'string' || !b.name) {
    throw adoErrors.badRequest(
      'ArgumentNullException',
      'Value cannot be null.\r\nParameter name: name',
    );
  }
  if (String(cfg.type).toLowerCase() !== 'yaml') {
    throw adoErrors.badRequest(
      'ArgumentException',
      'configuration.type must be yaml (the only type this API creates).',
    );
  }
  const repoRef = cfg.repository?.id ?? cfg.repository?.name;
  const repo = repoRef
    ? ctx.store.findRepository(ctx.org, String(repoRef), p)
    : undefined;
  if (!repo) throw adoErrors.repositoryNotFound(String(repoRef ?? ''));
  const yamlPath = String(cfg.path ?? '').replace(/^\/+/, '');
  const head = repo.defaultBranch
    ? repo.branches.get(repo.defaultBranch)
    : undefined;
  if (!head || !head.snapshot.files.has(yamlPath)) {
    throw adoErrors.badRequest(
      'PipelineValidationException',
      `File /${yamlPath} not found in repository ${
        repo.name
      } branch refs/heads/${repo.defaultBranch ?? 'main'}.`,
    );
  }
  const folder = b.folder ?? '\\';
  if (
    [...p.pipelines.values()].some(
      x => x.folder === folder && x.name.toLowerCase() === b.name.toLowerCase(),
    )
  ) {
    throw new AdoError(
      409,
      'DefinitionExistsException',
      `A pipeline with name '${b.name}' already exists in folder '${folder}'.`,
    );
  }
  const pl = ctx.store.addPipeline(p, {
    name: b.name,
    folder,
    repositoryId: repo.id,
    path: `/${yamlPath}`,
  });
  return { body: pipelineJson(pl, ctx.base, true) };
}

function runPipeline(ctx: RestContext): RestResult {
  const pl = findPipeline(ctx);
  const repo = [...pl.project.repositories.values()].find(
    r => r.id === pl.repositoryId,
  );
  const b = ctx.body ?? {};
  const refName: string =
    b.resources?.repositories?.self?.refName ??
    `refs/heads/${repo?.defaultBranch ?? 'main'}`;
  const branch = repo?.branches.get(refName.replace(/^refs\/heads\//, ''));
  if (!repo || !branch || !branch.snapshot.files.has(pl.path.slice(1))) {
    throw adoErrors.badRequest(
      'PipelineValidationException',
      `Could not find ${pl.path} on ${refName} of repository ${
        repo?.name ?? pl.repositoryId
      }.`,
    );
  }
  if (b.previewRun === true) {
    return {
      body: {
        finalYaml: branch.snapshot.files
          .get(pl.path.slice(1))!
          .content.toString('utf8'),
      },
    };
  }
  const run = ctx.store.addRun(pl, {
    sourceBranch: refName,
    sourceVersion: branch.commitId,
    queueTime: ctx.store.nowSeconds(),
    durationSeconds: 30,
    result: 'succeeded',
    requestedFor:
      ctx.principal.kind === 'user'
        ? {
            id: ctx.principal.id,
            displayName: ctx.principal.displayName,
            uniqueName: ctx.principal.uniqueName,
          }
        : undefined,
    templateParameters: b.templateParameters ?? {},
  });
  return { body: runJson(ctx.store, run, ctx.base) };
}

function builds(ctx: RestContext): RestResult {
  const p = pipelineProject(ctx);
  const defs = q(ctx, 'definitions')?.split(',').map(Number);
  const branch = q(ctx, 'branchName');
  const status = (q(ctx, 'statusFilter') ?? 'all').toLowerCase();
  const result = q(ctx, 'resultFilter')?.toLowerCase();
  const repoId = q(ctx, 'repositoryId');
  const ascending = (q(ctx, 'queryOrder') ?? '')
    .toLowerCase()
    .endsWith('ascending');
  const runs = ctx.org.runs
    .filter(r => r.pipeline.project === p)
    .filter(r => !defs || defs.includes(r.pipeline.id))
    .filter(r => !branch || r.sourceBranch === branch)
    .filter(r => !repoId || r.pipeline.repositoryId === repoId)
    .filter(r => {
      const s = ctx.store.runState(r);
      if (status !== 'all' && s.state.toLowerCase() !== status) return false;
      if (
        result &&
        (s.state !== 'completed' || r.result.toLowerCase() !== result)
      )
        return false;
      return true;
    })
    .sort((a, b) =>
      ascending
        ? a.queueTime - b.queueTime || a.id - b.id
        : b.queueTime - a.queueTime || b.id - a.id,
    );
  const { slice, headers } = page(runs, ctx.query, 1000);
  return list(
    slice.map(r => buildJson(ctx.store, r, ctx.base)),
    headers,
  );
}

// ---- code search -------------------------------------------------------------------------

function glob(value: string): RegExp {
  const escaped = value
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** The code search query language, in the subset the emulator knows. */
function parseSearchText(text: string) {
  const tokens = text.match(/"[^"]*"|\S+/g) ?? [];
  const filters: Record<string, string[]> = {};
  const terms: string[] = [];
  for (const t of tokens) {
    const m = /^(path|file|ext|repo|proj):(.*)$/i.exec(t);
    if (m) {
      const key = m[1].toLowerCase();
      filters[key] = [...(filters[key] ?? []), m[2].replace(/^"|"$/g, '')];
    } else if (!/^(AND|OR|NOT)$/.test(t)) {
      terms.push(t.replace(/^"|"$/g, '').toLowerCase());
    }
  }
  return { filters, terms };
}

function codeSearch(ctx: RestContext): RestResult {
  const b = ctx.body ?? {};
  const skip = b.$skip ?? 0;
  const top = b.$top;
  if (!Number.isInteger(skip) || skip < 0 || skip > 1000) {
    throw adoErrors.badRequest(
      'InvalidQueryException',
      `The value of $skip must be between 0 and 1000, got ${JSON.stringify(
        skip,
      )}.`,
    );
  }
  if (!Number.isInteger(top) || top < 1 || top > 1000) {
    throw adoErrors.badRequest(
      'InvalidQueryException',
      `The value of $top must be between 1 and 1000, got ${JSON.stringify(
        top,
      )}.`,
    );
  }
  if (typeof b.searchText !== 'string' || !b.searchText.trim()) {
    throw adoErrors.badRequest(
      'InvalidQueryException',
      'searchText must not be empty.',
    );
  }
  const { filters, terms } = parseSearchText(b.searchText);
  const projects = ctx.params.project
    ? [project(ctx)]
    : [...ctx.org.projects.values()];
  const bodyFilters = (b.filters ?? {}) as Record<string, string[]>;
  const inList = (names: string[] | undefined, v: string) =>
    !names?.length || names.some(x => x.toLowerCase() === v.toLowerCase());
  const matchesAny = (patterns: string[] | undefined, v: string) =>
    !patterns?.length || patterns.some(x => glob(x).test(v.toLowerCase()));
  const results: Array<Record<string, unknown>> = [];
  for (const p of projects) {
    if (!inList(bodyFilters.Project, p.name)) continue;
    if (!matchesAny(filters.proj, p.name)) continue;
    for (const r of p.repositories.values()) {
      if (!readable(ctx, r)) continue;
      if (!inList(bodyFilters.Repository, r.name)) continue;
      if (!matchesAny(filters.repo, r.name)) continue;
      // Code search indexes the default branch.
      const branch = r.defaultBranch
        ? r.branches.get(r.defaultBranch)
        : undefined;
      if (!branch) continue;
      if (
        bodyFilters.Branch?.length &&
        !inList(bodyFilters.Branch, r.defaultBranch!)
      )
        continue;
      for (const [fp, f] of branch.snapshot.files) {
        const lower = fp.toLowerCase();
        const fileName = fp.split('/').pop()!;
        const pathOk = (paths?: string[]) =>
          !paths?.length ||
          paths.some(x => {
            const v = x.replace(/^\/+/, '').replace(/\/+$/, '').toLowerCase();
            return (
              lower === v || lower.startsWith(`${v}/`) || glob(v).test(lower)
            );
          });
        if (!pathOk(filters.path) || !pathOk(bodyFilters.Path)) continue;
        if (!matchesAny(filters.file, fileName)) continue;
        if (
          filters.ext?.length &&
          !filters.ext.some(e =>
            lower.endsWith(`.${e.replace(/^\./, '').toLowerCase()}`),
          )
        )
          continue;
        const text = terms.length
          ? f.content.toString('utf8').toLowerCase()
          : '';
        if (!terms.every(t => text.includes(t))) continue;
        results.push({
          fileName,
          path: `/${fp}`,
          matches: {
            content: terms.flatMap(t => {
              const at = text.indexOf(t);
              return at >= 0
                ? [{ charOffset: at, length: t.length, type: 'content' }]
                : [];
            }),
            fileName: [],
          },
          collection: { name: ctx.org.name },
          project: { name: p.name, id: p.id },
          repository: { name: r.name, id: r.id, type: 'git' },
          versions: [
            { branchName: r.defaultBranch, changeId: branch.commitId },
          ],
          contentId: f.objectId,
        });
      }
    }
  }
  const order = Array.isArray(b.$orderBy) ? b.$orderBy[0] : undefined;
  const key = String(order?.field ?? 'path').toLowerCase();
  const desc = String(order?.sortOrder ?? 'ASC').toUpperCase() === 'DESC';
  const sortKey = (x: Record<string, any>) =>
    key === 'filename'
      ? `${x.fileName}\0${x.project.name}\0${x.repository.name}\0${x.path}`
      : `${x.project.name}\0${x.repository.name}\0${x.path}`;
  results.sort((x, y) => {
    const [a, z] = [sortKey(x), sortKey(y)];
    const c = a < z ? -1 : Number(a > z);
    return desc ? -c : c;
  });
  return {
    body: {
      count: results.length,
      results: results.slice(skip, skip + top),
      infoCode: 0,
      facets: b.includeFacets ? {} : null,
    },
  };
}

// ---- the table ---------------------------------------------------------------------------

const O = '/{organization}';
const P = '/{organization}/{project}';
const REPO = '_apis/git/repositories/{repositoryId}';

export const REST_ROUTES: RestRoute[] = [
  route('GET', `${O}/_apis/projects`, 'vso.project', ctx => {
    const all = [...ctx.org.projects.values()].sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    const { slice, headers } = page(all, ctx.query, 100);
    return list(
      slice.map(p => projectJson(p, ctx.base)),
      headers,
    );
  }),
  route('GET', `${O}/_apis/projects/{project}`, 'vso.project', ctx => ({
    body: projectJson(project(ctx), ctx.base),
  })),
  route('GET', `${O}/_apis/git/repositories`, 'vso.code', ctx =>
    list(
      [...ctx.org.projects.values()]
        .flatMap(p => [...p.repositories.values()])
        .filter(r => readable(ctx, r))
        .map(r => repoJson(r, ctx.base)),
    ),
  ),
  route('GET', `${P}/_apis/git/repositories`, 'vso.code', ctx =>
    list(
      [...project(ctx).repositories.values()]
        .filter(r => readable(ctx, r))
        .map(r => repoJson(r, ctx.base)),
    ),
  ),
  route(
    'POST',
    `${O}/_apis/git/repositories`,
    'vso.code_manage',
    createRepository,
  ),
  route(
    'POST',
    `${P}/_apis/git/repositories`,
    'vso.code_manage',
    createRepository,
  ),
  route('GET', `${O}/${REPO}`, 'vso.code', ctx => ({
    body: repoJson(repository(ctx), ctx.base),
  })),
  route('GET', `${P}/${REPO}`, 'vso.code', ctx => ({
    body: repoJson(repository(ctx), ctx.base),
  })),
  route('DELETE', `${P}/${REPO}`, 'vso.code_manage', ctx => {
    const r = repository(ctx);
    if (r.id !== ctx.params.repositoryId.toLowerCase()) {
      // The real API deletes by id only.
      throw adoErrors.repositoryNotFound(ctx.params.repositoryId);
    }
    if (!can(ctx, 'DeleteRepository', r.project, r)) {
      throw adoErrors.gitPermission(
        'DeleteRepository',
        ctx.principal.uniqueName,
      );
    }
    ctx.store.deleteRepository(r);
    return { status: 204 };
  }),
  route('GET', `${O}/${REPO}/items`, 'vso.code', items),
  route('GET', `${P}/${REPO}/items`, 'vso.code', items),
  route('GET', `${P}/${REPO}/commits`, 'vso.code', commits),
  route('GET', `${O}/${REPO}/commits`, 'vso.code', commits),
  route('GET', `${P}/${REPO}/refs`, 'vso.code', refs),
  route('GET', `${P}/${REPO}/pullrequests`, 'vso.code', pullRequests),
  route('GET', `${P}/_apis/git/pullrequests`, 'vso.code', pullRequests),
  route(
    'POST',
    `${P}/${REPO}/pullrequests`,
    'vso.code_write',
    createPullRequest,
  ),
  route(
    'GET',
    `${P}/${REPO}/pullrequests/{pullRequestId}`,
    'vso.code',
    getPullRequest,
  ),
  route('GET', `${P}/_apis/pipelines`, 'vso.build', ctx => {
    const all = [...pipelineProject(ctx).pipelines.values()].sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    const { slice, headers } = page(all, ctx.query, 1000);
    return list(
      slice.map(p => pipelineJson(p, ctx.base)),
      headers,
    );
  }),
  route('POST', `${P}/_apis/pipelines`, 'vso.build_execute', createPipeline),
  route('GET', `${P}/_apis/pipelines/{pipelineId}`, 'vso.build', ctx => ({
    body: pipelineJson(findPipeline(ctx), ctx.base, true),
  })),
  route('GET', `${P}/_apis/pipelines/{pipelineId}/runs`, 'vso.build', ctx => {
    const pl = findPipeline(ctx);
    return list(
      ctx.org.runs
        .filter(r => r.pipeline === pl)
        .sort((a, b) => b.id - a.id)
        .slice(0, 10000)
        .map(r => runJson(ctx.store, r, ctx.base)),
    );
  }),
  route(
    'POST',
    `${P}/_apis/pipelines/{pipelineId}/runs`,
    'vso.build_execute',
    runPipeline,
  ),
  route('GET', `${P}/_apis/build/builds`, 'vso.build', builds),
  route('POST', `${O}/_apis/search/codesearchresults`, 'vso.code', codeSearch),
  route('POST', `${P}/_apis/search/codesearchresults`, 'vso.code', codeSearch),
  ...securityRoutes(route),
];
