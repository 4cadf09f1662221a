import {
  catalogEntityCreatePermission,
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
  catalogEntityRefreshPermission,
  catalogLocationDeletePermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import {
  component,
  contosoEntities,
  group,
  IDS,
  makePolicy,
  queryUser,
  user,
  userWithToken,
} from './__testUtils__/org';

const JONI = 'user:default/joni.sherman';
const LIDIA = 'user:default/lidia.holloway';
const PAYMENTS_LEDGER = 'component:default/payments-ledger';

describe('safe defaults', () => {
  const { policy, events } = makePolicy({});

  it('lets every signed-in user read the catalog', async () => {
    const decision = await policy.handle(
      { permission: catalogEntityReadPermission },
      queryUser(LIDIA),
    );
    expect(decision).toEqual({ result: AuthorizeResult.ALLOW });
  });

  it('lets owners unregister and refresh what they own, through nested groups', async () => {
    for (const permission of [
      catalogEntityDeletePermission,
      catalogEntityRefreshPermission,
    ]) {
      const decision = await policy.handle({ permission }, queryUser(JONI));
      expect(decision).toMatchObject({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          params: {
            // Payments API, its parent Payments and grandparent Engineering.
            claims: [
              JONI,
              'group:default/engineering',
              'group:default/payments',
              'group:default/payments-api',
            ],
          },
        },
      });
    }
    const owner = await policy.explain({
      userEntityRef: JONI,
      permission: catalogEntityDeletePermission,
      resourceRef: PAYMENTS_LEDGER,
    });
    expect(owner.result).toBe('ALLOW');
    expect(owner.reason).toMatch(/role owner, rule 0/);
    const other = await policy.explain({
      userEntityRef: LIDIA,
      permission: catalogEntityDeletePermission,
      resourceRef: PAYMENTS_LEDGER,
    });
    expect(other.result).toBe('DENY');
    expect(other.reason).toMatch(/the user does not own it/);
  });

  it('denies what no rule allows, and audits denied writes', async () => {
    events.length = 0;
    for (const permission of [
      catalogEntityCreatePermission,
      catalogLocationDeletePermission,
    ]) {
      expect(await policy.handle({ permission }, queryUser(JONI))).toEqual({
        result: AuthorizeResult.DENY,
      });
    }
    expect(events).toEqual([
      expect.objectContaining({
        eventId: 'permission-denied',
        outcome: 'fail',
        meta: expect.objectContaining({
          user: JONI,
          permission: 'catalog.entity.create',
          action: 'create',
          rule: 'none matched (deny by default)',
          roles: ['signed-in', 'owner'],
        }),
      }),
      expect.objectContaining({
        meta: expect.objectContaining({
          permission: 'catalog.location.delete',
        }),
      }),
    ]);
  });

  it('denies requests without a signed-in user', async () => {
    expect(
      await policy.handle({ permission: catalogEntityReadPermission }),
    ).toEqual({ result: AuthorizeResult.DENY });
  });

  it('with defaults off, denies even reading', async () => {
    const bare = makePolicy({ rbac: { defaults: false } });
    expect(
      await bare.policy.handle(
        { permission: catalogEntityReadPermission },
        queryUser(JONI),
      ),
    ).toEqual({ result: AuthorizeResult.DENY });
  });
});

