import express, { Request, Response, Router } from 'express';
import { createHash, randomBytes } from 'node:crypto';
import {
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  importSPKI,
  JWK,
  jwtVerify,
  KeyLike,
} from 'jose';
import { Emulator, GRAPH_APP_ID, GRAPH_RESOURCE } from './Emulator';
import { aadsts, AadstsError } from './errors';
import { errorPage, signInPage, signedOutPage } from './pages';
import { TenantStore } from './tenant/TenantStore';
import { EmulatedApplication } from './tenant/types';
import { sha256Hex } from './tenant/loadTenants';
import { MICROSOFT_AUTHORITY_HOSTS } from './hostRouting';
import {
  BearerTokenError,
  createAccessToken,
  createIdToken,
  isAssigned,
  parseScopes,
  ScopeRequest,
  verifyBearer,
} from './tokens';

const SESSION_COOKIE = 'emulator_sso';
const PSEUDO_TENANTS = new Set(['common', 'organizations']);

/** Microsoft's clouds as instance discovery lists them: hosts that are one authority. */
const MICROSOFT_CLOUDS = [
  {
    preferred_network: 'login.microsoftonline.com',
    preferred_cache: 'login.windows.net',
    aliases: [
      'login.microsoftonline.com',
      'login.windows.net',
      'login.microsoft.com',
      'sts.windows.net',
    ],
  },
  {
    preferred_network: 'login.partner.microsoftonline.cn',
    preferred_cache: 'login.partner.microsoftonline.cn',
    aliases: ['login.partner.microsoftonline.cn', 'login.chinacloudapi.cn'],
  },
  {
    preferred_network: 'login.microsoftonline.us',
    preferred_cache: 'login.microsoftonline.us',
    aliases: ['login.microsoftonline.us', 'login.usgovcloudapi.net'],
  },
];
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

type ResponseMode = 'query' | 'fragment' | 'form_post';
const RESPONSE_MODES: ResponseMode[] = ['query', 'fragment', 'form_post'];
const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

interface AuthorizeTransaction {
  tenantSegment: string;
  app: EmulatedApplication;
  tenants: TenantStore[];
  redirectUri: string;
  responseMode: ResponseMode;
  state?: string;
  nonce?: string;
  scopes: string[];
  codeChallenge?: string;
  codeChallengeMethod?: string;
  loginHint?: string;
  domainHint?: string;
  prompt?: string;
  expiresAt: number;
}

/** Redirect URIs match exactly; for http://localhost the port may differ, as in Entra. */
export function redirectUriMatches(registered: string, given: string): boolean {
  if (registered === given) return true;
  try {
    const r = new URL(registered);
    const g = new URL(given);
    const loopback = (h: string) =>
      h === 'localhost' || h === '127.0.0.1' || h === '[::1]';
    return (
      r.protocol === 'http:' &&
      g.protocol === 'http:' &&
      loopback(r.hostname) &&
      r.hostname === g.hostname &&
      r.pathname === g.pathname &&
      r.search === g.search
    );
  } catch {
    return false;
  }
}

/** The name of a parameter sent more than once (express makes it an array), if any. */
function repeatedParameter(params: object): string | undefined {
  return Object.entries(params).find(([, v]) => typeof v !== 'string')?.[0];
}

function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0)
      out[part.slice(0, i).trim()] = decodeURIComponent(
        part.slice(i + 1).trim(),
      );
  }
  return out;
}

