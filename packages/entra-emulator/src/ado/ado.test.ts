import { UrlReaders } from '@backstage/backend-defaults/urlReader';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import {
  DefaultAzureDevOpsCredentialsProvider,
  getAzureDownloadUrl,
  getAzureFileFetchUrl,
  ScmIntegrations,
} from '@backstage/integration';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AZURE_DEVOPS_RESOURCE } from '../Emulator';
import { defaultTenantFile } from '../paths';
import { RunningEmulator, startEmulator } from '../server';
import { loadTenantFile } from '../tenant/loadTenants';
import { generateAzureDevOps } from './generate';
import { azureDevOpsDispatcher } from './https';

const TENANT = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
const PORTAL_APP = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';
const V = 'api-version=7.1';
const run = promisify(execFile);

describe('Azure DevOps emulator', () => {
  let e: RunningEmulator;
  let now = Date.now();
  let pat: string;
  let work: string;

  const basic = (token: string, user = 'anyone') =>
    `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
  const api = (
    p: string,
    init: RequestInit & { auth?: string | null } = {},
  ) => {
    const headers = new Headers(init.headers);
    const auth = init.auth === undefined ? basic(pat) : init.auth;
    if (auth) headers.set('authorization', auth);
    if (init.body) headers.set('content-type', 'application/json');
    return fetch(`${e.adoUrl}${p}`, { ...init, headers });
  };
  const createPat = async (body: Record<string, unknown>) => {
    const res = await fetch(`${e.url}/_emulator/ado/pats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ organization: 'contoso', ...body }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { token: string }).token;
  };
  const git = (args: string[], cwd = work) =>
    run(
      'git',
      [
        '-c',
        'user.name=Test',
        '-c',
        'user.email=test@contoso.example',
        '-c',
        'init.defaultBranch=main',
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
  const cloneUrl = (token: string, project: string, repo: string) =>
    `http://pat:${token}@${e.adoHost}/contoso/${project}/_git/${repo}`;

  beforeAll(async () => {
    e = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
      clock: { now: () => new Date(now) },
    });
    pat = await createPat({ user: 'alex.wilber@contoso.example' });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ado-test-'));
  });
  afterAll(async () => {
    await e.close();
    fs.rmSync(work, { recursive: true, force: true });
  });
  afterEach(() => {
    e.emulator.faults.configure({ adoRate429: null, adoRoutes: null });
  });

  describe('the tenant file', () => {
    it('lists the projects and repositories of the organization', async () => {
      const projects = await (await api(`/contoso/_apis/projects?${V}`)).json();
      expect(projects.value.map((p: { name: string }) => p.name)).toEqual([
        'Payments',
        'Platform',
      ]);
      const res = await api(`/contoso/Platform/_apis/git/repositories?${V}`);
      const repos = (await res.json()).value;
      expect(repos.map((r: { name: string }) => r.name).sort()).toEqual([
        'gatehouse-portal',
        'platform-scripts',
      ]);
      const portal = repos.find(
        (r: { name: string }) => r.name === 'gatehouse-portal',
      );
      expect(portal.defaultBranch).toBe('refs/heads/main');
      expect(portal.remoteUrl).toBe(
        `http://contoso@${e.adoHost}/contoso/Platform/_git/gatehouse-portal`,
      );
    });

    it('serves the same API under the emulator URL at /ado', async () => {
      const res = await fetch(`${e.url}/ado/contoso/_apis/projects/Payments`, {
        headers: { authorization: basic(pat) },
      });
      expect(res.status).toBe(200);
      expect((await res.json()).name).toBe('Payments');
    });

    it('answers an unknown project with TF200016 and 404', async () => {
      const res = await api(`/contoso/_apis/projects/Nope?${V}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({
        $id: '1',
        typeKey: 'ProjectDoesNotExistWithNameException',
        message: expect.stringMatching(/^TF200016: .*Nope/),
      });
    });
  });

  describe('api-version', () => {
    it("refuses a POST without api-version in the service's shape", async () => {
      const res = await api('/contoso/Platform/_apis/git/repositories', {
        method: 'POST',
        body: JSON.stringify({ name: 'x' }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        $id: '1',
        innerException: null,
        message: expect.stringMatching(
          /^No api-version was supplied for the "POST" request/,
        ),
        typeName: expect.stringMatching(/VssVersionNotSpecifiedException/),
        typeKey: 'VssVersionNotSpecifiedException',
        errorCode: 0,
        eventId: 3000,
      });
    });

    it('refuses a version newer than the service serves', async () => {
      const res = await api('/contoso/_apis/projects?api-version=9.0');
      expect(res.status).toBe(400);
      expect((await res.json()).typeKey).toBe('VssVersionOutOfRangeException');
    });

    it('takes the version from the Accept header too', async () => {
      const res = await api('/contoso/Platform/_apis/git/repositories', {
        method: 'POST',
        headers: { accept: 'application/json; api-version=7.1' },
        body: JSON.stringify({ name: 'from-accept-header' }),
      });
      expect(res.status).toBe(201);
    });
  });

  describe('credentials', () => {
    it('answers an anonymous call with the sign-in page (203), or 401 when redirects are suppressed', async () => {
      const page = await api(`/contoso/_apis/projects?${V}`, { auth: null });
      expect(page.status).toBe(203);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      const suppressed = await api(`/contoso/_apis/projects?${V}`, {
        auth: null,
        headers: { 'X-TFS-FedAuthRedirect': 'Suppress' },
      });
      expect(suppressed.status).toBe(401);
      expect(suppressed.headers.get('www-authenticate')).toMatch(/Basic/);
    });

    it('refuses an unknown PAT with 401 TF400813', async () => {
      const res = await api(`/contoso/_apis/projects?${V}`, {
        auth: basic('not-a-real-pat'),
      });
      expect(res.status).toBe(401);
      expect((await res.json()).message).toMatch(/^TF400813: /);
    });

    it('refuses an expired PAT', async () => {
      const expired = await createPat({
        user: 'alex.wilber@contoso.example',
        validTo: new Date(now - 1000).toISOString(),
      });
      const res = await api(`/contoso/_apis/projects?${V}`, {
        auth: basic(expired),
      });
      expect(res.status).toBe(401);
    });

    it('refuses a PAT of a user who is not a member of the organization', async () => {
      const outsider = await createPat({
        user: 'lynne.robbins@contoso.example',
      });
      const res = await api(`/contoso/_apis/projects?${V}`, {
        auth: basic(outsider),
      });
      expect(res.status).toBe(401);
      expect((await res.json()).message).toBe(
        "TF400813: The user 'lynne.robbins@contoso.example' is not authorized to access this resource.",
      );
    });

    it('refuses a PAT without the scope a route needs', async () => {
      const buildOnly = await createPat({
        user: 'alex.wilber@contoso.example',
        scopes: ['vso.build'],
      });
      const repos = await api(`/contoso/_apis/git/repositories?${V}`, {
        auth: basic(buildOnly),
      });
      expect(repos.status).toBe(401);
      const builds = await api(`/contoso/Platform/_apis/build/builds?${V}`, {
        auth: basic(buildOnly),
      });
      expect(builds.status).toBe(200);
    });

    it('accepts an app token for Azure DevOps (client credentials) and refuses a Graph token', async () => {
      const { secretText } = e.emulator.addClientSecret(PORTAL_APP);
      const token = async (scope: string) => {
        const res = await fetch(`${e.url}/${TENANT}/oauth2/v2.0/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: PORTAL_APP,
            client_secret: secretText,
            scope,
          }),
        });
        return ((await res.json()) as { access_token: string }).access_token;
      };
      const ado = await token(`${AZURE_DEVOPS_RESOURCE}/.default`);
      const ok = await api(`/contoso/_apis/git/repositories?${V}`, {
        auth: `Bearer ${ado}`,
      });
      expect(ok.status).toBe(200);
      const graph = await token('https://graph.microsoft.com/.default');
      const refused = await api(`/contoso/_apis/git/repositories?${V}`, {
        auth: `Bearer ${graph}`,
      });
      expect(refused.status).toBe(401);
      expect((await refused.json()).message).toMatch(/^TF400813/);
    });

    it('accepts a managed identity token for Azure DevOps', async () => {
      const mi = await fetch(
        `${e.url}/msi/token?api-version=2019-08-01&resource=${AZURE_DEVOPS_RESOURCE}`,
        { headers: { 'x-identity-header': e.emulator.identityHeader } },
      );
      const { access_token: token } = (await mi.json()) as {
        access_token: string;
      };
      const res = await api(`/contoso/Payments/_apis/git/repositories?${V}`, {
        auth: `Bearer ${token}`,
      });
      expect(res.status).toBe(200);
      expect((await res.json()).count).toBe(2);
    });
  });

  describe('items, through @backstage/integration', () => {
    const repoUrl = (query: string) =>
      `${e.adoUrl}/contoso/Platform/_git/gatehouse-portal?${query}`;

    it('reads a file with the URL and credentials Backstage builds for a host of localhost:port', async () => {
      const integrations = ScmIntegrations.fromConfig(
        new ConfigReader({
          integrations: {
            azure: [
              { host: e.adoHost, credentials: [{ personalAccessToken: pat }] },
            ],
          },
        }),
      );
      expect(integrations.azure.byUrl(repoUrl('path=/x'))?.config.host).toBe(
        e.adoHost,
      );
      const provider =
        DefaultAzureDevOpsCredentialsProvider.fromIntegrations(integrations);
      const url = getAzureFileFetchUrl(repoUrl('path=/catalog-info.yaml'));
      const credentials = await provider.getCredentials({ url });
      const res = await fetch(url, { headers: credentials?.headers });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('name: gatehouse-portal');

      const branchUrl = getAzureFileFetchUrl(
        repoUrl('path=/catalog-info.yaml&version=GBfeature/ado-discovery'),
      );
      const onBranch = await fetch(branchUrl, {
        headers: credentials?.headers,
      });
      expect(await onBranch.text()).toContain('lifecycle: experimental');

      const zip = await fetch(getAzureDownloadUrl(repoUrl('')), {
        headers: { ...credentials?.headers, accept: 'application/zip' },
      });
      expect(zip.status).toBe(200);
      expect(
        Buffer.from(await zip.arrayBuffer())
          .subarray(0, 2)
          .toString(),
      ).toBe('PK');
    });

    it("works for Backstage's own Azure URL reader: a file, a tree and a missing file", async () => {
      const reader = UrlReaders.default({
        config: new ConfigReader({
          integrations: {
            azure: [
              { host: e.adoHost, credentials: [{ personalAccessToken: pat }] },
            ],
          },
        }),
        logger: mockServices.logger.mock(),
      });
      const file = await reader.readUrl(repoUrl('path=/README.md'));
      expect((await file.buffer()).toString()).toContain('# Gatehouse portal');

      const tree = await reader.readTree(
        `${e.adoUrl}/contoso/Payments/_git/ledger?path=/docs`,
      );
      const files = await tree.files();
      expect(files.map(f => f.path)).toEqual(['architecture.md']);
      expect(tree.etag).toMatch(/^[0-9a-f]{40}$/);

      await expect(
        reader.readUrl(
          `${e.adoUrl}/contoso/Platform/_git/platform-scripts?path=/catalog-info.yaml`,
        ),
      ).rejects.toMatchObject({ name: 'NotFoundError' });
    });

    it('answers a missing file with TF401174 and 404', async () => {
      const res = await api(
        `/contoso/Platform/_apis/git/repositories/platform-scripts/items?path=/catalog-info.yaml&${V}`,
      );
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({
        typeKey: 'GitItemNotFoundException',
        message: expect.stringMatching(
          /^TF401174: The item '\/catalog-info.yaml' could not be found in the repository 'platform-scripts'/,
        ),
      });
    });

    it('gives metadata and content as JSON, and lists folders', async () => {
      const json = await (
        await api(
          `/contoso/Payments/_apis/git/repositories/ledger/items?path=/catalog-info.yaml&includeContent=true&versionDescriptor.version=main&versionDescriptor.versionType=branch&${V}`,
        )
      ).json();
      expect(json).toMatchObject({
        gitObjectType: 'blob',
        path: '/catalog-info.yaml',
        content: expect.stringContaining('name: ledger'),
      });
      const tree = await (
        await api(
          `/contoso/Payments/_apis/git/repositories/ledger/items?path=/&recursionLevel=full&${V}`,
        )
      ).json();
      expect(tree.value.map((i: { path: string }) => i.path)).toEqual([
        '/',
        '/catalog-info.yaml',
        '/docs',
        '/docs/architecture.md',
      ]);
    });
  });

  describe('pull requests, repositories, pipelines and builds', () => {
    it('filters pull requests by status (active by default)', async () => {
      const base = `/contoso/Platform/_apis/git/repositories/gatehouse-portal/pullrequests?${V}`;
      const active = await (await api(base)).json();
      expect(active.value.map((p: { title: string }) => p.title)).toEqual([
        'Discover Azure DevOps repositories',
      ]);
      const all = await (await api(`${base}&searchCriteria.status=all`)).json();
      expect(all.count).toBe(2);
    });

    it('creates a repository once (TF400948 the second time)', async () => {
      const create = () =>
        api(`/contoso/Payments/_apis/git/repositories?${V}`, {
          method: 'POST',
          body: JSON.stringify({ name: 'refunds' }),
        });
      const first = await create();
      expect(first.status).toBe(201);
      const repo = await first.json();
      expect(repo.defaultBranch).toBeUndefined();
      const again = await create();
      expect(again.status).toBe(409);
      expect((await again.json()).message).toMatch(/^TF400948/);
    });

    it('deletes a repository by id; it is gone from the list and from Git', async () => {
      const created = await (
        await api(`/contoso/Payments/_apis/git/repositories?${V}`, {
          method: 'POST',
          body: JSON.stringify({ name: 'short-lived' }),
        })
      ).json();
      const del = await api(
        `/contoso/Payments/_apis/git/repositories/${created.id}?${V}`,
        { method: 'DELETE' },
      );
      expect(del.status).toBe(204);
      const names = (
        await (
          await api(`/contoso/Payments/_apis/git/repositories?${V}`)
        ).json()
      ).value.map((r: { name: string }) => r.name);
      expect(names).not.toContain('short-lived');
      const get = await api(
        `/contoso/Payments/_apis/git/repositories/short-lived?${V}`,
      );
      expect(get.status).toBe(404);
      expect((await get.json()).message).toMatch(/^TF401019: /);
    });

    it('creates and runs a pipeline; the run completes on the emulator clock', async () => {
      const repos = await (
        await api(`/contoso/Payments/_apis/git/repositories?${V}`)
      ).json();
      const api1 = repos.value.find(
        (r: { name: string }) => r.name === 'payments-api',
      );
      const missing = await api(`/contoso/Payments/_apis/pipelines?${V}`, {
        method: 'POST',
        body: JSON.stringify({
          name: 'nightly',
          configuration: {
            type: 'yaml',
            path: '/nightly.yml',
            repository: { id: api1.id, type: 'azureReposGit' },
          },
        }),
      });
      expect(missing.status).toBe(400);
      const created = await api(`/contoso/Payments/_apis/pipelines?${V}`, {
        method: 'POST',
        body: JSON.stringify({
          name: 'payments-api release',
          folder: '\\release',
          configuration: {
            type: 'yaml',
            path: '/azure-pipelines.yml',
            repository: { id: api1.id, type: 'azureReposGit' },
          },
        }),
      });
      expect(created.status).toBe(200);
      const pipeline = await created.json();
      const dry = await (
        await api(
          `/contoso/Payments/_apis/pipelines/${pipeline.id}/runs?${V}`,
          {
            method: 'POST',
            body: JSON.stringify({ previewRun: true }),
          },
        )
      ).json();
      expect(dry.finalYaml).toContain('make test');
      const started = await (
        await api(
          `/contoso/Payments/_apis/pipelines/${pipeline.id}/runs?${V}`,
          {
            method: 'POST',
            body: JSON.stringify({}),
          },
        )
      ).json();
      expect(started.state).toBe('inProgress');
      const builds = async () =>
        (
          await (
            await api(
              `/contoso/Payments/_apis/build/builds?definitions=${pipeline.id}&${V}`,
            )
          ).json()
        ).value;
      expect((await builds()).map((b: { status: string }) => b.status)).toEqual(
        ['inProgress'],
      );
      now += 60_000;
      expect(await builds()).toEqual([
        expect.objectContaining({
          id: started.id,
          status: 'completed',
          result: 'succeeded',
          requestedFor: expect.objectContaining({
            uniqueName: 'alex.wilber@contoso.example',
          }),
        }),
      ]);
      const seeded = await (
        await api(
          `/contoso/Platform/_apis/build/builds?resultFilter=failed&${V}`,
        )
      ).json();
      expect(
        seeded.value.map((b: { sourceBranch: string }) => b.sourceBranch),
      ).toEqual(['refs/heads/feature/ado-discovery']);
    });
  });

  describe('Git over smart HTTP', () => {
    it('clones with a PAT, pushes, and the REST API shows the push', async () => {
      const dir = path.join(work, 'portal');
      await git(['clone', cloneUrl(pat, 'Platform', 'gatehouse-portal'), dir]);
      expect(
        fs.readFileSync(path.join(dir, 'catalog-info.yaml'), 'utf8'),
      ).toContain('name: gatehouse-portal');
      fs.writeFileSync(
        path.join(dir, 'NEW.md'),
        'pushed through the emulator\n',
      );
      await git(['add', 'NEW.md'], dir);
      await git(['commit', '-m', 'Add NEW.md'], dir);
      await git(['push', 'origin', 'main'], dir);

      const item = await api(
        `/contoso/Platform/_apis/git/repositories/gatehouse-portal/items?path=/NEW.md&${V}`,
      );
      expect(await item.text()).toBe('pushed through the emulator\n');
      const commits = await (
        await api(
          `/contoso/Platform/_apis/git/repositories/gatehouse-portal/commits?searchCriteria.itemVersion.version=main&${V}`,
        )
      ).json();
      expect(commits.value.map((c: { comment: string }) => c.comment)).toEqual([
        'Add NEW.md',
        'Initial commit',
      ]);
    });

    it('pushes the first branch of a new repository, which becomes its default branch', async () => {
      const created = await api(
        `/contoso/Platform/_apis/git/repositories?${V}`,
        {
          method: 'POST',
          body: JSON.stringify({ name: 'new-service' }),
        },
      );
      expect(created.status).toBe(201);
      const dir = path.join(work, 'new-service');
      fs.mkdirSync(dir);
      await git(['init'], dir);
      fs.writeFileSync(
        path.join(dir, 'catalog-info.yaml'),
        'kind: Component\n',
      );
      await git(['add', '.'], dir);
      await git(['commit', '-m', 'First'], dir);
      await git(
        ['push', cloneUrl(pat, 'Platform', 'new-service'), 'main'],
        dir,
      );
      const repo = await (
        await api(`/contoso/Platform/_apis/git/repositories/new-service?${V}`)
      ).json();
      expect(repo.defaultBranch).toBe('refs/heads/main');
    });

    it('takes a push larger than git sends in one buffer (a chunked request body)', async () => {
      const dir = path.join(work, 'big');
      await git(['clone', cloneUrl(pat, 'Payments', 'payments-api'), dir]);
      // Random bytes do not compress: the pack is over git's 1 MiB http.postBuffer.
      const blob = randomBytes(3 * 1024 * 1024);
      fs.writeFileSync(path.join(dir, 'big.bin'), blob);
      await git(['add', 'big.bin'], dir);
      await git(['commit', '-m', 'Add a big file'], dir);
      await git(['push', 'origin', 'main'], dir);
      const res = await api(
        `/contoso/Payments/_apis/git/repositories/payments-api/items?path=/big.bin&${V}`,
      );
      expect(Buffer.from(await res.arrayBuffer()).equals(blob)).toBe(true);
    });

    it('serves changes committed in process to REST and to Git alike', async () => {
      const org = e.ado.findOrganization('contoso')!;
      const project = e.ado.findProject(org, 'Platform')!;
      const scripts = e.ado.findRepository(org, 'platform-scripts', project)!;
      const commitId = e.ado.commitFiles(
        scripts,
        'main',
        { 'README.md': null, 'docs/runbook.md': '# Runbook\n' },
        'Replace the README with a runbook',
      );
      const gone = await api(
        `/contoso/Platform/_apis/git/repositories/platform-scripts/items?path=/README.md&${V}`,
      );
      expect(gone.status).toBe(404);
      const dir = path.join(work, 'scripts-after');
      await git(['clone', cloneUrl(pat, 'Platform', 'platform-scripts'), dir]);
      expect(fs.existsSync(path.join(dir, 'README.md'))).toBe(false);
      expect(
        fs.readFileSync(path.join(dir, 'docs', 'runbook.md'), 'utf8'),
      ).toBe('# Runbook\n');
      // Git computes the same commit id for what the emulator built in process.
      const { stdout } = await git(['rev-parse', 'HEAD'], dir);
      expect(stdout.trim()).toBe(commitId);
      const { stdout: fsck } = await git(['fsck', '--strict'], dir);
      expect(fsck).toBe('');
    });

    it('clones with an Entra bearer token', async () => {
      const mi = await fetch(
        `${e.url}/msi/token?api-version=2019-08-01&resource=${AZURE_DEVOPS_RESOURCE}`,
        { headers: { 'x-identity-header': e.emulator.identityHeader } },
      );
      const { access_token: token } = (await mi.json()) as {
        access_token: string;
      };
      const dir = path.join(work, 'ledger');
      await git([
        '-c',
        `http.extraHeader=Authorization: Bearer ${token}`,
        'clone',
        `${e.adoUrl}/contoso/Payments/_git/ledger`,
        dir,
      ]);
      expect(fs.existsSync(path.join(dir, 'docs', 'architecture.md'))).toBe(
        true,
      );
    });

    it('refuses a clone with a wrong PAT and a push with a read-only PAT', async () => {
      await expect(
        git([
          'clone',
          cloneUrl('wrong', 'Payments', 'ledger'),
          path.join(work, 'nope'),
        ]),
      ).rejects.toThrow(/Authentication failed|401/);
      const readOnly = await createPat({
        user: 'alex.wilber@contoso.example',
        scopes: ['vso.code'],
      });
      const dir = path.join(work, 'ledger-ro');
      await git(['clone', cloneUrl(readOnly, 'Payments', 'ledger'), dir]);
      fs.writeFileSync(path.join(dir, 'x.md'), 'x\n');
      await git(['add', '.'], dir);
      await git(['commit', '-m', 'x'], dir);
      await expect(git(['push', 'origin', 'main'], dir)).rejects.toThrow(/403/);
    });
  });

  describe('code search, throttling and counters', () => {
    beforeAll(() => {
      const tenant = e.emulator.tenants.get(TENANT)!;
      const seed = generateAzureDevOps({
        organization: 'bigorg',
        repositories: 1200,
        projects: 2,
        withoutCatalogInfoShare: 0.1,
        members: ['alex.wilber@contoso.example'],
      }).organizations[0];
      e.ado.addOrganization(tenant, seed);
    });

    it('pages code search results and refuses a $skip past 1,000 like the service', async () => {
      const bigPat = e.ado.createPersonalAccessToken(
        'bigorg',
        'alex.wilber@contoso.example',
      ).token;
      const search = (skip: number) =>
        api(`/bigorg/_apis/search/codesearchresults?${V}`, {
          method: 'POST',
          auth: basic(bigPat),
          body: JSON.stringify({
            searchText: 'path:/catalog-info.yaml repo:*',
            $skip: skip,
            $top: 1000,
          }),
        });
      const first = await (await search(0)).json();
      expect(first.count).toBe(1080);
      expect(first.results).toHaveLength(1000);
      const second = await (await search(1000)).json();
      expect(second.results).toHaveLength(80);
      const refused = await search(1001);
      expect(refused.status).toBe(400);
      expect((await refused.json()).message).toMatch(/\$skip/);
    });

    it('answers 429 TF400733 with Retry-After when asked, and counts per route', async () => {
      await fetch(`${e.url}/_emulator/counters`, { method: 'DELETE' });
      const put = await fetch(`${e.url}/_emulator/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          adoRate429: 1,
          adoRoutes: '/_apis/git/repositories$',
          retryAfterSeconds: 3,
        }),
      });
      expect(put.status).toBe(200);
      const blocked = await api(
        `/contoso/Platform/_apis/git/repositories?${V}`,
      );
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('retry-after')).toBe('3');
      expect((await blocked.json()).message).toMatch(/^TF400733: /);
      const other = await api(`/contoso/_apis/projects?${V}`);
      expect(other.status).toBe(200);
      const counters = await (
        await fetch(`${e.url}/_emulator/counters`)
      ).json();
      expect(
        counters['GET /{organization}/{project}/_apis/git/repositories'],
      ).toMatchObject({ requests: 1, statuses: { 429: 1 } });
      expect(counters['GET /{organization}/_apis/projects']).toMatchObject({
        requests: 1,
        statuses: { 200: 1 },
      });
      await fetch(`${e.url}/_emulator/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ retryAfterSeconds: 1 }),
      });
    });
  });

  describe('the real host names over HTTPS', () => {
    let secure: RunningEmulator;
    beforeAll(async () => {
      secure = await startEmulator({
        tenants: loadTenantFile(defaultTenantFile),
        port: 0,
        adoHttps: true,
      });
    });
    afterAll(async () => {
      delete process.env.IDENTITY_ENDPOINT;
      delete process.env.IDENTITY_HEADER;
      await secure.close();
    });

    it("reads a file from https://dev.azure.com with Backstage's managed identity credential", async () => {
      process.env.IDENTITY_ENDPOINT = `${secure.url}/msi/token`;
      process.env.IDENTITY_HEADER = secure.emulator.identityHeader;
      const integrations = ScmIntegrations.fromConfig(
        new ConfigReader({
          integrations: {
            azure: [
              {
                host: 'dev.azure.com',
                credentials: [{ clientId: 'system-assigned' }],
              },
            ],
          },
        }),
      );
      const provider =
        DefaultAzureDevOpsCredentialsProvider.fromIntegrations(integrations);
      const url = getAzureFileFetchUrl(
        'https://dev.azure.com/contoso/Platform/_git/gatehouse-portal?path=/catalog-info.yaml',
      );
      expect(
        url.startsWith('https://dev.azure.com/contoso/Platform/_apis/'),
      ).toBe(true);
      const credentials = await provider.getCredentials({ url });
      expect(credentials?.type).toBe('bearer');
      const dispatcher = azureDevOpsDispatcher(secure.adoHttps!);
      const res = await fetch(url, {
        headers: credentials?.headers,
        dispatcher,
      } as RequestInit);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('name: gatehouse-portal');

      const repo = await (
        await fetch(
          `https://dev.azure.com/contoso/Platform/_apis/git/repositories/gatehouse-portal?${V}`,
          { headers: credentials?.headers, dispatcher } as RequestInit,
        )
      ).json();
      expect(repo.webUrl).toBe(
        'https://dev.azure.com/contoso/Platform/_git/gatehouse-portal',
      );
      const search = await fetch(
        `https://almsearch.dev.azure.com/contoso/Payments/_apis/search/codesearchresults?${V}`,
        {
          method: 'POST',
          headers: {
            ...credentials?.headers,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            searchText: 'file:catalog-info.yaml',
            $top: 10,
          }),
          dispatcher,
        } as RequestInit,
      );
      expect(
        (await search.json()).results.map(
          (r: { repository: { name: string } }) => r.repository.name,
        ),
      ).toEqual(['ledger', 'payments-api']);
    });
  });
});
