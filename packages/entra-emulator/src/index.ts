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
export { GraphService, routeTemplate } from './graph/GraphService';
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
