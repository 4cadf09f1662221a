import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createOAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { entraEmulatorServiceRef } from '@gatehouse/plugin-entra-emulator-node';
import { createEntraAuthenticator } from './authenticator';
import { entraSignInResolvers } from './resolvers';

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
      },
      async init({ providers, emulator, logger }) {
        providers.registerProvider({
          providerId: 'microsoft',
          factory: createOAuthProviderFactory({
            authenticator: createEntraAuthenticator({ emulator, logger }),
            signInResolver:
              entraSignInResolvers.userIdMatchingUserEntityAnnotation(),
            signInResolverFactories: entraSignInResolvers,
          }),
        });
      },
    });
  },
});
