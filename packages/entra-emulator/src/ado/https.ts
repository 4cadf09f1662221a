import http from 'node:http';
import { buildConnector, Agent, Dispatcher } from 'undici';
import { HttpsListener, listenHttps } from '../tls';

/** Azure DevOps' public host names, which the HTTPS listener's certificate names. */
export const AZURE_DEVOPS_HOSTS = ['dev.azure.com', 'almsearch.dev.azure.com'];

/** Serves the Azure DevOps app over HTTPS with a certificate for Azure DevOps' host names. */
export function listenAdoHttps(
  handler: http.RequestListener,
  host: string,
  publicHost: string,
): Promise<HttpsListener> {
  return listenHttps(handler, host, publicHost, AZURE_DEVOPS_HOSTS);
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
