import { Config } from '@backstage/config';
import { AppRegistrationResult } from './appRegistration';

/** `fail`: sign-in or the org sync will not work; `warn`: it will soon, or cannot be told. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One troubleshooting check, with what to do when it does not pass. */
export interface DiagnosticCheck {
  /** Stable id: `provider-config`, `redirect-uri`, `origins`, `client-secret`, `image`. */
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found. */
  message: string;
  /** What to do about it (absent when the check passes). */
  fix?: string;
  /** The symptom people report, as the tutorials' troubleshooting tables name it. */
  symptom: string;
  details?: Record<string, unknown>;
}

/** What the portal sees of the request that asked for the checks. */
export interface ObservedRequest {
  /** The origin the request reached the backend at (Host / X-Forwarded-Host and -Proto). */
  backendOrigin?: string;
  /** The origin of the page that sent it (Origin, or Referer), i.e. the app in the browser. */
  browserOrigin?: string;
}

/** Everything the checks read. */
export interface ChecksContext {
  config: Config;
  /** Process environment (the image and revision the platform reports). */
  env: Record<string, string | undefined>;
  /** Whether the built-in emulator serves sign-in because no tenant is configured. */
  emulatorInUse: boolean;
  /** The app registration from Graph; undefined when not asked (turned off, or no secret). */
  appRegistration?: AppRegistrationResult;
  /** Why the app registration was not read, when it was not. */
  appRegistrationSkipped?: string;
  request?: ObservedRequest;
  now?: Date;
}

const HANDLER_PATH = '/api/auth/microsoft/handler/frame';

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  } catch {
    return false;
  }
}

/** The `auth.providers.microsoft.<environment>` block in use, and its environment. */
function providerConfig(config: Config) {
  const environment =
    config.getOptionalString('auth.environment') ?? 'development';
  return {
    environment,
    provider: config.getOptionalConfig(
      `auth.providers.microsoft.${environment}`,
    ),
  };
}

/**
 * The redirect URI Entra must have registered (exactly): `callbackUrl` when set, otherwise
 * `{backend.baseUrl}/api/auth/microsoft/handler/frame`.
 */
export function expectedRedirectUri(config: Config): string {
  const { provider } = providerConfig(config);
  return (
    provider?.getOptionalString('callbackUrl') ??
    `${config.getString('backend.baseUrl').replace(/\/+$/, '')}${HANDLER_PATH}`
  );
}

function checkProviderConfig(ctx: ChecksContext): DiagnosticCheck {
  const { config, emulatorInUse } = ctx;
  const { environment, provider } = providerConfig(config);
  const key = `auth.providers.microsoft.${environment}`;
  const base = {
    id: 'provider-config',
    title: 'Microsoft sign-in is configured',
    symptom:
      'The sign-in button fails with "Unknown auth provider \'microsoft\'" or a missing-config error',
  };
  const orgSync = config.getOptionalConfig(
    'catalog.providers.microsoftGraphOrg',
  );
  if (!provider) {
    return {
      ...base,
      status: 'fail',
      message: `${key} is missing: auth.environment is "${environment}", and the provider is configured for another environment or not at all.`,
      fix: `Add ${key} with clientId, tenantId and clientSecret (or clientCertificate / federatedCredential), or set auth.environment to the environment you configured.`,
    };
  }
  if (emulatorInUse) {
    const production = ctx.env.NODE_ENV === 'production';
    return {
      ...base,
      status: production ? 'fail' : 'pass',
      message: `${key} names no tenant: sign-in uses the built-in Entra ID emulator.`,
      fix: production
        ? `Set ${key}.clientId, tenantId and a credential; the emulator is for development.`
        : undefined,
      details: { environment, emulator: true },
    };
  }
  const missing = ['clientId', 'tenantId'].filter(k => !provider.has(k));
  const credentials = [
    'clientSecret',
    'clientCertificate',
    'federatedCredential',
  ].filter(k => provider.has(k));
  if (credentials.length === 0) missing.push('clientSecret');
  const details = {
    environment,
    credential: credentials[0],
    orgSyncProviders: orgSync?.keys() ?? [],
  };
  if (missing.length) {
    return {
      ...base,
      status: 'fail',
      message: `${key} lacks ${missing.join(', ')}.`,
      fix: `Set ${missing
        .map(m => `${key}.${m}`)
        .join(
          ', ',
        )} (on Azure: the container app's environment, secrets from Key Vault).`,
      details,
    };
  }
  if (!orgSync || orgSync.keys().length === 0) {
    return {
      ...base,
      status: 'warn',
      message: `${key} is complete, but catalog.providers.microsoftGraphOrg is not configured: nobody is in the catalog, so every sign-in is refused.`,
      fix: 'Configure catalog.providers.microsoftGraphOrg (README, "Use a real tenant").',
      details,
    };
  }
  return {
    ...base,
    status: 'pass',
    message: `${key} has a client id, a tenant and a ${credentials[0]}; the org sync is configured.`,
    details,
  };
}

