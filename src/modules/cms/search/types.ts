import type { Generated } from 'kysely';

/**
 * Tables of the site-search index, added to the platform's Database type by declaration merging.
 * Timestamps are ISO strings; booleans 0/1.
 */

/** One searchable document (a published page, an event, a FAQ…), keyed by the CMS. */
export interface CmsSearchDocumentTable {
  id: Generated<number>;
  /** Key given by the CMS, e.g. 'page:42'. */
  doc_key: string;
  site_id: number;
  url: string;
  /** Display title (NFKC, spaces collapsed). */
  title: string;
  type: string;
  /** Category keys as '|key1|key2|' ('' when none), so one key is found with instr/strpos. */
  categories: string;
  department: string | null;
  published_at: string | null;
  /** Matching form (normalizeText) of the title. */
  title_norm: string;
  indexed_at: string;
}

/**
 * Body text of a document, kept apart so the documents table stays narrow: ranking reads
 * documents for every candidate, bodies only for phrase checks and the page of hits.
 */
export interface CmsSearchBodyTable {
  doc_id: number;
  /** Display plain text of the body, for snippets. */
  body: string;
  /** Matching form (normalizeText) of the body, for phrase checks. */
  body_norm: string;
}

/** Inverted index: one row per (term, document). */
export interface CmsSearchPostingTable {
  term: string;
  doc_id: number;
  /** Occurrences in title and body. */
  tf: number;
  /** 1 when the term occurs in the title. */
  in_title: number;
}

declare module '../../../core/db/schema.js' {
  interface Database {
    cms_search_documents: CmsSearchDocumentTable;
    cms_search_bodies: CmsSearchBodyTable;
    cms_search_postings: CmsSearchPostingTable;
  }
}
