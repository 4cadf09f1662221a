import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { entraOrgStatusServiceRef } from '@gatehouse/plugin-catalog-backend-module-entra-org';
import { createRouter } from './router';

/**
 * Org sync status over HTTP, at `/api/entra-org`. The sync itself is a catalog module, and a
 * module cannot add routes to the catalog's router; so this small plugin serves what the
 * module records in the root `entraOrgStatusServiceRef` registry, which both share. The
 * default auth policy applies: requests without a valid token get 401.
 */
export const entraOrgPlugin = createBackendPlugin({
  pluginId: 'entra-org',
  register(reg) {
    reg.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        status: entraOrgStatusServiceRef,
      },
      async init({ httpRouter, httpAuth, status }) {
        httpRouter.use(createRouter({ httpAuth, status }));
      },
    });
  },
});
