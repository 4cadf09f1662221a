/**
 * Explains access decisions of the Entra RBAC policy over HTTP (`/api/entra-rbac`).
 *
 * @packageDocumentation
 */
export { entraRbacPlugin as default } from './plugin';
export {
  entraRbacAccessReadPermission,
  entraRbacPermissions,
} from './permissions';
