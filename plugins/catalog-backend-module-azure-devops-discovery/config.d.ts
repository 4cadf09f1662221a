import { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';

export interface Config {
  catalog?: {
    providers?: {
      /**
       * Azure DevOps discovery, keyed by provider id. The keys of Backstage's own
       * `catalog.providers.azureDevOps` provider, read by listing repositories instead of Code
       * Search (which needs an extension and stops at 1,000 results).
       */
      azureDevOps?: {
        [id: string]: {
          /** Azure DevOps host. Default `dev.azure.com`. Credentials come from `integrations.azure`. */
          host?: string;
          /** The organization to read. */
          organization: string;
          /** Project name, or a pattern with `*` and `?`. Default `*` (every project). */
          project?: string;
          /** Repository name, or a pattern with `*` and `?`. Default `*`. */
          repository?: string;
          /** Repository name patterns left out, e.g. `['*-archive', 'sandbox-*']`. */
          exclude?: string[];
          /** Branch to read the file from. Default: each repository's default branch. */
          branch?: string;
          /** Path of the catalog file in each repository. Default `/catalog-info.yaml`. */
          path?: string;
          /**
           * Where the Azure DevOps REST API is served, when not `https://<host>` (a proxy, or
           * the built-in emulator). Example `http://localhost:7101`.
           */
          baseUrl?: string;
          /** Requests in flight at once. Default 8. */
          concurrency?: number;
          /** How often to look. Default every 30 minutes, timeout 10 minutes. */
          schedule?: SchedulerServiceTaskScheduleDefinitionConfig;
        };
      };
    };
  };
}
