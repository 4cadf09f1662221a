import {
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import type { EntraOrgProviderStatus } from '@gatehouse/plugin-entra-org-common';

export type {
  EntraOrgProviderStatus,
  EntraOrgRoundStatus,
} from '@gatehouse/plugin-entra-org-common';

/** A provider as the status registry sees it. */
export interface EntraOrgStatusSource {
  id: string;
  status(): EntraOrgProviderStatus;
  /** Asks the scheduler to run a round now. */
  refresh(): Promise<void>;
}

/**
 * Org sync status, shared between the catalog module (which registers its providers) and the
 * `entra-org` backend plugin (which serves it over HTTP). A catalog module cannot add routes of
 * its own, and a plugin cannot reach into another plugin's providers, so this root service is
 * the meeting point: both sides get the same instance, as with upstream's root services.
 */
export interface EntraOrgStatusService {
  register(source: EntraOrgStatusSource): void;
  list(): EntraOrgProviderStatus[];
  /** Undefined when no provider has this id. */
  get(id: string): EntraOrgStatusSource | undefined;
}

class InMemoryEntraOrgStatus implements EntraOrgStatusService {
  private readonly sources = new Map<string, EntraOrgStatusSource>();

  register(source: EntraOrgStatusSource): void {
    this.sources.set(source.id, source);
  }

  list(): EntraOrgProviderStatus[] {
    return [...this.sources.values()].map(s => s.status());
  }

  get(id: string): EntraOrgStatusSource | undefined {
    return this.sources.get(id);
  }
}

/** The org sync status registry (root scope, in memory: one per backend process). */
export const entraOrgStatusServiceRef = createServiceRef<EntraOrgStatusService>(
  {
    id: 'gatehouse.entra-org.status',
    scope: 'root',
    defaultFactory: async service =>
      createServiceFactory({
        service,
        deps: {},
        factory: () => new InMemoryEntraOrgStatus(),
      }),
  },
);
