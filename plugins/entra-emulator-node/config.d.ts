export interface Config {
  gatehouse?: {
    /**
     * The built-in Entra ID + Microsoft Graph emulator. It runs inside the backend whenever a
     * Gatehouse module needs a tenant and none is configured.
     */
    emulator?: {
      /**
       * Allow the emulator to start. Default true; `app-config.production.yaml` sets false so
       * that a missing tenant configuration is an error there, not a silent emulator.
       */
      enabled?: boolean;
      /** Port the emulator listens on (sign-in pages, OIDC, Graph). Default 7100. */
      port?: number;
      /**
       * Port of the emulator's Azure DevOps listener (REST and Git over HTTP, path layout of
       * `dev.azure.com`). Default 7101 (a free port when `port` is 0).
       */
      adoPort?: number;
      /**
       * The personal access token the portal uses for the emulator's Azure DevOps. Unset, the
       * backend makes one at start, keeps it in memory, and adds `integrations.azure` with it
       * for `{publicHost}:{adoPort}` (only when the emulator is enabled and no
       * `integrations.azure` is configured). Set it to call the emulator from scripts too.
       * @visibility secret
       */
      adoPersonalAccessToken?: string;
      /** Host name the browser reaches the emulator at. Default `localhost`. */
      publicHost?: string;
      /** Interface to listen on. Default `127.0.0.1`. */
      listenHost?: string;
      /**
       * Tenant file (YAML). Default: the Contoso tenant shipped with `@gatehouse/entra-emulator`.
       * Relative paths are resolved from the backend's working directory.
       */
      tenantFile?: string;
      /**
       * Lifetime of the emulator's access and ID tokens, seconds. Default 3600, as Entra.
       * Shorter lifetimes exercise token refresh.
       */
      tokenLifetimeSeconds?: number;
      /** The app registration the portal signs in with. Default: the first app of the first tenant. */
      clientId?: string;
    };
  };
}
