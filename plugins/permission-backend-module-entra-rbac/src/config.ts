import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** The actions a permission can declare (`attributes.action`). */
export const ACTIONS = ['read', 'create', 'update', 'delete'] as const;
export type Action = (typeof ACTIONS)[number];

/** Who holds a role. Exactly one key per member. */
export type RoleMember =
  | { entraGroup: string }
  | { entraUser: string }
  | { group: string }
  | { user: string }
  | { appRole: string }
  | { signedIn: true };

/** Conditions on a catalog entity; all listed must hold. */
export interface RuleConditions {
  /** The user owns the entity, directly or through (nested) groups. */
  owner?: boolean;
  kinds?: string[];
  namespaces?: string[];
  annotations?: { key: string; value?: string }[];
  tags?: string[];
}

/** Allows the permissions that match every selector given. */
export interface RoleRule {
  /** Permission names; `*` at the end matches any rest (`catalog.*`, `*`). */
  permissions?: string[];
  resourceType?: string;
  actions?: Action[];
  conditions?: RuleConditions;
}

export interface Role {
  name: string;
  description?: string;
  /** Where the role was defined: built in, app-config, or the roles file. */
  source: 'default' | 'config' | 'file';
  members: RoleMember[];
  rules: RoleRule[];
}

/** A validated policy configuration. */
export interface RbacConfig {
  roles: Role[];
  /** Where it came from, for messages: `app-config` or the roles file's path. */
  origin: string;
  /** The roles file, absolute, when one is configured. */
  rolesFile?: string;
  membershipCacheSeconds: number;
}

/** Error codes of {@link EntraRbacConfigError}. */
export type EntraRbacConfigErrorCode =
  | 'ERR_RBAC_FILE_UNREADABLE'
  | 'ERR_RBAC_FILE_SYNTAX'
  | 'ERR_RBAC_INVALID';

