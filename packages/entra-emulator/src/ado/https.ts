import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import { buildConnector, Agent, Dispatcher } from 'undici';
import { createLocalTls } from '../tls';

/** Azure DevOps' public host names, which the HTTPS listener's certificate names. */
export const AZURE_DEVOPS_HOSTS = ['dev.azure.com', 'almsearch.dev.azure.com'];

/** Serves the Azure DevOps app over HTTPS with a certificate for Azure DevOps' host names. */
export async function listenAdoHttps(
  handler: http.RequestListener,
  host: string,
  publicHost: string,
): Promise<{
  url: string;
  port: number;
  caPem: string;
  close(): Promise<void>;
}> {
  const tls = await createLocalTls([
    ...AZURE_DEVOPS_HOSTS,
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

/**
 * An undici dispatcher that sends requests for `https://dev.azure.com` and
 * `https://almsearch.dev.azure.com` to the emulator's Azure DevOps HTTPS listener (trusting
 * its CA) and every other request on as usual. Pass it as `dispatcher` to `fetch`, or install
 * it with undici's `setGlobalDispatcher` in a process of its own, to run code that only knows
 * the real host names (Backstage allows Entra credentials only for `dev.azure.com`).
 */
export function azureDevOpsDispatcher(listener: {
  port: number;
  caPem: string;
  /** The address the listener is bound to (default `127.0.0.1`). */
  address?: string;
}): Dispatcher {
  const emulator = buildConnector({ ca: listener.caPem });
  const normal = buildConnector({});
  return new Agent({
    connect: (opts, callback) => {
      if (
        AZURE_DEVOPS_HOSTS.includes(opts.hostname) &&
        opts.protocol === 'https:'
      ) {
        emulator(
          {
            ...opts,
            hostname: listener.address ?? '127.0.0.1',
            port: String(listener.port),
            servername: opts.hostname,
          },
          callback,
        );
      } else normal(opts, callback);
    },
  });
}
