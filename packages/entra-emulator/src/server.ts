import express, { ErrorRequestHandler, Express } from 'express';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Emulator, EmulatorOptions } from './Emulator';
import { validateFaultSettings } from './faults';
import { GraphService } from './graph/GraphService';
import { createOidcRouter } from './oidc';
import { createManagedIdentityRouter } from './managedIdentity';
import { loadTenantFile } from './tenant/loadTenants';

/** A running emulator: its state, its URL and a way to stop it. */
export interface RunningEmulator {
  emulator: Emulator;
  graph: GraphService;
  /** e.g. `http://localhost:7100`; the authority, and Graph at `${url}/v1.0`. */
  url: string;
  close(): Promise<void>;
}

export interface StartEmulatorOptions extends Partial<EmulatorOptions> {
  /** A YAML tenant file; used when `tenants` is not given. */
  tenantFile?: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** The host name in URLs the emulator hands out (default `localhost`). */
  publicHost?: string;
}

/** The Entra ID and managed identity routes the emulator serves, as counted per route. */
const ENTRA_ROUTES: Array<[methods: string[], path: RegExp, template: string]> =
  [
    [
      ['GET'],
      /^\/[^/]+\/v2\.0\/\.well-known\/openid-configuration$/i,
      '/{tenant}/v2.0/.well-known/openid-configuration',
    ],
    [
      ['GET'],
      /^\/[^/]+\/discovery\/v2\.0\/keys$/i,
      '/{tenant}/discovery/v2.0/keys',
    ],
    [
      ['GET', 'POST'],
      /^\/[^/]+\/oauth2\/v2\.0\/authorize$/i,
      '/{tenant}/oauth2/v2.0/authorize',
    ],
    [
      ['POST'],
      /^\/[^/]+\/oauth2\/v2\.0\/authorize\/select$/i,
      '/{tenant}/oauth2/v2.0/authorize/select',
    ],
    [
      ['POST'],
      /^\/[^/]+\/oauth2\/v2\.0\/token$/i,
      '/{tenant}/oauth2/v2.0/token',
    ],
    [
      ['GET', 'POST'],
      /^\/[^/]+\/oauth2\/v2\.0\/logout$/i,
      '/{tenant}/oauth2/v2.0/logout',
    ],
    [['GET', 'POST'], /^\/oidc\/userinfo$/i, '/oidc/userinfo'],
    [['GET'], /^\/msi\/token$/i, '/msi/token'],
  ];

/**
 * The route template of an Entra ID (or managed identity) request, e.g.
 * `POST /{tenant}/oauth2/v2.0/token`; undefined for any other request (Graph included).
 */
export function entraRouteTemplate(
  method: string,
  path: string,
): string | undefined {
  if (/^\/v1\.0(\/|$)/i.test(path)) return undefined;
  const m = method.toUpperCase();
  const found = ENTRA_ROUTES.find(
    ([methods, pattern]) => methods.includes(m) && pattern.test(path),
  );
  return found ? `${m} ${found[2]}` : undefined;
}

