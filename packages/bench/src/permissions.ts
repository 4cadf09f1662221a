/*
 * `yarn bench:permissions`: permission decisions through the real permission and catalog
 * backends, the Entra RBAC policy against allow-all, in the same run and the same backend
 * (batches alternate between the two policies, so both see the same machine load).
 */
import {
  coreServices,
  createBackendModule,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  catalogProcessingExtensionPoint,
  catalogServiceRef,
} from '@backstage/plugin-catalog-node';
import permissionPlugin from '@backstage/plugin-permission-backend';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { createEntraRbacPolicy } from '@gatehouse/plugin-permission-backend-module-entra-rbac';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { machineInfo, MachineInfo } from './common';

export interface PermissionsBenchOptions {
  /** Components in the catalog. */
  entities: number;
  /** Groups the user is in, through nesting (levels x width). */
  levels: number;
  width: number;
  /** How many of the user's groups own components (spread over the levels). */
  owning: number;
  /** Measured batches per scenario and policy (after warm-up). */
  batches: number;
  batchSize: number;
  log?: (line: string) => void;
}

export const DEFAULTS: PermissionsBenchOptions = {
  entities: 20_000,
  levels: 30,
  width: 10,
  owning: 10,
  batches: 100,
  batchSize: 100,
};

type PolicyName = 'entra-rbac' | 'allow-all';

export interface ScenarioResult {
  scenario: string;
  policy: PolicyName;
  batches: number;
  p50: number;
  p99: number;
  max: number;
  /** Decisions that came back ALLOW (authorize) or entities returned (query). */
  allowed: number;
}

export interface PermissionsBenchResult {
  options: Omit<PermissionsBenchOptions, 'log'>;
  userGroups: number;
  setupSeconds: number;
  /** The first batch of a user nobody asked about yet: the catalog group walk included. */
  coldBatchMs: number;
  rows: ScenarioResult[];
  machine: MachineInfo;
  date: string;
}

