import { stringifyEntityRef } from '@backstage/catalog-model';
import { NotAllowedError } from '@backstage/errors';
import {
  AuthResolverContext,
  createSignInResolverFactory,
  OAuthAuthenticatorResult,
  SignInInfo,
} from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { EntraAuthResult, EntraClaims } from './authenticator';

type Info = SignInInfo<OAuthAuthenticatorResult<EntraAuthResult>>;
type Result = OAuthAuthenticatorResult<EntraAuthResult>;

export const USER_ID_ANNOTATION = 'graph.microsoft.com/user-id';
export const TENANT_ID_ANNOTATION = 'graph.microsoft.com/tenant-id';
export const EMAIL_ANNOTATION = 'microsoft.com/email';

/**
 * The email of a token, only when Entra says its domain is verified by the tenant (`xms_edov`)
 * or the domain is in `verifiedDomains`. An unverified email can be set by the user
 * ("nOAuth") and must not link accounts.
 */
export function verifiedEmail(
  claims: EntraClaims,
  verifiedDomains: string[] = [],
): string {
  const email = claims.email;
  if (!email) {
    throw new NotAllowedError(
      'Sign-in refused: the ID token carries no email. Add the optional claim "email" (and "xms_edov") to the app registration, or use the object id resolver.',
    );
  }
  const domain = email.split('@')[1]?.toLowerCase();
  const listed = verifiedDomains.map(d => d.toLowerCase()).includes(domain);
  if (claims.xms_edov !== true && !listed) {
    throw new NotAllowedError(
      `Sign-in refused: the email ${email} is not verified by the tenant (xms_edov is ${String(
        claims.xms_edov ?? 'missing',
      )}). Sign in with an account whose email domain the tenant has verified, or list the domain in verifiedDomains.`,
    );
  }
  return email;
}

async function issueFor(
  ctx: AuthResolverContext,
  query: Parameters<AuthResolverContext['findCatalogUser']>[0],
  claims: EntraClaims,
) {
  const { entity } = await ctx.findCatalogUser(query);
  const tenant = entity.metadata.annotations?.[TENANT_ID_ANNOTATION];
  if (tenant && tenant.toLowerCase() !== claims.tid.toLowerCase()) {
    throw new NotAllowedError(
      `Sign-in refused: the catalog user ${stringifyEntityRef(
        entity,
      )} belongs to tenant ${tenant}, the token to ${claims.tid}`,
    );
  }
  const { ownershipEntityRefs } = await ctx.resolveOwnershipEntityRefs(entity);
  return ctx.issueToken({
    claims: { sub: stringifyEntityRef(entity), ent: ownershipEntityRefs },
  });
}

const domainOptions = z
  .object({
    verifiedDomains: z.array(z.string()).optional(),
    allowedDomains: z.array(z.string()).optional(),
  })
  .optional();

/** Sign-in resolvers for Entra ID, safe by default: identity is the object id and tenant id. */
export const entraSignInResolvers = {
  /** Matches `graph.microsoft.com/user-id` = `oid` (and `graph.microsoft.com/tenant-id` = `tid` where set). The default. */
  userIdMatchingUserEntityAnnotation: createSignInResolverFactory<Result>({
    create() {
      return async (info: Info, ctx) => {
        const claims = info.result.fullProfile.claims;
        return issueFor(
          ctx,
          { annotations: { [USER_ID_ANNOTATION]: claims.oid } },
          claims,
        );
      };
    },
  }),

  /** Matches `microsoft.com/email` against a verified email. */
  emailMatchingUserEntityAnnotation: createSignInResolverFactory<
    Result,
    typeof domainOptions
  >({
    optionsSchema: domainOptions,
    create(options = {}) {
      return async (info: Info, ctx) => {
        const claims = info.result.fullProfile.claims;
        const email = verifiedEmail(claims, options.verifiedDomains);
        return issueFor(
          ctx,
          { annotations: { [EMAIL_ANNOTATION]: email } },
          claims,
        );
      };
    },
  }),

  /** Matches `spec.profile.email` against a verified email. */
  emailMatchingUserEntityProfileEmail: createSignInResolverFactory<
    Result,
    typeof domainOptions
  >({
    optionsSchema: domainOptions,
    create(options = {}) {
      return async (info: Info, ctx) => {
        const claims = info.result.fullProfile.claims;
        const email = verifiedEmail(claims, options.verifiedDomains);
        return issueFor(
          ctx,
          { filter: { 'spec.profile.email': email } },
          claims,
        );
      };
    },
  }),

  /** Matches the entity name against the local part of a verified email in `allowedDomains` (required). */
  emailLocalPartMatchingUserEntityName: createSignInResolverFactory<
    Result,
    typeof domainOptions
  >({
    optionsSchema: domainOptions,
    create(options = {}) {
      if (!options.allowedDomains?.length) {
        throw new Error(
          'The emailLocalPartMatchingUserEntityName resolver needs allowedDomains: without it, alice@any-domain would sign in as user:alice',
        );
      }
      const allowed = options.allowedDomains.map(d => d.toLowerCase());
      return async (info: Info, ctx) => {
        const claims = info.result.fullProfile.claims;
        const email = verifiedEmail(claims, options.verifiedDomains);
        const [local, domain] = email.split('@');
        if (!allowed.includes(domain.toLowerCase())) {
          throw new NotAllowedError(
            `Sign-in refused: ${domain} is not one of the allowed domains`,
          );
        }
        return issueFor(ctx, { entityRef: { name: local } }, claims);
      };
    },
  }),
};
