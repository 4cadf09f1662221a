import {
  defaultTenantFile,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import {
  catalogUser,
  signInThroughEmulator,
  startAuthBackend,
} from './__testUtils__/signIn';

const APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';

/** A whole sign-in with the given client authentication; returns what the app window receives. */
async function signIn(
  running: RunningEmulator,
  clientAuth: Record<string, unknown>,
) {
  const tenant = [...running.emulator.tenants.values()][0];
  const lee = tenant.getUser('lee.gu@contoso.example')!;
  const backend = await startAuthBackend({
    entities: [
      catalogUser('lee.gu', { 'graph.microsoft.com/user-id': lee.id }),
    ],
    microsoft: {
      clientId: APP_ID,
      tenantId: tenant.id,
      authority: running.url,
      ...clientAuth,
    },
  });
  try {
    const result = await signInThroughEmulator({
      backendBaseUrl: `http://localhost:${backend.server.port()}`,
      userId: lee.id,
    });
    return 'response' in result ? result.response : result;
  } finally {
    await backend.stop();
  }
}

describe('client authentication without a client secret', () => {
  let running: RunningEmulator;
  let privateKey: string;
  const keyId = '6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

  beforeAll(async () => {
    const tenants = loadTenantFile(defaultTenantFile);
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = await exportPKCS8(pair.privateKey);
    // The certificate's public key, uploaded to the app registration.
    tenants[0].applications[0].keyCredentials.push({
      keyId,
      displayName: 'portal certificate',
      key: await exportSPKI(pair.publicKey),
      endDateTime: '2099-01-01T00:00:00Z',
    });
    running = await startEmulator({ tenants, port: 0 });
  });

  afterAll(async () => {
    delete process.env.IDENTITY_ENDPOINT;
    delete process.env.IDENTITY_HEADER;
    await running.close();
  });

  it('signs in with a certificate (private_key_jwt)', async () => {
    const response = await signIn(running, {
      clientCertificate: { privateKey, keyId },
    });
    expect(response.error).toBeUndefined();
    expect(response.response.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/lee.gu',
    );
  });

  it('refuses a certificate the app registration does not hold', async () => {
    const other = await exportPKCS8(
      (
        await generateKeyPair('RS256', { extractable: true })
      ).privateKey,
    );
    const response = await signIn(running, {
      clientCertificate: { privateKey: other, keyId },
    });
    expect(response.response).toBeUndefined();
    expect(response.error.message).toContain('AADSTS700027');
  });

  it("signs in with the managed identity's token (Azure Container Apps), no secret anywhere", async () => {
    process.env.IDENTITY_ENDPOINT = `${running.url}/msi/token`;
    process.env.IDENTITY_HEADER = running.emulator.identityHeader;
    const response = await signIn(running, {
      federatedCredential: { source: 'managedIdentity' },
    });
    expect(response.error).toBeUndefined();
    expect(response.response.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/lee.gu',
    );
  });

  it('refuses to start a sign-in with two client credentials configured', async () => {
    const response = await signIn(running, {
      clientSecret: 'x',
      federatedCredential: { source: 'managedIdentity' },
    });
    expect(response.startStatus).toBe(500);
    expect(response.startBody).toContain(
      'configure exactly one of clientSecret, clientCertificate or federatedCredential',
    );
  });
});
