import {
  coreServices,
  createBackendModule,
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { HumanDuration } from '@backstage/types';
import { Duration } from 'luxon';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { entraEmulatorServiceRef } from '@gatehouse/plugin-entra-emulator-node';
import { readProviderTarget } from './credentials';
import { EntraOrgEntityProvider } from './EntraOrgEntityProvider';
import { composeGroupFilter } from './filter';
import { OrgSyncStore } from './OrgSyncStore';
import { PhotoLoader, PhotoStore } from './photos';
import { entraOrgStatusServiceRef } from './status';
import {
  EntraOrgTransformers,
  entraOrgTransformersExtensionPoint,
} from './transformers';

const DEFAULT_SCHEDULE = {
  frequency: { minutes: 30 },
  timeout: { minutes: 15 },
};

/** A fixed frequency in milliseconds; undefined for cron and manual schedules. */
function frequencyMs(
  frequency: SchedulerServiceTaskScheduleDefinition['frequency'],
): number | undefined {
  if (typeof frequency !== 'object' || 'cron' in frequency) return undefined;
  if ('trigger' in frequency) return undefined;
  const ms = Duration.isDuration(frequency)
    ? (frequency as Duration).toMillis()
    : Duration.fromObject(frequency as HumanDuration).toMillis();
  return ms > 0 ? ms : undefined;
}

/** Users and groups from Microsoft Graph (or the built-in emulator) into the catalog. */
export const catalogModuleEntraOrg = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'entra-org',
  register(reg) {
    const transformers: EntraOrgTransformers = { user: [], group: [] };
    reg.registerExtensionPoint(entraOrgTransformersExtensionPoint, {
      addUserTransformer: t => {
        transformers.user.push(t);
      },
      addGroupTransformer: t => {
        transformers.group.push(t);
      },
    });
    reg.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        database: coreServices.database,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
        emulator: entraEmulatorServiceRef,
        status: entraOrgStatusServiceRef,
      },
      async init({
        catalog,
        config,
        database,
        logger,
        scheduler,
        emulator,
        status,
      }) {
        const providersConfig = config.getOptionalConfig(
          'catalog.providers.microsoftGraphOrg',
        );
        const ids = providersConfig?.keys() ?? [];
        const useEmulator = ids.length === 0 && emulator.isEnabled();
        if (ids.length === 0 && !useEmulator) return;
        // Delta links and the directory they describe, shared by replicas through the database.
        const store = await OrgSyncStore.create(database);
        const add = (provider: EntraOrgEntityProvider) => {
          catalog.addEntityProvider(provider);
          // The status endpoint (the entra-org plugin) reads it and triggers rounds through
          // the catalog's own scheduler, where the task lives.
          status.register({
            id: provider.id,
            status: () => provider.status(),
            refresh: () => scheduler.triggerTask(provider.taskId),
          });
        };
        let photoStore: PhotoStore | undefined;
        for (const id of ids) {
          const c = providersConfig!.getConfig(id);
          // Read now, so a configuration mistake stops the backend at start.
          const target = readProviderTarget(c);
          logger.info(
            `Entra org sync ${id}: tenant ${c.getString(
              'tenantId',
            )}, credential ${target.kind}, authority ${
              target.authority
            }, Graph ${target.graphBaseUrl}`,
          );
          const schedule = c.has('schedule')
            ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
                c.getConfig('schedule'),
              )
            : DEFAULT_SCHEDULE;
          const loadPhotos = c.getOptionalBoolean('user.loadPhotos') ?? false;
          if (loadPhotos) photoStore ??= await PhotoStore.create(database);
          add(
            new EntraOrgEntityProvider({
              id,
              target: async () => target,
              userFilter: c.getOptionalString('user.filter'),
              userSelect: c.getOptionalStringArray('user.select'),
              groupFilter: composeGroupFilter(
                c.getOptionalString('group.filter'),
                {
                  securityGroupsOnly: c.getOptionalBoolean(
                    'group.securityGroupsOnly',
                  ),
                  displayNamePrefixes: c.getOptionalStringArray(
                    'group.displayNamePrefixes',
                  ),
                },
              ),
              groupSelect: c.getOptionalStringArray('group.select'),
              groupAssignedToApp: c.getOptionalString('group.assignedToApp'),
              photos:
                loadPhotos && photoStore
                  ? new PhotoLoader({
                      providerId: id,
                      store: photoStore,
                      logger,
                    })
                  : undefined,
              transformers,
              includeTransitiveGroupOwnership: c.getOptionalBoolean(
                'includeTransitiveGroupOwnership',
              ),
              logger,
              store,
              taskRunner: scheduler.createScheduledTaskRunner(schedule),
              frequencyMs: frequencyMs(schedule.frequency),
            }),
          );
        }
        if (useEmulator) {
          logger.info(
            'No catalog.providers.microsoftGraphOrg configured: reading the built-in emulator tenant',
          );
          add(
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
              transformers,
              logger,
              store,
              taskRunner: scheduler.createScheduledTaskRunner(DEFAULT_SCHEDULE),
              frequencyMs: frequencyMs(DEFAULT_SCHEDULE.frequency),
            }),
          );
        }
      },
    });
  },
});
