import { NotAllowedError } from '@backstage/errors';
import {
  createEntraSignInResolvers,
  entraSignInResolvers,
  verifiedEmail,
} from './resolvers';
import { EntraClaims } from './authenticator';

const claims = (extra: Partial<EntraClaims>): EntraClaims => ({
  oid: '11111111-1111-1111-1111-111111111111',
  tid: '22222222-2222-2222-2222-222222222222',
  sub: 'pairwise',
  ...extra,
});

describe('verifiedEmail', () => {
  it('accepts an email whose domain the tenant verified (xms_edov true)', () => {
    expect(
      verifiedEmail(claims({ email: 'a@contoso.example', xms_edov: true })),
    ).toBe('a@contoso.example');
  });

  it('refuses an unverified or unmarked email, explaining why (nOAuth)', () => {
    expect(() =>
      verifiedEmail(claims({ email: 'ceo@victim.example', xms_edov: false })),
    ).toThrow(NotAllowedError);
    expect(() =>
      verifiedEmail(claims({ email: 'ceo@victim.example' })),
    ).toThrow(/not verified by the tenant \(xms_edov is missing\)/);
    expect(() => verifiedEmail(claims({}))).toThrow(/carries no email/);
  });

  it('accepts an unmarked email only in a configured verified domain', () => {
    expect(
      verifiedEmail(claims({ email: 'a@Contoso.example' }), [
        'contoso.example',
      ]),
    ).toBe('a@Contoso.example');
    expect(() =>
      verifiedEmail(claims({ email: 'a@evil.example' }), ['contoso.example']),
    ).toThrow(NotAllowedError);
  });
});

describe('emailLocalPartMatchingUserEntityName', () => {
  it('cannot be configured without allowedDomains', () => {
    expect(() =>
      entraSignInResolvers.emailLocalPartMatchingUserEntityName({}),
    ).toThrow(/needs allowedDomains/);
  });

  it('refuses a verified email outside the allowed domains before looking up anyone', async () => {
    const resolver = entraSignInResolvers.emailLocalPartMatchingUserEntityName({
      allowedDomains: ['contoso.example'],
    });
    const ctx = {
      findCatalogUser: jest.fn(),
      issueToken: jest.fn(),
      resolveOwnershipEntityRefs: jest.fn(),
      signInWithCatalogUser: jest.fn(),
    };
    const info = {
      profile: {},
      result: {
        fullProfile: {
          claims: claims({ email: 'alex@fabrikam.example', xms_edov: true }),
        },
        session: {} as any,
      },
    };
    await expect(resolver(info as any, ctx)).rejects.toThrow(
      /not one of the allowed domains/,
    );
    expect(ctx.findCatalogUser).not.toHaveBeenCalled();
    expect(ctx.issueToken).not.toHaveBeenCalled();
  });
});

describe('userIdMatchingUserEntityAnnotation', () => {
  it('refuses a catalog user of another tenant', async () => {
    const resolver = entraSignInResolvers.userIdMatchingUserEntityAnnotation();
    const entity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: {
        name: 'alex',
        annotations: {
          'graph.microsoft.com/tenant-id':
            '33333333-3333-3333-3333-333333333333',
        },
      },
    };
    const ctx = {
      findCatalogUser: jest.fn().mockResolvedValue({ entity }),
      issueToken: jest.fn(),
      resolveOwnershipEntityRefs: jest.fn(),
      signInWithCatalogUser: jest.fn(),
    };
    const info = {
      profile: {},
      result: { fullProfile: { claims: claims({}) }, session: {} as any },
    };
    await expect(resolver(info as any, ctx)).rejects.toThrow(
      /belongs to tenant 33333333/,
    );
    expect(ctx.findCatalogUser).toHaveBeenCalledWith({
      annotations: {
        'graph.microsoft.com/user-id': '11111111-1111-1111-1111-111111111111',
      },
    });
    expect(ctx.issueToken).not.toHaveBeenCalled();
  });
});

describe('users not in the catalog', () => {
  const notFound = () =>
    Object.assign(new Error('no such user'), { name: 'NotFoundError' });
  const info = (extra: Partial<EntraClaims> = {}, groups?: string[]) => ({
    profile: {},
    result: {
      fullProfile: {
        claims: claims({
          preferred_username: 'new.hire@contoso.example',
          ...extra,
        }),
        groups,
      },
      session: {} as any,
    },
  });

  it('are refused by default, with the reason, and get no token', async () => {
    const ctx = {
      findCatalogUser: jest.fn().mockRejectedValue(notFound()),
      issueToken: jest.fn(),
      resolveOwnershipEntityRefs: jest.fn(),
      signInWithCatalogUser: jest.fn(),
    };
    const resolver = createEntraSignInResolvers(
      {},
    ).userIdMatchingUserEntityAnnotation();
    await expect(resolver(info() as any, ctx)).rejects.toThrow(
      /no catalog user has graph.microsoft.com\/user-id 11111111/,
    );
    expect(ctx.issueToken).not.toHaveBeenCalled();
  });

  it('are signed in with the explicit opt-in, logged, owning what their Entra groups own', async () => {
    const ctx = {
      findCatalogUser: jest.fn().mockRejectedValue(notFound()),
      issueToken: jest.fn().mockResolvedValue({ token: 't' }),
      resolveOwnershipEntityRefs: jest.fn(),
      signInWithCatalogUser: jest.fn(),
    };
    const logger = {
      warn: jest.fn(),
      info: jest.fn(),
      error: jest.fn(),
      debug: jest.fn(),
      child: jest.fn(),
    };
    const groupRefs = jest.fn().mockResolvedValue(['group:default/platform']);
    const resolver = createEntraSignInResolvers({
      groupRefs,
      logger: logger as any,
    }).userIdMatchingUserEntityAnnotation({
      dangerouslyAllowSignInWithoutUserInCatalog: true,
    });
    await resolver(info({}, ['g-1']) as any, ctx);
    expect(groupRefs).toHaveBeenCalledWith(['g-1']);
    expect(ctx.issueToken).toHaveBeenCalledWith({
      claims: expect.objectContaining({
        sub: 'user:default/new.hire',
        ent: ['user:default/new.hire', 'group:default/platform'],
      }),
    });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /not in the catalog, because dangerouslyAllowSignInWithoutUserInCatalog is set/,
      ),
    );
  });
});
