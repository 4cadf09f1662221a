import http from 'node:http';
import {
  ProductionEnvironment,
  startProductionEnvironment,
} from './environment';
import { signInOnceSynced } from './signIn';

jest.setTimeout(180_000);

describe('the production build on Postgres', () => {
  let env: ProductionEnvironment;

  beforeAll(async () => {
    env = await startProductionEnvironment();
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('serves the app and the catalog API, signed in through the tenant', async () => {
    const backend = await env.startBackend();

    const index = await fetch(`${backend.baseUrl}/`);
    expect(index.status).toBe(200);
    const html = await index.text();
    expect(html).toContain('<title>Gatehouse</title>');
    // The runtime config the app backend injects carries the production base URL.
    expect(html).toContain(backend.baseUrl);

    expect(
      (await fetch(`${backend.baseUrl}/.backstage/health/v1/liveness`)).status,
    ).toBe(200);
    expect(
      (await fetch(`${backend.baseUrl}/api/catalog/entities?limit=1`)).status,
    ).toBe(401);

    const alex = await signInOnceSynced(
      backend.baseUrl,
      env.userId('alex.wilber@contoso.example'),
    );
    expect(alex.userEntityRef).toBe('user:default/alex.wilber');
    const users = await fetch(
      `${backend.baseUrl}/api/catalog/entities/by-query?filter=kind=user&limit=100`,
      { headers: { authorization: `Bearer ${alex.token}` } },
    );
    expect(users.status).toBe(200);
    const names = ((await users.json()) as any).items.map(
      (e: any) => e.metadata.name,
    );
    expect(names).toContain('alex.wilber');
    // Read from Graph, so the database really holds the org: Debra's account is disabled.
    expect(names).not.toContain('debra.berger');

    // The data is in Postgres: the catalog plugin's own database holds the entities.
    const { Client } = require('pg') as typeof import('pg');
    const client = new Client({
      ...env.postgres.connection,
      database: 'backstage_plugin_catalog',
    });
    await client.connect();
    const { rows } = await client.query(
      "select count(*)::int as n from final_entities where entity_ref like 'user:%'",
    );
    await client.end();
    expect(rows[0].n).toBe(names.length);

    expect(await backend.stop()).toBe(0);
  });

  it('on SIGTERM answers readiness 503, completes the request in flight, then exits 0', async () => {
    const backend = await env.startBackend();
    const alex = await signInOnceSynced(
      backend.baseUrl,
      env.userId('alex.wilber@contoso.example'),
    );
    expect(
      (await fetch(`${backend.baseUrl}/.backstage/health/v1/readiness`)).status,
    ).toBe(200);

    // A request in flight: its headers are sent, its body is held back until the backend
    // has begun to shut down.
    const url = new URL(`${backend.baseUrl}/api/catalog/entities/by-refs`);
    const body = JSON.stringify({ entityRefs: ['user:default/alex.wilber'] });
    let finish = () => {};
    const inFlight = new Promise<{ status: number; body: string }>(
      (resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: {
              authorization: `Bearer ${alex.token}`,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          res => {
            let text = '';
            res.on('data', d => (text += d));
            res.on('end', () =>
              resolve({ status: res.statusCode!, body: text }),
            );
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 10));
        finish = () => req.end(body.slice(10));
      },
    );
    // Let the request reach the catalog's router before the signal.
    await new Promise(r => setTimeout(r, 500));

    backend.process.kill('SIGTERM');
    let readiness = 0;
    while (readiness !== 503) {
      const res = await fetch(
        `${backend.baseUrl}/.backstage/health/v1/readiness`,
      ).catch(() => undefined);
      if (!res) throw new Error('the server closed before readiness said 503');
      readiness = res.status;
    }
    expect(readiness).toBe(503);
    expect(
      (await fetch(`${backend.baseUrl}/.backstage/health/v1/liveness`)).status,
    ).toBe(200);

    // Within the shutdown delay (GATEHOUSE_SHUTDOWN_DELAY) the server still serves, so the
    // request completes, permission check included: that check is an HTTP call to the
    // permission plugin of this same server, which fails once the server stops listening.
    finish();
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body).items[0].metadata.name).toBe(
      'alex.wilber',
    );

    expect(await backend.exited).toBe(0);
    expect(backend.output()).not.toMatch(/Shutdown hook failed/);
  });

  it.each([
    ['AZURE_CLIENT_SECRET', 'auth.providers.microsoft.production.clientSecret'],
    ['POSTGRES_PASSWORD', 'backend.database.connection.password'],
    ['AUTH_STATE_SECRET', 'auth.providers.microsoft.production.stateSecret'],
  ])('refuses to start without %s, naming %s', async (variable, key) => {
    const backend = await env.startBackend({
      env: { [variable]: undefined },
      waitForReady: false,
    });
    const code = await backend.exited;
    expect(code).not.toBe(0);
    expect(backend.output()).toContain(
      `required configuration is missing: ${key} (set ${variable})`,
    );
    // It stopped before any plugin started.
    expect(backend.output()).not.toMatch(/Listening on/);
  });

  it('with the entra-db overlay, asks the managed identity for a Postgres token instead of using a password', async () => {
    const tenant = [...env.emulator.emulator.tenants.values()][0];
    const identity = tenant.managedIdentities[0];
    await fetch(`${env.emulator.url}/_emulator/counters`, { method: 'DELETE' });
    const backend = await env.startBackend({
      configFiles: ['app-config.production.entra-db.yaml'],
      env: {
        POSTGRES_PASSWORD: undefined,
        AZURE_POSTGRES_IDENTITY_CLIENT_ID: identity.clientId,
        // Azure Container Apps' managed identity endpoint, played by the emulator.
        IDENTITY_ENDPOINT: `${env.emulator.url}/msi/token`,
        IDENTITY_HEADER: env.emulator.emulator.identityHeader,
      },
      waitForReady: false,
    });
    // The emulator knows the identity (a wrong client id is refused before the resource is
    // looked at) but issues no tokens for Azure Database for PostgreSQL, and the test
    // Postgres could not check one: start-up stops at the token, having asked for the right
    // resource with the configured identity.
    expect(await backend.exited).not.toBe(0);
    const counters = (await (
      await fetch(`${env.emulator.url}/_emulator/counters`)
    ).json()) as Record<string, { requests: number }>;
    expect(counters['GET /msi/token']?.requests).toBeGreaterThan(0);
    expect(backend.output()).toContain(
      'The resource principal named https://ossrdbms-aad.database.windows.net was not found',
    );
    expect(backend.output()).not.toContain('required configuration is missing');
  });
});
