import {
  coreServices,
  createBackendModule,
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
} from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { entraEmulatorServiceRef } from '@gatehouse/plugin-entra-emulator-node';
import { EntraOrgEntityProvider } from './EntraOrgEntityProvider';
import { OrgSyncStore } from './OrgSyncStore';

const DEFAULT_SCHEDULE = {
  frequency: { minutes: 30 },
  timeout: { minutes: 15 },
};

/** Users and groups from Microsoft Graph (or the built-in emulator) into the catalog. */
export const catalogModuleEntraOrg = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'entra-org',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        database: coreServices.database,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
        emulator: entraEmulatorServiceRef,
      },
      async init({ catalog, config, database, logger, scheduler, emulator }) {
        const providersConfig = config.getOptionalConfig(
          'catalog.providers.microsoftGraphOrg',
        );
        const ids = providersConfig?.keys() ?? [];
        const useEmulator = ids.length === 0 && emulator.isEnabled();
        if (ids.length === 0 && !useEmulator) return;
        // Delta links and the directory they describe, shared by replicas through the database.
        const store = await OrgSyncStore.create(database);
        for (const id of ids) {
          const c = providersConfig!.getConfig(id);
          const authority = (
            c.getOptionalString('authority') ??
            'https://login.microsoftonline.com'
          ).replace(/\/+$/, '');
          const credentials = {
            authority,
            tenantId: c.getString('tenantId'),
            clientId: c.getString('clientId'),
            clientSecret: c.getString('clientSecret'),
          };
          const graphBaseUrl = (
            c.getOptionalString('target') ?? 'https://graph.microsoft.com/v1.0'
          ).replace(/\/+$/, '');
          catalog.addEntityProvider(
            new EntraOrgEntityProvider({
              id,
              target: async () => ({ graphBaseUrl, credentials }),
              userFilter: c.getOptionalString('user.filter'),
              groupFilter: c.getOptionalString('group.filter'),
              logger,
              store,
              taskRunner: scheduler.createScheduledTaskRunner(
                c.has('schedule')
                  ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
                      c.getConfig('schedule'),
                    )
                  : DEFAULT_SCHEDULE,
              ),
            }),
          );
        }
        if (useEmulator) {
          logger.info(
            'No catalog.providers.microsoftGraphOrg configured: reading the built-in emulator tenant',
          );
          catalog.addEntityProvider(
            new EntraOrgEntityProvider({
              id: 'emulator',
              target: async () => {
                const conn = await emulator.getConnection();
                return {
                  graphBaseUrl: conn.graphBaseUrl,
                  credentials: {
                    authority: conn.authority,
                    tenantId: conn.tenantId,
                    clientId: conn.clientId,
                    clientSecret: conn.clientSecret,
                  },
                };
              },
              logger,
              store,
              taskRunner: scheduler.createScheduledTaskRunner(DEFAULT_SCHEDULE),
            }),
          );
        }
      },
    });
  },
});
