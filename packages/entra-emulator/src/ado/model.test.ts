import { parseTenants, TenantFileError } from '../tenant/loadTenants';
import { generateAzureDevOps } from './generate';

const tenant = (azureDevOps: string) => `
tenants:
  - id: 11111111-2222-4333-8444-555555555555
    domains: [example.test]
    users: [{ userPrincipalName: ann@example.test, displayName: Ann }]
    azureDevOps:
${azureDevOps}
`;

describe('the azureDevOps section of a tenant file', () => {
  it('reads organizations, projects, repositories with files per branch, and pipelines', () => {
    const [t] = parseTenants(
      tenant(`      organizations:
        - name: acme
          members: [ann@example.test]
          projects:
            - name: Web
              repositories:
                - name: site
                  files: { catalog-info.yaml: "kind: Component", /docs/a.md: "# A" }
                - name: empty
              pipelines:
                - { name: site CI, repository: site, runs: [{ result: failed }] }`),
    );
    const org = t.azureDevOps!.organizations[0];
    const [site, empty] = org.projects[0].repositories;
    expect(site.defaultBranch).toBe('main');
    expect(site.branches.main).toEqual({
      'catalog-info.yaml': 'kind: Component',
      'docs/a.md': '# A',
    });
    expect(empty.defaultBranch).toBeUndefined();
    expect(org.projects[0].pipelines[0]).toMatchObject({
      path: '/azure-pipelines.yml',
      runs: [{ result: 'failed' }],
    });
  });

  it.each([
    [
      'a PAT written in clear',
      `      organizations:
        - name: acme
          personalAccessTokens: [{ user: ann@example.test, token: abc }]`,
      /tokens are never written in tenant files/,
    ],
    [
      'a pipeline on an unknown repository',
      `      organizations:
        - name: acme
          projects:
            - name: Web
              pipelines: [{ name: x, repository: nope }]`,
      /repository "nope" is not a repository of the project/,
    ],
    [
      'a file path that climbs out of the repository',
      `      organizations:
        - name: acme
          projects:
            - name: Web
              repositories: [{ name: r, files: { ../x: y } }]`,
      /is not a file path/,
    ],
  ])('refuses %s, naming the key', (_what, yaml, message) => {
    expect(() => parseTenants(tenant(yaml))).toThrow(TenantFileError);
    expect(() => parseTenants(tenant(yaml))).toThrow(message);
  });
});

describe('generateAzureDevOps', () => {
  it('spreads N repositories over the projects, the given share without catalog-info.yaml', () => {
    const { organizations } = generateAzureDevOps({
      repositories: 2500,
      projects: 2,
      withoutCatalogInfoShare: 0.1,
    });
    const repos = organizations[0].projects.flatMap(p => p.repositories);
    expect(organizations[0].projects.map(p => p.repositories.length)).toEqual([
      1250, 1250,
    ]);
    expect(
      repos.filter(r => !r.branches.main['catalog-info.yaml']),
    ).toHaveLength(250);
    expect(new Set(repos.map(r => r.name)).size).toBe(2500);
  });

  it('gives the same organization for the same seed', () => {
    const names = (seed: number) =>
      generateAzureDevOps({ repositories: 50, seed })
        .organizations[0].projects.flatMap(p => p.repositories)
        .filter(r => !r.branches.main['catalog-info.yaml'])
        .map(r => r.name);
    expect(names(3)).toEqual(names(3));
    expect(names(3)).not.toEqual(names(4));
  });
});
