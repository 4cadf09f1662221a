import { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';

export interface Config {
  catalog?: {
    providers?: {
      /**
       * Users and groups from Microsoft Graph, one entry per tenant (the key is the provider id).
       * The keys of Backstage's own `microsoftGraphOrg` provider keep working. With no entry,
       * the built-in emulator's tenant is read (unless `gatehouse.emulator.enabled` is false).
       */
      microsoftGraphOrg?: {
        [providerId: string]: {
          /** The Directory (tenant) ID. */
          tenantId: string;
          /** Client ID of an app registration with User.Read.All and GroupMember.Read.All. */
          clientId: string;
          /**
           * Its client secret.
           * @visibility secret
           */
          clientSecret: string;
          /** Authority host. Default `https://login.microsoftonline.com`. */
          authority?: string;
          /** Graph base URL. Default `https://graph.microsoft.com/v1.0`. */
          target?: string;
          user?: {
            /** OData `$filter` for users, e.g. `accountEnabled eq true`. */
            filter?: string;
          };
          group?: {
            /** OData `$filter` for groups, e.g. `securityEnabled eq true`. */
            filter?: string;
          };
          /** How often to read the tenant. Default every 30 minutes. */
          schedule?: SchedulerServiceTaskScheduleDefinitionConfig;
        };
      };
    };
  };
}
