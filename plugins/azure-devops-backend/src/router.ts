import { HttpAuthService, LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import {
  InputError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import express from 'express';
import Router from 'express-promise-router';
import {
  AzureDevOpsCallError,
  AzureDevOpsClient,
  RepoRef,
} from './AzureDevOpsClient';

/** `project/repo` of the component's repository. */
export const PROJECT_REPO_ANNOTATION = 'dev.azure.com/project-repo';
/** `host/organization`; without it, `azureDevOps.host` and `azureDevOps.organization`. */
export const HOST_ORG_ANNOTATION = 'dev.azure.com/host-org';

/** Where an entity's repository is, from its annotations and the config's defaults. */
export function repoRefOf(entity: Entity, config: Config): RepoRef {
  const ref = stringifyEntityRef(entity);
  const projectRepo = entity.metadata.annotations?.[PROJECT_REPO_ANNOTATION];
  if (!projectRepo) {
    throw new NotFoundError(
      `${ref} has no ${PROJECT_REPO_ANNOTATION} annotation`,
    );
  }
  const [project, repository, ...rest] = projectRepo.split('/');
  if (!project || !repository || rest.length) {
    throw new InputError(
      `${ref}: ${PROJECT_REPO_ANNOTATION} must be <project>/<repository>, not ${projectRepo}`,
    );
  }
  const hostOrg = entity.metadata.annotations?.[HOST_ORG_ANNOTATION];
  let host = config.getOptionalString('azureDevOps.host') ?? 'dev.azure.com';
  let organization = config.getOptionalString('azureDevOps.organization');
  if (hostOrg) {
    const cut = hostOrg.lastIndexOf('/');
    host = hostOrg.slice(0, cut);
    organization = hostOrg.slice(cut + 1);
    if (cut <= 0 || !organization) {
      throw new InputError(
        `${ref}: ${HOST_ORG_ANNOTATION} must be <host>/<organization>, not ${hostOrg}`,
      );
    }
  }
  if (!organization) {
    throw new InputError(
      `${ref}: no ${HOST_ORG_ANNOTATION} annotation and no azureDevOps.organization configured`,
    );
  }
  return { host, organization, project, repository };
}

export interface RouterOptions {
  config: Config;
  logger: LoggerService;
  httpAuth: HttpAuthService;
  catalog: CatalogService;
  client: AzureDevOpsClient;
}

/**
 * `GET /entities/{kind}/{namespace}/{name}/runs|pull-requests|readme`. The entity is read
 * with the caller's credentials, so only what the caller may see in the catalog is looked up
 * in Azure DevOps, and only the repository its annotations name.
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { config, httpAuth, catalog, client, logger } = options;
  const top = Math.min(
    Math.max(config.getOptionalNumber('azureDevOps.top') ?? 10, 1),
    100,
  );
  const router = Router();

  async function repoOf(req: express.Request): Promise<RepoRef> {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const { kind, namespace, name } = req.params;
    const entity = await catalog.getEntityByRef(
      { kind, namespace, name },
      { credentials },
    );
    if (!entity) {
      throw new NotFoundError(`No entity ${kind}:${namespace}/${name}`);
    }
    return repoRefOf(entity, config);
  }

  async function call<T>(repo: RepoRef, what: () => Promise<T>): Promise<T> {
    try {
      return await what();
    } catch (e) {
      if (!(e instanceof AzureDevOpsCallError)) throw e;
      const where = `${repo.organization}/${repo.project}/${repo.repository}`;
      if (e.status === 404) {
        throw new NotFoundError(`Azure DevOps has no repository ${where}`);
      }
      logger.warn(`Azure DevOps call for ${where} failed: ${e.message}`);
      throw new ServiceUnavailableError(e.message);
    }
  }

  const base = '/entities/:kind/:namespace/:name';
  router.get(`${base}/runs`, async (req, res) => {
    const repo = await repoOf(req);
    res.json({ runs: await call(repo, () => client.runs(repo, top)) });
  });
  router.get(`${base}/pull-requests`, async (req, res) => {
    const repo = await repoOf(req);
    res.json({
      pullRequests: await call(repo, () => client.pullRequests(repo)),
    });
  });
  router.get(`${base}/readme`, async (req, res) => {
    const repo = await repoOf(req);
    const content = await call(repo, () => client.readme(repo));
    if (content === undefined) {
      throw new NotFoundError(
        `${repo.project}/${repo.repository} has no README.md`,
      );
    }
    res.json({ content });
  });
  return router;
}
