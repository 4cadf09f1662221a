import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import {
  InputError,
  NotAllowedError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { catalogPermissions } from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  createPermission,
  Permission,
  PermissionAttributes,
} from '@backstage/plugin-permission-common';
import { EntraRbacRegistry } from '@gatehouse/plugin-permission-backend-module-entra-rbac';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import {
  entraRbacAccessReadPermission,
  entraRbacPermissions,
} from './permissions';

const ACTIONS = ['read', 'create', 'update', 'delete'];

/** The permissions the explain form knows by name; others need resourceType/action. */
const KNOWN: Permission[] = [...catalogPermissions, ...entraRbacPermissions];

function permissionFrom(body: Record<string, unknown>): Permission {
  const name = body.permission;
  if (typeof name !== 'string' || !name) {
    throw new InputError('permission (a permission name) is required');
  }
  const known = KNOWN.find(p => p.name === name);
  if (known) return known;
  const action = body.action;
  if (action !== undefined && !ACTIONS.includes(action as string)) {
    throw new InputError(`action must be one of ${ACTIONS.join(', ')}`);
  }
  const attributes: PermissionAttributes = action
    ? { action: action as PermissionAttributes['action'] }
    : {};
  const resourceType = body.resourceType;
  if (resourceType !== undefined && typeof resourceType !== 'string') {
    throw new InputError('resourceType must be a string');
  }
  return resourceType
    ? createPermission({ name, attributes, resourceType })
    : createPermission({ name, attributes });
}

function entityRef(value: unknown, field: string, defaultKind?: string) {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string')
    throw new InputError(`${field} must be a string`);
  try {
    return stringifyEntityRef(parseEntityRef(value, { defaultKind }));
  } catch (e) {
    throw new InputError(`${field}: ${(e as Error).message}`);
  }
}

/**
 * `GET /roles` and `POST /explain`, for people the policy grants
 * `entra-rbac.access.read` (admins); everyone else gets 403.
 */
export function createRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  registry: EntraRbacRegistry;
}): express.Router {
  const { httpAuth, permissions, registry } = options;
  const router = Router();
  router.use(express.json());

  async function engineFor(req: Request) {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const [decision] = await permissions.authorize(
      [{ permission: entraRbacAccessReadPermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `The Access page is for administrators: ${entraRbacAccessReadPermission.name} is not granted to ${credentials.principal.userEntityRef}`,
      );
    }
    const engine = registry.get();
    if (!engine) {
      throw new ServiceUnavailableError(
        'The Entra RBAC policy is not installed in this backend',
      );
    }
    return engine;
  }

  router.get('/roles', async (req, res) => {
    const engine = await engineFor(req);
    res.json({ status: engine.status(), roles: await engine.policy.roles() });
  });

  router.post('/explain', async (req, res) => {
    const engine = await engineFor(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const userEntityRef = entityRef(body.user, 'user', 'user');
    if (!userEntityRef)
      throw new InputError('user (a user entity ref) is required');
    const appRoles = body.appRoles;
    if (
      appRoles !== undefined &&
      (!Array.isArray(appRoles) || appRoles.some(r => typeof r !== 'string'))
    ) {
      throw new InputError('appRoles must be a list of strings');
    }
    const resourceRef = entityRef(body.resourceRef, 'resourceRef');
    res.json(
      await engine.policy.explain({
        userEntityRef,
        permission: permissionFrom(body),
        ...(resourceRef ? { resourceRef } : {}),
        ...(appRoles ? { appRoles: appRoles as string[] } : {}),
      }),
    );
  });

  return router;
}
