import {
  createFrontendModule,
  createRouteRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import SyncIcon from '@material-ui/icons/Sync';

const orgSyncRouteRef = createRouteRef();

/**
 * "Org sync" at /entra-org, in the sidebar: where each Entra org sync provider stands, with
 * "Sync now". A module of the app rather than a plugin package: one page over one endpoint
 * (`/api/entra-org`, the `@gatehouse/plugin-entra-org-backend` plugin).
 */
const orgSyncPage = PageBlueprint.make({
  name: 'entra-org-sync',
  params: {
    path: '/entra-org',
    title: 'Org sync',
    icon: <SyncIcon />,
    routeRef: orgSyncRouteRef,
    loader: () => import('./OrgSyncPage').then(m => <m.OrgSyncPage />),
  },
});

export const orgSyncModule = createFrontendModule({
  pluginId: 'app',
  extensions: [orgSyncPage],
});