/** A configuration the policy refuses: says where (file and key) and why. */
export class EntraRbacConfigError extends Error {
  readonly name = 'EntraRbacConfigError';
  constructor(
    readonly code: EntraRbacConfigErrorCode,
    readonly file: string,
    readonly key: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${key}: ${reason}`, options);
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MEMBER_KEYS = [
  'entraGroup',
  'entraUser',
  'group',
  'user',
  'appRole',
  'signedIn',
] as const;
const RULE_KEYS = ['permission', 'resourceType', 'actions', 'conditions'];
const CONDITION_KEYS = ['owner', 'kinds', 'namespaces', 'annotations', 'tags'];
const ROLE_KEYS = ['name', 'description', 'members', 'rules'];

/** The built-in roles: what the issue calls the safe defaults. */
export function defaultRoles(admins: RoleMember[]): Role[] {
  return [
    {
      name: 'signed-in',
      description: 'Everyone signed in reads the catalog',
      source: 'default',
      members: [{ signedIn: true }],
      rules: [
        { permissions: ['catalog.entity.read', 'catalog.location.read'] },
      ],
    },
    {
      name: 'owner',
      description:
        'Owners refresh, edit and unregister what they own (through nested groups too)',
      source: 'default',
      members: [{ signedIn: true }],
      rules: [
        {
          resourceType: 'catalog-entity',
          actions: ['update', 'delete'],
          conditions: { owner: true },
        },
      ],
    },
    {
      name: 'admin',
      description: 'Does everything',
      source: 'default',
      members: admins,
      rules: [{ permissions: ['*'] }],
    },
  ];
}

type Raw = unknown;
const isObject = (v: Raw): v is Record<string, Raw> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

class Validator {
  constructor(readonly file: string, readonly prefix: string) {}

  fail(key: string, reason: string): never {
    throw new EntraRbacConfigError(
      'ERR_RBAC_INVALID',
      this.file,
      [this.prefix, key].filter(Boolean).join('.'),
      reason,
    );
  }

  stringList(value: Raw, key: string): string[] {
    const list = typeof value === 'string' ? [value] : value;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.some(v => typeof v !== 'string' || !v.trim())
    ) {
      this.fail(key, 'must be a non-empty string or list of strings');
    }
    return list.map(v => v.trim());
  }

  onlyKeys(value: Record<string, Raw>, allowed: string[], key: string) {
    for (const k of Object.keys(value)) {
      if (!allowed.includes(k)) {
        this.fail(
          [key, k].filter(Boolean).join('.'),
          `unknown key; expected one of ${allowed.join(', ')}`,
        );
      }
    }
  }

  entityRef(value: Raw, kind: 'group' | 'user', key: string): string {
    if (typeof value !== 'string' || !value.trim()) {
      this.fail(key, `must be a ${kind} entity ref such as ${kind}:default/x`);
    }
    let ref;
    try {
      ref = parseEntityRef(value, { defaultKind: kind });
    } catch (e) {
      this.fail(key, (e as Error).message);
    }
    if (ref.kind.toLowerCase() !== kind) {
      this.fail(key, `must be a ${kind} entity ref, not ${ref.kind}`);
    }
    return stringifyEntityRef(ref).toLowerCase();
  }

  member(value: Raw, key: string): RoleMember {
    if (!isObject(value)) {
      this.fail(key, `must be an object with one of ${MEMBER_KEYS.join(', ')}`);
    }
    const keys = Object.keys(value);
    if (keys.length !== 1 || !MEMBER_KEYS.includes(keys[0] as any)) {
      this.fail(
        key,
        `must have exactly one of ${MEMBER_KEYS.join(', ')} (got ${
          keys.join(', ') || 'nothing'
        })`,
      );
    }
    const [k] = keys as (typeof MEMBER_KEYS)[number][];
    const v = value[k];
    switch (k) {
      case 'entraGroup':
      case 'entraUser':
        if (typeof v !== 'string' || !GUID.test(v)) {
          this.fail(
            `${key}.${k}`,
            'must be an Entra object id (a GUID); names change, object ids do not',
          );
        }
        return { [k]: v.toLowerCase() } as RoleMember;
      case 'group':
        return { group: this.entityRef(v, 'group', `${key}.group`) };
      case 'user':
        return { user: this.entityRef(v, 'user', `${key}.user`) };
      case 'appRole':
        if (typeof v !== 'string' || !v.trim()) {
          this.fail(`${key}.appRole`, 'must be an app role value');
        }
        return { appRole: v.trim() };
      default:
        if (v !== true) this.fail(`${key}.signedIn`, 'must be true');
        return { signedIn: true };
    }
  }

  conditions(value: Raw, key: string): RuleConditions {
    if (!isObject(value)) this.fail(key, 'must be an object');
    this.onlyKeys(value, CONDITION_KEYS, key);
    const out: RuleConditions = {};
    if (value.owner !== undefined) {
      if (value.owner !== true) {
        this.fail(`${key}.owner`, 'must be true (leave it out otherwise)');
      }
      out.owner = true;
    }
    if (value.kinds !== undefined) {
      out.kinds = this.stringList(value.kinds, `${key}.kinds`);
    }
    if (value.namespaces !== undefined) {
      out.namespaces = this.stringList(value.namespaces, `${key}.namespaces`);
    }
    if (value.tags !== undefined) {
      out.tags = this.stringList(value.tags, `${key}.tags`);
    }
    if (value.annotations !== undefined) {
      const list = value.annotations;
      if (!Array.isArray(list) || list.length === 0) {
        this.fail(`${key}.annotations`, 'must be a non-empty list');
      }
      out.annotations = list.map((a, i) => {
        const k = `${key}.annotations[${i}]`;
        if (typeof a === 'string' && a.trim()) return { key: a.trim() };
        if (!isObject(a) || typeof a.key !== 'string' || !a.key.trim()) {
          this.fail(k, 'must be an annotation key or { key, value }');
        }
        this.onlyKeys(a, ['key', 'value'], k);
        if (a.value !== undefined && typeof a.value !== 'string') {
          this.fail(`${k}.value`, 'must be a string');
        }
        return {
          key: a.key.trim(),
          ...(a.value !== undefined ? { value: a.value as string } : {}),
        };
      });
    }
    if (Object.keys(out).length === 0) {
      this.fail(key, 'is empty; leave it out to allow without conditions');
    }
    return out;
  }

  rule(value: Raw, key: string): RoleRule {
    if (!isObject(value)) this.fail(key, 'must be an object');
    this.onlyKeys(value, RULE_KEYS, key);
    const rule: RoleRule = {};
    if (value.permission !== undefined) {
      rule.permissions = this.stringList(value.permission, `${key}.permission`);
      for (const [i, p] of rule.permissions.entries()) {
        if (p.includes('*') && p.indexOf('*') !== p.length - 1) {
          this.fail(
            `${key}.permission[${i}]`,
            '`*` is allowed only at the end',
          );
        }
      }
    }
    if (value.resourceType !== undefined) {
      if (typeof value.resourceType !== 'string' || !value.resourceType) {
        this.fail(`${key}.resourceType`, 'must be a string');
      }
      rule.resourceType = value.resourceType;
    }
    if (value.actions !== undefined) {
      const actions = this.stringList(value.actions, `${key}.actions`);
      for (const a of actions) {
        if (!ACTIONS.includes(a as Action)) {
          this.fail(
            `${key}.actions`,
            `unknown action ${a}; expected ${ACTIONS.join(', ')}`,
          );
        }
      }
      rule.actions = actions as Action[];
    }
    if (!rule.permissions && !rule.resourceType && !rule.actions) {
      this.fail(key, 'needs permission, resourceType or actions');
    }
    if (value.conditions !== undefined) {
      if (rule.resourceType !== 'catalog-entity') {
        this.fail(
          `${key}.conditions`,
          'conditions apply to catalog entities only: add resourceType: catalog-entity',
        );
      }
      rule.conditions = this.conditions(value.conditions, `${key}.conditions`);
    }
    return rule;
  }

  members(value: Raw, key: string): RoleMember[] {
    if (!Array.isArray(value)) this.fail(key, 'must be a list');
    return value.map((m, i) => this.member(m, `${key}[${i}]`));
  }

  roles(value: Raw, key: string, source: Role['source']): Role[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(key, 'must be a list of roles');
    return value.map((r, i) => {
      const k = `${key}[${i}]`;
      if (!isObject(r)) this.fail(k, 'must be an object');
      this.onlyKeys(r, ROLE_KEYS, k);
      if (
        typeof r.name !== 'string' ||
        !/^[a-z0-9][a-z0-9._-]*$/i.test(r.name)
      ) {
        this.fail(`${k}.name`, 'must be a name of letters, digits, . _ -');
      }
      if (r.description !== undefined && typeof r.description !== 'string') {
        this.fail(`${k}.description`, 'must be a string');
      }
      const members = this.members(r.members, `${k}.members`);
      if (members.length === 0) this.fail(`${k}.members`, 'is empty');
      if (!Array.isArray(r.rules) || r.rules.length === 0) {
        this.fail(`${k}.rules`, 'must be a non-empty list');
      }
      return {
        name: r.name,
        ...(r.description ? { description: r.description as string } : {}),
        source,
        members,
        rules: r.rules.map((rule, j) => this.rule(rule, `${k}.rules[${j}]`)),
      };
    });
  }
}

/** Reads and parses a roles file; errors name the file and say why. */
function readRolesFile(file: string): Record<string, Raw> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EntraRbacConfigError(
      'ERR_RBAC_FILE_UNREADABLE',
      file,
      '(file)',
      `cannot be read: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const err = doc.errors[0];
    const line = err.linePos?.[0];
    throw new EntraRbacConfigError(
      'ERR_RBAC_FILE_SYNTAX',
      file,
      line ? `line ${line.line}, column ${line.col}` : '(file)',
      `is not valid YAML: ${err.message.split('\n')[0]}`,
      { cause: err },
    );
  }
  const data = doc.toJS() ?? {};
  if (!isObject(data)) {
    throw new EntraRbacConfigError(
      'ERR_RBAC_INVALID',
      file,
      '(root)',
      'must be a mapping with roles and/or admins',
    );
  }
  new Validator(file, '').onlyKeys(data, ['roles', 'admins'], '');
  return data;
}

