import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { hash } from 'node:crypto';

/** Entity ref to a hash of the entity as written to the catalog. */
export type EntityHashes = Record<string, string>;

/**
 * A hash per entity ref; the entities are built in a fixed key order, so JSON is canonical.
 * 128 bits of SHA-256, encoded from the digest's first 16 bytes (slicing the encoded string
 * would keep the whole one alive behind every hash).
 */
export function hashEntities(entities: Entity[]): EntityHashes {
  const out: EntityHashes = {};
  for (const e of entities)
    out[stringifyEntityRef(e)] = hash(
      'sha256',
      JSON.stringify(e),
      'buffer',
    ).toString('base64url', 0, 16);
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
