/** A role member: exactly one key. */
type EntraRbacMember =
  | {
      /** An Entra group object id (GUID); members of nested groups hold the role too. */
      entraGroup: string;
    }
  | {
      /** An Entra user object id (GUID). */
      entraUser: string;
    }
  | {
      /** A catalog group ref, e.g. `group:default/platform`; nested groups included. */
      group: string;
    }
  | {
      /** A catalog user ref, e.g. `user:default/alex.wilber`. */
      user: string;
    }
  | {
      /** An app role value from the ID token's `roles` claim, e.g. `Portal.Admin`. */
      appRole: string;
    }
  | {
      /** Every signed-in user. */
      signedIn: true;
    };

/** A rule: allows the permissions matching every selector it gives. */
interface EntraRbacRule {
  /** Permission names; a trailing `*` matches the rest (`catalog.*`, `*`). */
  permission?: string | string[];
  /** A resource type, e.g. `catalog-entity`. */
  resourceType?: string;
  /** Permission actions. */
  actions?: Array<'read' | 'create' | 'update' | 'delete'>;
  /**
   * Only for entities meeting all of these (needs `resourceType: catalog-entity`); the
   * catalog applies them as a conditional decision.
   */
  conditions?: {
    /** The user owns the entity, directly or through (nested) groups. */
    owner?: true;
    /** Entity kinds, e.g. `[Component, API]`. */
    kinds?: string[];
    /** Entity namespaces. */
    namespaces?: string[];
    /** Annotations the entity has: a key, or `{ key, value }`. */
    annotations?: Array<string | { key: string; value?: string }>;
    /** Tags, any of which the entity carries. */
    tags?: string[];
  };
}

/** A role: who holds it and what it allows. */
interface EntraRbacRole {
  /** A unique name (letters, digits, `.`, `_`, `-`). */
  name: string;
  description?: string;
  members: EntraRbacMember[];
  rules: EntraRbacRule[];
}

export interface Config {
  permission?: {
    /**
     * The Entra RBAC permission policy. Reloaded when app-config or the roles file changes;
     * an invalid change is refused and the previous policy stays.
     */
    entraRbac?: {
      /**
       * Adds the built-in roles `signed-in` (reads the catalog), `owner` (refreshes and
       * unregisters owned entities) and `admin` (everything). Default: true.
       */
      defaults?: boolean;
      /** Members of the built-in `admin` role. Default: none. */
      admins?: EntraRbacMember[];
      /** Roles besides the built-in ones. */
      roles?: EntraRbacRole[];
      /**
       * A YAML file with more `roles` (and `admins`), relative to the backend's working
       * directory, e.g. `../../rbac-roles.yaml`. Watched for changes.
       */
      rolesFile?: string;
      /**
       * How long a user's groups (read from the catalog) and app roles are cached, in
       * seconds, 0 to 3600. Default: 30.
       */
      membershipCacheSeconds?: number;
    };
  };
}