function checkRedirectUri(ctx: ChecksContext): DiagnosticCheck {
  const expected = expectedRedirectUri(ctx.config);
  const base = {
    id: 'redirect-uri',
    title: 'The redirect URI is registered in Entra ID',
    symptom:
      'AADSTS50011: the redirect URI specified in the request does not match the redirect URIs configured for the application',
    details: { expected } as Record<string, unknown>,
  };
  if (!/^https:/.test(expected) && !isLoopback(expected)) {
    return {
      ...base,
      status: 'fail',
      message: `The redirect URI ${expected} is plain http on a host other than localhost; Entra ID accepts http only for localhost.`,
      fix: 'Serve the portal over https and set backend.baseUrl (APP_BASE_URL) to its https URL.',
    };
  }
  const registration = ctx.appRegistration;
  if (!registration) {
    return {
      ...base,
      status: 'skip',
      message: `Register exactly ${expected} as a Web redirect URI. ${
        ctx.appRegistrationSkipped ?? ''
      }`.trim(),
    };
  }
  if (registration.status === 'forbidden') {
    return {
      ...base,
      status: 'warn',
      message: `Could not read the app registration to compare (Graph answered 403: the app lacks Application.Read.All). Entra needs exactly ${expected} as a Web redirect URI.`,
      fix: "Check the app registration's Authentication page, or grant Application.Read.All (application permission, admin consent) to let the portal check.",
    };
  }
  if (registration.status !== 'read') {
    return {
      ...base,
      status: 'warn',
      message:
        registration.status === 'not-found'
          ? 'The app registration of the configured client id was not found in the tenant.'
          : `Could not read the app registration: ${registration.message}`,
      fix: "Check clientId and tenantId against the app registration's Overview page.",
    };
  }
  const registered = registration.application.web?.redirectUris ?? [];
  base.details.registered = registered;
  if (registered.includes(expected)) {
    return {
      ...base,
      status: 'pass',
      message: `${expected} is a Web redirect URI of "${registration.application.displayName}".`,
    };
  }
  const near = registered.find(
    r => r.toLowerCase().replace(/\/+$/, '') === expected.toLowerCase(),
  );
  return {
    ...base,
    status: 'fail',
    message: `${expected} is not among the Web redirect URIs of "${
      registration.application.displayName
    }" (${
      registered.length ? registered.join(', ') : 'none'
    }): Entra will answer AADSTS50011.${
      near
        ? ` ${near} differs only in case or a trailing slash; Entra compares exactly.`
        : ''
    }`,
    fix: `Add ${expected} under Authentication > Platform configurations > Web > Redirect URIs (docs/runbook-azure.md, "Register the redirect URI").`,
  };
}

function checkOrigins(ctx: ChecksContext): DiagnosticCheck {
  const { config } = ctx;
  const appBaseUrl = config.getString('app.baseUrl');
  const backendBaseUrl = config.getString('backend.baseUrl');
  const appOrigin = originOf(appBaseUrl);
  const backendOrigin = originOf(backendBaseUrl);
  const base = {
    id: 'origins',
    title: 'App and backend URLs match where the portal is served',
    symptom:
      'The sign-in popup stays blank or never closes, or the page reports a CORS error',
    details: {
      appBaseUrl,
      backendBaseUrl,
      observedBackendOrigin: ctx.request?.backendOrigin,
      observedBrowserOrigin: ctx.request?.browserOrigin,
    } as Record<string, unknown>,
  };
  const problems: string[] = [];
  const fixes: string[] = [];
  if (!appOrigin || !backendOrigin) {
    problems.push('app.baseUrl or backend.baseUrl is not an absolute URL.');
    fixes.push(
      'Set both to the URL people open, e.g. https://portal.example.com.',
    );
  }
  const observedBackend = ctx.request?.backendOrigin;
  if (backendOrigin && observedBackend && observedBackend !== backendOrigin) {
    problems.push(
      `The backend is reached at ${observedBackend}, but backend.baseUrl is ${backendBaseUrl}: the sign-in popup is sent to the configured URL and cannot report back.`,
    );
    fixes.push(
      `Set backend.baseUrl (APP_BASE_URL on Azure) to ${observedBackend}.`,
    );
  }
  const browser = ctx.request?.browserOrigin;
  if (appOrigin && browser && browser !== appOrigin) {
    problems.push(
      `The portal is open at ${browser}, but app.baseUrl is ${appBaseUrl}: the popup posts its result to ${appOrigin} and the page never receives it (a blank popup).`,
    );
    fixes.push(`Set app.baseUrl to ${browser}.`);
  }
  if (appOrigin && backendOrigin && appOrigin !== backendOrigin) {
    const cors = config.getOptional('backend.cors.origin');
    const allowed = (Array.isArray(cors) ? cors : [cors]).filter(
      (o): o is string => typeof o === 'string',
    );
    if (!allowed.some(o => originOf(o) === appOrigin || o === appOrigin)) {
      problems.push(
        `The app (${appOrigin}) and the backend (${backendOrigin}) differ, and backend.cors.origin does not allow ${appOrigin}.`,
      );
      fixes.push(
        `Add ${appOrigin} to backend.cors.origin, or serve the app from the backend.`,
      );
    } else if (config.getOptionalBoolean('backend.cors.credentials') !== true) {
      problems.push(
        'backend.cors.credentials is not true: the auth cookies do not cross origins.',
      );
      fixes.push('Set backend.cors.credentials: true.');
    }
  }
  if (
    ctx.env.NODE_ENV === 'production' &&
    appOrigin &&
    !appOrigin.startsWith('https:') &&
    !isLoopback(appBaseUrl)
  ) {
    problems.push(
      `app.baseUrl ${appBaseUrl} is not https in production: browsers drop the secure auth cookies.`,
    );
    fixes.push('Serve the portal over https.');
  }
  if (problems.length) {
    return {
      ...base,
      status: 'fail',
      message: problems.join(' '),
      fix: fixes.join(' '),
    };
  }
  return {
    ...base,
    status: 'pass',
    message: observedBackend
      ? `The portal is served at ${observedBackend}, as configured.`
      : 'app.baseUrl and backend.baseUrl are consistent.',
  };
}