/** The OpenID Connect and OAuth 2.0 (v2.0) endpoints of Entra ID, per tenant. */
export function createOidcRouter(emulator: Emulator): Router {
  const router = Router();
  const transactions = new Map<string, AuthorizeTransaction>();
  const form = express.urlencoded({ extended: false, limit: '64kb' });

  const sendTokenError = (res: Response, err: AadstsError) => {
    res
      .status(err.status)
      .set('Cache-Control', 'no-store')
      .json(err.body(emulator.clock.now()));
  };

  /** Resolves the tenant segment of a URL; pseudo-tenants give every tenant. */
  const tenantsFor = (segment: string): TenantStore[] | undefined => {
    if (PSEUDO_TENANTS.has(segment.toLowerCase()))
      return [...emulator.tenants.values()];
    const t = emulator.findTenant(segment);
    return t ? [t] : undefined;
  };

  /**
   * The origin a request's endpoints are named under: the emulator's own, or Microsoft's
   * authority host when a client reached the HTTPS listener under that name (a process whose
   * `login.microsoftonline.com` is routed to the emulator, see hostRouting.ts).
   */
  const originOf = (req: Request): string =>
    req.secure && MICROSOFT_AUTHORITY_HOSTS.includes(req.hostname)
      ? `https://${req.hostname}`
      : emulator.baseUrl;

  const endpoints = (segment: string, origin = emulator.baseUrl) => {
    const base = `${origin}/${segment}`;
    return {
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
    };
  };

  // Instance discovery, which MSAL asks before trusting an authority (unless it knows the
  // host already or the app turns it off): which hosts are aliases of the same cloud.
  router.get('/common/discovery/instance', (req, res) => {
    const q = req.query as Record<string, unknown>;
    try {
      if (typeof q['api-version'] !== 'string')
        throw aadsts.missingParameter('api-version');
      if (typeof q.authorization_endpoint !== 'string')
        throw aadsts.missingParameter('authorization_endpoint');
      let authorize: URL | undefined;
      try {
        authorize = new URL(q.authorization_endpoint);
      } catch {
        authorize = undefined;
      }
      const cloud = MICROSOFT_CLOUDS.find(c =>
        c.aliases.includes(authorize?.hostname.toLowerCase() ?? ''),
      );
      const tenant = authorize?.pathname.split('/').filter(Boolean)[0];
      // Any other host (this emulator's own included) is not one of Microsoft's authorities.
      if (
        !authorize ||
        authorize.protocol !== 'https:' ||
        authorize.port ||
        !cloud ||
        !tenant
      )
        throw new AadstsError(
          50049,
          'invalid_instance',
          'Unknown or invalid instance.',
        );
      res.json({
        tenant_discovery_endpoint: `https://${authorize.hostname}/${tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': q['api-version'],
        metadata: MICROSOFT_CLOUDS,
      });
    } catch (e) {
      if (!(e instanceof AadstsError)) throw e;
      sendTokenError(res, e);
    }
  });

  router.get('/:tenant/v2.0/.well-known/openid-configuration', (req, res) => {
    const segment = req.params.tenant;
    const tenants = tenantsFor(segment);
    if (!tenants) {
      sendTokenError(res, aadsts.tenantNotFound(segment));
      return;
    }
    const pseudo = PSEUDO_TENANTS.has(segment.toLowerCase());
    const tid = pseudo ? '{tenantid}' : tenants[0].id;
    const origin = originOf(req);
    res.json({
      token_endpoint_auth_methods_supported: [
        'client_secret_post',
        'private_key_jwt',
        'client_secret_basic',
      ],
      jwks_uri: endpoints(pseudo ? segment : tid, origin).jwks_uri,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: [
        'code',
        'id_token',
        'code id_token',
        'id_token token',
      ],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${emulator.baseUrl}/${tid}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${origin}/oidc/userinfo`,
      authorization_endpoint: endpoints(pseudo ? segment : tid, origin)
        .authorization_endpoint,
      device_authorization_endpoint: `${origin}/${
        pseudo ? segment : tid
      }/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: endpoints(pseudo ? segment : tid, origin)
        .end_session_endpoint,
      claims_supported: [
        'sub',
        'iss',
        'cloud_instance_name',
        'cloud_instance_host_name',
        'cloud_graph_host_name',
        'msgraph_host',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${origin}/${pseudo ? segment : tid}/kerberos`,
      token_endpoint: endpoints(pseudo ? segment : tid, origin).token_endpoint,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'emulator.local',
      cloud_graph_host_name: new URL(emulator.baseUrl).host,
      msgraph_host: new URL(emulator.baseUrl).host,
      rbac_url: emulator.baseUrl,
    });
  });

  router.get('/:tenant/discovery/v2.0/keys', (req, res) => {
    const segment = req.params.tenant;
    const tenants = tenantsFor(segment);
    if (!tenants) {
      sendTokenError(res, aadsts.tenantNotFound(segment));
      return;
    }
    const pseudo = PSEUDO_TENANTS.has(segment.toLowerCase());
    res.json(
      emulator.keys.jwks(
        `${emulator.baseUrl}/${pseudo ? '{tenantid}' : tenants[0].id}/v2.0`,
      ),
    );
  });

  // Authorization endpoint ---------------------------------------------------------------

  const redirectWithParams = (
    res: Response,
    txn: Pick<AuthorizeTransaction, 'redirectUri' | 'responseMode' | 'state'>,
    params: Record<string, string>,
  ) => {
    const all = {
      ...params,
      ...(txn.state !== undefined ? { state: txn.state } : {}),
    };
    if (txn.responseMode === 'form_post') {
      const inputs = Object.entries(all)
        .map(
          ([k, v]) =>
            `<input type="hidden" name="${escapeAttr(k)}" value="${escapeAttr(
              v,
            )}">`,
        )
        .join('');
      res
        .status(200)
        .type('html')
        .send(
          `<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${escapeAttr(
            txn.redirectUri,
          )}">${inputs}<noscript><button>Continue</button></noscript></form></body></html>`,
        );
      return;
    }
    const url = new URL(txn.redirectUri);
    if (txn.responseMode === 'fragment') {
      url.hash = new URLSearchParams(all).toString();
    } else {
      for (const [k, v] of Object.entries(all)) url.searchParams.set(k, v);
    }
    res.redirect(302, url.toString());
  };

  const redirectError = (
    res: Response,
    txn: Pick<AuthorizeTransaction, 'redirectUri' | 'responseMode' | 'state'>,
    err: AadstsError,
  ) => {
    const body = err.body(emulator.clock.now());
    redirectWithParams(res, txn, {
      error: err.error,
      error_description: body.error_description,
      error_uri: body.error_uri!,
    });
  };

  const showError = (res: Response, err: AadstsError, status = 400) => {
    res.status(status).type('html').send(errorPage(err));
  };

  const issueCodeAndRedirect = (
    res: Response,
    txn: AuthorizeTransaction,
    tenant: TenantStore,
    userId: string,
  ) => {
    const code = emulator.issueCode({
      tenantId: tenant.id,
      clientId: txn.app.appId,
      userId,
      redirectUri: txn.redirectUri,
      scopes: txn.scopes,
      nonce: txn.nonce,
      codeChallenge: txn.codeChallenge,
      codeChallengeMethod: txn.codeChallengeMethod,
    });
    redirectWithParams(res, txn, {
      code,
      session_state: randomBytes(16).toString('hex'),
    });
  };

  /** Entra refuses disabled and unassigned users on its own page, not at the redirect URI. */
  const userRefusal = (
    tenant: TenantStore,
    app: EmulatedApplication,
    userId: string,
  ): AadstsError | undefined => {
    const user = tenant.getUser(userId);
    if (!user)
      return aadsts.userFromOtherTenant(userId, app.appId, tenant.displayName);
    if (!user.accountEnabled) return aadsts.userDisabled();
    if (app.appRoleAssignmentRequired && !isAssigned(tenant, app, user.id)) {
      return aadsts.userNotAssigned(user.id, app.appId);
    }
    return undefined;
  };

  const handleAuthorize = (req: Request, res: Response) => {
    const q = {
      ...(req.query as Record<string, string>),
      ...((req.body as Record<string, string>) ?? {}),
    };
    const segment = req.params.tenant;
    const tenants = tenantsFor(segment);
    if (!tenants) {
      showError(res, aadsts.tenantNotFound(segment));
      return;
    }
    const repeated = repeatedParameter(q);
    if (repeated) {
      showError(res, aadsts.invalidParameter(repeated));
      return;
    }
    const clientId = q.client_id;
    if (!clientId) {
      showError(res, aadsts.missingParameter('client_id'));
      return;
    }
    const pseudo = PSEUDO_TENANTS.has(segment.toLowerCase());
    const home = emulator.findApplicationHome(clientId);
    const app = home?.getApplication(clientId);
    const visible =
      app &&
      (tenants.includes(home!) || app.signInAudience === 'AzureADMultipleOrgs');
    if (!app || !visible) {
      showError(res, aadsts.unknownClient(clientId, tenants[0].displayName));
      return;
    }
    if (pseudo && app.signInAudience !== 'AzureADMultipleOrgs') {
      showError(res, aadsts.notMultiTenant(app.appId, app.displayName));
      return;
    }
    let redirectUri = q.redirect_uri;
    if (!redirectUri) {
      if (app.redirectUris.length === 0) {
        showError(res, aadsts.noReplyAddress(app.appId));
        return;
      }
      redirectUri = app.redirectUris[0];
    } else if (
      !app.redirectUris.some(r => redirectUriMatches(r, redirectUri!))
    ) {
      showError(res, aadsts.redirectMismatch(redirectUri, app.appId));
      return;
    }
    const requestedMode = q.response_mode ?? 'query';
    const responseMode = RESPONSE_MODES.find(m => m === requestedMode);
    if (!responseMode) {
      redirectError(
        res,
        { redirectUri, responseMode: 'query', state: q.state },
        aadsts.unsupportedResponseMode(requestedMode),
      );
      return;
    }
    const base = { redirectUri, responseMode, state: q.state };
    if (!q.response_type) {
      redirectError(res, base, aadsts.missingParameter('response_type'));
      return;
    }
    if (q.response_type !== 'code') {
      redirectError(res, base, aadsts.unsupportedResponseType(q.response_type));
      return;
    }
    if (!q.scope) {
      redirectError(res, base, aadsts.missingParameter('scope'));
      return;
    }
    const scopeRequest = parseScopes(q.scope, home!);
    if ('error' in scopeRequest) {
      redirectError(
        res,
        base,
        scopeRequest.error.includes(',')
          ? aadsts.multipleResources(q.scope)
          : aadsts.invalidResource(scopeRequest.error, home!.displayName),
      );
      return;
    }
    if (scopeRequest.resource === 'graph') {
      const missing = scopeRequest.permissions.filter(
        p => p !== '.default' && !app.graphDelegatedPermissions.includes(p),
      );
      if (missing.length) {
        redirectError(
          res,
          base,
          aadsts.consentRequired(
            app.appId,
            app.displayName,
            'consent_required',
          ),
        );
        return;
      }
    }
    const method = q.code_challenge
      ? q.code_challenge_method ?? 'plain'
      : undefined;
    if (method !== undefined && method !== 'S256' && method !== 'plain') {
      redirectError(res, base, aadsts.pkceMethodUnknown(method));
      return;
    }
    // An S256 challenge is the base64url of a SHA-256 digest: 43 characters. A plain one is
    // the verifier itself: 43 to 128 characters (RFC 7636).
    if (
      q.code_challenge &&
      (method === 'S256'
        ? !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge)
        : !/^[A-Za-z0-9._~-]{43,128}$/.test(q.code_challenge))
    ) {
      redirectError(res, base, aadsts.pkceChallengeSize());
      return;
    }
    if (app.requirePkce) {
      if (!q.code_challenge) {
        redirectError(res, base, aadsts.pkceRequired());
        return;
      }
      if (method !== 'S256') {
        redirectError(res, base, aadsts.pkcePlain());
        return;
      }
    }
    const txn: AuthorizeTransaction = {
      tenantSegment: segment,
      app,
      tenants,
      ...base,
      nonce: q.nonce,
      scopes: q.scope.split(/\s+/).filter(Boolean),
      codeChallenge: q.code_challenge,
      codeChallengeMethod: method,
      loginHint: q.login_hint,
      domainHint: q.domain_hint,
      prompt: q.prompt,
      expiresAt: emulator.nowSeconds() + 900,
    };

    // Single sign-on: a browser with a session here is signed in again without a page,
    // unless the app asks to prompt or hints at someone else.
    const session = emulator.getSession(cookies(req)[SESSION_COOKIE]);
    const sessionTenant =
      session && tenants.find(t => t.id === session.tenantId);
    const sessionUser = sessionTenant?.getUser(session!.userId);
    const hintMatches =
      !txn.loginHint ||
      sessionUser?.userPrincipalName.toLowerCase() ===
        txn.loginHint.toLowerCase();
    if (txn.prompt === 'none') {
      if (!sessionTenant || !sessionUser || !hintMatches) {
        redirectError(res, base, aadsts.loginRequired());
        return;
      }
    }
    const interactive =
      txn.prompt === 'login' ||
      txn.prompt === 'select_account' ||
      txn.prompt === 'consent';
    if (sessionTenant && sessionUser && hintMatches && !interactive) {
      const refusal = userRefusal(sessionTenant, app, sessionUser.id);
      if (refusal) {
        // A silent request never shows a page: the refusal goes back to the app.
        if (txn.prompt === 'none') {
          redirectError(res, base, refusal.withError('interaction_required'));
        } else {
          showError(res, refusal);
        }
        return;
      }
      issueCodeAndRedirect(res, txn, sessionTenant, sessionUser.id);
      return;
    }

    const id = randomBytes(18).toString('base64url');
    transactions.set(id, txn);
    for (const [k, t] of transactions)
      if (t.expiresAt < emulator.nowSeconds()) transactions.delete(k);
    res
      .status(200)
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(
        signInPage({
          txnId: id,
          action: `${emulator.baseUrl}/${segment}/oauth2/v2.0/authorize/select`,
          app,
          tenants,
          loginHint: txn.loginHint,
          domainHint: txn.domainHint,
          prompt: txn.prompt,
        }),
      );
  };

  router.get('/:tenant/oauth2/v2.0/authorize', handleAuthorize);
  router.post('/:tenant/oauth2/v2.0/authorize', form, handleAuthorize);

  router.post('/:tenant/oauth2/v2.0/authorize/select', form, (req, res) => {
    const { txn: id, user: userId } = req.body as Record<string, string>;
    const txn = id ? transactions.get(id) : undefined;
    if (!txn || txn.expiresAt < emulator.nowSeconds()) {
      showError(res, aadsts.flowExpired());
      return;
    }
    const tenant = txn.tenants.find(t => t.getUser(userId ?? ''));
    if (!tenant) {
      showError(
        res,
        aadsts.userFromOtherTenant(
          String(userId),
          txn.app.appId,
          txn.tenants[0].displayName,
        ),
      );
      return;
    }
    const refusal = userRefusal(tenant, txn.app, userId);
    if (refusal) {
      showError(res, refusal);
      return;
    }
    transactions.delete(id);
    const user = tenant.getUser(userId)!;
    const previous = cookies(req)[SESSION_COOKIE];
    emulator.endSession(previous);
    const sid = emulator.startSession(tenant.id, user.id);
    res.cookie(SESSION_COOKIE, sid, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
    });
    issueCodeAndRedirect(res, txn, tenant, user.id);
  });

  // Logout ------------------------------------------------------------------------------

  const handleLogout = (req: Request, res: Response) => {
    const q = {
      ...(req.query as Record<string, string>),
      ...((req.body as Record<string, string>) ?? {}),
    };
    emulator.endSession(cookies(req)[SESSION_COOKIE]);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    const target = q.post_logout_redirect_uri;
    const tenants = tenantsFor(req.params.tenant) ?? [];
    // The app is named by client_id, or by the audience of the ID token it hands back.
    let clientId: string | undefined = q.client_id;
    if (!clientId && q.id_token_hint) {
      try {
        const aud = decodeJwt(q.id_token_hint).aud;
        clientId = Array.isArray(aud) ? aud[0] : aud;
      } catch {
        clientId = undefined;
      }
    }
    const apps = tenants
      .flatMap(t => t.applications)
      .filter(a => !clientId || a.appId === clientId);
    const allowed =
      target &&
      apps.some(a =>
        [...a.redirectUris, ...a.logoutUris].some(r =>
          redirectUriMatches(r, target),
        ),
      );
    if (allowed) {
      const url = new URL(target);
      if (q.state) url.searchParams.set('state', q.state);
      res.redirect(302, url.toString());
      return;
    }
    res.status(200).type('html').send(signedOutPage());
  };

  router.get('/:tenant/oauth2/v2.0/logout', handleLogout);
  router.post('/:tenant/oauth2/v2.0/logout', form, handleLogout);

  // UserInfo (Entra serves it from Graph: https://graph.microsoft.com/oidc/userinfo) ----------

  const handleUserInfo = async (req: Request, res: Response) => {
    try {
      const token = await verifyBearer(emulator, req.headers.authorization, [
        GRAPH_RESOURCE,
        GRAPH_APP_ID,
        `${GRAPH_RESOURCE}/`,
      ]);
      const tenant = emulator.tenants.get(String(token.tid));
      const user =
        token.idtyp === 'user' ? tenant?.getUser(String(token.oid)) : undefined;
      if (!user) {
        throw new BearerTokenError(
          'InvalidAuthenticationToken',
          'The token does not belong to a signed-in user.',
        );
      }
      const scopes = String(token.scp ?? '').split(' ');
      const info: Record<string, unknown> = { sub: token.sub };
      if (scopes.includes('profile')) {
        info.name = user.displayName;
        if (user.givenName) info.given_name = user.givenName;
        if (user.surname) info.family_name = user.surname;
        info.picture = `${emulator.graphBaseUrl}/me/photo/$value`;
      }
      if (scopes.includes('email') && user.mail) info.email = user.mail;
      res.set('Cache-Control', 'no-store').json(info);
    } catch (e) {
      if (!(e instanceof BearerTokenError)) throw e;
      res
        .status(401)
        .set('WWW-Authenticate', `Bearer error="invalid_token"`)
        .json({
          error: {
            code: e.graphCode,
            message: e.message,
            innerError: { date: emulator.clock.now().toISOString() },
          },
        });
    }
  };
  router.get('/oidc/userinfo', handleUserInfo);
  router.post('/oidc/userinfo', handleUserInfo);

  // Token endpoint ------------------------------------------------------------------------

  router.post('/:tenant/oauth2/v2.0/token', form, async (req, res) => {
    try {
      const body = { ...((req.body as Record<string, string>) ?? {}) };
      const repeated = repeatedParameter(body);
      if (repeated) throw aadsts.invalidParameter(repeated);
      const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
      if (basic) {
        // RFC 6749 2.3.1: form-encoded id and secret, joined by the first colon.
        const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const formDecode = (v: string) => {
          try {
            return decodeURIComponent(v.replace(/\+/g, ' '));
          } catch {
            return v;
          }
        };
        if (colon < 0) throw aadsts.missingClientAuth();
        body.client_id ??= formDecode(decoded.slice(0, colon));
        body.client_secret ??= formDecode(decoded.slice(colon + 1));
      }
      const segment = req.params.tenant;
      const tenants = tenantsFor(segment);
      if (!tenants) throw aadsts.tenantNotFound(segment);
      if (!body.grant_type) throw aadsts.missingParameter('grant_type');
      if (!body.client_id) throw aadsts.missingParameter('client_id');
      const home = emulator.findApplicationHome(body.client_id);
      const app = home?.getApplication(body.client_id);
      if (
        !app ||
        (!tenants.includes(home!) &&
          app.signInAudience !== 'AzureADMultipleOrgs')
      ) {
        throw aadsts.unknownClient(body.client_id, tenants[0].displayName);
      }
      const origin = originOf(req);
      await authenticateClient(emulator, app, body, [
        `${origin}/${segment}/oauth2/v2.0/token`,
        ...tenants.map(t => `${origin}/${t.id}/oauth2/v2.0/token`),
      ]);

      switch (body.grant_type) {
        case 'authorization_code':
          res
            .set('Cache-Control', 'no-store')
            .json(await redeemCode(emulator, tenants, app, body));
          return;
        case 'refresh_token':
          res
            .set('Cache-Control', 'no-store')
            .json(await redeemRefreshToken(emulator, tenants, app, body));
          return;
        case 'client_credentials': {
          // An app token names its tenant: /common cannot, /organizations does not say which.
          if (segment.toLowerCase() === 'common')
            throw aadsts.grantNotOnCommon();
          if (PSEUDO_TENANTS.has(segment.toLowerCase()))
            throw aadsts.noTenantRealm();
          res
            .set('Cache-Control', 'no-store')
            .json(await clientCredentials(emulator, tenants[0], app, body));
          return;
        }
        default:
          throw aadsts.unsupportedGrant(body.grant_type);
      }
    } catch (e) {
      if (e instanceof AadstsError) {
        sendTokenError(res, e);
        return;
      }
      throw e;
    }
  });

  return router;
}

