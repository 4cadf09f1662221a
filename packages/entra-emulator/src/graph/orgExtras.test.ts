/* eslint jest/expect-expect: ["warn", { "assertFunctionNames": ["expect", "expect*"] }] */
import https from 'node:https';
import { generateTenant } from '../generator';
import { placeholderPhoto } from '../photo';
import { defaultTenantFile } from '../paths';
import { startEmulator } from '../server';
import { loadTenantFile, parseTenants } from '../tenant/loadTenants';
import { servicePrincipalId } from './GraphService';
import {
  CONTOSO_APP,
  CONTOSO_TENANT,
  expectGraphError,
  GraphHarness,
} from './testHarness';

const READER_APP = 'c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f';
const GROUPS_APP = 'd4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70';

/** Contoso, plus an app that may read users and groups but not applications. */
function tenants() {
  const all = loadTenantFile(defaultTenantFile);
  const [{ applications }] = parseTenants(`
tenants:
  - id: ${CONTOSO_TENANT}
    displayName: x
    domains: [x.example]
    applications:
      - displayName: Directory reader
        appId: ${READER_APP}
        graphApplicationPermissions: [User.Read.All, GroupMember.Read.All]
      - displayName: Groups reader
        appId: ${GROUPS_APP}
        graphApplicationPermissions: [GroupMember.Read.All]
`);
  all[0].applications.push(...applications);
  return all;
}

