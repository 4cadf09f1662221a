/**
 * The deployment's own troubleshooting checks at /api/diagnostics.
 *
 * @packageDocumentation
 */
export { diagnosticsPlugin as default } from './plugin';
export { runChecks } from './checks';
export type {
  CheckStatus,
  DiagnosticCheck,
  ChecksContext,
  ObservedRequest,
} from './checks';
export { readAppRegistration } from './appRegistration';
export type { AppRegistration, AppRegistrationResult } from './appRegistration';
