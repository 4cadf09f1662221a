/**
 * Runs Gatehouse's production build locally: the unpacked backend bundle on Postgres with
 * app-config.production.yaml, against the Entra ID emulator. Used by this package's tests and
 * by `yarn bench:load`.
 *
 * @packageDocumentation
 */
export {
  buildProduction,
  prepareProductionBundle,
  productionDir,
  bundleFile,
  repoRoot,
} from './productionBuild';
export { startProductionBackend, freePort } from './productionBackend';
export type {
  ProductionBackend,
  StartProductionBackendOptions,
} from './productionBackend';
export { startProductionEnvironment } from './environment';
export type { ProductionEnvironment } from './environment';
export { signIn, signInOnceSynced } from './signIn';
export type { SignedIn } from './signIn';
