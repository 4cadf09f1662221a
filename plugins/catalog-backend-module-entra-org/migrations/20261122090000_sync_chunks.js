// @ts-check

/**
 * The sync state as a snapshot plus a journal, in chunks: a delta round appends its changes
 * (small) instead of rewriting the whole directory, and no chunk is larger than a few
 * thousand objects. The one-row-per-provider state of the first version is dropped; the next
 * round of each provider reads the directory again.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  const mysql = /mysql/.test(String(knex.client.config.client));
  await knex.schema.dropTable('entra_org_sync_state');
  await knex.schema.createTable('entra_org_sync_heads', table => {
    table.comment('Microsoft Graph delta sync: where each provider stands');
    table.string('provider_id').primary().notNullable();
    table
      .text('source')
      .notNullable()
      .comment(
        'Tenant, Graph URL and selected properties the state was read with',
      );
    table.text('users_delta_link').notNullable();
    table.text('groups_delta_link').notNullable();
    table
      .integer('generation')
      .notNullable()
      .comment(
        'Rounds stored so far; chunks of later generations do not exist',
      );
    table
      .integer('snapshot_generation')
      .notNullable()
      .comment(
        'The generation whose chunks are the snapshot; later ones are journal',
      );
    table
      .timestamp('updated_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('entra_org_sync_chunks', table => {
    table.comment(
      'Microsoft Graph delta sync: snapshot and journal, gzip JSON',
    );
    table.string('provider_id').notNullable();
    table.integer('generation').notNullable();
    table.integer('seq').notNullable();
    // MySQL's blob ends at 64 KB.
    if (mysql) table.specificType('data', 'longblob').notNullable();
    else table.binary('data').notNullable();
    table.primary(['provider_id', 'generation', 'seq']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('entra_org_sync_chunks');
  await knex.schema.dropTable('entra_org_sync_heads');
  await knex.schema.createTable('entra_org_sync_state', table => {
    table.string('provider_id').primary().notNullable();
    table.text('source').notNullable();
    table.text('users_delta_link').notNullable();
    table.text('groups_delta_link').notNullable();
    table.binary('state').notNullable();
    table
      .timestamp('updated_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now());
  });
};
