// @ts-check

/**
 * One row per provider: the directory the last finished delta round left (gzip'd JSON) and the
 * two delta links the next round starts from.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  const mysql = /mysql/.test(String(knex.client.config.client));
  await knex.schema.createTable('entra_org_sync_state', table => {
    table.comment('Microsoft Graph delta sync state, per entity provider');
    table.string('provider_id').primary().notNullable();
    table
      .text('source')
      .notNullable()
      .comment(
        'Tenant, Graph URL and selected properties the state was read with',
      );
    table.text('users_delta_link').notNullable();
    table.text('groups_delta_link').notNullable();
    // MySQL's blob ends at 64 KB; a tenant's state is larger.
    if (mysql) table.specificType('state', 'longblob').notNullable();
    else table.binary('state').notNullable();
    table
      .timestamp('updated_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now());
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('entra_org_sync_state');
};
