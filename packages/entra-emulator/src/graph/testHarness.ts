/*
 * Helpers for the Graph tests: an emulator on a free port of 127.0.0.1, reached over real
 * HTTP with Node's fetch, and tokens obtained the way a client obtains them (client
 * credentials, or the authorization code flow with PKCE).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Clock } from '../Emulator';
import { RunningEmulator, startEmulator } from '../server';
import { stableGuid } from '../tenant/loadTenants';
import { EmulatedApplication, EmulatedTenantData } from '../tenant/types';

export const CONTOSO_TENANT = '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11';
export const CONTOSO_APP = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';
export const CONTOSO_REDIRECT =
  'http://localhost:7007/api/auth/microsoft/handler/frame';
export const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

/** A clock the tests move by hand. */
export class MovableClock implements Clock {
  current: Date;

  constructor(start = new Date('2025-03-03T09:00:00.000Z')) {
    this.current = start;
  }

  now = (): Date => this.current;

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface GraphResult {
  status: number;
  headers: Headers;
  body: any;
}

/** An app registration in the shape `parseTenants` produces, for tenants built in code. */
export function applicationFor(
  tenantId: string,
  appId: string,
  overrides: Partial<EmulatedApplication> = {},
): EmulatedApplication {
  return {
    id: stableGuid(tenantId, 'application', appId),
    appId,
    displayName: 'Test app',
    signInAudience: 'AzureADMyOrg',
    redirectUris: [],
    logoutUris: [],
    passwordCredentials: [],
    keyCredentials: [],
    federatedIdentityCredentials: [],
    groupMembershipClaims: 'None',
    appRoles: [],
    appRoleAssignments: [],
    appRoleAssignmentRequired: false,
    graphApplicationPermissions: ['User.Read.All', 'GroupMember.Read.All'],
    graphDelegatedPermissions: [
      'User.Read',
      'openid',
      'profile',
      'email',
      'offline_access',
    ],
    requirePkce: true,
    ...overrides,
  };
}

export class GraphHarness {
  private readonly secrets = new Map<string, string>();

  private constructor(
    readonly running: RunningEmulator,
    readonly clock: MovableClock,
  ) {}

  static async start(options: {
    tenants: EmulatedTenantData[];
    deltaPageSize?: number;
    clock?: MovableClock;
  }): Promise<GraphHarness> {
    const clock = options.clock ?? new MovableClock();
    const running = await startEmulator({
      tenants: options.tenants,
      port: 0,
      host: '127.0.0.1',
      publicHost: '127.0.0.1',
      clock,
      deltaPageSize: options.deltaPageSize,
    });
    return new GraphHarness(running, clock);
  }

  get url(): string {
    return this.running.url;
  }

  get emulator() {
    return this.running.emulator;
  }

  close(): Promise<void> {
    return this.running.close();
  }

  secretFor(appId: string): string {
    let secret = this.secrets.get(appId);
    if (!secret) {
      secret = this.emulator.addClientSecret(appId).secretText;
      this.secrets.set(appId, secret);
    }
    return secret;
  }

  /** POSTs a form to the token endpoint and returns the JSON answer. */
  async tokenRequest(
    tenantId: string,
    form: Record<string, string>,
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}/${tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: await res.json() };
  }

  /** An app-only token from the client credentials grant (a secret added as an admin would). */
  async appToken(
    appId = CONTOSO_APP,
    tenantId = CONTOSO_TENANT,
    scope = GRAPH_DEFAULT_SCOPE,
  ): Promise<string> {
    const res = await this.tokenRequest(tenantId, {
      grant_type: 'client_credentials',
      client_id: appId,
      client_secret: this.secretFor(appId),
      scope,
    });
    if (res.status !== 200)
      throw new Error(`token request failed: ${JSON.stringify(res.body)}`);
    return res.body.access_token;
  }

