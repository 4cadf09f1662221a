import { Config } from '@backstage/config';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  AzureDevOpsApi,
  azureDevOpsOrigin,
  defaultAzureDevOpsHost,
} from '../AzureDevOpsApi';
import { organizationInputs } from './inputs';

/** `azure:pipeline:create`: a YAML pipeline from a file of the repository, run once if asked. */
export function createAzurePipelineCreateAction(options: { config: Config }) {
  const api = AzureDevOpsApi.fromConfig(options.config);
  return createTemplateAction({
    id: 'azure:pipeline:create',
    description:
      'Creates an Azure Pipelines YAML pipeline from a file in an Azure DevOps repository, and optionally queues its first run.',
    supportsDryRun: true,
    schema: {
      input: {
        ...organizationInputs,
        project: z => z.string().describe('Project (name or id)'),
        repositoryId: z =>
          z.string().describe('Repository id (azure:repo:create output)'),
        name: z => z.string().describe('Pipeline name'),
        path: z =>
          z
            .string()
            .optional()
            .describe(
              'YAML file in the repository. Default /azure-pipelines.yml',
            ),
        folder: z =>
          z.string().optional().describe('Pipeline folder. Default \\'),
        run: z =>
          z
            .boolean()
            .optional()
            .describe('Queue a first run on the default branch. Default true'),
      },
      output: {
        pipelineId: z => z.number(),
        pipelineUrl: z => z.string(),
        runId: z => z.number().optional(),
      },
    },
    async handler(ctx) {
      const host = ctx.input.host ?? defaultAzureDevOpsHost(options.config);
      const { organization, project, name } = ctx.input;
      const projectPath = `/${encodeURIComponent(project)}`;
      const yamlPath = ctx.input.path ?? '/azure-pipelines.yml';
      const run = ctx.input.run ?? true;
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would create pipeline ${name} from ${yamlPath} in ${organization}/${project}${
            run ? ' and run it' : ''
          }`,
        );
        ctx.output('pipelineId', 0);
        ctx.output('pipelineUrl', '');
        return;
      }
      const pipeline = await api.request<{ id: number }>(
        host,
        organization,
        `${projectPath}/_apis/pipelines`,
        {
          method: 'POST',
          body: {
            name,
            folder: ctx.input.folder ?? '\\',
            configuration: {
              type: 'yaml',
              path: yamlPath,
              repository: {
                id: ctx.input.repositoryId,
                type: 'azureReposGit',
              },
            },
          },
        },
      );
      const pipelineUrl = `${azureDevOpsOrigin(host)}/${encodeURIComponent(
        organization,
      )}${projectPath}/_build?definitionId=${pipeline.id}`;
      ctx.logger.info(`Created pipeline ${name} (${pipeline.id})`);
      ctx.output('pipelineId', pipeline.id);
      ctx.output('pipelineUrl', pipelineUrl);
      if (run) {
        const queued = await api.request<{ id: number }>(
          host,
          organization,
          `${projectPath}/_apis/pipelines/${pipeline.id}/runs`,
          { method: 'POST', body: {} },
        );
        ctx.logger.info(`Queued run ${queued.id} of pipeline ${name}`);
        ctx.output('runId', queued.id);
      }
    },
  });
}
