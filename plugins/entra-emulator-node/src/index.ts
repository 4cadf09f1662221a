/**
 * Runs the built-in Entra ID / Microsoft Graph emulator inside the Gatehouse backend.
 *
 * @packageDocumentation
 */
export {
  entraEmulatorServiceRef,
  entraEmulatorServiceFactory,
} from './service';
export type { EntraEmulatorService, EmulatorConnection } from './service';
