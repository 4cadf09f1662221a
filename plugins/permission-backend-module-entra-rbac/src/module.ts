import {
  AuditorService,
  AuthService,
  coreServices,
  createBackendModule,
  DiscoveryService,
  LoggerService,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import {
  CatalogService,
  catalogServiceRef,
} from '@backstage/plugin-catalog-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  CatalogMembershipResolver,
  CatalogOwnerIndex,
  EntraClaimsReader,
} from './identity';
import { EntraRbacPolicy } from './policy';
import { entraRbacRegistryServiceRef } from './service';
import { RbacConfigSource } from './source';

/**
 * Builds the policy and its configuration source from the services a module has. Throws
 * `EntraRbacConfigError` (file, key, reason) on an invalid configuration. Call
 * `source.start()` to follow changes, `source.stop()` at shutdown.
 */
export function createEntraRbacPolicy(deps: {
  config: RootConfigService;
  logger: LoggerService;
  auditor: AuditorService;
  auth: AuthService;
  discovery: DiscoveryService;
  catalog: CatalogService;
}): { policy: EntraRbacPolicy; source: RbacConfigSource } {
  const { config, logger, auditor, auth, catalog } = deps;
  const source = new RbacConfigSource(config, logger, auditor);
  const ttl = () => source.current().membershipCacheSeconds * 1000;
  const memberships = new CatalogMembershipResolver(catalog, auth, ttl());
  const owners = new CatalogOwnerIndex(catalog, auth, ttl());
  const claims = new EntraClaimsReader(deps.discovery, logger, ttl());
  source.onChange(() => {
    memberships.setTtl(ttl());
    memberships.clear();
    owners.setTtl(ttl());
    owners.clear();
  });
  const policy = new EntraRbacPolicy({
    current: source.current,
    memberships,
    owners,
    claims,
    catalog,
    auth,
    auditor,
    logger,
  });
  return { policy, source };
}

/**
 * The Entra RBAC permission policy: roles from `permission.entraRbac` (and the roles file it
 * names), held through Entra groups (by object id), catalog groups (through nesting), users
 * and app roles. An invalid configuration stops the backend at start-up.
 */
export const permissionModuleEntraRbac = createBackendModule({
  pluginId: 'permission',
  moduleId: 'entra-rbac',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        auditor: coreServices.auditor,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
        lifecycle: coreServices.lifecycle,
        catalog: catalogServiceRef,
        registry: entraRbacRegistryServiceRef,
      },
      async init(deps) {
        const { config, logger, lifecycle } = deps;
        const { policy, source } = createEntraRbacPolicy(deps);
        deps.policy.setPolicy(policy);
        deps.registry.provide({ policy, status: () => source.status() });
        if (!config.getOptionalBoolean('permission.enabled')) {
          logger.warn(
            'Entra RBAC policy is installed but permission.enabled is not true: Backstage allows everything',
          );
        }
        logger.info(
          `Entra RBAC: ${source.current().roles.length} roles from ${
            source.current().origin
          }`,
        );
        source.start();
        lifecycle.addShutdownHook(() => source.stop());
      },
    });
  },
});
