import { SignInPage } from '@backstage/core-components';
import { microsoftAuthApiRef } from '@backstage/core-plugin-api';
import { createFrontendModule } from '@backstage/frontend-plugin-api';
import { SignInPageBlueprint } from '@backstage/plugin-app-react';

/** The Microsoft (Entra ID) provider on the sign-in page; the standard microsoftAuthApiRef. */
export const microsoftProvider = {
  id: 'microsoft-auth-provider',
  title: 'Microsoft',
  message: 'Sign in with your Microsoft Entra ID account',
  apiRef: microsoftAuthApiRef,
};

const entraSignInPage = SignInPageBlueprint.make({
  params: {
    loader: async () => props =>
      <SignInPage {...props} auto provider={microsoftProvider} />,
  },
});

/** Replaces the default guest sign-in page with Entra ID sign-in. */
export const signInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [entraSignInPage],
});
