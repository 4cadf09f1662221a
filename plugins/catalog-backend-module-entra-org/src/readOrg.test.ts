import {
  defaultTenantFile,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import { GraphClient } from './GraphClient';
import {
  entityName,
  GROUP_ID_ANNOTATION,
  readOrg,
  TENANT_ID_ANNOTATION,
  toEntities,
  USER_ID_ANNOTATION,
} from './readOrg';

const APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';

describe('the full read of the org, over HTTP', () => {
  let running: RunningEmulator;
  let tenantId: string;
  let clientSecret: string;

  beforeAll(async () => {
    running = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
    tenantId = [...running.emulator.tenants.keys()][0];
    clientSecret = running.emulator.addClientSecret(APP_ID).secretText;
  });
  afterAll(() => running.close());

  const client = () =>
    new GraphClient(`${running.url}/v1.0`, {
      authority: running.url,
      tenantId,
      clientId: APP_ID,
      clientSecret,
    });

  it('turns users and nested groups into catalog entities with Graph ids', async () => {
    const entities = toEntities(await readOrg(client(), tenantId), 'test');
    const byName = new Map(
      entities.map(e => [`${e.kind}:${e.metadata.name}`, e]),
    );
    const tenant = running.emulator.tenants.get(tenantId)!;

    const alex = byName.get('User:alex.wilber')!;
    expect(alex.metadata.annotations![USER_ID_ANNOTATION]).toBe(
      tenant.getUser('alex.wilber@contoso.example')!.id,
    );
    expect(alex.metadata.annotations![TENANT_ID_ANNOTATION]).toBe(tenantId);
    expect(alex.spec).toMatchObject({
      profile: {
        displayName: 'Alex Wilber',
        email: 'alex.wilber@contoso.example',
      },
    });
    expect((alex.spec as any).memberOf).toEqual(
      expect.arrayContaining(['platform', 'gatehouse-admins']),
    );

    // The disabled user is left out; the guest gets a valid entity name.
    expect(byName.has('User:debra.berger')).toBe(false);
    expect(
      [...byName.keys()].some(k =>
        k.startsWith('User:casey.jordan_fabrikam.example'),
      ),
    ).toBe(true);
    expect(
      entities.every(e =>
        /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/.test(e.metadata.name),
      ),
    ).toBe(true);

    const paymentsApi = byName.get('Group:payments-api')!;
    expect(paymentsApi.metadata.annotations![GROUP_ID_ANNOTATION]).toMatch(
      /^[0-9a-f-]{36}$/,
    );
    expect(paymentsApi.spec).toMatchObject({
      parent: 'payments',
      members: ['joni.sherman', 'lee.gu'],
    });
    expect((byName.get('Group:engineering')!.spec as any).children).toEqual([
      'payments',
      'platform',
      'web',
    ]);
    expect(byName.get('Group:all-staff-microsoft-365')!.spec).toMatchObject({
      type: 'microsoft365',
    });
    expect(entities.filter(e => e.kind === 'User')).toHaveLength(19);
  });
});

describe('entity names', () => {
  it('are valid and unique when Graph names collide', () => {
    const taken = new Set<string>();
    expect(entityName('Jo.Smith', taken)).toBe('jo.smith');
    expect(entityName('jo.smith', taken)).toBe('jo.smith-2');
    expect(entityName('#EXT#weird name!', taken)).toBe('ext_weird_name');
    expect(entityName('___', taken)).toBe('unnamed');
    expect(entityName('x'.repeat(100), taken)).toHaveLength(58);
  });
});
