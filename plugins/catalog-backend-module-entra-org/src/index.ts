/**
 * Users and groups from Microsoft Graph into the Backstage catalog.
 *
 * @packageDocumentation
 */
export { catalogModuleEntraOrg as default } from './module';
export { EntraOrgEntityProvider } from './EntraOrgEntityProvider';
export { GraphClient } from './GraphClient';
export { readOrg, toEntities } from './readOrg';
