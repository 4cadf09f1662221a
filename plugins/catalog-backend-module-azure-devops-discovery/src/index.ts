/**
 * Catalog discovery of Azure DevOps repositories by listing them, with the credentials of
 * `integrations.azure`.
 *
 * @packageDocumentation
 */
export { catalogModuleAzureDevOpsDiscovery as default } from './module';
export { AzureDevOpsDiscoveryProvider } from './AzureDevOpsDiscoveryProvider';
export type { AzureDevOpsDiscoverySummary } from './AzureDevOpsDiscoveryProvider';
export {
  AzureDevOpsClient,
  AzureDevOpsRequestError,
} from './AzureDevOpsClient';
export { readDiscoveryConfigs } from './config';
export type { AzureDevOpsDiscoveryConfig } from './config';
export {
  azureDevOpsCredentialCheckReader,
  azureDevOpsCredentialCheckServiceFactory,
} from './credentialCheck';
