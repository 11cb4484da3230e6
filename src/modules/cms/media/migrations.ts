import type { PlatformMigration } from '../../../core/db/migrate.js';

/** The media library and the references from page versions to its files. */
export const mediaMigrations: PlatformMigration[] = [
  {
    name: '20261123_30_cms_media_library',
    async up(db, k) {
      await k
        .id(db.schema.createTable('cms_media'))
        .addColumn('site_id', 'integer', (c) => c.notNull().references('cms_sites.id').onDelete('cascade'))
        .addColumn('organization_id', 'integer', (c) => c.references('organizations.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('file_name', 'text', (c) => c.notNull())
        .addColumn('extension', 'text', (c) => c.notNull())
        .addColumn('mime', 'text', (c) => c.notNull())
        .addColumn('bytes', 'integer', (c) => c.notNull())
        .addColumn('width', 'integer')
        .addColumn('height', 'integer')
        .addColumn('alt', 'text', (c) => c.notNull().defaultTo(''))
        .$call((t) => k.bool(t, 'decorative'))
        .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('storage_key', 'text', (c) => c.notNull().unique())
        .$call((t) => k.json(t, 'variants', (c) => c.notNull()))
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('uploaded_by', 'integer')
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('cms_media_site_idx').on('cms_media').columns(['site_id', 'kind', 'created_at']).execute();

      // No foreign key to cms_media: a body may name a file that is later deleted (or never existed).
      await db.schema
        .createTable('cms_media_refs')
        .addColumn('version_id', 'integer', (c) => c.notNull().references('cms_versions.id').onDelete('cascade'))
        .addColumn('media_id', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('cms_media_refs_pk', ['version_id', 'media_id'])
        .execute();
      await db.schema.createIndex('cms_media_refs_media_idx').on('cms_media_refs').columns(['media_id', 'version_id']).execute();
      await db.schema
        .createTable('cms_media_scanned')
        .addColumn('version_id', 'integer', (c) => c.primaryKey().references('cms_versions.id').onDelete('cascade'))
        .execute();
    },
  },
];