  /**
   * A user's tokens from the authorization code flow with PKCE: the authorize request, the
   * emulator's account picker (choosing `userId`), and the code redemption.
   */
  async userTokens(options: {
    userId: string;
    scope: string;
    appId?: string;
    tenantId?: string;
    redirectUri?: string;
  }): Promise<{ access_token: string; id_token?: string }> {
    const appId = options.appId ?? CONTOSO_APP;
    const tenantId = options.tenantId ?? CONTOSO_TENANT;
    const redirectUri = options.redirectUri ?? CONTOSO_REDIRECT;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = new URL(`${this.url}/${tenantId}/oauth2/v2.0/authorize`);
    for (const [k, v] of Object.entries({
      client_id: appId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: options.scope,
      state: 'test-state',
      nonce: 'test-nonce',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      prompt: 'login',
    })) {
      authorize.searchParams.set(k, v);
    }
    const page = await fetch(authorize, { redirect: 'manual' });
    const html = await page.text();
    const txn = /name="txn" value="([^"]+)"/.exec(html)?.[1];
    if (!txn)
      throw new Error(
        `no sign-in transaction in the authorize page (${page.status})`,
      );
    const select = await fetch(
      `${this.url}/${tenantId}/oauth2/v2.0/authorize/select`,
      {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ txn, user: options.userId }).toString(),
      },
    );
    const location = select.headers.get('location');
    const code = location ? new URL(location).searchParams.get('code') : null;
    if (!code)
      throw new Error(`no code after sign-in (${select.status} ${location})`);
    const token = await this.tokenRequest(tenantId, {
      grant_type: 'authorization_code',
      client_id: appId,
      client_secret: this.secretFor(appId),
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
    if (token.status !== 200)
      throw new Error(`code redemption failed: ${JSON.stringify(token.body)}`);
    return token.body;
  }

  /** A Graph request: `path` below `/v1.0`, or an absolute link (a nextLink or deltaLink). */
  async graph(
    method: string,
    pathOrUrl: string,
    token: string | undefined,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<GraphResult> {
    const url = /^https?:/.test(pathOrUrl)
      ? pathOrUrl
      : `${this.url}/v1.0${pathOrUrl}`;
    const headers: Record<string, string> = { ...options.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined)
      headers['content-type'] = 'application/json';
    const res = await fetch(url, {
      method,
      headers,
      body:
        options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  }

  get(
    pathOrUrl: string,
    token: string | undefined,
    headers?: Record<string, string>,
  ): Promise<GraphResult> {
    return this.graph('GET', pathOrUrl, token, { headers });
  }

  post(
    path: string,
    token: string | undefined,
    body: unknown,
  ): Promise<GraphResult> {
    return this.graph('POST', path, token, { body });
  }

  /** Follows `@odata.nextLink` until it is absent; returns every page. */
  async pages(path: string, token: string): Promise<GraphResult[]> {
    const pages: GraphResult[] = [];
    let next: string | undefined = path;
    while (next) {
      const page = await this.get(next, token);
      if (page.status !== 200)
        throw new Error(
          `page ${pages.length + 1}: ${page.status} ${JSON.stringify(
            page.body,
          )}`,
        );
      pages.push(page);
      next = page.body['@odata.nextLink'];
      if (pages.length > 10_000) throw new Error('paging does not end');
    }
    return pages;
  }

  /** A request to the emulator's admin API. */
  async admin(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }> {
    let payload: string | undefined;
    if (typeof body === 'string') payload = body;
    else if (body !== undefined) payload = JSON.stringify(body);
    const res = await fetch(`${this.url}/_emulator${path}`, {
      method,
      headers:
        payload === undefined ? {} : { 'content-type': 'application/json' },
      body: payload,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
}

/** Graph's date format in `innerError.date`: ISO 8601 to the second, no zone. */
export function graphDate(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, '');
}

/**
 * Asserts Graph's error shape: `{ error: { code, message, innerError: { date, request-id,
 * client-request-id } } }`, with the request id also in the `request-id` header.
 */
export function expectGraphError(
  res: GraphResult,
  status: number,
  code: string,
  clock?: MovableClock,
): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({
    status,
    code,
  });
  const error = res.body.error;
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  if (clock) expect(error.innerError.date).toBe(graphDate(clock.now()));
  expect(error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.headers.get('request-id')).toBe(error.innerError['request-id']);
  expect(typeof error.innerError['client-request-id']).toBe('string');
}

/** The payload of a JWT, decoded without verification (tests only). */
export function jwtPayload(token: string): Record<string, any> {
  return JSON.parse(
    Buffer.from(token.split('.')[1], 'base64url').toString('utf8'),
  );
}