describe('Graph extras the org sync reads', () => {
  let h: GraphHarness;
  let token: string;

  beforeAll(async () => {
    h = await GraphHarness.start({ tenants: tenants() });
    token = await h.appToken();
  });
  afterAll(() => h.close());

  const user = (upn: string) =>
    h.emulator.tenants.get(CONTOSO_TENANT)!.getUser(`${upn}@contoso.example`)!;

  describe('user photos', () => {
    it('serves the photo of a user who has one, at the sizes Graph keeps', async () => {
      const alex = user('alex.wilber');
      for (const path of [
        `/users/${alex.id}/photo/$value`,
        `/users/${alex.id}/photos/48x48/$value`,
        `/users/${alex.userPrincipalName}/photos/648x648/$value`,
      ]) {
        const res = await fetch(`${h.url}/v1.0${path}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('image/png');
        const bytes = Buffer.from(await res.arrayBuffer());
        expect(bytes.equals(placeholderPhoto(alex.id))).toBe(true);
        // PNG signature
        expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
      }
    });

    it('answers 404 ImageNotFound for a user without a photo, and for an unknown size', async () => {
      const lee = user('lee.gu');
      expectGraphError(
        await h.get(`/users/${lee.id}/photos/48x48/$value`, token),
        404,
        'ImageNotFound',
      );
      expectGraphError(
        await h.get(
          `/users/${user('alex.wilber').id}/photos/50x50/$value`,
          token,
        ),
        404,
        'ImageNotFound',
      );
    });

    it('needs a user-read permission, and counts under its own route', async () => {
      const groupsOnly = await h.appToken(GROUPS_APP);
      expectGraphError(
        await h.get(
          `/users/${user('alex.wilber').id}/photos/48x48/$value`,
          groupsOnly,
        ),
        403,
        'Authorization_RequestDenied',
      );
      await h.admin('DELETE', '/counters');
      await h.get(`/users/${user('lee.gu').id}/photos/48x48/$value`, token);
      const counters = (await h.admin('GET', '/counters')).body;
      expect(counters['GET /users/{id}/photos/{size}/$value']).toEqual({
        requests: 1,
        resourceUnits: 1,
        statuses: { '404': 1 },
      });
    });

    it('a new photo is not a change of the user: /users/delta does not report it', async () => {
      const t = h.emulator.tenants.get(CONTOSO_TENANT)!;
      const first = await h.pages('/users/delta?$select=id,displayName', token);
      const deltaLink = first[first.length - 1].body['@odata.deltaLink'];
      const lee = user('lee.gu');
      t.setUserPhoto(lee.id, {
        contentType: 'image/png',
        data: placeholderPhoto(lee.id, 48, 1).toString('base64'),
      });
      try {
        const next = await h.pages(deltaLink, token);
        expect(next.flatMap(p => p.body.value)).toEqual([]);
        const res = await fetch(
          `${h.url}/v1.0/users/${lee.id}/photos/48x48/$value`,
          { headers: { authorization: `Bearer ${token}` } },
        );
        expect(res.status).toBe(200);
      } finally {
        t.setUserPhoto(lee.id, undefined);
      }
    });
  });

  describe('GET /organization/{id}', () => {
    it("returns the caller's tenant", async () => {
      const res = await h.get(`/organization/${CONTOSO_TENANT}`, token);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        '@odata.context': expect.stringContaining('#organization/$entity'),
        id: CONTOSO_TENANT,
        displayName: 'Contoso',
        tenantType: 'AAD',
      });
      expect(res.body.verifiedDomains).toContainEqual(
        expect.objectContaining({ name: 'contoso.example', isDefault: true }),
      );
      const selected = await h.get(
        `/organization/${CONTOSO_TENANT}?$select=displayName`,
        token,
      );
      expect(Object.keys(selected.body).sort()).toEqual([
        '@odata.context',
        'displayName',
      ]);
    });

    it('answers 404 for another tenant, 403 without Organization.Read.All', async () => {
      expectGraphError(
        await h.get(
          '/organization/7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
          token,
        ),
        404,
        'Request_ResourceNotFound',
      );
      const reader = await h.appToken(READER_APP);
      expectGraphError(
        await h.get(`/organization/${CONTOSO_TENANT}`, reader),
        403,
        'Authorization_RequestDenied',
      );
    });
  });

  describe("an app's service principal: appRoleAssignedTo", () => {
    it('lists the users and groups assigned to the app, by object id or by appId', async () => {
      const spId = servicePrincipalId(
        h.emulator.tenants.get(CONTOSO_TENANT)!,
        CONTOSO_APP,
      );
      const byId = await h.get(
        `/servicePrincipals/${spId}/appRoleAssignedTo`,
        token,
      );
      const byAppId = await h.get(
        `/servicePrincipals(appId='${CONTOSO_APP}')/appRoleAssignedTo`,
        token,
      );
      expect(byId.status).toBe(200);
      expect(byAppId.body.value).toEqual(byId.body.value);
      expect(
        byId.body.value
          .map(
            (a: { principalDisplayName: string; principalType: string }) =>
              `${a.principalType}:${a.principalDisplayName}`,
          )
          .sort(),
      ).toEqual(['Group:Gatehouse Admins', 'Group:Platform']);
      expect(byId.body.value[0]).toMatchObject({
        resourceId: spId,
        resourceDisplayName: 'Gatehouse (local)',
      });
      const counters = (await h.admin('GET', '/counters')).body;
      expect(
        counters["GET /servicePrincipals(appId='{appId}')/appRoleAssignedTo"]
          .requests,
      ).toBeGreaterThan(0);
    });

    it('needs Application.Read.All (or Directory.Read.All), and a known app', async () => {
      const reader = await h.appToken(READER_APP);
      expectGraphError(
        await h.get(
          `/servicePrincipals(appId='${CONTOSO_APP}')/appRoleAssignedTo`,
          reader,
        ),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(
        await h.get(
          `/servicePrincipals(appId='00000000-0000-4000-8000-000000000000')/appRoleAssignedTo`,
          token,
        ),
        404,
        'Request_ResourceNotFound',
      );
    });
  });
});

describe('the HTTPS listener', () => {
  it('serves the same emulator over TLS with a CA it hands out, and https URLs', async () => {
    const running = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
      https: true,
    });
    try {
      expect(running.url).toMatch(/^https:\/\/localhost:\d+$/);
      expect(running.httpUrl).toMatch(/^http:\/\/localhost:\d+$/);
      expect(running.caPem).toContain('BEGIN CERTIFICATE');
      const get = (ca?: string) =>
        new Promise<{ status: number; body: any }>((resolve, reject) => {
          https
            .get(
              `${running.url}/${CONTOSO_TENANT}/v2.0/.well-known/openid-configuration`,
              { ca },
              res => {
                let text = '';
                res.on('data', c => (text += c));
                res.on('end', () =>
                  resolve({ status: res.statusCode!, body: JSON.parse(text) }),
                );
              },
            )
            .on('error', reject);
        });
      const { status, body } = await get(running.caPem);
      expect(status).toBe(200);
      expect(body.issuer).toBe(`${running.url}/${CONTOSO_TENANT}/v2.0`);
      expect(body.token_endpoint).toMatch(/^https:/);
      // Without the CA the certificate is not trusted.
      await expect(get()).rejects.toThrow(/self.signed|unable to verify/i);
      // The plain listener serves the same state.
      const plain = await fetch(`${running.httpUrl}/`);
      expect(plain.status).toBe(200);
    } finally {
      await running.close();
    }
  });
});

describe('generated tenants with photos', () => {
  it('gives about `photoShare` of the users a photo, without changing anything else', () => {
    const without = generateTenant({ users: 200, groups: 10, seed: 3 });
    const withPhotos = generateTenant({
      users: 200,
      groups: 10,
      seed: 3,
      photoShare: 0.25,
    });
    const count = withPhotos.users.filter(u => u.photo).length;
    expect(count).toBeGreaterThan(40);
    expect(count).toBeLessThan(60);
    expect(withPhotos.users.map(({ photo, ...u }) => u)).toEqual(without.users);
    expect(withPhotos.groups).toEqual(without.groups);
  });
});
