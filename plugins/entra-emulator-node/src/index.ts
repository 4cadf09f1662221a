/**
 * Runs the built-in Entra ID / Microsoft Graph emulator inside the Gatehouse backend.
 *
 * @packageDocumentation
 */
export {
  entraEmulatorServiceRef,
  entraEmulatorServiceFactory,
} from './service';
export {
  emulatorAzureDevOpsConfig,
  DEFAULT_EMULATOR_ADO_PORT,
} from './azureDevOpsConfig';
export type { EntraEmulatorService, EmulatorConnection } from './service';
