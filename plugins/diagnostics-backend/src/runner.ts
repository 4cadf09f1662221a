import { RootConfigService } from '@backstage/backend-plugin-api';
import { GraphCredentials } from '@gatehouse/plugin-catalog-backend-module-entra-org';
import { EntraEmulatorService } from '@gatehouse/plugin-entra-emulator-node';
import { AppRegistrationResult, readAppRegistration } from './appRegistration';
import { DiagnosticCheck, ObservedRequest, runChecks } from './checks';

/** Microsoft Graph for each Entra authority (entra-facts: national clouds). */
function graphFor(authority: string): string {
  if (authority.includes('login.microsoftonline.us')) {
    return 'https://graph.microsoft.us/v1.0';
  }
  if (authority.includes('chinacloudapi.cn')) {
    return 'https://microsoftgraph.chinacloudapi.cn/v1.0';
  }
  return 'https://graph.microsoft.com/v1.0';
}

/** How long an app registration read is reused: the page may be reloaded often. */
const CACHE_MS = 60_000;

/** Runs the checks with what the process can observe; reads Graph at most once a minute. */
export function createChecksRunner(options: {
  config: RootConfigService;
  emulator: EntraEmulatorService;
  env: Record<string, string | undefined>;
}) {
  const { config, emulator, env } = options;
  let cached:
    | { at: number; result: Promise<AppRegistrationResult> }
    | undefined;

  /** Graph target and credentials, the auth provider's own; or why there are none. */
  async function target(): Promise<
    | {
        graphBaseUrl: string;
        credentials: GraphCredentials;
        clientId: string;
        emulator: boolean;
      }
    | { skipped: string; emulator: boolean }
  > {
    const environment =
      config.getOptionalString('auth.environment') ?? 'development';
    const provider = config.getOptionalConfig(
      `auth.providers.microsoft.${environment}`,
    );
    const configured = provider?.has('clientId') && provider?.has('tenantId');
    if (!configured) {
      if (provider && emulator.isEnabled()) {
        const conn = await emulator.getConnection();
        return {
          emulator: true,
          clientId: conn.clientId,
          graphBaseUrl: conn.graphBaseUrl,
          credentials: {
            authority: conn.authority,
            tenantId: conn.tenantId,
            clientId: conn.clientId,
            clientSecret: conn.clientSecret,
          },
        };
      }
      return { emulator: false, skipped: 'No tenant is configured.' };
    }
    const clientSecret = provider!.getOptionalString('clientSecret');
    if (!clientSecret) {
      return {
        emulator: false,
        skipped:
          'The app registration is read with a client secret only; this portal uses a certificate or federated credential.',
      };
    }
    const authority = (
      provider!.getOptionalString('authority') ??
      'https://login.microsoftonline.com'
    ).replace(/\/+$/, '');
    return {
      emulator: false,
      clientId: provider!.getString('clientId'),
      graphBaseUrl: (
        provider!.getOptionalString('graphUrl') ?? graphFor(authority)
      ).replace(/\/+$/, ''),
      credentials: {
        authority,
        tenantId: provider!.getString('tenantId'),
        clientId: provider!.getString('clientId'),
        clientSecret,
      },
    };
  }

  return {
    async run(request?: ObservedRequest): Promise<DiagnosticCheck[]> {
      const t = await target();
      let appRegistration: AppRegistrationResult | undefined;
      let appRegistrationSkipped: string | undefined;
      if (
        config.getOptionalBoolean(
          'gatehouse.diagnostics.readAppRegistration',
        ) === false
      ) {
        appRegistrationSkipped =
          'Reading the app registration is turned off (gatehouse.diagnostics.readAppRegistration).';
      } else if ('skipped' in t) {
        appRegistrationSkipped = t.skipped;
      } else {
        if (!cached || Date.now() - cached.at > CACHE_MS) {
          cached = { at: Date.now(), result: readAppRegistration(t) };
        }
        appRegistration = await cached.result;
      }
      return runChecks({
        config,
        env,
        emulatorInUse: t.emulator,
        appRegistration,
        appRegistrationSkipped,
        request,
      });
    },
  };
}
