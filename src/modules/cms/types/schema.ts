import type { Generated } from 'kysely';

/** A category (分野) of a site; one level of nesting (大分類 → 小分類). */
export interface CmsCategoryTable {
  id: Generated<number>;
  site_id: number;
  /** The 大分類 above a 小分類; null for a 大分類. */
  parent_id: number | null;
  /** Used in the public address `<prefix>/category/<slug>/`; unique per site. */
  slug: string;
  name: string;
  description: string;
  sort_order: number;
  created_at: string;
  updated_at: string;
}

/**
 * Which public pages are filed under which category, kept by the publish transaction: one row per
 * (page, category) while the page is public, plus one for the 大分類 above each 小分類, so a
 * category page is a single indexed query.
 */
export interface CmsNodeCategoryTable {
  node_id: number;
  category_id: number;
  site_id: number;
  page_type: string;
  published_at: string;
}

/** Contact details of a department (organisation) shown under its pages. */
export interface CmsDepartmentContactTable {
  organization_id: number;
  phone: string;
  fax: string;
  email: string;
  address: string;
  /** Office hours as free text (平日 8時30分～17時15分). */
  hours: string;
  /** Display name when it differs from the organisation's name (e.g. 市民課 市民係). */
  display_name: string;
  updated_at: string;
}

declare module '../../../core/db/schema.js' {
  interface Database {
    cms_categories: CmsCategoryTable;
    cms_node_categories: CmsNodeCategoryTable;
    cms_department_contacts: CmsDepartmentContactTable;
  }
}
