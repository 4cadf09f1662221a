import { z as zod } from 'zod/v3';

/** The inputs every Azure DevOps action of ours takes: where the organization is. */
export const organizationInputs = {
  host: (z: typeof zod) =>
    z
      .string()
      .optional()
      .describe(
        'Azure DevOps host, e.g. dev.azure.com. Default: the first integrations.azure entry',
      ),
  organization: (z: typeof zod) =>
    z.string().describe('Azure DevOps organization'),
};
