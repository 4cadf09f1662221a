import path from 'node:path';

/** The folder of this package, from source or from a build alike. */
const packageRoot = path.dirname(
  require.resolve('@gatehouse/entra-emulator/package.json'),
);

/** The tenant file `yarn start` uses: a small believable organisation. */
export const defaultTenantFile = path.join(
  packageRoot,
  'tenants',
  'contoso.yaml',
);
