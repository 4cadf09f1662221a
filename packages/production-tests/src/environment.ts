import {
  defaultTenantFile,
  RunningEmulator,
  startEmulator,
  StartEmulatorOptions,
} from '@gatehouse/entra-emulator';
import { startPostgres, TestPostgres } from '@gatehouse/test-postgres';
import { randomBytes } from 'node:crypto';
import { ProductionBackend, startProductionBackend } from './productionBackend';

/**
 * What a production deployment has around the backend, made local: Postgres (with TLS) and
 * the Entra ID tenant (the emulator on a free port, with a client secret made for the run).
 */
export interface ProductionEnvironment {
  postgres: TestPostgres;
  emulator: RunningEmulator;
  tenantId: string;
  clientId: string;
  /** The object id of a user of the tenant, by user principal name. */
  userId(upn: string): string;
  /** The environment app-config.production.yaml reads, complete. */
  env: Record<string, string>;
  /** The test overlay: the emulator's URLs in place of Microsoft's. */
  overlay(options?: {
    orgSyncFrequencySeconds?: number;
  }): Record<string, unknown>;
  /** A backend of this environment; `env` entries given here replace the defaults. */
  startBackend(options?: {
    env?: Record<string, string | undefined>;
    orgSyncFrequencySeconds?: number;
    waitForReady?: boolean;
    /** More test config, merged over the overlay (objects merged, other values replaced). */
    overlay?: Record<string, unknown>;
    /** Config files of the repository after app-config.production.yaml. */
    configFiles?: string[];
  }): Promise<ProductionBackend>;
  stop(): Promise<void>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(
  base: Record<string, unknown>,
  more: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(more)) {
    out[k] = isObject(v) && isObject(out[k]) ? merge(out[k] as any, v) : v;
  }
  return out;
}

/** Starts Postgres and the emulator for production backends. */
export async function startProductionEnvironment(
  options: {
    tenants?: StartEmulatorOptions['tenants'];
    /** The unpacked bundle the backends run from (default: the tests' one). */
    dir?: string;
  } = {},
): Promise<ProductionEnvironment> {
  const postgres = await startPostgres({ ssl: true });
  let emulator: RunningEmulator;
  try {
    emulator = await startEmulator({
      ...(options.tenants
        ? { tenants: options.tenants }
        : { tenantFile: defaultTenantFile }),
      port: 0,
      host: '127.0.0.1',
      publicHost: 'localhost',
    });
  } catch (e) {
    await postgres.stop();
    throw e;
  }
  const tenant = [...emulator.emulator.tenants.values()][0];
  const app = tenant.applications[0];
  const secret = emulator.emulator.addClientSecret(app.appId, {
    displayName: 'production tests',
  });
  const env: Record<string, string> = {
    POSTGRES_HOST: postgres.host,
    POSTGRES_PORT: String(postgres.port),
    POSTGRES_USER: postgres.user,
    POSTGRES_PASSWORD: postgres.password,
    // The test server's self-signed certificate; Azure's chains to a public CA.
    NODE_EXTRA_CA_CERTS: postgres.caFile!,
    AZURE_TENANT_ID: tenant.id,
    AZURE_CLIENT_ID: app.appId,
    AZURE_CLIENT_SECRET: secret.secretText,
    AUTH_STATE_SECRET: randomBytes(32).toString('base64url'),
    GATEHOUSE_SHUTDOWN_DELAY: '5s',
  };
  const overlay = (o: { orgSyncFrequencySeconds?: number } = {}) => ({
    auth: {
      providers: {
        microsoft: {
          production: {
            authority: emulator.url,
            graphUrl: `${emulator.url}/v1.0`,
          },
        },
      },
    },
    catalog: {
      providers: {
        microsoftGraphOrg: {
          default: {
            authority: emulator.url,
            target: `${emulator.url}/v1.0`,
            schedule: {
              frequency: { seconds: o.orgSyncFrequencySeconds ?? 600 },
              timeout: { minutes: 2 },
            },
          },
        },
      },
    },
  });
  const backends: ProductionBackend[] = [];
  return {
    postgres,
    emulator,
    tenantId: tenant.id,
    clientId: app.appId,
    userId(upn) {
      const user = tenant.getUser(upn);
      if (!user) throw new Error(`No user ${upn} in the emulated tenant`);
      return user.id;
    },
    env,
    overlay,
    async startBackend(o = {}) {
      const backend = await startProductionBackend({
        env: { ...env, ...o.env },
        overlay: merge(overlay(o), o.overlay ?? {}),
        waitForReady: o.waitForReady,
        dir: options.dir,
        configFiles: o.configFiles,
      });
      backends.push(backend);
      return backend;
    },
    async stop() {
      await Promise.all(backends.map(b => b.stop()));
      await emulator.close();
      await postgres.stop();
    },
  };
}
