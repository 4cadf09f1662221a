/**
 * Users and groups from Microsoft Graph into the Backstage catalog.
 *
 * @packageDocumentation
 */
export { catalogModuleEntraOrg as default } from './module';
export { EntraOrgEntityProvider } from './EntraOrgEntityProvider';
export type {
  EntraOrgProviderOptions,
  EntraOrgRoundSummary,
} from './EntraOrgEntityProvider';
export { OrgSyncStore } from './OrgSyncStore';
export { GraphClient, GraphRequestError } from './GraphClient';
export type {
  GraphClientOptions,
  GraphClientStats,
  GraphCredentials,
} from './GraphClient';
export { readOrg, toEntities } from './readOrg';
export { entraOrgStatusServiceRef } from './status';
export type {
  EntraOrgProviderStatus,
  EntraOrgRoundStatus,
  EntraOrgStatusService,
  EntraOrgStatusSource,
} from './status';
