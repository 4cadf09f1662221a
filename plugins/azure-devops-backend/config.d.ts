export interface Config {
  /** Entity pages' Azure DevOps data (`@gatehouse/plugin-azure-devops-backend`). */
  azureDevOps?: {
    /**
     * Host for entities without a `dev.azure.com/host-org` annotation. Default `dev.azure.com`.
     * Credentials come from the matching `integrations.azure` entry.
     */
    host?: string;
    /** Organization for entities without a `dev.azure.com/host-org` annotation. */
    organization?: string;
    /** Pipeline runs shown per component, 1..100. Default 10. */
    top?: number;
  };
}
