import {
  createBackendPlugin,
  coreServices,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import catalogEntraOrg, {
  EntraOrgProviderStatus,
} from '@gatehouse/plugin-catalog-backend-module-entra-org';
import {
  EmulatorConnection,
  entraEmulatorServiceRef,
} from '@gatehouse/plugin-entra-emulator-node';
import entraOrgPlugin from './index';

/**
 * The real catalog with the org module, reading the built-in emulator (real HTTP), and this
 * plugin serving what the module records.
 */
describe('org sync status at /api/entra-org', () => {
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let base: string;
  let emulator: EmulatorConnection;

  /** Hands the test the emulator the backend started, to change its faults. */
  const emulatorProbe = createBackendPlugin({
    pluginId: 'emulator-probe',
    register(reg) {
      reg.registerInit({
        deps: {
          emulator: entraEmulatorServiceRef,
          lifecycle: coreServices.lifecycle,
        },
        async init({ emulator: service, lifecycle }) {
          lifecycle.addStartupHook(async () => {
            emulator = await service.getConnection();
          });
        },
      });
    },
  });

  const user = { authorization: mockCredentials.user.header() };

  async function providers(): Promise<EntraOrgProviderStatus[]> {
    const res = await fetch(`${base}/api/entra-org/status`, { headers: user });
    expect(res.status).toBe(200);
    return ((await res.json()) as { providers: EntraOrgProviderStatus[] })
      .providers;
  }

  async function setFaults(faults: Record<string, unknown>) {
    const res = await fetch(`${emulator.authority}/_emulator/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    });
    expect(res.status).toBe(200);
  }

  beforeAll(async () => {
    backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogEntraOrg,
        entraOrgPlugin,
        emulatorProbe,
        // Runs the first org sync round at start-up, initial delay or not.
        mockServices.scheduler.factory({
          includeInitialDelayedTasksOnStartup: true,
        }),
        mockServices.rootConfig.factory({
          data: {
            gatehouse: { emulator: { port: 0 } },
            catalog: { rules: [{ allow: ['User', 'Group'] }] },
          },
        }),
      ],
    });
    base = `http://localhost:${backend.server.port()}`;
    // Wait for the first round to finish.
    const deadline = Date.now() + 30_000;
    while (!(await providers())[0]?.lastRound && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    await backend?.stop();
  });

  it('shows the first round of the built-in tenant', async () => {
    const [emulated, ...others] = await providers();
    expect(others).toEqual([]);
    expect(emulated).toMatchObject({
      id: 'emulator',
      taskId: 'EntraOrgEntityProvider:emulator:refresh',
      running: false,
      lastRound: {
        kind: 'full',
        // Contoso: 20 users, one of them disabled and left out; 220 groups.
        users: 20,
        groups: 220,
        userEntities: 19,
        groupEntities: 220,
        changedEntities: 19 + 220,
        throttled: 0,
      },
    });
    const round = emulated.lastRound!;
    expect(round.memberships).toBeGreaterThan(220);
    expect(round.graphRequests).toBeGreaterThan(0);
    expect(round.resourceUnits).toBeGreaterThanOrEqual(round.graphRequests);
    expect(Date.parse(round.finishedAt) - Date.parse(round.startedAt)).toBe(
      round.durationMs,
    );
    // The default schedule: every 30 minutes.
    expect(Date.parse(emulated.nextRoundAt!)).toBe(
      Date.parse(round.startedAt) + 30 * 60_000,
    );
    expect(emulated.lastError).toBeUndefined();
  });

  it('runs a round on request; with nothing changed it is a delta round', async () => {
    const res = await fetch(
      `${base}/api/entra-org/providers/emulator/refresh`,
      { method: 'POST', headers: user },
    );
    expect(res.status).toBe(202);
    // The test scheduler runs the task before triggerTask returns.
    const [emulated] = await providers();
    expect(emulated.lastRound).toMatchObject({
      kind: 'delta',
      users: 20,
      groups: 220,
      changedEntities: 0,
    });
  });

  it('keeps the last good round and shows the error of a failed one', async () => {
    const [before] = await providers();
    // Every Graph request answers 503; the client retries (Retry-After: 1 s), then gives up.
    await setFaults({ rate503: 1 });
    try {
      const res = await fetch(
        `${base}/api/entra-org/providers/emulator/refresh`,
        { method: 'POST', headers: user },
      );
      expect(res.status).toBe(202);
    } finally {
      await setFaults({ rate503: 0 });
    }
    const [after] = await providers();
    expect(after.lastRound).toEqual(before.lastRound);
    expect(after.lastError?.message).toMatch(/503/);
    expect(Date.parse(after.lastError!.at)).toBeGreaterThanOrEqual(
      Date.parse(before.lastRound!.finishedAt),
    );

    // The next good round clears it.
    await fetch(`${base}/api/entra-org/providers/emulator/refresh`, {
      method: 'POST',
      headers: user,
    });
    const [recovered] = await providers();
    expect(recovered.lastError).toBeUndefined();
    expect(Date.parse(recovered.lastRound!.startedAt)).toBeGreaterThan(
      Date.parse(after.lastError!.at),
    );
  }, 30_000);

  it('answers 404 for a provider it does not know', async () => {
    const res = await fetch(`${base}/api/entra-org/providers/nope/refresh`, {
      method: 'POST',
      headers: user,
    });
    expect(res.status).toBe(404);
  });

  it('refuses requests without a signed-in user', async () => {
    // The test backend takes a request with no Authorization header as a user's; this token
    // stands for a request with no credentials.
    const none = { authorization: mockCredentials.none.header() };
    const status = await fetch(`${base}/api/entra-org/status`, {
      headers: none,
    });
    expect(status.status).toBe(401);
    const refresh = await fetch(
      `${base}/api/entra-org/providers/emulator/refresh`,
      { method: 'POST', headers: none },
    );
    expect(refresh.status).toBe(401);
    // Services have no business here either.
    const service = await fetch(`${base}/api/entra-org/status`, {
      headers: { authorization: mockCredentials.service.header() },
    });
    expect(service.status).toBe(403);
  });
});
