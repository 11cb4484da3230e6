import type { Generated } from 'kysely';

/**
 * An automatic list (新着一覧, C-3-1): which page shows it, what it draws from and how it looks.
 * The items themselves are never stored; they are read from the live pages at render.
 */
export interface CmsListTable {
  id: Generated<number>;
  site_id: number;
  /** The folder or page that shows the list after its body. */
  host_node_id: number;
  heading: string;
  /** Order among the lists of the same page (lower first). */
  position: number;
  /** Folder whose subtree the list draws from; '/' is the whole site. */
  source_path: string;
  /** JSON array of page type keys; empty means every type. */
  page_types: string;
  /** JSON array of category ids; empty means every category. */
  categories: string;
  /** 'all' | 'important' | 'urgent' | 'marked' (重要 or 緊急). */
  marks: string;
  item_limit: number;
  /** Shows a もっと見る link to the paged list page. */
  show_more: number;
  /** JSON array of column keys in display order. */
  columns: string;
  /** 'ja' (2026年4月1日) | 'dot' (2026.04.01) | 'wareki' (令和8年4月1日). */
  date_format: string;
  /** 'newest' | 'oldest' | 'event' | 'title' | 'manual'. */
  sort: string;
  /** 緊急 items before everything but the pinned ones. */
  urgent_first: number;
  created_by: number | null;
  updated_by: number | null;
  created_at: string;
  updated_at: string;
}

/**
 * Administrators' choices about single pages in a list: pinned at the top (固定表示, in
 * `position` order), excluded, or placed by hand when the list is sorted manually.
 */
export interface CmsListItemTable {
  list_id: number;
  node_id: number;
  role: 'pin' | 'exclude' | 'order';
  position: number;
}

/**
 * What lists and the calendar filter and sort on, read from a page's live version when it is
 * published (same transaction): the 重要/緊急 marks and the first and last day of an event.
 * Indexed columns instead of JSON, so a 100,000-page site is still one index range.
 */
export interface CmsListFactTable {
  node_id: number;
  important: number;
  urgent: number;
  /** 'YYYY-MM-DD' or null when the page is not an event. */
  event_first: string | null;
  event_last: string | null;
}

declare module '../../../core/db/schema.js' {
  interface Database {
    cms_lists: CmsListTable;
    cms_list_items: CmsListItemTable;
    cms_list_facts: CmsListFactTable;
  }
}
