import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import {
  createOAuthAuthenticator,
  decodeOAuthState,
  OAuthAuthenticatorResult,
} from '@backstage/plugin-auth-node';
import { EntraEmulatorService } from '@gatehouse/plugin-entra-emulator-node';
import { createRemoteJWKSet, JWTVerifyGetKey } from 'jose';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { ClientAuth, readClientAuth } from './clientAuth';
import { explained } from './explain';
import { countSignIns } from './metrics';
import { validateIdToken } from './idToken';

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
  /**
   * Object ids of the user's groups (nested included): the `groups` claim, or, when the token
   * carries the overage indicator, the answer of Microsoft Graph. Undefined when the app
   * registration emits no groups claim.
   */
  groups?: string[];
}

/** Authority hosts of Microsoft's clouds, by the names `authority` also accepts. */
export const AUTHORITIES: Record<string, string> = {
  public: 'https://login.microsoftonline.com',
  usgovernment: 'https://login.microsoftonline.us',
  china: 'https://login.chinacloudapi.cn',
};

/** Microsoft Graph of each cloud, by authority host. */
const GRAPH_BY_AUTHORITY: Record<string, string> = {
  'https://login.microsoftonline.com': 'https://graph.microsoft.com',
  'https://login.microsoftonline.us': 'https://graph.microsoft.us',
  'https://login.chinacloudapi.cn': 'https://microsoftgraph.chinacloudapi.cn',
};

/**
 * The authority host and Graph resource for `authority`: a cloud name (`public`,
 * `usgovernment`, `china`) or an authority URL. Unknown hosts (an emulator) use public Graph's
 * resource name, as the emulator does.
 */
export function resolveCloud(authority: string = 'public'): {
  authority: string;
  graphResource: string;
} {
  const host = (AUTHORITIES[authority.toLowerCase()] ?? authority).replace(
    /\/+$/,
    '',
  );
  if (!/^https?:\/\//.test(host)) {
    throw new Error(
      `auth.providers.microsoft.authority must be public, usgovernment, china or a URL, got ${authority}`,
    );
  }
  return {
    authority: host,
    graphResource: GRAPH_BY_AUTHORITY[host] ?? 'https://graph.microsoft.com',
  };
}

const DEFAULT_SCOPES = [
  'openid',
  'profile',
  'email',
  'offline_access',
  'User.Read',
];
/** Clock skew allowed on exp/nbf/iat, seconds. */
const CLOCK_TOLERANCE = 120;

/** An error from Entra ID's token or authorize endpoint, with its AADSTS code. */
export class EntraSignInError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly aadsts?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EntraSignInError';
  }
}

interface ProviderSettings {
  authority: string;
  /** Graph's v1.0 base URL, and the resource to ask a token for. */
  graphBaseUrl: string;
  graphResource: string;
  tenantId: string;
  clientId: string;
  clientAuth: ClientAuth;
  domainHint?: string;
  viaEmulator: boolean;
}

interface Metadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
}

interface TokenResponse {
  access_token?: string;
  token_type?: string;
  id_token?: string;
  refresh_token?: string;
  scope?: string;
  expires_in?: number;
}

interface EntraContext {
  callbackUrl: string;
  additionalScopes: string[];
  allowedTenants: string[];
  settings(): Promise<ProviderSettings>;
  metadata(): Promise<{ metadata: Metadata; keys: JWTVerifyGetKey }>;
  /** Derives per-transaction secrets from the state nonce Backstage binds to the browser. */
  derive(label: string, stateNonce: string): string;
}

function readAdditionalScopes(config: Config): string[] {
  const raw = config.getOptional<string | string[]>('additionalScopes');
  if (!raw) return [];
  return (Array.isArray(raw) ? raw : raw.split(/[\s,]+/)).filter(Boolean);
}

