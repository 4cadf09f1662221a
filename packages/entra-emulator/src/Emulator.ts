import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SigningKeys } from './keys';
import { TenantStore } from './tenant/TenantStore';
import { EmulatedTenantData, EmulatedUser } from './tenant/types';
import { newSecretText, sha256Hex } from './tenant/loadTenants';
import { FaultInjector } from './faults';

/** Microsoft Graph's application id; also accepted as the audience of Graph tokens. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
/** Azure DevOps' resource id. */
export const AZURE_DEVOPS_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';

/** A clock the emulator reads; tests move it to expire codes, tokens and secrets. */
export interface Clock {
  now(): Date;
}

export interface EmulatorOptions {
  tenants: EmulatedTenantData[];
  clock?: Clock;
  /** Objects (and member references) per delta page. Default 100, at most 999. */
  deltaPageSize?: number;
  /** Lifetime of access and ID tokens, seconds. Default 3600 (Entra's average). */
  tokenLifetimeSeconds?: number;
  /** Lifetime of authorization codes, seconds. Default 600. */
  codeLifetimeSeconds?: number;
}

export interface AuthorizationCode {
  code: string;
  tenantId: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
  redeemed: boolean;
}

export interface RefreshGrant {
  tenantId: string;
  clientId: string;
  userId: string;
  scopes: string[];
  expiresAt: number;
}

/**
 * The state of an emulator: tenants, signing keys, codes, refresh tokens and browser sessions.
 * HTTP routes (OIDC, Graph, admin) read and change it.
 */
export class Emulator {
  readonly tenants = new Map<string, TenantStore>();
  readonly clock: Clock;
  readonly faults = new FaultInjector();
  readonly deltaPageSize: number;
  readonly tokenLifetimeSeconds: number;
  readonly codeLifetimeSeconds: number;
  /**
   * The secret a managed identity endpoint expects in `X-IDENTITY-HEADER` (as Azure Container
   * Apps and App Service hand it to the app in `IDENTITY_HEADER`).
   */
  readonly identityHeader = randomBytes(16).toString('hex');
  /** Where the emulator is reached (set when it listens), e.g. `http://localhost:7100`. */
  baseUrl = 'http://localhost';

  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  private readonly sessions = new Map<
    string,
    { tenantId: string; userId: string }
  >();
  private readonly usedAssertionIds = new Map<string, number>();

  private constructor(readonly keys: SigningKeys, options: EmulatorOptions) {
    this.clock = options.clock ?? { now: () => new Date() };
    const size = options.deltaPageSize ?? 100;
    if (size < 1 || size > 999)
      throw new Error('deltaPageSize must be between 1 and 999');
    this.deltaPageSize = size;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
    this.codeLifetimeSeconds = options.codeLifetimeSeconds ?? 600;
    for (const t of options.tenants) this.tenants.set(t.id, new TenantStore(t));
  }

  static async create(options: EmulatorOptions): Promise<Emulator> {
    return new Emulator(await SigningKeys.create(), options);
  }

  nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  /** Finds a tenant by GUID or verified domain. */
  findTenant(idOrDomain: string): TenantStore | undefined {
    const key = idOrDomain.toLowerCase();
    return (
      this.tenants.get(key) ??
      [...this.tenants.values()].find(t => t.domains.includes(key))
    );
  }

  /** The tenant an application is registered in (its home tenant). */
  findApplicationHome(appId: string): TenantStore | undefined {
    return [...this.tenants.values()].find(t => t.getApplication(appId));
  }

  /**
   * Adds a client secret to an app registration and returns its text, which is shown once,
   * as in the Entra admin center. Only a hash is kept.
   */
  addClientSecret(
    appId: string,
    options: {
      displayName?: string;
      endDateTime?: Date;
      startDateTime?: Date;
    } = {},
  ): { keyId: string; secretText: string; endDateTime: string } {
    const tenant = this.findApplicationHome(appId);
    const app = tenant?.getApplication(appId);
    if (!app) throw new Error(`No application ${appId} in any emulated tenant`);
    const secretText = newSecretText();
    const start = options.startDateTime ?? this.clock.now();
    const end =
      options.endDateTime ?? new Date(start.getTime() + 180 * 24 * 3600 * 1000);
    const cred = {
      keyId: randomUUID(),
      displayName: options.displayName ?? 'emulator',
      hint: secretText.slice(0, 3),
      secretHash: sha256Hex(secretText),
      startDateTime: start.toISOString(),
      endDateTime: end.toISOString(),
    };
    app.passwordCredentials.push(cred);
    return { keyId: cred.keyId, secretText, endDateTime: cred.endDateTime };
  }

  issueCode(
    input: Omit<AuthorizationCode, 'code' | 'expiresAt' | 'redeemed'>,
  ): string {
    const code = `1.${randomBytes(48).toString('base64url')}`;
    this.codes.set(code, {
      ...input,
      code,
      expiresAt: this.nowSeconds() + this.codeLifetimeSeconds,
      redeemed: false,
    });
    return code;
  }

  getCode(code: string): AuthorizationCode | undefined {
    return this.codes.get(code);
  }

  issueRefreshToken(grant: Omit<RefreshGrant, 'expiresAt'>): string {
    const token = `1.${randomBytes(64).toString('base64url')}`;
    // Entra refresh tokens live 90 days (24 hours for SPAs).
    this.refreshTokens.set(token, {
      ...grant,
      expiresAt: this.nowSeconds() + 90 * 24 * 3600,
    });
    return token;
  }

  getRefreshGrant(token: string): RefreshGrant | undefined {
    return this.refreshTokens.get(token);
  }

  /** Revokes every refresh token of a user (as "revoke sessions" in Entra does). */
  revokeUserSessions(userId: string): void {
    for (const [token, grant] of this.refreshTokens) {
      if (grant.userId === userId) this.refreshTokens.delete(token);
    }
    for (const [sid, s] of this.sessions) {
      if (s.userId === userId) this.sessions.delete(sid);
    }
  }

  /** Records a client assertion's `jti`; false when it was used before (a replay). */
  useAssertionId(jti: string, exp: number): boolean {
    const now = this.nowSeconds();
    for (const [k, e] of this.usedAssertionIds)
      if (e < now) this.usedAssertionIds.delete(k);
    if (this.usedAssertionIds.has(jti)) return false;
    this.usedAssertionIds.set(jti, exp);
    return true;
  }

  startSession(tenantId: string, userId: string): string {
    const sid = randomBytes(24).toString('base64url');
    this.sessions.set(sid, { tenantId, userId });
    return sid;
  }

  getSession(
    sid: string | undefined,
  ): { tenantId: string; userId: string } | undefined {
    return sid ? this.sessions.get(sid) : undefined;
  }

  endSession(sid: string | undefined): void {
    if (sid) this.sessions.delete(sid);
  }

  /** The pairwise `sub` for a user and an app: stable per pair, different across apps. */
  pairwiseSubject(user: EmulatedUser, appId: string): string {
    return createHash('sha256')
      .update(`${appId}:${user.id}`)
      .digest('base64url')
      .slice(0, 43);
  }

  issuer(tenantId: string): string {
    return `${this.baseUrl}/${tenantId}/v2.0`;
  }

  /** Graph is served from the same origin; `/v1.0` is its version root. */
  get graphBaseUrl(): string {
    return `${this.baseUrl}/v1.0`;
  }
}
