import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Emulator } from '../Emulator';
import { sha256Hex, stableGuid } from '../tenant/loadTenants';
import { TenantStore } from '../tenant/TenantStore';
import { EmulatedTenantData } from '../tenant/types';
import { isMemberThroughAddedGroup, seededMember } from './security';
import {
  buildCommit,
  buildSnapshot,
  initBareRepository,
  ObjectSink,
  setHead,
  Signature,
  Snapshot,
  writeObjects,
  writeRef,
} from './gitObjects';
import {
  AdoOrganizationSeed,
  AdoPipelineSeed,
  AdoProjectSeed,
  AdoRepositorySeed,
  PatScope,
} from './model';

/** The tip of a branch and the tree it points at. */
export interface BranchState {
  commitId: string;
  treeId: string;
  snapshot: Snapshot;
  author: Signature;
  message: string;
}

export interface AdoPullRequest {
  pullRequestId: number;
  title: string;
  description?: string;
  status: 'active' | 'abandoned' | 'completed';
  sourceRefName: string;
  targetRefName: string;
  createdBy?: { id: string; displayName: string; uniqueName: string };
  creationDate: string;
  isDraft: boolean;
}

export interface AdoRepository {
  id: string;
  name: string;
  project: AdoProject;
  /** Branch name without `refs/heads/`; undefined while the repository is empty. */
  defaultBranch?: string;
  branches: Map<string, BranchState>;
  pullRequests: AdoPullRequest[];
  /** The bare repository on disk (written on first Git access). */
  dir: string;
  onDisk: boolean;
  /** Objects computed in process, not yet written to `dir`. */
  pending: ObjectSink;
}

export interface AdoPipeline {
  id: number;
  name: string;
  folder: string;
  revision: number;
  repositoryId: string;
  path: string;
  project: AdoProject;
}

export interface AdoRun {
  id: number;
  pipeline: AdoPipeline;
  buildNumber: string;
  sourceBranch: string;
  sourceVersion?: string;
  queueTime: number;
  /** Seconds from queue to finish. */
  durationSeconds: number;
  result: 'succeeded' | 'failed' | 'canceled' | 'partiallySucceeded';
  requestedFor?: { id: string; displayName: string; uniqueName: string };
  templateParameters: Record<string, unknown>;
}

export interface AdoProject {
  id: string;
  name: string;
  description?: string;
  visibility: 'private' | 'public';
  lastUpdateTime: string;
  organization: AdoOrganization;
  repositories: Map<string, AdoRepository>;
  pipelines: Map<number, AdoPipeline>;
}

/** A personal access token; only a hash of its text is kept. */
export interface AdoPat {
  authorizationId: string;
  tokenHash: string;
  /** The owner's object id. */
  userId: string;
  displayName: string;
  scopes: PatScope[];
  validTo: string;
}

export interface AdoOrganization {
  id: string;
  name: string;
  tenant: TenantStore;
  /** Principals as the tenant file names them (UPN, app id or name, managed identity, group). */
  members: string[];
  pats: AdoPat[];
  projects: Map<string, AdoProject>;
  runs: AdoRun[];
  nextPipelineId: number;
  nextRunId: number;
  nextPullRequestId: number;
}

/** Someone the organization recognised from a credential. */
export interface AdoPrincipal {
  kind: 'user' | 'servicePrincipal';
  /** The user's object id, or the app's client id (a managed identity's client id). */
  id: string;
  displayName: string;
  uniqueName: string;
  /** Scopes of the PAT used, or undefined for an Entra token (all the principal may do). */
  patScopes?: PatScope[];
}

const SEED_AUTHOR = {
  name: 'Contoso Builder',
  email: 'builder@contoso.example',
};

/** Runs git in a repository; resolves with stdout. */
export function runGit(
  cwd: string,
  args: string[],
  input?: Buffer | string,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', d => out.push(d));
    child.stderr.on('data', d => err.push(d));
    child.on('error', reject);
    child.on('close', code => {
      if (code === 0) resolve(Buffer.concat(out));
      else
        reject(
          new Error(
            `git ${args.join(' ')} failed (${code}): ${Buffer.concat(err)
              .toString()
              .trim()}`,
          ),
        );
    });
    child.stdin.end(input);
  });
}

