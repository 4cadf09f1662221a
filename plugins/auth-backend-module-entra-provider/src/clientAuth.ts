import { Config } from '@backstage/config';
import { importPKCS8, SignJWT } from 'jose';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/** How the app proves who it is at the token endpoint: form parameters for one request. */
export type ClientAuth = (
  tokenEndpoint: string,
) => Promise<Record<string, string>>;

/**
 * Reads the client authentication of `auth.providers.microsoft.<env>`: exactly one of
 * `clientSecret`, `clientCertificate` (private_key_jwt) or `federatedCredential` (a managed
 * identity's or a workload identity's token as the client assertion, so no secret exists).
 */
export function readClientAuth(config: Config, clientId: string): ClientAuth {
  const secret = config.getOptionalString('clientSecret');
  const cert = config.getOptionalConfig('clientCertificate');
  const federated = config.getOptionalConfig('federatedCredential');
  const count = [secret, cert, federated].filter(Boolean).length;
  if (count !== 1) {
    throw new Error(
      `auth.providers.microsoft: configure exactly one of clientSecret, clientCertificate or federatedCredential (found ${count})`,
    );
  }
  if (secret) return async () => ({ client_secret: secret });
  if (cert) return certificateAuth(clientId, cert);
  return federatedAuth(federated!);
}

function certificateAuth(clientId: string, config: Config): ClientAuth {
  const privateKeyPem = config.getString('privateKey');
  const certificatePem = config.getOptionalString('certificate');
  const keyId = config.getOptionalString('keyId');
  const header: Record<string, string> = { alg: 'RS256', typ: 'JWT' };
  if (certificatePem) {
    const der = new X509Certificate(certificatePem).raw;
    header.x5t = createHash('sha1').update(der).digest('base64url');
    header['x5t#S256'] = createHash('sha256').update(der).digest('base64url');
  }
  if (keyId) header.kid = keyId;
  if (!certificatePem && !keyId) {
    throw new Error(
      'auth.providers.microsoft.clientCertificate: give certificate (PEM) or keyId, so Entra can find the key',
    );
  }
  const key = importPKCS8(privateKeyPem, 'RS256');
  return async tokenEndpoint => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader(header as { alg: string })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(tokenEndpoint)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 300)
      .sign(await key);
    return {
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    };
  };
}

function federatedAuth(config: Config): ClientAuth {
  const source = config.getString('source');
  if (source === 'file') {
    const file =
      config.getOptionalString('tokenFile') ??
      process.env.AZURE_FEDERATED_TOKEN_FILE;
    if (!file) {
      throw new Error(
        'auth.providers.microsoft.federatedCredential: tokenFile or AZURE_FEDERATED_TOKEN_FILE is required',
      );
    }
    return async () => ({
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: (await fs.readFile(file, 'utf8')).trim(),
    });
  }
  if (source !== 'managedIdentity') {
    throw new Error(
      `auth.providers.microsoft.federatedCredential.source must be managedIdentity or file, got ${source}`,
    );
  }
  const miClientId = config.getOptionalString('managedIdentityClientId');
  let cached: { token: string; expiresOn: number } | undefined;
  return async () => {
    if (!cached || cached.expiresOn - 300 < Date.now() / 1000) {
      cached = await managedIdentityToken(miClientId);
    }
    return {
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: cached.token,
    };
  };
}

/**
 * A token for `api://AzureADTokenExchange` from the managed identity endpoint: Container Apps
 * and App Service give `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`; elsewhere on Azure, IMDS.
 */
async function managedIdentityToken(
  clientId: string | undefined,
): Promise<{ token: string; expiresOn: number }> {
  const endpoint = process.env.IDENTITY_ENDPOINT;
  const header = process.env.IDENTITY_HEADER;
  let res: Response;
  if (endpoint && header) {
    const url = new URL(endpoint);
    url.searchParams.set('api-version', '2019-08-01');
    url.searchParams.set('resource', TOKEN_EXCHANGE_AUDIENCE);
    if (clientId) url.searchParams.set('client_id', clientId);
    res = await fetch(url, { headers: { 'X-IDENTITY-HEADER': header } });
  } else {
    const url = new URL(
      'http://169.254.169.254/metadata/identity/oauth2/token',
    );
    url.searchParams.set('api-version', '2018-02-01');
    url.searchParams.set('resource', TOKEN_EXCHANGE_AUDIENCE);
    if (clientId) url.searchParams.set('client_id', clientId);
    res = await fetch(url, {
      headers: { Metadata: 'true' },
      signal: AbortSignal.timeout(5000),
    });
  }
  const body = (await res.json().catch(() => ({}))) as {
    access_token?: string;
    expires_on?: string;
    message?: string;
  };
  if (!res.ok || !body.access_token) {
    throw new Error(
      `The managed identity endpoint gave no token (${res.status} ${
        body.message ?? ''
      }). Is a managed identity assigned, and is its client id right?`,
    );
  }
  return { token: body.access_token, expiresOn: Number(body.expires_on) };
}
