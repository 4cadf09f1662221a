import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createOAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { entraEmulatorServiceRef } from '@gatehouse/plugin-entra-emulator-node';
import { createEntraAuthenticator } from './authenticator';
import { createGroupRefLookup } from './groupOwnership';
import { createEntraSignInResolvers } from './resolvers';

/** Registers Entra ID sign-in as the `microsoft` provider of the auth plugin. */
export const authModuleEntraProvider = createBackendModule({
  pluginId: 'auth',
  moduleId: 'entra-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        emulator: entraEmulatorServiceRef,
        logger: coreServices.logger,
        catalog: catalogServiceRef,
        auth: coreServices.auth,
      },
      async init({ providers, emulator, logger, catalog, auth }) {
        const resolvers = createEntraSignInResolvers({
          groupRefs: createGroupRefLookup(catalog, auth),
          logger,
        });
        providers.registerProvider({
          providerId: 'microsoft',
          factory: createOAuthProviderFactory({
            authenticator: createEntraAuthenticator({ emulator, logger }),
            signInResolver: resolvers.userIdMatchingUserEntityAnnotation(),
            signInResolverFactories: resolvers,
          }),
        });
      },
    });
  },
});
