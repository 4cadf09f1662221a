import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { ConfigSources, StaticConfigSource } from '@backstage/config-loader';
import { emulatorAzureDevOpsConfig } from '@gatehouse/plugin-entra-emulator-node';

/** A configuration key the backend must have, and the environment variable that usually sets it. */
export interface RequiredConfigEntry {
  key: string;
  env?: string;
}

/** The backend refuses to start: required configuration is missing. */
export class MissingRequiredConfigError extends Error {
  readonly code = 'MISSING_REQUIRED_CONFIG';
  readonly name = 'MissingRequiredConfigError';

  constructor(readonly missing: RequiredConfigEntry[]) {
    super(
      `Gatehouse cannot start: required configuration is missing: ${missing
        .map(m => (m.env ? `${m.key} (set ${m.env})` : m.key))
        .join(', ')}. See README.md, "Production".`,
    );
  }
}

/** The entries of `gatehouse.requiredConfig` that have no value (an empty string counts as none). */
export function findMissingConfig(config: Config): RequiredConfigEntry[] {
  const entries = config.getOptionalConfigArray('gatehouse.requiredConfig');
  if (!entries) return [];
  // The merged tree, as the topmost file has it: reading `a.b.c` through the config API would
  // trip over a lower file where `a.b` has another type (app-config.yaml's SQLite
  // `connection: ':memory:'` under Postgres' connection object).
  const tree = config.getOptional() as Record<string, unknown> | undefined;
  const missing: RequiredConfigEntry[] = [];
  for (const entry of entries) {
    const key = entry.getString('key');
    const env = entry.getOptionalString('env');
    let value: unknown = tree;
    for (const part of key.split('.')) {
      value =
        typeof value === 'object' && value !== null
          ? (value as Record<string, unknown>)[part]
          : undefined;
    }
    if (value === undefined || value === null || value === '') {
      missing.push({ key, env });
    }
  }
  return missing;
}

/**
 * The root config service, as Backstage's default loads it, that first checks
 * `gatehouse.requiredConfig`. Every other service depends on the config, so a missing secret
 * stops the start-up before any plugin tries a database or Entra ID with half a configuration.
 */
export const rootConfigWithRequiredKeys = createServiceFactory({
  service: coreServices.rootConfig,
  deps: {},
  async factory() {
    const source = ConfigSources.default({});
    console.log(`Loading config from ${source}`);
    let config = await ConfigSources.toConfig(source);
    // With the emulator and no integrations.azure: its Azure DevOps, with an in-memory PAT
    const ado = emulatorAzureDevOpsConfig(config);
    if (ado) {
      config.close();
      config = await ConfigSources.toConfig(
        ConfigSources.merge([
          StaticConfigSource.create({ data: ado, context: 'emulator' }),
          source,
        ]),
      );
    }
    const missing = findMissingConfig(config);
    if (missing.length > 0) {
      throw new MissingRequiredConfigError(missing);
    }
    return config;
  },
});
