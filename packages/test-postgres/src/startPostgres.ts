import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How to reach a running throwaway cluster; `connection` fits `backend.database.connection`. */
export interface TestPostgres {
  host: string;
  port: number;
  /** A superuser (it may create the per-plugin databases Backstage wants). */
  user: string;
  password: string;
  /** The database that always exists (`postgres`). */
  database: string;
  /** The same values as one knex/pg connection object. */
  connection: {
    host: string;
    port: number;
    user: string;
    password: string;
    database: string;
  };
  /**
   * With `ssl: true`: the PEM file of the server's self-signed certificate (for 127.0.0.1), to
   * trust with `NODE_EXTRA_CA_CERTS` or `ssl.ca`.
   */
  caFile?: string;
  /** The cluster's temp dir (data, socket, `server.log`); removed by stop(). */
  directory: string;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** `max_connections` of the cluster. Default 200 (two Backstage replicas need well over 100). */
  maxConnections?: number;
  /**
   * Serve TLS (as Azure's Flexible Server does) with a self-signed certificate for 127.0.0.1,
   * given back as `caFile`; plain connections stay allowed. Needs the `openssl` command.
   */
  ssl?: boolean;
}

/** Where initdb, pg_ctl and postgres are: `POSTGRES_BIN_DIR`, PATH, or Debian's versioned dir. */
export function findPostgresBinDir(): string {
  const candidates: string[] = [];
  if (process.env.POSTGRES_BIN_DIR)
    candidates.push(process.env.POSTGRES_BIN_DIR);
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir) candidates.push(dir);
  }
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter(v => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map(v => path.join(debian, v, 'bin')));
  }
  for (const dir of candidates) {
    const bins = ['initdb', 'pg_ctl', 'postgres'];
    if (bins.every(b => isExecutable(path.join(dir, b)))) {
      // A symlink on PATH (e.g. /usr/local/bin/initdb) is followed so that pg_ctl finds its
      // own postgres binary next to it.
      return path.dirname(fs.realpathSync(path.join(dir, 'initdb')));
    }
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: install Debian\'s "postgresql" package (./gatehouse test does) or set POSTGRES_BIN_DIR',
  );
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL refuses to run as root. As root, the server runs as the `postgres` account that
 * Debian's package creates, through `runuser`; otherwise as the current user.
 */
function asServerUser(): { prefix: string[]; uid?: number; gid?: number } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { prefix: [] };
  }
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  let uid: number;
  let gid: number;
  try {
    uid = id('-u');
    gid = id('-g');
  } catch {
    throw new Error(
      'Running as root and there is no "postgres" account to run the test PostgreSQL server as: install Debian\'s "postgresql" package, or run the tests as another user',
    );
  }
  return { prefix: ['runuser', '-u', 'postgres', '--'], uid, gid };
}

function chownTree(dir: string, uid: number, gid: number) {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else fs.chownSync(p, uid, gid);
  }
}

/**
 * Starts a throwaway PostgreSQL cluster: `initdb` in a new temp dir (SCRAM password auth, a
 * random password), the server on 127.0.0.1 and a free port, its unix socket in that temp dir.
 * `stop()` shuts it down and deletes the directory.
 */
export async function startPostgres(
  options: StartPostgresOptions = {},
): Promise<TestPostgres> {
  const bin = findPostgresBinDir();
  const user = 'gatehouse';
  const password = randomBytes(18).toString('base64url');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-pg-'));
  const dataDir = path.join(root, 'data');
  const socketDir = path.join(root, 'socket');
  const pwFile = path.join(root, 'pwfile');
  const logFile = path.join(root, 'server.log');
  fs.mkdirSync(socketDir);
  fs.writeFileSync(pwFile, password, { mode: 0o600 });

  const server = asServerUser();
  if (server.uid !== undefined) {
    chownTree(root, server.uid, server.gid!);
  }
  const exec = (file: string, args: string[]) =>
    run(
      server.prefix.length ? server.prefix[0] : path.join(bin, file),
      server.prefix.length
        ? [...server.prefix.slice(1), path.join(bin, file), ...args]
        : args,
      { env: { ...process.env, LC_ALL: 'C' } },
    );

  const cleanup = () => fs.rmSync(root, { recursive: true, force: true });
  try {
    await exec('initdb', [
      '-D',
      dataDir,
      '-U',
      user,
      '--pwfile',
      pwFile,
      '--auth',
      'scram-sha-256',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
    ]);
  } catch (e) {
    cleanup();
    throw new Error(`initdb failed: ${(e as { stderr?: string }).stderr ?? e}`);
  }
  fs.rmSync(pwFile);

  let caFile: string | undefined;
  const tlsOptions: string[] = [];
  if (options.ssl) {
    caFile = path.join(root, 'server.crt');
    const keyFile = path.join(root, 'server.key');
    try {
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        caFile,
      ]);
    } catch (e) {
      cleanup();
      throw new Error(
        `openssl could not make the test certificate: ${
          (e as { stderr?: string }).stderr ?? e
        }`,
      );
    }
    fs.chmodSync(keyFile, 0o600);
    if (server.uid !== undefined) {
      fs.chownSync(keyFile, server.uid, server.gid!);
      fs.chownSync(caFile, server.uid, server.gid!);
    }
    tlsOptions.push(
      '-c ssl=on',
      `-c ssl_cert_file=${caFile}`,
      `-c ssl_key_file=${keyFile}`,
    );
  }

  const host = '127.0.0.1';
  const maxConnections = options.maxConnections ?? 200;
  const stopServer = (mode: 'fast' | 'immediate') =>
    exec('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']);

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const serverOptions = [
      `-p ${port}`,
      `-h ${host}`,
      `-k ${socketDir}`,
      `-c max_connections=${maxConnections}`,
      // A test cluster need not survive a crash: skip the disk flushes.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      ...tlsOptions,
    ].join(' ');
    try {
      await exec('pg_ctl', [
        '-D',
        dataDir,
        '-l',
        logFile,
        '-o',
        serverOptions,
        '-w',
        '-t',
        '60',
        'start',
      ]);
      break;
    } catch (e) {
      // Another process may have taken the port between our probe and the server's bind.
      const log = fs.existsSync(logFile)
        ? fs.readFileSync(logFile, 'utf8')
        : '';
      if (attempt < 3 && /could not bind|Address already in use/i.test(log)) {
        continue;
      }
      cleanup();
      throw new Error(
        `PostgreSQL did not start: ${
          (e as { stderr?: string }).stderr ?? e
        }\n${log.slice(-2000)}`,
      );
    }
  }

  // If the test process ends without stop(), the server must not outlive it.
  const onExit = () => {
    try {
      const args = ['-D', dataDir, '-m', 'immediate', 'stop'];
      if (server.prefix.length) {
        execFileSync(server.prefix[0], [
          ...server.prefix.slice(1),
          path.join(bin, 'pg_ctl'),
          ...args,
        ]);
      } else {
        execFileSync(path.join(bin, 'pg_ctl'), args);
      }
    } catch {
      // already stopped
    }
    cleanup();
  };
  process.once('exit', onExit);

  let stopped: Promise<void> | undefined;
  const database = 'postgres';
  return {
    host,
    port,
    user,
    password,
    database,
    connection: { host, port, user, password, database },
    caFile,
    directory: root,
    stop() {
      stopped ??= (async () => {
        process.off('exit', onExit);
        try {
          await stopServer('fast');
        } catch {
          await stopServer('immediate').catch(() => {});
        }
        cleanup();
      })();
      return stopped;
    },
  };
}
