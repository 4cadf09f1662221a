import { TestDatabases } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { graphScope } from './clouds';
import { readProviderTarget } from './credentials';
import {
  CONTOSO_APP_ID,
  CONTOSO_ID,
  contoso,
  HttpsEmulatorHarness,
  makeClientCertificate,
} from './__testUtils__/httpsEmulator';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('credentials from config', () => {
  const read = (data: JsonObject, env: NodeJS.ProcessEnv = {}) =>
    readProviderTarget(new ConfigReader(data), { env });

  it('picks the cloud: authority, Graph base URL and Graph scope', () => {
    const gov = read({
      tenantId: CONTOSO_ID,
      clientId: CONTOSO_APP_ID,
      clientSecret: 'x',
      authority: 'usgovernment',
    });
    expect(gov).toMatchObject({
      kind: 'clientSecret',
      authority: 'https://login.microsoftonline.us',
      graphBaseUrl: 'https://graph.microsoft.us/v1.0',
      credentials: { scope: 'https://graph.microsoft.us/.default' },
    });
    const china = read({
      tenantId: CONTOSO_ID,
      clientId: CONTOSO_APP_ID,
      clientSecret: 'x',
      authority: 'china',
    });
    expect(china).toMatchObject({
      authority: 'https://login.chinacloudapi.cn',
      graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn/v1.0',
      credentials: {
        scope: 'https://microsoftgraph.chinacloudapi.cn/.default',
      },
    });
    expect(
      read({
        tenantId: CONTOSO_ID,
        clientId: CONTOSO_APP_ID,
        clientSecret: 'x',
      }),
    ).toMatchObject({
      authority: 'https://login.microsoftonline.com',
      graphBaseUrl: 'https://graph.microsoft.com/v1.0',
    });
    // The authority as a URL picks the same cloud.
    expect(
      read({
        tenantId: CONTOSO_ID,
        clientId: CONTOSO_APP_ID,
        clientSecret: 'x',
        authority: 'https://login.microsoftonline.us/',
      }),
    ).toMatchObject({
      authority: 'https://login.microsoftonline.us',
      graphBaseUrl: 'https://graph.microsoft.us/v1.0',
    });
    // A non-Microsoft Graph host (an emulator, a proxy) gets the public Graph scope.
    expect(graphScope('https://graph-proxy.example/v1.0')).toBe(
      'https://graph.microsoft.com/.default',
    );
    expect(() =>
      read({ tenantId: CONTOSO_ID, clientId: 'x', authority: 'germany' }),
    ).toThrow(/neither a URL nor a cloud/);
  });

  it('refuses two credentials at once, and a secret without a client id', () => {
    expect(() =>
      read({
        tenantId: CONTOSO_ID,
        clientId: CONTOSO_APP_ID,
        clientSecret: 'x',
        federatedCredential: { source: 'file', tokenFile: '/t' },
      }),
    ).toThrow(/one of clientSecret/);
    expect(() => read({ tenantId: CONTOSO_ID, clientSecret: 'x' })).toThrow(
      /clientId/,
    );
  });

  it('keeps the in-house client-credentials request for a plain-HTTP authority', () => {
    expect(
      read({
        tenantId: CONTOSO_ID,
        clientId: CONTOSO_APP_ID,
        clientSecret: 'x',
        authority: 'http://localhost:7100',
        target: 'http://localhost:7100/v1.0',
      }).credentials,
    ).toEqual({
      authority: 'http://localhost:7100',
      tenantId: CONTOSO_ID,
      clientId: CONTOSO_APP_ID,
      clientSecret: 'x',
    });
  });

  it('chooses the kind by the keys present', () => {
    const base = { tenantId: CONTOSO_ID, clientId: CONTOSO_APP_ID };
    expect(
      read({
        ...base,
        federatedCredential: { source: 'managedIdentity' },
      }).kind,
    ).toBe('federatedManagedIdentity');
    expect(
      read(
        { ...base, federatedCredential: { source: 'file' } },
        { AZURE_FEDERATED_TOKEN_FILE: '/t' },
      ).kind,
    ).toBe('workloadIdentity');
    expect(() =>
      read({ ...base, federatedCredential: { source: 'file' } }),
    ).toThrow(/AZURE_FEDERATED_TOKEN_FILE is required/);
    // Nothing configured: workload identity when its token file is there, as
    // DefaultAzureCredential would, else the host's managed identity.
    expect(read(base, { AZURE_FEDERATED_TOKEN_FILE: '/t' }).kind).toBe(
      'workloadIdentity',
    );
    expect(read(base).kind).toBe('managedIdentity');
    expect(read({ tenantId: CONTOSO_ID }).kind).toBe('managedIdentity');
  });
});

