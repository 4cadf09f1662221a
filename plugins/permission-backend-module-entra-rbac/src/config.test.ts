import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { catalogEntityCreatePermission } from '@backstage/plugin-catalog-common/alpha';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EntraRbacConfigError, readRbacConfig } from './config';
import { RbacConfigSource } from './source';
import { makePolicy, queryUser } from './__testUtils__/org';

const read = (entraRbac: unknown) =>
  readRbacConfig(new ConfigReader({ permission: { entraRbac } } as any));

function refusal(fn: () => unknown): EntraRbacConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EntraRbacConfigError);
    return e as EntraRbacConfigError;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration errors name the file, the key and the reason', () => {
  it.each([
    [
      {
        roles: [
          {
            name: 'x',
            members: [{ entraGroup: 'Payments' }],
            rules: [{ permission: '*' }],
          },
        ],
      },
      'permission.entraRbac.roles[0].members[0].entraGroup',
      /object id \(a GUID\)/,
    ],
    [
      {
        roles: [
          {
            name: 'x',
            members: [{ group: 'user:default/a' }],
            rules: [{ permission: '*' }],
          },
        ],
      },
      'permission.entraRbac.roles[0].members[0].group',
      /must be a group entity ref, not user/,
    ],
    [
      {
        roles: [
          {
            name: 'x',
            members: [{ user: 'user:default/a' }],
            rules: [{ permision: '*' }],
          },
        ],
      },
      'permission.entraRbac.roles[0].rules[0].permision',
      /unknown key/,
    ],
    [
      {
        roles: [
          {
            name: 'x',
            members: [{ user: 'a' }],
            rules: [{ actions: ['destroy'] }],
          },
        ],
      },
      'permission.entraRbac.roles[0].rules[0].actions',
      /unknown action destroy/,
    ],
    [
      {
        roles: [
          {
            name: 'x',
            members: [{ user: 'a' }],
            rules: [
              {
                permission: 'catalog.entity.delete',
                conditions: { owner: true },
              },
            ],
          },
        ],
      },
      'permission.entraRbac.roles[0].rules[0].conditions',
      /resourceType: catalog-entity/,
    ],
    [
      {
        roles: [
          {
            name: 'admin',
            members: [{ user: 'a' }],
            rules: [{ permission: '*' }],
          },
        ],
      },
      'permission.entraRbac.roles',
      /role admin is defined twice/,
    ],
    [{ cacheSeconds: 3 }, 'permission.entraRbac.cacheSeconds', /unknown key/],
  ])('%#', (entraRbac, key, reason) => {
    const e = refusal(() => read(entraRbac));
    expect(e.file).toBe('app-config');
    expect(e.key).toBe(key);
    expect(e.reason).toMatch(reason);
    expect(e.message).toBe(`app-config: ${key}: ${e.reason}`);
  });
});

describe('a roles file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rbac-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (text: string) => {
    const file = path.join(dir, 'roles.yaml');
    fs.writeFileSync(file, text);
    return file;
  };
  const good = `roles:
  - name: payments-editors
    members:
      - user: user:default/joni.sherman
    rules:
      - permission: catalog.entity.create
`;

  it('adds its roles to the configuration', () => {
    const file = write(good);
    const config = read({ rolesFile: file });
    expect(config.origin).toBe(file);
    expect(config.roles.map(r => [r.name, r.source])).toEqual([
      ['signed-in', 'default'],
      ['owner', 'default'],
      ['admin', 'default'],
      ['payments-editors', 'file'],
    ]);
  });

  it('refuses a file with a YAML error, saying where', () => {
    const file = write('roles:\n  - name: x\n   members: [\n');
    const e = refusal(() => read({ rolesFile: file }));
    expect(e.code).toBe('ERR_RBAC_FILE_SYNTAX');
    expect(e.file).toBe(file);
    expect(e.key).toMatch(/^line \d+, column \d+$/);
  });

  it('refuses a missing file', () => {
    const e = refusal(() => read({ rolesFile: path.join(dir, 'nope.yaml') }));
    expect(e.code).toBe('ERR_RBAC_FILE_UNREADABLE');
  });

  it('refuses an invalid role, with the key inside the file', () => {
    const file = write(
      good.replace('user: user:default/joni.sherman', 'users: x'),
    );
    const e = refusal(() => read({ rolesFile: file }));
    expect(e.file).toBe(file);
    expect(e.key).toBe('roles[0].members[0]');
    expect(e.reason).toMatch(/exactly one of/);
  });

  it('is reloaded on change; a broken edit keeps the previous policy', async () => {
    const file = write(good);
    const rootConfig = mockServices.rootConfig({
      data: { permission: { entraRbac: { rolesFile: file } } },
    });
    const auditor = mockServices.auditor.mock();
    const audit: { meta?: any; outcome: string }[] = [];
    let audited: () => void = () => {};
    const record = (entry: { meta?: any; outcome: string }) => {
      audit.push(entry);
      audited();
    };
    auditor.createEvent.mockImplementation(async () => ({
      success: async o => record({ meta: o?.meta, outcome: 'success' }),
      fail: async o => record({ meta: o.meta, outcome: 'fail' }),
    }));
    const source = new RbacConfigSource(
      rootConfig,
      mockServices.logger.mock(),
      auditor,
    );
    const { policy } = makePolicy({ config: source.current });
    const canCreate = async () =>
      (
        await policy.handle(
          { permission: catalogEntityCreatePermission },
          queryUser('user:default/joni.sherman'),
        )
      ).result;
    expect(await canCreate()).toBe('ALLOW');
    source.start();
    try {
      // A broken edit: a typo in a key. The file watch reloads; the old policy stays.
      const refused = new Promise<void>(resolve => {
        audited = resolve;
      });
      fs.writeFileSync(file, good.replace('rules:', 'rulez:'));
      await refused;
      expect(audit[0]).toMatchObject({
        outcome: 'fail',
        meta: {
          file,
          key: 'roles[0].rulez',
          kept: 'previous policy',
        },
      });
      expect(source.status().lastReloadError?.message).toContain(file);
      expect(await canCreate()).toBe('ALLOW');

      // A good edit that removes the role takes effect without a restart.
      const changed = new Promise<void>(resolve =>
        source.onChange(() => resolve()),
      );
      fs.writeFileSync(
        file,
        good.replace('catalog.entity.create', 'catalog.location.create'),
      );
      await changed;
      expect(audit[1]).toMatchObject({ outcome: 'success' });
      expect(source.status().lastReloadError).toBeUndefined();
      expect(await canCreate()).toBe('DENY');
    } finally {
      source.stop();
    }
  });

  it('a broken edit of a role that denied cannot allow', async () => {
    // Deny-by-default configuration; the broken file would have granted everything.
    const file = write(good);
    const rootConfig = mockServices.rootConfig({
      data: { permission: { entraRbac: { rolesFile: file } } },
    });
    const source = new RbacConfigSource(
      rootConfig,
      mockServices.logger.mock(),
      mockServices.auditor.mock({
        createEvent: async () => ({
          success: async () => {},
          fail: async () => {},
        }),
      }),
    );
    fs.writeFileSync(
      file,
      `${good}      - permission: '*'\n        conditions: { owner: true }\n`,
    );
    expect(await source.reload('test')).toBe(false);
    const { policy } = makePolicy({ config: source.current });
    const result = await policy.handle(
      {
        permission: {
          type: 'basic',
          name: 'anything.delete',
          attributes: { action: 'delete' },
        },
      },
      queryUser('user:default/joni.sherman'),
    );
    expect(result.result).toBe('DENY');
  });
});
