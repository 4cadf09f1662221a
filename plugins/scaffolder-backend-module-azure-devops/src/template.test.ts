import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import {
  defaultTenantFile,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import catalogModuleTemplateKind from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { GIT_REPOSITORIES_NAMESPACE } from './actions/grant';
import scaffolderModuleAzureDevOps from './index';

const TEMPLATE = path.resolve(
  __dirname,
  '../../../examples/templates/azure-devops-service/template.yaml',
);
const USER = 'alex.wilber@contoso.example';

// A real backend with the catalog's processing loop: start-up and a run take seconds.
jest.setTimeout(120_000);

/**
 * "New service on Azure DevOps" run by the real scaffolder and catalog backends, with our
 * actions, against the emulator over HTTP.
 */
describe('the New service on Azure DevOps template', () => {
  let e: RunningEmulator;
  let pat: string;
  let dir: string;
  let webGroupId: string;
  let server: Awaited<ReturnType<typeof startTestBackend>>['server'];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    e = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
    pat = e.ado.createPersonalAccessToken('contoso', USER).token;
    const tenant = [...e.emulator.tenants.values()][0];
    webGroupId = tenant.listGroups().find(g => g.displayName === 'Web')!.id;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-template-'));
    const groups = path.join(dir, 'groups.yaml');
    fs.writeFileSync(
      groups,
      `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: web
  annotations:
    graph.microsoft.com/group-id: ${webGroupId}
spec:
  type: team
  children: []
`,
    );
    const backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleTemplateKind,
        scaffolderPlugin,
        scaffolderModuleAzureDevOps,
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
              processingInterval: { seconds: 1 },
              rules: [
                { allow: ['Component', 'Group', 'Template', 'Location'] },
              ],
              locations: [
                { type: 'file', target: TEMPLATE },
                { type: 'file', target: groups },
              ],
            },
          },
        }),
      ],
    });
    server = backend.server;
    stop = () => backend.stop();
  });

  afterAll(async () => {
    await stop?.();
    await e?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined>,
  ): Promise<T> {
    for (let i = 0; i < 600; i++) {
      const v = await probe();
      if (v !== undefined) return v;
      await new Promise(r => setTimeout(r, 100));
    }
    throw new Error(`gave up waiting for ${what}`);
  }

  const auth = () => ({
    Authorization: mockCredentials.user.header('user:default/alex.wilber'),
  });

  async function templateEntity() {
    return waitFor('the template in the catalog', async () => {
      const res = await request(server)
        .get(
          '/api/catalog/entities/by-name/template/default/azure-devops-service',
        )
        .set(auth());
      return res.status === 200 ? res.body : undefined;
    });
  }

  it('creates the repository with its files, the pipeline and a run, the grant, and the component with its owner', async () => {
    await templateEntity();
    await waitFor('the group in the catalog', async () => {
      const res = await request(server)
        .get('/api/catalog/entities/by-name/group/default/web')
        .set(auth());
      return res.status === 200 ? true : undefined;
    });
    const created = await request(server)
      .post('/api/scaffolder/v2/tasks')
      .set(auth())
      .send({
        templateRef: 'template:default/azure-devops-service',
        values: {
          name: 'orders-api',
          description: 'Takes orders',
          owner: 'group:default/web',
          organization: 'contoso',
          project: 'Platform',
        },
      });
    expect(created.status).toBe(201);
    const task = await waitFor('the task to finish', async () => {
      const res = await request(server)
        .get(`/api/scaffolder/v2/tasks/${created.body.id}`)
        .set(auth());
      return ['completed', 'failed'].includes(res.body.status)
        ? res.body
        : undefined;
    });
    if (task.status !== 'completed') {
      const events = await request(server)
        .get(`/api/scaffolder/v2/tasks/${created.body.id}/events`)
        .set(auth());
      throw new Error(
        `task ${task.status}: ${JSON.stringify(
          events.body.map((x: any) => x.body.message),
        )}`,
      );
    }

    // The repository, with the rendered files, on its default branch
    const org = e.ado.findOrganization('contoso')!;
    const project = e.ado.findProject(org, 'Platform')!;
    const repo = [...project.repositories.values()].find(
      r => r.name === 'orders-api',
    )!;
    expect(repo.defaultBranch).toBe('main');
    const basic = `Basic ${Buffer.from(`x:${pat}`).toString('base64')}`;
    const file = async (p: string) => {
      const res = await fetch(
        `${e.adoUrl}/contoso/Platform/_apis/git/repositories/orders-api/items?path=${p}&api-version=7.1`,
        { headers: { Authorization: basic } },
      );
      expect(res.status).toBe(200);
      return res.text();
    };
    const info = await file('/catalog-info.yaml');
    expect(info).toContain('owner: group:default/web');
    expect(info).toContain('dev.azure.com/project-repo: Platform/orders-api');
    expect(info).toContain(`dev.azure.com/host-org: ${e.adoHost}/contoso`);
    expect(await file('/README.md')).toContain('Takes orders');
    expect(await file('/azure-pipelines.yml')).toContain('Building orders-api');

    // The pipeline, on that file, and its first run
    const pipelines = await fetch(
      `${e.adoUrl}/contoso/Platform/_apis/pipelines?api-version=7.1`,
      { headers: { Authorization: basic } },
    ).then(r => r.json());
    const pipeline = pipelines.value.find(
      (p: { name: string }) => p.name === 'orders-api CI',
    );
    expect(pipeline).toBeDefined();
    const runs = await fetch(
      `${e.adoUrl}/contoso/Platform/_apis/pipelines/${pipeline.id}/runs?api-version=7.1`,
      { headers: { Authorization: basic } },
    ).then(r => r.json());
    expect(runs.value).toHaveLength(1);

    // The owning group: in the organization, with contribute on the repository
    const acls = await fetch(
      `${e.adoUrl}/contoso/_apis/accesscontrollists/${GIT_REPOSITORIES_NAMESPACE}?token=repoV2/${project.id}/${repo.id}&api-version=7.1`,
      { headers: { Authorization: basic } },
    ).then(r => r.json());
    const aces = Object.values(acls.value[0].acesDictionary) as Array<{
      allow: number;
    }>;
    expect(aces).toHaveLength(1);
    expect(aces[0].allow & 4).toBe(4); // Contribute
    // Through the grant alone (Web is not among the organization's seeded members), a member
    // of Web reads and clones the new repository and sees no other; a user outside Web cannot.
    expect(org.members).not.toContain('Web');
    const patAuth = (upn: string) =>
      `Basic ${Buffer.from(
        `x:${e.ado.createPersonalAccessToken('contoso', upn).token}`,
      ).toString('base64')}`;
    const asLidia = patAuth('lidia.holloway@contoso.example');
    const lidiaInfo = await fetch(
      `${e.adoUrl}/contoso/Platform/_apis/git/repositories/orders-api/items?path=/catalog-info.yaml&api-version=7.1`,
      { headers: { Authorization: asLidia } },
    );
    expect(lidiaInfo.status).toBe(200);
    expect(await lidiaInfo.text()).toContain('owner: group:default/web');
    const lidiaRepos = await fetch(
      `${e.adoUrl}/contoso/Platform/_apis/git/repositories?api-version=7.1`,
      { headers: { Authorization: asLidia } },
    ).then(r => r.json());
    expect(lidiaRepos.value.map((r: { name: string }) => r.name)).toEqual([
      'orders-api',
    ]);
    const lidiaClone = await fetch(
      `${e.adoUrl}/contoso/Platform/_git/orders-api/info/refs?service=git-upload-pack`,
      { headers: { Authorization: asLidia } },
    );
    expect(lidiaClone.status).toBe(200);
    // Adele Vance is in Engineering, not in Web.
    const asAdele = patAuth('adele.vance@contoso.example');
    const adeleInfo = await fetch(
      `${e.adoUrl}/contoso/Platform/_apis/git/repositories/orders-api/items?path=/catalog-info.yaml&api-version=7.1`,
      { headers: { Authorization: asAdele } },
    );
    expect(adeleInfo.status).toBe(401);
    expect((await adeleInfo.json()).message).toMatch(/^TF400813:/);

    // The component in the catalog, owned by the group
    const component = await waitFor('the component', async () => {
      const res = await request(server)
        .get('/api/catalog/entities/by-name/component/default/orders-api')
        .set(auth());
      return res.status === 200 ? res.body : undefined;
    });
    expect(component.spec.owner).toBe('group:default/web');
    expect(task.status).toBe('completed');
  });

  it('writes nothing on a dry run', async () => {
    const template = await templateEntity();
    const org = e.ado.findOrganization('contoso')!;
    const before = [...e.ado.findProject(org, 'Platform')!.repositories.keys()];
    const membersBefore = [...org.members];
    const res = await request(server)
      .post('/api/scaffolder/v2/dry-run')
      .set(auth())
      .send({
        template,
        values: {
          name: 'dry-api',
          description: 'Never created',
          owner: 'group:default/web',
          organization: 'contoso',
          project: 'Platform',
        },
        directoryContents: [
          ...['catalog-info.yaml', 'README.md', 'azure-pipelines.yml'].map(
            f => ({
              path: `skeleton/${f}`,
              base64Content: fs
                .readFileSync(path.join(path.dirname(TEMPLATE), 'skeleton', f))
                .toString('base64'),
            }),
          ),
        ],
      });
    expect(res.status).toBe(200);
    const messages = res.body.log.map((l: any) => l.body.message).join('\n');
    expect(messages).toContain('Dry run: would create repository dry-api');
    expect(messages).toContain('Dry run: would create pipeline dry-api CI');
    expect(
      res.body.directoryContents.map((f: { path: string }) => f.path).sort(),
    ).toEqual(['README.md', 'azure-pipelines.yml', 'catalog-info.yaml']);
    expect([
      ...e.ado.findProject(org, 'Platform')!.repositories.keys(),
    ]).toEqual(before);
    expect(org.members).toEqual(membersBefore);
    const catalog = await request(server)
      .get('/api/catalog/entities/by-name/component/default/dry-api')
      .set(auth());
    expect(catalog.status).toBe(404);
  });
});
