import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import {
  defaultTenantFile,
  EmulatedApplication,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import { JsonObject } from '@backstage/types';
import { DiagnosticCheck } from './checks';
import diagnosticsPlugin from './index';

/**
 * The real plugin in a real backend, reading the app registration of the seeded tenant from
 * the emulator's Microsoft Graph over HTTP, as it would read a real tenant.
 */
describe('diagnostics at /api/diagnostics/checks', () => {
  let emulator: RunningEmulator;
  let app: EmulatedApplication;
  let tenantId: string;
  let clientSecret: string;
  const user = { authorization: mockCredentials.user.header() };

  beforeAll(async () => {
    emulator = await startEmulator({
      tenantFile: defaultTenantFile,
      port: 0,
      host: '127.0.0.1',
    });
    const tenant = [...emulator.emulator.tenants.values()][0];
    tenantId = tenant.id;
    app = tenant.applications[0];
    clientSecret = emulator.emulator.addClientSecret(app.appId).secretText;
  });

  afterAll(async () => {
    await emulator.close();
  });

  /** Production-like config for the emulator's tenant, as a real tenant would be set. */
  function config(baseUrl: string, overrides: JsonObject = {}) {
    return {
      app: { baseUrl },
      backend: { baseUrl, cors: { origin: baseUrl, credentials: true } },
      gatehouse: { emulator: { enabled: false } },
      auth: {
        environment: 'production',
        providers: {
          microsoft: {
            production: {
              clientId: app.appId,
              tenantId,
              clientSecret,
              authority: emulator.url,
              graphUrl: `${emulator.url}/v1.0`,
            },
          },
        },
      },
      catalog: {
        providers: {
          microsoftGraphOrg: {
            default: { clientId: app.appId, tenantId, clientSecret },
          },
        },
      },
      ...overrides,
    };
  }

  async function start(data: JsonObject, ...extra: any[]) {
    const logger = mockServices.logger.mock();
    const backend = await startTestBackend({
      features: [
        diagnosticsPlugin,
        logger.factory,
        mockServices.rootConfig.factory({ data }),
        ...extra,
      ],
    });
    const base = `http://127.0.0.1:${backend.server.port()}`;
    return { backend, base, logger };
  }

  async function checks(
    base: string,
    headers: Record<string, string> = {},
  ): Promise<{ ok: boolean; checks: Record<string, DiagnosticCheck> }> {
    const res = await fetch(`${base}/api/diagnostics/checks`, {
      headers: { ...user, ...headers },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      ok: boolean;
      checks: DiagnosticCheck[];
    };
    return {
      ok: body.ok,
      checks: Object.fromEntries(body.checks.map(c => [c.id, c])),
    };
  }

  it('passes for a portal configured as its app registration says', async () => {
    // The seeded app registers http://localhost:7007/api/auth/microsoft/handler/frame.
    const { backend, base, logger } = await start(
      config('http://localhost:7007'),
    );
    const { ok, checks: c } = await checks(base, {
      'x-forwarded-host': 'localhost:7007',
      'x-forwarded-proto': 'http',
      referer: 'http://localhost:7007/catalog',
    });
    expect(ok).toBe(true);
    expect(c['provider-config'].status).toBe('pass');
    expect(c['redirect-uri']).toMatchObject({
      status: 'pass',
      details: {
        expected: 'http://localhost:7007/api/auth/microsoft/handler/frame',
      },
    });
    expect(c.origins.status).toBe('pass');
    // The secret the test created expires in 180 days: it is found by its hint and valid.
    expect(c['client-secret'].status).toBe('pass');
    expect(logger.error).not.toHaveBeenCalled();
    await backend.stop();
  });

  it('finds the AADSTS50011 mismatch before anyone signs in, and logs it at start-up', async () => {
    const { backend, base, logger } = await start(
      config('https://portal.contoso.example'),
    );
    const { ok, checks: c } = await checks(base);
    expect(ok).toBe(false);
    const check = c['redirect-uri'];
    expect(check.status).toBe('fail');
    expect(check.message).toContain(
      'https://portal.contoso.example/api/auth/microsoft/handler/frame is not among the Web redirect URIs',
    );
    expect(check.message).toContain(
      'http://localhost:7007/api/auth/microsoft/handler/frame',
    );
    expect(check.fix).toContain('Redirect URIs');
    expect(logger.error).toHaveBeenCalledWith(
      expect.stringContaining(
        'Diagnostics fail: The redirect URI is registered in Entra ID',
      ),
      { check: 'redirect-uri', status: 'fail' },
    );
    await backend.stop();
  });

  it('explains a blank popup: the portal is reached at another URL than configured', async () => {
    const { backend, base } = await start(config('http://localhost:7007'));
    const { checks: c } = await checks(base, {
      'x-forwarded-host': 'ca-gatehouse-prod.example.azurecontainerapps.io',
      'x-forwarded-proto': 'https',
      referer: 'https://ca-gatehouse-prod.example.azurecontainerapps.io/',
    });
    expect(c.origins.status).toBe('fail');
    expect(c.origins.message).toContain(
      'The backend is reached at https://ca-gatehouse-prod.example.azurecontainerapps.io, but backend.baseUrl is http://localhost:7007',
    );
    expect(c.origins.fix).toContain(
      'Set backend.baseUrl (APP_BASE_URL on Azure) to https://ca-gatehouse-prod.example.azurecontainerapps.io',
    );
    await backend.stop();
  });

  it('says when it cannot read the app registration (no Application.Read.All)', async () => {
    const granted = [...app.graphApplicationPermissions];
    app.graphApplicationPermissions = granted.filter(
      p => p !== 'Application.Read.All' && p !== 'Directory.Read.All',
    );
    try {
      const { backend, base } = await start(config('http://localhost:7007'));
      const { checks: c } = await checks(base);
      expect(c['redirect-uri'].status).toBe('warn');
      expect(c['redirect-uri'].message).toContain('Application.Read.All');
      expect(c['client-secret'].status).toBe('skip');
      await backend.stop();
    } finally {
      app.graphApplicationPermissions = granted;
    }
  });

  it('warns before the client secret expires', async () => {
    const soon = emulator.emulator.addClientSecret(app.appId, {
      endDateTime: new Date(Date.now() + 10 * 86_400_000),
    }).secretText;
    const data = config('http://localhost:7007');
    (data.auth.providers.microsoft.production as any).clientSecret = soon;
    const { backend, base } = await start(data);
    const { checks: c } = await checks(base);
    expect(c['client-secret'].status).toBe('warn');
    expect(c['client-secret'].message).toMatch(/expires in (9|10) days/);
    await backend.stop();
  });

  it('fails on a missing provider config, naming the key', async () => {
    const { backend, base, logger } = await start(
      config('http://localhost:7007', {
        auth: { environment: 'production', providers: {} },
      }),
    );
    const { checks: c } = await checks(base);
    expect(c['provider-config'].status).toBe('fail');
    expect(c['provider-config'].message).toContain(
      'auth.providers.microsoft.production is missing',
    );
    expect(logger.error).toHaveBeenCalledWith(
      expect.stringContaining('Microsoft sign-in is configured'),
      { check: 'provider-config', status: 'fail' },
    );
    await backend.stop();
  });

  it('reports the image it runs', async () => {
    process.env.GATEHOUSE_IMAGE = 'crgatehouseprod.azurecr.io/gatehouse:abc123';
    try {
      const { backend, base } = await start(config('http://localhost:7007'));
      const { checks: c } = await checks(base);
      expect(c.image.status).toBe('pass');
      expect(c.image.message).toContain(
        'crgatehouseprod.azurecr.io/gatehouse:abc123',
      );
      await backend.stop();
    } finally {
      delete process.env.GATEHOUSE_IMAGE;
    }
  });

  it('answers signed-in people only', async () => {
    // Requests without a token carry no credentials (the test default is a user).
    const { backend, base } = await start(
      config('http://localhost:7007'),
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
    );
    const anonymous = await fetch(`${base}/api/diagnostics/checks`);
    expect(anonymous.status).toBe(401);
    const service = await fetch(`${base}/api/diagnostics/checks`, {
      headers: { authorization: mockCredentials.service.header() },
    });
    expect(service.status).toBe(403);
    await backend.stop();
  });
});
