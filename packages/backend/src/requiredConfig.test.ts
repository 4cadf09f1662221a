import { ConfigReader } from '@backstage/config';
import {
  findMissingConfig,
  MissingRequiredConfigError,
} from './requiredConfig';

const required = [
  { key: 'backend.database.connection.password', env: 'POSTGRES_PASSWORD' },
  {
    key: 'auth.providers.microsoft.production.clientSecret',
    env: 'AZURE_CLIENT_SECRET',
  },
];

/** Two files as the backend loads them: app-config.yaml (SQLite), then the production one. */
function load(production: Record<string, unknown>) {
  return ConfigReader.fromConfigs([
    {
      context: 'app-config.yaml',
      data: {
        backend: {
          database: { client: 'better-sqlite3', connection: ':memory:' },
        },
      },
    },
    {
      context: 'app-config.production.yaml',
      data: { ...production, gatehouse: { requiredConfig: required } },
    },
  ]);
}

describe('findMissingConfig', () => {
  it('names every key that is absent or empty', () => {
    const config = load({
      backend: { database: { client: 'pg', connection: { host: 'db' } } },
      auth: { providers: { microsoft: { production: { clientSecret: '' } } } },
    });
    const missing = findMissingConfig(config);
    expect(missing).toEqual(required);
    expect(new MissingRequiredConfigError(missing).message).toBe(
      'Gatehouse cannot start: required configuration is missing: backend.database.connection.password (set POSTGRES_PASSWORD), auth.providers.microsoft.production.clientSecret (set AZURE_CLIENT_SECRET). See README.md, "Production".',
    );
  });

  it('accepts the keys when set, though a lower file has a string where the object is', () => {
    const config = load({
      backend: { database: { client: 'pg', connection: { password: 'p' } } },
      auth: { providers: { microsoft: { production: { clientSecret: 's' } } } },
    });
    expect(findMissingConfig(config)).toEqual([]);
  });

  it('requires nothing without gatehouse.requiredConfig', () => {
    expect(findMissingConfig(new ConfigReader({}))).toEqual([]);
  });
});
