import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  defaultTenantFile,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import azureDevOpsPlugin from './index';

jest.setTimeout(60_000);

function component(name: string, annotations: Record<string, string>) {
  return `---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${name}
  annotations: ${JSON.stringify(annotations)}
spec:
  type: service
  lifecycle: production
  owner: group:default/platform
`;
}

/** The plugin in a real backend with the catalog, reading the emulator's Azure DevOps. */
describe('azure-devops backend', () => {
  let e: RunningEmulator;
  let dir: string;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  const user = () => ({
    Authorization: mockCredentials.user.header('user:default/alex.wilber'),
  });

  beforeAll(async () => {
    e = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
    const pat = e.ado.createPersonalAccessToken(
      'contoso',
      'alex.wilber@contoso.example',
      { scopes: ['vso.code', 'vso.build'] },
    ).token;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-ado-backend-'));
    const hostOrg = `${e.adoHost}/contoso`;
    fs.writeFileSync(
      path.join(dir, 'entities.yaml'),
      [
        component('portal', {
          'dev.azure.com/host-org': hostOrg,
          'dev.azure.com/project-repo': 'Platform/gatehouse-portal',
        }),
        component('scripts', {
          'dev.azure.com/host-org': hostOrg,
          'dev.azure.com/project-repo': 'Platform/platform-scripts',
        }),
        component('gone', {
          'dev.azure.com/host-org': hostOrg,
          'dev.azure.com/project-repo': 'Platform/never-existed',
        }),
        component('elsewhere', {
          'dev.azure.com/host-org': 'localhost:1/contoso',
          'dev.azure.com/project-repo': 'Platform/gatehouse-portal',
        }),
        component('plain', {}),
      ].join(''),
    );
    backend = await startTestBackend({
      features: [
        catalogPlugin,
        azureDevOpsPlugin,
        mockServices.rootConfig.factory({
          data: {
            integrations: {
              azure: [
                {
                  host: e.adoHost,
                  credentials: [{ personalAccessToken: pat }],
                },
              ],
            },
            catalog: {
              rules: [{ allow: ['Component'] }],
              locations: [
                { type: 'file', target: path.join(dir, 'entities.yaml') },
              ],
            },
          },
        }),
      ],
    });
    // The catalog processes the file in the background
    for (let i = 0; i < 300; i++) {
      const res = await request(backend.server)
        .get('/api/catalog/entities/by-name/component/default/plain')
        .set(user());
      if (res.status === 200) break;
      await new Promise(r => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    await backend?.stop();
    await e?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (p: string) =>
    request(backend.server).get(`/api/azure-devops/entities/${p}`).set(user());

  it("lists the repository's pipeline runs, newest first", async () => {
    const res = await get('component/default/portal/runs');
    expect(res.status).toBe(200);
    expect(res.body.runs).toHaveLength(3);
    expect(res.body.runs.map((r: { id: number }) => r.id)).toEqual(
      [...res.body.runs.map((r: { id: number }) => r.id)].sort((a, b) => b - a),
    );
    expect(res.body.runs[0].pipeline).toBe('gatehouse-portal CI');
    expect(
      res.body.runs.map((r: { result: string }) => r.result).sort(),
    ).toEqual(['failed', 'succeeded', 'succeeded']);
  });

  it('lists only active pull requests', async () => {
    const res = await get('component/default/portal/pull-requests');
    expect(res.status).toBe(200);
    expect(res.body.pullRequests).toEqual([
      expect.objectContaining({
        title: 'Discover Azure DevOps repositories',
        sourceBranch: 'refs/heads/feature/ado-discovery',
        targetBranch: 'refs/heads/main',
      }),
    ]);
  });

  it('lists a pull request opened through the Azure DevOps API', async () => {
    const writer = e.ado.createPersonalAccessToken(
      'contoso',
      'diego.siciliani@contoso.example',
      { scopes: ['vso.code_write'] },
    ).token;
    const created = await fetch(
      `${e.adoUrl}/contoso/Platform/_apis/git/repositories/gatehouse-portal/pullrequests?api-version=7.1`,
      {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`x:${writer}`).toString(
            'base64',
          )}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({
          sourceRefName: 'refs/heads/main',
          targetRefName: 'refs/heads/feature/ado-discovery',
          title: 'Bring the discovery branch up to date',
        }),
      },
    );
    expect(created.status).toBe(201);
    const { pullRequestId } = await created.json();

    const res = await get('component/default/portal/pull-requests');
    expect(res.status).toBe(200);
    expect(res.body.pullRequests).toContainEqual(
      expect.objectContaining({
        id: pullRequestId,
        title: 'Bring the discovery branch up to date',
        createdBy: 'Diego Siciliani',
        sourceBranch: 'refs/heads/main',
        targetBranch: 'refs/heads/feature/ado-discovery',
      }),
    );
    expect(res.body.pullRequests).toHaveLength(2);
  });

  it('returns the README', async () => {
    const res = await get('component/default/scripts/readme');
    expect(res.status).toBe(200);
    expect(res.body.content).toContain('Scripts the platform team runs');
  });

  it('lists no runs for a repository without pipelines; 404 for a missing repository, entity or annotation', async () => {
    expect((await get('component/default/scripts/runs')).body.runs).toEqual([]);
    const gone = await get('component/default/gone/pull-requests');
    expect(gone.status).toBe(404);
    expect(gone.body.error.message).toContain('Platform/never-existed');
    const plain = await get('component/default/plain/runs');
    expect(plain.status).toBe(404);
    expect(plain.body.error.message).toContain('dev.azure.com/project-repo');
    expect((await get('component/default/nobody/runs')).status).toBe(404);
  });

  it('refuses a host without credentials, and callers without a user', async () => {
    const res = await get('component/default/elsewhere/runs');
    expect(res.status).toBe(503);
    expect(res.body.error.message).toContain(
      'No integrations.azure credential for organization contoso on localhost:1',
    );
    const anonymous = await request(backend.server)
      .get('/api/azure-devops/entities/component/default/portal/runs')
      .set('Authorization', mockCredentials.none.header());
    expect(anonymous.status).toBe(401);
    const service = await request(backend.server)
      .get('/api/azure-devops/entities/component/default/portal/runs')
      .set('Authorization', mockCredentials.service.header());
    expect(service.status).toBe(403);
  });
});
