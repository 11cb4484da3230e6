import type { Generated } from 'kysely';

/**
 * Administrators' edits of a site's sitemap (C-3-9): per page an order among its siblings, a
 * label, "hide from the HTML sitemap" and "noindex"; or an extra link (node_id null) shown under
 * a folder. Pages without a row appear automatically in their tree position.
 */
export interface CmsSitemapItemTable {
  id: Generated<number>;
  site_id: number;
  /** The page this row edits; null for an extra link. */
  node_id: number | null;
  /** For an extra link: the folder it is listed under. */
  parent_node_id: number | null;
  /** Label shown in the HTML sitemap instead of the page title; the text of an extra link. */
  label: string | null;
  /** Extra link only: a path on the site (`/events/`) or an absolute http(s) URL. */
  href: string | null;
  /** Order among siblings once an administrator has arranged them; null = tree order. */
  position: number | null;
  /** Left out of the HTML sitemap (with whatever is listed under it). */
  hidden: number;
  /** Left out of sitemap.xml and marked `noindex` on the page itself. */
  noindex: number;
  created_at: string;
  updated_at: string;
}

/** A site's secrets (X credentials, GA4 service account), AES-256-GCM under the installation's key. */
export interface CmsSiteSecretTable {
  site_id: number;
  /** 'x' | 'ga4' */
  name: string;
  /** `v1.<iv>.<tag>.<ciphertext>`, base64url; bound to site and name as associated data. */
  value: string;
  updated_at: string;
}

export type XPostStatus = 'queued' | 'posted' | 'duplicate' | 'failed';

/** One announcement on X per page: queued at the first publication, then posted or not. */
export interface CmsXPostTable {
  id: Generated<number>;
  site_id: number;
  node_id: number;
  /** Exactly what is (or was) sent: 「title URL」 within X's weighted 280. */
  text: string;
  url: string;
  status: XPostStatus;
  /** X's id of the post, once posted. */
  post_id: string | null;
  /** Sending attempts so far (a 429 waits for X's reset and counts too). */
  attempts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  posted_at: string | null;
}

declare module '../../../core/db/schema.js' {
  interface Database {
    cms_sitemap_items: CmsSitemapItemTable;
    cms_site_secrets: CmsSiteSecretTable;
    cms_x_posts: CmsXPostTable;
  }
}
