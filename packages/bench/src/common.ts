import os from 'node:os';

/** The machine a benchmark ran on, for the line printed under its table. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  /** The 1-minute load average when the run started. */
  loadAverage: number;
}

export function machineInfo(loadAverage: number): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage,
  };
}

/** Emulator route templates of Entra ID endpoints (rather than Graph). */
export function isEntraRoute(route: string): boolean {
  return /^[A-Z]+ \/(\{tenant\}|msi|oidc)\//.test(route);
}
