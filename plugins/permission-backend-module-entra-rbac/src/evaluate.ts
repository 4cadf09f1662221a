import { Entity } from '@backstage/catalog-model';
import {
  catalogConditions,
  createCatalogConditionalDecision,
  permissionRules,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  AuthorizeResult,
  isResourcePermission,
  Permission,
  PermissionCondition,
  PermissionCriteria,
  PolicyDecision,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  RbacConfig,
  Role,
  RoleMember,
  RoleRule,
  RuleConditions,
} from './config';
import { UserIdentity } from './identity';

type EntityCriteria = PermissionCriteria<PermissionCondition<'catalog-entity'>>;

/** One role and rule that allowed (or conditionally allowed) a permission. */
export interface RuleMatch {
  role: string;
  /** Index of the rule in the role's `rules`. */
  rule: number;
  /** The rule, as written in the configuration. */
  ruleText: string;
  /** Why the user holds the role: the member that matched. */
  heldThrough: string;
  conditions?: RuleConditions;
  /** With a resource: whether its conditions hold for it. */
  conditionsHold?: boolean;
  /** With a resource: the conditions that do not hold. */
  failedConditions?: string[];
}

/** A decision and what produced it. */
export interface Evaluation {
  decision: PolicyDecision;
  /** The unconditional match that allowed it, or every conditional one. */
  matches: RuleMatch[];
  /** The roles the user holds, each with the member that put them there. */
  heldRoles: { role: string; heldThrough: string }[];
  reason: string;
}

/** Why `identity` holds through `member`, or undefined when it does not. */
export function memberMatch(
  member: RoleMember,
  identity: UserIdentity,
): string | undefined {
  if ('signedIn' in member) return 'every signed-in user';
  if ('user' in member) {
    return member.user === identity.userEntityRef.toLowerCase()
      ? `user ${member.user}`
      : undefined;
  }
  if ('entraUser' in member) {
    return identity.entraOid === member.entraUser
      ? `Entra user ${member.entraUser}`
      : undefined;
  }
  if ('group' in member) {
    return identity.groupRefs.includes(member.group)
      ? `group ${member.group}`
      : undefined;
  }
  if ('entraGroup' in member) {
    return identity.entraGroupIds.includes(member.entraGroup)
      ? `Entra group ${member.entraGroup} (today ${
          identity.groupRefById[member.entraGroup] ?? 'not in the catalog'
        })`
      : undefined;
  }
  return identity.appRoles.includes(member.appRole)
    ? `app role ${member.appRole}`
    : undefined;
}

function heldThrough(role: Role, identity: UserIdentity) {
  for (const m of role.members) {
    const why = memberMatch(m, identity);
    if (why) return why;
  }
  return undefined;
}

const permissionMatches = (pattern: string, name: string) =>
  pattern.endsWith('*')
    ? name.startsWith(pattern.slice(0, -1))
    : pattern === name;

/** Whether a rule's selectors (name, resource type, action) all match the permission. */
export function ruleMatches(rule: RoleRule, permission: Permission): boolean {
  if (
    rule.permissions &&
    !rule.permissions.some(p => permissionMatches(p, permission.name))
  ) {
    return false;
  }
  if (rule.resourceType) {
    if (
      !isResourcePermission(permission) ||
      permission.resourceType !== rule.resourceType
    ) {
      return false;
    }
  }
  if (rule.actions) {
    const action = permission.attributes.action;
    if (!action || !rule.actions.includes(action)) return false;
  }
  return true;
}

const anyOrOne = (list: EntityCriteria[]): EntityCriteria =>
  list.length === 1
    ? list[0]
    : { anyOf: list as [EntityCriteria, ...EntityCriteria[]] };

/** A rule's conditions as catalog criteria, for this user. */
export function conditionsToCriteria(
  conditions: RuleConditions,
  identity: UserIdentity,
): EntityCriteria {
  const parts: EntityCriteria[] = [];
  if (conditions.owner) {
    parts.push(
      catalogConditions.isEntityOwner({
        claims: identity.ownershipClaims,
      }),
    );
  }
  if (conditions.kinds) {
    parts.push(catalogConditions.isEntityKind({ kinds: conditions.kinds }));
  }
  if (conditions.namespaces) {
    parts.push(
      anyOrOne(
        conditions.namespaces.map(value =>
          catalogConditions.hasMetadata({ key: 'namespace', value }),
        ),
      ),
    );
  }
  for (const a of conditions.annotations ?? []) {
    parts.push(
      catalogConditions.hasAnnotation({
        annotation: a.key,
        ...(a.value !== undefined ? { value: a.value } : {}),
      }),
    );
  }
  if (conditions.tags) {
    parts.push(
      anyOrOne(
        conditions.tags.map(value =>
          catalogConditions.hasMetadata({ key: 'tags', value }),
        ),
      ),
    );
  }
  return parts.length === 1
    ? parts[0]
    : { allOf: parts as [EntityCriteria, ...EntityCriteria[]] };
}

/**
 * The decision for one permission: ALLOW if any held role has a matching rule without
 * conditions; CONDITIONAL (any of the matching rules' conditions) if only rules with
 * conditions match a catalog entity permission; DENY otherwise.
 */
