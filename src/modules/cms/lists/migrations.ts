import { sql } from 'kysely';
import type { PlatformMigration } from '../../../core/db/migrate.js';

/** Automatic lists, the administrators' pins and exclusions, and the facts lists sort and filter on. */
export const listsMigrations: PlatformMigration[] = [
  {
    name: '20261123_50_cms_lists_tables',
    async up(db, k) {
      await k
        .id(db.schema.createTable('cms_lists'))
        .addColumn('site_id', 'integer', (c) => c.notNull().references('cms_sites.id').onDelete('cascade'))
        .addColumn('host_node_id', 'integer', (c) => c.notNull().references('cms_nodes.id').onDelete('cascade'))
        .addColumn('heading', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('source_path', 'text', (c) => c.notNull().defaultTo('/'))
        .$call((t) => k.json(t, 'page_types', (c) => c.notNull()))
        .$call((t) => k.json(t, 'categories', (c) => c.notNull()))
        .addColumn('marks', 'text', (c) => c.notNull().defaultTo('all'))
        .addColumn('item_limit', 'integer', (c) => c.notNull().defaultTo(10))
        .$call((t) => k.bool(t, 'show_more', true))
        .$call((t) => k.json(t, 'columns', (c) => c.notNull()))
        .addColumn('date_format', 'text', (c) => c.notNull().defaultTo('ja'))
        .addColumn('sort', 'text', (c) => c.notNull().defaultTo('newest'))
        .$call((t) => k.bool(t, 'urgent_first', true))
        .addColumn('created_by', 'integer')
        .addColumn('updated_by', 'integer')
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('cms_lists_host_idx').on('cms_lists').columns(['host_node_id', 'position']).execute();
      await db.schema.createIndex('cms_lists_site_idx').on('cms_lists').columns(['site_id']).execute();

      await db.schema
        .createTable('cms_list_items')
        .addColumn('list_id', 'integer', (c) => c.notNull().references('cms_lists.id').onDelete('cascade'))
        .addColumn('node_id', 'integer', (c) => c.notNull().references('cms_nodes.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('cms_list_items_pk', ['list_id', 'role', 'node_id'])
        .execute();
      await db.schema.createIndex('cms_list_items_node_idx').on('cms_list_items').columns(['node_id']).execute();

      await db.schema
        .createTable('cms_list_facts')
        .addColumn('node_id', 'integer', (c) => c.primaryKey().references('cms_nodes.id').onDelete('cascade'))
        .$call((t) => k.bool(t, 'important'))
        .$call((t) => k.bool(t, 'urgent'))
        .addColumn('event_first', 'text')
        .addColumn('event_last', 'text')
        .execute();
      // Only a handful of pages are 緊急 or 重要 at a time: small partial indexes find them at once.
      await db.schema.createIndex('cms_list_facts_urgent_idx').on('cms_list_facts').column('node_id').where(sql.ref('urgent'), '=', 1).execute();
      await db.schema.createIndex('cms_list_facts_important_idx').on('cms_list_facts').column('node_id').where(sql.ref('important'), '=', 1).execute();
      // Lists read live pages of a site and type, newest first; counts read the index alone (PostgreSQL).
      await k.exec(db, {
        sqlite: [`CREATE INDEX cms_nodes_live_pages_idx ON cms_nodes (site_id, page_type, published_at, id) WHERE status = 'published' AND temporarily_hidden = 0 AND kind = 'page'`],
        postgres: [
          `CREATE INDEX cms_nodes_live_pages_idx ON cms_nodes (site_id, page_type, published_at, id) INCLUDE (path, unpublish_at, published_version_id) WHERE status = 'published' AND temporarily_hidden = 0 AND kind = 'page'`,
        ],
      });
      // Every list render asks which folders of the site the public cannot see: read the folders only.
      await db.schema.createIndex('cms_nodes_folders_idx').on('cms_nodes').columns(['site_id', 'status']).where(sql.ref('kind'), '=', 'folder').execute();
      // Calendar months and upcoming-event lists: events whose last day is not yet past.
      await db.schema.createIndex('cms_list_facts_event_idx').on('cms_list_facts').columns(['event_last', 'event_first']).where(sql.ref('event_last'), 'is not', null).execute();
    },
    async down(db) {
      await db.schema.dropIndex('cms_nodes_folders_idx').execute();
      await db.schema.dropIndex('cms_nodes_live_pages_idx').execute();
      await db.schema.dropTable('cms_list_facts').execute();
      await db.schema.dropTable('cms_list_items').execute();
      await db.schema.dropTable('cms_lists').execute();
    },
  },
];
