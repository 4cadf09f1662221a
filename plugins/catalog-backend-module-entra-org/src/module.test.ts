import {
  createBackendModule,
  coreServices,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Entity, RELATION_MEMBER_OF } from '@backstage/catalog-model';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  defaultTenantFile,
  loadTenantFile,
  parseTenants,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import catalogModuleEntraOrg, {
  entraOrgTransformersExtensionPoint,
} from './index';

const CONTOSO_ID = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
const CONTOSO_APP = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';
const NORTHWIND_ID = '0b1c2d3e-4f50-4a6b-9c7d-8e9f0a1b2c3d';
const NORTHWIND_APP = '6e7f8091-a2b3-4c4d-9e5f-60718293a4b5';

/** A second tenant: team groups, some of them assigned to its portal app. */
const NORTHWIND = `
tenants:
  - id: ${NORTHWIND_ID}
    displayName: Northwind
    domains: [northwind.example]
    users:
      - { userPrincipalName: nadia.north@northwind.example, displayName: Nadia North }
      - { userPrincipalName: omar.wind@northwind.example, displayName: Omar Wind }
    groups:
      - { displayName: team-alpha, members: [nadia.north@northwind.example] }
      - { displayName: team-beta, members: [omar.wind@northwind.example] }
      - { displayName: team-gamma, members: [omar.wind@northwind.example] }
      - displayName: team-social
        securityEnabled: false
        mailEnabled: true
        groupTypes: [Unified]
        members: [nadia.north@northwind.example]
      - { displayName: Finance, members: [nadia.north@northwind.example] }
    applications:
      - displayName: Northwind portal
        appId: ${NORTHWIND_APP}
        appRoles:
          - { value: Portal.User, displayName: Portal user, allowedMemberTypes: [User] }
        appRoleAssignments:
          - { principal: team-alpha, role: Portal.User }
          - { principal: team-beta, role: Portal.User }
          - { principal: team-social, role: Portal.User }
          - { principal: Finance, role: Portal.User }
        graphApplicationPermissions:
          [User.Read.All, GroupMember.Read.All, Application.Read.All]
`;

/** A catalog module of a user of Gatehouse: labels users, drops contractors and a group. */
const transformersModule = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'entra-org-test-transformers',
  register(reg) {
    reg.registerInit({
      deps: {
        transformers: entraOrgTransformersExtensionPoint,
        logger: coreServices.logger,
      },
      async init({ transformers }) {
        transformers.addUserTransformer((entity, user) => {
          if (user.jobTitle === 'Contractor') return undefined;
          const department = user.department;
          if (typeof department === 'string') {
            entity.metadata.labels = {
              ...entity.metadata.labels,
              'example.com/department': department.toLowerCase(),
            };
          }
          return entity;
        });
        transformers.addGroupTransformer((entity, group) =>
          group.displayName === 'Web' ? undefined : entity,
        );
      },
    });
  },
});