describe('members', () => {
  const everything = [{ permission: '*' }];
  const roleWith = (member: object) => ({
    roles: [{ name: 'r', members: [member], rules: everything }],
  });
  const allowed = async (rbac: object, credentials?: any, who = JONI) => {
    const { policy } = makePolicy({ rbac });
    const d = await policy.handle(
      { permission: catalogEntityCreatePermission },
      queryUser(who, credentials),
    );
    return d.result === AuthorizeResult.ALLOW;
  };

  it('a user ref', async () => {
    expect(await allowed(roleWith({ user: JONI }))).toBe(true);
    expect(await allowed(roleWith({ user: LIDIA }))).toBe(false);
  });

  it('a user who gains a role only through a grandparent group', async () => {
    // Joni is in Payments API, in Payments, in Engineering; the role names Engineering.
    expect(
      await allowed(roleWith({ group: 'group:default/engineering' })),
    ).toBe(true);
    expect(
      await allowed(roleWith({ entraGroup: IDS.engineering.toUpperCase() })),
    ).toBe(true);
    // Lidia (Web, in Engineering) too; nobody through a sibling.
    expect(
      await allowed(
        roleWith({ group: 'group:default/payments' }),
        undefined,
        LIDIA,
      ),
    ).toBe(false);
  });

  it('an Entra user object id', async () => {
    expect(await allowed(roleWith({ entraUser: IDS.joni }))).toBe(true);
    expect(await allowed(roleWith({ entraUser: IDS.lidia }))).toBe(false);
  });

  it("an app role from the token's roles claim", async () => {
    const rbac = roleWith({ appRole: 'Portal.Admin' });
    expect(
      await allowed(
        rbac,
        userWithToken(JONI, { entra_roles: ['Portal.Admin'] }),
      ),
    ).toBe(true);
    expect(
      await allowed(
        rbac,
        userWithToken(JONI, { entra_roles: ['Catalog.Editor'] }),
      ),
    ).toBe(false);
    expect(await allowed(rbac)).toBe(false);
  });

  it('the built-in admin role through admins', async () => {
    expect(
      await allowed({ admins: [{ group: 'group:default/payments' }] }),
    ).toBe(true);
  });
});

describe('a group renamed in Entra', () => {
  // After the rename the org sync writes the group under a new name, same object id.
  const renamed = contosoEntities().map(e => {
    if (e.metadata.name === 'payments') {
      return group('payments-and-billing', IDS.payments, ['engineering']);
    }
    if (e.metadata.name === 'payments-api') {
      return group('payments-api', IDS.paymentsApi, ['payments-and-billing']);
    }
    return e;
  });
  const rbac = (member: object) => ({
    roles: [
      {
        name: 'payments-editors',
        members: [member],
        rules: [{ permission: '*' }],
      },
    ],
  });

  it('keeps its role when the role names its object id', async () => {
    for (const entities of [contosoEntities(), renamed]) {
      const { policy } = makePolicy({
        entities,
        rbac: rbac({ entraGroup: IDS.payments }),
      });
      const explained = await policy.explain({
        userEntityRef: JONI,
        permission: catalogEntityCreatePermission,
      });
      expect(explained.result).toBe('ALLOW');
    }
    const { policy } = makePolicy({
      entities: renamed,
      rbac: rbac({ entraGroup: IDS.payments }),
    });
    const explained = await policy.explain({
      userEntityRef: JONI,
      permission: catalogEntityCreatePermission,
    });
    expect(explained.reason).toContain(
      `Entra group ${IDS.payments} (today group:default/payments-and-billing)`,
    );
  });

  it('loses it when the role names the old entity (why object ids are the key)', async () => {
    const { policy } = makePolicy({
      entities: renamed,
      rbac: rbac({ group: 'group:default/payments' }),
    });
    const explained = await policy.explain({
      userEntityRef: JONI,
      permission: catalogEntityCreatePermission,
    });
    expect(explained.result).toBe('DENY');
  });
});

describe('rules', () => {
  const decide = async (rule: object, permission: any) => {
    const { policy } = makePolicy({
      rbac: {
        defaults: false,
        roles: [{ name: 'r', members: [{ user: JONI }], rules: [rule] }],
      },
    });
    return (await policy.handle({ permission }, queryUser(JONI))).result;
  };

  it('by permission name, exact or with a trailing *', async () => {
    const rule = { permission: 'catalog.entity.delete' };
    expect(await decide(rule, catalogEntityDeletePermission)).toBe('ALLOW');
    expect(await decide(rule, catalogEntityRefreshPermission)).toBe('DENY');
    const glob = { permission: ['catalog.location.*'] };
    expect(await decide(glob, catalogLocationDeletePermission)).toBe('ALLOW');
    expect(await decide(glob, catalogEntityDeletePermission)).toBe('DENY');
  });

  it('by resource type', async () => {
    const rule = { resourceType: 'catalog-entity' };
    expect(await decide(rule, catalogEntityReadPermission)).toBe('ALLOW');
    // catalog.entity.create is a basic permission: no resource type.
    expect(await decide(rule, catalogEntityCreatePermission)).toBe('DENY');
  });

  it('by action', async () => {
    const rule = { actions: ['delete'] };
    expect(await decide(rule, catalogEntityDeletePermission)).toBe('ALLOW');
    expect(await decide(rule, catalogLocationDeletePermission)).toBe('ALLOW');
    expect(await decide(rule, catalogEntityRefreshPermission)).toBe('DENY');
    const other = createPermission({ name: 'x.y', attributes: {} });
    expect(await decide(rule, other)).toBe('DENY');
  });

  it('all selectors of a rule must match', async () => {
    const rule = { resourceType: 'catalog-entity', actions: ['update'] };
    expect(await decide(rule, catalogEntityRefreshPermission)).toBe('ALLOW');
    expect(await decide(rule, catalogEntityDeletePermission)).toBe('DENY');
    expect(await decide(rule, catalogLocationDeletePermission)).toBe('DENY');
  });
});

