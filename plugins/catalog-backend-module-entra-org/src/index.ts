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
export { entraOrgTransformersExtensionPoint } from './transformers';
export type {
  EntraOrgGroupTransformer,
  EntraOrgTransformerContext,
  EntraOrgTransformers,
  EntraOrgTransformersExtensionPoint,
  EntraOrgUserTransformer,
} from './transformers';
export { readProviderTarget } from './credentials';
export type {
  CredentialKind,
  CredentialOverrides,
  ProviderTarget,
} from './credentials';
export { ENTRA_CLOUDS, graphScope } from './clouds';
export type { EntraCloud } from './clouds';
export { PhotoLoader, PhotoStore, PHOTO_CONCURRENCY } from './photos';
export type { PhotoLoaderOptions } from './photos';
export type { GraphGroup, GraphUser } from './OrgState';
export { entraOrgStatusServiceRef } from './status';
export type {
  EntraOrgProviderStatus,
  EntraOrgRoundStatus,
  EntraOrgStatusService,
  EntraOrgStatusSource,
} from './status';
