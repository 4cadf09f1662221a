import { startTestBackend } from '@backstage/backend-test-utils';
import {
  parseTenants,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import {
  catalogUser,
  signInThroughEmulator,
  startAuthBackend,
} from './__testUtils__/signIn';

const CONTOSO = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
const FABRIKAM = '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';

const tenants = `
tenants:
  - id: ${CONTOSO}
    displayName: Contoso
    domains: [contoso.example]
    users:
      - { userPrincipalName: ada@contoso.example, displayName: Ada Contoso }
    applications:
      - displayName: Portal (multi-tenant)
        appId: ${APP_ID}
        signInAudience: AzureADMultipleOrgs
        redirectUris: [http://localhost:7007/api/auth/microsoft/handler/frame]
  - id: ${FABRIKAM}
    displayName: Fabrikam
    domains: [fabrikam.example]
    users:
      - { userPrincipalName: bo@fabrikam.example, displayName: Bo Fabrikam }
`;

/** A multi-tenant app (`tenantId: organizations`) admits only the tenants in allowedTenants. */
describe('allowedTenants for a multi-tenant app', () => {
  let running: RunningEmulator;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;

  beforeAll(async () => {
    running = await startEmulator({ tenants: parseTenants(tenants), port: 0 });
    const user = (tid: string, upn: string) =>
      catalogUser(upn.split('@')[0], {
        'graph.microsoft.com/user-id': running.emulator.tenants
          .get(tid)!
          .getUser(upn)!.id,
        'graph.microsoft.com/tenant-id': tid,
      });
    backend = await startAuthBackend({
      entities: [
        user(CONTOSO, 'ada@contoso.example'),
        user(FABRIKAM, 'bo@fabrikam.example'),
      ],
      microsoft: {
        clientId: APP_ID,
        clientSecret: running.emulator.addClientSecret(APP_ID).secretText,
        tenantId: 'organizations',
        allowedTenants: [CONTOSO],
        authority: running.url,
      },
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await running?.close();
  });

  async function signInAs(tid: string, upn: string) {
    const result = await signInThroughEmulator({
      backendBaseUrl: `http://localhost:${backend.server.port()}`,
      userId: running.emulator.tenants.get(tid)!.getUser(upn)!.id,
      scope: 'openid profile offline_access',
    });
    if (!('response' in result))
      throw new Error(`start failed: ${result.startBody}`);
    expect(result.authorizeUrl.pathname).toBe(
      '/organizations/oauth2/v2.0/authorize',
    );
    return result;
  }

  it('signs in a user of an allowed tenant', async () => {
    const { response } = await signInAs(CONTOSO, 'ada@contoso.example');
    expect(response.error).toBeUndefined();
    expect(response.response.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/ada',
    );
  });

  it('refuses a user of another tenant, issuing nothing', async () => {
    const { response, refreshCookie } = await signInAs(
      FABRIKAM,
      'bo@fabrikam.example',
    );
    expect(response.response).toBeUndefined();
    expect(response.error.message).toContain(
      `Tenant ${FABRIKAM} is not in allowedTenants`,
    );
    expect(refreshCookie).toBe(false);
  });
});
