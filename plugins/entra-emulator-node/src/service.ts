import {
  coreServices,
  createServiceFactory,
  createServiceRef,
  ServiceRef,
} from '@backstage/backend-plugin-api';
import {
  defaultTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { DEFAULT_EMULATOR_ADO_PORT } from './azureDevOpsConfig';

/** What a module needs to talk to the emulator as if it were a real tenant. */
export interface EmulatorConnection {
  /** The authority host, e.g. `http://localhost:7100` (in place of https://login.microsoftonline.com). */
  authority: string;
  /** Microsoft Graph's base URL on the emulator, e.g. `http://localhost:7100/v1.0`. */
  graphBaseUrl: string;
  tenantId: string;
  clientId: string;
  /** A client secret the emulator created at start-up; it lives only in memory. */
  clientSecret: string;
  /** Azure DevOps on the emulator, e.g. `http://localhost:7101`, and its host (`localhost:7101`). */
  adoUrl: string;
  adoHost: string;
  /** The running emulator, for tests that change its directory or faults. */
  running: RunningEmulator;
}

/** Starts the emulator on first use, when allowed by `gatehouse.emulator.enabled`. */
export interface EntraEmulatorService {
  /** Whether the emulator may be used (config `gatehouse.emulator.enabled`, default true). */
  isEnabled(): boolean;
  /** Starts the emulator if needed and returns how to reach it. */
  getConnection(): Promise<EmulatorConnection>;
}

/** The built-in emulator, shared by every module of the backend. */
export const entraEmulatorServiceRef = createServiceRef<EntraEmulatorService>({
  id: 'gatehouse.entra-emulator',
  scope: 'root',
  defaultFactory: async service => createEmulatorFactory(service),
});

function createEmulatorFactory(
  service: ServiceRef<EntraEmulatorService, 'root'>,
) {
  return createServiceFactory({
    service,
    deps: {
      config: coreServices.rootConfig,
      logger: coreServices.rootLogger,
      lifecycle: coreServices.rootLifecycle,
    },
    async factory({ config, logger, lifecycle }) {
      const emulatorConfig = config.getOptionalConfig('gatehouse.emulator');
      const enabled = emulatorConfig?.getOptionalBoolean('enabled') ?? true;
      let started: Promise<EmulatorConnection> | undefined;

      const start = async (): Promise<EmulatorConnection> => {
        const tenantFile = path.resolve(
          emulatorConfig?.getOptionalString('tenantFile') ?? defaultTenantFile,
        );
        const port = emulatorConfig?.getOptionalNumber('port') ?? 7100;
        const running = await startEmulator({
          tenantFile,
          port,
          // With `port: 0` (tests) Azure DevOps takes a free port too.
          adoPort:
            emulatorConfig?.getOptionalNumber('adoPort') ??
            (port === 0 ? 0 : DEFAULT_EMULATOR_ADO_PORT),
          host: emulatorConfig?.getOptionalString('listenHost') ?? '127.0.0.1',
          publicHost:
            emulatorConfig?.getOptionalString('publicHost') ?? 'localhost',
          tokenLifetimeSeconds: emulatorConfig?.getOptionalNumber(
            'tokenLifetimeSeconds',
          ),
        });
        lifecycle.addShutdownHook(() => running.close());
        const wanted = emulatorConfig?.getOptionalString('clientId');
        const tenants = [...running.emulator.tenants.values()];
        const tenant = wanted
          ? tenants.find(t => t.getApplication(wanted))
          : tenants[0];
        const app = wanted
          ? tenant?.getApplication(wanted)
          : tenant?.applications[0];
        if (!tenant || !app) {
          throw new Error(
            wanted
              ? `gatehouse.emulator.clientId ${wanted} is not an app registration in ${tenantFile}`
              : `The emulator tenant file ${tenantFile} has no app registration for the portal`,
          );
        }
        const secret = running.emulator.addClientSecret(app.appId, {
          displayName: 'gatehouse backend (in memory)',
        });
        const adoToken = emulatorConfig?.getOptionalString(
          'adoPersonalAccessToken',
        );
        if (adoToken) acceptPortalToken(running, adoToken);
        logger.info(
          `Entra ID emulator listening on ${running.url}, Azure DevOps on ${running.adoUrl}: tenant ${tenant.displayName} (${tenant.id}), app "${app.displayName}" (${app.appId}). Configure a real tenant to turn it off.`,
        );
        return {
          authority: running.url,
          graphBaseUrl: `${running.url}/v1.0`,
          tenantId: tenant.id,
          clientId: app.appId,
          clientSecret: secret.secretText,
          adoUrl: running.adoUrl,
          adoHost: running.adoHost,
          running,
        };
      };

      // The portal's own Azure DevOps integration points at the emulator
      // (emulatorAzureDevOpsConfig): start it with the backend rather than on first use.
      if (
        enabled &&
        emulatorConfig?.getOptionalString('adoPersonalAccessToken')
      ) {
        lifecycle.addStartupHook(async () => {
          started ??= start();
          await started;
        });
      }

      return {
        isEnabled: () => enabled,
        getConnection() {
          if (!enabled) {
            return Promise.reject(
              new Error(
                'The built-in Entra ID emulator is disabled (gatehouse.emulator.enabled: false) and no tenant is configured',
              ),
            );
          }
          started ??= start().catch(e => {
            started = undefined;
            throw e;
          });
          return started;
        },
      };
    },
  });
}

/**
 * Makes the emulator accept the portal's in-memory PAT in every organization, as the first
 * enabled user of the organization's tenant who is a member of it.
 */
function acceptPortalToken(running: RunningEmulator, token: string) {
  const tokenHash = createHash('sha256').update(token).digest('hex');
  for (const org of running.ado.organizations.values()) {
    const user = org.tenant.listUsers().find(
      u =>
        u.accountEnabled &&
        running.ado.isMember(org, {
          kind: 'user',
          id: u.id,
          displayName: u.displayName,
          uniqueName: u.userPrincipalName,
        }),
    );
    if (!user) continue;
    org.pats.push({
      authorizationId: randomUUID(),
      tokenHash,
      userId: user.id,
      displayName: 'gatehouse portal (in memory)',
      scopes: ['full'],
      validTo: new Date(Date.now() + 365 * 86400 * 1000).toISOString(),
    });
  }
}

/** The default factory of {@link entraEmulatorServiceRef}, to add explicitly or replace in tests. */
export const entraEmulatorServiceFactory = createEmulatorFactory(
  entraEmulatorServiceRef,
);
