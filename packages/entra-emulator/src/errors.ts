import { randomUUID } from 'node:crypto';

/** An error in the shape Entra's token endpoint returns. */
export interface AadstsErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri?: string;
}

/** An OAuth error with its AADSTS code, the HTTP status Entra uses, and the JSON body. */
export class AadstsError extends Error {
  readonly code: number;
  readonly error: string;
  readonly status: number;
  /** The message without its `AADSTSnnnn:` prefix. */
  readonly detail: string;

  constructor(code: number, error: string, message: string, status = 400) {
    super(`AADSTS${code}: ${message}`);
    this.code = code;
    this.error = error;
    this.status = status;
    this.detail = message;
  }

  /** The same AADSTS error under another OAuth `error` value (e.g. `interaction_required`). */
  withError(error: string): AadstsError {
    return new AadstsError(this.code, error, this.detail, this.status);
  }

  body(now: Date, correlationId?: string): AadstsErrorBody {
    const traceId = randomUUID();
    const correlation = correlationId ?? randomUUID();
    return {
      error: this.error,
      error_description: `${
        this.message
      } Trace ID: ${traceId} Correlation ID: ${correlation} Timestamp: ${now
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')}`,
      error_codes: [this.code],
      timestamp: now
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z'),
      trace_id: traceId,
      correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${this.code}`,
    };
  }
}

/** The AADSTS errors the emulator gives, with Entra's codes and wording. */
export const aadsts = {
  missingParameter: (name: string) =>
    new AadstsError(
      900144,
      'invalid_request',
      `The request body must contain the following parameter: '${name}'.`,
    ),
  invalidParameter: (name: string) =>
    new AadstsError(
      90100,
      'invalid_request',
      `The parameter '${name}' is empty or not valid: it is given more than once.`,
    ),
  tenantNotFound: (tenant: string) =>
    new AadstsError(
      90002,
      'invalid_tenant',
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    ),
  unknownClient: (clientId: string, tenantName: string) =>
    new AadstsError(
      700016,
      'unauthorized_client',
      `Application with identifier '${clientId}' was not found in the directory '${tenantName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    ),
  redirectMismatch: (redirectUri: string, clientId: string) =>
    new AadstsError(
      50011,
      'invalid_request',
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`,
    ),
  noReplyAddress: (clientId: string) =>
    new AadstsError(
      900971,
      'invalid_request',
      `No reply address provided. (application '${clientId}')`,
    ),
  invalidSecret: (clientId: string) =>
    new AadstsError(
      7000215,
      'invalid_client',
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      401,
    ),
  expiredSecret: (clientId: string) =>
    new AadstsError(
      7000222,
      'invalid_client',
      `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      401,
    ),
  missingClientAuth: () =>
    new AadstsError(
      7000218,
      'invalid_client',
      `The request body must contain the following parameter: 'client_assertion' or 'client_secret'.`,
      401,
    ),
  assertionSignature: (clientId: string) =>
    new AadstsError(
      700027,
      'invalid_client',
      `Client assertion failed signature validation. (application '${clientId}')`,
      401,
    ),
  assertionInvalid: (detail: string) =>
    new AadstsError(
      50027,
      'invalid_client',
      `JWT token is invalid or malformed. ${detail}`,
      401,
    ),
  assertionExpired: () =>
    new AadstsError(
      700024,
      'invalid_client',
      'Client assertion is not within its valid time range.',
      401,
    ),
  federatedNoIssuer: (issuer: string, subject: string) =>
    new AadstsError(
      700211,
      'invalid_client',
      `No matching federated identity record found for presented assertion issuer '${issuer}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. Assertion subject: '${subject}'.`,
      401,
    ),
  federatedNoSubject: (issuer: string, subject: string) =>
    new AadstsError(
      700213,
      'invalid_client',
      `No matching federated identity record found for presented assertion subject '${subject}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. Assertion issuer: '${issuer}'.`,
      401,
    ),
  assertionAudience: () =>
    new AadstsError(
      700212,
      'invalid_client',
      'No matching federated identity record found for presented assertion audience.',
      401,
    ),
  assertionReplay: () =>
    new AadstsError(
      50027,
      'invalid_client',
      'JWT token is invalid or malformed. The client assertion (jti) was already used.',
      401,
    ),
  codeRedeemed: () =>
    new AadstsError(
      54005,
      'invalid_grant',
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    ),
  codeExpired: () =>
    new AadstsError(
      70008,
      'invalid_grant',
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    ),
  codeInvalid: () =>
    new AadstsError(
      9002313,
      'invalid_grant',
      'Invalid request. Request is malformed or invalid.',
    ),
  codeRedirectMismatch: (given: string, original: string) =>
    new AadstsError(
      500112,
      'invalid_grant',
      `The reply address '${given}' does not match the reply address '${original}' provided when requesting Authorization code.`,
    ),
  codeOtherTenant: () =>
    new AadstsError(
      700005,
      'invalid_grant',
      'Provided Authorization Code is intended to use against other tenant, thus rejected.',
    ),
  refreshOtherClient: () =>
    new AadstsError(
      70000,
      'invalid_grant',
      'Provided grant is invalid or malformed. The refresh token was issued to another client.',
    ),
  refreshOtherTenant: () =>
    new AadstsError(
      70000,
      'invalid_grant',
      'Provided grant is invalid or malformed. The refresh token was issued in another tenant.',
    ),
  codeOtherClient: () =>
    new AadstsError(
      70000,
      'invalid_grant',
      'Provided grant is invalid or malformed. The authorization code was issued to another client.',
    ),
  pkceRequired: () =>
    new AadstsError(
      9002325,
      'invalid_request',
      'Proof Key for Code Exchange is required for cross-origin authorization code redemption.',
    ),
  pkcePlain: () =>
    new AadstsError(
      501491,
      'invalid_request',
      "Invalid size of Code_Challenge parameter. This application requires code_challenge_method 'S256'.",
    ),
  pkceMethodUnknown: (method: string) =>
    new AadstsError(
      501491,
      'invalid_request',
      `Invalid code_challenge_method '${method}'. Supported values are 'S256' and 'plain'.`,
    ),
  pkceChallengeSize: () =>
    new AadstsError(
      501491,
      'invalid_request',
      'Invalid size of Code_Challenge parameter.',
    ),
  verifierMissing: () =>
    new AadstsError(
      50148,
      'invalid_grant',
      'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.',
    ),
  verifierMismatch: () =>
    new AadstsError(
      501481,
      'invalid_grant',
      'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
    ),
  unsupportedGrant: (grant: string) =>
    new AadstsError(
      70003,
      'unsupported_grant_type',
      `The app requested an unsupported grant type '${grant}'.`,
    ),
  unsupportedResponseType: (type: string) =>
    new AadstsError(
      700054,
      'unsupported_response_type',
      `response_type '${type}' is not enabled for the application.`,
    ),
  defaultScopeRequired: (scope: string) =>
    new AadstsError(
      1002012,
      'invalid_scope',
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  invalidResource: (resource: string, tenantName: string) =>
    new AadstsError(
      500011,
      'invalid_resource',
      `The resource principal named ${resource} was not found in the tenant named ${tenantName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    ),
  userDisabled: () =>
    new AadstsError(50057, 'invalid_grant', 'The user account is disabled.'),
  userNotAssigned: (userId: string, appId: string) =>
    new AadstsError(
      50105,
      'invalid_grant',
      `Your administrator has configured the application ${appId} to block users unless they are specifically granted ('assigned') access to the application. The signed in user '${userId}' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application.`,
    ),
  userFromOtherTenant: (upn: string, appId: string, tenantName: string) =>
    new AadstsError(
      50020,
      'invalid_request',
      `User account '${upn}' from identity provider does not exist in tenant '${tenantName}' and cannot access the application '${appId}' in that tenant.`,
    ),
  /** At the authorize endpoint the error is `consent_required`; at the token endpoint `invalid_grant`. */
  consentRequired: (appId: string, appName: string, error = 'invalid_grant') =>
    new AadstsError(
      65001,
      error,
      `The user or administrator has not consented to use the application with ID '${appId}' named '${appName}'. Send an interactive authorization request for this user and resource.`,
    ),
  multipleResources: (scope: string) =>
    new AadstsError(
      28000,
      'invalid_scope',
      `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scope} is not valid.`,
    ),
  unsupportedResponseMode: (mode: string) =>
    new AadstsError(
      70007,
      'invalid_request',
      `The application returned an unsupported value '${mode}' of response_mode when requesting a token.`,
    ),
  grantNotOnCommon: () =>
    new AadstsError(
      9001023,
      'invalid_request',
      'The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.',
    ),
  noTenantRealm: () =>
    new AadstsError(
      50059,
      'invalid_request',
      'No tenant-identifying information found in either the request or implied by any provided credentials.',
    ),
  assertionIssuerMismatch: () =>
    new AadstsError(
      50048,
      'invalid_client',
      'Subject mismatches Issuer claim in the client assertion.',
      401,
    ),
  assertionOtherClient: (clientId: string) =>
    new AadstsError(
      700021,
      'invalid_client',
      `Client assertion application identifier doesn't match 'client_id' parameter '${clientId}'.`,
      401,
    ),
  flowExpired: () =>
    new AadstsError(
      50089,
      'invalid_request',
      'Authentication failed due to flow token expired. Start the sign-in again from the application.',
    ),
  notMultiTenant: (appId: string, name: string) =>
    new AadstsError(
      50194,
      'invalid_request',
      `Application '${appId}'(${name}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.`,
    ),
  loginRequired: () =>
    new AadstsError(
      50058,
      'login_required',
      'A silent sign-in request was sent but no user is signed in.',
    ),
  refreshExpired: () =>
    new AadstsError(
      700082,
      'invalid_grant',
      'The refresh token has expired due to inactivity. The token was issued on a date and was inactive for 90 days.',
    ),
};
