import { HttpAuthService } from '@backstage/backend-plugin-api';
import express from 'express';
import Router from 'express-promise-router';
import { DiagnosticCheck, ObservedRequest } from './checks';

const first = (value: string | string[] | undefined) =>
  (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Where the request came in (behind Container Apps' ingress: X-Forwarded-*) and from. */
export function observe(req: express.Request): ObservedRequest {
  const proto = first(req.headers['x-forwarded-proto']) ?? req.protocol;
  const host = first(req.headers['x-forwarded-host']) ?? req.headers.host;
  return {
    backendOrigin: host ? originOf(`${proto}://${host}`) : undefined,
    browserOrigin:
      originOf(first(req.headers.origin)) ?? originOf(req.headers.referer),
  };
}

/** `GET /checks`: every check, for signed-in people (admins only once RBAC lands). */
export function createRouter(options: {
  httpAuth: HttpAuthService;
  runner: { run(request?: ObservedRequest): Promise<DiagnosticCheck[]> };
}): express.Router {
  const { httpAuth, runner } = options;
  const router = Router();
  router.get('/checks', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user'] });
    const checks = await runner.run(observe(req));
    const count = (s: DiagnosticCheck['status']) =>
      checks.filter(c => c.status === s).length;
    res.json({
      ok: count('fail') === 0,
      summary: {
        pass: count('pass'),
        warn: count('warn'),
        fail: count('fail'),
        skip: count('skip'),
      },
      checks,
    });
  });
  return router;
}
