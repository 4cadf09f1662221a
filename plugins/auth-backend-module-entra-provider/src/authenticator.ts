import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import {
  createOAuthAuthenticator,
  decodeOAuthState,
  OAuthAuthenticatorResult,
} from '@backstage/plugin-auth-node';
import { EntraEmulatorService } from '@gatehouse/plugin-entra-emulator-node';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { BaseClient, custom, errors, Issuer, TokenSet } from 'openid-client';

/** The claims of a validated Entra ID token that Gatehouse uses. */
export interface EntraClaims {
  oid: string;
  tid: string;
  sub: string;
  name?: string;
  preferred_username?: string;
  email?: string;
  xms_edov?: boolean;
  groups?: string[];
  roles?: string[];
  /** Present when the user has more groups than fit in a token. */
  _claim_names?: { groups?: string };
  [claim: string]: unknown;
}

/** The profile a sign-in resolver receives: the validated ID token's claims. */
export interface EntraAuthResult {
  claims: EntraClaims;
}

const PUBLIC_CLOUD = 'https://login.microsoftonline.com';
const DEFAULT_SCOPES = [
  'openid',
  'profile',
  'email',
  'offline_access',
  'User.Read',
];
/** Clock skew allowed on exp/nbf/iat, seconds. */
const CLOCK_TOLERANCE = 120;

interface ProviderSettings {
  authority: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  domainHint?: string;
  viaEmulator: boolean;
}

interface EntraContext {
  callbackUrl: string;
  additionalScopes: string[];
  settings(): Promise<ProviderSettings>;
  client(): Promise<BaseClient>;
  /** Derives per-transaction secrets from the state nonce Backstage binds to the browser. */
  derive(label: string, stateNonce: string): string;
}

function readAdditionalScopes(config: Config): string[] {
  const raw = config.getOptional<string | string[]>('additionalScopes');
  if (!raw) return [];
  return (Array.isArray(raw) ? raw : raw.split(/[\s,]+/)).filter(Boolean);
}

/**
 * Entra ID sign-in (authorization code flow with PKCE S256, state and nonce), validating the
 * ID token: signature against the tenant's keys, issuer, audience, expiry and nonce.
 *
 * The PKCE verifier and the OIDC nonce are derived with an HMAC from the nonce that Backstage
 * puts in `state` and binds to the browser with a cookie, so no server-side session is needed
 * and any replica that shares `auth.session.secret` (or `backend.auth.keys`) can finish a flow.
 */