describe('conditions', () => {
  const entities = [
    ...contosoEntities(),
    component('payments-sandbox', 'group:default/payments', {
      namespace: 'labs',
    }),
  ];
  /** The decision for Joni deleting each entity under one conditional rule. */
  const outcomes = async (conditions: object) => {
    const { policy } = makePolicy({
      entities,
      rbac: {
        defaults: false,
        roles: [
          {
            name: 'r',
            members: [{ user: JONI }],
            rules: [
              {
                resourceType: 'catalog-entity',
                actions: ['delete'],
                conditions,
              },
            ],
          },
        ],
      },
    });
    const out: Record<string, string> = {};
    for (const ref of [
      PAYMENTS_LEDGER,
      'component:default/contoso-web',
      'component:labs/sandbox',
      'component:labs/payments-sandbox',
      'group:default/web',
    ]) {
      out[ref] = (
        await policy.explain({
          userEntityRef: JONI,
          permission: catalogEntityDeletePermission,
          resourceRef: ref,
        })
      ).result;
    }
    return out;
  };

  it('owner, through nested groups', async () => {
    expect(await outcomes({ owner: true })).toEqual({
      [PAYMENTS_LEDGER]: 'ALLOW',
      'component:default/contoso-web': 'DENY',
      'component:labs/sandbox': 'DENY',
      'component:labs/payments-sandbox': 'ALLOW',
      'group:default/web': 'DENY',
    });
  });

  it('kind', async () => {
    expect(await outcomes({ kinds: ['group'] })).toMatchObject({
      [PAYMENTS_LEDGER]: 'DENY',
      'group:default/web': 'ALLOW',
    });
  });

  it('namespace', async () => {
    expect(await outcomes({ namespaces: ['labs'] })).toEqual({
      [PAYMENTS_LEDGER]: 'DENY',
      'component:default/contoso-web': 'DENY',
      'component:labs/sandbox': 'ALLOW',
      'component:labs/payments-sandbox': 'ALLOW',
      'group:default/web': 'DENY',
    });
  });

  it('annotation, with or without a value', async () => {
    expect(
      await outcomes({
        annotations: [{ key: 'contoso.example/tier', value: 'gold' }],
      }),
    ).toMatchObject({
      [PAYMENTS_LEDGER]: 'ALLOW',
      'group:default/web': 'DENY',
    });
    expect(
      await outcomes({
        annotations: [{ key: 'contoso.example/tier', value: 'silver' }],
      }),
    ).toMatchObject({ [PAYMENTS_LEDGER]: 'DENY' });
    expect(
      await outcomes({ annotations: ['graph.microsoft.com/group-id'] }),
    ).toMatchObject({
      [PAYMENTS_LEDGER]: 'DENY',
      'group:default/web': 'ALLOW',
    });
  });

  it('tag', async () => {
    expect(await outcomes({ tags: ['react', 'vue'] })).toMatchObject({
      [PAYMENTS_LEDGER]: 'DENY',
      'component:default/contoso-web': 'ALLOW',
    });
  });

  it('several conditions must all hold', async () => {
    expect(await outcomes({ owner: true, namespaces: ['labs'] })).toEqual({
      [PAYMENTS_LEDGER]: 'DENY',
      'component:default/contoso-web': 'DENY',
      'component:labs/sandbox': 'DENY',
      'component:labs/payments-sandbox': 'ALLOW',
      'group:default/web': 'DENY',
    });
  });

  it('become catalog criteria the catalog filters with', async () => {
    const { policy } = makePolicy({
      rbac: {
        defaults: false,
        roles: [
          {
            name: 'r',
            members: [{ user: JONI }],
            rules: [
              {
                resourceType: 'catalog-entity',
                conditions: { kinds: ['Component'], tags: ['a', 'b'] },
              },
            ],
          },
        ],
      },
    });
    const decision = await policy.handle(
      { permission: catalogEntityReadPermission },
      queryUser(JONI),
    );
    expect(decision).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        allOf: [
          {
            rule: 'IS_ENTITY_KIND',
            resourceType: 'catalog-entity',
            params: { kinds: ['Component'] },
          },
          {
            anyOf: [
              {
                rule: 'HAS_METADATA',
                resourceType: 'catalog-entity',
                params: { key: 'tags', value: 'a' },
              },
              {
                rule: 'HAS_METADATA',
                resourceType: 'catalog-entity',
                params: { key: 'tags', value: 'b' },
              },
            ],
          },
        ],
      },
    });
  });
});

