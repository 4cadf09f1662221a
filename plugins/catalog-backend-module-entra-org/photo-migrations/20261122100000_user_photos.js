// @ts-check

/**
 * Profile photos the org sync fetched, per provider and user: kept so a restart (or another
 * replica) does not fetch every photo again, and so a photo is fetched again only for new or
 * changed users, or when it is old.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('entra_org_user_photos', table => {
    table.comment('Microsoft Graph profile photos, per provider and user');
    table.string('provider_id').notNullable();
    table.string('user_id').notNullable();
    table
      .text('picture')
      .nullable()
      .comment('data: URL of the photo; null when the user has none');
    table.bigInteger('fetched_at').notNullable().comment('epoch milliseconds');
    table.primary(['provider_id', 'user_id']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('entra_org_user_photos');
};
