import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { Agent, buildConnector, setGlobalDispatcher } from 'undici';
import type { RunningEmulator } from './server';

/** Microsoft's public-cloud authority host, which the emulator's HTTPS listener can stand in for. */
export const MICROSOFT_AUTHORITY_HOSTS = ['login.microsoftonline.com'];

/** Where requests for some real host names go instead: one HTTPS listener of the emulator. */
export interface HostRoute {
  /** Real host names, e.g. `dev.azure.com`; only `https` on port 443 is routed. */
  hosts: string[];
  /** The listener's address (default `127.0.0.1`) and port. */
  address?: string;
  port: number;
  /** The CA the listener's certificate chains to: trusted for these hosts, and only for them. */
  caPem: string;
}

/** The environment variable the preload reads: a JSON array of `HostRoute`. */
export const HOST_ROUTES_ENV = 'GATEHOUSE_HOST_ROUTES';

function routeFor(
  routes: HostRoute[],
  host: string | null | undefined,
  port: string | number | null | undefined,
): HostRoute | undefined {
  if (!host) return undefined;
  if (
    port !== undefined &&
    port !== null &&
    port !== '' &&
    Number(port) !== 443
  )
    return undefined;
  const name = host.toLowerCase().replace(/\.$/, '');
  return routes.find(r => r.hosts.includes(name));
}

let installed: (() => void) | undefined;

/**
 * Sends this process's HTTPS requests for the routes' host names to the emulator, for both
 * `fetch` (undici's global dispatcher) and `node:https` (every `https.Agent`, which the Azure
 * SDK and MSAL use). The TLS server name stays the real host, so the certificate is checked
 * against it, and the emulator's CA is trusted for those hosts only: other hosts keep Node's
 * usual trust store and checks. Meant for a process of its own (a test's child process, a
 * local run); returns a function that undoes it.
 */
export function installHostRouting(routes: HostRoute[]): () => void {
  if (installed) throw new Error('host routing is already installed');
  for (const r of routes) {
    if (!r.caPem.includes('BEGIN CERTIFICATE'))
      throw new Error(`host route for ${r.hosts.join(', ')} has no CA PEM`);
  }

  // node:https: every Agent (core-rest-pipeline makes its own) connects through this.
  const proto = https.Agent.prototype as unknown as {
    createConnection: (options: any, callback?: any) => net.Socket;
  };
  const original = proto.createConnection;
  proto.createConnection = function routedConnection(
    this: https.Agent,
    options: tls.ConnectionOptions & { host?: string; port?: number },
    callback?: (err: Error | null, socket: net.Socket) => void,
  ) {
    const route = routeFor(routes, options.host, options.port);
    if (!route) return original.call(this, options, callback);
    const socket = tls.connect({
      ...options,
      host: route.address ?? '127.0.0.1',
      port: route.port,
      servername: options.host,
      ca: route.caPem,
      rejectUnauthorized: true,
    });
    return socket;
  };

  // fetch: undici's global dispatcher, with the same routing.
  const connectors = new Map(
    routes.map(r => [r, buildConnector({ ca: r.caPem })] as const),
  );
  const normal = buildConnector({});
  const previousDispatcher = (globalThis as any)[
    Symbol.for('undici.globalDispatcher.1')
  ];
  setGlobalDispatcher(
    new Agent({
      connect: (opts, callback) => {
        const route =
          opts.protocol === 'https:'
            ? routeFor(routes, opts.hostname, opts.port)
            : undefined;
        if (!route) {
          normal(opts, callback);
          return;
        }
        connectors.get(route)!(
          {
            ...opts,
            hostname: route.address ?? '127.0.0.1',
            port: String(route.port),
            servername: opts.hostname,
          },
          callback,
        );
      },
    }),
  );

  installed = () => {
    proto.createConnection = original;
    setGlobalDispatcher(previousDispatcher ?? new Agent());
    installed = undefined;
  };
  return installed;
}

/** Installs the routes given in `GATEHOUSE_HOST_ROUTES`; does nothing when it is unset. */
export function installHostRoutingFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const raw = env[HOST_ROUTES_ENV];
  if (!raw) return false;
  let routes: HostRoute[];
  try {
    routes = JSON.parse(raw);
  } catch (e) {
    throw new Error(`${HOST_ROUTES_ENV} is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(routes))
    throw new Error(`${HOST_ROUTES_ENV} must be a JSON array of routes`);
  installHostRouting(routes);
  return true;
}

/**
 * The routes to a running emulator: `dev.azure.com` and `almsearch.dev.azure.com` to its Azure
 * DevOps HTTPS listener (`adoHttps: true`), `login.microsoftonline.com` to its Entra ID HTTPS
 * listener (`https: true`).
 */
export function emulatorHostRoutes(running: RunningEmulator): HostRoute[] {
  const routes: HostRoute[] = [];
  if (running.adoHttps) {
    routes.push({
      hosts: ['dev.azure.com', 'almsearch.dev.azure.com'],
      port: running.adoHttps.port,
      caPem: running.adoHttps.caPem,
    });
  }
  if (running.caPem && running.url.startsWith('https:')) {
    routes.push({
      hosts: MICROSOFT_AUTHORITY_HOSTS,
      port: Number(new URL(running.url).port),
      caPem: running.caPem,
    });
  }
  return routes;
}

/**
 * The path of the preload module for `node --require` (from source: after
 * `@backstage/cli/config/nodeTransform.cjs`), which installs `GATEHOUSE_HOST_ROUTES` at start.
 */
export function hostRoutingPreload(): string {
  return require.resolve('./hostRoutingPreload');
}

/**
 * The environment of a child process that runs unchanged Backstage/Azure SDK code against
 * the emulator under the real host names: the routes, and the managed identity endpoint in
 * the shape Azure Container Apps gives it (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`). Start the
 * child with `node --require <hostRoutingPreload()>` (after a TypeScript loader when run from
 * source).
 */
export function emulatorProcessEnv(
  running: RunningEmulator,
): Record<string, string> {
  return {
    [HOST_ROUTES_ENV]: JSON.stringify(emulatorHostRoutes(running)),
    IDENTITY_ENDPOINT: `${running.httpUrl}/msi/token`,
    IDENTITY_HEADER: running.emulator.identityHeader,
  };
}
