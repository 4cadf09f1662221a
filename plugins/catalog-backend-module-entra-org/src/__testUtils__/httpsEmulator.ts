import { mockServices } from '@backstage/backend-test-utils';
import {
  defaultTenantFile,
  EmulatedTenantData,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { Knex } from 'knex';
import {
  EntraOrgEntityProvider,
  EntraOrgProviderOptions,
} from '../EntraOrgEntityProvider';
import { OrgSyncStore } from '../OrgSyncStore';
import { RecordingCatalog } from './syncHarness';

/** The seeded Contoso tenant and its app registration. */
export const CONTOSO_ID = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
export const CONTOSO_APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';

/** An RSA certificate and key (PEM), as an app's client certificate. */
export async function makeClientCertificate(): Promise<{
  certPem: string;
  keyPem: string;
  publicKeyPem: string;
}> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = (await webcrypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a01',
    name: 'CN=gatehouse-org-sync',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    keys,
    signingAlgorithm: alg,
  });
  const pem = (label: string, der: ArrayBuffer) =>
    `-----BEGIN ${label}-----\n${Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g)!
      .join('\n')}\n-----END ${label}-----\n`;
  return {
    certPem: cert.toString('pem'),
    keyPem: pem(
      'PRIVATE KEY',
      await webcrypto.subtle.exportKey('pkcs8', keys.privateKey),
    ),
    publicKeyPem: pem(
      'PUBLIC KEY',
      await webcrypto.subtle.exportKey('spki', keys.publicKey),
    ),
  };
}

/** The seeded tenants, changed by `edit` before the emulator starts. */
export function contoso(
  edit: (tenant: EmulatedTenantData) => void = () => {},
): EmulatedTenantData[] {
  const tenants = loadTenantFile(defaultTenantFile);
  edit(tenants.find(t => t.id === CONTOSO_ID)!);
  return tenants;
}

/** An emulator with its HTTPS listener, the CA it trusts, and providers that sync from it. */
export class HttpsEmulatorHarness {
  private constructor(readonly running: RunningEmulator, readonly db: Knex) {}

  static async start(
    tenants: EmulatedTenantData[],
    db: Knex,
  ): Promise<HttpsEmulatorHarness> {
    const running = await startEmulator({ tenants, port: 0, https: true });
    return new HttpsEmulatorHarness(running, db);
  }

  get caPem(): string {
    return this.running.caPem!;
  }

  /** A provider connected to a recording catalog, reading with the options given. */
  async provider(
    options: Partial<EntraOrgProviderOptions> &
      Pick<EntraOrgProviderOptions, 'target'>,
  ) {
    const catalog = new RecordingCatalog();
    const store = await OrgSyncStore.create(
      mockServices.database({ knex: this.db }),
    );
    const provider = new EntraOrgEntityProvider({
      id: 'default',
      logger: mockServices.logger.mock(),
      store,
      taskRunner: { run: async () => {} },
      graph: { maxRetries: 2, backoffBaseMs: 10, sleep: async () => {} },
      ...options,
    });
    await provider.connect(catalog);
    return { provider, catalog };
  }

  close(): Promise<void> {
    return this.running.close();
  }
}
