import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import YAML from 'yaml';
import { parseAzureDevOps } from '../ado/model';
import { placeholderPhoto } from '../photo';
import {
  EmulatedApplication,
  EmulatedGroup,
  EmulatedTenantData,
  EmulatedUser,
} from './types';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Thrown when a tenant file is malformed; the message names the file and the key. */
export class TenantFileError extends Error {
  readonly code = 'TENANT_FILE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TenantFileError';
  }
}

/** A stable GUID derived from a name, so tenant files need not spell out object ids. */
export function stableGuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5 layout
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(
    12,
    16,
  )}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

type Raw = Record<string, any>;

function need<T>(value: T | undefined, where: string): T {
  if (value === undefined || value === null || value === '') {
    throw new TenantFileError(`${where} is required`);
  }
  return value;
}

function guidOr(value: unknown, where: string, ...seed: string[]): string {
  if (value === undefined) return stableGuid(...seed);
  if (typeof value !== 'string' || !GUID.test(value)) {
    throw new TenantFileError(
      `${where} must be a GUID, got ${JSON.stringify(value)}`,
    );
  }
  return value.toLowerCase();
}

/** Parses the tenants of a tenant file (YAML text) into emulator data. */
export function parseTenants(
  text: string,
  source = 'tenant file',
): EmulatedTenantData[] {
  let doc: Raw;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new TenantFileError(
      `${source}: not valid YAML: ${(e as Error).message}`,
    );
  }
  if (!doc || !Array.isArray(doc.tenants) || doc.tenants.length === 0) {
    throw new TenantFileError(`${source}: expected a non-empty "tenants" list`);
  }
  return doc.tenants.map((t: Raw, i: number) =>
    parseTenant(t, `${source}: tenants[${i}]`),
  );
}