async function authenticateClient(
  emulator: Emulator,
  app: EmulatedApplication,
  body: Record<string, string>,
  tokenEndpoints: string[],
): Promise<void> {
  if (body.client_assertion || body.client_assertion_type) {
    if (body.client_assertion_type !== ASSERTION_TYPE) {
      throw aadsts.assertionInvalid(
        `client_assertion_type must be '${ASSERTION_TYPE}'.`,
      );
    }
    if (!body.client_assertion)
      throw aadsts.missingParameter('client_assertion');
    await verifyClientAssertion(
      emulator,
      app,
      body.client_assertion,
      tokenEndpoints,
    );
    return;
  }
  if (body.client_secret !== undefined) {
    const hash = sha256Hex(body.client_secret);
    const cred = app.passwordCredentials.find(c => c.secretHash === hash);
    if (!cred) throw aadsts.invalidSecret(app.appId);
    const now = emulator.clock.now().getTime();
    if (
      Date.parse(cred.endDateTime) <= now ||
      Date.parse(cred.startDateTime) > now
    ) {
      throw aadsts.expiredSecret(app.appId);
    }
    return;
  }
  throw aadsts.missingClientAuth();
}

async function verifyClientAssertion(
  emulator: Emulator,
  app: EmulatedApplication,
  assertion: string,
  tokenEndpoints: string[],
): Promise<void> {
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw aadsts.assertionInvalid('The client assertion is not a JWT.');
  }
  if (!header.alg || !['RS256', 'PS256', 'ES256'].includes(header.alg)) {
    throw aadsts.assertionInvalid(
      `Unsupported signing algorithm '${header.alg}'.`,
    );
  }
  const now = emulator.clock.now();
  let unverified: Record<string, unknown>;
  try {
    unverified = decodeJwt(assertion);
  } catch {
    throw aadsts.assertionInvalid('The client assertion is not a JWT.');
  }
  // A federated assertion comes from another issuer (a URL) about a subject; a certificate
  // assertion has iss = sub = the client id.
  if (unverified.iss !== app.appId && unverified.iss !== unverified.sub) {
    await verifyFederatedAssertion(
      emulator,
      app,
      assertion,
      unverified,
      header.kid,
    );
    return;
  }
  // Entra tolerates a few minutes of clock skew on `nbf`; MSAL rounds its `nbf` to the
  // nearest second, so it is often up to half a second ahead.
  const nbfMs = typeof unverified.nbf === 'number' ? unverified.nbf * 1000 : 0;
  const verifyAt =
    nbfMs > now.getTime() && nbfMs - now.getTime() <= 300_000
      ? new Date(nbfMs)
      : now;
  const candidates = app.keyCredentials.filter(
    k =>
      Date.parse(k.endDateTime) > now.getTime() &&
      (!header.kid ||
        header.kid === k.keyId ||
        !app.keyCredentials.some(o => o.keyId === header.kid)),
  );
  for (const cred of candidates) {
    let key: KeyLike | Uint8Array;
    try {
      key = cred.key.trim().startsWith('{')
        ? await importJWK(JSON.parse(cred.key) as JWK, header.alg)
        : await importSPKI(cred.key, header.alg);
    } catch {
      continue;
    }
    try {
      const { payload } = await jwtVerify(assertion, key, {
        currentDate: verifyAt,
        algorithms: [header.alg],
      });
      if (payload.iss !== payload.sub) throw aadsts.assertionIssuerMismatch();
      if (payload.iss !== app.appId)
        throw aadsts.assertionOtherClient(app.appId);
      const auds = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!auds.some(a => tokenEndpoints.includes(String(a)))) {
        throw aadsts.assertionInvalid(
          `The 'aud' claim must be the token endpoint '${tokenEndpoints[0]}'.`,
        );
      }
      if (!payload.exp)
        throw aadsts.assertionInvalid("The 'exp' claim is required.");
      if (!payload.jti)
        throw aadsts.assertionInvalid("The 'jti' claim is required.");
      if (!emulator.useAssertionId(`${app.appId}:${payload.jti}`, payload.exp))
        throw aadsts.assertionReplay();
      return;
    } catch (e) {
      if (e instanceof AadstsError) throw e;
      const code = (e as { code?: string }).code;
      if (
        code === 'ERR_JWT_EXPIRED' ||
        code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
      )
        throw aadsts.assertionExpired();
      if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') continue;
      throw aadsts.assertionInvalid((e as Error).message);
    }
  }
  throw aadsts.assertionSignature(app.appId);
}

