import { createServiceFactory } from '@backstage/backend-plugin-api';
import {
  AzureUrlReader,
  ReaderFactory,
  urlReaderFactoriesServiceRef,
} from '@backstage/backend-defaults/urlReader';
import { NotAllowedError } from '@backstage/errors';
import { ScmIntegrations } from '@backstage/integration';

/**
 * The organization an Azure DevOps URL belongs to: the first path segment on dev.azure.com
 * (and on Azure DevOps Server), the subdomain on `<org>.visualstudio.com`.
 */
function organizationOf(url: URL): string | undefined {
  if (url.hostname.endsWith('.visualstudio.com'))
    return url.hostname.split('.')[0];
  return decodeURIComponent(url.pathname.split('/')[1] ?? '') || undefined;
}

/**
 * Backstage's Azure DevOps URL reader, with one check first: when `integrations.azure` lists
 * credentials for the host and none of them fits the URL's organization (each names other
 * organizations), the read fails with a message that names the organization, instead of
 * going out without credentials (Azure DevOps then answers its sign-in page) or, on
 * dev.azure.com, with whatever `DefaultAzureCredential` finds in the environment. A host with
 * no credentials at all keeps Backstage's behaviour.
 */
export const azureDevOpsCredentialCheckReader: ReaderFactory = options => {
  const integrations = ScmIntegrations.fromConfig(options.config);
  return AzureUrlReader.factory(options).map(({ reader, predicate }) => {
    const check = (target: string) => {
      const url = new URL(target);
      const integration = integrations.azure.byHost(url.host);
      const credentials = integration?.config.credentials ?? [];
      const organization = organizationOf(url);
      if (!credentials.length || !organization) return;
      const fits = credentials.some(
        c =>
          !c.organizations?.length ||
          // As Backstage's credentials provider matches them: exactly.
          c.organizations.includes(organization),
      );
      if (!fits) {
        const message = `No credential in integrations.azure for ${url.host} fits organization '${organization}' (${target}): add one with organizations: [${organization}], or one without organizations`;
        // Logged as well: the catalog keeps a location's processing error out of its API
        // when the location never processed, so the log is where the error shows.
        options.logger.warn(message);
        throw new NotAllowedError(message);
      }
    };
    return {
      predicate,
      reader: {
        readUrl: (url, o) => {
          check(url);
          return reader.readUrl(url, o);
        },
        readTree: (url, o) => {
          check(url);
          return reader.readTree(url, o);
        },
        search: (url, o) => {
          check(url);
          return reader.search(url, o);
        },
        toString: () => `checked(${reader})`,
      },
    };
  });
};

/** Adds `azureDevOpsCredentialCheckReader` to the backend's URL readers, before Backstage's own. */
export const azureDevOpsCredentialCheckServiceFactory = createServiceFactory({
  service: urlReaderFactoriesServiceRef,
  deps: {},
  factory: () => azureDevOpsCredentialCheckReader,
});
