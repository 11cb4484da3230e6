import type { PlatformMigration } from '../../core/db/migrate.js';
import { cmsSearchMigrations } from './search/migrations.js';

/** The CMS's sites, page tree and versions. */
export const cmsMigrations: PlatformMigration[] = [
  {
    name: '20261122_00_cms_core',
    async up(db, k) {
      await k
        .id(db.schema.createTable('cms_sites'))
        .addColumn('key', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_en', 'text')
        .addColumn('host', 'text', (c) => c.unique())
        .addColumn('path_prefix', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('organization_id', 'integer', (c) => c.references('organizations.id'))
        .$call((t) => k.json(t, 'settings', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .execute();

      await k
        .id(db.schema.createTable('cms_nodes'))
        .addColumn('site_id', 'integer', (c) => c.notNull().references('cms_sites.id').onDelete('cascade'))
        .addColumn('parent_id', 'integer', (c) => c.references('cms_nodes.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('slug', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('page_type', 'text', (c) => c.notNull().defaultTo('standard'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('published_version_id', 'integer')
        .addColumn('draft_version_id', 'integer')
        .$call((t) => k.bool(t, 'temporarily_hidden'))
        .$call((t) => k.timestamp(t, 'publish_at'))
        .$call((t) => k.timestamp(t, 'unpublish_at'))
        .addColumn('organization_id', 'integer', (c) => c.references('organizations.id'))
        .addColumn('created_by', 'integer')
        .addColumn('updated_by', 'integer')
        .$call((t) => k.timestamp(t, 'published_at'))
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .addUniqueConstraint('cms_nodes_site_path_uq', ['site_id', 'path'])
        .execute();
      await db.schema.createIndex('cms_nodes_parent_idx').on('cms_nodes').columns(['parent_id', 'sort_order']).execute();
      await db.schema.createIndex('cms_nodes_listing_idx').on('cms_nodes').columns(['site_id', 'status', 'published_at']).execute();

      await k
        .id(db.schema.createTable('cms_versions'))
        .addColumn('node_id', 'integer', (c) => c.notNull().references('cms_nodes.id').onDelete('cascade'))
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('body_html', 'text', (c) => c.notNull())
        .$call((t) => k.json(t, 'fields', (c) => c.notNull()))
        .addColumn('summary', 'text')
        .addColumn('comment', 'text')
        .addColumn('created_by', 'integer')
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .addUniqueConstraint('cms_versions_node_number_uq', ['node_id', 'number'])
        .execute();
    },
  },
  ...cmsSearchMigrations,
];
