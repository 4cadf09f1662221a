import { startTestBackend } from '@backstage/backend-test-utils';
import {
  defaultTenantFile,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import {
  catalogUser,
  signInThroughEmulator,
  startAuthBackend,
} from './__testUtils__/signIn';

const APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';

/** Catalog users as a tutorial reader types them: matched by email, not by object id. */
const entities = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: 'lee.gu',
      annotations: { 'microsoft.com/email': 'lee.gu@contoso.example' },
    },
    spec: { profile: { email: 'lee.gu@contoso.example' }, memberOf: [] },
  },
  {
    // A privileged user whose email a guest could claim in their own directory (nOAuth).
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: 'finance-admin',
      annotations: { 'microsoft.com/email': 'casey.jordan@fabrikam.example' },
    },
    spec: { profile: { email: 'casey.jordan@fabrikam.example' }, memberOf: [] },
  },
];

describe.each([
  ['emailMatchingUserEntityProfileEmail', {}],
  ['emailMatchingUserEntityAnnotation', {}],
  [
    'emailLocalPartMatchingUserEntityName',
    { allowedDomains: ['contoso.example', 'fabrikam.example'] },
  ],
])('the %s resolver', (resolver, options) => {
  let running: RunningEmulator;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;

  beforeAll(async () => {
    running = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
    const tenant = [...running.emulator.tenants.values()][0];
    backend = await startAuthBackend({
      entities: [...entities, catalogUser('casey.jordan')],
      microsoft: {
        clientId: APP_ID,
        clientSecret: running.emulator.addClientSecret(APP_ID).secretText,
        tenantId: tenant.id,
        authority: running.url,
        signIn: { resolvers: [{ resolver, ...options }] },
      },
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await running?.close();
  });

  async function signInAs(upn: string) {
    const tenant = [...running.emulator.tenants.values()][0];
    const result = await signInThroughEmulator({
      backendBaseUrl: `http://localhost:${backend.server.port()}`,
      userId: tenant.getUser(upn)!.id,
    });
    if (!('response' in result))
      throw new Error(`start failed: ${result.startBody}`);
    return result;
  }

  it('signs in a member whose email the tenant verified', async () => {
    const { response, refreshCookie } = await signInAs(
      'lee.gu@contoso.example',
    );
    expect(response.error).toBeUndefined();
    expect(response.response.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/lee.gu',
    );
    expect(refreshCookie).toBe(true);
  });

  it("refuses a guest whose unverified email equals another user's (nOAuth), issuing nothing", async () => {
    const { response, refreshCookie } = await signInAs(
      'casey.jordan_fabrikam.example#EXT#@contoso.onmicrosoft.example',
    );
    expect(response.response).toBeUndefined();
    expect(response.error.message).toMatch(
      /casey\.jordan@fabrikam\.example is not verified by the tenant/,
    );
    expect(refreshCookie).toBe(false);
  });
});