describe('group lookups', () => {
  it('a batch of 100 decisions reads the catalog once per nesting level', async () => {
    const { policy, catalog } = makePolicy({});
    const spy = jest.spyOn(catalog, 'getEntitiesByRefs');
    await Promise.all(
      Array.from({ length: 100 }, () =>
        policy.handle(
          { permission: catalogEntityDeletePermission },
          queryUser(JONI),
        ),
      ),
    );
    // The user, then Payments API, Payments, Engineering.
    expect(spy).toHaveBeenCalledTimes(4);
  });

  it('for a user in many groups, sends only the groups that own something', async () => {
    // Joni in 40 nested groups (a chain), two of which own a component.
    const chain = Array.from({ length: 40 }, (_, i) =>
      group(
        `g${i}`,
        `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        i < 39 ? [`g${i + 1}`] : [],
      ),
    );
    const { policy } = makePolicy({
      entities: [
        ...chain,
        user('joni.sherman', IDS.joni, ['g0']),
        component('a', 'group:default/g3'),
        component('b', 'group:default/g39'),
      ],
    });
    const decision = await policy.handle(
      { permission: catalogEntityDeletePermission },
      queryUser(JONI),
    );
    expect(decision).toMatchObject({
      conditions: {
        rule: 'IS_ENTITY_OWNER',
        params: { claims: [JONI, 'group:default/g3', 'group:default/g39'] },
      },
    });
    const explained = await policy.explain({
      userEntityRef: JONI,
      permission: catalogEntityDeletePermission,
      resourceRef: 'component:default/b',
    });
    expect(explained.result).toBe('ALLOW');
    expect(explained.identity.groupRefs).toHaveLength(40);
  });

  it('copes with a cycle in the group graph', async () => {
    const entities = [
      group('a', IDS.payments, ['b']),
      group('b', IDS.web, ['a']),
      user('joni.sherman', IDS.joni, ['a']),
    ];
    const { policy } = makePolicy({
      entities,
      rbac: { admins: [{ entraGroup: IDS.web }] },
    });
    expect(
      (
        await policy.handle(
          { permission: catalogEntityCreatePermission },
          queryUser(JONI),
        )
      ).result,
    ).toBe('ALLOW');
  });
});

describe('the roles view', () => {
  it('lists members resolved through nesting', async () => {
    const { policy } = makePolicy({
      rbac: {
        admins: [{ entraGroup: IDS.engineering }],
        roles: [
          {
            name: 'payments',
            members: [{ group: 'group:default/payments' }, { appRole: 'X' }],
            rules: [{ permission: 'a.b' }],
          },
        ],
      },
    });
    const roles = await policy.roles();
    expect(roles.map(r => r.name)).toEqual([
      'signed-in',
      'owner',
      'admin',
      'payments',
    ]);
    expect(roles[2].members[0]).toMatchObject({
      label: `Entra group ${IDS.engineering}: group:default/engineering (engineering)`,
      users: [JONI, LIDIA],
    });
    expect(roles[3].members[0].users).toEqual([JONI]);
    expect(roles[3].members[1].note).toMatch(/assigned in Entra/);
  });
});
