import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  TokenCredential,
  TokenCredentialOptions,
  WorkloadIdentityCredential,
} from '@azure/identity';
import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { EntraCloud, ENTRA_CLOUDS, graphScope } from './clouds';
import { GraphCredentials } from './GraphClient';

/** How the sync signs in to Graph, as chosen by the keys a provider's config has. */
export type CredentialKind =
  | 'clientSecret'
  | 'clientCertificate'
  | 'managedIdentity'
  | 'federatedManagedIdentity'
  | 'workloadIdentity';

/** Where a provider reads, and the credentials it reads with. */
export interface ProviderTarget {
  graphBaseUrl: string;
  credentials: GraphCredentials;
  kind: CredentialKind;
  authority: string;
}

/** Options for the credentials that are not configuration: a CA to trust, the environment. */
export interface CredentialOverrides {
  /**
   * Extra trust for the token requests of `@azure/identity` (e.g. a local emulator's CA).
   * Production uses the system trust store or `NODE_EXTRA_CA_CERTS`.
   */
  tlsOptions?: TokenCredentialOptions['tlsOptions'];
  env?: NodeJS.ProcessEnv;
}

const MICROSOFT_AUTHORITIES: string[] = Object.values(ENTRA_CLOUDS).map(
  c => c.authority,
);
const SYSTEM_ASSIGNED = 'system-assigned';
const TOKEN_EXCHANGE_SCOPE = 'api://AzureADTokenExchange/.default';

const trim = (url: string) => url.replace(/\/+$/, '');

/** `authority` as a URL: a cloud name (`public`, `usgovernment`, `china`) or a URL. */
function cloudOf(authority: string | undefined): {
  authority: string;
  graph: string;
} {
  if (!authority) return ENTRA_CLOUDS.public;
  if (authority in ENTRA_CLOUDS) return ENTRA_CLOUDS[authority as EntraCloud];
  if (!/^https?:\/\//.test(authority)) {
    throw new InputError(
      `authority "${authority}" is neither a URL nor a cloud (${Object.keys(
        ENTRA_CLOUDS,
      ).join(', ')})`,
    );
  }
  const url = trim(authority);
  // A Microsoft authority implies its cloud's Graph; for any other, set `target`.
  const known = Object.values(ENTRA_CLOUDS).find(c => c.authority === url);
  return { authority: url, graph: known?.graph ?? ENTRA_CLOUDS.public.graph };
}

/**
 * Reads a `catalog.providers.microsoftGraphOrg.<id>` entry: the cloud (`authority` as a cloud
 * name or URL, `target` for Graph) and the credential its keys describe, with the same keys
 * as the sign-in module (`auth.providers.microsoft`):
 *
 * - `clientSecret`: the app's client secret;
 * - `clientCertificate` (`certificate` and `privateKey`, PEM): a certificate of the app;
 * - `federatedCredential`: workload identity federation, the app's client assertion being a
 *   managed identity's token (`source: managedIdentity`) or a token file (`source: file`,
 *   default `AZURE_FEDERATED_TOKEN_FILE`);
 * - none of these: `AZURE_FEDERATED_TOKEN_FILE` when set (workload identity, as
 *   `DefaultAzureCredential` would), else the host's managed identity with its own Graph
 *   permissions (`clientId` picks a user-assigned one).
 *
 * An `http:` authority (the built-in emulator) keeps the in-house client-credentials request:
 * `@azure/identity` accepts only https authorities.
 */
