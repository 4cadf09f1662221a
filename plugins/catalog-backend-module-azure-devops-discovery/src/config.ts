import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';

/** One `catalog.providers.azureDevOps.<id>` entry. */
export interface AzureDevOpsDiscoveryConfig {
  id: string;
  host: string;
  organization: string;
  project: string;
  repository: string;
  exclude: string[];
  branch?: string;
  path: string;
  baseUrl: string;
  concurrency: number;
  schedule: SchedulerServiceTaskScheduleDefinition;
}

const DEFAULT_SCHEDULE: SchedulerServiceTaskScheduleDefinition = {
  frequency: { minutes: 30 },
  timeout: { minutes: 10 },
};

/** Reads every provider under `catalog.providers.azureDevOps`; a bad entry names its key. */
export function readDiscoveryConfigs(
  root: Config,
): AzureDevOpsDiscoveryConfig[] {
  const providers = root.getOptionalConfig('catalog.providers.azureDevOps');
  if (!providers) return [];
  return providers.keys().map(id => {
    const c = providers.getConfig(id);
    const key = `catalog.providers.azureDevOps.${id}`;
    const host = c.getOptionalString('host') ?? 'dev.azure.com';
    const path = c.getOptionalString('path') ?? '/catalog-info.yaml';
    const concurrency = c.getOptionalNumber('concurrency') ?? 8;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new Error(
        `${key}.concurrency must be a whole number from 1 to 64, got ${concurrency}`,
      );
    }
    const baseUrl = (
      c.getOptionalString('baseUrl') ?? `https://${host}`
    ).replace(/\/+$/, '');
    if (!URL.canParse(baseUrl))
      throw new Error(`${key}.baseUrl is not a URL: ${baseUrl}`);
    return {
      id,
      host,
      organization: c.getString('organization'),
      project: c.getOptionalString('project') ?? '*',
      repository: c.getOptionalString('repository') ?? '*',
      exclude: c.getOptionalStringArray('exclude') ?? [],
      branch: c.getOptionalString('branch'),
      path: path.startsWith('/') ? path : `/${path}`,
      baseUrl,
      concurrency,
      schedule: c.has('schedule')
        ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
            c.getConfig('schedule'),
          )
        : DEFAULT_SCHEDULE,
    };
  });
}

/** A name pattern with `*` and `?` as a case-insensitive matcher (Azure DevOps names are). */
export function namePattern(pattern: string): (name: string) => boolean {
  const source = pattern
    .split('')
    .map(ch => {
      if (ch === '*') return '.*';
      if (ch === '?') return '.';
      return ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const re = new RegExp(`^${source}$`, 'i');
  return name => re.test(name);
}
