import { generateTenant } from './generator';
import { applicationFor, GraphHarness } from './graph/testHarness';
import { EmulatedGroup, EmulatedTenantData } from './tenant/types';

/** Depth of each group below its top-level ancestor, following parent links. */
function depths(tenant: EmulatedTenantData): Map<string, number> {
  const parents = new Map<string, string[]>();
  for (const g of tenant.groups) {
    for (const m of g.members)
      parents.set(m, [...(parents.get(m) ?? []), g.id]);
  }
  const out = new Map<string, number>();
  const depthOf = (id: string, seen: Set<string>): number => {
    if (out.has(id)) return out.get(id)!;
    if (seen.has(id)) throw new Error(`nesting cycle at ${id}`);
    seen.add(id);
    const ps = parents.get(id) ?? [];
    const d = ps.length ? 1 + Math.max(...ps.map(p => depthOf(p, seen))) : 0;
    out.set(id, d);
    return d;
  };
  for (const g of tenant.groups) depthOf(g.id, new Set());
  return out;
}

const userMembers = (tenant: EmulatedTenantData, g: EmulatedGroup) => {
  const userIds = new Set(tenant.users.map(u => u.id));
  return g.members.filter(m => userIds.has(m));
};

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

describe('generateTenant', () => {
  it('is deterministic for a seed, and another seed gives another membership', () => {
    const a = generateTenant({ users: 300, groups: 40, seed: 7 });
    const b = generateTenant({ users: 300, groups: 40, seed: 7 });
    expect(b).toEqual(a);
    const c = generateTenant({ users: 300, groups: 40, seed: 8 });
    expect(c.users.map(u => u.id)).toEqual(a.users.map(u => u.id));
    expect(c.groups.map(g => g.members)).not.toEqual(
      a.groups.map(g => g.members),
    );
  });

  it('makes the users and groups asked for, with unique ids, UPNs in the domain and valid members', () => {
    const t = generateTenant({
      users: 250,
      groups: 30,
      domain: 'fab.example',
      tenantId: '11111111-2222-4333-8444-555555555555',
    });
    expect(t.id).toBe('11111111-2222-4333-8444-555555555555');
    expect(t.domains).toEqual(['fab.example']);
    expect(t.users).toHaveLength(250);
    expect(t.groups).toHaveLength(30);
    const all = [...t.users.map(u => u.id), ...t.groups.map(g => g.id)];
    expect(new Set(all).size).toBe(all.length);
    expect(new Set(t.users.map(u => u.userPrincipalName)).size).toBe(250);
    for (const u of t.users)
      expect(u.userPrincipalName.endsWith('@fab.example')).toBe(true);
    const known = new Set(all);
    for (const g of t.groups) {
      expect(new Set(g.members).size).toBe(g.members.length);
      for (const m of g.members) expect(known.has(m)).toBe(true);
      expect(g.members).not.toContain(g.id);
    }
    expect(
      t.groups.filter(g => g.groupTypes.includes('Unified')).length,
    ).toBeGreaterThan(0);
  });

  it.each([0, 1, 2, 3, 5])('respects a nesting depth of %i', depth => {
    const t = generateTenant({
      users: 100,
      groups: 60,
      nestingDepth: depth,
      seed: 3,
    });
    const d = depths(t);
    expect(Math.max(...d.values())).toBe(depth);
    // Each nested group has exactly one parent group.
    const groupIds = new Set(t.groups.map(g => g.id));
    const parentCount = new Map<string, number>();
    for (const g of t.groups) {
      for (const m of g.members)
        if (groupIds.has(m)) parentCount.set(m, (parentCount.get(m) ?? 0) + 1);
    }
    expect([...parentCount.values()].every(n => n === 1)).toBe(true);
    expect(parentCount.size).toBe(
      depth === 0 ? 0 : 60 - Math.floor(60 / (depth + 1)),
    );
  });

  it('gives largeGroups groups more than 999 members and skews the others', () => {
    const t = generateTenant({
      users: 1500,
      groups: 60,
      largeGroups: 2,
      seed: 11,
    });
    const sizes = t.groups.map(g => userMembers(t, g).length);
    const large = sizes.filter(n => n > 999);
    expect(large).toHaveLength(2);
    const others = sizes.filter(n => n <= 999);
    expect(others).toHaveLength(58);
    const biggest = Math.max(...others);
    expect(biggest).toBeGreaterThanOrEqual(3 * median(others));
    expect(biggest).toBeGreaterThan(median(others) + 50);
  });

  it('disables about the share of users asked for', () => {
    const t = generateTenant({
      users: 1000,
      groups: 5,
      disabledShare: 0.2,
      seed: 5,
    });
    const disabled = t.users.filter(u => !u.accountEnabled).length;
    expect(disabled).toBeGreaterThan(150);
    expect(disabled).toBeLessThan(250);
  });

  it('refuses large groups without enough users, and impossible sizes', () => {
    expect(() =>
      generateTenant({ users: 999, groups: 5, largeGroups: 1 }),
    ).toThrow(/at least 1000 users/);
    expect(() => generateTenant({ users: -1, groups: 5 })).toThrow(/users/);
    expect(() => generateTenant({ users: 10, groups: 2.5 })).toThrow(/groups/);
  });

  it('serves a generated tenant through Graph: pages of 999, large groups over several pages', async () => {
    const tenant = generateTenant({
      users: 1200,
      groups: 40,
      largeGroups: 1,
      nestingDepth: 2,
      seed: 21,
    });
    const appId = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    tenant.applications = [applicationFor(tenant.id, appId)];
    const h = await GraphHarness.start({ tenants: [tenant] });
    try {
      const token = await h.appToken(appId, tenant.id);
      const pages = await h.pages('/users?$select=id&$top=999', token);
      expect(pages.map(p => p.body.value.length)).toEqual([999, 201]);
      const big = tenant.groups.find(g => g.members.length > 999)!;
      const members = await h.pages(
        `/groups/${big.id}/members?$select=id&$top=999`,
        token,
      );
      expect(members.length).toBeGreaterThanOrEqual(2);
      const ids = members.flatMap(p =>
        p.body.value.map((m: { id: string }) => m.id),
      );
      expect([...ids].sort()).toEqual([...big.members].sort());
      // 1,200 users: the large budget (8,000 RU per 10 s) does not get in the way.
      expect(
        pages.every(
          p => p.headers.get('x-ms-throttle-limit-percentage') === null,
        ),
      ).toBe(true);
    } finally {
      await h.close();
    }
  });
});
