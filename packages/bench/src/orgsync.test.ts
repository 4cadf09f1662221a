import { formatOrgSyncMarkdown, runOrgSyncBench } from './orgsync';

describe('the org sync benchmark', () => {
  it('counts the Graph requests of each reader against the emulator (50 users, no latency)', async () => {
    const result = await runOrgSyncBench({
      sizes: [
        {
          name: 'T',
          users: 50,
          groups: 10,
          membershipsPerUser: 2,
          largeGroups: 0,
          nestingDepth: 2,
        },
      ],
      latencyMs: 0,
      isolate: false,
      rate429: 0,
    });
    const row = (reader: string) =>
      result.phases.find(p => p.reader === reader)!;
    const upstream = row('Upstream (msgraph 0.10.6)');
    const first = row('Gatehouse first round');
    const delta = row('Gatehouse delta round');
    const [tenant] = result.tenants;

    for (const p of [upstream, first, delta]) {
      expect(p.ok).toBe(true);
      expect(p.throttled429).toBe(0);
      expect(p.tokenRequests).toBe(1);
    }
    // Upstream: one page of users, one page of groups, then the members of every group.
    expect(upstream.graphRequests).toBe(2 + tenant.groups);
    expect(upstream.routes['GET /groups/{id}/members'].requests).toBe(
      tenant.groups,
    );
    // Gatehouse's first round: delta pages of at most 100 objects and member references.
    const objects = tenant.users + tenant.groups + tenant.memberships;
    expect(first.graphRequests).toBeGreaterThanOrEqual(
      Math.ceil(objects / 100),
    );
    expect(first.graphRequests).toBeLessThan(upstream.graphRequests);
    expect(first.resourceUnits).toBe(first.graphRequests);
    expect(first.entities).toBeGreaterThan(0);
    // After 1% churn: one page of user changes and one of group changes.
    expect(tenant.churn.users).toBeGreaterThan(0);
    expect(delta.graphRequests).toBe(2);
    expect(delta.graphRequests).toBeLessThan(first.graphRequests);
    expect(delta.lowerBoundMs).toBeDefined();

    const markdown = formatOrgSyncMarkdown(result);
    expect(markdown).toContain(
      `| T | Upstream (msgraph 0.10.6) | ${upstream.graphRequests} |`,
    );
    expect(markdown).toContain('| T | Gatehouse delta round | 2 |');
  });
});
