import {
  GraphClient,
  GraphCredentials,
  GraphRequestError,
} from '@gatehouse/plugin-catalog-backend-module-entra-org';

/** What the checks need of the portal's app registration, as Microsoft Graph returns it. */
export interface AppRegistration {
  appId: string;
  displayName?: string;
  web?: { redirectUris?: string[] };
  passwordCredentials?: Array<{
    keyId?: string;
    displayName?: string | null;
    hint?: string | null;
    endDateTime?: string | null;
  }>;
}

/** The app registration, or why it could not be read. */
export type AppRegistrationResult =
  | { status: 'read'; application: AppRegistration }
  | { status: 'not-found' }
  | { status: 'forbidden'; message: string }
  | { status: 'error'; message: string };

/**
 * Reads the portal's app registration (`GET /applications?$filter=appId eq '...'`), app-only.
 * Needs `Application.Read.All`; a 403 comes back as `forbidden`, never as an exception.
 */
export async function readAppRegistration(options: {
  graphBaseUrl: string;
  credentials: GraphCredentials;
  /** The application (client) id whose registration to read. */
  clientId: string;
}): Promise<AppRegistrationResult> {
  const { graphBaseUrl, credentials, clientId } = options;
  // Few retries: a diagnostics page should answer quickly, even when Graph throttles.
  const client = new GraphClient(graphBaseUrl, credentials, { maxRetries: 1 });
  const filter = encodeURIComponent(
    `appId eq '${clientId.replace(/'/g, "''")}'`,
  );
  try {
    const apps = await client.list<AppRegistration>(
      `/applications?$filter=${filter}&$select=appId,displayName,web,passwordCredentials`,
    );
    const application = apps.find(a => a.appId === clientId);
    return application
      ? { status: 'read', application }
      : { status: 'not-found' };
  } catch (e) {
    if (e instanceof GraphRequestError && e.status === 403) {
      return { status: 'forbidden', message: e.message };
    }
    return { status: 'error', message: (e as Error).message };
  }
}
