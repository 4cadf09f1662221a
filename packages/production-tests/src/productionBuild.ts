import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The repository root. */
export const repoRoot = path.resolve(
  path.dirname(require.resolve('@gatehouse/production-tests/package.json')),
  '..',
  '..',
);

/** The production build's output (backstage-cli's backend bundle, the built app inside). */
export const bundleFile = path.join(
  repoRoot,
  'packages',
  'backend',
  'dist',
  'bundle.tar.gz',
);

/** Where the bundle is unpacked to run, one per checkout. */
export const productionDir = path.join(
  os.tmpdir(),
  `gatehouse-production-${createHash('sha256')
    .update(repoRoot)
    .digest('hex')
    .slice(0, 10)}`,
);

/** The production build, the same command the Dockerfile runs: `yarn build:backend`. */
export function buildProduction(): void {
  // Jest sets NODE_ENV=test, which the app's browserslist has no entry for.
  const { NODE_ENV, JEST_WORKER_ID, ...env } = process.env;
  execFileSync('yarn', ['build:backend'], {
    cwd: repoRoot,
    env: { ...env, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function workspaceDirs(root: string): string[] {
  return ['packages', 'plugins'].flatMap(group =>
    fs.existsSync(path.join(root, group))
      ? fs
          .readdirSync(path.join(root, group))
          .map(name => path.join(group, name))
          .filter(dir => fs.existsSync(path.join(root, dir, 'package.json')))
      : [],
  );
}

/**
 * Unpacks the bundle into `dir` (default {@link productionDir}) and gives it a node_modules: the Dockerfile
 * installs the production dependencies there (`yarn workspaces focus --all --production`);
 * with no registry round trip in tests, the repository's installed packages are linked
 * instead, and the workspace packages resolve to the bundle's built copies, not to the
 * sources. Returns the directory.
 */
export function prepareProductionBundle(dir: string = productionDir): string {
  if (!fs.existsSync(bundleFile)) {
    throw new Error(
      `${bundleFile} is missing: run "yarn build:backend" (the production build) first`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['xzf', bundleFile, '-C', dir]);

  // Workspace package name -> its directory in the bundle.
  const bundled = new Map<string, string>();
  for (const workspace of workspaceDirs(dir)) {
    const { name } = JSON.parse(
      fs.readFileSync(path.join(dir, workspace, 'package.json'), 'utf8'),
    );
    bundled.set(name, path.join(dir, workspace));
    // Versions that Yarn could not hoist live beside the package.
    const nested = path.join(repoRoot, workspace, 'node_modules');
    if (fs.existsSync(nested)) {
      fs.symlinkSync(nested, path.join(dir, workspace, 'node_modules'));
    }
  }

  const workspaceNames = new Set(
    workspaceDirs(repoRoot).map(
      workspace =>
        JSON.parse(
          fs.readFileSync(
            path.join(repoRoot, workspace, 'package.json'),
            'utf8',
          ),
        ).name as string,
    ),
  );
  const sourceModules = path.join(repoRoot, 'node_modules');
  const targetModules = path.join(dir, 'node_modules');
  fs.mkdirSync(targetModules);
  const link = (name: string) => {
    const target = path.join(targetModules, name);
    if (!workspaceNames.has(name)) {
      fs.symlinkSync(path.join(sourceModules, name), target);
    } else if (bundled.has(name)) {
      fs.symlinkSync(bundled.get(name)!, target);
    }
    // A workspace package the bundle does not hold is not a production dependency.
  };
  for (const entry of fs.readdirSync(sourceModules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      fs.mkdirSync(path.join(targetModules, entry));
      for (const sub of fs.readdirSync(path.join(sourceModules, entry))) {
        link(`${entry}/${sub}`);
      }
    } else {
      link(entry);
    }
  }
  return dir;
}