function checkClientSecret(ctx: ChecksContext): DiagnosticCheck {
  const base = {
    id: 'client-secret',
    title: 'The client secret is valid',
    symptom:
      'AADSTS7000222 (client secret expired) or AADSTS7000215 (invalid client secret) at sign-in and in the org sync',
  };
  const { provider } = providerConfig(ctx.config);
  const secret = provider?.getOptionalString('clientSecret');
  const registration = ctx.appRegistration;
  if (!secret || ctx.emulatorInUse) {
    return {
      ...base,
      status: 'skip',
      message: ctx.emulatorInUse
        ? 'The built-in emulator issues its own secret.'
        : 'No client secret is configured (a certificate or federated credential is used).',
    };
  }
  if (!registration || registration.status !== 'read') {
    return {
      ...base,
      status: 'skip',
      message:
        'The app registration could not be read (see the redirect URI check).',
    };
  }
  // Graph shows the first three characters of each secret as its hint; never more.
  const matches = (registration.application.passwordCredentials ?? []).filter(
    c => c.hint && secret.startsWith(c.hint),
  );
  if (!matches.length) {
    return {
      ...base,
      status: 'fail',
      message:
        'No client secret of the app registration starts like the configured one: it was deleted, or belongs to another app.',
      fix: 'Create a client secret and store it in Key Vault (docs/runbook-azure.md, "Rotate secrets").',
    };
  }
  const now = ctx.now ?? new Date();
  const warnDays =
    ctx.config.getOptionalNumber(
      'gatehouse.diagnostics.secretExpiryWarningDays',
    ) ?? 30;
  const end = matches
    .map(c => (c.endDateTime ? new Date(c.endDateTime) : undefined))
    .filter((d): d is Date => Boolean(d))
    .sort((a, b) => b.getTime() - a.getTime())[0];
  if (!end)
    return {
      ...base,
      status: 'pass',
      message: 'The configured client secret has no expiry.',
    };
  const days = Math.floor((end.getTime() - now.getTime()) / 86_400_000);
  const details = { expires: end.toISOString(), daysLeft: days };
  if (days < 0) {
    return {
      ...base,
      status: 'fail',
      message: `The configured client secret expired on ${end.toISOString()}.`,
      fix: 'Create a new client secret and store it in Key Vault (docs/runbook-azure.md, "Rotate secrets").',
      details,
    };
  }
  if (days < warnDays) {
    return {
      ...base,
      status: 'warn',
      message: `The configured client secret expires in ${days} days (${end.toISOString()}).`,
      fix: 'Rotate it before then (docs/runbook-azure.md, "Rotate secrets").',
      details,
    };
  }
  return {
    ...base,
    status: 'pass',
    message: `The configured client secret is valid until ${end.toISOString()}.`,
    details,
  };
}

function checkImage(ctx: ChecksContext): DiagnosticCheck {
  const image = ctx.env.GATEHOUSE_IMAGE;
  const revision = ctx.env.CONTAINER_APP_REVISION;
  const base = {
    id: 'image',
    title: 'The running image is the deployed one',
    symptom:
      'The revision never starts: image pull failure (ImagePullBackOff, "unauthorized", "manifest unknown")',
    details: {
      image,
      revision,
      replica: ctx.env.CONTAINER_APP_REPLICA_NAME ?? ctx.env.HOSTNAME,
    },
  };
  if (!image) {
    return {
      ...base,
      status: 'skip',
      message: 'Not running from deploy/azure (GATEHOUSE_IMAGE is not set).',
    };
  }
  return {
    ...base,
    status: 'pass',
    message: `This replica runs ${image}${
      revision ? ` (revision ${revision})` : ''
    }. A revision whose image cannot be pulled never starts, so it never shows here: compare with the image you deployed, and see the revision's system logs when they differ.`,
  };
}

/** Runs every check, in the order an admin should read them. */
export function runChecks(ctx: ChecksContext): DiagnosticCheck[] {
  return [
    checkProviderConfig(ctx),
    checkRedirectUri(ctx),
    checkOrigins(ctx),
    checkClientSecret(ctx),
    checkImage(ctx),
  ];
}
