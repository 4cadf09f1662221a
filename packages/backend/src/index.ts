import { createBackend } from '@backstage/backend-defaults';
import { azureDevOpsCredentialCheckServiceFactory } from '@gatehouse/plugin-catalog-backend-module-azure-devops-discovery';
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
// Azure DevOps URL reads name the organization when no integrations.azure credential fits it
backend.add(azureDevOpsCredentialCheckServiceFactory);
// Software templates (Create), with the Template kind in the catalog and our Azure DevOps
// actions (azure:repo:create, azure:repo:push, azure:pipeline:create, azure:repo:grant)
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@gatehouse/plugin-scaffolder-backend-module-azure-devops'));
// Azure DevOps data on entity pages (pipeline runs, pull requests, README) at /api/azure-devops
backend.add(import('@gatehouse/plugin-azure-devops-backend'));
// Org sync status and "sync now" at /api/entra-org (what the module above records)
backend.add(import('@gatehouse/plugin-entra-org-backend'));
// The deployment's own troubleshooting checks at /api/diagnostics/checks
backend.add(import('@gatehouse/plugin-diagnostics-backend'));

// Permissions: roles from Entra groups and app roles (permission.entraRbac), and the
// explanation of any decision at /api/entra-rbac (the Access page, admins only)
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(import('@gatehouse/plugin-permission-backend-module-entra-rbac'));
backend.add(import('@gatehouse/plugin-entra-rbac-backend'));

// A backend that fails to start exits, so that the platform restarts it: otherwise the process
// would stay up with readiness failing and liveness passing.
backend.start().catch(error => {
  console.error(error);
  process.exit(1);
});
