import https from 'node:https';
import { emulatorHostRoutes, installHostRouting } from './hostRouting';
import { defaultTenantFile } from './paths';
import { RunningEmulator, startEmulator } from './server';
import { loadTenantFile } from './tenant/loadTenants';

const TENANT = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';

/** GET over node:https (what MSAL and the Azure SDK use); JSON body and status. */
function get(url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, res => {
        let text = '';
        res.on('data', d => {
          text += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }),
        );
      })
      .on('error', reject);
  });
}

describe('routing Microsoft host names to the emulator', () => {
  let e: RunningEmulator;
  let uninstall: () => void;

  beforeAll(async () => {
    e = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
      https: true,
      adoHttps: true,
    });
    uninstall = installHostRouting(emulatorHostRoutes(e));
  });
  afterAll(async () => {
    uninstall?.();
    await e?.close();
  });

  const discovery = (authorize: string) =>
    get(
      `https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(
        authorize,
      )}`,
    );

  it('answers instance discovery for login.microsoftonline.com with its aliases', async () => {
    const res = await discovery(
      `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/authorize`,
    );
    expect(res.status).toBe(200);
    expect(res.body.tenant_discovery_endpoint).toBe(
      `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
    );
    expect(res.body.metadata[0]).toMatchObject({
      preferred_network: 'login.microsoftonline.com',
      aliases: expect.arrayContaining(['login.windows.net']),
    });
  });

  it('refuses instance discovery for an authority that is not Microsoft (AADSTS50049)', async () => {
    const res = await discovery(`${e.url}/${TENANT}/oauth2/v2.0/authorize`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: 'invalid_instance',
      error_codes: [50049],
    });
    const missing = await get(
      'https://login.microsoftonline.com/common/discovery/instance?api-version=1.1',
    );
    expect(missing.status).toBe(400);
    expect(missing.body.error_codes).toEqual([900144]);
  });

  it("names the tenant's endpoints under login.microsoftonline.com when asked there", async () => {
    const res = await get(
      `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      token_endpoint: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
      authorization_endpoint: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/authorize`,
      jwks_uri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
    });
    // Asked under its own name, the emulator names its own endpoints.
    const own = await fetch(
      `${e.httpUrl}/${TENANT}/v2.0/.well-known/openid-configuration`,
    );
    expect((await own.json()).token_endpoint).toBe(
      `${e.url}/${TENANT}/oauth2/v2.0/token`,
    );
  });

  it('refuses an unknown tenant under the real host name (AADSTS90002)', async () => {
    const res = await get(
      'https://login.microsoftonline.com/00000000-0000-4000-8000-00000000dead/v2.0/.well-known/openid-configuration',
    );
    expect(res.status).toBe(400);
    expect(res.body.error_codes).toEqual([90002]);
  });

  it.each(['dev.azure.com', 'almsearch.dev.azure.com'])(
    'serves %s from the emulator, which asks for credentials',
    async host => {
      const status = await new Promise<number>((resolve, reject) =>
        https
          .get(
            `https://${host}/contoso/_apis/projects?api-version=7.1`,
            { headers: { 'X-TFS-FedAuthRedirect': 'Suppress' } },
            r => {
              r.resume();
              resolve(r.statusCode ?? 0);
            },
          )
          .on('error', reject),
      );
      expect(status).toBe(401);
    },
  );

  it('trusts the emulator CA for the routed names only', async () => {
    // The same listener under its own name is not trusted: TLS checks stay on elsewhere.
    await expect(
      get(`${e.url}/${TENANT}/v2.0/.well-known/openid-configuration`),
    ).rejects.toThrow(/certificate/i);
  });
});
