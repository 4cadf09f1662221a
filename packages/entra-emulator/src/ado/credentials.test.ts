import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { defaultTenantFile } from '../paths';
import { emulatorProcessEnv, hostRoutingPreload } from '../hostRouting';
import { RunningEmulator, startEmulator } from '../server';
import { loadTenantFile } from '../tenant/loadTenants';
import { EmulatedManagedIdentity } from '../tenant/types';
import { AdoOrganizationSeed } from './model';

/*
 * Each kind of `integrations.azure` credential, end to end: Backstage's own UrlReader
 * (`@backstage/backend-defaults`, `@backstage/integration`, `@azure/identity`, all unchanged)
 * runs in a child process whose `dev.azure.com` and `login.microsoftonline.com` are routed to
 * the emulator's HTTPS listeners (hostRouting.ts). A child process is needed because a global
 * undici dispatcher set under Jest does not reach `fetch`.
 */

const TENANT = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
const APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82'; // "Gatehouse (local)"
const USER = 'alex.wilber@contoso.example';
const CHILD = require.resolve('./__testUtils__/readUrlsChild');
const LOADER = require.resolve('@backstage/cli/config/nodeTransform.cjs');

const TOKEN = 'POST /{tenant}/oauth2/v2.0/token';
const MSI = 'GET /msi/token';

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

const fileUrl = (org: string, host = 'dev.azure.com') =>
  `https://${host}/${org}/Services/_git/service?path=/catalog-info.yaml`;

interface ReadResult {
  url: string;
  ok: boolean;
  text?: string;
  error?: string;
}

