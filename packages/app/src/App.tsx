import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import orgPlugin from '@backstage/plugin-org/alpha';
import userSettingsPlugin from '@backstage/plugin-user-settings/alpha';
import { signInModule } from './modules/signIn';

export default createApp({
  features: [catalogPlugin, orgPlugin, userSettingsPlugin, signInModule],
});