/**
 * The Azure DevOps state of an emulator: organizations (each connected to an emulated Entra
 * tenant), projects, Git repositories backed by bare repositories in a temporary folder, pull
 * requests, pipelines and their runs, and personal access tokens.
 */
export class AdoStore {
  readonly organizations = new Map<string, AdoOrganization>();
  private readonly startedAt: number;

  private constructor(
    readonly emulator: Emulator,
    /** The folder holding every bare repository (removed by `dispose`). */
    readonly reposDir: string,
  ) {
    this.startedAt = emulator.nowSeconds();
  }

  /** A store for the tenants' organizations; bare repositories go to a new temporary folder. */
  static create(
    emulator: Emulator,
    tenants: EmulatedTenantData[],
    reposDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-ado-')),
  ): AdoStore {
    const store = new AdoStore(emulator, reposDir);
    for (const t of tenants) {
      const tenant = emulator.tenants.get(t.id);
      if (!tenant) continue;
      for (const org of t.azureDevOps?.organizations ?? []) {
        store.addOrganization(tenant, org);
      }
    }
    return store;
  }

  nowSeconds(): number {
    return this.emulator.nowSeconds();
  }

  /** Adds an organization connected to a tenant (from a tenant file or the generator). */
  addOrganization(
    tenant: TenantStore,
    seed: AdoOrganizationSeed,
  ): AdoOrganization {
    const key = seed.name.toLowerCase();
    if (this.organizations.has(key)) {
      throw new Error(`Azure DevOps organization ${seed.name} exists twice`);
    }
    const org: AdoOrganization = {
      id: stableGuid('ado-org', seed.name.toLowerCase()),
      name: seed.name,
      tenant,
      members: [...seed.members],
      pats: [],
      projects: new Map(),
      runs: [],
      nextPipelineId: 1,
      nextRunId: 1,
      nextPullRequestId: 1,
    };
    this.organizations.set(key, org);
    for (const p of seed.personalAccessTokens) {
      const user = tenant.getUser(p.user);
      if (!user) {
        throw new Error(
          `Azure DevOps organization ${seed.name}: PAT owner ${p.user} is not a user of tenant ${tenant.displayName}`,
        );
      }
      org.pats.push({
        authorizationId: stableGuid(org.id, 'pat', p.tokenHash),
        tokenHash: p.tokenHash,
        userId: user.id,
        displayName: p.displayName,
        scopes: p.scopes,
        validTo: p.validTo,
      });
    }
    for (const p of seed.projects) this.addProject(org, p);
    return org;
  }

  addProject(org: AdoOrganization, seed: AdoProjectSeed): AdoProject {
    if (this.findProject(org, seed.name)) {
      throw new Error(`project ${seed.name} exists twice in ${org.name}`);
    }
    const project: AdoProject = {
      id: stableGuid(org.id, 'project', seed.name.toLowerCase()),
      name: seed.name,
      description: seed.description,
      visibility: seed.visibility,
      lastUpdateTime: new Date(this.startedAt * 1000).toISOString(),
      organization: org,
      repositories: new Map(),
      pipelines: new Map(),
    };
    org.projects.set(project.id, project);
    for (const r of seed.repositories) this.addRepository(project, r);
    for (const p of seed.pipelines) this.addSeedPipeline(project, p);
    return project;
  }

