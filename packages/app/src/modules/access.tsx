import {
  createFrontendModule,
  createRouteRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import LockIcon from '@material-ui/icons/Lock';

const accessRouteRef = createRouteRef();

/**
 * "Access" at /access, in the sidebar: the roles of the Entra RBAC policy, their members
 * resolved through nesting, and "check access" (why a user may or may not do something).
 * For admins: the endpoint (`/api/entra-rbac`, `@gatehouse/plugin-entra-rbac-backend`)
 * answers 403 to everyone else, and the page says so.
 */
const accessPage = PageBlueprint.make({
  name: 'entra-rbac-access',
  params: {
    path: '/access',
    title: 'Access',
    icon: <LockIcon />,
    routeRef: accessRouteRef,
    loader: () => import('./AccessPage').then(m => <m.AccessPage />),
  },
});

export const accessModule = createFrontendModule({
  pluginId: 'app',
  extensions: [accessPage],
});
