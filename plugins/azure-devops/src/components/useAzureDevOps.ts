import { Entity } from '@backstage/catalog-model';
import {
  discoveryApiRef,
  fetchApiRef,
  useApi,
} from '@backstage/frontend-plugin-api';
import { useEffect, useState } from 'react';

/** The component's repository annotation (`project/repo`). */
export const PROJECT_REPO_ANNOTATION = 'dev.azure.com/project-repo';

/** Whether an entity has Azure DevOps data to show. */
export function hasAzureDevOpsRepo(entity: Entity): boolean {
  return Boolean(entity.metadata.annotations?.[PROJECT_REPO_ANNOTATION]);
}

/** What `/api/azure-devops/entities/...` answers, or the error it gave. */
export interface Loaded<T> {
  loading: boolean;
  value?: T;
  error?: Error;
}

/** Loads `/api/azure-devops/entities/{kind}/{namespace}/{name}/{what}` for an entity. */
export function useAzureDevOps<T>(
  entity: Entity,
  what: 'runs' | 'pull-requests' | 'readme',
): Loaded<T> {
  const discovery = useApi(discoveryApiRef);
  const { fetch } = useApi(fetchApiRef);
  const [state, setState] = useState<Loaded<T>>({ loading: true });
  const kind = entity.kind.toLocaleLowerCase('en-US');
  const namespace = entity.metadata.namespace ?? 'default';
  const name = entity.metadata.name;

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const base = await discovery.getBaseUrl('azure-devops');
      const res = await fetch(
        `${base}/entities/${encodeURIComponent(kind)}/${encodeURIComponent(
          namespace,
        )}/${encodeURIComponent(name)}/${what}`,
      );
      const body = await res.json().catch(() => undefined);
      if (!res.ok) {
        throw new Error(
          body?.error?.message ?? `${res.status} ${res.statusText}`,
        );
      }
      return body as T;
    })().then(
      value => !cancelled && setState({ loading: false, value }),
      error => !cancelled && setState({ loading: false, error }),
    );
    return () => {
      cancelled = true;
    };
  }, [discovery, fetch, kind, namespace, name, what]);
  return state;
}