  /** Adds a repository with its seeded branches (computed in process, written to disk lazily). */
  addRepository(
    project: AdoProject,
    seed: AdoRepositorySeed,
    id = stableGuid(project.id, 'repo', seed.name.toLowerCase()),
  ): AdoRepository {
    if (this.findRepository(project.organization, seed.name, project)) {
      throw new Error(
        `TF400948: A Git repository with the name ${seed.name} already exists.`,
      );
    }
    const repo: AdoRepository = {
      id,
      name: seed.name,
      project,
      defaultBranch: seed.defaultBranch,
      branches: new Map(),
      pullRequests: [],
      dir: path.join(this.reposDir, project.organization.name, `${id}.git`),
      onDisk: false,
      pending: new Map(),
    };
    const time = this.startedAt - 86400;
    // The default branch first: the other branches start from its commit.
    const branchNames = Object.keys(seed.branches).sort(
      (a, b) =>
        Number(b === seed.defaultBranch) - Number(a === seed.defaultBranch),
    );
    let base: string | undefined;
    for (const b of branchNames) {
      const { treeId, snapshot } = buildSnapshot(
        Object.entries(seed.branches[b]).map(([p, text]) => [
          p,
          { content: Buffer.from(text) },
        ]),
        repo.pending,
      );
      const author = { ...SEED_AUTHOR, time };
      const message =
        b === seed.defaultBranch ? 'Initial commit' : `Work on ${b}`;
      const commitId = buildCommit(
        treeId,
        base && b !== seed.defaultBranch ? [base] : [],
        author,
        message,
        repo.pending,
      );
      if (b === seed.defaultBranch) base = commitId;
      repo.branches.set(b, { commitId, treeId, snapshot, author, message });
    }
    project.repositories.set(repo.id, repo);
    for (const pr of seed.pullRequests) {
      const user = pr.createdBy
        ? project.organization.tenant.getUser(pr.createdBy)
        : undefined;
      repo.pullRequests.push({
        pullRequestId: project.organization.nextPullRequestId++,
        title: pr.title,
        description: pr.description,
        status: pr.status,
        sourceRefName: `refs/heads/${pr.sourceBranch}`,
        targetRefName: `refs/heads/${pr.targetBranch}`,
        createdBy: user
          ? {
              id: user.id,
              displayName: user.displayName,
              uniqueName: user.userPrincipalName,
            }
          : undefined,
        creationDate: new Date((this.startedAt - 3600) * 1000).toISOString(),
        isDraft: pr.isDraft,
      });
    }
    return repo;
  }

  /**
   * Commits a change to a branch in process, as a push would: `files` maps paths to new text,
   * or to `null` to delete them. Creates the branch (from the default branch, or empty) when
   * it does not exist. Returns the new commit id.
   */
  commitFiles(
    repo: AdoRepository,
    branch: string,
    files: Record<string, string | null>,
    message = 'Update files',
  ): string {
    const base =
      repo.branches.get(branch) ??
      (repo.defaultBranch ? repo.branches.get(repo.defaultBranch) : undefined);
    const next = new Map(
      [...(base?.snapshot.files ?? [])].map(([p, f]) => [
        p,
        { content: f.content, mode: f.mode },
      ]),
    );
    for (const [p, text] of Object.entries(files)) {
      const clean = p.replace(/^\/+/, '');
      if (text === null) next.delete(clean);
      else next.set(clean, { content: Buffer.from(text), mode: '100644' });
    }
    const { treeId, snapshot } = buildSnapshot(next, repo.pending);
    const author = { ...SEED_AUTHOR, time: this.nowSeconds() };
    const commitId = buildCommit(
      treeId,
      base ? [base.commitId] : [],
      author,
      message,
      repo.pending,
    );
    repo.branches.set(branch, { commitId, treeId, snapshot, author, message });
    if (!repo.defaultBranch) repo.defaultBranch = branch;
    if (repo.onDisk) {
      writeObjects(repo.dir, repo.pending);
      writeRef(repo.dir, branch, commitId);
      setHead(repo.dir, repo.defaultBranch);
    }
    return commitId;
  }

  /** Removes a repository (the real service moves it to a recycle bin; here it is gone). */
  deleteRepository(repo: AdoRepository): void {
    repo.project.repositories.delete(repo.id);
    fs.rmSync(repo.dir, { recursive: true, force: true });
  }

