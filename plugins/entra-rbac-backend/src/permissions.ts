import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Reading the Access page: every role, its members and the explanation of any decision.
 * No default rule grants it: only the admin role (or a role naming it) does.
 */
export const entraRbacAccessReadPermission = createPermission({
  name: 'entra-rbac.access.read',
  attributes: { action: 'read' },
});

export const entraRbacPermissions = [entraRbacAccessReadPermission];
