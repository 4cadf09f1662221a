import { defaultTenantFile } from '../paths';
import { RunningEmulator, startEmulator } from '../server';
import { loadTenantFile } from '../tenant/loadTenants';

const GIT_NAMESPACE = '2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87';

describe('Azure DevOps emulator: Graph groups and access control entries', () => {
  let e: RunningEmulator;
  let full: string;
  let codeOnly: string;

  beforeAll(async () => {
    e = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
    const user = 'alex.wilber@contoso.example';
    full = e.ado.createPersonalAccessToken('contoso', user).token;
    codeOnly = e.ado.createPersonalAccessToken('contoso', user, {
      scopes: ['vso.code'],
    }).token;
  });
  afterAll(() => e.close());

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

  const tenant = () => [...e.emulator.tenants.values()][0];
  const webGroup = () =>
    tenant()
      .listGroups()
      .find(g => g.displayName === 'Web')!;
  const lidia = () => tenant().getUser('lidia.holloway@contoso.example')!;

  it('adds an Entra group to the organization, whose members then count as members', async () => {
    const org = e.ado.findOrganization('contoso')!;
    const asLidia = {
      kind: 'user' as const,
      id: lidia().id,
      displayName: lidia().displayName,
      uniqueName: lidia().userPrincipalName,
    };
    expect(e.ado.isMember(org, asLidia)).toBe(false);
    const res = await call(
      full,
      '/_apis/graph/groups?api-version=7.1-preview.1',
      {
        method: 'POST',
        body: { originId: webGroup().id },
      },
    );
    expect(res.status).toBe(201);
    const group = await res.json();
    expect(group).toMatchObject({
      subjectKind: 'group',
      origin: 'aad',
      originId: webGroup().id,
      displayName: 'Web',
    });
    expect(group.descriptor).toMatch(/^aadgp\./);
    expect(e.ado.isMember(org, asLidia)).toBe(true);

    const ids = await call(
      full,
      `/_apis/identities?subjectDescriptors=${group.descriptor}&api-version=7.1`,
    ).then(r => r.json());
    expect(ids.value[0].descriptor).toMatch(
      /^Microsoft\.TeamFoundation\.Identity;/,
    );
  });

  it('stores access control entries, merging bits, and reads them back by token', async () => {
    const group = await call(
      full,
      '/_apis/graph/groups?api-version=7.1-preview.1',
      { method: 'POST', body: { originId: webGroup().id } },
    ).then(r => r.json());
    const ids = await call(
      full,
      `/_apis/identities?subjectDescriptors=${group.descriptor}&api-version=7.1`,
    ).then(r => r.json());
    const descriptor = ids.value[0].descriptor;
    const set = (allow: number) =>
      call(
        full,
        `/_apis/accesscontrolentries/${GIT_NAMESPACE}?api-version=7.1`,
        {
          method: 'POST',
          body: {
            token: 'repoV2/p/r',
            merge: true,
            accessControlEntries: [{ descriptor, allow, deny: 0 }],
          },
        },
      );
    expect((await set(2)).status).toBe(200);
    expect((await set(4)).status).toBe(200);
    const acls = await call(
      full,
      `/_apis/accesscontrollists/${GIT_NAMESPACE}?token=repoV2/p/r&api-version=7.1`,
    ).then(r => r.json());
    expect(acls.value).toHaveLength(1);
    expect(acls.value[0].acesDictionary[descriptor]).toEqual({
      descriptor,
      allow: 6,
      deny: 0,
    });

    const unknown = await call(
      full,
      `/_apis/accesscontrolentries/${GIT_NAMESPACE}?api-version=7.1`,
      {
        method: 'POST',
        body: {
          token: 'repoV2/p/r',
          accessControlEntries: [{ descriptor: 'nobody', allow: 2 }],
        },
      },
    );
    expect(unknown.status).toBe(400);
  });

  it('needs the graph and security PAT scopes, and a group of the tenant', async () => {
    const noScope = await call(
      codeOnly,
      '/_apis/graph/groups?api-version=7.1-preview.1',
      { method: 'POST', body: { originId: webGroup().id } },
    );
    expect(noScope.status).toBe(401);
    const foreign = await call(
      full,
      '/_apis/graph/groups?api-version=7.1-preview.1',
      {
        method: 'POST',
        body: { originId: '00000000-0000-4000-8000-000000000000' },
      },
    );
    expect(foreign.status).toBe(404);
  });
});