/** Advice for AADSTS errors that a platform engineer can act on. */
export function adviceFor(
  aadsts: number | undefined,
  callbackUrl: string,
): string {
  switch (aadsts) {
    case 50011:
      return ` Register this exact redirect URI (type Web) on the app registration: ${callbackUrl}`;
    case 7000215:
      return ' The client secret is wrong: use the secret Value, not its ID (auth.providers.microsoft.<env>.clientSecret).';
    case 7000222:
      return ' The client secret has expired: create a new one and update auth.providers.microsoft.<env>.clientSecret.';
    case 700016:
      return ' Check auth.providers.microsoft.<env>.clientId and tenantId: the app is not registered in that tenant.';
    case 90002:
      return ' Check auth.providers.microsoft.<env>.tenantId and authority (the cloud).';
    case 50105:
      return ' An admin must assign this user (or a group of theirs) to the app in Enterprise applications.';
    case 65001:
      return ' An admin must grant consent to the app for the requested permissions.';
    default:
      return '';
  }
}

function aadstsCode(description: string | undefined): number | undefined {
  const m = /AADSTS(\d+)/.exec(description ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * Entra ID sign-in: authorization code flow with PKCE S256, state and nonce, and a validated
 * ID token (see validateIdToken). Identity is `oid` + `tid`.
 *
 * The PKCE verifier and the OIDC nonce are derived with an HMAC from the nonce that Backstage
 * puts in `state` and binds to the browser with a cookie, so no server-side session is needed;
 * replicas that share `stateSecret` can finish each other's sign-ins.
 */
export function createEntraAuthenticator(options: {
  emulator: EntraEmulatorService;
  logger: LoggerService;
}) {
  const authenticator = createOAuthAuthenticator<EntraContext, EntraAuthResult>(
    {
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
        const stateSecret = config.getOptionalString('stateSecret');
        const hmacKey = stateSecret
          ? Buffer.from(stateSecret)
          : randomBytes(32);

        const once = <T>(fn: () => Promise<T>) => {
          let p: Promise<T> | undefined;
          return () => {
            p ??= fn().catch(e => {
              p = undefined;
              throw e;
            });
            return p;
          };
        };

        const settings = once(async (): Promise<ProviderSettings> => {
          if (configuredClientId || configuredTenant) {
            if (!configuredClientId || !configuredTenant) {
              throw new Error(
                'auth.providers.microsoft: clientId and tenantId must be configured together',
              );
            }
            const { authority, graphResource } = resolveCloud(
              config.getOptionalString('authority'),
            );
            return {
              authority,
              graphResource,
              graphBaseUrl: (
                config.getOptionalString('graphUrl') ?? `${graphResource}/v1.0`
              ).replace(/\/+$/, ''),
              tenantId: configuredTenant,
              clientId: configuredClientId,
              clientAuth: readClientAuth(config, configuredClientId),
              domainHint: config.getOptionalString('domainHint'),
              viaEmulator: false,
            };
          }
          if (!options.emulator.isEnabled()) {
            throw new Error(
              'auth.providers.microsoft: no clientId/tenantId configured and the built-in emulator is disabled (gatehouse.emulator.enabled)',
            );
          }
          const conn = await options.emulator.getConnection();
          options.logger.info(
            `Microsoft sign-in uses the built-in Entra ID emulator (tenant ${conn.tenantId}); set auth.providers.microsoft.<env>.clientId and tenantId for a real tenant`,
          );
          return {
            authority: conn.authority,
            graphBaseUrl: conn.graphBaseUrl,
            graphResource: 'https://graph.microsoft.com',
            tenantId: conn.tenantId,
            clientId: conn.clientId,
            clientAuth: async () => ({ client_secret: conn.clientSecret }),
            domainHint: config.getOptionalString('domainHint'),
            viaEmulator: true,
          };
        });

        const metadata = once(async () => {
          const s = await settings();
          const url = `${s.authority}/${encodeURIComponent(
            s.tenantId,
          )}/v2.0/.well-known/openid-configuration`;
          const res = await fetch(url);
          const body = (await res.json().catch(() => ({}))) as Metadata & {
            error_description?: string;
          };
          if (!res.ok) {
            const code = aadstsCode(body.error_description);
            throw new EntraSignInError(
              'DISCOVERY_FAILED',
              `Entra ID discovery failed at ${url}: ${
                body.error_description ?? res.status
              }${adviceFor(code, callbackUrl)}`,
              code,
            );
          }
          return {
            metadata: body,
            keys: createRemoteJWKSet(new URL(body.jwks_uri), {
              // An unknown kid (a rotated key) refetches the keys, at most every 5 seconds.
              cooldownDuration: 5_000,
            }),
          };
        });

        return {
          callbackUrl: config.getOptionalString('callbackUrl') ?? callbackUrl,
          additionalScopes: readAdditionalScopes(config),
          allowedTenants: config.getOptionalStringArray('allowedTenants') ?? [],
          settings,
          metadata,
          derive: (label, stateNonce) =>
            createHmac('sha256', hmacKey)
              .update(`${label}:${stateNonce}`)
              .digest('base64url'),
        };
      },

      async start(input, ctx) {
        const [{ metadata }, s] = await Promise.all([
          ctx.metadata(),
          ctx.settings(),
        ]);
        const { nonce: stateNonce } = decodeOAuthState(input.state);
        const verifier = ctx.derive('pkce', stateNonce);
        const scope = [
          ...new Set([...input.scope.split(' '), ...ctx.additionalScopes]),
        ]
          .filter(Boolean)
          .join(' ');
        const url = new URL(metadata.authorization_endpoint);
        url.search = new URLSearchParams({
          client_id: s.clientId,
          response_type: 'code',
          redirect_uri: ctx.callbackUrl,
          response_mode: 'query',
          scope,
          state: input.state,
          nonce: ctx.derive('nonce', stateNonce),
          code_challenge: createHash('sha256')
            .update(verifier)
            .digest('base64url'),
          code_challenge_method: 'S256',
          ...(s.domainHint ? { domain_hint: s.domainHint } : {}),
        }).toString();
        return { url: url.toString() };
      },

      async authenticate(input, ctx) {
        const query = input.req.query as Record<string, string | undefined>;
        if (query.error) {
          const code = aadstsCode(query.error_description);
          throw new EntraSignInError(
            query.error,
            `Entra ID refused the sign-in: ${
              query.error_description ?? query.error
            }${adviceFor(code, ctx.callbackUrl)}`,
            code,
          );
        }
        if (!query.state)
          throw new EntraSignInError(
            'invalid_request',
            'Missing state in the sign-in callback',
          );
        if (!query.code)
          throw new EntraSignInError(
            'invalid_request',
            'Missing code in the sign-in callback',
          );
        const { nonce: stateNonce } = decodeOAuthState(query.state);
        const tokens = await tokenRequest(ctx, {
          grant_type: 'authorization_code',
          code: query.code,
          redirect_uri: ctx.callbackUrl,
          code_verifier: ctx.derive('pkce', stateNonce),
        });
        return toResult(ctx, tokens, ctx.derive('nonce', stateNonce));
      },

      async refresh(input, ctx) {
        const tokens = await tokenRequest(ctx, {
          grant_type: 'refresh_token',
          refresh_token: input.refreshToken,
          scope: input.scope,
        });
        return toResult(ctx, tokens, undefined);
      },

      async logout(input, ctx) {
        // Ends the Entra session too, so the next sign-in asks who is signing in; Entra sends
        // the browser back to the portal when the URL is registered on the app.
        const [{ metadata }, s] = await Promise.all([
          ctx.metadata(),
          ctx.settings(),
        ]);
        if (!metadata.end_session_endpoint) return undefined;
        const url = new URL(metadata.end_session_endpoint);
        url.searchParams.set('client_id', s.clientId);
        const origin = input.req.get('origin');
        if (origin)
          url.searchParams.set('post_logout_redirect_uri', `${origin}/`);
        return { logoutUrl: url.toString() };
      },
    },
  );
  // Failures reach the person's sign-in page and the log with one correlation id.
  return {
    ...authenticator,
    authenticate: explained(
      countSignIns(authenticator.authenticate.bind(authenticator), {
        countSuccess: false,
      }),
      options.logger,
      'Entra ID sign-in',
    ),
    refresh: explained(
      authenticator.refresh.bind(authenticator),
      options.logger,
      'Entra ID session refresh',
    ),
  };
}

async function tokenRequest(
  ctx: EntraContext,
  params: Record<string, string>,
): Promise<TokenResponse> {
  const [{ metadata }, s] = await Promise.all([ctx.metadata(), ctx.settings()]);
  const res = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      ...params,
      client_id: s.clientId,
      ...(await s.clientAuth(metadata.token_endpoint)),
    }),
  });
  const body = (await res.json().catch(() => ({}))) as TokenResponse & {
    error?: string;
    error_description?: string;
  };
  if (!res.ok) {
    const code = aadstsCode(body.error_description);
    throw new EntraSignInError(
      body.error ?? 'token_error',
      `Entra ID refused the token request: ${
        body.error_description ?? res.status
      }${adviceFor(code, ctx.callbackUrl)}`,
      code,
    );
  }
  return body;
}

