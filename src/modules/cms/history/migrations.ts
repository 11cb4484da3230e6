import { sql } from 'kysely';
import type { PlatformMigration } from '../../../core/db/migrate.js';

/** Scheduled deletion on the page tree, the trash, edit locks and preview links. */
export const historyMigrations: PlatformMigration[] = [
  {
    name: '20261123_10_cms_history_lifecycle',
    async up(db, k) {
      await db.schema
        .alterTable('cms_nodes')
        .addColumn('delete_at', k.engine === 'postgres' ? sql`timestamptz` : 'text')
        .execute();

      await db.schema
        .createTable('cms_trash')
        .addColumn('node_id', 'integer', (c) => c.primaryKey().references('cms_nodes.id').onDelete('cascade'))
        .addColumn('root_id', 'integer', (c) => c.notNull())
        .addColumn('original_path', 'text', (c) => c.notNull())
        .addColumn('original_status', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'trashed_at', (c) => c.notNull()))
        .addColumn('trashed_by', 'integer')
        .addColumn('reason', 'text')
        .execute();
      await db.schema.createIndex('cms_trash_root_idx').on('cms_trash').columns(['root_id']).execute();

      await db.schema
        .createTable('cms_edit_locks')
        .addColumn('node_id', 'integer', (c) => c.primaryKey().references('cms_nodes.id').onDelete('cascade'))
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'acquired_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'expires_at', (c) => c.notNull()))
        .execute();

      await k
        .id(db.schema.createTable('cms_preview_links'))
        .addColumn('node_id', 'integer', (c) => c.notNull().references('cms_nodes.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', 'integer')
        .addColumn('created_by_name', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'expires_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'revoked_at'))
        .addColumn('revoked_by', 'integer')
        .execute();
      await db.schema.createIndex('cms_preview_links_node_idx').on('cms_preview_links').columns(['node_id']).execute();
    },
    async down(db) {
      await db.schema.dropTable('cms_preview_links').execute();
      await db.schema.dropTable('cms_edit_locks').execute();
      await db.schema.dropTable('cms_trash').execute();
      await db.schema.alterTable('cms_nodes').dropColumn('delete_at').execute();
    },
  },
];