describe('the entra-org module in a backend, with two tenants', () => {
  let emulator: RunningEmulator;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let entities: Entity[];

  const byName = (kind: string, name: string) =>
    entities.find(
      e => e.kind.toLowerCase() === kind && e.metadata.name === name,
    );
  const memberOf = (e: Entity | undefined) =>
    (e?.relations ?? [])
      .filter(r => r.type === RELATION_MEMBER_OF)
      .map(r => r.targetRef)
      .sort();

  beforeAll(async () => {
    emulator = await startEmulator({
      tenants: [
        ...loadTenantFile(defaultTenantFile),
        ...parseTenants(NORTHWIND),
      ],
      port: 0,
    });
    const secret = (appId: string) =>
      emulator.emulator.addClientSecret(appId).secretText;
    const common = { authority: emulator.url, target: `${emulator.url}/v1.0` };
    backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleEntraOrg,
        transformersModule,
        mockServices.scheduler.factory({
          includeInitialDelayedTasksOnStartup: true,
        }),
        mockServices.rootConfig.factory({
          data: {
            gatehouse: { emulator: { enabled: false } },
            catalog: {
              rules: [{ allow: ['User', 'Group'] }],
              providers: {
                microsoftGraphOrg: {
                  contoso: {
                    ...common,
                    tenantId: CONTOSO_ID,
                    clientId: CONTOSO_APP,
                    clientSecret: secret(CONTOSO_APP),
                    includeTransitiveGroupOwnership: true,
                    user: { loadPhotos: true, select: ['department'] },
                  },
                  northwind: {
                    ...common,
                    tenantId: NORTHWIND_ID,
                    clientId: NORTHWIND_APP,
                    clientSecret: secret(NORTHWIND_APP),
                    group: {
                      securityGroupsOnly: true,
                      displayNamePrefixes: ['team-'],
                      assignedToApp: NORTHWIND_APP,
                    },
                  },
                },
              },
            },
          },
        }),
      ],
    });
    const base = `http://localhost:${backend.server.port()}`;
    // Until both providers' entities are processed and stitched (relations included).
    for (;;) {
      const res = await fetch(`${base}/api/catalog/entities`, {
        headers: { authorization: mockCredentials.user.header() },
      });
      entities = res.ok ? ((await res.json()) as Entity[]) : [];
      // Contoso: 20 users less a disabled one and a contractor, 220 groups less Web;
      // Northwind: 2 users, 2 groups.
      const joni = byName('user', 'joni.sherman');
      const omar = byName('user', 'omar.wind');
      if (
        entities.length === 18 + 219 + 4 &&
        memberOf(joni).length >= 5 &&
        memberOf(omar).length >= 1
      )
        break;
      await new Promise(r => setTimeout(r, 250));
    }
  }, 90_000);

  afterAll(async () => {
    await backend?.stop();
    await emulator?.close();
  });

  it('reads each tenant with its own provider, annotated with its tenant', () => {
    const tenantOf = (name: string) =>
      byName('user', name)?.metadata.annotations?.[
        'graph.microsoft.com/tenant-id'
      ];
    expect(tenantOf('alex.wilber')).toBe(CONTOSO_ID);
    expect(tenantOf('nadia.north')).toBe(NORTHWIND_ID);
    expect(
      byName('user', 'nadia.north')?.metadata.annotations?.[
        'backstage.io/managed-by-location'
      ],
    ).toBe(`msgraph:northwind/${NORTHWIND_ID}`);
  });

  it('keeps only the security groups with the prefix that are assigned to the app', () => {
    const northwindGroups = entities
      .filter(
        e =>
          e.kind === 'Group' &&
          e.metadata.annotations?.['graph.microsoft.com/tenant-id'] ===
            NORTHWIND_ID,
      )
      .map(e => e.metadata.name)
      .sort();
    // team-gamma: not assigned; team-social: not a security group; Finance: no prefix.
    expect(northwindGroups).toEqual(['team-alpha', 'team-beta']);
    expect(memberOf(byName('user', 'omar.wind'))).toEqual([
      'group:default/team-beta',
    ]);
  });

  it('runs the transformers a module registered: changes, drops, and follows the drops', () => {
    expect(byName('user', 'alex.wilber')?.metadata.labels).toEqual({
      'example.com/department': 'engineering',
    });
    // Casey Jordan is a contractor; the Web group is dropped.
    expect(
      entities.filter(e => e.metadata.name.startsWith('casey.jordan')),
    ).toEqual([]);
    expect(byName('group', 'web')).toBeUndefined();
    expect(memberOf(byName('user', 'lidia.holloway'))).not.toContain(
      'group:default/web',
    );
    expect(
      (byName('group', 'engineering')?.spec as { children: string[] }).children,
    ).not.toContain('web');
  });

  it('stores profile photos as data URLs, for users who have one', () => {
    const picture = (name: string) =>
      (byName('user', name)?.spec as { profile?: { picture?: string } })
        ?.profile?.picture;
    expect(picture('alex.wilber')).toMatch(/^data:image\/png;base64,iVBOR/);
    expect(picture('joni.sherman')).toMatch(/^data:image\/png;base64,/);
    expect(picture('lee.gu')).toBeUndefined();
    // Northwind does not load photos (the default).
    expect(picture('nadia.north')).toBeUndefined();
  });

  it('with includeTransitiveGroupOwnership, a member of a child group is a member of every group above', () => {
    // Joni is in Payments API, inside Payments, inside Engineering, inside Contoso: the
    // catalog's ownership of a signed-in user is their memberOf relations.
    // All Staff has Contoso as a member, so it is above Joni too.
    expect(memberOf(byName('user', 'joni.sherman'))).toEqual([
      'group:default/all-staff-microsoft-365',
      'group:default/contoso',
      'group:default/engineering',
      'group:default/payments',
      'group:default/payments-api',
    ]);
    // The group tree itself is unchanged.
    expect(
      (byName('group', 'payments-api')?.spec as { parent?: string }).parent,
    ).toBe('payments');
  });
});