async function toResult(
  ctx: EntraContext,
  tokens: TokenResponse,
  nonce: string | undefined,
): Promise<OAuthAuthenticatorResult<EntraAuthResult>> {
  if (!tokens.id_token)
    throw new EntraSignInError(
      'no_id_token',
      'Entra ID returned no ID token; request the openid scope',
    );
  const [{ metadata, keys }, s] = await Promise.all([
    ctx.metadata(),
    ctx.settings(),
  ]);
  const claims = await validateIdToken(tokens.id_token, keys, {
    issuer: metadata.issuer,
    clientId: s.clientId,
    allowedTenants: ctx.allowedTenants,
    nonce,
    clockToleranceSeconds: CLOCK_TOLERANCE,
  });
  return {
    fullProfile: { claims, groups: await groupsOf(claims, s, metadata) },
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

/**
 * The user's group ids: from the token, or from Graph when the token carries the overage
 * indicator (more than 200 groups). Overage means "ask Graph", never "no groups": if Graph
 * cannot answer, the sign-in is refused.
 */
/** App-only Graph tokens, kept until a minute before they expire. */
const appTokens = new WeakMap<
  ProviderSettings,
  { token: string; expiresAt: number }
>();

async function graphAppToken(
  s: ProviderSettings,
  metadata: Metadata,
): Promise<string> {
  const cached = appTokens.get(s);
  if (cached && cached.expiresAt - 60_000 > Date.now()) return cached.token;
  const res = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: s.clientId,
      ...(await s.clientAuth(metadata.token_endpoint)),
      scope: `${s.graphResource}/.default`,
    }),
  });
  const body = (await res.json()) as {
    access_token?: string;
    expires_in?: number;
    error_description?: string;
  };
  if (!body.access_token) {
    throw new Error(
      body.error_description ?? `token endpoint answered ${res.status}`,
    );
  }
  appTokens.set(s, {
    token: body.access_token,
    expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000,
  });
  return body.access_token;
}

async function groupsOf(
  claims: EntraClaims,
  s: ProviderSettings,
  metadata: Metadata,
): Promise<string[] | undefined> {
  if (Array.isArray(claims.groups)) return claims.groups;
  if (!claims._claim_names?.groups) return undefined;
  try {
    const accessToken = await graphAppToken(s, metadata);
    const res = await fetch(
      `${s.graphBaseUrl}/users/${encodeURIComponent(
        claims.oid,
      )}/getMemberObjects`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ securityEnabledOnly: false }),
      },
    );
    const body = (await res.json()) as {
      value?: string[];
      error?: { code?: string; message?: string };
    };
    if (!res.ok || !Array.isArray(body.value)) {
      throw new Error(
        `Graph answered ${res.status} ${body.error?.code ?? ''} ${
          body.error?.message ?? ''
        }`.trim(),
      );
    }
    return body.value;
  } catch (e) {
    throw new EntraSignInError(
      'GROUPS_UNAVAILABLE',
      `Sign-in refused: your account is in more groups than fit in a token, and Microsoft Graph could not list them (${
        (e as Error).message
      }). The app registration needs the GroupMember.Read.All application permission.`,
      undefined,
      { cause: e },
    );
  }
}
