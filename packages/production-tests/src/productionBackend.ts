import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { productionDir, repoRoot } from './productionBuild';

/** A free loopback port (the backend's baseUrl must be known before it listens). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A production backend process started from the unpacked bundle. */
export interface ProductionBackend {
  /** `http://localhost:<port>`, this process directly (APP_BASE_URL unless one is given). */
  baseUrl: string;
  process: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | null>;
}

/** What a production backend needs beyond app-config.production.yaml. */
export interface StartProductionBackendOptions {
  /** The environment app-config.production.yaml reads (APP_BASE_URL is set here). */
  env: Record<string, string | undefined>;
  /**
   * A further config overlay (YAML or JSON), for what a test changes and an Azure deployment
   * does not: the loopback listen address, the emulator's URLs, a short org-sync schedule.
   */
  overlay?: Record<string, unknown>;
  /** Wait until readiness answers 200 (default true). */
  waitForReady?: boolean;
  /** Port to listen on (default: a free one). */
  port?: number;
  /** The unpacked bundle (default {@link productionDir}). */
  dir?: string;
  /** Config files of the repository added after app-config.production.yaml, e.g. the entra-db one. */
  configFiles?: string[];
}

/**
 * Starts `node packages/backend --config app-config.yaml --config app-config.production.yaml`
 * in the unpacked production bundle, as the container's entry point does, with the
 * environment given and nothing inherited but PATH, HOME and the Node.js CA settings.
 */
export async function startProductionBackend(
  options: StartProductionBackendOptions,
): Promise<ProductionBackend> {
  const port = options.port ?? (await freePort());
  const baseUrl = `http://localhost:${port}`;
  const overlay = {
    ...options.overlay,
    backend: {
      ...(options.overlay?.backend as object | undefined),
      listen: { host: '127.0.0.1', port },
    },
  };
  const dir = options.dir ?? productionDir;
  const overlayFile = path.join(dir, `app-config.test-${port}.yaml`);
  fs.writeFileSync(overlayFile, JSON.stringify(overlay));

  const child = spawn(
    process.execPath,
    [
      'packages/backend',
      '--config',
      path.join(repoRoot, 'app-config.yaml'),
      '--config',
      path.join(repoRoot, 'app-config.production.yaml'),
      ...(options.configFiles ?? []).flatMap(file => [
        '--config',
        path.join(repoRoot, file),
      ]),
      '--config',
      overlayFile,
    ],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        APP_BASE_URL: baseUrl,
        ...options.env,
      } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', d => (output += d));
  child.stderr!.on('data', d => (output += d));
  const exited = new Promise<number | null>(resolve =>
    child.once('exit', code => {
      fs.rmSync(overlayFile, { force: true });
      resolve(code);
    }),
  );
  let exitCode: number | null | undefined;
  exited.then(code => (exitCode = code));

  const backend: ProductionBackend = {
    baseUrl,
    process: child,
    output: () => output,
    exited,
    stop: () => {
      if (exitCode === undefined) child.kill('SIGTERM');
      return exited;
    },
  };
  if (options.waitForReady === false) return backend;

  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(
        `The production backend exited (${exitCode}) before it was ready:\n${output.slice(
          -4000,
        )}`,
      );
    }
    const res = await fetch(`${baseUrl}/.backstage/health/v1/readiness`).catch(
      () => undefined,
    );
    if (res?.status === 200) return backend;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `The production backend was not ready within 120 s:\n${output.slice(
          -4000,
        )}`,
      );
    }
    await new Promise(r => setTimeout(r, 250));
  }
}
