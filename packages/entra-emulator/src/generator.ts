import { placeholderPhoto } from './photo';
import { stableGuid } from './tenant/loadTenants';
import {
  AzureDevOpsGeneratorOptions,
  generateAzureDevOps,
} from './ado/generate';
import {
  EmulatedGroup,
  EmulatedTenantData,
  EmulatedUser,
} from './tenant/types';

/** The shape of a synthetic tenant for benchmarks. */
export interface GeneratorOptions {
  tenantId?: string;
  domain?: string;
  users: number;
  groups: number;
  /** Levels of group nesting below the top groups (0: flat). */
  nestingDepth?: number;
  /** Average direct group memberships per user; the spread is skewed (a few groups are huge). */
  membershipsPerUser?: number;
  /** How many groups get more than 999 members (those page over several Graph pages). */
  largeGroups?: number;
  /** Share of users that are disabled. */
  disabledShare?: number;
  /** Share of users with a profile photo (a generated placeholder). Default 0. */
  photoShare?: number;
  seed?: number;
  /** An Azure DevOps organization connected to the tenant (see `generateAzureDevOps`). */
  azureDevOps?: AzureDevOpsGeneratorOptions;
}

/** A small deterministic PRNG (mulberry32), so the same options give the same tenant. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  'Alex',
  'Sam',
  'Jo',
  'Kim',
  'Lee',
  'Max',
  'Noor',
  'Ola',
  'Pat',
  'Ravi',
  'Sky',
  'Tove',
  'Uma',
  'Vik',
  'Wen',
  'Yara',
];
const LAST = [
  'Berg',
  'Costa',
  'Diaz',
  'Eklund',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ito',
  'Jensen',
  'Kowalski',
  'Lind',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Patel',
  'Quinn',
];

/**
 * Generates a synthetic tenant: users, groups nested to a depth, skewed membership (a Zipf-like
 * spread over groups), and some groups with more than 999 members.
 */
export function generateTenant(options: GeneratorOptions): EmulatedTenantData {
  const rand = prng(options.seed ?? 42);
  const domain = options.domain ?? 'synthetic.example';
  const tenantId =
    options.tenantId ??
    stableGuid(
      'synthetic',
      domain,
      String(options.users),
      String(options.groups),
    );
  const depth = options.nestingDepth ?? 3;
  const perUser = options.membershipsPerUser ?? 3;
  for (const [name, value] of Object.entries({
    users: options.users,
    groups: options.groups,
    nestingDepth: depth,
    largeGroups: options.largeGroups ?? 0,
  })) {
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`generateTenant: ${name} must be a non-negative integer`);
    }
  }
  const largeGroups = Math.min(options.largeGroups ?? 0, options.groups);
  if (largeGroups > 0 && options.users < 1000) {
    // A large group has more than 999 members (more than one Graph page): it needs the users.
    throw new Error(
      `generateTenant: largeGroups needs at least 1000 users, got ${options.users}`,
    );
  }
  const disabledShare = options.disabledShare ?? 0.01;
  const photoShare = options.photoShare ?? 0;

  const users: EmulatedUser[] = [];
  for (let i = 0; i < options.users; i++) {
    const given = FIRST[i % FIRST.length];
    const sur = LAST[Math.floor(i / FIRST.length) % LAST.length];
    const nick = `${given}.${sur}.${i}`.toLowerCase();
    const upn = `${nick}@${domain}`;
    const id = stableGuid(tenantId, 'user', String(i));
    // Spread evenly without drawing from `rand`, so tenants without photos stay the same.
    const hasPhoto = (i * 0.618033988749895) % 1 < photoShare;
    users.push({
      id,
      userPrincipalName: upn,
      displayName: `${given} ${sur} ${i}`,
      mail: upn,
      mailNickname: nick,
      givenName: given,
      surname: sur,
      department: `Department ${i % 50}`,
      accountEnabled: rand() >= disabledShare,
      userType: 'Member',
      emailVerified: true,
      ...(hasPhoto
        ? {
            photo: {
              contentType: 'image/png',
              data: placeholderPhoto(id).toString('base64'),
            },
          }
        : {}),
    });
  }

  const groups: EmulatedGroup[] = [];
  for (let j = 0; j < options.groups; j++) {
    const name = `Group ${String(j).padStart(6, '0')}`;
    groups.push({
      id: stableGuid(tenantId, 'group', String(j)),
      displayName: name,
      description: `Synthetic group ${j}`,
      mailNickname: `group-${j}`,
      mailEnabled: false,
      securityEnabled: j % 10 !== 0,
      groupTypes: j % 10 === 0 ? ['Unified'] : [],
      members: [],
    });
  }

  // Nesting: split the groups into depth+1 levels; each group below the top has one parent in
  // the level above.
  if (depth > 0 && groups.length > 1) {
    const levels = depth + 1;
    const perLevel = Math.max(1, Math.floor(groups.length / levels));
    for (let j = perLevel; j < groups.length; j++) {
      const level = Math.min(levels - 1, Math.floor(j / perLevel));
      const parentStart = (level - 1) * perLevel;
      const parent = groups[parentStart + Math.floor(rand() * perLevel)];
      parent.members.push(groups[j].id);
    }
  }

  // Large groups first: each gets 1,000 to 2,500 users.
  for (let j = 0; j < largeGroups; j++) {
    const size = Math.min(users.length, 1000 + Math.floor(rand() * 1500));
    const start = Math.floor(rand() * users.length);
    const members = groups[j].members;
    for (let k = 0; k < size; k++)
      members.push(users[(start + k) % users.length].id);
  }

  // Skewed membership for the rest: group index drawn from a power law.
  if (groups.length > 0) {
    for (const u of users) {
      const n = Math.max(1, Math.round(perUser * (0.5 + rand())));
      const chosen = new Set<number>();
      for (let k = 0; k < n; k++) {
        const j = Math.min(
          groups.length - 1,
          Math.floor(groups.length * Math.pow(rand(), 2.5)),
        );
        chosen.add(j);
      }
      for (const j of chosen) {
        if (j >= largeGroups) groups[j].members.push(u.id);
      }
    }
  }

  return {
    id: tenantId,
    displayName: `Synthetic ${options.users} users`,
    domains: [domain],
    users,
    groups,
    applications: [],
    managedIdentities: [],
    ...(options.azureDevOps
      ? { azureDevOps: generateAzureDevOps(options.azureDevOps) }
      : {}),
  };
}
