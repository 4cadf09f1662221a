import {
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import type { EntraRbacPolicy } from './policy';
import type { RbacSourceStatus } from './source';

/** What the explain plugin reads from the policy module. */
export interface EntraRbacEngine {
  policy: EntraRbacPolicy;
  status(): RbacSourceStatus;
}

/**
 * Shares the running policy between the permission module and the `entra-rbac` plugin that
 * explains it over HTTP (a module cannot add routes of its own to the permission plugin).
 */
export interface EntraRbacRegistry {
  provide(engine: EntraRbacEngine): void;
  /** Undefined until the permission module has started. */
  get(): EntraRbacEngine | undefined;
}

/** The Entra RBAC registry (root scope, in memory: one per backend process). */
export const entraRbacRegistryServiceRef = createServiceRef<EntraRbacRegistry>({
  id: 'gatehouse.entra-rbac.registry',
  scope: 'root',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: {},
      factory() {
        let engine: EntraRbacEngine | undefined;
        return {
          provide: e => {
            engine = e;
          },
          get: () => engine,
        };
      },
    }),
});
