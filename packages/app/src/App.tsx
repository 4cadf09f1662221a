import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import orgPlugin from '@backstage/plugin-org/alpha';
import userSettingsPlugin from '@backstage/plugin-user-settings/alpha';
import { accessModule } from './modules/access';
import { homeModule } from './modules/home';
import { orgSyncModule } from './modules/orgSync';
import { signInModule } from './modules/signIn';

export default createApp({
  features: [
    catalogPlugin,
    orgPlugin,
    userSettingsPlugin,
    signInModule,
    homeModule,
    orgSyncModule,
    accessModule,
  ],
});
