import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { defaultTenantFile } from '../paths';
import { RunningEmulator, startEmulator } from '../server';
import { loadTenantFile } from '../tenant/loadTenants';
import { GIT_NAMESPACE, GitPermission } from './security';

const run = promisify(execFile);
const V = 'api-version=7.1';

/**
 * Enforcement of the Git Repositories namespace for principals who are in the organization only
 * through an Entra group added with `POST _apis/graph/groups`, over real HTTP and real `git`.
 * Alex Wilber is a seeded member (through Platform); Lidia Holloway is in Web, a child of
 * Engineering, and in no seeded group.
 */
describe('Azure DevOps emulator: Git repository permissions', () => {
  let e: RunningEmulator;
  let admin: string;
  let lidia: string;
  let lidiaCodeOnly: string;
  let work: string;
  let projectId: string;
  const repoIds: Record<string, string> = {};
  const descriptors: Record<string, string> = {};

  const call = (
    token: string,
    p: string,
    init: { method?: string; body?: unknown } = {},
  ) =>
    fetch(`${e.adoUrl}/contoso${p}`, {
      method: init.method ?? 'GET',
      headers: {
        Authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const git = (args: string[], cwd = work) =>
    run(
      'git',
      [
        '-c',
        'user.name=Lidia',
        '-c',
        'user.email=lidia.holloway@contoso.example',
        ...args,
      ],
      {
        cwd,
        env: {
          PATH: process.env.PATH,
          HOME: work,
          GIT_TERMINAL_PROMPT: '0',
          GIT_CONFIG_NOSYSTEM: '1',
        },
      },
    );
  const cloneUrl = (token: string, repo: string) =>
    `http://pat:${token}@${e.adoHost}/contoso/Platform/_git/${repo}`;
  const clone = (token: string, repo: string, dir: string) =>
    git(['clone', cloneUrl(token, repo), dir]);

  const tenant = () => [...e.emulator.tenants.values()][0];
  const groupId = (name: string) =>
    tenant()
      .listGroups()
      .find(g => g.displayName === name)!.id;

  /** Adds an Entra group to the organization and returns its identity descriptor. */
  const addGroup = async (name: string) => {
    const res = await call(
      admin,
      '/_apis/graph/groups?api-version=7.1-preview.1',
      {
        method: 'POST',
        body: { originId: groupId(name) },
      },
    );
    expect(res.status).toBe(201);
    const { descriptor } = await res.json();
    const ids = await call(
      admin,
      `/_apis/identities?subjectDescriptors=${descriptor}&${V}`,
    ).then(r => r.json());
    descriptors[name] = ids.value[0].descriptor;
  };
  const setAce = async (
    group: string,
    token: string,
    bits: { allow?: number; deny?: number },
  ) => {
    const res = await call(
      admin,
      `/_apis/accesscontrolentries/${GIT_NAMESPACE}?${V}`,
      {
        method: 'POST',
        body: {
          token,
          merge: true,
          accessControlEntries: [
            { descriptor: descriptors[group], allow: 0, deny: 0, ...bits },
          ],
        },
      },
    );
    expect(res.status).toBe(200);
  };
  const repoNames = async (token: string, p = '/Platform') => {
    const res = await call(token, `${p}/_apis/git/repositories?${V}`);
    expect(res.status).toBe(200);
    return ((await res.json()).value as Array<{ name: string }>)
      .map(r => r.name)
      .sort();
  };
  const search = async (token: string, searchText: string) => {
    const res = await call(token, `/_apis/search/codesearchresults?${V}`, {
      method: 'POST',
      body: { searchText, $top: 100 },
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    return [
      ...new Set(
        (body.results as Array<{ repository: { name: string } }>).map(
          r => r.repository.name,
        ),
      ),
    ].sort();
  };

  beforeAll(async () => {
    e = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
    admin = e.ado.createPersonalAccessToken(
      'contoso',
      'alex.wilber@contoso.example',
    ).token;
    lidia = e.ado.createPersonalAccessToken(
      'contoso',
      'lidia.holloway@contoso.example',
    ).token;
    lidiaCodeOnly = e.ado.createPersonalAccessToken(
      'contoso',
      'lidia.holloway@contoso.example',
      { scopes: ['vso.code'] },
    ).token;
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ado-perm-'));
    const repos = await call(admin, `/Platform/_apis/git/repositories?${V}`)
      .then(r => r.json())
      .then(
        b =>
          b.value as Array<{
            id: string;
            name: string;
            project: { id: string };
          }>,
      );
    for (const r of repos) repoIds[r.name] = r.id;
    projectId = repos[0].project.id;
  });
  afterAll(async () => {
    await e.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const repoToken = (name: string) => `repoV2/${projectId}/${repoIds[name]}`;

  it('lets a member of an added group in, but shows and serves no repository before a grant', async () => {
    const before = await call(lidia, `/Platform/_apis/git/repositories?${V}`);
    expect(before.status).toBe(401);
    expect((await before.json()).message).toMatch(/^TF400813:/);

    await addGroup('Web');
    expect(await repoNames(lidia)).toEqual([]);
    expect(await repoNames(lidia, '')).toEqual([]);
    expect(await search(lidia, 'gatehouse')).toEqual([]);
    expect(await search(admin, 'gatehouse')).toContain('gatehouse-portal');

    const get = await call(
      lidia,
      `/Platform/_apis/git/repositories/gatehouse-portal?${V}`,
    );
    expect(get.status).toBe(404);
    const err = await get.json();
    expect(err.typeKey).toBe('GitRepositoryNotFoundException');
    expect(err.message).toMatch(/^TF401019:/);
    for (const sub of [
      'items?path=/README.md',
      'commits',
      'refs',
      'pullrequests',
    ]) {
      const res = await call(
        lidia,
        `/Platform/_apis/git/repositories/${
          repoIds['gatehouse-portal']
        }/${sub}${sub.includes('?') ? '&' : '?'}${V}`,
      );
      expect(res.status).toBe(404);
    }
    await expect(
      clone(lidia, 'gatehouse-portal', path.join(work, 'no-read')),
    ).rejects.toThrow(/not found|404/i);
  });

  it('serves a repository after GenericRead, and takes a push only after GenericContribute', async () => {
    await setAce('Web', repoToken('gatehouse-portal'), {
      allow: GitPermission.GenericRead,
    });
    expect(await repoNames(lidia)).toEqual(['gatehouse-portal']);
    expect(await search(lidia, 'gatehouse')).toEqual(['gatehouse-portal']);
    const item = await call(
      lidia,
      `/Platform/_apis/git/repositories/gatehouse-portal/items?path=/README.md&${V}`,
    );
    expect(item.status).toBe(200);
    expect(await item.text()).toContain('Gatehouse portal');

    const dir = path.join(work, 'portal');
    await clone(lidia, 'gatehouse-portal', dir);
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain(
      'Gatehouse portal',
    );
    await git(['checkout', '-b', 'web/readme'], dir);
    fs.appendFileSync(path.join(dir, 'README.md'), 'A line from Web.\n');
    await git(['commit', '-am', 'A line from Web'], dir);
    await expect(git(['push', 'origin', 'web/readme'], dir)).rejects.toThrow(
      /403/,
    );
    // The refusal is the service's text.
    const refused = await fetch(
      `${cloneUrl(lidia, 'gatehouse-portal').replace(
        /\/\/pat:[^@]+@/,
        '//',
      )}/info/refs?service=git-receive-pack`,
      {
        headers: {
          Authorization: `Basic ${Buffer.from(`x:${lidia}`).toString(
            'base64',
          )}`,
        },
      },
    );
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(
      /^TF401027: You need the Git 'GenericContribute' permission/,
    );

    await setAce('Web', repoToken('gatehouse-portal'), {
      allow: GitPermission.GenericContribute,
    });
    await git(['push', 'origin', 'web/readme'], dir);
    const refs = await call(
      lidia,
      `/Platform/_apis/git/repositories/gatehouse-portal/refs?filter=heads/web&${V}`,
    ).then(r => r.json());
    expect(refs.value.map((r: { name: string }) => r.name)).toEqual([
      'refs/heads/web/readme',
    ]);
    // PAT scopes still apply on top of the permissions.
    await expect(
      git(
        [
          'push',
          cloneUrl(lidiaCodeOnly, 'gatehouse-portal'),
          'web/readme:web/other',
        ],
        dir,
      ),
    ).rejects.toThrow(/403/);
  });

  it('lets a deny on a repository override an allow inherited from the project', async () => {
    await setAce('Web', `repoV2/${projectId}`, {
      allow: GitPermission.GenericRead,
    });
    expect(await repoNames(lidia)).toEqual([
      'gatehouse-portal',
      'platform-scripts',
    ]);
    await setAce('Web', repoToken('platform-scripts'), {
      deny: GitPermission.GenericRead,
    });
    expect(await repoNames(lidia)).toEqual(['gatehouse-portal']);
    const denied = await call(
      lidia,
      `/Platform/_apis/git/repositories/platform-scripts?${V}`,
    );
    expect(denied.status).toBe(404);
    await expect(
      clone(lidia, 'platform-scripts', path.join(work, 'denied')),
    ).rejects.toThrow(/not found|404/i);
  });

  it('gives a member of a nested group the access of the group added', async () => {
    const payments = await call(admin, `/Payments/_apis/git/repositories?${V}`)
      .then(r => r.json())
      .then(
        b =>
          b.value[0] as { id: string; name: string; project: { id: string } },
      );
    expect(await repoNames(lidia, '/Payments')).toEqual([]);
    // Lidia is in Web, which is in Engineering.
    await addGroup('Engineering');
    await setAce(
      'Engineering',
      `repoV2/${payments.project.id}/${payments.id}`,
      {
        allow: GitPermission.GenericRead,
      },
    );
    expect(await repoNames(lidia, '/Payments')).toEqual([payments.name]);
    const dir = path.join(work, 'payments');
    await git([
      'clone',
      `http://pat:${lidia}@${e.adoHost}/contoso/Payments/_git/${payments.name}`,
      dir,
    ]);
    await run('git', ['-C', dir, 'rev-parse', 'HEAD']);
    // A user outside Engineering is still not in the organization.
    const megan = e.ado.createPersonalAccessToken(
      'contoso',
      'megan.bowen@contoso.example',
    ).token;
    expect(
      (await call(megan, `/Payments/_apis/git/repositories?${V}`)).status,
    ).toBe(401);
  });

  it('needs CreateRepository to create and DeleteRepository to delete, and project membership for pipelines', async () => {
    const create = () =>
      call(lidia, `/Platform/_apis/git/repositories?${V}`, {
        method: 'POST',
        body: { name: 'web-sandbox' },
      });
    const refused = await create();
    expect(refused.status).toBe(403);
    expect((await refused.json()).message).toMatch(
      /^TF401027: You need the Git 'CreateRepository' permission/,
    );
    await setAce('Web', `repoV2/${projectId}`, {
      allow: GitPermission.CreateRepository,
    });
    const created = await create();
    expect(created.status).toBe(201);
    const { id } = await created.json();
    const del = () =>
      call(lidia, `/Platform/_apis/git/repositories/${id}?${V}`, {
        method: 'DELETE',
      });
    const notDeleted = await del();
    expect(notDeleted.status).toBe(403);
    expect((await notDeleted.json()).message).toMatch(/'DeleteRepository'/);
    await setAce('Web', `repoV2/${projectId}/${id}`, {
      allow: GitPermission.DeleteRepository,
    });
    expect((await del()).status).toBe(204);

    for (const p of [
      '/Platform/_apis/pipelines',
      '/Platform/_apis/build/builds',
    ]) {
      const res = await call(lidia, `${p}?${V}`);
      expect(res.status).toBe(401);
      expect((await res.json()).message).toMatch(/^TF400813:/);
      expect((await call(admin, `${p}?${V}`)).status).toBe(200);
    }
  });

  describe('pull requests', () => {
    const prs = `/Platform/_apis/git/repositories/gatehouse-portal/pullrequests`;
    const create = (token: string, body: Record<string, unknown>) =>
      call(token, `${prs}?${V}`, { method: 'POST', body });

    it('creates one and reads it back, with the service shape', async () => {
      const res = await create(admin, {
        sourceRefName: 'refs/heads/web/readme',
        targetRefName: 'refs/heads/main',
        title: 'A line from Web',
        description: 'Adds a line.',
        isDraft: true,
      });
      expect(res.status).toBe(201);
      const pr = await res.json();
      expect(pr).toMatchObject({
        status: 'active',
        title: 'A line from Web',
        description: 'Adds a line.',
        isDraft: true,
        sourceRefName: 'refs/heads/web/readme',
        targetRefName: 'refs/heads/main',
        createdBy: { uniqueName: 'alex.wilber@contoso.example' },
        repository: {
          id: repoIds['gatehouse-portal'],
          name: 'gatehouse-portal',
        },
        reviewers: [],
      });
      expect(pr.codeReviewId).toBe(pr.pullRequestId);
      expect(pr.lastMergeSourceCommit.commitId).toMatch(/^[0-9a-f]{40}$/);
      expect(pr.url).toMatch(
        new RegExp(
          `/_apis/git/repositories/${repoIds['gatehouse-portal']}/pullRequests/${pr.pullRequestId}$`,
        ),
      );
      const got = await call(admin, `${prs}/${pr.pullRequestId}?${V}`);
      expect(got.status).toBe(200);
      expect(await got.json()).toEqual(pr);
      const active = await call(
        admin,
        `${prs}?searchCriteria.sourceRefName=refs/heads/web/readme&${V}`,
      ).then(r => r.json());
      expect(
        active.value.map((x: { pullRequestId: number }) => x.pullRequestId),
      ).toEqual([pr.pullRequestId]);
      const missing = await call(admin, `${prs}/999999?${V}`);
      expect(missing.status).toBe(404);
      expect((await missing.json()).message).toMatch(/^TF401180:/);
    });

    it('refuses a second active pull request for the same branches (TF401179)', async () => {
      const res = await create(admin, {
        sourceRefName: 'refs/heads/feature/ado-discovery',
        targetRefName: 'refs/heads/main',
        title: 'Again',
      });
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({
        typeKey: 'GitPullRequestExistsException',
        message:
          'TF401179: An active pull request for the source and target branch already exists.',
      });
    });

    it('refuses equal or missing branches and a missing title', async () => {
      const same = await create(admin, {
        sourceRefName: 'refs/heads/main',
        targetRefName: 'refs/heads/main',
        title: 'Same',
      });
      expect(same.status).toBe(400);
      const missing = await create(admin, {
        sourceRefName: 'refs/heads/no-such-branch',
        targetRefName: 'refs/heads/main',
        title: 'Missing',
      });
      expect(missing.status).toBe(400);
      expect((await missing.json()).message).toMatch(/^TF401398:/);
      const untitled = await create(admin, {
        sourceRefName: 'refs/heads/feature/ado-discovery',
        targetRefName: 'refs/heads/web/readme',
      });
      expect(untitled.status).toBe(400);
    });

    it('needs PullRequestContribute, read access and the code_write scope', async () => {
      const body = {
        sourceRefName: 'refs/heads/web/readme',
        targetRefName: 'refs/heads/feature/ado-discovery',
        title: 'From Web',
      };
      const noPermission = await create(lidia, body);
      expect(noPermission.status).toBe(403);
      expect((await noPermission.json()).message).toMatch(
        /^TF401027: You need the Git 'PullRequestContribute' permission/,
      );
      const noScope = await create(lidiaCodeOnly, body);
      expect(noScope.status).toBe(401);
      const unreadable = await call(
        lidia,
        `/Platform/_apis/git/repositories/platform-scripts/pullrequests?${V}`,
        { method: 'POST', body },
      );
      expect(unreadable.status).toBe(404);

      await setAce('Web', repoToken('gatehouse-portal'), {
        allow: GitPermission.PullRequestContribute,
      });
      const ok = await create(lidia, body);
      expect(ok.status).toBe(201);
      expect((await ok.json()).createdBy.uniqueName).toBe(
        'lidia.holloway@contoso.example',
      );
    });
  });
});
