import { formatSigninMarkdown, runSigninBench } from './signin';

describe('the sign-in benchmark', () => {
  it('counts the requests of each path against the emulator (no latency, two sign-ins)', async () => {
    const result = await runSigninBench({ n: 2, latencyMs: 0 });
    const row = (name: string) => result.signIn.find(r => r.name === name)!;

    // Gatehouse: the code redemption only; no Graph call for a user whose groups fit in the token.
    expect(row('Gatehouse').perSignIn).toEqual({
      backendIdp: 1,
      browserIdp: 2,
      graph: 0,
      roundTrips: 3,
    });
    expect(Object.keys(row('Gatehouse').routes).sort()).toEqual([
      'GET /{tenant}/oauth2/v2.0/authorize',
      'POST /{tenant}/oauth2/v2.0/authorize/select',
      'POST /{tenant}/oauth2/v2.0/token',
    ]);
    // Discovery and keys: once, in the warm-up.
    expect(result.oneTime.Gatehouse).toEqual({
      'GET /{tenant}/v2.0/.well-known/openid-configuration': 1,
      'GET /{tenant}/discovery/v2.0/keys': 1,
    });

    // Upstream: the code redemption, /me and the photo (a 404 for the seeded users).
    expect(row('Upstream pattern').perSignIn).toEqual({
      backendIdp: 1,
      browserIdp: 2,
      graph: 2,
      roundTrips: 5,
    });
    expect(
      row('Upstream pattern').routes['GET /me/photos/{size}/$value'],
    ).toEqual({ requests: 2, resourceUnits: 2, statuses: { '404': 2 } });
    expect(result.oneTime['Upstream pattern']).toEqual({});

    // Groups overage: one Graph call; the app-only token is kept, so it is a one-time cost.
    expect(row('Gatehouse, groups overage').perSignIn).toEqual({
      backendIdp: 1,
      browserIdp: 2,
      graph: 1,
      roundTrips: 4,
    });

    expect(result.refresh.map(r => [r.name, r.perRefresh])).toEqual([
      ['Gatehouse', { backendIdp: 1, graph: 0 }],
      ['Upstream pattern', { backendIdp: 1, graph: 2 }],
    ]);

    const markdown = formatSigninMarkdown(result);
    expect(markdown).toContain('| Gatehouse (lee.gu) | 1 | 2 | 0 | 3 |');
    expect(markdown).toContain('| Upstream pattern (lee.gu) | 1 | 2 | 2 | 5 |');
  });
});
