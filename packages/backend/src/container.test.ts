import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Plain JavaScript, so that it also runs as `node scripts/check-dockerfile.js` without a build.
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
const { checkDockerfile } = require('../../../scripts/check-dockerfile.js');

const root = path.resolve(__dirname, '../../..');

/**
 * No Docker engine runs here, so the image is checked by reading the Dockerfile: the rules it
 * must keep, and that each rule really catches a Dockerfile that breaks it.
 */
describe('the container image (Dockerfile)', () => {
  it('keeps every rule', () => {
    expect(checkDockerfile(root)).toEqual([]);
  });

  describe('catches a Dockerfile that breaks a rule', () => {
    let tmp: string;
    const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');

    beforeEach(() => {
      // A copy of the repository's top level that the check reads: the files COPY names.
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-dockerfile-'));
      for (const entry of [
        '.dockerignore',
        '.yarnrc.yml',
        'app-config.yaml',
        'app-config.production.yaml',
        'app-config.production.entra-db.yaml',
        'backstage.json',
        'package.json',
        'yarn.lock',
      ]) {
        fs.copyFileSync(path.join(root, entry), path.join(tmp, entry));
      }
      for (const dir of ['packages', 'plugins', 'scripts']) {
        fs.mkdirSync(path.join(tmp, dir));
      }
      fs.copyFileSync(
        path.join(root, 'scripts/toolchain.sh'),
        path.join(tmp, 'scripts/toolchain.sh'),
      );
      fs.mkdirSync(path.join(tmp, 'packages/backend/src'), { recursive: true });
      fs.copyFileSync(
        path.join(root, 'packages/backend/src/instrumentation.js'),
        path.join(tmp, 'packages/backend/src/instrumentation.js'),
      );
    });

    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    const check = (text: string) => {
      fs.writeFileSync(path.join(tmp, 'Dockerfile'), text);
      return checkDockerfile(tmp).join('\n');
    };

    it('accepts the copy as it is', () => {
      expect(check(dockerfile)).toBe('');
    });

    it('a final stage that runs as root', () => {
      const lastUser = dockerfile.lastIndexOf('USER node');
      const text = `${dockerfile.slice(0, lastUser)}USER root${dockerfile.slice(
        lastUser + 'USER node'.length,
      )}`;
      expect(check(text)).toMatch(/final stage runs as root/);
    });

    it('a missing HEALTHCHECK, or one on another path', () => {
      expect(
        check(dockerfile.replace(/\/\.backstage\/health\/v1\/liveness/, '/')),
      ).toMatch(/HEALTHCHECK does not probe/);
      expect(
        check(dockerfile.replace(/^HEALTHCHECK[\s\S]*?\n(?=CMD)/m, '')),
      ).toMatch(/no HEALTHCHECK/);
    });

    it('another CMD, or a config file that is not there', () => {
      expect(
        check(dockerfile.replace('"app-config.production.yaml"]', '"x.yaml"]')),
      ).toMatch(/CMD is/);
      fs.rmSync(path.join(tmp, 'app-config.production.yaml'));
      expect(check(dockerfile)).toMatch(
        /COPY source app-config.production.yaml does not exist[\s\S]*CMD config file app-config.production.yaml does not exist/,
      );
    });

    it('a COPY of something missing, or left out by .dockerignore', () => {
      expect(
        check(
          dockerfile.replace('COPY plugins plugins', 'COPY plugin plugins'),
        ),
      ).toMatch(/COPY source plugin does not exist/);
      fs.mkdirSync(path.join(tmp, 'node_modules'));
      expect(
        check(
          dockerfile.replace(
            'COPY plugins plugins',
            'COPY plugins plugins\nCOPY node_modules node_modules',
          ),
        ),
      ).toMatch(/node_modules is excluded by \.dockerignore/);
    });

    it('a single stage, or another base image', () => {
      expect(
        check(
          'FROM node:22-bookworm-slim\nUSER node\nCMD ["node", "packages/backend"]\n',
        ),
      ).toMatch(/expected a multi-stage build/);
      expect(
        check(
          dockerfile.replace(
            'ARG NODE_IMAGE=node:22-bookworm-slim',
            'ARG NODE_IMAGE=node:20',
          ),
        ),
      ).toMatch(/FROM node:20, not node:22-bookworm-slim/);
    });

    it('no production-only install, or a build in the final stage', () => {
      expect(check(dockerfile.replace(' --production', ''))).toMatch(
        /no stage installs production dependencies only/,
      );
      expect(
        check(
          dockerfile.replace(
            /\nEXPOSE 7007/,
            '\nRUN yarn install\nEXPOSE 7007',
          ),
        ),
      ).toMatch(/final stage installs or builds/);
    });
  });
});
