export interface Config {
  auth?: {
    providers?: {
      /**
       * Sign-in with Microsoft Entra ID, per auth environment (`development`, `production`, ...).
       * The keys of Backstage's own Microsoft provider keep working. With no `clientId` and
       * `tenantId`, the built-in emulator's tenant is used (unless `gatehouse.emulator.enabled`
       * is false).
       */
      microsoft?: {
        [authEnv: string]: {
          /** The app registration's Application (client) ID. */
          clientId?: string;
          /**
           * A client secret of the app registration. Exactly one of clientSecret,
           * clientCertificate and federatedCredential is required.
           * @visibility secret
           */
          clientSecret?: string;
          /**
           * Client authentication by certificate (private_key_jwt) instead of a secret.
           */
          clientCertificate?: {
            /**
             * The certificate's private key, PKCS#8 PEM.
             * @visibility secret
             */
            privateKey: string;
            /** The certificate, PEM: its thumbprint (x5t) tells Entra which key signed. */
            certificate?: string;
            /** Or the key credential's id, sent as `kid`. */
            keyId?: string;
          };
          /**
           * Client authentication by a federated credential: a managed identity's token (or a
           * workload identity token file) is the client assertion, so no secret exists at all.
           * The app registration needs a federated identity credential for that identity.
           */
          federatedCredential?: {
            /** `managedIdentity` (Container Apps, App Service, IMDS) or `file`. */
            source: 'managedIdentity' | 'file';
            /** A user-assigned managed identity's client id. */
            managedIdentityClientId?: string;
            /** For `file`: the token file. Default `AZURE_FEDERATED_TOKEN_FILE`. */
            tokenFile?: string;
          };
          /** Microsoft Graph base URL. Default: the Graph of the authority's cloud. */
          graphUrl?: string;
          /** The Directory (tenant) ID, a GUID, or a verified domain of the tenant. */
          tenantId?: string;
          /**
           * The authority host, or a cloud name: `public` (default,
           * `https://login.microsoftonline.com`), `usgovernment`
           * (`https://login.microsoftonline.us`), `china` (`https://login.chinacloudapi.cn`),
           * or any URL (an emulator).
           */
          authority?: string;
          /**
           * For a multi-tenant app (`tenantId: organizations` or `common`): the tenant ids whose
           * users may sign in. Empty: any tenant. A single tenant pins the issuer instead.
           */
          allowedTenants?: string[];
          /** Sent as `domain_hint` to skip Entra's account discovery. */
          domainHint?: string;
          /** Scopes requested besides `openid profile email offline_access User.Read`. */
          additionalScopes?: string | string[];
          /**
           * Key from which PKCE verifiers and OIDC nonces are derived per sign-in. Set the same
           * value on every replica so that any of them can finish a sign-in another started.
           * Default: a random key per process (fine for one replica).
           * @visibility secret
           */
          stateSecret?: string;
          /** Override the callback URL registered as the app's redirect URI. */
          callbackUrl?: string;
          signIn?: {
            /**
             * Sign-in resolvers, tried in order. Default: `userIdMatchingUserEntityAnnotation`.
             * Email-based resolvers accept only emails Entra marks verified (`xms_edov`) or in
             * `verifiedDomains`.
             */
            resolvers: Array<
              | {
                  resolver: 'userIdMatchingUserEntityAnnotation';
                  /** Sign in users who are not in the catalog (logged); ownership from their Entra groups. */
                  dangerouslyAllowSignInWithoutUserInCatalog?: boolean;
                }
              | {
                  resolver: 'emailMatchingUserEntityAnnotation';
                  verifiedDomains?: string[];
                }
              | {
                  resolver: 'emailMatchingUserEntityProfileEmail';
                  verifiedDomains?: string[];
                }
              | {
                  resolver: 'emailLocalPartMatchingUserEntityName';
                  /** Required: the email domains whose local part may name a catalog user. */
                  allowedDomains: string[];
                  verifiedDomains?: string[];
                }
            >;
          };
        };
      };
    };
  };
}
