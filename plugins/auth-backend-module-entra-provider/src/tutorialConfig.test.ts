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

/**
 * The configuration of the Entra ID tutorial our users start from (seed 000): clientId,
 * clientSecret, tenantId, domainHint and the userIdMatchingUserEntityAnnotation resolver, with a
 * User typed into the catalog by hand. Here it points at a standalone emulator via `authority`.
 */
describe('the tutorial configuration keys', () => {
  let running: RunningEmulator;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  const APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';

  beforeAll(async () => {
    running = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
    const tenant = [...running.emulator.tenants.values()][0];
    const { secretText } = running.emulator.addClientSecret(APP_ID);
    const lee = tenant.getUser('lee.gu@contoso.example')!;
    backend = await startAuthBackend({
      entities: [
        catalogUser(
          'johndoe',
          { 'graph.microsoft.com/user-id': lee.id },
          { displayName: 'John Doe', email: 'johndoe@mydomain.com' },
        ),
      ],
      microsoft: {
        clientId: APP_ID,
        clientSecret: secretText,
        tenantId: tenant.id,
        domainHint: tenant.id,
        authority: running.url,
        signIn: {
          resolvers: [{ resolver: 'userIdMatchingUserEntityAnnotation' }],
        },
      },
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await running?.close();
  });

  it('signs in the hand-written catalog user by object id', async () => {
    const tenantId = [...running.emulator.tenants.keys()][0];
    const result = await signInThroughEmulator({
      backendBaseUrl: `http://localhost:${backend.server.port()}`,
      userId: running.emulator.tenants
        .get(tenantId)!
        .getUser('lee.gu@contoso.example')!.id,
    });
    if (!('response' in result))
      throw new Error(`start failed: ${result.startBody}`);
    const { authorizeUrl: authorize, response } = result;
    expect(authorize.origin).toBe(running.url);
    expect(authorize.searchParams.get('domain_hint')).toBe(tenantId);
    expect(response.error).toBeUndefined();
    expect(response.response.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/johndoe',
    );
    expect(response.response.profile.displayName).toBe('Lee Gu');
  });
});
