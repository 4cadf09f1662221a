import type { EmulatedAzureDevOps } from '../ado/model';

/** A user of an emulated tenant, with the Graph `user` properties the emulator serves. */
export interface EmulatedUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail?: string;
  mailNickname: string;
  givenName?: string;
  surname?: string;
  jobTitle?: string;
  department?: string;
  accountEnabled: boolean;
  userType: 'Member' | 'Guest';
  /** Whether the domain of `mail` is verified by the tenant (drives the `xms_edov` claim). */
  emailVerified: boolean;
  /** The profile photo, when the user has one (Graph answers 404 ImageNotFound otherwise). */
  photo?: EmulatedPhoto;
}

/** A profile photo: its bytes (base64) and media type. */
export interface EmulatedPhoto {
  contentType: string;
  data: string;
}

/** A group of an emulated tenant. Members are object ids of users or groups. */
export interface EmulatedGroup {
  id: string;
  displayName: string;
  description?: string;
  mail?: string;
  mailNickname: string;
  mailEnabled: boolean;
  securityEnabled: boolean;
  groupTypes: string[];
  members: string[];
}

export interface EmulatedPasswordCredential {
  keyId: string;
  displayName: string;
  /** The first three characters, as Entra shows them. */
  hint: string;
  /** SHA-256 of the secret text (hex); the text itself is never kept. */
  secretHash: string;
  startDateTime: string;
  endDateTime: string;
}

export interface EmulatedKeyCredential {
  keyId: string;
  displayName: string;
  /** The public key, PEM (SPKI) or JWK JSON. */
  key: string;
  endDateTime: string;
}

export interface EmulatedAppRole {
  id: string;
  value: string;
  displayName: string;
  description?: string;
  allowedMemberTypes: Array<'User' | 'Application'>;
}

export interface EmulatedApplication {
  /** Object id of the application object. */
  id: string;
  appId: string;
  displayName: string;
  signInAudience: 'AzureADMyOrg' | 'AzureADMultipleOrgs';
  redirectUris: string[];
  /** Front-channel logout redirects accepted besides the redirect URIs. */
  logoutUris: string[];
  passwordCredentials: EmulatedPasswordCredential[];
  keyCredentials: EmulatedKeyCredential[];
  /** `None`, `SecurityGroup`, `All` or `ApplicationGroup`, as in the app manifest. */
  groupMembershipClaims: 'None' | 'SecurityGroup' | 'All' | 'ApplicationGroup';
  appRoles: EmulatedAppRole[];
  /** App roles assigned to users or groups (principal object ids). */
  appRoleAssignments: Array<{ principalId: string; appRoleId: string }>;
  /** Users must be assigned (directly or through a group) to sign in (AADSTS50105). */
  appRoleAssignmentRequired: boolean;
  /** Microsoft Graph application permissions granted with admin consent. */
  graphApplicationPermissions: string[];
  /** Microsoft Graph delegated permissions consented for the tenant. */
  graphDelegatedPermissions: string[];
  /** Require PKCE with S256 on the authorization code flow (the emulator's safe default). */
  requirePkce: boolean;
  /** Trusted external tokens (e.g. from a managed identity) accepted as client assertions. */
  federatedIdentityCredentials: EmulatedFederatedCredential[];
}

/** A federated identity credential on an app registration. */
export interface EmulatedFederatedCredential {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

/** A managed identity: its tokens come from the emulator's managed identity endpoint. */
export interface EmulatedManagedIdentity {
  name: string;
  /** The identity's client id (user-assigned identities are picked by it). */
  clientId: string;
  /** The identity's object (principal) id: `sub` and `oid` of its tokens. */
  principalId: string;
  /** Microsoft Graph application permissions granted to the identity (its Graph tokens' `roles`). */
  graphApplicationPermissions?: string[];
  /**
   * The app's system-assigned identity: what the managed identity endpoint gives when no
   * `client_id` is asked for. Others are user-assigned, picked by id (or the only identity).
   */
  systemAssigned?: boolean;
}

export interface EmulatedTenantData {
  id: string;
  displayName: string;
  /** Verified domains; the first is the default domain. */
  domains: string[];
  users: EmulatedUser[];
  groups: EmulatedGroup[];
  applications: EmulatedApplication[];
  managedIdentities: EmulatedManagedIdentity[];
  /** Azure DevOps organizations connected to this tenant (the emulator's Azure DevOps surface). */
  azureDevOps?: EmulatedAzureDevOps;
}
