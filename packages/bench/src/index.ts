/**
 * Reproducible benchmarks of Gatehouse against the Entra ID and Microsoft Graph emulator.
 *
 * @packageDocumentation
 */
export {
  formatSigninMarkdown,
  runSigninBench,
  runSigninCli,
  UPSTREAM_SOURCES,
} from './signin';
export type {
  PathResult,
  RefreshResult,
  SigninBenchOptions,
  SigninBenchResult,
} from './signin';
export {
  benchTenant,
  churn,
  DELTA_PAGE_SIZE,
  formatOrgSyncMarkdown,
  LIST_PAGE_SIZE,
  runOrgSyncBench,
  runOrgSyncCli,
  SIZES,
} from './orgsync';
export type {
  GoalResult,
  OrgSyncBenchOptions,
  OrgSyncBenchResult,
  PhaseResult,
  SizeSpec,
  TenantShape,
} from './orgsync';
export {
  ClientSecretTokenCredential,
  runWorker,
  runWorkerProcess,
} from './orgsyncWorker';
export type {
  WorkerChannel,
  WorkerMessage,
  WorkerRound,
  WorkerTask,
} from './orgsyncWorker';
export {
  benchEntities,
  formatPermissionsBench,
  runPermissionsBench,
  runPermissionsCli,
} from './permissions';
export type {
  PermissionsBenchOptions,
  PermissionsBenchResult,
  ScenarioResult,
} from './permissions';
export { formatAdoMarkdown, runAdoBench, runAdoCli } from './ado';
export type { AdoBenchResult, AdoBenchRow } from './ado';
