import { prng } from '../generator';
import {
  AdoOrganizationSeed,
  AdoProjectSeed,
  EmulatedAzureDevOps,
} from './model';

/** The shape of a synthetic Azure DevOps organization, for discovery tests and benchmarks. */
export interface AzureDevOpsGeneratorOptions {
  /** Organization name (default `synthetic`). */
  organization?: string;
  /** Number of projects (default 2); repositories are spread evenly over them. */
  projects?: number;
  repositories: number;
  /** Share (0..1) of repositories without `catalog-info.yaml` (default 0.1). */
  withoutCatalogInfoShare?: number;
  /** Members of the organization (UPNs, app ids, managed identity names, group names). */
  members?: string[];
  seed?: number;
}

/**
 * Generates an Azure DevOps organization: N repositories across projects, each with a README
 * and, except for a share of them, a `catalog-info.yaml` describing a Component.
 */
export function generateAzureDevOps(
  options: AzureDevOpsGeneratorOptions,
): EmulatedAzureDevOps {
  const rand = prng(options.seed ?? 7);
  const projectCount = options.projects ?? 2;
  const missingShare = options.withoutCatalogInfoShare ?? 0.1;
  if (!Number.isInteger(options.repositories) || options.repositories < 0) {
    throw new Error(
      'generateAzureDevOps: repositories must be a non-negative integer',
    );
  }
  if (!Number.isInteger(projectCount) || projectCount < 1) {
    throw new Error('generateAzureDevOps: projects must be a positive integer');
  }
  const projects: AdoProjectSeed[] = Array.from(
    { length: projectCount },
    (_, i) => ({
      name: `Project ${String(i + 1).padStart(2, '0')}`,
      visibility: 'private',
      repositories: [],
      pipelines: [],
    }),
  );
  // Exactly round(share * N) repositories lack the file, picked by a seeded shuffle.
  const missing = new Set<number>();
  const order = Array.from({ length: options.repositories }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const i of order.slice(
    0,
    Math.round(missingShare * options.repositories),
  ))
    missing.add(i);
  for (let i = 0; i < options.repositories; i++) {
    const name = `service-${String(i).padStart(5, '0')}`;
    const files: Record<string, string> = {
      'README.md': `# ${name}\n\nA synthetic service.\n`,
    };
    if (!missing.has(i)) {
      files['catalog-info.yaml'] = [
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata:',
        `  name: ${name}`,
        'spec:',
        '  type: service',
        '  lifecycle: production',
        `  owner: group:default/team-${i % 20}`,
        '',
      ].join('\n');
    }
    projects[i % projectCount].repositories.push({
      name,
      defaultBranch: 'main',
      branches: { main: files },
      pullRequests: [],
    });
  }
  const org: AdoOrganizationSeed = {
    name: options.organization ?? 'synthetic',
    members: options.members ?? [],
    personalAccessTokens: [],
    projects,
  };
  return { organizations: [org] };
}
