import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import permissionPlugin from '@backstage/plugin-permission-backend';
import entraRbac from './index';

describe('the module at start-up', () => {
  it('refuses to start with a configuration error, naming the file, key and reason', async () => {
    await expect(
      startTestBackend({
        features: [
          permissionPlugin,
          entraRbac,
          mockServices.rootConfig.factory({
            data: {
              permission: {
                enabled: true,
                entraRbac: {
                  roles: [
                    {
                      name: 'editors',
                      members: [{ entraGroup: 'Payments Team' }],
                      rules: [{ permission: '*' }],
                    },
                  ],
                },
              },
            },
          }),
        ],
      }),
    ).rejects.toThrow(
      'app-config: permission.entraRbac.roles[0].members[0].entraGroup: must be an Entra object id (a GUID); names change, object ids do not',
    );
  });

  it('starts with a valid configuration and serves decisions', async () => {
    const backend = await startTestBackend({
      features: [
        permissionPlugin,
        entraRbac,
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({
          data: { permission: { enabled: true } },
        }),
      ],
    });
    try {
      const res = await fetch(
        `http://localhost:${backend.server.port()}/api/permission/authorize`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            items: [
              {
                id: '1',
                permission: {
                  type: 'basic',
                  name: 'catalog.location.create',
                  attributes: { action: 'create' },
                },
              },
              {
                id: '2',
                permission: {
                  type: 'basic',
                  name: 'catalog.location.read',
                  attributes: { action: 'read' },
                },
              },
            ],
          }),
        },
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        items: [
          { id: '1', result: 'DENY' },
          { id: '2', result: 'ALLOW' },
        ],
      });
    } finally {
      await backend.stop();
    }
  });
});