describe('a sync round with each credential kind, over HTTPS to the emulator', () => {
  let h: HttpsEmulatorHarness;
  let cert: Awaited<ReturnType<typeof makeClientCertificate>>;
  let tmp: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    cert = await makeClientCertificate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-org-cred-'));
    h = await HttpsEmulatorHarness.start(
      contoso(t => {
        const app = t.applications.find(a => a.appId === CONTOSO_APP_ID)!;
        app.keyCredentials.push({
          keyId: '9d0c1f5e-1111-4222-8333-444455556666',
          displayName: 'org sync certificate',
          key: cert.publicKeyPem,
          endDateTime: '2099-01-01T00:00:00Z',
        });
        t.managedIdentities[0].graphApplicationPermissions = [
          'User.Read.All',
          'GroupMember.Read.All',
        ];
        // A second, user-assigned identity that holds no Graph permission.
        t.managedIdentities.push({
          name: 'no-graph',
          clientId: 'b1c2d3e4-0000-4000-8000-00000000000a',
          principalId: 'b1c2d3e4-0000-4000-8000-00000000000b',
          graphApplicationPermissions: [],
        });
      }),
      await databases.init('SQLITE_3'),
    );
  });
  afterAll(async () => {
    process.env = savedEnv;
    await h?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(() => {
    process.env = { ...savedEnv };
  });

  /** Config as a user writes it: https authority, Graph at the emulator. */
  const base = () => ({
    tenantId: CONTOSO_ID,
    authority: h.running.url,
    target: `${h.running.httpUrl}/v1.0`,
  });

  /** Reads the target from config and runs one full round; returns the round and the catalog. */
  async function syncWith(data: JsonObject) {
    const target = readProviderTarget(new ConfigReader(data), {
      tlsOptions: { ca: h.caPem },
    });
    const { provider, catalog } = await h.provider({
      id: `p${Math.random().toString(36).slice(2)}`,
      target: async () => target,
    });
    const summary = await provider.read();
    const users = [...catalog.entities.values()].filter(e => e.kind === 'User');
    return { target, summary, users };
  }

  /** The managed identity endpoint of App Service / Container Apps, at the emulator. */
  const useManagedIdentityEndpoint = () => {
    process.env.IDENTITY_ENDPOINT = `${h.running.httpUrl}/msi/token`;
    process.env.IDENTITY_HEADER = h.running.emulator.identityHeader;
  };

  it('client secret (ClientSecretCredential)', async () => {
    const { secretText } = h.running.emulator.addClientSecret(CONTOSO_APP_ID);
    const { target, summary, users } = await syncWith({
      ...base(),
      clientId: CONTOSO_APP_ID,
      clientSecret: secretText,
    });
    expect(target.kind).toBe('clientSecret');
    expect('credential' in target.credentials).toBe(true);
    expect(summary).toMatchObject({ kind: 'full', users: 20 });
    expect(users.length).toBe(19);
  });

  it('a wrong client secret fails the round with the AADSTS error', async () => {
    const target = readProviderTarget(
      new ConfigReader({
        ...base(),
        clientId: CONTOSO_APP_ID,
        clientSecret: 'not-the-secret',
      }),
      { tlsOptions: { ca: h.caPem } },
    );
    const { provider, catalog } = await h.provider({
      id: 'wrong-secret',
      target: async () => target,
    });
    await expect(provider.read()).rejects.toThrow(/AADSTS7000215/);
    expect(catalog.applyMutation).not.toHaveBeenCalled();
  });

  it('an emulator certificate the client does not trust fails the round', async () => {
    const { secretText } = h.running.emulator.addClientSecret(CONTOSO_APP_ID);
    const target = readProviderTarget(
      new ConfigReader({
        ...base(),
        clientId: CONTOSO_APP_ID,
        clientSecret: secretText,
      }),
    );
    const { provider } = await h.provider({
      id: 'untrusted',
      target: async () => target,
    });
    await expect(provider.read()).rejects.toThrow(/Graph token/);
  });

  it('client certificate (ClientCertificateCredential)', async () => {
    const { target, users } = await syncWith({
      ...base(),
      clientId: CONTOSO_APP_ID,
      clientCertificate: {
        certificate: cert.certPem,
        privateKey: cert.keyPem,
      },
    });
    expect(target.kind).toBe('clientCertificate');
    expect(users.length).toBe(19);
  });

  const portalIdentity = () =>
    h.running.emulator.tenants.get(CONTOSO_ID)!.managedIdentities[0];

  it("managed identity (ManagedIdentityCredential) with the identity's own Graph permissions", async () => {
    useManagedIdentityEndpoint();
    const { target, users } = await syncWith({
      tenantId: CONTOSO_ID,
      clientId: portalIdentity().clientId,
      target: `${h.running.httpUrl}/v1.0`,
    });
    expect(target.kind).toBe('managedIdentity');
    expect(users.length).toBe(19);
  });

  it('a managed identity without Graph permissions gets 403 and writes nothing', async () => {
    useManagedIdentityEndpoint();
    const target = readProviderTarget(
      new ConfigReader({
        tenantId: CONTOSO_ID,
        clientId: 'b1c2d3e4-0000-4000-8000-00000000000a',
        target: `${h.running.httpUrl}/v1.0`,
      }),
    );
    const { provider, catalog } = await h.provider({
      id: 'mi-no-perms',
      target: async () => target,
    });
    await expect(provider.read()).rejects.toThrow(
      /Authorization_RequestDenied/,
    );
    expect(catalog.applyMutation).not.toHaveBeenCalled();
  });

  it("managed identity as the app's client assertion (federatedCredential)", async () => {
    useManagedIdentityEndpoint();
    const { target, users } = await syncWith({
      ...base(),
      clientId: CONTOSO_APP_ID,
      federatedCredential: {
        source: 'managedIdentity',
        managedIdentityClientId: portalIdentity().clientId,
      },
    });
    expect(target.kind).toBe('federatedManagedIdentity');
    expect(users.length).toBe(19);
  });

  it('workload identity federation from AZURE_FEDERATED_TOKEN_FILE', async () => {
    // The token a Kubernetes service account would project: here the emulator's managed
    // identity token for Entra's token exchange audience, which the app trusts.
    const res = await fetch(
      `${
        h.running.httpUrl
      }/msi/token?api-version=2019-08-01&resource=api://AzureADTokenExchange&client_id=${
        portalIdentity().clientId
      }`,
      {
        headers: { 'x-identity-header': h.running.emulator.identityHeader },
      },
    );
    const { access_token } = (await res.json()) as { access_token: string };
    const file = path.join(tmp, 'azure-identity-token');
    fs.writeFileSync(file, access_token);
    process.env.AZURE_FEDERATED_TOKEN_FILE = file;
    const target = readProviderTarget(
      new ConfigReader({
        ...base(),
        clientId: CONTOSO_APP_ID,
        federatedCredential: { source: 'file' },
      }),
      { tlsOptions: { ca: h.caPem } },
    );
    expect(target.kind).toBe('workloadIdentity');
    const { provider, catalog } = await h.provider({
      id: 'workload',
      target: async () => target,
    });
    await provider.read();
    expect(
      [...catalog.entities.values()].filter(e => e.kind === 'User').length,
    ).toBe(19);
  });
});
