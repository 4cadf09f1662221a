import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { entraEmulatorServiceRef } from '@gatehouse/plugin-entra-emulator-node';
import { createChecksRunner } from './runner';
import { createRouter } from './router';

/**
 * The troubleshooting table of the Azure tutorials (AADSTS50011, a blank sign-in popup, an
 * image that cannot be pulled, a missing provider config) as checks the portal runs on
 * itself: at `GET /api/diagnostics/checks` for signed-in people, and once at start-up, where
 * every check that does not pass is logged.
 */
export const diagnosticsPlugin = createBackendPlugin({
  pluginId: 'diagnostics',
  register(reg) {
    reg.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        lifecycle: coreServices.lifecycle,
        emulator: entraEmulatorServiceRef,
      },
      async init({
        config,
        logger,
        httpRouter,
        httpAuth,
        lifecycle,
        emulator,
      }) {
        const runner = createChecksRunner({
          config,
          emulator,
          env: process.env,
        });
        httpRouter.use(createRouter({ httpAuth, runner }));
        lifecycle.addStartupHook(async () => {
          try {
            const checks = await runner.run();
            const notPassing = checks.filter(
              c => c.status === 'fail' || c.status === 'warn',
            );
            for (const c of notPassing) {
              const log = c.status === 'fail' ? logger.error : logger.warn;
              log.call(
                logger,
                `Diagnostics ${c.status}: ${c.title}: ${c.message}${
                  c.fix ? ` Fix: ${c.fix}` : ''
                }`,
                { check: c.id, status: c.status },
              );
            }
            logger.info(
              `Diagnostics: ${checks.length - notPassing.length} of ${
                checks.length
              } checks pass or do not apply; details at /api/diagnostics/checks`,
            );
          } catch (e) {
            logger.warn(`Diagnostics could not run: ${(e as Error).message}`);
          }
        });
      },
    });
  },
});
