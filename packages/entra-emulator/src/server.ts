import express, { ErrorRequestHandler, Express } from 'express';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { AdoStore } from './ado/AdoStore';
import { createAdoRouter } from './ado/router';
import { listenAdoHttps } from './ado/https';
import { PAT_SCOPES, PatScope } from './ado/model';
import { Emulator, EmulatorOptions } from './Emulator';
import { validateFaultSettings } from './faults';
import { GraphService } from './graph/GraphService';
import { createOidcRouter } from './oidc';
import { createManagedIdentityRouter } from './managedIdentity';
import { loadTenantFile } from './tenant/loadTenants';
import { listenHttps } from './tls';
import { MICROSOFT_AUTHORITY_HOSTS } from './hostRouting';

/** A running emulator: its state, its URL and a way to stop it. */
export interface RunningEmulator {
  emulator: Emulator;
  graph: GraphService;
  /**
   * e.g. `http://localhost:7100`; the authority, and Graph at `${url}/v1.0`. With `https`, the
   * HTTPS listener's URL: the issuer and every endpoint the emulator hands out are https.
   */
  url: string;
  /** The plain-HTTP listener (the same app), also with `https`. */
  httpUrl: string;
  /** With `https`: the PEM of the CA that signed the emulator's certificate, for clients to trust. */
  caPem?: string;
  /** The Azure DevOps state: organizations, projects, repositories, PATs. */
  ado: AdoStore;
  /**
   * The Azure DevOps root, e.g. `http://localhost:7101`: the real service's path layout
   * (`https://dev.azure.com/{org}/...` becomes `${adoUrl}/{org}/...`, code search at
   * `almsearch.dev.azure.com` too). The same API is at `${url}/ado/{org}/...`.
   */
  adoUrl: string;
  /** `adoUrl`'s host and port: the `host` of an `integrations.azure` entry. */
  adoHost: string;
  /** With `adoHttps`: the HTTPS listener's URL and port, and the CA PEM its certificate chains to. */
  adoHttps?: { url: string; port: number; caPem: string };
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
  /** Port of the Azure DevOps listener; 0 (the default) picks a free port. */
  adoPort?: number;
  /**
   * Also serve Azure DevOps over HTTPS (on a free port) with a certificate for `localhost`,
   * `dev.azure.com` and `almsearch.dev.azure.com` from a CA generated at start: with
   * `azureDevOpsDispatcher` a client's requests to `https://dev.azure.com` reach the emulator.
   */
  adoHttps?: boolean;
  /**
   * Also listen for HTTPS (on a free port) with a CA and certificate generated at start, never
   * written to disk, and hand out https URLs: Microsoft's client libraries (`@azure/identity`,
   * MSAL) accept only an https authority.
   */
  https?: boolean;
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
    [['GET'], /^\/common\/discovery\/instance$/i, '/common/discovery/instance'],
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
  ado?: AdoStore,
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
    else if (Buffer.isBuffer(result.body)) res.send(result.body);
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
  // A PAT, as a user creates one in Azure DevOps' user settings; the text is shown once.
  admin.post('/ado/pats', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!ado) {
      res
        .status(404)
        .json({ error: 'this emulator has no Azure DevOps surface' });
      return;
    }
    const scopes = b.scopes ?? ['full'];
    if (
      typeof b.organization !== 'string' ||
      typeof b.user !== 'string' ||
      !Array.isArray(scopes) ||
      scopes.some(x => !(PAT_SCOPES as readonly unknown[]).includes(x)) ||
      (b.validTo !== undefined && Number.isNaN(Date.parse(String(b.validTo))))
    ) {
      res.status(400).json({
        error: `expected { organization, user, scopes?: [${PAT_SCOPES.join(
          ', ',
        )}], validTo?: ISO date, displayName? }`,
      });
      return;
    }
    try {
      res.status(201).json(
        ado.createPersonalAccessToken(b.organization, b.user, {
          scopes: scopes as PatScope[],
          validTo: b.validTo ? new Date(String(b.validTo)) : undefined,
          displayName:
            typeof b.displayName === 'string' ? b.displayName : undefined,
        }),
      );
    } catch (e) {
      res.status(400).json({ error: (e as Error).message });
    }
  });
  const adminBodyError: ErrorRequestHandler = (err, _req, res, _next) => {
    res
      .status(400)
      .json({ error: `the body is not valid JSON: ${(err as Error).message}` });
  };
  admin.use(adminBodyError);
  app.use('/_emulator', admin);

  // Azure DevOps under a path prefix (the same API as the Azure DevOps listener's root).
  if (ado)
    app.use(
      '/ado',
      createAdoRouter(ado, () => `${emulator.baseUrl}/ado`),
    );

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
  const ado = AdoStore.create(emulator, tenants);
  const app = createEmulatorApp(emulator, graph, ado);
  const adoApp = express();
  adoApp.disable('x-powered-by');
  adoApp.set('etag', false);
  adoApp.use((_req, _res, next) => {
    const latency = emulator.faults.settings.latencyMs;
    if (latency > 0) setTimeout(next, latency);
    else next();
  });
  adoApp.use(createAdoRouter(ado));
  const listen = async (handler: Express, port: number) => {
    const s = http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, options.host ?? '127.0.0.1', () => resolve());
    });
    return s;
  };
  const server = await listen(app, options.port ?? 0);
  const adoServer = await listen(adoApp, options.adoPort ?? 0);
  const host = options.publicHost ?? 'localhost';
  const port = (server.address() as AddressInfo).port;
  emulator.baseUrl = `http://${host}:${port}`;
  const adoHost = `${host}:${(adoServer.address() as AddressInfo).port}`;
  const adoUrl = `http://${adoHost}`;
  const adoTls = options.adoHttps
    ? await listenAdoHttps(adoApp, options.host ?? '127.0.0.1', host)
    : undefined;
  const tls = options.https
    ? await listenHttps(
        app,
        options.host ?? '127.0.0.1',
        host,
        MICROSOFT_AUTHORITY_HOSTS,
      )
    : undefined;
  if (tls) emulator.baseUrl = tls.url;
  const stop = (s: http.Server) =>
    new Promise<void>((resolve, reject) => {
      s.closeAllConnections?.();
      s.close(err => (err ? reject(err) : resolve()));
    });
  return {
    emulator,
    graph,
    url: emulator.baseUrl,
    httpUrl: `http://${host}:${port}`,
    caPem: tls?.caPem,
    ado,
    adoUrl,
    adoHost,
    adoHttps: adoTls
      ? { url: adoTls.url, port: adoTls.port, caPem: adoTls.caPem }
      : undefined,
    close: async () => {
      await Promise.all([
        stop(server),
        stop(adoServer),
        tls?.close(),
        adoTls?.close(),
      ]);
      ado.dispose();
    },
  };
}
