import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import entraRbac from '@gatehouse/plugin-permission-backend-module-entra-rbac';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import entraRbacPlugin from './index';

const GROUP_ID = 'graph.microsoft.com/group-id';
const ENGINEERING = '11111111-1111-4111-8111-111111111111';

/** A small org: Engineering > Payments > Payments API (Joni); Web (Lidia); Patti the admin. */
const ORG = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: engineering, annotations: { ${GROUP_ID}: ${ENGINEERING} } }
spec: { type: team, children: [payments, web] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: payments, annotations: { ${GROUP_ID}: 22222222-2222-4222-8222-222222222222 } }
spec: { type: team, parent: engineering, children: [payments-api] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: payments-api, annotations: { ${GROUP_ID}: 33333333-3333-4333-8333-333333333333 } }
spec: { type: team, parent: payments, children: [], members: [joni.sherman] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: web }
spec: { type: team, parent: engineering, children: [], members: [lidia.holloway] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: joni.sherman }
spec: { memberOf: [payments-api] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: lidia.holloway }
spec: { memberOf: [web] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: patti.fernandez }
spec: { memberOf: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: payments-ledger }
spec: { type: service, lifecycle: production, owner: group:default/payments }
`;

/**
 * The mock auth service turns a plugin's on-behalf-of token back into plain user credentials,
 * without the `actor` the real auth service sets; the permission backend then takes the
 * catalog's own checks for direct user requests and refuses them. This keeps the mock and
 * only adds the actor, as the real service does; the real HTTP auth service reads it.
 */
const authWithActor = createServiceFactory({
  service: coreServices.auth,
  deps: { plugin: coreServices.pluginMetadata },
  factory({ plugin }) {
    const auth = mockServices.auth({ pluginId: plugin.getId() });
    const authenticate = auth.authenticate.bind(auth);
    auth.authenticate = (async (token: string, options?: any) => {
      const credentials = await authenticate(token, options);
      const prefix = 'mock-service-token:';
      if (
        token.startsWith(prefix) &&
        JSON.parse(token.slice(prefix.length)).obo
      ) {
        return mockCredentials.user(
          (credentials.principal as { userEntityRef: string }).userEntityRef,
          { actor: { subject: 'plugin:caller' } },
        );
      }
      return credentials;
    }) as typeof auth.authenticate;
    return auth;
  },
});

/**
 * The real catalog and permission backends with the Entra RBAC module and this plugin:
 * decisions travel the way they do in the portal (catalog -> permission backend -> policy
 * -> catalog conditions).
 */
describe('Entra RBAC in a backend', () => {
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let base: string;
  let dir: string;
  const as = (user: string) => ({
    authorization: mockCredentials.user.header(`user:default/${user}`),
  });

  async function entity(name: string) {
    const res = await fetch(
      `${base}/api/catalog/entities/by-name/component/default/${name}`,
      { headers: as('patti.fernandez') },
    );
    return res.status === 200 ? ((await res.json()) as any) : undefined;
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbac-backend-'));
    fs.writeFileSync(path.join(dir, 'org.yaml'), ORG);
    backend = await startTestBackend({
      features: [
        catalogPlugin,
        permissionPlugin,
        entraRbac,
        entraRbacPlugin,
        authWithActor,
        httpAuthServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            permission: {
              enabled: true,
              entraRbac: { admins: [{ user: 'user:default/patti.fernandez' }] },
            },
            catalog: {
              rules: [{ allow: ['Component', 'Group', 'User', 'Location'] }],
              locations: [{ type: 'file', target: path.join(dir, 'org.yaml') }],
            },
          },
        }),
      ],
    });
    base = `http://localhost:${backend.server.port()}`;
    const deadline = Date.now() + 30_000;
    while (!(await entity('payments-ledger'))?.relations?.length) {
      if (Date.now() > deadline) throw new Error('catalog never processed');
      await new Promise(r => setTimeout(r, 200));
    }
  }, 60_000);

  afterAll(async () => {
    await backend?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function authorize(
    user: string,
    permission: object,
    resourceRef?: string,
  ) {
    const res = await fetch(`${base}/api/permission/authorize`, {
      method: 'POST',
      headers: { ...as(user), 'content-type': 'application/json' },
      body: JSON.stringify({
        items: [
          { id: '1', permission, ...(resourceRef ? { resourceRef } : {}) },
        ],
      }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as any).items[0].result;
  }

  const deletePermission = {
    type: 'resource',
    name: 'catalog.entity.delete',
    attributes: { action: 'delete' },
    resourceType: 'catalog-entity',
  };

  it('answers the frontend: owners through nested groups may unregister, others not', async () => {
    const ref = 'component:default/payments-ledger';
    expect(await authorize('joni.sherman', deletePermission, ref)).toBe(
      'ALLOW',
    );
    expect(await authorize('lidia.holloway', deletePermission, ref)).toBe(
      'DENY',
    );
    expect(await authorize('patti.fernandez', deletePermission, ref)).toBe(
      'ALLOW',
    );
  });

  it('explains a decision to an admin', async () => {
    const res = await fetch(`${base}/api/entra-rbac/explain`, {
      method: 'POST',
      headers: { ...as('patti.fernandez'), 'content-type': 'application/json' },
      body: JSON.stringify({
        user: 'lidia.holloway',
        permission: 'catalog.entity.delete',
        resourceRef: 'component:default/payments-ledger',
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      user: 'user:default/lidia.holloway',
      result: 'DENY',
      policyResult: 'CONDITIONAL',
      matches: [{ role: 'owner', rule: 0, conditionsHold: false }],
      identity: {
        groupRefs: ['group:default/engineering', 'group:default/web'],
        entraGroupIds: [ENGINEERING],
      },
    });
    expect(body.reason).toMatch(/the user does not own it/);
  });

  it('lists roles with members resolved through nesting, to an admin', async () => {
    const res = await fetch(`${base}/api/entra-rbac/roles`, {
      headers: as('patti.fernandez'),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.status).toMatchObject({ origin: 'app-config', roles: 3 });
    expect(body.roles.map((r: any) => r.name)).toEqual([
      'signed-in',
      'owner',
      'admin',
    ]);
    expect(body.roles[2].members).toEqual([
      {
        member: { user: 'user:default/patti.fernandez' },
        label: 'user:default/patti.fernandez',
        users: ['user:default/patti.fernandez'],
      },
    ]);
  });

  it('answers 403 to everyone else', async () => {
    const roles = await fetch(`${base}/api/entra-rbac/roles`, {
      headers: as('joni.sherman'),
    });
    expect(roles.status).toBe(403);
    const explain = await fetch(`${base}/api/entra-rbac/explain`, {
      method: 'POST',
      headers: { ...as('joni.sherman'), 'content-type': 'application/json' },
      body: JSON.stringify({
        user: 'joni.sherman',
        permission: 'catalog.entity.read',
      }),
    });
    expect(explain.status).toBe(403);
  });

  it('the catalog refuses a non-owner unregistering (403) and lets the owner', async () => {
    const { metadata } = await entity('payments-ledger');
    const refused = await fetch(
      `${base}/api/catalog/entities/by-uid/${metadata.uid}`,
      { method: 'DELETE', headers: as('lidia.holloway') },
    );
    expect(refused.status).toBe(403);
    expect(await entity('payments-ledger')).toBeDefined();
    const done = await fetch(
      `${base}/api/catalog/entities/by-uid/${metadata.uid}`,
      { method: 'DELETE', headers: as('joni.sherman') },
    );
    expect(done.status).toBe(204);
  });
});
