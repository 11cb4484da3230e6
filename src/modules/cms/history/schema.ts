import type { Generated } from 'kysely';

/**
 * Tables of the page lifecycle (history, edit locks, trash, preview links), added to the
 * platform's Database type by declaration merging. Timestamps are ISO strings.
 */

/** A node in the trash: where it was and what it was, so it can come back (or be purged). */
export interface CmsTrashTable {
  node_id: number;
  /** The node staff deleted; its whole subtree shares this id and comes back with it. */
  root_id: number;
  /** The URL path before deletion; the node's own path moves aside so the address is free again. */
  original_path: string;
  original_status: 'draft' | 'published' | 'withdrawn';
  trashed_at: string;
  trashed_by: number | null;
  /** Why (「予約による自動削除」) or null when staff deleted it by hand. */
  reason: string | null;
}

/** Who edits a page now: a second editor sees the form read-only until it is released or expires. */
export interface CmsEditLockTable {
  node_id: number;
  user_id: number;
  /** Display name at the time, for 「〇〇さんが編集中です」 without a join. */
  user_name: string;
  acquired_at: string;
  expires_at: string;
}

/** An unguessable address that shows a page's working version to anyone holding it, until it expires. */
export interface CmsPreviewLinkTable {
  id: Generated<number>;
  node_id: number;
  /** SHA-256 (hex) of the token; the token itself is shown once and never stored. */
  token_hash: string;
  created_by: number | null;
  created_by_name: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_by: number | null;
}

declare module '../../../core/db/schema.js' {
  interface Database {
    cms_trash: CmsTrashTable;
    cms_edit_locks: CmsEditLockTable;
    cms_preview_links: CmsPreviewLinkTable;
  }
}

declare module '../schema.js' {
  interface CmsNodeTable {
    /** C-3-12: when the page goes to the trash by itself (null: never). */
    delete_at: string | null;
  }
}
