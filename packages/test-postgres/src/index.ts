/**
 * A throwaway PostgreSQL cluster for Gatehouse's tests (production build, replicas, RBAC, org
 * sync against Postgres). Needs the PostgreSQL server binaries; `./gatehouse test` installs
 * Debian's `postgresql` package when they are missing.
 *
 * @packageDocumentation
 */
export { startPostgres, findPostgresBinDir } from './startPostgres';
export type { TestPostgres, StartPostgresOptions } from './startPostgres';
