export interface Config {
  gatehouse?: {
    /**
     * Configuration the backend refuses to start without (production sets this list in
     * app-config.production.yaml). Each entry is a config key and, for the error message, the
     * environment variable that usually supplies it. A missing or empty value stops start-up
     * with an error naming every missing key. Default: nothing is required.
     * @example [{ key: 'auth.providers.microsoft.production.clientSecret', env: 'AZURE_CLIENT_SECRET' }]
     */
    requiredConfig?: Array<{
      /** A config key, dotted, e.g. `backend.database.connection.password`. */
      key: string;
      /** The environment variable named in the error message, e.g. `POSTGRES_PASSWORD`. */
      env?: string;
    }>;
  };
}
