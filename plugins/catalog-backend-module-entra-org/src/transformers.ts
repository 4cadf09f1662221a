import { createExtensionPoint } from '@backstage/backend-plugin-api';
import { GroupEntity, UserEntity } from '@backstage/catalog-model';
import { GraphGroup, GraphUser } from './OrgState';

/** What a transformer knows besides the entity and the Graph object. */
export interface EntraOrgTransformerContext {
  /** The provider id (`catalog.providers.microsoftGraphOrg.<id>`). */
  providerId: string;
  tenantId: string;
}

/**
 * Changes a User entity the sync made, or drops it (returns undefined). It gets a copy of
 * the entity and the Graph user with the properties read (`user.select` adds more).
 *
 * Synchronous on purpose: every round renders the whole directory and writes only the
 * entities whose content changed, so a transformer must give the same entity for the same
 * input. Names it changes are followed in the other entities' references.
 */
export type EntraOrgUserTransformer = (
  entity: UserEntity,
  user: GraphUser,
  context: EntraOrgTransformerContext,
) => UserEntity | undefined;

/** Changes a Group entity the sync made, or drops it (returns undefined); see the user one. */
export type EntraOrgGroupTransformer = (
  entity: GroupEntity,
  group: GraphGroup,
  context: EntraOrgTransformerContext,
) => GroupEntity | undefined;

/** The transformers registered, applied in order of registration. */
export interface EntraOrgTransformers {
  user: EntraOrgUserTransformer[];
  group: EntraOrgGroupTransformer[];
}

/**
 * Lets other catalog modules change or drop the users and groups the Entra org sync makes
 * (Gatehouse's counterpart of upstream's `microsoftGraphOrgEntityProviderTransformExtensionPoint`).
 */
export interface EntraOrgTransformersExtensionPoint {
  /** Adds a user transformer; several run in order, each on the result of the one before. */
  addUserTransformer(transformer: EntraOrgUserTransformer): void;
  /** Adds a group transformer; several run in order, each on the result of the one before. */
  addGroupTransformer(transformer: EntraOrgGroupTransformer): void;
}

/** The extension point for Entra org sync transformers (use it from a catalog module). */
export const entraOrgTransformersExtensionPoint =
  createExtensionPoint<EntraOrgTransformersExtensionPoint>({
    id: 'catalog.entra-org.transformers',
  });