export function readProviderTarget(
  c: Config,
  overrides: CredentialOverrides = {},
): ProviderTarget {
  const env = overrides.env ?? process.env;
  const cloud = cloudOf(c.getOptionalString('authority'));
  const authority = cloud.authority;
  const graphBaseUrl = trim(
    c.getOptionalString('target') ?? `${cloud.graph}/v1.0`,
  );
  const tenantId = c.getString('tenantId');
  const clientId = c.getOptionalString('clientId');
  const clientSecret = c.getOptionalString('clientSecret');
  const certificate = c.getOptionalConfig('clientCertificate');
  const federated = c.getOptionalConfig('federatedCredential');
  const configured = [
    clientSecret && 'clientSecret',
    certificate && 'clientCertificate',
    federated && 'federatedCredential',
  ].filter(Boolean);
  if (configured.length > 1) {
    throw new InputError(
      `Configure one of clientSecret, clientCertificate and federatedCredential, not ${configured.join(
        ' and ',
      )}`,
    );
  }
  const tls = overrides.tlsOptions ? { tlsOptions: overrides.tlsOptions } : {};
  const options = {
    ...tls,
    authorityHost: authority,
    // MSAL knows Microsoft's clouds; any other authority (an emulator, a private cloud)
    // must not be checked against Microsoft's instance discovery service.
    disableInstanceDiscovery: !MICROSOFT_AUTHORITIES.includes(authority),
  };
  const appId = (what: string): string => {
    if (!clientId)
      throw new InputError(`${what} needs clientId, the app's client id`);
    return clientId;
  };
  const target = (
    kind: CredentialKind,
    credential: TokenCredential,
  ): ProviderTarget => ({
    kind,
    authority,
    graphBaseUrl,
    credentials: { tenantId, credential, scope: graphScope(graphBaseUrl) },
  });
  const managedIdentity = (id: string | undefined) =>
    new ManagedIdentityCredential(
      id && id !== SYSTEM_ASSIGNED ? { ...tls, clientId: id } : { ...tls },
    );

  if (clientSecret) {
    const id = appId('clientSecret');
    if (new URL(authority).protocol === 'http:') {
      return {
        kind: 'clientSecret',
        authority,
        graphBaseUrl,
        credentials: { authority, tenantId, clientId: id, clientSecret },
      };
    }
    return target(
      'clientSecret',
      new ClientSecretCredential(tenantId, id, clientSecret, options),
    );
  }
  if (certificate) {
    // MSAL takes the certificate (for its thumbprint) and the key as one PEM.
    const pem = `${certificate.getString('certificate').trim()}\n${certificate
      .getString('privateKey')
      .trim()}\n`;
    return target(
      'clientCertificate',
      new ClientCertificateCredential(
        tenantId,
        appId('clientCertificate'),
        { certificate: pem },
        options,
      ),
    );
  }
  if (federated) {
    const source = federated.getString('source');
    if (source === 'managedIdentity') {
      const identity = managedIdentity(
        federated.getOptionalString('managedIdentityClientId'),
      );
      // The identity's token for Entra's token exchange audience is the app's assertion.
      const assertion = async () =>
        (await identity.getToken(TOKEN_EXCHANGE_SCOPE)).token;
      return target(
        'federatedManagedIdentity',
        new ClientAssertionCredential(
          tenantId,
          appId('federatedCredential'),
          assertion,
          options,
        ),
      );
    }
    if (source !== 'file') {
      throw new InputError(
        `federatedCredential.source must be managedIdentity or file, not ${source}`,
      );
    }
    const tokenFile =
      federated.getOptionalString('tokenFile') ??
      env.AZURE_FEDERATED_TOKEN_FILE;
    if (!tokenFile) {
      throw new InputError(
        'federatedCredential.tokenFile or AZURE_FEDERATED_TOKEN_FILE is required',
      );
    }
    return target(
      'workloadIdentity',
      new WorkloadIdentityCredential({
        ...options,
        tenantId,
        clientId: appId('federatedCredential'),
        tokenFilePath: tokenFile,
      }),
    );
  }
  if (env.AZURE_FEDERATED_TOKEN_FILE) {
    const id = clientId ?? env.AZURE_CLIENT_ID;
    if (!id) {
      throw new InputError(
        'AZURE_FEDERATED_TOKEN_FILE is set: workload identity needs clientId (or AZURE_CLIENT_ID)',
      );
    }
    return target(
      'workloadIdentity',
      new WorkloadIdentityCredential({
        ...options,
        tenantId,
        clientId: id,
        tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE,
      }),
    );
  }
  return target('managedIdentity', managedIdentity(clientId));
}
