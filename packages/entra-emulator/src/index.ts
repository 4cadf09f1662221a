/**
 * The Gatehouse emulator of Microsoft Entra ID, Microsoft Graph v1.0 and Azure DevOps.
 *
 * @packageDocumentation
 */
export {
  Emulator,
  GRAPH_APP_ID,
  GRAPH_RESOURCE,
  AZURE_DEVOPS_RESOURCE,
} from './Emulator';
export type { Clock, EmulatorOptions } from './Emulator';
export { startEmulator, createEmulatorApp, entraRouteTemplate } from './server';
export type { RunningEmulator, StartEmulatorOptions } from './server';
export {
  GraphService,
  routeTemplate,
  servicePrincipalId,
} from './graph/GraphService';
export { createLocalTls, listenHttps } from './tls';
export type { HttpsListener, LocalTls } from './tls';
export { placeholderPhoto } from './photo';
export { TenantStore } from './tenant/TenantStore';
export * from './tenant/types';
export {
  loadTenantFile,
  parseTenants,
  stableGuid,
  TenantFileError,
} from './tenant/loadTenants';
export { AadstsError } from './errors';
export { budgetForTenantSize, resourceUnitCost } from './faults';
export type { FaultSettings, RouteCounter } from './faults';
export { generateTenant, prng } from './generator';
export type { GeneratorOptions } from './generator';
export { defaultTenantFile } from './paths';
export { runCli } from './cli';
export { AdoStore } from './ado/AdoStore';
export type {
  AdoOrganization,
  AdoProject,
  AdoRepository,
  AdoPipeline,
  AdoRun,
  AdoPrincipal,
} from './ado/AdoStore';
export {
  createAdoRouter,
  adoRouteTemplate,
  LATEST_API_VERSION,
} from './ado/router';
export { generateAzureDevOps } from './ado/generate';
export { azureDevOpsDispatcher, AZURE_DEVOPS_HOSTS } from './ado/https';
export {
  installHostRouting,
  installHostRoutingFromEnv,
  emulatorHostRoutes,
  emulatorProcessEnv,
  HOST_ROUTES_ENV,
  hostRoutingPreload,
  MICROSOFT_AUTHORITY_HOSTS,
} from './hostRouting';
export type { HostRoute } from './hostRouting';
export type { AzureDevOpsGeneratorOptions } from './ado/generate';
export type * from './ado/model';
export { PAT_SCOPES } from './ado/model';
