import { stringifyEntityRef } from '@backstage/catalog-model';
import { NotAllowedError } from '@backstage/errors';
import {
  AuthResolverContext,
  createSignInResolverFactory,
  OAuthAuthenticatorResult,
  SignInInfo,
} from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { LoggerService } from '@backstage/backend-plugin-api';
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

/** What the resolvers need besides the resolver context. */
export interface EntraResolverDeps {
  /** Catalog group refs for Entra group object ids (`graph.microsoft.com/group-id`). */
  groupRefs?: (groupIds: string[]) => Promise<string[]>;
  logger?: LoggerService;
}

/** Issues the Backstage token: catalog ownership, plus the groups the token (or Graph) names. */
async function issue(
  ctx: AuthResolverContext,
  deps: EntraResolverDeps,
  info: Info,
  sub: string,
  catalogRefs: string[],
) {
  const { claims, groups } = info.result.fullProfile;
  const groupRefs =
    groups?.length && deps.groupRefs ? await deps.groupRefs(groups) : [];
  return ctx.issueToken({
    claims: {
      sub,
      ent: [...new Set([sub, ...catalogRefs, ...groupRefs])],
      // Kept for the permission policy: Entra identity and app roles.
      entra_oid: claims.oid,
      entra_tid: claims.tid,
      ...(claims.roles?.length ? { entra_roles: claims.roles } : {}),
    },
  });
}

async function issueFor(
  ctx: AuthResolverContext,
  deps: EntraResolverDeps,
  query: Parameters<AuthResolverContext['findCatalogUser']>[0],
  info: Info,
  options: { dangerouslyAllowSignInWithoutUserInCatalog?: boolean } = {},
) {
  const claims = info.result.fullProfile.claims;
  let entity;
  try {
    ({ entity } = await ctx.findCatalogUser(query));
  } catch (e) {
    if (
      (e as Error).name !== 'NotFoundError' ||
      !options.dangerouslyAllowSignInWithoutUserInCatalog
    ) {
      if ((e as Error).name === 'NotFoundError') {
        throw new NotAllowedError(
          `Sign-in refused: no catalog user has ${USER_ID_ANNOTATION} ${claims.oid}. The org sync has not brought this user in yet, or they are filtered out.`,
        );
      }
      throw e;
    }
    const name = (claims.preferred_username ?? claims.oid)
      .split('@')[0]
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '_');
    const sub = stringifyEntityRef({
      kind: 'User',
      namespace: 'default',
      name,
    });
    deps.logger?.warn(
      `Signing in ${sub} (oid ${claims.oid}, tenant ${claims.tid}) who is not in the catalog, because dangerouslyAllowSignInWithoutUserInCatalog is set; ownership comes from their Entra groups only`,
    );
    return issue(ctx, deps, info, sub, []);
  }
  const tenant = entity.metadata.annotations?.[TENANT_ID_ANNOTATION];
  if (tenant && tenant.toLowerCase() !== claims.tid.toLowerCase()) {
    throw new NotAllowedError(
      `Sign-in refused: the catalog user ${stringifyEntityRef(
        entity,
      )} belongs to tenant ${tenant}, the token to ${claims.tid}`,
    );
  }
  const { ownershipEntityRefs } = await ctx.resolveOwnershipEntityRefs(entity);
  return issue(
    ctx,
    deps,
    info,
    stringifyEntityRef(entity),
    ownershipEntityRefs,
  );
}

const userIdOptions = z
  .object({
    dangerouslyAllowSignInWithoutUserInCatalog: z.boolean().optional(),
  })
  .optional();

const domainOptions = z
  .object({
    verifiedDomains: z.array(z.string()).optional(),
    allowedDomains: z.array(z.string()).optional(),
  })
  .optional();

/** Sign-in resolvers for Entra ID, safe by default: identity is the object id and tenant id. */
export function createEntraSignInResolvers(deps: EntraResolverDeps = {}) {
  /** A resolver that looks the user up by their verified email; `query` says where. */
  const byVerifiedEmail = (
    query: (
      email: string,
    ) => Parameters<AuthResolverContext['findCatalogUser']>[0],
  ) =>
    createSignInResolverFactory<Result, typeof domainOptions>({
      optionsSchema: domainOptions,
      create(options = {}) {
        return async (info: Info, ctx) => {
          const claims = info.result.fullProfile.claims;
          const email = verifiedEmail(claims, options.verifiedDomains);
          return issueFor(ctx, deps, query(email), info);
        };
      },
    });

  return {
    /**
     * Matches `graph.microsoft.com/user-id` = `oid` (and `graph.microsoft.com/tenant-id` =
     * `tid` where set). The default.
     */
    userIdMatchingUserEntityAnnotation: createSignInResolverFactory<
      Result,
      typeof userIdOptions
    >({
      optionsSchema: userIdOptions,
      create(options = {}) {
        return async (info: Info, ctx) => {
          const { oid } = info.result.fullProfile.claims;
          return issueFor(
            ctx,
            deps,
            { annotations: { [USER_ID_ANNOTATION]: oid } },
            info,
            options,
          );
        };
      },
    }),

    /** Matches `microsoft.com/email` against a verified email. */
    emailMatchingUserEntityAnnotation: byVerifiedEmail(email => ({
      annotations: { [EMAIL_ANNOTATION]: email },
    })),

    /** Matches `spec.profile.email` against a verified email. */
    emailMatchingUserEntityProfileEmail: byVerifiedEmail(email => ({
      filter: { 'spec.profile.email': email },
    })),

    /**
     * Matches the entity name against the local part of a verified email in `allowedDomains`
     * (required).
     */
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
          return issueFor(ctx, deps, { entityRef: { name: local } }, info);
        };
      },
    }),
  };
}

/** The resolvers without catalog group lookups (ownership from the catalog only). */
export const entraSignInResolvers = createEntraSignInResolvers();
