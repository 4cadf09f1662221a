import { HttpAuthService } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import { EntraOrgStatusService } from '@gatehouse/plugin-catalog-backend-module-entra-org';
import express from 'express';
import Router from 'express-promise-router';

/** `GET /status` and `POST /providers/:id/refresh`, for signed-in people only. */
export function createRouter(options: {
  httpAuth: HttpAuthService;
  status: EntraOrgStatusService;
}): express.Router {
  const { httpAuth, status } = options;
  const router = Router();

  router.get('/status', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user'] });
    res.json({ providers: status.list() });
  });

  router.post('/providers/:id/refresh', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user'] });
    const source = status.get(req.params.id);
    if (!source) {
      throw new NotFoundError(`No org sync provider ${req.params.id}`);
    }
    // The scheduler runs the round (on whichever replica claims it); this only asks for it.
    await source.refresh();
    res.status(202).json({ provider: source.status() });
  });

  return router;
}
