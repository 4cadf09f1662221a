import { Config } from '@backstage/config';
import { randomBytes } from 'node:crypto';

/** The port of the emulator's Azure DevOps listener unless `gatehouse.emulator.adoPort` says. */
export const DEFAULT_EMULATOR_ADO_PORT = 7101;

/**
 * The configuration the emulator contributes so that the portal's Azure DevOps features
 * (scaffolder actions, entity pages, URL reading) reach its Azure DevOps surface: an
 * `integrations.azure` entry for `{publicHost}:{adoPort}` with a personal access token that
 * exists only in this process's memory (`gatehouse.emulator.adoPersonalAccessToken`, which the
 * emulator accepts once it starts).
 *
 * Nothing is contributed when the emulator is disabled or `integrations.azure` is configured.
 */
export function emulatorAzureDevOpsConfig(
  config: Config,
): { integrations: object; gatehouse: object } | undefined {
  const emulator = config.getOptionalConfig('gatehouse.emulator');
  if (!(emulator?.getOptionalBoolean('enabled') ?? true)) return undefined;
  if (config.has('integrations.azure')) return undefined;
  const host = `${emulator?.getOptionalString('publicHost') ?? 'localhost'}:${
    emulator?.getOptionalNumber('adoPort') ?? DEFAULT_EMULATOR_ADO_PORT
  }`;
  const token =
    emulator?.getOptionalString('adoPersonalAccessToken') ??
    randomBytes(32).toString('base64url');
  return {
    integrations: {
      azure: [{ host, credentials: [{ personalAccessToken: token }] }],
    },
    gatehouse: { emulator: { adoPersonalAccessToken: token } },
  };
}
