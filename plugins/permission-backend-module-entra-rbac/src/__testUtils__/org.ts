import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { ConfigReader } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { RbacConfig, readRbacConfig } from '../config';
import {
  CatalogMembershipResolver,
  CatalogOwnerIndex,
  EntraClaimsReader,
} from '../identity';
import { EntraRbacPolicy } from '../policy';

export const IDS = {
  engineering: '11111111-1111-4111-8111-111111111111',
  payments: '22222222-2222-4222-8222-222222222222',
  paymentsApi: '33333333-3333-4333-8333-333333333333',
  web: '44444444-4444-4444-8444-444444444444',
  admins: '55555555-5555-4555-8555-555555555555',
  joni: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
  lidia: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
};

const rel = (type: string, targetRef: string) => ({ type, targetRef });

/** A Group entity as the catalog stores it after processing (relations included). */
export function group(
  name: string,
  id: string,
  parents: string[] = [],
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: {
      name,
      namespace: 'default',
      annotations: { 'graph.microsoft.com/group-id': id },
    },
    spec: { type: 'team', profile: { displayName: name }, children: [] },
    relations: parents.map(p => rel('childOf', `group:default/${p}`)),
  };
}

export function user(name: string, id: string, groups: string[]): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name,
      namespace: 'default',
      annotations: { 'graph.microsoft.com/user-id': id },
    },
    spec: { memberOf: groups },
    relations: groups.map(g => rel('memberOf', `group:default/${g}`)),
  };
}

export function component(
  name: string,
  owner: string,
  extra: {
    tags?: string[];
    annotations?: Record<string, string>;
    namespace?: string;
  } = {},
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: extra.namespace ?? 'default',
      ...(extra.tags ? { tags: extra.tags } : {}),
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: { type: 'service', lifecycle: 'production', owner },
    relations: [rel('ownedBy', owner)],
  };
}

/** Engineering > Payments > Payments API (Joni); Web (Lidia); components they own. */
export function contosoEntities(): Entity[] {
  return [
    group('engineering', IDS.engineering),
    group('payments', IDS.payments, ['engineering']),
    group('payments-api', IDS.paymentsApi, ['payments']),
    group('web', IDS.web, ['engineering']),
    group('gatehouse-admins', IDS.admins),
    user('joni.sherman', IDS.joni, ['payments-api']),
    user('lidia.holloway', IDS.lidia, ['web']),
    component('payments-ledger', 'group:default/payments', {
      tags: ['dotnet', 'azure'],
      annotations: { 'contoso.example/tier': 'gold' },
    }),
    component('contoso-web', 'group:default/web', { tags: ['react'] }),
    component('sandbox', 'group:default/web', { namespace: 'labs' }),
  ];
}

/** A policy over an in-memory catalog, with the audit events it wrote. */
export function makePolicy(options: {
  entities?: Entity[];
  rbac?: object;
  config?: () => RbacConfig;
}) {
  const catalog = catalogServiceMock({
    entities: options.entities ?? contosoEntities(),
  });
  const auditor = mockServices.auditor.mock();
  const events: { eventId: string; meta: any; outcome?: string }[] = [];
  auditor.createEvent.mockImplementation(async opts => {
    const event: { eventId: string; meta: any; outcome?: string } = {
      eventId: opts.eventId,
      meta: opts.meta,
    };
    events.push(event);
    return {
      success: async () => {
        event.outcome = 'success';
      },
      fail: async () => {
        event.outcome = 'fail';
      },
    };
  });
  const rbac =
    options.config ??
    (() => {
      const c = readRbacConfig(
        new ConfigReader({
          permission: { entraRbac: (options.rbac ?? {}) as JsonObject },
        }),
      );
      return () => c;
    })();
  const auth = mockServices.auth();
  const logger = mockServices.logger.mock();
  const memberships = new CatalogMembershipResolver(catalog, auth, 30_000);
  const claims = new EntraClaimsReader(
    mockServices.discovery(),
    logger,
    30_000,
  );
  const policy = new EntraRbacPolicy({
    current: rbac,
    memberships,
    owners: new CatalogOwnerIndex(catalog, auth, 30_000),
    claims,
    catalog,
    auth,
    auditor,
    logger,
  });
  return { policy, catalog, events, memberships };
}

/** Credentials carrying a Backstage user token with Entra claims (unsigned: the auth service verified it upstream). */
export function userWithToken(
  userEntityRef: string,
  claims: Record<string, unknown>,
): BackstageCredentials {
  const credentials = mockCredentials.user(userEntityRef);
  const b64 = (o: object) =>
    Buffer.from(JSON.stringify(o)).toString('base64url');
  Object.defineProperty(credentials, 'token', {
    enumerable: false,
    value: `${b64({ typ: 'vnd.backstage.user', alg: 'ES256' })}.${b64({
      sub: userEntityRef,
      ...claims,
    })}.sig`,
  });
  return credentials;
}

/** What the permission backend passes to the policy for a user. */
export function queryUser(
  userEntityRef: string,
  credentials?: BackstageCredentials,
) {
  return {
    credentials: credentials ?? mockCredentials.user(userEntityRef),
    info: { userEntityRef, ownershipEntityRefs: [userEntityRef] },
  };
}
