import type { PlatformMigration } from '../../../core/db/migrate.js';

/** Categories (分野), the index of public pages per category, and department contacts. */
export const typesMigrations: PlatformMigration[] = [
  {
    name: '20261123_40_cms_types_categories',
    async up(db, k) {
      await k
        .id(db.schema.createTable('cms_categories'))
        .addColumn('site_id', 'integer', (c) => c.notNull().references('cms_sites.id').onDelete('cascade'))
        .addColumn('parent_id', 'integer', (c) => c.references('cms_categories.id'))
        .addColumn('slug', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .addUniqueConstraint('cms_categories_site_slug_uq', ['site_id', 'slug'])
        .execute();
      await db.schema.createIndex('cms_categories_site_idx').on('cms_categories').columns(['site_id', 'parent_id', 'sort_order']).execute();

      await db.schema
        .createTable('cms_node_categories')
        .addColumn('node_id', 'integer', (c) => c.notNull().references('cms_nodes.id').onDelete('cascade'))
        .addColumn('category_id', 'integer', (c) => c.notNull().references('cms_categories.id').onDelete('cascade'))
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('page_type', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'published_at', (c) => c.notNull()))
        .addPrimaryKeyConstraint('cms_node_categories_pk', ['node_id', 'category_id'])
        .execute();
      // A category page: newest first, one range of this index.
      await db.schema.createIndex('cms_node_categories_list_idx').on('cms_node_categories').columns(['category_id', 'published_at', 'node_id']).execute();

      await db.schema
        .createTable('cms_department_contacts')
        .addColumn('organization_id', 'integer', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
        .addColumn('display_name', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('phone', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('fax', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('email', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('address', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('hours', 'text', (c) => c.notNull().defaultTo(''))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('cms_department_contacts').execute();
      await db.schema.dropTable('cms_node_categories').execute();
      await db.schema.dropTable('cms_categories').execute();
    },
  },
];