/**
 * Reads `permission.entraRbac` (and the roles file it points at) into a validated policy
 * configuration. Throws {@link EntraRbacConfigError} naming the file, key and reason.
 */
export function readRbacConfig(
  config: Config,
  options: { cwd?: string } = {},
): RbacConfig {
  const base = 'permission.entraRbac';
  const raw = (config.getOptional(base) ?? {}) as Raw;
  const configFile = 'app-config';
  const v: Validator = new Validator(configFile, base);
  if (!isObject(raw)) v.fail('', 'must be an object');
  v.onlyKeys(
    raw,
    ['defaults', 'admins', 'roles', 'rolesFile', 'membershipCacheSeconds'],
    '',
  );
  const defaults = raw.defaults ?? true;
  if (typeof defaults !== 'boolean')
    v.fail('defaults', 'must be true or false');
  const ttl = raw.membershipCacheSeconds ?? 30;
  if (typeof ttl !== 'number' || ttl < 0 || ttl > 3600) {
    v.fail('membershipCacheSeconds', 'must be a number from 0 to 3600');
  }
  const admins =
    raw.admins === undefined ? [] : v.members(raw.admins, 'admins');
  const roles = v.roles(raw.roles, 'roles', 'config');

  let rolesFile: string | undefined;
  if (raw.rolesFile !== undefined) {
    if (typeof raw.rolesFile !== 'string' || !raw.rolesFile) {
      v.fail('rolesFile', 'must be a path');
    }
    rolesFile = path.resolve(options.cwd ?? process.cwd(), raw.rolesFile);
    const data = readRolesFile(rolesFile);
    const fv: Validator = new Validator(rolesFile, '');
    if (data.admins !== undefined) {
      admins.push(...fv.members(data.admins, 'admins'));
    }
    roles.push(...fv.roles(data.roles, 'roles', 'file'));
  }

  const all = [...(defaults ? defaultRoles(admins) : []), ...roles];
  if (!defaults && admins.length) {
    // The admin role is a default; with defaults off, admins would silently hold nothing.
    v.fail(
      'admins',
      'needs defaults: true (admins hold the built-in admin role)',
    );
  }
  const seen = new Set<string>();
  for (const role of all) {
    if (seen.has(role.name)) {
      throw new EntraRbacConfigError(
        'ERR_RBAC_INVALID',
        role.source === 'file' ? rolesFile! : configFile,
        role.source === 'file' ? 'roles' : `${base}.roles`,
        `role ${role.name} is defined twice${
          role.source !== 'default' && defaults
            ? ' (signed-in, owner and admin are built in)'
            : ''
        }`,
      );
    }
    seen.add(role.name);
  }
  return {
    roles: all,
    origin: rolesFile ?? configFile,
    ...(rolesFile ? { rolesFile } : {}),
    membershipCacheSeconds: ttl,
  };
}
