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
