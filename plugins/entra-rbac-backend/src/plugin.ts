import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { entraRbacRegistryServiceRef } from '@gatehouse/plugin-permission-backend-module-entra-rbac';
import { entraRbacPermissions } from './permissions';
import { createRouter } from './router';

/**
 * Explains the Entra RBAC policy at `/api/entra-rbac`: roles with members resolved through
 * nesting, and the decision (role, rule, member) for any user, permission and resource.
 * The policy itself is a permission module; this plugin reads it through the root registry.
 */
export const entraRbacPlugin = createBackendPlugin({
  pluginId: 'entra-rbac',
  register(reg) {
    reg.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        registry: entraRbacRegistryServiceRef,
      },
      async init({
        httpRouter,
        httpAuth,
        permissions,
        permissionsRegistry,
        registry,
      }) {
        permissionsRegistry.addPermissions(entraRbacPermissions);
        httpRouter.use(createRouter({ httpAuth, permissions, registry }));
      },
    });
  },
});
