import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { hash } from 'node:crypto';

/** Entity ref to a hash of the entity as written to the catalog. */
export type EntityHashes = Record<string, string>;

const OBJECT_ID_ANNOTATIONS = [
  'graph.microsoft.com/user-id',
  'graph.microsoft.com/group-id',
];

/** Entities changed by more than the directory (photos, transformers, assignments). */
const changedBesidesGraph = new WeakSet<Entity>();

/**
 * Marks an entity whose content may have changed for a reason Graph's delta does not show
 * (a new photo, a transformer, an app assignment): `hashEntities` hashes it again.
 */
export function markForRehash(entity: Entity): void {
  changedBesidesGraph.add(entity);
}

/**
 * A hash per entity ref; the entities are built in a fixed key order, so JSON is canonical.
 * With `reuse`, an entity of an object outside `affected` keeps its previous hash (see
 * `affectedObjects`), which spares hashing the whole directory after a small change.
 */
export function hashEntities(
  entities: Entity[],
  reuse?: { previous: EntityHashes; affected: Set<string> },
): EntityHashes {
  const out: EntityHashes = {};
  for (const e of entities) {
    const ref = stringifyEntityRef(e);
    if (reuse && ref in reuse.previous) {
      const annotations = e.metadata.annotations ?? {};
      const objectId = OBJECT_ID_ANNOTATIONS.map(a => annotations[a]).find(
        Boolean,
      );
      if (
        objectId &&
        !reuse.affected.has(objectId) &&
        !changedBesidesGraph.has(e)
      ) {
        out[ref] = reuse.previous[ref];
        continue;
      }
    }
    out[ref] = hash('sha256', JSON.stringify(e), 'base64url').slice(0, 22);
  }
  return out;
}

/**
 * What a delta mutation must carry: entities that are new or whose rendered form changed, and
 * refs that are gone. A rename is a new ref and a gone one.
 */
export function diffEntities<T extends Entity>(
  previous: EntityHashes,
  entities: T[],
  hashes: EntityHashes,
): { added: T[]; removed: string[] } {
  const added = entities.filter(e => {
    const ref = stringifyEntityRef(e);
    return previous[ref] !== hashes[ref];
  });
  const removed = Object.keys(previous).filter(ref => !(ref in hashes));
  return { added, removed };
}
