import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import catalogEntraOrg from '@gatehouse/plugin-catalog-backend-module-entra-org';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import authModuleEntraProvider from '../index';

/** What the callback page posts to the portal window: the sign-in result or the error. */
export function authResponse(html: string): any {
  const encoded = /var authResponse = decodeURIComponent\('([^']*)'\)/.exec(
    html,
  )?.[1];
  return encoded ? JSON.parse(decodeURIComponent(encoded)) : undefined;
}

/** The cookies a browser keeps from a response (Backstage first clears an old nonce cookie). */
export function keptCookies(res: Response): string[] {
  return res.headers
    .getSetCookie()
    .filter(c => !/Max-Age=0/i.test(c))
    .map(c => c.split(';')[0]);
}

/**
 * A whole sign-in as a browser makes it: the backend's start URL, the emulator's account page,
 * picking `userId` there, and the callback with the cookies the backend set.
 */
export type SignInOutcome =
  | { startStatus: number; startBody: string }
  | { authorizeUrl: URL; response: any; refreshCookie: boolean };

export async function signInThroughEmulator(options: {
  backendBaseUrl: string;
  userId: string;
  scope?: string;
}): Promise<SignInOutcome> {
  const scope =
    options.scope ?? 'openid profile email offline_access User.Read';
  const start = await fetch(
    `${
      options.backendBaseUrl
    }/api/auth/microsoft/start?env=development&scope=${encodeURIComponent(
      scope,
    )}`,
    { redirect: 'manual' },
  );
  if (start.status !== 302) {
    return {
      startStatus: start.status,
      startBody: await start.text(),
    } as const;
  }
  const cookies = keptCookies(start);
  const authorizeUrl = new URL(start.headers.get('location')!);
  const html = await (await fetch(authorizeUrl)).text();
  const txn = /name="txn" value="([^"]+)"/.exec(html)![1];
  const action = /<form method="post" action="([^"]+)"/
    .exec(html)![1]
    .replace(/&amp;/g, '&');
  const picked = await fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ txn, user: options.userId }),
    redirect: 'manual',
  });
  const done = await fetch(picked.headers.get('location')!, {
    headers: { cookie: cookies.join('; ') },
  });
  return {
    authorizeUrl,
    response: authResponse(await done.text()),
    refreshCookie: done.headers
      .getSetCookie()
      .some(c => c.startsWith('microsoft-refresh-token=')),
  };
}

/** A catalog User keyed on an Entra object id, as the org sync (or a tutorial reader) writes it. */
export function catalogUser(
  name: string,
  annotations: Record<string, string> = {},
  profile?: { email?: string; displayName?: string },
) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, annotations },
    spec: { ...(profile ? { profile } : {}), memberOf: [] },
  };
}

/**
 * The real auth plugin with our module, a catalog holding `entities`, the built-in emulator off,
 * and `auth.providers.microsoft.development` set to `microsoft`.
 */
export async function startAuthBackend(options: {
  microsoft: Record<string, unknown>;
  entities: Array<Record<string, unknown>>;
}) {
  return startTestBackend({
    features: [
      authPlugin,
      authModuleEntraProvider,
      catalogServiceMock.factory({ entities: options.entities as any }),
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          gatehouse: { emulator: { enabled: false } },
          auth: {
            environment: 'development',
            providers: { microsoft: { development: options.microsoft as any } },
          },
        },
      }),
    ],
  });
}

/**
 * Sign-in as the portal runs it: the real auth and catalog plugins, our modules, the built-in
 * emulator (real HTTP, on a free port; `emulator` adds to its config) and the org synced from
 * its Graph once at start-up. Returns the backend and its base URL.
 */
export async function startPortalBackend(
  emulator: Record<string, unknown> = {},
) {
  const backend = await startTestBackend({
    features: [
      authPlugin,
      authModuleEntraProvider,
      catalogPlugin,
      catalogEntraOrg,
      // Runs the org sync once at start-up, initial delay or not.
      mockServices.scheduler.factory({
        includeInitialDelayedTasksOnStartup: true,
      }),
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          gatehouse: { emulator: { port: 0, ...emulator } },
          auth: {
            environment: 'development',
            session: { secret: 'test-only-session-secret' },
            providers: { microsoft: { development: {} } },
          },
          catalog: { rules: [{ allow: ['User', 'Group'] }] },
        },
      }),
    ],
  });
  return { backend, base: `http://localhost:${backend.server.port()}` };
}

/** Waits until the catalog has these entities (`kind/namespace/name`): the org sync runs in the background. */
export async function waitForEntities(base: string, refs: string[]) {
  for (const ref of refs) {
    for (;;) {
      const res = await fetch(`${base}/api/catalog/entities/by-name/${ref}`, {
        headers: { authorization: mockCredentials.user.header() },
      });
      if (res.ok) break;
      await new Promise(r => setTimeout(r, 250));
    }
  }
}