function parseTenant(t: Raw, where: string): EmulatedTenantData {
  const id = guidOr(need(t.id, `${where}.id`), `${where}.id`);
  const domains: string[] = need(t.domains, `${where}.domains`);
  if (!Array.isArray(domains) || domains.length === 0) {
    throw new TenantFileError(
      `${where}.domains must list at least one verified domain`,
    );
  }
  const verified = new Set(domains.map(d => d.toLowerCase()));

  const users: EmulatedUser[] = (t.users ?? []).map((u: Raw, i: number) => {
    const w = `${where}.users[${i}]`;
    const upn: string = need(u.userPrincipalName, `${w}.userPrincipalName`);
    const mail: string | undefined =
      u.mail === null ? undefined : u.mail ?? upn;
    const mailDomain = mail?.split('@')[1]?.toLowerCase();
    return {
      id: guidOr(u.id, `${w}.id`, id, 'user', upn.toLowerCase()),
      userPrincipalName: upn,
      displayName: need(u.displayName, `${w}.displayName`),
      mail,
      mailNickname: u.mailNickname ?? upn.split('@')[0].split('#')[0],
      givenName: u.givenName,
      surname: u.surname,
      jobTitle: u.jobTitle,
      department: u.department,
      accountEnabled: u.accountEnabled ?? true,
      userType: u.userType === 'Guest' ? 'Guest' : 'Member',
      emailVerified:
        u.emailVerified ?? (mailDomain ? verified.has(mailDomain) : false),
      // `photo: true` gives the user a generated placeholder photo.
      ...(u.photo === true
        ? {
            photo: {
              contentType: 'image/png',
              data: placeholderPhoto(
                guidOr(u.id, `${w}.id`, id, 'user', upn.toLowerCase()),
              ).toString('base64'),
            },
          }
        : {}),
    };
  });
  const userByUpn = new Map(
    users.map(u => [u.userPrincipalName.toLowerCase(), u.id]),
  );

  const rawGroups: Raw[] = t.groups ?? [];
  const groupIdByName = new Map<string, string>();
  const groups: EmulatedGroup[] = rawGroups.map((g, i) => {
    const w = `${where}.groups[${i}]`;
    const displayName: string = need(g.displayName, `${w}.displayName`);
    const gid = guidOr(g.id, `${w}.id`, id, 'group', displayName);
    if (groupIdByName.has(displayName)) {
      throw new TenantFileError(
        `${w}.displayName "${displayName}" is used twice; give one an id`,
      );
    }
    groupIdByName.set(displayName, gid);
    const nick =
      g.mailNickname ?? displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    return {
      id: gid,
      displayName,
      description: g.description,
      mailNickname: nick,
      mailEnabled: g.mailEnabled ?? false,
      securityEnabled: g.securityEnabled ?? true,
      groupTypes: g.groupTypes ?? [],
      mail: g.mail ?? (g.mailEnabled ? `${nick}@${domains[0]}` : undefined),
      members: [],
    };
  });

  // Members are resolved once every group has its id, so a group may name one defined later.
  for (const [i, g] of rawGroups.entries()) {
    const resolveMember = (m: string) => {
      const ref = String(m);
      const found =
        userByUpn.get(ref.toLowerCase()) ??
        groupIdByName.get(ref) ??
        (GUID.test(ref) ? ref.toLowerCase() : undefined);
      if (!found) {
        throw new TenantFileError(
          `${where}.groups[${i}].members: "${ref}" is neither a user's userPrincipalName nor a group's displayName`,
        );
      }
      return found;
    };
    groups[i].members = [
      ...new Set<string>((g.members ?? []).map(resolveMember)),
    ];
  }
  // A group series is one definition copied N times, for a user in hundreds of groups
  // without a file of hundreds of entries.
  const generated: EmulatedGroup[] = [];
  for (const [i, r] of (t.groupSeries ?? []).entries()) {
    const w = `${where}.groupSeries[${i}]`;
    const count = Number(need(r.count, `${w}.count`));
    const prefix: string = need(r.prefix, `${w}.prefix`);
    const members = (r.members ?? []).map((m: string) => {
      const found =
        userByUpn.get(String(m).toLowerCase()) ?? groupIdByName.get(m);
      if (!found)
        throw new TenantFileError(`${w}.members: unknown member "${m}"`);
      return found;
    });
    for (let n = 1; n <= count; n++) {
      const displayName = `${prefix}${String(n).padStart(3, '0')}`;
      generated.push({
        id: stableGuid(id, 'group', displayName),
        displayName,
        description: r.description,
        mailNickname: displayName.toLowerCase(),
        mailEnabled: false,
        securityEnabled: true,
        groupTypes: [],
        members,
      });
    }
  }
  const allGroups = [...groups, ...generated];

  const managedIdentities = (t.managedIdentities ?? []).map(
    (m: Raw, i: number) => {
      const w = `${where}.managedIdentities[${i}]`;
      const name: string = need(m.name, `${w}.name`);
      return {
        name,
        clientId: guidOr(m.clientId, `${w}.clientId`, id, 'mi-client', name),
        principalId: guidOr(
          m.principalId,
          `${w}.principalId`,
          id,
          'mi-principal',
          name,
        ),
        graphApplicationPermissions: m.graphApplicationPermissions ?? [],
        ...(m.systemAssigned === true ? { systemAssigned: true } : {}),
      };
    },
  );
  // A federated credential's subject may name a managed identity of the tenant.
  const resolvePrincipal = (subject: string) =>
    managedIdentities.find((m: { name: string }) => m.name === subject)
      ?.principalId ?? subject;

  const applications: EmulatedApplication[] = (t.applications ?? []).map(
    (a: Raw, i: number) => {
      const w = `${where}.applications[${i}]`;
      const appId = guidOr(need(a.appId, `${w}.appId`), `${w}.appId`);
      const appRoles = (a.appRoles ?? []).map((r: Raw, j: number) => ({
        id: guidOr(
          r.id,
          `${w}.appRoles[${j}].id`,
          appId,
          'role',
          need(r.value, `${w}.appRoles[${j}].value`),
        ),
        value: r.value,
        displayName: r.displayName ?? r.value,
        description: r.description,
        allowedMemberTypes: r.allowedMemberTypes ?? ['User'],
      }));
      const assignments = (a.appRoleAssignments ?? []).map(
        (x: Raw, j: number) => {
          const ww = `${w}.appRoleAssignments[${j}]`;
          const role = appRoles.find(
            (r: { value: string }) => r.value === x.role,
          );
          if (!role)
            throw new TenantFileError(
              `${ww}.role "${x.role}" is not one of the app's appRoles`,
            );
          const principal = String(need(x.principal, `${ww}.principal`));
          const principalId =
            userByUpn.get(principal.toLowerCase()) ??
            groupIdByName.get(principal);
          if (!principalId)
            throw new TenantFileError(
              `${ww}.principal "${principal}" is unknown`,
            );
          return { principalId, appRoleId: role.id };
        },
      );
      const claims = a.groupMembershipClaims ?? 'None';
      if (
        !['None', 'SecurityGroup', 'All', 'ApplicationGroup'].includes(claims)
      ) {
        throw new TenantFileError(
          `${w}.groupMembershipClaims must be None, SecurityGroup, All or ApplicationGroup`,
        );
      }
      return {
        id: guidOr(a.id, `${w}.id`, id, 'application', appId),
        appId,
        displayName: need(a.displayName, `${w}.displayName`),
        signInAudience:
          a.signInAudience === 'AzureADMultipleOrgs'
            ? 'AzureADMultipleOrgs'
            : 'AzureADMyOrg',
        redirectUris: a.redirectUris ?? [],
        logoutUris: a.logoutUris ?? [],
        passwordCredentials: (a.passwordCredentials ?? []).map(
          (c: Raw, j: number) => {
            const ww = `${w}.passwordCredentials[${j}]`;
            // The secret text never sits in a tenant file: give its SHA-256, or the name of an
            // environment variable that holds it.
            let secretHash: string | undefined = c.secretHash;
            if (c.secretEnv) {
              const text = process.env[c.secretEnv];
              if (!text)
                throw new TenantFileError(
                  `${ww}.secretEnv: environment variable ${c.secretEnv} is not set`,
                );
              secretHash = sha256Hex(text);
            }
            if (!secretHash || !/^[0-9a-f]{64}$/i.test(secretHash)) {
              throw new TenantFileError(
                `${ww} needs secretHash (SHA-256 hex of the secret) or secretEnv`,
              );
            }
            if ('secretText' in c) {
              throw new TenantFileError(
                `${ww}.secretText: secrets are never written in tenant files; use secretHash or secretEnv`,
              );
            }
            return {
              keyId: guidOr(c.keyId, `${ww}.keyId`, appId, 'secret', String(j)),
              displayName: c.displayName ?? `secret ${j + 1}`,
              hint: c.hint ?? '***',
              secretHash: secretHash.toLowerCase(),
              startDateTime: c.startDateTime ?? '2020-01-01T00:00:00Z',
              endDateTime: need(c.endDateTime, `${ww}.endDateTime`),
            };
          },
        ),
        keyCredentials: (a.keyCredentials ?? []).map((k: Raw, j: number) => ({
          keyId: guidOr(
            k.keyId,
            `${w}.keyCredentials[${j}].keyId`,
            appId,
            'key',
            String(j),
          ),
          displayName: k.displayName ?? `key ${j + 1}`,
          key: need(k.key, `${w}.keyCredentials[${j}].key`),
          endDateTime: k.endDateTime ?? '2099-12-31T00:00:00Z',
        })),
        groupMembershipClaims: claims,
        appRoles,
        appRoleAssignments: assignments,
        appRoleAssignmentRequired: a.appRoleAssignmentRequired ?? false,
        graphApplicationPermissions: a.graphApplicationPermissions ?? [],
        graphDelegatedPermissions: a.graphDelegatedPermissions ?? [
          'User.Read',
          'openid',
          'profile',
          'email',
          'offline_access',
        ],
        requirePkce: a.requirePkce ?? true,
        federatedIdentityCredentials: (
          a.federatedIdentityCredentials ?? []
        ).map((f: Raw, j: number) => {
          const ww = `${w}.federatedIdentityCredentials[${j}]`;
          return {
            name: f.name ?? `credential ${j + 1}`,
            // `{emulator}` stands for the emulator's own URL, which is known only once it listens.
            issuer: need(f.issuer, `${ww}.issuer`),
            subject: resolvePrincipal(need(f.subject, `${ww}.subject`)),
            audiences: f.audiences ?? ['api://AzureADTokenExchange'],
          };
        }),
      };
    },
  );

  return {
    id,
    displayName: t.displayName ?? domains[0],
    domains,
    users,
    groups: allGroups,
    applications,
    managedIdentities,
    ...(t.azureDevOps
      ? { azureDevOps: parseAzureDevOps(t.azureDevOps, `${where}.azureDevOps`) }
      : {}),
  };
}

/** Reads and parses a tenant file from disk. */
export function loadTenantFile(path: string): EmulatedTenantData[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new TenantFileError(
      `cannot read tenant file ${path}: ${(e as Error).message}`,
    );
  }
  return parseTenants(text, path);
}

/** Makes a new client secret text in the shape Entra uses (40 characters, `~` in it). */
export function newSecretText(): string {
  const raw = randomBytes(30).toString('base64').replace(/[+/=]/g, '');
  return `${raw.slice(0, 3)}8Q~${raw.slice(3, 37)}`;
}
