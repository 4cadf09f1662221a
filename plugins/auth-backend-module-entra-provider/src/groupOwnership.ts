import { AuthService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';

export const GROUP_ID_ANNOTATION = 'graph.microsoft.com/group-id';
const CHUNK = 50;

/**
 * Finds the catalog groups for Entra group object ids, and their ancestors through
 * `spec.parent`, so a member of a nested group owns what its parent groups own.
 */
export function createGroupRefLookup(
  catalog: CatalogService,
  auth: AuthService,
) {
  return async (groupIds: string[]): Promise<string[]> => {
    const credentials = await auth.getOwnServiceCredentials();
    const refs = new Set<string>();
    const parents = new Set<string>();
    const ids = [...new Set(groupIds.map(id => id.toLowerCase()))];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const { items } = await catalog.getEntities(
        {
          filter: {
            kind: 'Group',
            [`metadata.annotations.${GROUP_ID_ANNOTATION}`]: ids.slice(
              i,
              i + CHUNK,
            ),
          },
          fields: [
            'kind',
            'metadata.name',
            'metadata.namespace',
            'spec.parent',
          ],
        },
        { credentials },
      );
      for (const e of items) {
        refs.add(stringifyEntityRef(e));
        const parent = (e.spec as { parent?: string } | undefined)?.parent;
        if (parent) parents.add(parent);
      }
    }
    // Walk up spec.parent for groups the token did not name (e.g. non-security parents).
    const seen = new Set<string>();
    let frontier = [...parents];
    while (frontier.length) {
      const batch = frontier.filter(p => !seen.has(p));
      batch.forEach(p => seen.add(p));
      if (!batch.length) break;
      const { items } = await catalog.getEntitiesByRefs(
        {
          entityRefs: batch.map(p =>
            p.includes(':') ? p : `group:default/${p}`,
          ),
          fields: [
            'kind',
            'metadata.name',
            'metadata.namespace',
            'spec.parent',
          ],
        },
        { credentials },
      );
      frontier = [];
      for (const e of items) {
        if (!e) continue;
        refs.add(stringifyEntityRef(e));
        const parent = (e.spec as { parent?: string } | undefined)?.parent;
        if (parent && !seen.has(parent)) frontier.push(parent);
      }
    }
    return [...refs];
  };
}
