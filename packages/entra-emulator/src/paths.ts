import path from 'node:path';

/** The tenant file `yarn start` uses: a small believable organisation. */
export const defaultTenantFile = path.resolve(__dirname, '..', 'tenants', 'contoso.yaml');