  private addSeedPipeline(project: AdoProject, seed: AdoPipelineSeed): void {
    const repo = this.findRepository(
      project.organization,
      seed.repository,
      project,
    )!;
    const pipeline = this.addPipeline(project, {
      name: seed.name,
      folder: seed.folder,
      repositoryId: repo.id,
      path: seed.path,
    });
    seed.runs.forEach((r, i) => {
      const minutesAgo = r.minutesAgo ?? (seed.runs.length - i) * 60;
      const branch = r.branch ?? repo.defaultBranch ?? 'main';
      this.addRun(pipeline, {
        sourceBranch: `refs/heads/${branch}`,
        sourceVersion: repo.branches.get(branch)?.commitId,
        queueTime: this.startedAt - minutesAgo * 60,
        durationSeconds: 120,
        result: r.result,
      });
    });
  }

  addPipeline(
    project: AdoProject,
    p: { name: string; folder: string; repositoryId: string; path: string },
  ): AdoPipeline {
    const pipeline: AdoPipeline = {
      id: project.organization.nextPipelineId++,
      revision: 1,
      project,
      ...p,
    };
    project.pipelines.set(pipeline.id, pipeline);
    return pipeline;
  }

  addRun(
    pipeline: AdoPipeline,
    r: Omit<AdoRun, 'id' | 'pipeline' | 'buildNumber' | 'templateParameters'> &
      Partial<Pick<AdoRun, 'templateParameters'>>,
  ): AdoRun {
    const org = pipeline.project.organization;
    const date = new Date(r.queueTime * 1000);
    const sameDay = org.runs.filter(
      x =>
        x.pipeline === pipeline &&
        new Date(x.queueTime * 1000).toISOString().slice(0, 10) ===
          date.toISOString().slice(0, 10),
    ).length;
    const run: AdoRun = {
      id: org.nextRunId++,
      pipeline,
      buildNumber: `${date.toISOString().slice(0, 10).replace(/-/g, '')}.${
        sameDay + 1
      }`,
      templateParameters: {},
      ...r,
    };
    org.runs.push(run);
    return run;
  }

  /** A run's state at the emulator's current time. */
  runState(run: AdoRun): {
    state: 'inProgress' | 'completed';
    finishTime?: number;
  } {
    const finish = run.queueTime + run.durationSeconds;
    return this.nowSeconds() >= finish
      ? { state: 'completed', finishTime: finish }
      : { state: 'inProgress' };
  }

  findOrganization(name: string): AdoOrganization | undefined {
    return this.organizations.get(name.toLowerCase());
  }

  findProject(org: AdoOrganization, idOrName: string): AdoProject | undefined {
    const key = idOrName.toLowerCase();
    return (
      org.projects.get(key) ??
      [...org.projects.values()].find(p => p.name.toLowerCase() === key)
    );
  }

  /** A repository by id (anywhere in the organization) or by name (in the project). */
  findRepository(
    org: AdoOrganization,
    idOrName: string,
    project?: AdoProject,
  ): AdoRepository | undefined {
    const key = idOrName.toLowerCase();
    for (const p of project ? [project] : org.projects.values()) {
      const byId = p.repositories.get(key);
      if (byId) return byId;
    }
    if (!project) return undefined;
    return [...project.repositories.values()].find(
      r => r.name.toLowerCase() === key,
    );
  }

  /** Creates a personal access token for a user of the organization's tenant; returns its text once. */
  createPersonalAccessToken(
    orgName: string,
    user: string,
    options: { scopes?: PatScope[]; validTo?: Date; displayName?: string } = {},
  ): { token: string; authorizationId: string; validTo: string } {
    const org = this.findOrganization(orgName);
    if (!org) throw new Error(`No Azure DevOps organization ${orgName}`);
    const owner = org.tenant.getUser(user);
    if (!owner) {
      throw new Error(
        `${user} is not a user of tenant ${org.tenant.displayName}`,
      );
    }
    // The 52-character base32 shape of Azure DevOps PATs.
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    const token = [...randomBytes(52)].map(b => alphabet[b % 32]).join('');
    const validTo = (
      options.validTo ??
      new Date(this.emulator.clock.now().getTime() + 30 * 86400 * 1000)
    ).toISOString();
    const pat: AdoPat = {
      authorizationId: stableGuid(org.id, 'pat', sha256Hex(token)),
      tokenHash: sha256Hex(token),
      userId: owner.id,
      displayName: options.displayName ?? 'emulator',
      scopes: options.scopes ?? ['full'],
      validTo,
    };
    org.pats.push(pat);
    return { token, authorizationId: pat.authorizationId, validTo };
  }

