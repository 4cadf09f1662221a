import { createBackend } from '@backstage/backend-defaults';
import { rootConfigWithRequiredKeys } from './requiredConfig';

const backend = createBackend();

// Backstage's config service, refusing to start when gatehouse.requiredConfig is not met
backend.add(rootConfigWithRequiredKeys);

backend.add(import('@backstage/plugin-app-backend'));

// Auth: Entra ID sign-in, registered as the `microsoft` provider
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@gatehouse/plugin-auth-backend-module-entra-provider'));

// Catalog, with the org from Microsoft Graph (or the built-in emulator)
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@gatehouse/plugin-catalog-backend-module-entra-org'));
// Catalog files in Azure DevOps repositories, found by listing them (catalog.providers.azureDevOps)
backend.add(
  import('@gatehouse/plugin-catalog-backend-module-azure-devops-discovery'),
);
// Org sync status and "sync now" at /api/entra-org (what the module above records)
backend.add(import('@gatehouse/plugin-entra-org-backend'));
// The deployment's own troubleshooting checks at /api/diagnostics/checks
backend.add(import('@gatehouse/plugin-diagnostics-backend'));

// Permissions: roles from Entra groups and app roles (permission.entraRbac), and the
// explanation of any decision at /api/entra-rbac (the Access page, admins only)
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(import('@gatehouse/plugin-permission-backend-module-entra-rbac'));
backend.add(import('@gatehouse/plugin-entra-rbac-backend'));

backend.start();
