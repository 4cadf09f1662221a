/*
 * Shared by the OIDC/OAuth tests (oidc*.test.ts): a tenant set, an emulator on a free port with
 * a movable clock, and a small "browser" that drives the authorization code flow over HTTP.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import YAML from 'yaml';
import { Clock } from './Emulator';
import { defaultTenantFile } from './paths';
import { RunningEmulator, startEmulator } from './server';
import { parseTenants } from './tenant/loadTenants';
import { EmulatedTenantData } from './tenant/types';

export const CONTOSO = {
  id: '5f0c3a2e-8d4b-4f6a-9c1e-2b7d8e9f0a11',
  domain: 'contoso.example',
};
export const FABRIKAM = {
  id: '9b2f4e6a-1c3d-4e5f-8a7b-6c5d4e3f2a10',
  domain: 'fabrikam.example',
};

/** The portal's app registration in contoso.yaml. */
export const GATEHOUSE = {
  appId: '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82',
  redirectUri: 'http://localhost:7007/api/auth/microsoft/handler/frame',
  logoutUri: 'http://localhost:3000/',
};
/** A second app of Contoso: same users, another pairwise `sub`. */
export const WIKI = {
  appId: '2a1b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  redirectUri: 'https://wiki.contoso.example/signin-oidc',
  loopbackRedirectUri: 'http://localhost/wiki/callback',
  logoutUri: 'https://wiki.contoso.example/signed-out',
};
/** Users must be assigned (the Payments group is). */
export const PAYROLL = {
  appId: '3b2c4d5e-6f70-4a8b-9cad-1f2a3b4c5d6e',
  redirectUri: 'https://payroll.contoso.example/cb',
};
/** A multi-tenant app registered in Contoso. */
export const PARTNER = {
  appId: '4c3d5e6f-7081-4b9c-adbe-2a3b4c5d6e7f',
  redirectUri: 'https://partner.contoso.example/cb',
};
/** A daemon that authenticates with a certificate (client assertion). */
export const DAEMON = {
  appId: '5d4e6f70-8192-4cad-becf-3b4c5d6e7f80',
  graphApplicationPermissions: ['User.Read.All', 'GroupMember.Read.All'],
};
/** Fabrikam's own single-tenant app. */
export const INTRANET = {
  appId: '6e5f7081-92a3-4dbe-8fd0-4c5d6e7f8091',
  redirectUri: 'https://intranet.fabrikam.example/cb',
};

export const UPN = {
  alex: 'alex.wilber@contoso.example',
  joni: 'joni.sherman@contoso.example',
  henrietta: 'henrietta.mueller@contoso.example',
  morgan: 'morgan.lee@contoso.example',
  debra: 'debra.berger@contoso.example',
  casey: 'casey.jordan_fabrikam.example#EXT#@contoso.onmicrosoft.example',
  pat: 'pat.kim@fabrikam.example',
};

/**
 * Contoso from the seeded tenant file, with more app registrations, and a second tenant
 * (Fabrikam). Built as YAML text and read with parseTenants, as a tenant file would be.
 */
export function testTenants(
  options: { daemonPublicKeyPem?: string } = {},
): EmulatedTenantData[] {
  const doc = YAML.parse(fs.readFileSync(defaultTenantFile, 'utf8'));
  const contoso = doc.tenants.find((t: { id: string }) => t.id === CONTOSO.id);
  contoso.applications.push(
    {
      displayName: 'Contoso Wiki',
      appId: WIKI.appId,
      redirectUris: [WIKI.redirectUri, WIKI.loopbackRedirectUri],
      logoutUris: [WIKI.logoutUri],
    },
    {
      displayName: 'Payroll',
      appId: PAYROLL.appId,
      redirectUris: [PAYROLL.redirectUri],
      appRoleAssignmentRequired: true,
      appRoles: [{ value: 'Payroll.User' }],
      appRoleAssignments: [{ principal: 'Payments', role: 'Payroll.User' }],
    },
    {
      displayName: 'Partner Portal',
      appId: PARTNER.appId,
      signInAudience: 'AzureADMultipleOrgs',
      redirectUris: [PARTNER.redirectUri],
    },
    {
      displayName: 'Directory Daemon',
      appId: DAEMON.appId,
      graphApplicationPermissions: DAEMON.graphApplicationPermissions,
      ...(options.daemonPublicKeyPem
        ? { keyCredentials: [{ key: options.daemonPublicKeyPem }] }
        : {}),
    },
  );
  doc.tenants.push({
    id: FABRIKAM.id,
    displayName: 'Fabrikam',
    domains: [FABRIKAM.domain],
    users: [{ userPrincipalName: UPN.pat, displayName: 'Pat Kim' }],
    applications: [
      {
        displayName: 'Fabrikam Intranet',
        appId: INTRANET.appId,
        redirectUris: [INTRANET.redirectUri],
      },
    ],
  });
  return parseTenants(YAML.stringify(doc), 'test tenants');
}

