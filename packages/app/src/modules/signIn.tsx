import { SignInPage } from '@backstage/core-components';
import {
  discoveryApiRef,
  microsoftAuthApiRef,
  useApi,
} from '@backstage/core-plugin-api';
import { createFrontendModule } from '@backstage/frontend-plugin-api';
import {
  SignInPageBlueprint,
  SignInPageProps,
} from '@backstage/plugin-app-react';
import { useEffect, useState } from 'react';

/** The Microsoft (Entra ID) provider on the sign-in page; the standard microsoftAuthApiRef. */
export const microsoftProvider = {
  id: 'microsoft-auth-provider',
  title: 'Microsoft',
  message: 'Sign in with your Microsoft Entra ID account',
  apiRef: microsoftAuthApiRef,
};

/**
 * Errors Entra shows on its own page (such as AADSTS50011, a redirect URI that is not
 * registered) never come back to the portal; this tells the person what to register.
 */
function SignInHelp() {
  const discovery = useApi(discoveryApiRef);
  const [redirectUri, setRedirectUri] = useState<string>();
  useEffect(() => {
    discovery
      .getBaseUrl('auth')
      .then(url => setRedirectUri(`${url}/microsoft/handler/frame`))
      .catch(() => setRedirectUri(undefined));
  }, [discovery]);
  if (!redirectUri) return null;
  return (
    <details
      style={{ maxWidth: 640, margin: '0 auto 24px', padding: '0 24px' }}
    >
      <summary>Trouble signing in?</summary>
      <p>
        If the Microsoft window shows <strong>AADSTS50011</strong>, the app
        registration lacks this redirect URI (platform <em>Web</em>); an admin
        registers it exactly as written:
      </p>
      <p>
        <code data-testid="redirect-uri">{redirectUri}</code>
      </p>
      <p>
        Other refusals are shown above with their cause and a correlation id to
        give your admin.
      </p>
    </details>
  );
}

function EntraSignInPage(props: SignInPageProps) {
  return (
    <>
      <SignInPage {...props} auto provider={microsoftProvider} />
      <SignInHelp />
    </>
  );
}

const entraSignInPage = SignInPageBlueprint.make({
  params: {
    loader: async () => EntraSignInPage,
  },
});

/** Replaces the default guest sign-in page with Entra ID sign-in. */
export const signInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [entraSignInPage],
});
