import { UrlReaders } from '@backstage/backend-defaults/urlReader';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import {
  defaultTenantFile,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import { azureDevOpsCredentialCheckReader } from './credentialCheck';

describe('the Azure DevOps credential check before a URL read', () => {
  let e: RunningEmulator;
  let pat: string;

  beforeAll(async () => {
    e = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
    pat = e.ado.createPersonalAccessToken(
      'contoso',
      'alex.wilber@contoso.example',
    ).token;
  });
  afterAll(() => e.close());

  const reader = (credentials: JsonObject[]) =>
    UrlReaders.default({
      config: new ConfigReader({
        integrations: { azure: [{ host: e.adoHost, credentials }] },
      }),
      logger: mockServices.logger.mock(),
      factories: [azureDevOpsCredentialCheckReader],
    });
  const url = () =>
    `${e.adoUrl}/contoso/Payments/_git/ledger?path=/catalog-info.yaml`;
  const sent = () =>
    Object.entries(e.emulator.faults.snapshot())
      .filter(([route]) => route.includes('{organization}'))
      .reduce((n, [, c]) => n + c.requests, 0);

  it('refuses, naming the organization, when every credential names other organizations', async () => {
    e.emulator.faults.resetCounters();
    await expect(
      reader([
        { organizations: ['fabrikam'], personalAccessToken: pat },
      ]).readUrl(url()),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringContaining("fits organization 'contoso'"),
    });
    // Nothing went out without a credential.
    expect(sent()).toBe(0);
  });

  it('reads with the credential that names the organization, or one that names none', async () => {
    for (const credentials of [
      [
        { organizations: ['fabrikam'], personalAccessToken: 'other' },
        { organizations: ['contoso'], personalAccessToken: pat },
      ],
      [{ personalAccessToken: pat }],
    ]) {
      const response = await reader(credentials).readUrl(url());
      expect((await response.buffer()).toString()).toContain('name: ledger');
    }
  });
});
