import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';

/** A certificate authority and a server certificate it signed, all PEM. */
export interface LocalTls {
  /** The CA certificate: what a client trusts (`ca` of an https Agent, `NODE_EXTRA_CA_CERTS`). */
  caPem: string;
  /** The server certificate, for `localhost`, `127.0.0.1` and `::1` (and any extra names). */
  certPem: string;
  keyPem: string;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END ${label}-----\n`;
}

const serial = () =>
  Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');

/**
 * Makes a fresh CA and a server certificate for the emulator's HTTPS listener. Generated in
 * memory at every start and never written to disk: Microsoft's client libraries insist on an
 * https authority, and a CA of our own is enough for them to trust a local one.
 */
export async function createLocalTls(
  extraHosts: string[] = [],
): Promise<LocalTls> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const now = Date.now();
  const notBefore = new Date(now - 5 * 60_000);
  const notAfter = new Date(now + 30 * 24 * 3600_000);
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const caName = 'CN=Gatehouse emulator local CA';
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: caName,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = (await webcrypto.subtle.generateKey(ALG, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const dns = ['localhost', ...extraHosts.filter(h => !/^[\d.:]+$/.test(h))];
  const ips = [
    '127.0.0.1',
    '::1',
    ...extraHosts.filter(h => /^[\d.:]+$/.test(h)),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dns.map(value => ({ type: 'dns' as const, value })),
        ...ips.map(value => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey(
    'pkcs8',
    serverKeys.privateKey,
  );
  return {
    caPem: ca.toString('pem'),
    certPem: cert.toString('pem'),
    keyPem: pem('PRIVATE KEY', pkcs8),
  };
}

/** An HTTPS listener of the emulator: its URL, the CA to trust, and a way to stop it. */
export interface HttpsListener {
  url: string;
  port: number;
  caPem: string;
  close(): Promise<void>;
}

/**
 * Serves `handler` over HTTPS on a free port of `host`, with a fresh local CA (see
 * `createLocalTls`); URLs name `publicHost`.
 */
export async function listenHttps(
  handler: http.RequestListener,
  host: string,
  publicHost: string,
  /** More names for the certificate, e.g. `login.microsoftonline.com` (see hostRouting.ts). */
  extraHosts: string[] = [],
): Promise<HttpsListener> {
  const tls = await createLocalTls([
    ...extraHosts,
    ...(publicHost === 'localhost' ? [] : [publicHost]),
  ]);
  const server = https.createServer(
    { key: tls.keyPem, cert: tls.certPem },
    handler,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://${publicHost}:${port}`,
    port,
    caPem: tls.caPem,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close(err => (err ? reject(err) : resolve()));
      }),
  };
}