describe('integrations.azure credentials, end to end through Backstage UrlReader', () => {
  let e: RunningEmulator;
  let clockOffsetMs = 0;
  let secret: string;
  let userAssigned: EmulatedManagedIdentity;

  beforeAll(async () => {
    const tenants = loadTenantFile(defaultTenantFile);
    const contoso = tenants.find(t => t.id === TENANT)!;
    // The portal's identity is the app's system-assigned one; a second, user-assigned
    // identity may use only its own organization.
    contoso.managedIdentities[0].systemAssigned = true;
    userAssigned = {
      name: 'ado-reader',
      clientId: '7d1f4a3b-2c5e-4f60-8a9b-0c1d2e3f4a5b',
      principalId: '0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e',
    };
    contoso.managedIdentities.push(userAssigned);
    // Each organization admits one principal, so a read that works shows which one was used.
    contoso.azureDevOps!.organizations.push(
      organization('contoso-apps', ['Gatehouse (local)']),
      organization('contoso-system', ['gatehouse-portal']),
      organization('contoso-reader', ['ado-reader']),
      organization('contoso-people', [USER]),
    );
    e = await startEmulator({
      tenants,
      port: 0,
      https: true,
      adoHttps: true,
      // Short-lived Entra tokens: MSAL and Backstage's cache renew a token this close to
      // expiry on every use, and the test moves the emulator's clock past it.
      tokenLifetimeSeconds: 240,
      clock: { now: () => new Date(Date.now() + clockOffsetMs) },
    });
    secret = e.emulator.addClientSecret(APP_ID).secretText;
  });
  afterAll(() => e?.close());
  beforeEach(() => e.emulator.faults.resetCounters());

  const requests = (route: string): number =>
    e.emulator.faults.snapshot()[route]?.requests ?? 0;

  /**
   * Runs the child with this config and reads `urls` one after another; `between(i)` runs
   * after read i and before the next one.
   */
  async function readInChild(
    credentials: object[],
    urls: string[],
    options: {
      host?: string;
      between?: (i: number) => Promise<void>;
    } = {},
  ): Promise<ReadResult[]> {
    const config = {
      integrations: {
        azure: [{ host: options.host ?? 'dev.azure.com', credentials }],
      },
    };
    const child = spawn(
      process.execPath,
      ['--require', LOADER, '--require', hostRoutingPreload(), CHILD],
      {
        env: {
          PATH: process.env.PATH,
          ...emulatorProcessEnv(e),
          GATEHOUSE_CHILD_INPUT: JSON.stringify({ config, urls }),
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', d => {
      stderr += d;
    });
    const exited = new Promise<number | null>(resolve =>
      child.on('exit', code => resolve(code)),
    );
    const results: ReadResult[] = [];
    for await (const line of createInterface({ input: child.stdout })) {
      results.push(JSON.parse(line));
      await options.between?.(results.length - 1);
      child.stdin.write('next\n');
      if (results.length === urls.length) break;
    }
    const code = await exited;
    if (code !== 0 || results.length !== urls.length) {
      throw new Error(`the child process failed (exit ${code}): ${stderr}`);
    }
    return results;
  }

  const expectRead = (result: ReadResult, org: string) => {
    expect(result).toMatchObject({ ok: true });
    expect(result.text).toContain(`name: ${org}-service`);
  };

  it('reads with a personal access token on a host of its own', async () => {
    const pat = e.ado.createPersonalAccessToken('contoso-people', USER).token;
    const [result] = await readInChild(
      [{ personalAccessToken: pat }],
      [fileUrl('contoso-people', e.adoHost).replace('https:', 'http:')],
      { host: e.adoHost },
    );
    expectRead(result, 'contoso-people');
    expect(requests(TOKEN) + requests(MSI)).toBe(0);
  });

  it('reads dev.azure.com with a service principal and its client secret', async () => {
    const [result] = await readInChild(
      [{ clientId: APP_ID, clientSecret: secret, tenantId: TENANT }],
      [fileUrl('contoso-apps')],
    );
    expectRead(result, 'contoso-apps');
    expect(requests(TOKEN)).toBe(1);
    expect(requests(MSI)).toBe(0);
  });

  it('refuses a wrong client secret with the Entra error, naming nothing secret', async () => {
    const [result] = await readInChild(
      [{ clientId: APP_ID, clientSecret: 'not-the-secret', tenantId: TENANT }],
      [fileUrl('contoso-apps')],
    );
    expect(result.ok).toBe(false);
    expect(result.error).toContain('AADSTS7000215');
    expect(result.error).not.toContain('not-the-secret');
  });

  it('reads with the system-assigned managed identity', async () => {
    const [result] = await readInChild(
      [{ clientId: 'system-assigned' }],
      [fileUrl('contoso-system')],
    );
    expectRead(result, 'contoso-system');
    expect(requests(MSI)).toBe(1);
    expect(requests(TOKEN)).toBe(0);
  });

  it('reads with a user-assigned managed identity picked by its client id', async () => {
    const [own, other] = await readInChild(
      [{ clientId: userAssigned.clientId }],
      [fileUrl('contoso-reader'), fileUrl('contoso-system')],
    );
    expectRead(own, 'contoso-reader');
    // The system-assigned identity's organization does not admit this one.
    expect(other.ok).toBe(false);
    expect(other.error).toContain('401');
  });

  it('reads with a service principal whose client assertion comes from the managed identity', async () => {
    const [result] = await readInChild(
      [
        {
          clientId: APP_ID,
          managedIdentityClientId: 'system-assigned',
          tenantId: TENANT,
        },
      ],
      [fileUrl('contoso-apps')],
    );
    // The app's organization, which admits neither managed identity: the token is the app's.
    expectRead(result, 'contoso-apps');
    // Backstage keeps an assertion only while it has five minutes left: these have four.
    expect(requests(MSI)).toBeGreaterThanOrEqual(1);
    expect(requests(TOKEN)).toBe(1);
  });

  it('refuses a client assertion from an identity no federated credential trusts', async () => {
    const [result] = await readInChild(
      [
        {
          clientId: APP_ID,
          managedIdentityClientId: userAssigned.clientId,
          tenantId: TENANT,
        },
      ],
      [fileUrl('contoso-apps')],
    );
    expect(result.ok).toBe(false);
    expect(result.error).toContain('AADSTS700213');
  });

  it('uses each organization its own credential', async () => {
    const pat = e.ado.createPersonalAccessToken('contoso-people', USER).token;
    const [apps, reader, people] = await readInChild(
      [
        {
          organizations: ['contoso-apps'],
          clientId: APP_ID,
          clientSecret: secret,
          tenantId: TENANT,
        },
        { organizations: ['contoso-reader'], clientId: userAssigned.clientId },
        { organizations: ['contoso-people'], personalAccessToken: pat },
      ],
      [
        fileUrl('contoso-apps'),
        fileUrl('contoso-reader'),
        fileUrl('contoso-people'),
      ],
    );
    // Each organization admits only its own principal.
    expectRead(apps, 'contoso-apps');
    expectRead(reader, 'contoso-reader');
    expectRead(people, 'contoso-people');
    expect(requests(TOKEN)).toBe(1);
    expect(requests(MSI)).toBe(1);
  });

  it('renews an Entra token that expires between two reads', async () => {
    // A token issued alongside the child's first one, to show the clock move expires it.
    const issued = await fetch(`${e.httpUrl}/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: APP_ID,
        client_secret: secret,
        scope: '499b84ac-1321-427f-aa17-267ca6975798/.default',
      }),
    });
    const { access_token: earlier } = await issued.json();
    const projects = () =>
      fetch(`${e.adoUrl}/contoso-apps/_apis/projects?api-version=7.1`, {
        headers: { authorization: `Bearer ${earlier}` },
      }).then(r => r.status);
    expect(await projects()).toBe(200);
    e.emulator.faults.resetCounters();

    const [first, second] = await readInChild(
      [{ clientId: APP_ID, clientSecret: secret, tenantId: TENANT }],
      [fileUrl('contoso-apps'), fileUrl('contoso-apps')],
      {
        between: async () => {
          // Past the first token's lifetime and Azure DevOps' five minutes of clock skew.
          clockOffsetMs += (240 + 300 + 60) * 1000;
        },
      },
    );
    expect(await projects()).toBe(401);
    expectRead(first, 'contoso-apps');
    expectRead(second, 'contoso-apps');
    expect(requests(TOKEN)).toBe(2);
  });

  it('fails naming the organization when no credential fits it (PAT host)', async () => {
    const pat = e.ado.createPersonalAccessToken('contoso-people', USER).token;
    const url = fileUrl('contoso-apps', e.adoHost).replace('https:', 'http:');
    const [result] = await readInChild(
      [{ organizations: ['contoso-people'], personalAccessToken: pat }],
      [url],
      { host: e.adoHost },
    );
    expect(result.ok).toBe(false);
    // Sent without credentials, Azure DevOps answers its sign-in page with 203.
    expect(result.error).toContain('/contoso-apps/');
    expect(result.error).toContain('203');
  });

  it('on dev.azure.com falls back to DefaultAzureCredential for an organization no credential names', async () => {
    const [result] = await readInChild(
      [
        {
          organizations: ['contoso-apps'],
          clientId: APP_ID,
          clientSecret: secret,
          tenantId: TENANT,
        },
      ],
      [fileUrl('contoso-reader')],
    );
    // Backstage adds DefaultAzureCredential for dev.azure.com; here it finds the managed
    // identity endpoint, and the organization refuses that identity.
    expect(result.ok).toBe(false);
    expect(result.error).toContain('/contoso-reader/');
    expect(result.error).toContain('401');
    expect(requests(MSI)).toBe(1);
    expect(requests(TOKEN)).toBe(0);
  });
});
