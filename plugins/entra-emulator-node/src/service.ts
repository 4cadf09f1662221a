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
import path from 'node:path';

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
        logger.info(
          `Entra ID emulator listening on ${running.url}: tenant ${tenant.displayName} (${tenant.id}), app "${app.displayName}" (${app.appId}). Configure a real tenant to turn it off.`,
        );
        return {
          authority: running.url,
          graphBaseUrl: `${running.url}/v1.0`,
          tenantId: tenant.id,
          clientId: app.appId,
          clientSecret: secret.secretText,
          running,
        };
      };

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

/** The default factory of {@link entraEmulatorServiceRef}, to add explicitly or replace in tests. */
export const entraEmulatorServiceFactory = createEmulatorFactory(
  entraEmulatorServiceRef,
);
