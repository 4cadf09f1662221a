import { Router } from 'express';
import { randomBytes } from 'node:crypto';
import { AZURE_DEVOPS_RESOURCE, Emulator, GRAPH_RESOURCE } from './Emulator';

/** The audience of tokens a managed identity presents as a federated client assertion. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/**
 * The managed identity endpoint of Azure Container Apps and App Service (api-version
 * 2019-08-01): `GET {IDENTITY_ENDPOINT}?resource=...&client_id=...` with the
 * `X-IDENTITY-HEADER` secret. Point `IDENTITY_ENDPOINT` at `{emulator}/msi/token` and
 * `IDENTITY_HEADER` at `emulator.identityHeader`.
 */
export function createManagedIdentityRouter(emulator: Emulator): Router {
  const router = Router();
  router.get('/msi/token', async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    if (req.headers['x-identity-header'] !== emulator.identityHeader) {
      res.status(401).json({
        statusCode: 401,
        message:
          'Unauthorized: the X-IDENTITY-HEADER header is missing or wrong.',
      });
      return;
    }
    if (q['api-version'] !== '2019-08-01') {
      res.status(400).json({
        statusCode: 400,
        message: `Unsupported api-version '${q['api-version']}'; use 2019-08-01.`,
      });
      return;
    }
    if (!q.resource) {
      res.status(400).json({
        statusCode: 400,
        message: "Required query variable 'resource' is missing.",
      });
      return;
    }
    const all = [...emulator.tenants.values()].flatMap(t =>
      t.managedIdentities.map(mi => ({ t, mi })),
    );
    // A user-assigned identity is picked by id; without one, the system-assigned identity
    // (or the only identity there is).
    const system = all.filter(x => x.mi.systemAssigned);
    let match = system.length === 1 ? system : [];
    if (!match.length && all.length === 1) match = all;
    if (q.client_id) match = all.filter(x => x.mi.clientId === q.client_id);
    else if (q.principal_id) {
      match = all.filter(x => x.mi.principalId === q.principal_id);
    }
    if (match.length !== 1) {
      res.status(400).json({
        statusCode: 400,
        message:
          q.client_id || q.principal_id
            ? 'No managed identity with that id is assigned to this app.'
            : 'Several (or no) managed identities are assigned: pass client_id.',
      });
      return;
    }
    const { t, mi } = match[0];
    const resource = q.resource.replace(/\/\.default$/, '').replace(/\/$/, '');
    const known = [
      TOKEN_EXCHANGE_AUDIENCE,
      GRAPH_RESOURCE,
      AZURE_DEVOPS_RESOURCE,
    ];
    if (!known.includes(resource)) {
      res.status(400).json({
        statusCode: 400,
        message: `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${t.displayName}.`,
      });
      return;
    }
    const now = emulator.nowSeconds();
    const expiresOn = now + emulator.tokenLifetimeSeconds;
    const v1 = resource !== TOKEN_EXCHANGE_AUDIENCE;
    const token = await emulator.keys.sign({
      aud: resource,
      iss: v1 ? `${emulator.baseUrl}/${t.id}/` : emulator.issuer(t.id),
      iat: now,
      nbf: now,
      exp: expiresOn,
      sub: mi.principalId,
      oid: mi.principalId,
      tid: t.id,
      [v1 ? 'appid' : 'azp']: mi.clientId,
      idtyp: 'app',
      uti: randomBytes(16).toString('base64url'),
      ver: v1 ? '1.0' : '2.0',
      ...(resource === GRAPH_RESOURCE
        ? { roles: mi.graphApplicationPermissions ?? [] }
        : {}),
    });
    res.json({
      access_token: token,
      expires_on: String(expiresOn),
      resource: q.resource,
      token_type: 'Bearer',
      client_id: mi.clientId,
    });
  });
  return router;
}