/** A clock the tests move forward to expire codes, secrets and assertions. */
export class MovableClock implements Clock {
  current = new Date();
  now = (): Date => this.current;
  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

export interface Harness {
  running: RunningEmulator;
  /** e.g. `http://127.0.0.1:41234` */
  base: string;
  clock: MovableClock;
  /** Client secrets made at start, by app id. */
  secrets: Record<string, string>;
  userId(tenantId: string, upn: string): string;
  groupId(tenantId: string, displayName: string): string;
  close(): Promise<void>;
}

export async function startHarness(
  tenants: EmulatedTenantData[] = testTenants(),
): Promise<Harness> {
  const clock = new MovableClock();
  const running = await startEmulator({
    tenants,
    port: 0,
    clock,
    publicHost: '127.0.0.1',
  });
  const secrets: Record<string, string> = {};
  for (const t of tenants) {
    for (const a of t.applications) {
      secrets[a.appId] = running.emulator.addClientSecret(a.appId).secretText;
    }
  }
  const store = (tenantId: string) => {
    const s = running.emulator.tenants.get(tenantId);
    if (!s) throw new Error(`no tenant ${tenantId}`);
    return s;
  };
  return {
    running,
    base: running.url,
    clock,
    secrets,
    userId: (tenantId, upn) => {
      const u = store(tenantId).getUser(upn);
      if (!u) throw new Error(`no user ${upn}`);
      return u.id;
    },
    groupId: (tenantId, displayName) => {
      const g = store(tenantId)
        .listGroups()
        .find(x => x.displayName === displayName);
      if (!g) throw new Error(`no group ${displayName}`);
      return g.id;
    },
    close: () => running.close(),
  };
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** GET (or POST) to the authorize endpoint without following redirects. */
export async function authorize(
  h: Harness,
  params: Record<string, string | undefined>,
  options: { tenant?: string; cookie?: string; method?: 'GET' | 'POST' } = {},
): Promise<Response> {
  const url = new URL(
    `${h.base}/${options.tenant ?? CONTOSO.id}/oauth2/v2.0/authorize`,
  );
  const defined = Object.fromEntries(
    Object.entries(params).filter(([, v]) => v !== undefined),
  ) as Record<string, string>;
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.method === 'POST') {
    return fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        ...headers,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(defined).toString(),
    });
  }
  for (const [k, v] of Object.entries(defined)) url.searchParams.set(k, v);
  return fetch(url, { redirect: 'manual', headers });
}

export interface SignInPage {
  txn: string;
  action: string;
  users: Array<{ id: string; upn: string; hinted: boolean; label: string }>;
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Reads the emulator's sign-in page as a browser shows it: the form and its user buttons. */
export function parseSignInPage(html: string): SignInPage {
  const txn = /<input type="hidden" name="txn" value="([^"]*)">/.exec(html);
  const action = /<form method="post" action="([^"]*)">/.exec(html);
  if (!txn || !action) throw new Error(`not a sign-in page: ${html}`);
  const users = [
    ...html.matchAll(
      /<button class="user( hinted)?"[^>]*name="user" value="([^"]*)"[^>]*>([\s\S]*?)<\/button>/g,
    ),
  ].map(m => ({
    hinted: Boolean(m[1]),
    id: unescapeHtml(m[2]),
    upn: unescapeHtml(/<small>([\s\S]*?)<\/small>/.exec(m[3])?.[1] ?? ''),
    label: unescapeHtml(m[3].replace(/<[^>]+>/g, ' ')),
  }));
  return { txn: unescapeHtml(txn[1]), action: unescapeHtml(action[1]), users };
}

/** Posts the sign-in form: the person picked `userId`. */
export async function submitUser(
  page: SignInPage,
  userId: string,
  cookie?: string,
): Promise<Response> {
  return fetch(page.action, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams({ txn: page.txn, user: userId }).toString(),
  });
}

/** The `emulator_sso=...` pair from a response's Set-Cookie, for the next request. */
export function sessionCookie(res: Response): string | undefined {
  const c = res.headers
    .getSetCookie()
    .find(
      x => x.startsWith('emulator_sso=') && !x.startsWith('emulator_sso=;'),
    );
  return c?.split(';')[0];
}

export interface SignInResult {
  code: string;
  state?: string;
  location: URL;
  cookie?: string;
  verifier: string;
  redirectUri: string;
}

/**
 * A whole browser sign-in: authorize, pick the user on the page, follow the form post and
 * read the code from the redirect.
 */