  /**
   * Whether a principal of the organization's tenant was given access to it: named in the
   * seeded `members`, or a (transitive) member of an Entra group added with
   * `POST _apis/graph/groups` (whose Git access is then only what its ACLs give, see security.ts).
   */
  isMember(org: AdoOrganization, principal: AdoPrincipal): boolean {
    return (
      seededMember(org, principal) || isMemberThroughAddedGroup(org, principal)
    );
  }

  /** Writes the bare repository to disk (once) so Git can serve it. */
  ensureOnDisk(repo: AdoRepository): void {
    if (!repo.onDisk) {
      initBareRepository(repo.dir, repo.defaultBranch ?? 'main');
      repo.onDisk = true;
      for (const [b, s] of repo.branches) writeRef(repo.dir, b, s.commitId);
    }
    writeObjects(repo.dir, repo.pending);
  }

  /** Reads branches back from the bare repository after a push. */
  async reloadFromDisk(repo: AdoRepository): Promise<void> {
    const refs = (
      await runGit(repo.dir, [
        'for-each-ref',
        '--format=%(refname)%00%(objectname)',
        'refs/heads',
      ])
    )
      .toString()
      .split('\n')
      .filter(Boolean)
      .map(l => l.split('\0'))
      .map(([ref, id]) => [ref.replace(/^refs\/heads\//, ''), id] as const);
    const seen = new Set<string>();
    for (const [branch, commitId] of refs) {
      seen.add(branch);
      if (repo.branches.get(branch)?.commitId === commitId) continue;
      repo.branches.set(branch, await this.readBranch(repo, commitId));
    }
    for (const b of [...repo.branches.keys()]) {
      if (!seen.has(b)) repo.branches.delete(b);
    }
    if (!repo.defaultBranch || !repo.branches.has(repo.defaultBranch)) {
      const names = [...repo.branches.keys()].sort();
      repo.defaultBranch = names.includes('main') ? 'main' : names[0];
      if (repo.defaultBranch) setHead(repo.dir, repo.defaultBranch);
    }
  }

  private async readBranch(
    repo: AdoRepository,
    commitId: string,
  ): Promise<BranchState> {
    const entries = (
      await runGit(repo.dir, ['ls-tree', '-r', '-z', '--full-tree', commitId])
    )
      .toString()
      .split('\0')
      .filter(Boolean)
      .map(line => {
        const [meta, p] = [
          line.slice(0, line.indexOf('\t')),
          line.slice(line.indexOf('\t') + 1),
        ];
        const [mode, type, id] = meta.split(' ');
        return { mode, type, id, path: p };
      })
      .filter(e => e.type === 'blob');
    const contents = await readBlobs(
      repo.dir,
      entries.map(e => e.id),
    );
    const { treeId, snapshot } = buildSnapshot(
      entries.map(e => [
        e.path,
        { content: contents.get(e.id)!, mode: e.mode },
      ]),
      new Map(),
    );
    const [name, email, time, ...message] = (
      await runGit(repo.dir, [
        'log',
        '-1',
        '--format=%an%x00%ae%x00%at%x00%B',
        commitId,
      ])
    )
      .toString()
      .split('\0');
    return {
      commitId,
      treeId,
      snapshot,
      author: { name, email, time: Number(time) },
      message: message.join('\0').trim(),
    };
  }

  /** Removes every bare repository. */
  dispose(): void {
    fs.rmSync(this.reposDir, { recursive: true, force: true });
  }
}

async function readBlobs(
  dir: string,
  ids: string[],
): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  if (!ids.length) return out;
  const buf = await runGit(dir, ['cat-file', '--batch'], `${ids.join('\n')}\n`);
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    const [id, , size] = buf.subarray(at, nl).toString().split(' ');
    const n = Number(size);
    out.set(id, Buffer.from(buf.subarray(nl + 1, nl + 1 + n)));
    at = nl + 1 + n + 1;
  }
  return out;
}
