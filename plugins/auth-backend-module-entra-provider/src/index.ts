/**
 * Microsoft Entra ID sign-in for Backstage, registered as the `microsoft` auth provider.
 *
 * @packageDocumentation
 */
export { authModuleEntraProvider as default } from './module';
export { createEntraAuthenticator } from './authenticator';
export type { EntraAuthResult, EntraClaims } from './authenticator';
export { entraSignInResolvers, createEntraSignInResolvers } from './resolvers';
export type { EntraResolverDeps } from './resolvers';
export { validateIdToken, IdTokenError } from './idToken';
export { EntraSignInError } from './authenticator';
