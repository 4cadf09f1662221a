import { Client } from 'pg';
import fs from 'node:fs';
import { startPostgres } from './startPostgres';

describe('startPostgres', () => {
  it('starts a cluster that accepts its password only, and removes it on stop', async () => {
    const pg = await startPostgres();
    try {
      const client = new Client(pg.connection);
      await client.connect();
      const { rows } = await client.query(
        "select current_user as who, current_setting('password_encryption') as enc",
      );
      await client.end();
      expect(rows[0]).toEqual({ who: pg.user, enc: 'scram-sha-256' });

      const wrong = new Client({ ...pg.connection, password: 'not-it' });
      await expect(wrong.connect()).rejects.toThrow(
        /password authentication failed/,
      );
    } finally {
      expect(fs.existsSync(`${pg.directory}/data/PG_VERSION`)).toBe(true);
      await pg.stop();
      expect(fs.existsSync(pg.directory)).toBe(false);
    }
    const after = new Client(pg.connection);
    await expect(after.connect()).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('startPostgres with ssl', () => {
  it('serves TLS with a certificate that verifies against caFile', async () => {
    const pg = await startPostgres({ ssl: true });
    try {
      const client = new Client({
        ...pg.connection,
        ssl: {
          ca: fs.readFileSync(pg.caFile!, 'utf8'),
          rejectUnauthorized: true,
        },
      });
      await client.connect();
      const { rows } = await client.query(
        'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
      );
      await client.end();
      expect(rows[0].ssl).toBe(true);

      const untrusted = new Client({
        ...pg.connection,
        ssl: { rejectUnauthorized: true },
      });
      await expect(untrusted.connect()).rejects.toThrow(/self[- ]signed/i);
    } finally {
      await pg.stop();
    }
  });
});
