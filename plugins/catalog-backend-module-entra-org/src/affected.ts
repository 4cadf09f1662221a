import { AppliedChanges } from './DeltaReader';
import { OrgState } from './OrgState';

/**
 * The objects whose entities a delta round may have changed: an entity is made from its own
 * object, its name, and the names of the objects next to it (its groups, parent, children,
 * members). So: the objects the round applied and the members it added or removed, and, for
 * every object whose name changed, came or went (renamed, filtered in or out, disabled,
 * deleted), the groups that hold it and, for a group, its members (for a deleted group, the
 * members it had). Every other entity is
 * rendered the same as last round and needs no new hash.
 */
export function affectedObjects(
  state: OrgState,
  applied: AppliedChanges,
  namesBefore: Record<string, string>,
  namesAfter: Record<string, string>,
): Set<string> {
  const affected = new Set<string>();
  for (const o of applied.users) affected.add(o.id);
  for (const o of applied.groups) {
    affected.add(o.id);
    for (const ref of o['members@delta'] ?? []) affected.add(ref.id);
  }
  for (const id of applied.formerMembers) affected.add(id);
  const renamed = new Set<string>();
  for (const id of Object.keys(namesAfter))
    if (namesBefore[id] !== namesAfter[id]) renamed.add(id);
  for (const id of Object.keys(namesBefore))
    if (!(id in namesAfter)) renamed.add(id);
  if (renamed.size === 0) return affected;
  for (const id of renamed) {
    affected.add(id);
    for (const member of state.members.get(id) ?? []) affected.add(member);
  }
  for (const [groupId, members] of state.members) {
    if (affected.has(groupId)) continue;
    for (const id of members) {
      if (renamed.has(id)) {
        affected.add(groupId);
        break;
      }
    }
  }
  return affected;
}