const USER = 'user:default/bench-user';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** The org and the components: the user's 300 groups, as many not theirs, 20k components. */
export function benchEntities(o: PermissionsBenchOptions): Entity[] {
  const entities: Entity[] = [];
  const annotations = (id: string) => ({
    'backstage.io/managed-by-location': 'bench:permissions',
    'backstage.io/managed-by-origin-location': 'bench:permissions',
    'graph.microsoft.com/group-id': id,
  });
  const groupName = (side: string, level: number, i: number) =>
    `${side}-l${level}-g${i}`;
  const guid = (n: number) =>
    `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  let n = 0;
  for (const side of ['mine', 'other']) {
    for (let level = 0; level < o.levels; level++) {
      for (let i = 0; i < o.width; i++) {
        entities.push({
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Group',
          metadata: {
            name: groupName(side, level, i),
            annotations: annotations(guid(++n)),
          },
          spec: {
            type: 'team',
            children: [],
            // Each group sits in the group of the same column one level up: the user, in
            // the 10 groups of level 0, is in all 300 through nesting.
            ...(level + 1 < o.levels
              ? { parent: groupName(side, level + 1, i) }
              : {}),
          },
        });
      }
    }
  }
  entities.push({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: 'bench-user',
      annotations: {
        'backstage.io/managed-by-location': 'bench:permissions',
        'backstage.io/managed-by-origin-location': 'bench:permissions',
      },
    },
    spec: {
      memberOf: Array.from({ length: o.width }, (_, i) =>
        groupName('mine', 0, i),
      ),
    },
  });
  // Half the components are owned by `owning` of the user's groups, spread over the levels
  // (a member of a level-0 group owns them through up to 29 levels of nesting), half by
  // groups the user is not in.
  const total = o.levels * o.width;
  const owningGroups = Array.from({ length: o.owning }, (_, k) => {
    const index = Math.floor((k * total) / o.owning);
    return groupName('mine', Math.floor(index / o.width), index % o.width);
  });
  for (let c = 0; c < o.entities; c++) {
    const half = Math.floor(c / 2);
    const owner =
      c % 2 === 0
        ? owningGroups[half % owningGroups.length]
        : groupName(
            'other',
            half % o.levels,
            Math.floor(half / o.levels) % o.width,
          );
    entities.push({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: `component-${c}`,
        annotations: {
          'backstage.io/managed-by-location': 'bench:permissions',
          'backstage.io/managed-by-origin-location': 'bench:permissions',
        },
      },
      spec: {
        type: 'service',
        lifecycle: 'production',
        owner: `group:default/${owner}`,
      },
    });
  }
  return entities;
}

/**
 * The real auth mocks drop the `actor` of on-behalf-of tokens, which the permission backend
 * then takes for direct user requests (and refuses resource checks without a resourceRef);
 * this adds it back, as Backstage's real auth service has it.
 */
const authWithActor = createServiceFactory({
  service: coreServices.auth,
  deps: { plugin: coreServices.pluginMetadata },
  factory({ plugin }) {
    const auth = mockServices.auth({ pluginId: plugin.getId() });
    const authenticate = auth.authenticate.bind(auth);
    auth.authenticate = (async (token: string, options?: any) => {
      const credentials = await authenticate(token, options);
      const prefix = 'mock-service-token:';
      if (
        token.startsWith(prefix) &&
        JSON.parse(token.slice(prefix.length)).obo
      ) {
        return mockCredentials.user(
          (credentials.principal as { userEntityRef: string }).userEntityRef,
          { actor: { subject: 'plugin:caller' } },
        );
      }
      return credentials;
    }) as typeof auth.authenticate;
    return auth;
  },
});

/** Switches between the two policies under test, batch by batch. */
class SwitchPolicy implements PermissionPolicy {
  active: PolicyName = 'entra-rbac';
  constructor(readonly policies: Record<PolicyName, PermissionPolicy>) {}
  handle(request: PolicyQuery, user?: PolicyQueryUser) {
    return this.policies[this.active].handle(request, user);
  }
}

export async function runPermissionsBench(
  options: Partial<PermissionsBenchOptions> = {},
): Promise<PermissionsBenchResult> {
  const o = { ...DEFAULTS, ...options };
  const log = o.log ?? (() => {});
  const load = os.loadavg()[0];
  const entities = benchEntities(o);
  let switcher: SwitchPolicy | undefined;

  const provider = createBackendModule({
    pluginId: 'catalog',
    moduleId: 'bench-entities',
    register(reg) {
      reg.registerInit({
        deps: { processing: catalogProcessingExtensionPoint },
        async init({ processing }) {
          processing.addEntityProvider({
            getProviderName: () => 'bench',
            async connect(connection) {
              await connection.applyMutation({
                type: 'full',
                entities: entities.map(entity => ({
                  entity,
                  locationKey: 'bench',
                })),
              });
            },
          });
        },
      });
    },
  });

  const policies = createBackendModule({
    pluginId: 'permission',
    moduleId: 'bench-policies',
    register(reg) {
      reg.registerInit({
        deps: {
          policy: policyExtensionPoint,
          config: coreServices.rootConfig,
          logger: coreServices.logger,
          auditor: coreServices.auditor,
          auth: coreServices.auth,
          discovery: coreServices.discovery,
          catalog: catalogServiceRef,
        },
        async init(deps) {
          const { policy } = createEntraRbacPolicy(deps);
          switcher = new SwitchPolicy({
            'entra-rbac': policy,
            'allow-all': {
              handle: async () => ({ result: AuthorizeResult.ALLOW }),
            },
          });
          deps.policy.setPolicy(switcher);
        },
      });
    },
  });

  const started = performance.now();
  log(
    `starting the catalog with ${entities.length} entities (${o.entities} components)`,
  );
  const backend = await startTestBackend({
    features: [
      catalogPlugin,
      permissionPlugin,
      provider,
      policies,
      authWithActor,
      httpAuthServiceFactory,
      mockServices.rootConfig.factory({
        data: {
          permission: {
            enabled: true,
            entraRbac: {
              // The built-in owner rule, and a read rule with conditions (instead of the
              // built-in "everyone reads"), so list queries are conditional catalog queries.
              defaults: false,
              roles: [
                {
                  name: 'owners',
                  members: [{ signedIn: true }],
                  rules: [
                    {
                      resourceType: 'catalog-entity',
                      actions: ['update', 'delete'],
                      conditions: { owner: true },
                    },
                  ],
                },
                {
                  name: 'scoped-readers',
                  // The user is in it through 29 levels of nesting.
                  members: [
                    { group: `group:default/mine-l${o.levels - 1}-g0` },
                  ],
                  rules: [
                    {
                      resourceType: 'catalog-entity',
                      actions: ['read'],
                      conditions: { owner: true, kinds: ['Component'] },
                    },
                  ],
                },
              ],
            },
          },
          catalog: { rules: [{ allow: ['Component', 'Group', 'User'] }] },
        },
      }),
      mockServices.rootLogger.factory({ level: 'warn' }),
    ],
  });
  const base = `http://localhost:${backend.server.port()}`;
  const headers = {
    authorization: mockCredentials.user.header(USER),
    'content-type': 'application/json',
  };
  try {
    // Wait for every entity to be processed and stitched.
    for (;;) {
      const res = await fetch(
        `${base}/api/catalog/entities/by-query?limit=1&filter=kind=component`,
        { headers: { authorization: mockCredentials.service.header() } },
      );
      const body = (await res.json()) as { totalItems: number };
      if (body.totalItems >= o.entities) break;
      log(`  ${body.totalItems} of ${o.entities} components stitched`);
      await new Promise(r => setTimeout(r, 5000));
    }
    const setupSeconds = (performance.now() - started) / 1000;
    log(`catalog ready in ${setupSeconds.toFixed(0)} s`);

    const refs = Array.from(
      { length: o.entities },
      (_, c) => `component:default/component-${c}`,
    );
    let cursor = 0;
    const authorizeBatch = async () => {
      const items = Array.from({ length: o.batchSize }, (_, k) => ({
        id: String(k),
        permission: {
          type: 'resource',
          name: 'catalog.entity.delete',
          attributes: { action: 'delete' },
          resourceType: 'catalog-entity',
        },
        resourceRef: refs[(cursor++ * 7919) % refs.length],
      }));
      const t0 = performance.now();
      const res = await fetch(`${base}/api/permission/authorize`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ items }),
      });
      const body = (await res.json()) as { items: { result: string }[] };
      const ms = performance.now() - t0;
      if (res.status !== 200) {
        throw new Error(`authorize: ${res.status} ${JSON.stringify(body)}`);
      }
      return {
        ms,
        allowed: body.items.filter(i => i.result === 'ALLOW').length,
      };
    };
    const policyUser = {
      credentials: mockCredentials.user(USER),
      info: { userEntityRef: USER, ownershipEntityRefs: [USER] },
    };
    const policyBatch = async () => {
      const t0 = performance.now();
      const decisions = await Promise.all(
        Array.from({ length: o.batchSize }, () =>
          switcher!.handle(
            {
              permission: {
                type: 'resource',
                name: 'catalog.entity.delete',
                attributes: { action: 'delete' },
                resourceType: 'catalog-entity',
              },
            },
            policyUser,
          ),
        ),
      );
      return {
        ms: performance.now() - t0,
        allowed: decisions.filter(d => d.result !== AuthorizeResult.DENY)
          .length,
      };
    };
    let page = 0;
    const queryBatch = async () => {
      const offset = (page++ * o.batchSize) % (o.entities / 2);
      const t0 = performance.now();
      const res = await fetch(
        `${base}/api/catalog/entities/by-query?filter=kind=component&limit=${o.batchSize}&offset=${offset}&fields=metadata.name,spec.owner`,
        { headers },
      );
      const body = (await res.json()) as { items: unknown[] };
      const ms = performance.now() - t0;
      if (res.status !== 200) {
        throw new Error(`by-query: ${res.status} ${JSON.stringify(body)}`);
      }
      return { ms, allowed: body.items.length };
    };

    // The first batch for the user: groups walked in the catalog (30 levels, 300 groups).
    switcher!.active = 'entra-rbac';
    const cold = await authorizeBatch();
    log(`cold first batch: ${cold.ms.toFixed(1)} ms`);

    const rows: ScenarioResult[] = [];
    for (const [scenario, run] of [
      [
        `policy: ${o.batchSize} × catalog.entity.delete, in-process handle() (no HTTP, no catalog)`,
        policyBatch,
      ],
      [
        `authorize: ${o.batchSize} × catalog.entity.delete with resourceRef (conditional, owner)`,
        authorizeBatch,
      ],
      [
        `query: by-query, ${o.batchSize} components a page (conditional read, owner + kind)`,
        queryBatch,
      ],
    ] as const) {
      const times: Record<PolicyName, number[]> = {
        'entra-rbac': [],
        'allow-all': [],
      };
      const allowed: Record<PolicyName, number> = {
        'entra-rbac': 0,
        'allow-all': 0,
      };
      // Warm-up, then alternate (and swap the order every batch).
      for (const p of ['entra-rbac', 'allow-all'] as const) {
        switcher!.active = p;
        await run();
      }
      for (let b = 0; b < o.batches; b++) {
        const order: PolicyName[] =
          b % 2 ? ['allow-all', 'entra-rbac'] : ['entra-rbac', 'allow-all'];
        for (const p of order) {
          switcher!.active = p;
          const r = await run();
          times[p].push(r.ms);
          allowed[p] += r.allowed;
        }
      }
      for (const p of ['entra-rbac', 'allow-all'] as const) {
        const sorted = [...times[p]].sort((a, b) => a - b);
        rows.push({
          scenario,
          policy: p,
          batches: sorted.length,
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          max: sorted[sorted.length - 1],
          allowed: allowed[p],
        });
      }
      log(`done: ${scenario}`);
    }
    return {
      options: {
        entities: o.entities,
        levels: o.levels,
        width: o.width,
        owning: o.owning,
        batches: o.batches,
        batchSize: o.batchSize,
      },
      userGroups: o.levels * o.width,
      setupSeconds,
      coldBatchMs: cold.ms,
      rows,
      machine: machineInfo(load),
      date: new Date().toISOString(),
    };
  } finally {
    await backend.stop();
  }
}

