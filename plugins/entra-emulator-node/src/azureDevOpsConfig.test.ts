import { createBackendPlugin } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { emulatorAzureDevOpsConfig } from './azureDevOpsConfig';
import { EmulatorConnection, entraEmulatorServiceRef } from './service';

describe('the emulator as the portal Azure DevOps', () => {
  it('contributes an integration with a fresh in-memory token when none is configured', () => {
    const a = emulatorAzureDevOpsConfig(new ConfigReader({}));
    const b = emulatorAzureDevOpsConfig(new ConfigReader({}));
    const entry = (a?.integrations as any).azure[0];
    expect(entry.host).toBe('localhost:7101');
    const token = entry.credentials[0].personalAccessToken;
    expect(token).toHaveLength(43);
    expect((a?.gatehouse as any).emulator.adoPersonalAccessToken).toBe(token);
    expect((b?.integrations as any).azure[0].credentials[0]).not.toEqual(
      entry.credentials[0],
    );
    expect(
      (
        emulatorAzureDevOpsConfig(
          new ConfigReader({
            gatehouse: { emulator: { adoPort: 9000, publicHost: 'ado.test' } },
          }),
        )?.integrations as any
      ).azure[0].host,
    ).toBe('ado.test:9000');
  });

  it('contributes nothing with the emulator disabled or integrations.azure configured', () => {
    expect(
      emulatorAzureDevOpsConfig(
        new ConfigReader({ gatehouse: { emulator: { enabled: false } } }),
      ),
    ).toBeUndefined();
    expect(
      emulatorAzureDevOpsConfig(
        new ConfigReader({
          integrations: { azure: [{ host: 'dev.azure.com' }] },
        }),
      ),
    ).toBeUndefined();
  });

  it('makes the emulator accept that token in its organization, and no other', async () => {
    let connection: Promise<EmulatorConnection> | undefined;
    const probe = createBackendPlugin({
      pluginId: 'probe',
      register(env) {
        env.registerInit({
          deps: { emulator: entraEmulatorServiceRef },
          async init({ emulator }) {
            connection = emulator.getConnection();
          },
        });
      },
    });
    const backend = await startTestBackend({
      features: [
        probe,
        mockServices.rootConfig.factory({
          data: {
            gatehouse: {
              emulator: { port: 0, adoPersonalAccessToken: 'portal-token' },
            },
          },
        }),
      ],
    });
    try {
      const conn = await connection!;
      const call = (token: string) =>
        fetch(`${conn.adoUrl}/contoso/_apis/projects?api-version=7.1`, {
          headers: {
            Authorization: `Basic ${Buffer.from(`x:${token}`).toString(
              'base64',
            )}`,
          },
        });
      const ok = await call('portal-token');
      expect(ok.status).toBe(200);
      expect(
        (await ok.json()).value.map((p: { name: string }) => p.name),
      ).toEqual(['Payments', 'Platform']);
      expect((await call('another-token')).status).toBe(401);
      expect(conn.adoHost).toBe(new URL(conn.adoUrl).host);
    } finally {
      await backend.stop();
    }
  });
});
