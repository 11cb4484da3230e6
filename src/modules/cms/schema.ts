import type { Generated } from 'kysely';

/** A public website served by the installation (city promotion, programme, disaster/safety). */
export interface CmsSiteTable {
  id: Generated<number>;
  /** Short key used in URLs and the CLI (`aoba`). */
  key: string;
  name: string;
  name_en: string | null;
  /** Host name that selects the site (`www.city.aoba.lg.jp`); null when only the path prefix is used. */
  host: string | null;
  /** Path prefix that selects the site in development (`/sites/aoba`); '' for host-only sites. */
  path_prefix: string;
  organization_id: number | null;
  /** JSON: { logoUrl, themeColor, ga4Id, ogImage, headerMenu: [{label, href}], footerMenu, footerText } */
  settings: string;
  created_at: string;
  updated_at: string;
}

export type CmsNodeKind = 'folder' | 'page';
export type CmsNodeStatus = 'draft' | 'published' | 'withdrawn' | 'trashed';

/**
 * A folder or page in a site's tree. The live content is `published_version_id`; edits go to
 * `draft_version_id` (差し替え) while the live version stays.
 */
export interface CmsNodeTable {
  id: Generated<number>;
  site_id: number;
  parent_id: number | null;
  kind: CmsNodeKind;
  slug: string;
  /** Full path inside the site, always starting and ending with '/': '/kurashi/gomi/'. */
  path: string;
  sort_order: number;
  page_type: string;
  status: CmsNodeStatus;
  published_version_id: number | null;
  draft_version_id: number | null;
  /** C-2-7: withdrawn from the public for a while; preview still works. */
  temporarily_hidden: number;
  publish_at: string | null;
  unpublish_at: string | null;
  organization_id: number | null;
  created_by: number | null;
  updated_by: number | null;
  published_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Every saved state of a node's content; never updated, so history and diffs are exact. */
export interface CmsVersionTable {
  id: Generated<number>;
  node_id: number;
  number: number;
  title: string;
  /** Sanitised HTML body. */
  body_html: string;
  /** JSON of the page type's own fields (news marks, event dates, spot position…). */
  fields: string;
  summary: string | null;
  comment: string | null;
  created_by: number | null;
  created_at: string;
}

declare module '../../core/db/schema.js' {
  interface Database {
    cms_sites: CmsSiteTable;
    cms_nodes: CmsNodeTable;
    cms_versions: CmsVersionTable;
  }
}
