/**
 * A permission policy from configuration, keyed on Entra identities.
 *
 * @packageDocumentation
 */
export {
  permissionModuleEntraRbac as default,
  createEntraRbacPolicy,
} from './module';
export { EntraRbacConfigError, readRbacConfig, defaultRoles } from './config';
export type {
  Action,
  EntraRbacConfigErrorCode,
  RbacConfig,
  Role,
  RoleMember,
  RoleRule,
  RuleConditions,
} from './config';
export type { Evaluation, RuleMatch } from './evaluate';
export type { UserIdentity } from './identity';
export { EntraRbacPolicy } from './policy';
export type { AccessExplanation, RoleView } from './policy';
export { RbacConfigSource } from './source';
export type { RbacSourceStatus } from './source';
export { entraRbacRegistryServiceRef } from './service';
export type { EntraRbacEngine, EntraRbacRegistry } from './service';
