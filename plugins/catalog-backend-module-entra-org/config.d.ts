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
            /**
             * OData `$filter` for users, e.g. `accountEnabled eq true`. Delta queries cannot
             * filter, so the sync evaluates it: `eq`, `ne`, `gt`, `ge`, `lt`, `le`, `in`,
             * `startswith`, `endswith`, `any`, `and`, `or`, `not`. Default: every user
             * (disabled users are always left out).
             */
            filter?: string;
          };
          group?: {
            /**
             * OData `$filter` for groups, e.g. `securityEnabled eq true`, evaluated by the sync
             * like `user.filter`. Default: every group.
             */
            filter?: string;
          };
          /**
           * How often to read the changes (Graph delta queries; the first round reads the whole
           * tenant). Default every 30 minutes, with a 15-minute timeout.
           */
          schedule?: SchedulerServiceTaskScheduleDefinitionConfig;
        };
      };
    };
  };
}