/**
 * A client assertion from a trusted issuer (workload identity federation, e.g. a managed
 * identity): it must match a federated identity credential of the app by issuer, subject and
 * audience, and be signed by the issuer. The emulator verifies issuers it hosts itself.
 */
async function verifyFederatedAssertion(
  emulator: Emulator,
  app: EmulatedApplication,
  assertion: string,
  unverified: Record<string, unknown>,
  kid: string | undefined,
): Promise<void> {
  const issuer = String(unverified.iss ?? '');
  const subject = String(unverified.sub ?? '');
  const creds = app.federatedIdentityCredentials.filter(
    f => f.issuer.replace('{emulator}', emulator.baseUrl) === issuer,
  );
  if (creds.length === 0) throw aadsts.federatedNoIssuer(issuer, subject);
  const bySubject = creds.filter(f => f.subject === subject);
  if (bySubject.length === 0) throw aadsts.federatedNoSubject(issuer, subject);
  const auds = Array.isArray(unverified.aud)
    ? unverified.aud
    : [unverified.aud];
  if (!bySubject.some(f => f.audiences.some(a => auds.includes(a)))) {
    throw aadsts.assertionAudience();
  }
  const jwk =
    kid && issuer.startsWith(`${emulator.baseUrl}/`)
      ? emulator.keys.publicJwk(kid)
      : undefined;
  if (!jwk) throw aadsts.assertionSignature(app.appId);
  try {
    await jwtVerify(assertion, await importJWK(jwk, 'RS256'), {
      currentDate: emulator.clock.now(),
      algorithms: ['RS256'],
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') throw aadsts.assertionExpired();
    throw aadsts.assertionSignature(app.appId);
  }
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** Parses delegated scopes for a token request and refuses what the tenant has not consented to. */
function checkDelegatedScopes(
  tenant: TenantStore,
  app: EmulatedApplication,
  scopes: string[],
): ScopeRequest {
  const scope = scopes.join(' ');
  const request = parseScopes(scope, tenant);
  if ('error' in request) {
    throw request.error.includes(',')
      ? aadsts.multipleResources(scope)
      : aadsts.invalidResource(request.error, tenant.displayName);
  }
  if (request.resource === 'graph') {
    const missing = request.permissions.filter(
      p => p !== '.default' && !app.graphDelegatedPermissions.includes(p),
    );
    if (missing.length)
      throw aadsts.consentRequired(app.appId, app.displayName);
  }
  return request;
}

async function tokenResponse(
  emulator: Emulator,
  tenant: TenantStore,
  app: EmulatedApplication,
  userId: string,
  scopes: string[],
  nonce?: string,
) {
  const user = tenant.getUser(userId);
  if (!user) throw aadsts.codeInvalid();
  if (!user.accountEnabled) throw aadsts.userDisabled();
  const request = checkDelegatedScopes(tenant, app, scopes);
  const permissions = request.permissions.length
    ? request.permissions.flatMap(p =>
        p === '.default'
          ? app.graphDelegatedPermissions.filter(x => !OIDC_SCOPES.includes(x))
          : [p],
      )
    : ['User.Read'];
  // Graph tokens carry the OpenID scopes too (scp "openid profile email User.Read").
  const scp =
    request.resource === 'graph'
      ? [...request.oidc.filter(x => x !== 'offline_access'), ...permissions]
      : permissions;
  const access = await createAccessToken(
    emulator,
    tenant,
    app,
    request.resource,
    { user, scp, audience: request.audience },
  );
  const out: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: [
      ...new Set([
        ...permissions.map(p =>
          request.resource === 'graph' ? p : `api://${request.resource}/${p}`,
        ),
        ...request.oidc,
      ]),
    ].join(' '),
    expires_in: access.expiresIn,
    ext_expires_in: access.expiresIn,
    access_token: access.token,
  };
  if (scopes.includes('offline_access')) {
    out.refresh_token = emulator.issueRefreshToken({
      tenantId: tenant.id,
      clientId: app.appId,
      userId,
      scopes,
    });
  }
  if (scopes.includes('openid')) {
    out.id_token = await createIdToken(
      emulator,
      tenant,
      app,
      user,
      scopes,
      nonce,
    );
  }
  return out;
}

async function redeemCode(
  emulator: Emulator,
  tenants: TenantStore[],
  app: EmulatedApplication,
  body: Record<string, string>,
) {
  if (!body.code) throw aadsts.missingParameter('code');
  const code = emulator.getCode(body.code);
  if (!code) throw aadsts.codeInvalid();
  if (code.clientId !== app.appId) throw aadsts.codeOtherClient();
  if (!tenants.some(t => t.id === code.tenantId))
    throw aadsts.codeOtherTenant();
  if (code.redeemed) throw aadsts.codeRedeemed();
  if (code.expiresAt <= emulator.nowSeconds()) throw aadsts.codeExpired();
  if (!body.redirect_uri) throw aadsts.missingParameter('redirect_uri');
  if (body.redirect_uri !== code.redirectUri) {
    throw aadsts.codeRedirectMismatch(body.redirect_uri, code.redirectUri);
  }
  if (code.codeChallenge) {
    if (!body.code_verifier) throw aadsts.verifierMissing();
    const expected =
      code.codeChallengeMethod === 'S256'
        ? s256(body.code_verifier)
        : body.code_verifier;
    if (expected !== code.codeChallenge) throw aadsts.verifierMismatch();
  }
  code.redeemed = true;
  const tenant = emulator.tenants.get(code.tenantId)!;
  return tokenResponse(
    emulator,
    tenant,
    app,
    code.userId,
    code.scopes,
    code.nonce,
  );
}

async function redeemRefreshToken(
  emulator: Emulator,
  tenants: TenantStore[],
  app: EmulatedApplication,
  body: Record<string, string>,
) {
  if (!body.refresh_token) throw aadsts.missingParameter('refresh_token');
  const grant = emulator.getRefreshGrant(body.refresh_token);
  if (!grant) throw aadsts.codeInvalid();
  if (grant.clientId !== app.appId) throw aadsts.refreshOtherClient();
  if (!tenants.some(t => t.id === grant.tenantId))
    throw aadsts.refreshOtherTenant();
  if (grant.expiresAt <= emulator.nowSeconds()) throw aadsts.refreshExpired();
  const tenant = emulator.tenants.get(grant.tenantId)!;
  // A refresh may ask for other resource scopes (consent still applies); the OpenID scopes of
  // the sign-in carry over, so the app keeps getting an ID token and a new refresh token.
  const requested = body.scope
    ? body.scope.split(/\s+/).filter(Boolean)
    : grant.scopes;
  const scopes = [
    ...new Set([
      ...requested,
      ...grant.scopes.filter(s => OIDC_SCOPES.includes(s)),
    ]),
  ];
  return tokenResponse(emulator, tenant, app, grant.userId, scopes);
}

async function clientCredentials(
  emulator: Emulator,
  tenant: TenantStore,
  app: EmulatedApplication,
  body: Record<string, string>,
) {
  if (!body.scope) throw aadsts.missingParameter('scope');
  const scopes = body.scope.split(/\s+/).filter(Boolean);
  if (scopes.length !== 1 || !scopes[0].endsWith('/.default'))
    throw aadsts.defaultScopeRequired(body.scope);
  const request = parseScopes(scopes[0], tenant);
  if ('error' in request)
    throw aadsts.invalidResource(request.error, tenant.displayName);
  const roles =
    request.resource === 'graph' ? app.graphApplicationPermissions : [];
  const access = await createAccessToken(
    emulator,
    tenant,
    app,
    request.resource,
    { roles, audience: request.audience },
  );
  return {
    token_type: 'Bearer',
    expires_in: access.expiresIn,
    ext_expires_in: access.expiresIn,
    access_token: access.token,
  };
}

function escapeAttr(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}
