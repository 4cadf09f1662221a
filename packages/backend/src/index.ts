import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));

// Auth: Entra ID sign-in, registered as the `microsoft` provider
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@gatehouse/plugin-auth-backend-module-entra-provider'));

// Catalog, with the org from Microsoft Graph (or the built-in emulator)
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@gatehouse/plugin-catalog-backend-module-entra-org'));
// Org sync status and "sync now" at /api/entra-org (what the module above records)
backend.add(import('@gatehouse/plugin-entra-org-backend'));

// Permissions: allow-all until the Entra RBAC policy lands
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(
  import('@backstage/plugin-permission-backend-module-allow-all-policy'),
);

backend.start();