export function createEntraAuthenticator(options: {
  emulator: EntraEmulatorService;
  logger: LoggerService;
}) {
  return createOAuthAuthenticator<EntraContext, EntraAuthResult>({
    defaultProfileTransform: async (
      result: OAuthAuthenticatorResult<EntraAuthResult>,
    ) => {
      const c = result.fullProfile.claims;
      return {
        profile: {
          displayName: c.name,
          // Shown in the UI only; never used to link accounts unless verified (see resolvers).
          email: c.email ?? c.preferred_username,
        },
      };
    },
    scopes: {
      persist: true,
      required: DEFAULT_SCOPES,
    },
    initialize({ callbackUrl, config }) {
      const configuredClientId = config.getOptionalString('clientId');
      const configuredTenant = config.getOptionalString('tenantId');
      const hmacKey =
        config.getOptionalString('stateSecret') !== undefined
          ? Buffer.from(config.getString('stateSecret'))
          : randomBytes(32);

      let settingsPromise: Promise<ProviderSettings> | undefined;
      const settings = (): Promise<ProviderSettings> => {
        settingsPromise ??= (async () => {
          if (configuredClientId || configuredTenant) {
            if (!configuredClientId || !configuredTenant) {
              throw new Error(
                'auth.providers.microsoft: clientId and tenantId must be configured together',
              );
            }
            const clientSecret = config.getOptionalString('clientSecret');
            if (!clientSecret) {
              throw new Error(
                'auth.providers.microsoft: clientSecret is required',
              );
            }
            return {
              authority: (
                config.getOptionalString('authority') ?? PUBLIC_CLOUD
              ).replace(/\/+$/, ''),
              tenantId: configuredTenant,
              clientId: configuredClientId,
              clientSecret,
              domainHint: config.getOptionalString('domainHint'),
              viaEmulator: false,
            };
          }
          if (!options.emulator.isEnabled()) {
            throw new Error(
              'auth.providers.microsoft: no clientId/tenantId configured and the built-in emulator is disabled',
            );
          }
          const conn = await options.emulator.getConnection();
          options.logger.info(
            `Microsoft sign-in uses the built-in Entra ID emulator (tenant ${conn.tenantId}); set auth.providers.microsoft.<env>.clientId and tenantId for a real tenant`,
          );
          return {
            authority: conn.authority,
            tenantId: conn.tenantId,
            clientId: conn.clientId,
            clientSecret: conn.clientSecret,
            domainHint: config.getOptionalString('domainHint'),
            viaEmulator: true,
          };
        })().catch(e => {
          settingsPromise = undefined;
          throw e;
        });
        return settingsPromise;
      };

      let clientPromise: Promise<BaseClient> | undefined;
      const client = (): Promise<BaseClient> => {
        clientPromise ??= (async () => {
          const s = await settings();
          const issuer = await Issuer.discover(
            `${s.authority}/${encodeURIComponent(
              s.tenantId,
            )}/v2.0/.well-known/openid-configuration`,
          );
          const c = new issuer.Client({
            client_id: s.clientId,
            client_secret: s.clientSecret,
            redirect_uris: [callbackUrl],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_post',
            id_token_signed_response_alg: 'RS256',
          });
          c[custom.clock_tolerance] = CLOCK_TOLERANCE;
          return c;
        })().catch(e => {
          clientPromise = undefined;
          throw e;
        });
        return clientPromise;
      };

      return {
        callbackUrl: config.getOptionalString('callbackUrl') ?? callbackUrl,
        additionalScopes: readAdditionalScopes(config),
        settings,
        client,
        derive: (label, stateNonce) =>
          createHmac('sha256', hmacKey)
            .update(`${label}:${stateNonce}`)
            .digest('base64url'),
      };
    },

    async start(input, ctx) {
      const client = await ctx.client();
      const s = await ctx.settings();
      const { nonce: stateNonce } = decodeOAuthState(input.state);
      const verifier = ctx.derive('pkce', stateNonce);
      const scope = [
        ...new Set([...input.scope.split(' '), ...ctx.additionalScopes]),
      ]
        .filter(Boolean)
        .join(' ');
      const url = client.authorizationUrl({
        redirect_uri: ctx.callbackUrl,
        response_type: 'code',
        scope,
        state: input.state,
        nonce: ctx.derive('nonce', stateNonce),
        code_challenge: createHash('sha256')
          .update(verifier)
          .digest('base64url'),
        code_challenge_method: 'S256',
        ...(s.domainHint ? { domain_hint: s.domainHint } : {}),
      });
      return { url };
    },

    async authenticate(input, ctx) {
      const client = await ctx.client();
      const params = client.callbackParams(input.req);
      if (params.error) {
        throw new Error(
          `Entra ID refused the sign-in: ${params.error}: ${
            params.error_description ?? ''
          }`.trim(),
        );
      }
      if (!params.state)
        throw new Error('Missing state in the sign-in callback');
      const { nonce: stateNonce } = decodeOAuthState(params.state);
      let tokens: TokenSet;
      try {
        tokens = await client.callback(ctx.callbackUrl, params, {
          state: params.state,
          nonce: ctx.derive('nonce', stateNonce),
          code_verifier: ctx.derive('pkce', stateNonce),
          response_type: 'code',
        });
      } catch (e) {
        throw describeTokenError(e, ctx.callbackUrl);
      }
      return toResult(tokens, await ctx.settings());
    },

    async refresh(input, ctx) {
      const client = await ctx.client();
      let tokens: TokenSet;
      try {
        tokens = await client.refresh(input.refreshToken, {
          exchangeBody: { scope: input.scope },
        });
      } catch (e) {
        throw describeTokenError(e, ctx.callbackUrl);
      }
      return toResult(tokens, await ctx.settings());
    },

    async logout(_input, ctx) {
      const client = await ctx.client();
      const endSession = client.issuer.metadata.end_session_endpoint;
      return endSession ? { logoutUrl: endSession } : undefined;
    },
  });
}

function toResult(
  tokens: TokenSet,
  settings: ProviderSettings,
): OAuthAuthenticatorResult<EntraAuthResult> {
  if (!tokens.id_token)
    throw new Error('Entra ID returned no ID token; request the openid scope');
  // openid-client has checked signature, iss, aud, azp, exp/iat (with leeway) and nonce.
  const claims = tokens.claims() as unknown as EntraClaims;
  if (!claims.oid || !claims.tid)
    throw new Error('The ID token has no oid or tid claim');
  if (
    !settings.viaEmulator &&
    /^[0-9a-f-]{36}$/i.test(settings.tenantId) &&
    claims.tid !== settings.tenantId.toLowerCase()
  ) {
    throw new Error(
      `The ID token is from tenant ${claims.tid}, not ${settings.tenantId}`,
    );
  }
  return {
    fullProfile: { claims },
    session: {
      accessToken: tokens.access_token ?? '',
      tokenType: tokens.token_type ?? 'Bearer',
      idToken: tokens.id_token,
      scope: tokens.scope ?? '',
      expiresInSeconds: tokens.expires_in,
      refreshToken: tokens.refresh_token,
    },
  };
}

function describeTokenError(e: unknown, callbackUrl: string): Error {
  if (e instanceof errors.OPError) {
    const description = e.error_description ?? e.message;
    const hint = /AADSTS50011/.test(description)
      ? ` Register this exact redirect URI on the app registration: ${callbackUrl}`
      : '';
    return new Error(
      `Entra ID refused the token request: ${e.error}: ${description}${hint}`,
    );
  }
  if (e instanceof errors.RPError) {
    return new Error(`The ID token from Entra ID was rejected: ${e.message}`);
  }
  return e as Error;
}
