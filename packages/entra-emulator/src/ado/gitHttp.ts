import { spawn } from 'node:child_process';
import { Request, Response } from 'express';
import path from 'node:path';
import { AdoPrincipal, AdoRepository, AdoStore } from './AdoStore';

/**
 * Git smart HTTP (clone, fetch, push) through `git http-backend` run as a CGI program on the
 * repository's bare copy. After a push the store reads the new branches back before the
 * response ends, so the REST API shows the push at once.
 */
export function serveGit(
  store: AdoStore,
  repo: AdoRepository,
  gitPath: string,
  principal: AdoPrincipal,
  req: Request,
  res: Response,
): void {
  store.ensureOnDisk(repo);
  const query = new URL(req.originalUrl, 'http://x').search.slice(1);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: store.reposDir,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PROJECT_ROOT: path.dirname(repo.dir),
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${path.basename(repo.dir)}/${gitPath}`,
    QUERY_STRING: query,
    REQUEST_METHOD: req.method,
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    // http-backend lets a push in only for an authenticated user.
    REMOTE_USER: principal.uniqueName,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  if (req.headers['content-length'])
    env.CONTENT_LENGTH = String(req.headers['content-length']);
  if (req.headers['content-encoding'])
    env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
  if (req.headers['git-protocol'])
    env.GIT_PROTOCOL = String(req.headers['git-protocol']);

  const child = spawn('git', ['http-backend'], { env });
  req.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  let head = Buffer.alloc(0);
  let headersSent = false;
  const stderr: Buffer[] = [];
  child.stderr.on('data', d => stderr.push(d));
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    let end = head.indexOf('\r\n\r\n');
    let sep = 4;
    if (end < 0) {
      end = head.indexOf('\n\n');
      sep = 2;
    }
    if (end < 0) return;
    const lines = head.subarray(0, end).toString().split(/\r?\n/);
    let status = 200;
    for (const line of lines) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (/^status$/i.test(name)) status = parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.status(status);
    headersSent = true;
    res.write(head.subarray(end + sep));
  });
  child.on('close', async code => {
    if (!headersSent) {
      res
        .status(500)
        .type('text/plain')
        .end(
          `git http-backend failed (${code}): ${Buffer.concat(stderr)
            .toString()
            .trim()}`,
        );
      return;
    }
    if (gitPath === 'git-receive-pack') {
      try {
        await store.reloadFromDisk(repo);
      } catch {
        // The push itself answered; a failed reload shows up as stale REST data.
      }
    }
    res.end();
  });
}
