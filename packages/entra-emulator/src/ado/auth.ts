import { AZURE_DEVOPS_RESOURCE } from '../Emulator';
import { sha256Hex } from '../tenant/loadTenants';
import { verifyBearer } from '../tokens';
import { AdoOrganization, AdoPrincipal, AdoStore } from './AdoStore';
import { PatScope } from './model';

/** Why a request was not let in. */
export type AuthFailure =
  | { failure: 'anonymous' }
  | { failure: 'invalid'; reason: string }
  | { failure: 'notMember'; principal: AdoPrincipal };

/**
 * Identifies the caller of an organization: a PAT as basic auth (any user name, the PAT as
 * password) or an Entra access token for Azure DevOps (`aud` 499b84ac-...) from the
 * organization's tenant. The principal must be a member of the organization.
 */
export async function authenticate(
  store: AdoStore,
  org: AdoOrganization,
  header: string | undefined,
): Promise<AdoPrincipal | AuthFailure> {
  if (!header) return { failure: 'anonymous' };
  const [scheme, ...rest] = header.trim().split(/\s+/);
  const value = rest.join(' ');
  let principal: AdoPrincipal;
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const token = colon >= 0 ? decoded.slice(colon + 1) : '';
    if (!token) return { failure: 'invalid', reason: 'no PAT in basic auth' };
    const hash = sha256Hex(token);
    const pat = org.pats.find(p => p.tokenHash === hash);
    if (!pat) return { failure: 'invalid', reason: 'unknown PAT' };
    if (Date.parse(pat.validTo) <= store.emulator.clock.now().getTime()) {
      return { failure: 'invalid', reason: 'the PAT has expired' };
    }
    const user = org.tenant.getUser(pat.userId);
    if (!user || !user.accountEnabled) {
      return { failure: 'invalid', reason: 'the PAT owner is disabled' };
    }
    principal = {
      kind: 'user',
      id: user.id,
      displayName: user.displayName,
      uniqueName: user.userPrincipalName,
      patScopes: pat.scopes,
    };
  } else if (/^bearer$/i.test(scheme)) {
    let claims: Record<string, any>;
    try {
      claims = await verifyBearer(store.emulator, header, [
        AZURE_DEVOPS_RESOURCE,
        `api://${AZURE_DEVOPS_RESOURCE}`,
      ]);
    } catch (e) {
      return { failure: 'invalid', reason: (e as Error).message };
    }
    if (claims.tid !== org.tenant.id) {
      return {
        failure: 'invalid',
        reason: 'the token is from another tenant than the organization',
      };
    }
    if (claims.idtyp === 'user') {
      const user = org.tenant.getUser(String(claims.oid));
      if (!user || !user.accountEnabled) {
        return { failure: 'invalid', reason: 'unknown or disabled user' };
      }
      principal = {
        kind: 'user',
        id: user.id,
        displayName: user.displayName,
        uniqueName: user.userPrincipalName,
      };
    } else {
      const clientId = String(claims.appid ?? claims.azp);
      const app = org.tenant.getApplication(clientId);
      const mi = org.tenant.managedIdentities.find(
        m => m.clientId === clientId,
      );
      principal = {
        kind: 'servicePrincipal',
        id: clientId,
        displayName: app?.displayName ?? mi?.name ?? clientId,
        uniqueName: clientId,
      };
    }
  } else {
    return { failure: 'invalid', reason: `unsupported scheme ${scheme}` };
  }
  if (!store.isMember(org, principal))
    return { failure: 'notMember', principal };
  return principal;
}

const IMPLIED: Record<PatScope, PatScope[]> = {
  full: [],
  'vso.code': ['vso.code_write', 'vso.code_manage'],
  'vso.code_write': ['vso.code_manage'],
  'vso.code_manage': [],
  'vso.build': ['vso.build_execute'],
  'vso.build_execute': [],
  'vso.project': [],
  'vso.graph_manage': [],
  'vso.security_manage': [],
};

/** Whether a PAT's scopes allow `needed` (Entra tokens are not scope-limited here). */
export function hasScope(principal: AdoPrincipal, needed?: PatScope): boolean {
  if (!needed || !principal.patScopes) return true;
  const s = principal.patScopes;
  return (
    s.includes('full') ||
    s.includes(needed) ||
    IMPLIED[needed].some(x => s.includes(x))
  );
}
