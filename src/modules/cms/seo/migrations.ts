import type { PlatformMigration } from '../../../core/db/migrate.js';

/** Sitemap edits, encrypted site secrets and the X announcements of pages. */
export const seoMigrations: PlatformMigration[] = [
  {
    name: '20261123_60_cms_seo_tables',
    async up(db, k) {
      await k
        .id(db.schema.createTable('cms_sitemap_items'))
        .addColumn('site_id', 'integer', (c) => c.notNull().references('cms_sites.id').onDelete('cascade'))
        .addColumn('node_id', 'integer', (c) => c.references('cms_nodes.id').onDelete('cascade'))
        .addColumn('parent_node_id', 'integer', (c) => c.references('cms_nodes.id').onDelete('cascade'))
        .addColumn('label', 'text')
        .addColumn('href', 'text')
        .addColumn('position', 'integer')
        .$call((t) => k.bool(t, 'hidden'))
        .$call((t) => k.bool(t, 'noindex'))
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        // NULLs are distinct on both engines, so any number of extra links (node_id null) fit.
        .addUniqueConstraint('cms_sitemap_items_node_uq', ['site_id', 'node_id'])
        .execute();

      await db.schema
        .createTable('cms_site_secrets')
        .addColumn('site_id', 'integer', (c) => c.notNull().references('cms_sites.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .addPrimaryKeyConstraint('cms_site_secrets_pk', ['site_id', 'name'])
        .execute();

      await k
        .id(db.schema.createTable('cms_x_posts'))
        .addColumn('site_id', 'integer', (c) => c.notNull().references('cms_sites.id').onDelete('cascade'))
        .addColumn('node_id', 'integer', (c) => c.notNull().unique().references('cms_nodes.id').onDelete('cascade'))
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('post_id', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'posted_at'))
        .execute();
      await db.schema.createIndex('cms_x_posts_site_idx').on('cms_x_posts').columns(['site_id', 'created_at']).execute();
    },
  },
];
