import { defaultTenantFile } from '../paths';
import {
  loadTenantFile,
  parseTenants,
  stableGuid,
  TenantFileError,
} from './loadTenants';

describe('tenant files', () => {
  it('loads the seeded Contoso tenant with the people the docs promise', () => {
    const [contoso] = loadTenantFile(defaultTenantFile);
    expect(contoso.users.length).toBeGreaterThanOrEqual(18);
    const guest = contoso.users.find(u => u.userType === 'Guest')!;
    expect(guest.emailVerified).toBe(false);
    expect(contoso.users.filter(u => !u.accountEnabled)).toHaveLength(1);
    const morgan = contoso.users.find(u => u.displayName === 'Morgan Lee')!;
    const groupsOfMorgan = contoso.groups.filter(g =>
      g.members.includes(morgan.id),
    );
    expect(groupsOfMorgan.length).toBeGreaterThan(200);
    expect(
      contoso.groups.find(g => g.displayName === 'Gatehouse Admins'),
    ).toBeDefined();
    const payments = contoso.groups.find(g => g.displayName === 'Payments')!;
    const paymentsApi = contoso.groups.find(
      g => g.displayName === 'Payments API',
    )!;
    expect(payments.members).toContain(paymentsApi.id);
  });

  it('derives the same object ids on every load', () => {
    const a = loadTenantFile(defaultTenantFile)[0];
    const b = loadTenantFile(defaultTenantFile)[0];
    expect(a.users.map(u => u.id)).toEqual(b.users.map(u => u.id));
    expect(stableGuid('x')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it.each([
    ['not yaml: [', /not valid YAML/],
    ['tenants: []', /non-empty "tenants"/],
    [
      'tenants: [{ id: not-a-guid, domains: [a.example] }]',
      /tenants\[0\]\.id must be a GUID/,
    ],
    [
      'tenants: [{ id: 5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11 }]',
      /tenants\[0\]\.domains is required/,
    ],
    [
      'tenants: [{ id: 5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11, domains: [a.example], groups: [{ displayName: G, members: [nobody@a.example] }] }]',
      /"nobody@a.example" is neither a user/,
    ],
  ])('refuses a malformed file (%s) naming the key', (text, message) => {
    expect(() => parseTenants(text, 'test.yaml')).toThrow(TenantFileError);
    expect(() => parseTenants(text, 'test.yaml')).toThrow(message);
  });
});

describe('client secrets in tenant files', () => {
  const tenant = (creds: string) => `
tenants:
  - id: 5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11
    domains: [a.example]
    applications:
      - displayName: App
        appId: 3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82
        passwordCredentials: [${creds}]
`;

  it('takes a hash or an environment variable, with an expiry date', () => {
    process.env.TEST_EMULATOR_SECRET = 'from-the-environment';
    const [t] = parseTenants(
      tenant(
        `{ secretEnv: TEST_EMULATOR_SECRET, endDateTime: '2030-01-01T00:00:00Z' }, { secretHash: '${'a'.repeat(
          64,
        )}', endDateTime: '2020-06-01T00:00:00Z' }`,
      ),
    );
    const creds = t.applications[0].passwordCredentials;
    expect(creds).toHaveLength(2);
    expect(creds[0].endDateTime).toBe('2030-01-01T00:00:00Z');
    expect(creds[0].secretHash).not.toContain('from-the-environment');
    expect(creds[1].secretHash).toBe('a'.repeat(64));
  });

  it('refuses a secret written in the file, and a credential with no expiry', () => {
    expect(() =>
      parseTenants(
        tenant(
          `{ secretText: hunter2, secretHash: '${'a'.repeat(
            64,
          )}', endDateTime: '2030-01-01T00:00:00Z' }`,
        ),
      ),
    ).toThrow(/never written in tenant files/);
    expect(() =>
      parseTenants(tenant(`{ secretHash: '${'a'.repeat(64)}' }`)),
    ).toThrow(/endDateTime is required/);
    expect(() =>
      parseTenants(
        tenant(
          `{ secretEnv: NOT_SET_ANYWHERE_42, endDateTime: '2030-01-01T00:00:00Z' }`,
        ),
      ),
    ).toThrow(/is not set/);
  });
});
