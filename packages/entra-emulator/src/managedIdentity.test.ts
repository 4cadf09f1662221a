import { defaultTenantFile } from './paths';
import { startEmulator, RunningEmulator } from './server';
import { loadTenantFile } from './tenant/loadTenants';

const APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';
const TENANT = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('managed identity and workload identity federation', () => {
  let running: RunningEmulator;
  beforeAll(async () => {
    running = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
  });
  afterAll(() => running.close());

  const miToken = async (
    headers: Record<string, string>,
    query = 'resource=api://AzureADTokenExchange&api-version=2019-08-01',
  ) => fetch(`${running.url}/msi/token?${query}`, { headers });

  const tokenWithAssertion = (assertion: string) =>
    fetch(`${running.url}/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: APP_ID,
        scope: 'https://graph.microsoft.com/.default',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
      }),
    });

  it('gives the app a Graph token for a managed identity token, with no secret anywhere', async () => {
    const mi = await miToken({
      'x-identity-header': running.emulator.identityHeader,
    });
    expect(mi.status).toBe(200);
    const { access_token: assertion } = (await mi.json()) as {
      access_token: string;
    };
    const res = await tokenWithAssertion(assertion);
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    expect(body.access_token).toEqual(expect.any(String));
  });

  it('refuses the managed identity endpoint without the identity header', async () => {
    const res = await miToken({});
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('access_token');
  });

  it('refuses an assertion whose subject no federated credential trusts (AADSTS700213)', async () => {
    const forged = await running.emulator.keys.sign({
      iss: `${running.url}/${TENANT}/v2.0`,
      sub: '00000000-0000-4000-8000-000000000bad',
      aud: 'api://AzureADTokenExchange',
      exp: running.emulator.nowSeconds() + 600,
      iat: running.emulator.nowSeconds(),
    });
    const res = await tokenWithAssertion(forged);
    const body = (await res.json()) as {
      error: string;
      error_codes: number[];
      access_token?: string;
    };
    expect(res.status).toBe(401);
    expect(body.error).toBe('invalid_client');
    expect(body.error_codes).toEqual([700213]);
    expect(body.access_token).toBeUndefined();
  });

  it('refuses an assertion from an issuer no federated credential trusts (AADSTS700211)', async () => {
    const forged = await running.emulator.keys.sign({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:contoso/portal:ref:refs/heads/main',
      aud: 'api://AzureADTokenExchange',
      exp: running.emulator.nowSeconds() + 600,
    });
    const body = (await (await tokenWithAssertion(forged)).json()) as {
      error_codes: number[];
      access_token?: string;
    };
    expect(body.error_codes).toEqual([700211]);
    expect(body.access_token).toBeUndefined();
  });

  it('refuses a managed identity token meant for Graph as an assertion', async () => {
    const mi = await miToken(
      { 'x-identity-header': running.emulator.identityHeader },
      'resource=https://graph.microsoft.com&api-version=2019-08-01',
    );
    const { access_token: graphToken } = (await mi.json()) as {
      access_token: string;
    };
    // A v1 Graph token's issuer is not the v2.0 issuer the credential trusts.
    const body = (await (await tokenWithAssertion(graphToken)).json()) as {
      error_codes: number[];
    };
    expect(body.error_codes[0]).toBeGreaterThanOrEqual(700211);
    expect(body.error_codes[0]).toBeLessThanOrEqual(700213);
  });
});
