import { parseEntityRef } from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { AzureDevOpsApi, defaultAzureDevOpsHost } from '../AzureDevOpsApi';
import { organizationInputs } from './inputs';

/** The Git Repositories security namespace of Azure DevOps. */
export const GIT_REPOSITORIES_NAMESPACE =
  '2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87';

/** Git repository permission bits (Read, and what a contributor gets). */
export const GIT_PERMISSIONS = {
  read: 2,
  // Read, Contribute, CreateBranch, CreateTag, ManageNote, PullRequestContribute
  contribute: 2 | 4 | 16 | 32 | 64 | 16384,
} as const;

const GROUP_ID_ANNOTATION = 'graph.microsoft.com/group-id';

/**
 * `azure:repo:grant`: gives an Entra group (a catalog Group from the Entra org sync, or an object
 * id) access to a repository: the group is added to the organization (Graph groups,
 * `originId`), then an allow entry is set on the repository's token in the Git Repositories
 * security namespace.
 */
export function createAzureRepoGrantAction(options: {
  config: Config;
  catalog: CatalogService;
}) {
  const api = AzureDevOpsApi.fromConfig(options.config);
  return createTemplateAction({
    id: 'azure:repo:grant',
    description:
      'Grants an Entra group (catalog Group with graph.microsoft.com/group-id, or an object id) read or contribute access to an Azure DevOps repository.',
    supportsDryRun: true,
    schema: {
      input: {
        ...organizationInputs,
        projectId: z =>
          z.string().describe('Project id (azure:repo:create output)'),
        repositoryId: z =>
          z.string().describe('Repository id (azure:repo:create output)'),
        group: z =>
          z
            .string()
            .describe(
              'Catalog Group ref (e.g. group:default/payments-api) or Entra group object id',
            ),
        access: z =>
          z
            .enum(['read', 'contribute'])
            .optional()
            .describe('Access to give. Default contribute'),
      },
      output: {
        groupObjectId: z => z.string(),
        descriptor: z => z.string(),
      },
    },
    async handler(ctx) {
      const host = ctx.input.host ?? defaultAzureDevOpsHost(options.config);
      const { organization } = ctx.input;
      const groupObjectId = await resolveGroup(ctx.input.group, async ref =>
        options.catalog.getEntityByRef(ref, {
          credentials: await ctx.getInitiatorCredentials(),
        }),
      );
      const token = `repoV2/${ctx.input.projectId}/${ctx.input.repositoryId}`;
      const access = ctx.input.access ?? 'contribute';
      const allow = GIT_PERMISSIONS[access];
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would grant Entra group ${groupObjectId} ${access} on ${token} in ${organization}`,
        );
        ctx.output('groupObjectId', groupObjectId);
        ctx.output('descriptor', 'dry-run');
        return;
      }
      // Graph and identities live on vssps.dev.azure.com in the service; other hosts (the
      // emulator, a proxy) serve them at the organization's own root.
      const graphHost = host === 'dev.azure.com' ? 'vssps.dev.azure.com' : host;
      const group = await api.request<{ descriptor: string }>(
        graphHost,
        organization,
        '/_apis/graph/groups?api-version=7.1-preview.1',
        { method: 'POST', body: { originId: groupObjectId } },
      );
      const identities = await api.request<{
        value: Array<{ descriptor: string }>;
      }>(
        graphHost,
        organization,
        `/_apis/identities?subjectDescriptors=${encodeURIComponent(
          group.descriptor,
        )}`,
      );
      const descriptor = identities.value[0]?.descriptor;
      if (!descriptor) {
        throw new Error(
          `Azure DevOps has no identity for group ${groupObjectId} (${group.descriptor})`,
        );
      }
      await api.request(
        host,
        organization,
        `/_apis/accesscontrolentries/${GIT_REPOSITORIES_NAMESPACE}`,
        {
          method: 'POST',
          body: {
            token,
            merge: true,
            accessControlEntries: [{ descriptor, allow, deny: 0 }],
          },
        },
      );
      ctx.logger.info(
        `Granted Entra group ${groupObjectId} ${access} on ${token}`,
      );
      ctx.output('groupObjectId', groupObjectId);
      ctx.output('descriptor', descriptor);
    },
  });
}

async function resolveGroup(
  group: string,
  getEntity: (ref: string) => Promise<
    | {
        kind: string;
        metadata: { annotations?: Record<string, string> };
      }
    | undefined
  >,
): Promise<string> {
  if (
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(
      group,
    )
  ) {
    return group;
  }
  const ref = parseEntityRef(group, { defaultKind: 'group' });
  const entity = await getEntity(
    `${ref.kind}:${ref.namespace}/${ref.name}`.toLowerCase(),
  );
  const id = entity?.metadata.annotations?.[GROUP_ID_ANNOTATION];
  if (!entity || entity.kind.toLowerCase() !== 'group' || !id) {
    throw new Error(
      `${group} is not a catalog Group with the ${GROUP_ID_ANNOTATION} annotation (an Entra group)`,
    );
  }
  return id;
}
