import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AdoOrganizationSeed,
  defaultTenantFile,
  emulatorProcessEnv,
  hostRoutingPreload,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';

/*
 * `catalog.locations` URLs in Azure DevOps repositories, read by a real running catalog with
 * every kind of `integrations.azure` credential at once, each scoped to its own organization.
 * The backend (Backstage's catalog and our credential check, as packages/backend wires them)
 * runs in a child process whose `dev.azure.com` and `login.microsoftonline.com` are routed to
 * the emulator; each organization admits only the principal its credential stands for, so an
 * entity in the catalog shows that the right credential was used.
 */

jest.setTimeout(120_000);

const TENANT = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
const APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82'; // "Gatehouse (local)"
const USER = 'alex.wilber@contoso.example';
const USER_ASSIGNED = {
  name: 'ado-reader',
  clientId: '7d1f4a3b-2c5e-4f60-8a9b-0c1d2e3f4a5b',
  principalId: '0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e',
};

/** An organization with one repository whose catalog file names the organization. */
function organization(name: string, members: string[]): AdoOrganizationSeed {
  return {
    name,
    members,
    personalAccessTokens: [],
    projects: [
      {
        name: 'Services',
        visibility: 'private',
        pipelines: [],
        repositories: [
          {
            name: 'service',
            defaultBranch: 'main',
            pullRequests: [],
            branches: {
              main: {
                'catalog-info.yaml': `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}-service\nspec:\n  type: service\n  lifecycle: production\n  owner: platform\n`,
              },
            },
          },
        ],
      },
    ],
  };
}

const target = (org: string) =>
  `https://dev.azure.com/${org}/Services/_git/service?path=/catalog-info.yaml`;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise(r => server.close(r));
  return port;
}

class BackendExited extends Error {}

async function eventually<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(error => {
      if (error instanceof BackendExited) throw error;
      return undefined; // not listening yet
    });
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 500));
  }
}

interface Entity {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { target?: string };
  status?: { items?: Array<{ level: string; message: string }> };
}

describe('catalog.locations in Azure DevOps, read by a running catalog with each credential kind', () => {
  let e: RunningEmulator;
  let child: ChildProcess | undefined;
  let dir: string;
  let base: string;
  let stderr = '';
  let logs = '';
  const secrets: string[] = [];
  const token = randomBytes(24).toString('base64url');

  beforeAll(async () => {
    const tenants = loadTenantFile(defaultTenantFile);
    const contoso = tenants.find(t => t.id === TENANT)!;
    contoso.managedIdentities[0].systemAssigned = true;
    contoso.managedIdentities.push(USER_ASSIGNED);
    contoso.azureDevOps!.organizations.push(
      organization('contoso-apps', ['Gatehouse (local)']),
      organization('contoso-assert', ['Gatehouse (local)']),
      organization('contoso-system', ['gatehouse-portal']),
      organization('contoso-reader', ['ado-reader']),
      organization('contoso-people', [USER]),
      organization('contoso-unlisted', ['Gatehouse (local)']),
    );
    e = await startEmulator({ tenants, port: 0, https: true, adoHttps: true });
    const secret = e.emulator.addClientSecret(APP_ID).secretText;
    const pat = e.ado.createPersonalAccessToken('contoso-people', USER).token;
    secrets.push(secret, pat, token);

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const orgs = [
      'contoso-apps',
      'contoso-assert',
      'contoso-system',
      'contoso-reader',
      'contoso-people',
      'contoso-unlisted',
    ];
    const config = {
      app: { baseUrl: base },
      backend: {
        baseUrl: base,
        listen: { port, host: '127.0.0.1' },
        database: { client: 'better-sqlite3', connection: ':memory:' },
        auth: {
          externalAccess: [
            { type: 'static', options: { token, subject: 'test' } },
          ],
        },
      },
      integrations: {
        azure: [
          {
            host: 'dev.azure.com',
            credentials: [
              {
                organizations: ['contoso-apps'],
                clientId: APP_ID,
                clientSecret: secret,
                tenantId: TENANT,
              },
              {
                organizations: ['contoso-assert'],
                clientId: APP_ID,
                managedIdentityClientId: 'system-assigned',
                tenantId: TENANT,
              },
              {
                organizations: ['contoso-system'],
                clientId: 'system-assigned',
              },
              {
                organizations: ['contoso-reader'],
                clientId: USER_ASSIGNED.clientId,
              },
              { organizations: ['contoso-people'], personalAccessToken: pat },
            ],
          },
        ],
      },
      catalog: {
        rules: [{ allow: ['Component', 'Location'] }],
        locations: orgs.map(org => ({ type: 'url', target: target(org) })),
      },
    };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-locations-'));
    // JSON is YAML: Backstage's config loader reads it as given.
    const file = path.join(dir, 'app-config.yaml');
    fs.writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    child = spawn(
      process.execPath,
      [
        '--require',
        require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        '--require',
        hostRoutingPreload(),
        require.resolve('./__testUtils__/catalogChild'),
        '--config',
        file,
      ],
      {
        // The package's directory: Backstage finds the repository root from there.
        env: {
          PATH: process.env.PATH,
          LOG_LEVEL: 'warn',
          ...emulatorProcessEnv(e),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stderr!.on('data', d => {
      stderr += d;
    });
    child.stdout!.on('data', d => {
      logs += d;
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise(r => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await e?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = async <T>(p: string): Promise<T | undefined> => {
    if (child?.exitCode !== null)
      throw new BackendExited(`the backend exited: ${stderr}`);
    const res = await fetch(`${base}${p}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return res.ok ? ((await res.json()) as T) : undefined;
  };

  it.each([
    ['a client secret', 'contoso-apps'],
    ['a client assertion from the managed identity', 'contoso-assert'],
    ['the system-assigned managed identity', 'contoso-system'],
    ['a user-assigned managed identity by client id', 'contoso-reader'],
    ['a personal access token', 'contoso-people'],
  ])(
    'registers the component of an organization read with %s',
    async (_, org) => {
      const entity = await eventually(`component ${org}-service`, () =>
        get<Entity>(
          `/api/catalog/entities/by-name/component/default/${org}-service`,
        ),
      );
      expect(
        entity.metadata.annotations?.['backstage.io/managed-by-location'],
      ).toBe(`url:${target(org)}`);
    },
  );

  it('logs a warning naming the organization no credential fits, and registers nothing from it', async () => {
    // A location whose first processing fails never reaches the catalog's API (its error
    // stays in the refresh state); the credential check logs the refusal, which is where a
    // platform engineer sees it.
    const line = await eventually('the location warning', async () =>
      logs
        .split('\n')
        .find(
          l => l.includes('contoso-unlisted') && /fits organization/.test(l),
        ),
    );
    expect(line).toContain(
      "No credential in integrations.azure for dev.azure.com fits organization 'contoso-unlisted'",
    );
    expect(
      await get(
        '/api/catalog/entities/by-name/component/default/contoso-unlisted-service',
      ),
    ).toBeUndefined();
    // No secret in the log: the client secret, the PAT and the static token stay out of it.
    for (const secret of secrets) expect(logs).not.toContain(secret);
    // The five others were read, each with its own credential: the client secret and the
    // client assertion at login.microsoftonline.com, the managed identities at the identity
    // endpoint.
    const counters = e.emulator.faults.snapshot();
    expect(
      counters['POST /{tenant}/oauth2/v2.0/token']?.requests,
    ).toBeGreaterThanOrEqual(2);
    expect(counters['GET /msi/token']?.requests).toBeGreaterThanOrEqual(2);
  });
});
