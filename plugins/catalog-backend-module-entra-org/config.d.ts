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
          /** The Directory (tenant) ID. Several tenants: one provider entry each. */
          tenantId: string;
          /**
           * Client ID of the app registration the sync signs in as (User.Read.All and
           * GroupMember.Read.All application permissions). With no clientSecret,
           * clientCertificate or federatedCredential: the client id of a user-assigned
           * managed identity to sign in as (`system-assigned` or none: the system-assigned one).
           */
          clientId?: string;
          /**
           * The app's client secret. Exactly one of clientSecret, clientCertificate and
           * federatedCredential, or none for a managed identity.
           * @visibility secret
           */
          clientSecret?: string;
          /** Sign in with a certificate of the app (through `@azure/identity`). */
          clientCertificate?: {
            /** The certificate, PEM (its thumbprint tells Entra which key signed). */
            certificate: string;
            /**
             * Its private key, PEM.
             * @visibility secret
             */
            privateKey: string;
          };
          /**
           * Workload identity federation: no secret at all. The app's client assertion is a
           * managed identity's token, or a token file (Kubernetes workload identity). The app
           * registration needs a federated identity credential for that identity.
           */
          federatedCredential?: {
            /** `managedIdentity` (Container Apps, App Service, VMs) or `file`. */
            source: 'managedIdentity' | 'file';
            /** A user-assigned managed identity's client id; default the system-assigned one. */
            managedIdentityClientId?: string;
            /** For `file`: the token file. Default `AZURE_FEDERATED_TOKEN_FILE`. */
            tokenFile?: string;
          };
          /**
           * The cloud: `public` (default, `https://login.microsoftonline.com`),
           * `usgovernment` (`https://login.microsoftonline.us`), `china`
           * (`https://login.chinacloudapi.cn`), or any authority URL. A Microsoft cloud also
           * gives the default `target`.
           */
          authority?: string;
          /**
           * Graph base URL. Default: the Graph of the authority's cloud
           * (`https://graph.microsoft.com/v1.0`, `https://graph.microsoft.us/v1.0`,
           * `https://microsoftgraph.chinacloudapi.cn/v1.0`).
           */
          target?: string;
          /**
           * Users' `memberOf` also lists every group above their groups, so a member of a
           * child group owns what the parent groups own (the catalog's ownership is a user's
           * `memberOf` relations). Default false: direct groups only.
           */
          includeTransitiveGroupOwnership?: boolean;
          user?: {
            /**
             * OData `$filter` for users, e.g. `accountEnabled eq true`. Delta queries cannot
             * filter, so the sync evaluates it: `eq`, `ne`, `gt`, `ge`, `lt`, `le`, `in`,
             * `startswith`, `endswith`, `any`, `and`, `or`, `not`. Default: every user
             * (disabled users are always left out).
             */
            filter?: string;
            /** More user properties to read, for transformers, e.g. `[department]`. */
            select?: string[];
            /**
             * Profile photos as `spec.profile.picture` (a data: URL of the 48x48 photo).
             * Default false. Fetched 4 at a time (Graph's photo limit), for new and changed
             * users, again after 7 days, at most 1,000 a round.
             */
            loadPhotos?: boolean;
          };
          group?: {
            /**
             * OData `$filter` for groups, e.g. `securityEnabled eq true`, evaluated by the sync
             * like `user.filter`. Default: every group.
             */
            filter?: string;
            /** Only security groups (`securityEnabled eq true`). Default false. */
            securityGroupsOnly?: boolean;
            /** Only groups whose display name starts with one of these, e.g. `[team-]`. */
            displayNamePrefixes?: string[];
            /**
             * Only groups assigned to this app (its client id) in Enterprise applications,
             * e.g. `${AZURE_CLIENT_ID}`. Needs the Application.Read.All permission.
             */
            assignedToApp?: string;
            /** More group properties to read, for transformers. */
            select?: string[];
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
