import express, {
  ErrorRequestHandler,
  Request,
  Response,
  Router,
} from 'express';
import { AdoPrincipal, AdoStore } from './AdoStore';
import { authenticate, hasScope } from './auth';
import { AdoError, adoErrors } from './errors';
import { serveGit } from './gitHttp';
import { gitAllowed, GitPermissionName } from './security';
import { REST_ROUTES, RestContext, RestResult } from './rest';

/** The newest REST API version the emulator (like Azure DevOps Services today) serves. */
export const LATEST_API_VERSION = '7.2';

const GIT_PATH =
  /^\/([^/]+)(?:\/([^/]+))?\/_git\/([^/]+)\/(info\/refs|git-upload-pack|git-receive-pack)$/i;

/** Route template of an Azure DevOps request for the counters, e.g. `GET /{organization}/{project}/_apis/git/repositories`. */
export function adoRouteTemplate(method: string, path: string): string {
  const git = GIT_PATH.exec(path);
  if (git) {
    return `${method} /{organization}/${
      git[2] ? '{project}/' : ''
    }_git/{repository}/${git[4]}`;
  }
  const r = REST_ROUTES.find(x => x.method === method && x.pattern.test(path));
  return `${method} ${r ? r.template : '/{organization}/(unknown)'}`;
}

function apiVersion(req: Request): string | undefined {
  const fromQuery = req.query['api-version'];
  if (typeof fromQuery === 'string' && fromQuery) return fromQuery;
  const m = /api-version\s*=\s*([^;,\s]+)/i.exec(
    String(req.headers.accept ?? ''),
  );
  return m?.[1];
}

/** Checks `api-version` as the service does; undefined when none was needed (a GET). */
function checkApiVersion(req: Request): void {
  const v = apiVersion(req);
  if (!v) {
    // GETs fall back to the newest version; other methods must say which one they speak.
    if (req.method !== 'GET') throw adoErrors.versionNotSpecified(req.method);
    return;
  }
  const m = /^(\d+)\.(\d+)(-preview(\.\d+)?)?$/i.exec(v);
  if (!m) {
    throw adoErrors.badRequest(
      'VssInvalidApiVersionException',
      `The api-version '${v}' is not in a valid format. It must be like 'major.minor' or 'major.minor-preview'.`,
    );
  }
  const [latestMajor, latestMinor] = LATEST_API_VERSION.split('.').map(Number);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major > latestMajor || (major === latestMajor && minor > latestMinor)) {
    throw adoErrors.versionOutOfRange(v, `${LATEST_API_VERSION}-preview`);
  }
  if (major === latestMajor && minor === latestMinor && !m[3]) {
    // The newest version is only served as a preview.
    throw adoErrors.invalidVersion(v);
  }
}

function sendError(res: Response, e: AdoError): void {
  res
    .status(e.status)
    .set({ ...e.headers, 'Content-Type': 'application/json; charset=utf-8' })
    .send(JSON.stringify(e.body));
}

function sendResult(res: Response, r: RestResult): void {
  res.status(r.status ?? 200);
  if (r.headers) res.set(r.headers);
  if (r.raw) {
    res.type(r.contentType ?? 'application/octet-stream').send(r.raw);
  } else if (r.body === undefined) {
    res.end();
  } else {
    res
      .type('application/json; charset=utf-8; api-version=7.1')
      .send(JSON.stringify(r.body));
  }
}

/**
 * The Azure DevOps Services surface (dev.azure.com and almsearch.dev.azure.com path layout)
 * at the root of the router: `/{organization}/{project}/_apis/...` and
 * `/{organization}/{project}/_git/{repository}`. `baseUrl(req)` gives the URL the router is
 * reached at, for the URLs in responses (by default the request's own scheme and host, so a
 * client that called `https://dev.azure.com` gets `https://dev.azure.com/...` back).
 */