function ratio(isRbac: boolean, rbacP99: number, allP99: number) {
  if (!isRbac) return '1×';
  // Sub-0.1 ms allow-all batches make a ratio meaningless.
  if (allP99 < 0.1) return 'n/a';
  return `${(rbacP99 / allP99).toFixed(2)}×`;
}

export function formatPermissionsBench(r: PermissionsBenchResult): string {
  const lines = [
    `| Scenario | Policy | Batches | p50 / batch (ms) | p99 / batch (ms) | max (ms) | p99 vs allow-all | Allowed |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ];
  for (let i = 0; i < r.rows.length; i += 2) {
    const [rbac, all] = [r.rows[i], r.rows[i + 1]];
    for (const row of [rbac, all]) {
      const cells = [
        row.scenario,
        row.policy,
        row.batches,
        row.p50.toFixed(1),
        row.p99.toFixed(1),
        row.max.toFixed(1),
        ratio(row === rbac, rbac.p99, all.p99),
        row.allowed,
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  const m = r.machine;
  const o = r.options;
  lines.push(
    '',
    `${o.batches} batches of ${o.batchSize} per scenario and policy (${
      o.batches * o.batchSize
    } decisions each), alternating between the policies; user in ${
      r.userGroups
    } groups (${o.width} direct, ${o.levels} levels of nesting), ${
      o.owning
    } of them owning components; ${
      o.entities
    } components, half owned by those groups, half by groups the user is not in. ` +
      `Cold first batch (group walk in the catalog): ${r.coldBatchMs.toFixed(
        1,
      )} ms. Catalog ready in ${r.setupSeconds.toFixed(0)} s.`,
    '',
    `${r.date} · ${m.cpu} · ${m.cores} cores · Node.js ${m.node} · ${
      m.platform
    } · load average at start ${m.loadAverage.toFixed(2)}`,
  );
  return lines.join('\n');
}

export async function runPermissionsCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      entities: { type: 'string' },
      batches: { type: 'string' },
      owning: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const result = await runPermissionsBench({
    ...(values.entities ? { entities: Number(values.entities) } : {}),
    ...(values.batches ? { batches: Number(values.batches) } : {}),
    ...(values.owning ? { owning: Number(values.owning) } : {}),
    log: line => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(
    values.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : `${formatPermissionsBench(result)}\n`,
  );
  return 0;
}
