export interface Config {
  gatehouse?: {
    diagnostics?: {
      /**
       * Read the portal's own app registration from Microsoft Graph (needs the application
       * permission `Application.Read.All`) to compare its redirect URIs and client secret
       * expiry with this configuration. Default true; without the permission the checks say
       * so and are skipped.
       */
      readAppRegistration?: boolean;
      /**
       * Days before a client secret expires from which the secret check warns. Default 30.
       */
      secretExpiryWarningDays?: number;
    };
  };
}