export function createAdoRouter(
  store: AdoStore,
  baseUrl: (req: Request) => string = req =>
    `${req.protocol}://${req.headers.host}`,
): Router {
  const router = Router();
  const faults = store.emulator.faults;
  const json = express.json({
    limit: '8mb',
    type: ['application/json', 'application/*+json'],
  });

  router.use((req, res, next) => {
    const template = adoRouteTemplate(req.method, req.path);
    res.on('finish', () => faults.count(template, res.statusCode, 0));
    (res.locals as Record<string, unknown>).adoRoute = template;
    if (GIT_PATH.test(req.path)) next();
    else json(req, res, next);
  });
  const bodyError: ErrorRequestHandler = (err, _req, res, _next) => {
    sendError(
      res,
      adoErrors.badRequest(
        'ArgumentException',
        `The request body is not valid JSON: ${(err as Error).message}`,
      ),
    );
  };
  router.use(bodyError);

  router.use(async (req, res) => {
    const template = (res.locals as Record<string, string>).adoRoute;
    const base = baseUrl(req);
    const orgName = decodeURIComponent(req.path.split('/')[1] ?? '');
    const org = orgName ? store.findOrganization(orgName) : undefined;
    const git = GIT_PATH.exec(req.path);
    try {
      if (!org) {
        throw adoErrors.notFound(
          'OrganizationNotFoundException',
          `The Azure DevOps organization '${orgName}' does not exist in this emulator.`,
        );
      }
      const rest = git
        ? undefined
        : REST_ROUTES.find(
            x => x.method === req.method && x.pattern.test(req.path),
          );
      if (!git && !rest) {
        throw adoErrors.notFound(
          'RouteNotFoundException',
          `No Azure DevOps API at ${req.method} ${req.path} in this emulator.`,
        );
      }
      if (rest) checkApiVersion(req);

      const who = await authenticate(store, org, req.headers.authorization);
      const challenge = {
        'WWW-Authenticate': `Bearer authorization_uri=${store.emulator.baseUrl}/${org.tenant.id}, Basic realm="${base}/"`,
      };
      if ('failure' in who && who.failure === 'anonymous') {
        if (
          git ||
          String(req.headers['x-tfs-fedauthredirect']).toLowerCase() ===
            'suppress'
        ) {
          res.status(401).set(challenge).type('text/plain').send('');
          return;
        }
        // The service answers an anonymous API call with its sign-in page, status 203.
        res
          .status(203)
          .type('text/html')
          .send(
            `<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body><p>Sign in to ${base}/${org.name}</p></body></html>`,
          );
        return;
      }
      if ('failure' in who && who.failure === 'invalid') {
        const e = adoErrors.notAuthorized();
        Object.assign(e.headers, challenge);
        throw e;
      }
      if ('failure' in who && who.failure === 'notMember') {
        throw adoErrors.notAuthorized(who.principal.uniqueName);
      }
      const principal = who as AdoPrincipal;

      const blocked = faults.adoInjectedError(template);
      if (blocked) {
        const e = adoErrors.blocked(blocked.retryAfter, 'Core');
        e.headers['X-RateLimit-Reset'] = String(
          store.nowSeconds() + blocked.retryAfter,
        );
        throw e;
      }

      if (git) {
        const [, , projectName, repoName, gitPath] = git;
        const project = store.findProject(
          org,
          decodeURIComponent(projectName ?? repoName),
        );
        const repo = project
          ? store.findRepository(org, decodeURIComponent(repoName), project)
          : undefined;
        const push =
          gitPath === 'git-receive-pack' ||
          req.query.service === 'git-receive-pack';
        const allowed = (p: GitPermissionName) =>
          repo ? gitAllowed(org, principal, repo.project, repo, p) : false;
        if (!repo || !allowed('GenericRead')) {
          // A repository the caller cannot read is "not found", as in the service.
          res
            .status(404)
            .type('text/plain')
            .send(
              adoErrors.repositoryNotFound(decodeURIComponent(repoName))
                .message,
            );
          return;
        }
        if (
          !hasScope(principal, push ? 'vso.code_write' : 'vso.code') ||
          (push && !allowed('GenericContribute'))
        ) {
          if (push) {
            res
              .status(403)
              .type('text/plain')
              .send(
                adoErrors.gitPermission(
                  'GenericContribute',
                  principal.uniqueName,
                ).message,
              );
          } else {
            res.status(401).set(challenge).type('text/plain').send('');
          }
          return;
        }
        serveGit(store, repo, gitPath, principal, req, res);
        return;
      }

      if (!hasScope(principal, rest!.scope)) {
        if (rest!.scope === 'vso.code_manage') {
          throw adoErrors.gitPermission(
            'CreateRepository',
            principal.uniqueName,
          );
        }
        throw adoErrors.notAuthorized(principal.uniqueName);
      }
      const m = rest!.pattern.exec(req.path)!;
      const params: Record<string, string> = {};
      rest!.names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1]);
      });
      const ctx: RestContext = {
        store,
        org,
        principal,
        params,
        query: new URL(req.originalUrl, 'http://x').searchParams,
        headers: req.headers,
        body: req.body,
        base,
      };
      sendResult(res, await rest!.handler(ctx));
    } catch (e) {
      if (e instanceof AdoError) sendError(res, e);
      else {
        sendError(
          res,
          new AdoError(
            500,
            'InvalidOperationException',
            `Emulator error: ${(e as Error).message}`,
          ),
        );
      }
    }
  });
  return router;
}
