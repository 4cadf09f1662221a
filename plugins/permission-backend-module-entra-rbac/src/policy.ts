import {
  AuditorService,
  AuthService,
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { Entity, RELATION_MEMBER_OF } from '@backstage/catalog-model';
import { NotAllowedError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  isResourcePermission,
  Permission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { RbacConfig, RoleMember } from './config';
import {
  describeRule,
  evaluate,
  failedConditions,
  RuleMatch,
} from './evaluate';
import {
  CatalogMembershipResolver,
  CatalogOwnerIndex,
  EntraClaimsReader,
  GROUP_ID_ANNOTATION,
  normalizeRef,
  USER_ID_ANNOTATION,
  UserIdentity,
} from './identity';

/** What the explain endpoint answers. */
export interface AccessExplanation {
  user: string;
  permission: { name: string; resourceType?: string; action?: string };
  resourceRef?: string;
  /** The final answer; with a resource, conditional decisions are settled against it. */
  result: 'ALLOW' | 'DENY' | 'CONDITIONAL';
  /** What the policy itself returned. */
  policyResult: 'ALLOW' | 'DENY' | 'CONDITIONAL';
  reason: string;
  matches: RuleMatch[];
  heldRoles: { role: string; heldThrough: string }[];
  identity: UserIdentity & { appRolesSource: string };
}

/** A role as the Access page shows it: members resolved through nesting. */
export interface RoleView {
  name: string;
  description?: string;
  source: string;
  rules: string[];
  members: {
    member: RoleMember;
    label: string;
    /** Users who hold the role through this member (refs), when they can be listed. */
    users?: string[];
    note?: string;
  }[];
}

const WRITE_ACTIONS = ['create', 'update', 'delete'];

function appRolesSource(given?: string[], lastSeen?: string[]) {
  if (given) return 'given in the request';
  if (lastSeen) return "the user's last token seen by this backend";
  return 'none: the user has made no request to this backend since it started';
}

/**
 * Past this many refs, ownership claims keep only the groups that own something: 100
 * conditional decisions of a user in 300 groups would otherwise send about 1 MB to the
 * catalog's apply-conditions endpoint, which takes 100 kB.
 */
export const MAX_FULL_OWNERSHIP_CLAIMS = 20;

/**
 * The Entra RBAC permission policy: decisions from the current configuration (swapped on
 * reload), identities from the catalog (groups through nesting) and the token (app roles).
 */
export class EntraRbacPolicy implements PermissionPolicy {
  constructor(
    private readonly deps: {
      current: () => RbacConfig;
      memberships: CatalogMembershipResolver;
      owners: CatalogOwnerIndex;
      claims: EntraClaimsReader;
      catalog: CatalogService;
      auth: AuthService;
      auditor: AuditorService;
      logger: LoggerService;
    },
  ) {}

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (!user) {
      await this.auditDenied(permission, undefined, 'no signed-in user');
      return { result: AuthorizeResult.DENY };
    }
    let identity: UserIdentity;
    try {
      identity = await this.identityOf(
        user.credentials,
        user.info.userEntityRef,
        user.info.ownershipEntityRefs,
      );
    } catch (e) {
      // Without the user's groups nothing beyond the defaults can be decided safely.
      this.deps.logger.error(
        `Denied ${permission.name} for ${user.info.userEntityRef}: could not resolve their groups: ${e}`,
      );
      await this.auditDenied(permission, user.info.userEntityRef, String(e));
      return { result: AuthorizeResult.DENY };
    }
    const evaluation = evaluate(this.deps.current(), identity, permission);
    if (evaluation.decision.result === AuthorizeResult.DENY) {
      await this.auditDenied(
        permission,
        identity.userEntityRef,
        evaluation.reason,
        evaluation.heldRoles.map(r => r.role),
      );
    }
    return evaluation.decision;
  }

  private async auditDenied(
    permission: Permission,
    user: string | undefined,
    reason: string,
    roles: string[] = [],
  ) {
    const action = permission.attributes.action;
    if (!action || !WRITE_ACTIONS.includes(action)) return;
    const event = await this.deps.auditor.createEvent({
      eventId: 'permission-denied',
      severityLevel: 'medium',
      meta: {
        user: user ?? null,
        permission: permission.name,
        action,
        resourceType: isResourcePermission(permission)
          ? permission.resourceType
          : null,
        // A policy decision covers every resource of the type; the resource itself is
        // checked (for conditional decisions) by the plugin that owns it.
        resource: null,
        rule: 'none matched (deny by default)',
        roles,
      },
    });
    await event.fail({ error: new NotAllowedError(reason) });
  }

  /** The identity the policy decides for. */
  async identityOf(
    credentials: BackstageCredentials,
    user: string,
    ownershipEntityRefs: string[] = [],
  ): Promise<UserIdentity> {
    const userEntityRef = user.toLowerCase();
    const [claims, membership] = await Promise.all([
      this.deps.claims.read(credentials, userEntityRef),
      this.deps.memberships.resolve(userEntityRef, ownershipEntityRefs),
    ]);
    return {
      userEntityRef,
      entraOid: claims.entraOid ?? membership.entraOid,
      groupRefs: membership.groupRefs,
      entraGroupIds: membership.entraGroupIds,
      groupRefById: membership.groupRefById,
      appRoles: claims.appRoles,
      ownershipClaims: await this.ownershipClaims(
        userEntityRef,
        membership.groupRefs,
      ),
    };
  }

  /** The user and their groups; for users in many groups, only the groups that own something. */
  private async ownershipClaims(userEntityRef: string, groupRefs: string[]) {
    if (groupRefs.length + 1 <= MAX_FULL_OWNERSHIP_CLAIMS) {
      return [userEntityRef, ...groupRefs];
    }
    const owners = await this.deps.owners.owners();
    return [userEntityRef, ...groupRefs.filter(g => owners.has(g))];
  }

  /** Explains the decision for any user, permission and optional resource. */
  async explain(options: {
    userEntityRef: string;
    permission: Permission;
    resourceRef?: string;
    /** App roles to assume; by default those last seen in the user's token here. */
    appRoles?: string[];
  }): Promise<AccessExplanation> {
    const userEntityRef = options.userEntityRef.toLowerCase();
    const membership = await this.deps.memberships.resolve(userEntityRef);
    const lastSeen = this.deps.claims.lastSeenAppRoles(userEntityRef);
    const appRoles = options.appRoles ?? lastSeen ?? [];
    const identity = {
      userEntityRef,
      ...(membership.entraOid ? { entraOid: membership.entraOid } : {}),
      groupRefs: membership.groupRefs,
      entraGroupIds: membership.entraGroupIds,
      groupRefById: membership.groupRefById,
      appRoles,
      ownershipClaims: await this.ownershipClaims(
        userEntityRef,
        membership.groupRefs,
      ),
      appRolesSource: appRolesSource(options.appRoles, lastSeen),
    };
    const evaluation = evaluate(
      this.deps.current(),
      identity,
      options.permission,
    );
    const policyResult = evaluation.decision.result;
    let result: AccessExplanation['result'] = policyResult;
    let reason = evaluation.reason;
    let matches = evaluation.matches;
    if (policyResult === AuthorizeResult.CONDITIONAL && options.resourceRef) {
      const entity = await this.entity(options.resourceRef);
      matches = matches.map(m => {
        const failed = failedConditions(m.conditions!, identity, entity);
        return {
          ...m,
          conditionsHold: !failed.length,
          failedConditions: failed,
        };
      });
      const holding = matches.find(m => m.conditionsHold);
      result = holding ? AuthorizeResult.ALLOW : AuthorizeResult.DENY;
      reason = holding
        ? `allowed by role ${holding.role}, rule ${holding.rule} (${holding.ruleText}), held through ${holding.heldThrough}: its conditions hold for ${options.resourceRef}`
        : `denied for ${options.resourceRef}: ${matches
            .map(
              m =>
                `role ${m.role}, rule ${m.rule}: ${m.failedConditions!.join(
                  ', ',
                )}`,
            )
            .join('; ')}`;
    }
    return {
      user: userEntityRef,
      permission: {
        name: options.permission.name,
        ...(isResourcePermission(options.permission)
          ? { resourceType: options.permission.resourceType }
          : {}),
        ...(options.permission.attributes.action
          ? { action: options.permission.attributes.action }
          : {}),
      },
      ...(options.resourceRef ? { resourceRef: options.resourceRef } : {}),
      result,
      policyResult,
      reason,
      matches,
      heldRoles: evaluation.heldRoles,
      identity,
    };
  }

  private async entity(ref: string): Promise<Entity> {
    const entity = await this.deps.catalog.getEntityByRef(ref, {
      credentials: await this.deps.auth.getOwnServiceCredentials(),
    });
    if (!entity) throw new Error(`No entity ${ref} in the catalog`);
    return entity;
  }

  /** Every role, with its members resolved through nesting from the catalog. */
  async roles(): Promise<RoleView[]> {
    const credentials = await this.deps.auth.getOwnServiceCredentials();
    const fields = [
      'kind',
      'metadata.name',
      'metadata.namespace',
      'metadata.annotations',
      'spec.profile.displayName',
      'relations',
    ];
    const [{ items: groups }, { items: users }] = await Promise.all([
      this.deps.catalog.getEntities(
        { filter: { kind: 'Group' }, fields },
        { credentials },
      ),
      this.deps.catalog.getEntities(
        { filter: { kind: 'User' }, fields },
        { credentials },
      ),
    ]);
    const children = new Map<string, string[]>();
    const groupById = new Map<string, Entity>();
    for (const g of groups) {
      const ref = normalizeRef(g);
      const id = g.metadata.annotations?.[GROUP_ID_ANNOTATION];
      if (id) groupById.set(id.toLowerCase(), g);
      for (const r of g.relations ?? []) {
        if (r.type === 'childOf') {
          const parent = r.targetRef.toLowerCase();
          children.set(parent, [...(children.get(parent) ?? []), ref]);
        }
      }
    }
    const usersOfGroup = new Map<string, string[]>();
    for (const u of users) {
      for (const r of u.relations ?? []) {
        if (r.type !== RELATION_MEMBER_OF) continue;
        const g = r.targetRef.toLowerCase();
        usersOfGroup.set(g, [...(usersOfGroup.get(g) ?? []), normalizeRef(u)]);
      }
    }
    const usersUnder = (groupRef: string) => {
      const seen = new Set<string>();
      const out = new Set<string>();
      const stack = [groupRef];
      while (stack.length) {
        const g = stack.pop()!;
        if (seen.has(g)) continue;
        seen.add(g);
        (usersOfGroup.get(g) ?? []).forEach(u => out.add(u));
        stack.push(...(children.get(g) ?? []));
      }
      return [...out].sort();
    };
    const seenRoles = this.deps.claims.allLastSeen();
    const label = (e: Entity) =>
      `${normalizeRef(e)} (${
        (e.spec as any)?.profile?.displayName ?? e.metadata.name
      })`;

    return this.deps.current().roles.map(role => ({
      name: role.name,
      ...(role.description ? { description: role.description } : {}),
      source: role.source,
      rules: role.rules.map((r, i) => `${i}: ${describeRule(r)}`),
      members: role.members.map(member => {
        if ('signedIn' in member) {
          return { member, label: 'everyone signed in' };
        }
        if ('group' in member) {
          return {
            member,
            label: member.group,
            users: usersUnder(member.group),
          };
        }
        if ('entraGroup' in member) {
          const g = groupById.get(member.entraGroup);
          return g
            ? {
                member,
                label: `Entra group ${member.entraGroup}: ${label(g)}`,
                users: usersUnder(normalizeRef(g)),
              }
            : {
                member,
                label: `Entra group ${member.entraGroup}`,
                users: [],
                note: 'no catalog group has this object id',
              };
        }
        if ('user' in member) {
          return { member, label: member.user, users: [member.user] };
        }
        if ('entraUser' in member) {
          const u = users.find(
            x =>
              x.metadata.annotations?.[USER_ID_ANNOTATION]?.toLowerCase() ===
              member.entraUser,
          );
          return {
            member,
            label: `Entra user ${member.entraUser}${u ? `: ${label(u)}` : ''}`,
            users: u ? [normalizeRef(u)] : [],
          };
        }
        const holders = [...seenRoles]
          .filter(([, roles]) => roles.includes(member.appRole))
          .map(([u]) => u)
          .sort();
        return {
          member,
          label: `app role ${member.appRole}`,
          users: holders,
          note: 'assigned in Entra; listed: users seen with it since the backend started',
        };
      }),
    }));
  }
}
