import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { discoveryServiceFactory } from '@backstage/backend-defaults/discovery';
import authPlugin from '@backstage/plugin-auth-backend';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import authModuleEntraProvider from './index';

/**
 * Backstage behind a base path (upstream bug #18271 was a refresh cookie on `//api/...` that
 * the browser never sent back): the cookies must sit on the external path.
 */
describe.each([
  [
    'a base path',
    'http://portal.example/gatehouse',
    '/gatehouse/api/auth/microsoft',
  ],
  ['a trailing slash', 'http://portal.example/', '/api/auth/microsoft'],
])('cookies behind %s', (_name, baseUrl, cookiePath) => {
  it(`are set on ${cookiePath}`, async () => {
    const backend = await startTestBackend({
      features: [
        authPlugin,
        authModuleEntraProvider,
        // The real discovery service, so the external base URL comes from the config.
        discoveryServiceFactory,
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://portal.example' },
            backend: { baseUrl, listen: { port: 0 } },
            gatehouse: { emulator: { port: 0 } },
            auth: {
              environment: 'development',
              providers: { microsoft: { development: {} } },
            },
          },
        }),
      ],
    });
    try {
      const start = await fetch(
        `http://localhost:${backend.server.port()}/api/auth/microsoft/start?env=development&scope=openid`,
        { redirect: 'manual' },
      );
      expect(start.status).toBe(302);
      const authorize = new URL(start.headers.get('location')!);
      expect(authorize.searchParams.get('redirect_uri')).toBe(
        `http://portal.example${cookiePath}/handler/frame`,
      );
      const nonce = start.headers
        .getSetCookie()
        .find(c => c.startsWith('microsoft-nonce=') && !/Max-Age=0/i.test(c));
      expect(nonce).toContain(`Path=${cookiePath}/handler`);
      expect(nonce).not.toContain('Path=//');
    } finally {
      await backend.stop();
    }
  });
});
