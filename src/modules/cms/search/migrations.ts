import { sql } from 'kysely';
import type { PlatformMigration } from '../../../core/db/migrate.js';

/**
 * Site-search index (C-3-22/23): documents (narrow, read for every candidate when ranking), their
 * bodies (read for phrase checks and snippets only) and a bigram inverted index. Same tables on both
 * engines; only the storage of the postings differs:
 * - SQLite: WITHOUT ROWID, so the (term, doc_id) primary key holds the row and a term lookup
 *   reads one contiguous b-tree range.
 * - PostgreSQL: `term` collates "C" (byte order = code-point order, so the one-character prefix
 *   range is right and uses the index whatever the database locale), and the primary key INCLUDEs
 *   tf and in_title so lookups are index-only scans.
 * No foreign key from postings to documents: the index service deletes postings itself, and a
 * per-row RI check would halve bulk indexing speed on PostgreSQL.
 */
export const cmsSearchMigrations: PlatformMigration[] = [
  {
    name: '20261122_10_cms_search_index',
    async up(db, k) {
      const pg = k.engine === 'postgres';
      await k
        .id(db.schema.createTable('cms_search_documents'))
        .addColumn('doc_key', 'text', (c) => c.notNull().unique())
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('categories', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('department', 'text')
        .$call((t) => k.timestamp(t, 'published_at'))
        .addColumn('title_norm', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'indexed_at', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('cms_search_documents_site_idx').on('cms_search_documents').columns(['site_id', 'published_at']).execute();

      await db.schema
        .createTable('cms_search_bodies')
        .addColumn('doc_id', 'integer', (c) => c.primaryKey().references('cms_search_documents.id').onDelete('cascade'))
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('body_norm', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('cms_search_postings')
        .addColumn('term', pg ? sql`text collate "C"` : 'text', (c) => c.notNull())
        .addColumn('doc_id', 'integer', (c) => c.notNull())
        .addColumn('tf', 'integer', (c) => c.notNull())
        .$call((t) => k.bool(t, 'in_title'))
        .$call((t) => (pg ? t : t.addPrimaryKeyConstraint('cms_search_postings_pk', ['term', 'doc_id']).modifyEnd(sql`without rowid`)))
        .execute();
      await k.exec(db, {
        sqlite: [],
        postgres: ['ALTER TABLE cms_search_postings ADD CONSTRAINT cms_search_postings_pk PRIMARY KEY (term, doc_id) INCLUDE (tf, in_title)'],
      });
      // Removing or replacing a document finds its postings by doc_id; a one-character query term
      // combined with others is checked per candidate document with (doc_id, term range).
      await db.schema.createIndex('cms_search_postings_doc_idx').on('cms_search_postings').columns(['doc_id', 'term']).execute();
    },
    async down(db) {
      await db.schema.dropTable('cms_search_postings').execute();
      await db.schema.dropTable('cms_search_bodies').execute();
      await db.schema.dropTable('cms_search_documents').execute();
    },
  },
  {
    // The search page's filters without words (type only, or type and category): newest pages of
    // a type are one range of this index, and counting them reads the index alone.
    name: '20261123_40_cms_types_search_filters',
    async up(db) {
      await db.schema.createIndex('cms_search_documents_type_idx').on('cms_search_documents').columns(['site_id', 'type', 'published_at']).execute();
    },
    async down(db) {
      await db.schema.dropIndex('cms_search_documents_type_idx').execute();
    },
  },
];
