import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import orgPlugin from '@backstage/plugin-org/alpha';
import scaffolderPlugin from '@backstage/plugin-scaffolder/alpha';
import azureDevOpsPlugin from '@gatehouse/plugin-azure-devops';
import userSettingsPlugin from '@backstage/plugin-user-settings/alpha';
import { accessModule } from './modules/access';
import { homeModule } from './modules/home';
import { orgSyncModule } from './modules/orgSync';
import { signInModule } from './modules/signIn';

export default createApp({
  features: [
    catalogPlugin,
    orgPlugin,
    scaffolderPlugin,
    azureDevOpsPlugin,
    userSettingsPlugin,
    signInModule,
    homeModule,
    orgSyncModule,
    accessModule,
  ],
});