export function evaluate(
  rbac: RbacConfig,
  identity: UserIdentity,
  permission: Permission,
): Evaluation {
  const heldRoles: Evaluation['heldRoles'] = [];
  const conditional: { match: RuleMatch; criteria: EntityCriteria }[] = [];
  for (const role of rbac.roles) {
    const why = heldThrough(role, identity);
    if (!why) continue;
    heldRoles.push({ role: role.name, heldThrough: why });
    for (const [i, rule] of role.rules.entries()) {
      if (!ruleMatches(rule, permission)) continue;
      const match: RuleMatch = {
        role: role.name,
        rule: i,
        ruleText: describeRule(rule),
        heldThrough: why,
      };
      if (!rule.conditions) {
        return {
          decision: { result: AuthorizeResult.ALLOW },
          matches: [match],
          heldRoles,
          reason: `allowed by role ${role.name}, rule ${i} (${match.ruleText}), held through ${why}`,
        };
      }
      if (isResourcePermission(permission, 'catalog-entity')) {
        conditional.push({
          match: { ...match, conditions: rule.conditions },
          criteria: conditionsToCriteria(rule.conditions, identity),
        });
      }
    }
  }
  if (conditional.length) {
    return {
      decision: createCatalogConditionalDecision(
        permission as ResourcePermission<'catalog-entity'>,
        anyOrOne(conditional.map(c => c.criteria)),
      ),
      matches: conditional.map(c => c.match),
      heldRoles,
      reason: `allowed for entities that meet the conditions of ${conditional
        .map(c => `role ${c.match.role}, rule ${c.match.rule}`)
        .join('; or ')}`,
    };
  }
  return {
    decision: { result: AuthorizeResult.DENY },
    matches: [],
    heldRoles,
    reason: `denied: no rule of the roles ${
      heldRoles.map(r => r.role).join(', ') || '(none)'
    } allows ${permission.name} (deny by default)`,
  };
}

export function describeRule(rule: RoleRule): string {
  const parts: string[] = [];
  if (rule.permissions) parts.push(`permission ${rule.permissions.join(', ')}`);
  if (rule.resourceType) parts.push(`resourceType ${rule.resourceType}`);
  if (rule.actions) parts.push(`actions ${rule.actions.join(', ')}`);
  if (rule.conditions) parts.push(`if ${describeConditions(rule.conditions)}`);
  return parts.join('; ');
}

function describeConditions(c: RuleConditions): string {
  const parts: string[] = [];
  if (c.owner) parts.push('the user owns it (through nested groups too)');
  if (c.kinds) parts.push(`kind is ${c.kinds.join(' or ')}`);
  if (c.namespaces) parts.push(`namespace is ${c.namespaces.join(' or ')}`);
  for (const a of c.annotations ?? []) {
    parts.push(
      a.value === undefined
        ? `has annotation ${a.key}`
        : `annotation ${a.key} is ${a.value}`,
    );
  }
  if (c.tags) parts.push(`tagged ${c.tags.join(' or ')}`);
  return parts.join(' and ');
}

const rulesByName = new Map<
  string,
  { apply(resource: Entity, params: any): boolean }
>(Object.values(permissionRules).map(r => [r.name, r]));

/** Applies catalog criteria to an entity with the catalog's own rules. */
export function applyCriteria(
  criteria: EntityCriteria,
  entity: Entity,
): boolean {
  if ('allOf' in criteria)
    return criteria.allOf.every(c => applyCriteria(c, entity));
  if ('anyOf' in criteria)
    return criteria.anyOf.some(c => applyCriteria(c, entity));
  if ('not' in criteria) return !applyCriteria(criteria.not, entity);
  const rule = rulesByName.get(criteria.rule);
  if (!rule)
    throw new Error(`Unknown catalog permission rule ${criteria.rule}`);
  return rule.apply(entity, criteria.params ?? {});
}

/** Which conditions of a rule do not hold for an entity (empty: all hold). */
export function failedConditions(
  conditions: RuleConditions,
  identity: UserIdentity,
  entity: Entity,
): string[] {
  const failed: string[] = [];
  const check = (c: RuleConditions) =>
    applyCriteria(conditionsToCriteria(c, identity), entity);
  if (conditions.owner && !check({ owner: true })) {
    failed.push('the user does not own it');
  }
  if (conditions.kinds && !check({ kinds: conditions.kinds })) {
    failed.push(`kind is not ${conditions.kinds.join(' or ')}`);
  }
  if (conditions.namespaces && !check({ namespaces: conditions.namespaces })) {
    failed.push(`namespace is not ${conditions.namespaces.join(' or ')}`);
  }
  for (const a of conditions.annotations ?? []) {
    if (!check({ annotations: [a] })) {
      failed.push(
        a.value === undefined
          ? `no annotation ${a.key}`
          : `annotation ${a.key} is not ${a.value}`,
      );
    }
  }
  if (conditions.tags && !check({ tags: conditions.tags })) {
    failed.push(`not tagged ${conditions.tags.join(' or ')}`);
  }
  return failed;
}
