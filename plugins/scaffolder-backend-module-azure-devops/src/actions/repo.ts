import { Config } from '@backstage/config';
import {
  createTemplateAction,
  initRepoAndPush,
} from '@backstage/plugin-scaffolder-node';
import path from 'node:path';
import {
  AzureDevOpsApi,
  defaultAzureDevOpsHost,
  remoteUrlOf,
} from '../AzureDevOpsApi';
import { organizationInputs } from './inputs';

/** `azure:repo:create`: an empty Git repository in a project (REST). */
export function createAzureRepoCreateAction(options: { config: Config }) {
  const api = AzureDevOpsApi.fromConfig(options.config);
  return createTemplateAction({
    id: 'azure:repo:create',
    description:
      'Creates an empty Git repository in an Azure DevOps project. Push content to it with azure:repo:push.',
    supportsDryRun: true,
    schema: {
      input: {
        ...organizationInputs,
        project: z => z.string().describe('Project (name or id)'),
        name: z => z.string().describe('Repository name'),
      },
      output: {
        host: z => z.string(),
        repositoryId: z => z.string(),
        projectId: z => z.string(),
        remoteUrl: z => z.string(),
        catalogInfoUrl: z => z.string(),
      },
    },
    async handler(ctx) {
      const host = ctx.input.host ?? defaultAzureDevOpsHost(options.config);
      const { organization, project, name } = ctx.input;
      const remoteUrl = remoteUrlOf({
        host,
        organization,
        project,
        repository: name,
      });
      let repositoryId = 'dry-run';
      let projectId = 'dry-run';
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would create repository ${name} in ${organization}/${project} on ${host}`,
        );
      } else {
        const proj = await api.request<{ id: string }>(
          host,
          organization,
          `/_apis/projects/${encodeURIComponent(project)}`,
        );
        const repo = await api.request<{ id: string }>(
          host,
          organization,
          `/${encodeURIComponent(project)}/_apis/git/repositories`,
          { method: 'POST', body: { name, project: { id: proj.id } } },
        );
        repositoryId = repo.id;
        projectId = proj.id;
        ctx.logger.info(`Created repository ${remoteUrl} (${repo.id})`);
      }
      ctx.output('host', host);
      ctx.output('repositoryId', repositoryId);
      ctx.output('projectId', projectId);
      ctx.output('remoteUrl', remoteUrl);
      ctx.output('catalogInfoUrl', `${remoteUrl}?path=/catalog-info.yaml`);
    },
  });
}

/** `azure:repo:push`: the workspace (or a folder of it) as the first commit of a repository. */
export function createAzureRepoPushAction(options: { config: Config }) {
  const api = AzureDevOpsApi.fromConfig(options.config);
  return createTemplateAction({
    id: 'azure:repo:push',
    description:
      'Pushes the workspace (or sourcePath in it) as the initial commit of an Azure DevOps repository.',
    supportsDryRun: true,
    schema: {
      input: {
        ...organizationInputs,
        project: z => z.string().describe('Project (name or id)'),
        name: z => z.string().describe('Repository name'),
        sourcePath: z =>
          z
            .string()
            .optional()
            .describe('Folder of the workspace to push. Default: all of it'),
        defaultBranch: z =>
          z.string().optional().describe('Branch to push. Default main'),
        commitMessage: z =>
          z.string().optional().describe('Message of the commit'),
      },
      output: {
        commitHash: z => z.string(),
      },
    },
    async handler(ctx) {
      const host = ctx.input.host ?? defaultAzureDevOpsHost(options.config);
      const { organization, project, name } = ctx.input;
      const dir = path.resolve(ctx.workspacePath, ctx.input.sourcePath ?? '.');
      if (!dir.startsWith(path.resolve(ctx.workspacePath))) {
        throw new Error(
          `sourcePath ${ctx.input.sourcePath} leaves the workspace`,
        );
      }
      const remoteUrl = remoteUrlOf({
        host,
        organization,
        project,
        repository: name,
      });
      const defaultBranch = ctx.input.defaultBranch ?? 'main';
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would push ${dir} to ${remoteUrl} (${defaultBranch})`,
        );
        ctx.output('commitHash', 'dry-run');
        return;
      }
      const creds = await api.credentialsFor(host, organization);
      const auth =
        creds.type === 'pat'
          ? { username: 'notempty', password: creds.token }
          : { token: creds.token };
      const { commitHash } = await initRepoAndPush({
        dir,
        remoteUrl,
        auth,
        logger: ctx.logger,
        defaultBranch,
        commitMessage: ctx.input.commitMessage ?? 'Initial commit',
        gitAuthorInfo: {
          name: options.config.getOptionalString(
            'scaffolder.defaultAuthor.name',
          ),
          email: options.config.getOptionalString(
            'scaffolder.defaultAuthor.email',
          ),
        },
      });
      ctx.logger.info(`Pushed ${commitHash} to ${remoteUrl}`);
      ctx.output('commitHash', commitHash);
    },
  });
}
