import { TestDatabases } from '@backstage/backend-test-utils';
import { Entity, GroupEntity, UserEntity } from '@backstage/catalog-model';
import { defaultTenantFile, loadTenantFile } from '@gatehouse/entra-emulator';
import { composeGroupFilter } from './filter';
import { APP_ID, SyncHarness } from './__testUtils__/syncHarness';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('group filter shorthands', () => {
  it('compose with group.filter; every part must hold', () => {
    expect(composeGroupFilter(undefined, {})).toBeUndefined();
    expect(
      composeGroupFilter('mailEnabled eq true', {
        securityGroupsOnly: true,
        displayNamePrefixes: ['team-', "o'neil"],
      }),
    ).toBe(
      "(mailEnabled eq true) and securityEnabled eq true and (startswith(displayName, 'team-') or startswith(displayName, 'o''neil'))",
    );
  });
});

describe('what a round adds to the directory, over delta rounds', () => {
  let h: SyncHarness;
  beforeEach(async () => {
    h = await SyncHarness.start({
      tenants: loadTenantFile(defaultTenantFile),
      db: await databases.init('SQLITE_3'),
    });
  });
  afterEach(() => h.close());

  const groupId = (displayName: string) =>
    h.tenant.listGroups().find(g => g.displayName === displayName)!.id;
  const entity = <T extends Entity>(
    entities: Map<string, Entity>,
    ref: string,
  ) => entities.get(ref) as T | undefined;

  it('groups assigned to the app: a new assignment brings its group in on the next round', async () => {
    const { provider, catalog } = await h.provider({
      groupAssignedToApp: APP_ID,
    });
    await provider.read();
    const groups = () =>
      [...catalog.entities.values()]
        .filter(e => e.kind === 'Group')
        .map(e => e.metadata.name)
        .sort();
    expect(groups()).toEqual(['gatehouse-admins', 'platform']);

    // An admin assigns Payments to the app: no group or user changed, yet the catalog must.
    const app = h.tenant.getApplication(APP_ID)!;
    app.appRoleAssignments.push({
      principalId: groupId('Payments'),
      appRoleId: app.appRoles[0].id,
    });
    const summary = await provider.read();
    expect(summary.kind).toBe('delta');
    expect(groups()).toEqual(['gatehouse-admins', 'payments', 'platform']);
    expect(
      entity<UserEntity>(catalog.entities, 'user:default/isaiah.langer')?.spec
        .memberOf,
    ).toEqual(['payments']);
  });

  it('transitive memberships follow a change of nesting far above the user', async () => {
    const { provider, catalog } = await h.provider({
      includeTransitiveGroupOwnership: true,
    });
    await provider.read();
    const joni = () =>
      entity<UserEntity>(catalog.entities, 'user:default/joni.sherman')?.spec
        .memberOf;
    expect(joni()).toEqual([
      'all-staff-microsoft-365',
      'contoso',
      'engineering',
      'payments',
      'payments-api',
    ]);
    // Payments leaves Engineering: Joni is two levels below, and not in the delta.
    h.tenant.removeMember(groupId('Engineering'), groupId('Payments'));
    await provider.read();
    expect(joni()).toEqual(['payments', 'payments-api']);
  });

  it('transformers: a renamed group is renamed in every reference, a dropped user leaves its groups', async () => {
    const { provider, catalog } = await h.provider({
      transformers: {
        user: [(e, u) => (u.displayName === 'Lee Gu' ? undefined : e)],
        group: [
          (e, g) => {
            if (g.displayName === 'Payments API')
              e.metadata.name = 'team-payments-api';
            return e;
          },
        ],
      },
    });
    await provider.read();
    const e = catalog.entities;
    expect(e.get('user:default/lee.gu')).toBeUndefined();
    expect(e.get('group:default/payments-api')).toBeUndefined();
    const team = entity<GroupEntity>(e, 'group:default/team-payments-api')!;
    expect(team.spec.members).toEqual(['joni.sherman']);
    expect(team.spec.parent).toBe('payments');
    expect(
      entity<GroupEntity>(e, 'group:default/payments')!.spec.children,
    ).toEqual(['team-payments-api']);
    expect(
      entity<UserEntity>(e, 'user:default/joni.sherman')!.spec.memberOf,
    ).toEqual(['team-payments-api']);
  });
});