/** Builds the HTTP app: Entra ID endpoints at `/{tenant}/...`, Graph at `/v1.0`, admin at `/_emulator`. */
export function createEmulatorApp(
  emulator: Emulator,
  graph: GraphService,
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/', (_req, res) => {
    res.json({
      name: 'Gatehouse Entra ID, Microsoft Graph and Azure DevOps emulator',
      tenants: [...emulator.tenants.values()].map(t => ({
        id: t.id,
        displayName: t.displayName,
        domains: t.domains,
        discovery: `${emulator.baseUrl}/${t.id}/v2.0/.well-known/openid-configuration`,
      })),
      graph: emulator.graphBaseUrl,
    });
  });

  // Every Microsoft endpoint (Entra ID, Graph, managed identity), not the admin API: the
  // injected latency, and the per-route count of Entra ID and managed identity requests
  // (Graph counts its own, with resource units).
  app.use((req, res, next) => {
    if (/^\/_emulator(\/|$)/i.test(req.path)) {
      next();
      return;
    }
    const route = entraRouteTemplate(req.method, req.path);
    if (route) {
      res.on('finish', () => emulator.faults.count(route, res.statusCode, 0));
    }
    const latency = emulator.faults.settings.latencyMs;
    if (latency > 0) setTimeout(next, latency);
    else next();
  });

  // Microsoft Graph
  app.use('/v1.0', express.json({ limit: '4mb' }), async (req, res) => {
    const url = new URL(req.originalUrl, 'http://x');
    const result = await graph.handle({
      method: req.method,
      path: url.pathname.replace(/^\/v1\.0/, '') || '/',
      query: url.searchParams,
      headers: {
        authorization: req.headers.authorization,
        'client-request-id': req.headers['client-request-id'] as
          | string
          | undefined,
      },
      body: req.body,
    });
    res.status(result.status).set(result.headers);
    if (result.body === undefined) res.end();
    else res.json(result.body);
  });
  // A body that is not JSON gets Graph's error, not Express's HTML page.
  const graphBodyError: ErrorRequestHandler = (err, req, res, _next) => {
    const status = (err as { status?: number }).status;
    const result = graph.errorResponse(
      status && status >= 400 && status < 500 ? status : 400,
      'BadRequest',
      `Unable to read the request payload. ${(err as Error).message}`,
      req.headers['client-request-id'] as string | undefined,
    );
    res.status(result.status).set(result.headers).json(result.body);
  };
  app.use('/v1.0', graphBodyError);

  // Emulator administration: faults, counters, keys. Not part of any Microsoft API.
  const admin = express.Router();
  admin.use(express.json());
  admin.get('/faults', (_req, res) => {
    const { random, ...settings } = emulator.faults.settings;
    res.json(settings);
  });
  admin.put('/faults', (req, res) => {
    const problems = validateFaultSettings(req.body);
    if (problems.length) {
      res.status(400).json({ error: problems.join('; ') });
      return;
    }
    const { random, ...settings } = emulator.faults.configure(req.body);
    res.json(settings);
  });
  admin.get('/counters', (_req, res) => res.json(emulator.faults.snapshot()));
  admin.delete('/counters', (_req, res) => {
    emulator.faults.resetCounters();
    res.status(204).end();
  });
  admin.post('/keys/rotate', async (_req, res) => {
    res.json({ kid: await emulator.keys.rotate() });
  });
  const adminBodyError: ErrorRequestHandler = (err, _req, res, _next) => {
    res
      .status(400)
      .json({ error: `the body is not valid JSON: ${(err as Error).message}` });
  };
  admin.use(adminBodyError);
  app.use('/_emulator', admin);

  app.use(createManagedIdentityRouter(emulator));
  app.use(createOidcRouter(emulator));

  app.use((req, res) => {
    res.status(404).json({
      error: 'not_found',
      error_description: `No emulator endpoint at ${req.method} ${req.path}`,
    });
  });
  return app;
}

/** Starts an emulator on a port; the portal, tests and benchmarks all use this. */
export async function startEmulator(
  options: StartEmulatorOptions = {},
): Promise<RunningEmulator> {
  const tenants =
    options.tenants ??
    (options.tenantFile ? loadTenantFile(options.tenantFile) : undefined);
  if (!tenants) throw new Error('startEmulator needs tenants or a tenantFile');
  const emulator = await Emulator.create({ ...options, tenants });
  const graph = new GraphService(emulator);
  const app = createEmulatorApp(emulator, graph);
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () =>
      resolve(),
    );
  });
  const port = (server.address() as AddressInfo).port;
  emulator.baseUrl = `http://${options.publicHost ?? 'localhost'}:${port}`;
  return {
    emulator,
    graph,
    url: emulator.baseUrl,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close(err => (err ? reject(err) : resolve()));
      }),
  };
}
