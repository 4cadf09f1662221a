import fs from 'node:fs';
import {
  bundleFile,
  buildProduction,
  prepareProductionBundle,
} from './productionBuild';

/**
 * Jest global setup: the production build once for every test file of this package. With
 * GATEHOUSE_REUSE_PRODUCTION_BUILD=1 an existing bundle is used as is (said so on stderr).
 */
export default async function globalSetup() {
  if (
    process.env.GATEHOUSE_REUSE_PRODUCTION_BUILD === '1' &&
    fs.existsSync(bundleFile)
  ) {
    process.stderr.write(
      `\n[production-tests] GATEHOUSE_REUSE_PRODUCTION_BUILD=1: using the existing ${bundleFile}\n`,
    );
  } else {
    process.stderr.write(
      '\n[production-tests] yarn build:backend (the production build)\n',
    );
    buildProduction();
  }
  const dir = prepareProductionBundle();
  process.stderr.write(`[production-tests] unpacked into ${dir}\n`);
}
