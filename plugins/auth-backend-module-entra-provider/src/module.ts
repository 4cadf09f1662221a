import {
  coreServices,
  createBackendModule,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createOAuthProviderFactory,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { entraEmulatorServiceRef } from '@gatehouse/plugin-entra-emulator-node';
import { createEntraAuthenticator } from './authenticator';
import { createGroupRefLookup } from './groupOwnership';
import { explained } from './explain';
import { countSignIns } from './metrics';
import { createEntraSignInResolvers } from './resolvers';

/** The same resolvers, whose refusals reach the sign-in page and the log with a correlation id. */
function explainedResolvers<T extends Record<string, SignInResolverFactory>>(
  factories: T,
  logger: LoggerService,
): T {
  const out: Record<string, SignInResolverFactory> = {};
  for (const [name, factory] of Object.entries(factories)) {
    const wrapped = ((opts?: unknown) =>
      explained(
        countSignIns(factory(opts), { countSuccess: true }),
        logger,
        `Sign-in resolver ${name}`,
      )) as SignInResolverFactory;
    wrapped.optionsJsonSchema = factory.optionsJsonSchema;
    out[name] = wrapped;
  }
  return out as T;
}

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
        const resolvers = explainedResolvers(
          createEntraSignInResolvers({
            groupRefs: createGroupRefLookup(catalog, auth),
            logger,
          }),
          logger,
        );
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
