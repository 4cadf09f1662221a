/**
 * Org sync status and on-demand rounds over HTTP (`/api/entra-org`).
 *
 * @packageDocumentation
 */
export { entraOrgPlugin as default } from './plugin';
