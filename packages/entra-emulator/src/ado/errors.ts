/**
 * Errors in Azure DevOps' JSON shape:
 * `{ $id, innerException, message, typeName, typeKey, errorCode, eventId }`.
 */
const NAMESPACES: Record<string, string> = {
  VssVersionNotSpecifiedException:
    'Microsoft.VisualStudio.Services.WebApi.VssVersionNotSpecifiedException, Microsoft.VisualStudio.Services.WebApi',
  VssVersionOutOfRangeException:
    'Microsoft.VisualStudio.Services.WebApi.VssVersionOutOfRangeException, Microsoft.VisualStudio.Services.WebApi',
  VssInvalidPreviewVersionException:
    'Microsoft.VisualStudio.Services.WebApi.VssInvalidPreviewVersionException, Microsoft.VisualStudio.Services.WebApi',
  UnauthorizedRequestException:
    'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server',
  RequestBlockedException:
    'Microsoft.TeamFoundation.Framework.Server.RequestBlockedException, Microsoft.TeamFoundation.Framework.Server',
  ProjectDoesNotExistWithNameException:
    'Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistWithNameException, Microsoft.TeamFoundation.Core.WebApi',
  ProjectDoesNotExistException:
    'Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistException, Microsoft.TeamFoundation.Core.WebApi',
};

function typeNameOf(typeKey: string): string {
  if (NAMESPACES[typeKey]) return NAMESPACES[typeKey];
  if (typeKey.startsWith('Git'))
    return `Microsoft.TeamFoundation.Git.Server.${typeKey}, Microsoft.TeamFoundation.Git.Server`;
  if (typeKey.startsWith('Pipeline') || typeKey.startsWith('Definition'))
    return `Microsoft.Azure.Pipelines.WebApi.${typeKey}, Microsoft.Azure.Pipelines.WebApi`;
  if (typeKey.startsWith('Search') || typeKey.startsWith('InvalidQuery'))
    return `Microsoft.VisualStudio.Services.Search.WebApi.${typeKey}, Microsoft.VisualStudio.Services.Search.WebApi`;
  return `System.${typeKey}, mscorlib`;
}

/** An Azure DevOps error: HTTP status, `typeKey` and message (usually with its TF/VS code). */
export class AdoError extends Error {
  constructor(
    readonly status: number,
    readonly typeKey: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get body(): Record<string, unknown> {
    return {
      $id: '1',
      innerException: null,
      message: this.message,
      typeName: typeNameOf(this.typeKey),
      typeKey: this.typeKey,
      errorCode: 0,
      eventId: 3000,
    };
  }
}

export const adoErrors = {
  versionNotSpecified: (method: string) =>
    new AdoError(
      400,
      'VssVersionNotSpecifiedException',
      `No api-version was supplied for the "${method}" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. "?api-version=1.0").`,
    ),
  versionOutOfRange: (requested: string, latest: string) =>
    new AdoError(
      400,
      'VssVersionOutOfRangeException',
      `The requested REST API version of ${requested} is out of range for this server. The latest REST API version this server supports is ${latest}.`,
    ),
  invalidVersion: (requested: string) =>
    new AdoError(
      400,
      'VssInvalidPreviewVersionException',
      `The requested version "${requested}" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: "${requested}-preview"`,
    ),
  notAuthorized: (user = '') =>
    new AdoError(
      401,
      'UnauthorizedRequestException',
      `TF400813: The user '${user}' is not authorized to access this resource.`,
    ),
  gitPermission: (permission: string, user: string) =>
    new AdoError(
      403,
      'GitNeedsPermissionException',
      `TF401027: You need the Git '${permission}' permission to perform this action. Details: identity '${user}', scope 'repository'.`,
    ),
  projectNotFound: (name: string) =>
    new AdoError(
      404,
      'ProjectDoesNotExistWithNameException',
      `TF200016: The following project does not exist: ${name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
    ),
  repositoryNotFound: (name: string) =>
    new AdoError(
      404,
      'GitRepositoryNotFoundException',
      `TF401019: The Git repository with name or identifier ${name} does not exist or you do not have permissions for the operation you are attempting.`,
    ),
  repositoryExists: (name: string) =>
    new AdoError(
      409,
      'GitRepositoryNameAlreadyExistsException',
      `TF400948: A Git repository with the name ${name} already exists.`,
    ),
  itemNotFound: (
    path: string,
    repo: string,
    version: string,
    commitId: string,
  ) =>
    new AdoError(
      404,
      'GitItemNotFoundException',
      `TF401174: The item '${path}' could not be found in the repository '${repo}' at the version specified by '${version}' (resolved to commit '${commitId}').`,
    ),
  unresolvableVersion: (version: string) =>
    new AdoError(
      404,
      'GitUnresolvableToCommitException',
      `TF401175: The version descriptor ${version} could not be resolved to a version commit.`,
    ),
  blocked: (retryAfter: number, resource: string) =>
    new AdoError(
      429,
      'RequestBlockedException',
      `TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource '${resource}' in namespace 'User'.`,
      {
        'Retry-After': String(retryAfter),
        'X-RateLimit-Resource': resource,
        'X-RateLimit-Delay': '0.000',
        'X-RateLimit-Limit': '200',
        'X-RateLimit-Remaining': '0',
      },
    ),
  badRequest: (typeKey: string, message: string) =>
    new AdoError(400, typeKey, message),
  notFound: (typeKey: string, message: string) =>
    new AdoError(404, typeKey, message),
};
