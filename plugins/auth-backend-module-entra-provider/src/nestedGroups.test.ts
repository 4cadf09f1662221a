import { mockCredentials } from '@backstage/backend-test-utils';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTenants } from '@gatehouse/entra-emulator';
import {
  signInThroughEmulator,
  startPortalBackend,
} from './__testUtils__/signIn';

const GROUPS = 300;

/** A tenant where one person is in a chain of 300 nested groups: far past the token's 200. */
function tenantYaml(): string {
  const groups = Array.from({ length: GROUPS }, (_, i) => {
    const n = String(i + 1).padStart(3, '0');
    const member =
      i === 0
        ? 'deep.member@nested.example'
        : `Level ${String(i).padStart(3, '0')}`;
    return `      - { displayName: 'Level ${n}', members: ['${member}'] }`;
  });
  return `tenants:
  - id: 7a1e0c55-3b2d-4c9e-8f10-2a3b4c5d6e7f
    displayName: Nested
    domains: [nested.example]
    users:
      - { userPrincipalName: deep.member@nested.example, displayName: Deep Member }
    groups:
${groups.join('\n')}
    applications:
      - displayName: Portal
        appId: 0d4b5e6f-7a82-4c9e-a1c6-3c9e1f5a7b2d
        redirectUris: [http://localhost:7007/api/auth/microsoft/handler/frame]
        groupMembershipClaims: SecurityGroup
        graphApplicationPermissions: [User.Read.All, GroupMember.Read.All]
`;
}

/** The tenant as the emulator loads it, for the object ids it derives. */
function loadTenantFileFromYaml() {
  return parseTenants(tenantYaml())[0];
}

describe('a person in 300 nested groups', () => {
  let backend: Awaited<ReturnType<typeof startPortalBackend>>['backend'];
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-nested-'));
    fs.writeFileSync(path.join(dir, 'tenant.yaml'), tenantYaml());
    const started = await startPortalBackend({
      tenantFile: path.join(dir, 'tenant.yaml'),
    });
    backend = started.backend;
    const base = started.base;
    // Wait until the org sync and the catalog's processing have brought in the whole chain.
    for (;;) {
      const res = await fetch(
        `${base}/api/catalog/entities?filter=kind=group&fields=metadata.name`,
        {
          headers: { authorization: mockCredentials.user.header() },
        },
      );
      const user = await fetch(
        `${base}/api/catalog/entities/by-name/user/default/deep.member`,
        {
          headers: { authorization: mockCredentials.user.header() },
        },
      );
      if (
        res.ok &&
        user.ok &&
        ((await res.json()) as unknown[]).length === GROUPS
      )
        break;
      await new Promise(r => setTimeout(r, 250));
    }
  }, 90_000);

  afterAll(async () => {
    await backend?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('signs in owning what every one of those groups owns', async () => {
    const tenant = loadTenantFileFromYaml();
    const result = await signInThroughEmulator({
      backendBaseUrl: `http://localhost:${backend.server.port()}`,
      userId: tenant.users[0].id,
      scope: 'openid profile offline_access',
    });
    if (!('response' in result))
      throw new Error(`start failed: ${result.startBody}`);
    const { response } = result;
    expect(response.error).toBeUndefined();
    const refs: string[] =
      response.response.backstageIdentity.identity.ownershipEntityRefs;
    expect(refs).toContain('user:default/deep.member');
    expect(refs.filter(r => r.startsWith('group:default/level-'))).toHaveLength(
      GROUPS,
    );
  }, 30_000);
});