export async function signIn(
  h: Harness,
  input: {
    clientId: string;
    redirectUri: string;
    upn: string;
    scope?: string;
    tenant?: string;
    nonce?: string;
    extra?: Record<string, string>;
  },
): Promise<SignInResult> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const res = await authorize(
    h,
    {
      client_id: input.clientId,
      response_type: 'code',
      redirect_uri: input.redirectUri,
      scope: input.scope ?? 'openid profile email offline_access User.Read',
      state,
      nonce: input.nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...input.extra,
    },
    { tenant: input.tenant },
  );
  const html = await res.text();
  if (res.status !== 200) {
    throw new Error(`authorize gave ${res.status}: ${html.slice(0, 500)}`);
  }
  const page = parseSignInPage(html);
  const user = page.users.find(
    u => u.upn.toLowerCase() === input.upn.toLowerCase(),
  );
  if (!user) throw new Error(`${input.upn} is not on the sign-in page`);
  const picked = await submitUser(page, user.id);
  const location = picked.headers.get('location');
  if (picked.status !== 302 || !location) {
    throw new Error(
      `sign-in gave ${picked.status}: ${(await picked.text()).slice(0, 500)}`,
    );
  }
  const url = new URL(location);
  const code = url.searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  expect(url.searchParams.get('state')).toBe(state);
  return {
    code,
    state: url.searchParams.get('state') ?? undefined,
    location: url,
    cookie: sessionCookie(picked),
    verifier,
    redirectUri: input.redirectUri,
  };
}

export interface TokenResult {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

/** POSTs a form to the token endpoint. */
export async function token(
  h: Harness,
  params: Record<string, string | undefined>,
  options: { tenant?: string; basic?: [string, string] } = {},
): Promise<TokenResult> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
  };
  if (options.basic) {
    const [id, secret] = options.basic.map(x => encodeURIComponent(x));
    headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString(
      'base64',
    )}`;
  }
  const defined = Object.fromEntries(
    Object.entries(params).filter(([, v]) => v !== undefined),
  ) as Record<string, string>;
  const res = await fetch(
    `${h.base}/${options.tenant ?? CONTOSO.id}/oauth2/v2.0/token`,
    { method: 'POST', headers, body: new URLSearchParams(defined).toString() },
  );
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Redeems a sign-in's code with the app's client secret. */
export function redeem(
  h: Harness,
  clientId: string,
  signedIn: SignInResult,
  overrides: Record<string, string | undefined> = {},
  options: { tenant?: string } = {},
): Promise<TokenResult> {
  return token(
    h,
    {
      grant_type: 'authorization_code',
      client_id: clientId,
      client_secret: h.secrets[clientId],
      code: signedIn.code,
      redirect_uri: signedIn.redirectUri,
      code_verifier: signedIn.verifier,
      ...overrides,
    },
    options,
  );
}

const TOKEN_FIELDS = ['access_token', 'id_token', 'refresh_token'];

/**
 * Asserts an Entra token-endpoint error: HTTP status, `error`, the AADSTS code, the full
 * error shape, and that no token came with it.
 */
export function expectAadstsError(
  result: { status: number; body: Record<string, any>; headers?: Headers },
  expected: { status?: number; error: string; code: number },
): void {
  const { body } = result;
  expect({ status: result.status, error: body.error }).toEqual({
    status: expected.status ?? 400,
    error: expected.error,
  });
  expect(body.error_codes).toEqual([expected.code]);
  expect(body.error_description).toMatch(
    new RegExp(`^AADSTS${expected.code}: `),
  );
  expect(typeof body.timestamp).toBe('string');
  expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  expect(body.trace_id).toMatch(guid);
  expect(body.correlation_id).toMatch(guid);
  expect(body.error_description).toContain(`Trace ID: ${body.trace_id}`);
  expect(body.error_description).toContain(
    `Correlation ID: ${body.correlation_id}`,
  );
  if (result.headers) {
    expect(result.headers.get('content-type')).toMatch(/^application\/json/);
  }
  for (const f of TOKEN_FIELDS) expect(body).not.toHaveProperty(f);
}

/**
 * Asserts an error shown on the emulator's own page (the redirect URI is not trusted, or
 * Entra never sends this error back): no redirect, the AADSTS code on the page.
 */
export async function expectPageError(
  res: Response,
  code: number,
): Promise<string> {
  const html = await res.text();
  expect(res.status).toBe(400);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(html).toContain(`<p id="error-code">AADSTS${code}</p>`);
  expect(html).toMatch(new RegExp(`<p id="error-message">AADSTS${code}: `));
  expect(html).not.toMatch(/name="txn"/);
  expect(html).not.toMatch(/[?&#]code=/);
  return html;
}

/** Asserts an error sent back to the app's redirect URI, without a code. */
export function expectRedirectError(
  res: Response,
  expected: {
    redirectUri: string;
    error: string;
    code: number;
    state?: string;
  },
): URL {
  expect(res.status).toBe(302);
  const location = res.headers.get('location');
  expect(location).toBeTruthy();
  const url = new URL(location!);
  expect(`${url.origin}${url.pathname}`).toBe(
    `${new URL(expected.redirectUri).origin}${
      new URL(expected.redirectUri).pathname
    }`,
  );
  expect(url.searchParams.get('error')).toBe(expected.error);
  expect(url.searchParams.get('error_description')).toMatch(
    new RegExp(`^AADSTS${expected.code}: `),
  );
  expect(url.searchParams.has('code')).toBe(false);
  expect(url.hash).toBe('');
  if (expected.state !== undefined) {
    expect(url.searchParams.get('state')).toBe(expected.state);
  }
  return url;
}
