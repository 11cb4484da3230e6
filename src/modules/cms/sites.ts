import { z } from 'zod';
import type { AuditService } from '../../core/audit/index.js';
import type { Db } from '../../core/db/index.js';
import { isUniqueViolation, nowIso, parseJson } from '../../core/db/index.js';
import { InputError } from '../../core/errors.js';
import { fieldErrors } from '../../core/http/validate.js';
import { actorRef } from '../../core/organizations/index.js';
import type { Actor } from '../../core/permissions/index.js';
import type { RequestMeta } from '../../core/auth/service.js';
import './schema.js';
import { insertNode } from './pages.js';

export interface MenuLink {
  label: string;
  href: string;
}

export interface SiteSettings {
  logoUrl?: string;
  themeColor?: string;
  ga4Id?: string;
  ogImage?: string;
  headerMenu: MenuLink[];
  footerMenu: MenuLink[];
  footerText?: string;
}

export interface Site {
  id: number;
  key: string;
  name: string;
  nameEn: string | null;
  host: string | null;
  pathPrefix: string;
  organizationId: number | null;
  settings: SiteSettings;
}

const siteInput = z.object({
  key: z.string().trim().regex(/^[a-z0-9][a-z0-9-]{1,39}$/, 'サイトキーは半角英小文字・数字・ハイフンの2～40文字で入力してください。'),
  name: z.string().trim().min(1, 'サイト名を入力してください。').max(100, 'サイト名は100文字以内で入力してください。'),
  nameEn: z.string().trim().max(100, '英語名は100文字以内で入力してください。').optional(),
  host: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^$|^[a-z0-9.-]+(:\d+)?$/, 'ホスト名の形式が正しくありません（例: www.city.example.lg.jp）。')
    .optional(),
  pathPrefix: z
    .string()
    .trim()
    .regex(/^$|^\/[a-z0-9-]+(\/[a-z0-9-]+)*$/, 'パスの形式が正しくありません（例: /sites/aoba）。')
    .optional(),
  organizationId: z.number().int().positive().nullable().optional(),
  settings: z
    .object({
      logoUrl: z.string().max(500).optional(),
      themeColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'テーマ色は #RRGGBB の形式で入力してください。').optional(),
      ga4Id: z.string().regex(/^$|^G-[A-Z0-9]{4,20}$/, 'GA4の測定IDは G- で始まる形式で入力してください。').optional(),
      ogImage: z.string().max(500).optional(),
      headerMenu: z.array(z.object({ label: z.string().min(1).max(40), href: z.string().min(1).max(500) })).max(12).default([]),
      footerMenu: z.array(z.object({ label: z.string().min(1).max(40), href: z.string().min(1).max(500) })).max(20).default([]),
      footerText: z.string().max(500).optional(),
    })
    .default({ headerMenu: [], footerMenu: [] }),
});
export type SiteInput = z.input<typeof siteInput>;

function toSite(r: { id: number; key: string; name: string; name_en: string | null; host: string | null; path_prefix: string; organization_id: number | null; settings: string }): Site {
  return {
    id: r.id,
    key: r.key,
    name: r.name,
    nameEn: r.name_en,
    host: r.host,
    pathPrefix: r.path_prefix,
    organizationId: r.organization_id,
    settings: { headerMenu: [], footerMenu: [], ...parseJson<Partial<SiteSettings>>(r.settings, {}) },
  };
}

/**
 * The installation's websites and how a request finds its site: by host name first, then by
 * the longest matching path prefix (development and single-host installations).
 */
export class SiteService {
  private cache: { at: number; sites: Site[] } | null = null;

  constructor(private readonly deps: { db: Db; audit: AuditService }) {}

  async all(): Promise<Site[]> {
    // Every public request resolves its site; a short cache keeps that off the database.
    if (this.cache && Date.now() - this.cache.at < 5000) return this.cache.sites;
    const rows = await this.deps.db.selectFrom('cms_sites').selectAll().orderBy('id').execute();
    this.cache = { at: Date.now(), sites: rows.map(toSite) };
    return this.cache.sites;
  }

  invalidate(): void {
    this.cache = null;
  }

  async get(id: number): Promise<Site | undefined> {
    return (await this.all()).find((s) => s.id === id);
  }

  /**
   * The site for a request and the path inside it.
   * @example await sites.resolve('localhost:3000', '/sites/aoba/kurashi/') // { site, path: '/kurashi/' }
   */
  async resolve(host: string, path: string): Promise<{ site: Site; path: string } | null> {
    const sites = await this.all();
    const h = host.toLowerCase();
    const byHost = sites.filter((s) => s.host && (s.host === h || s.host === h.replace(/:\d+$/, '')));
    const candidates = byHost.length ? byHost : sites.filter((s) => !s.host);
    let best: Site | null = null;
    for (const s of candidates) {
      const prefix = s.pathPrefix;
      const matches = prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
      if (matches && (!best || prefix.length > best.pathPrefix.length)) best = s;
    }
    if (!best) return null;
    const inner = path.slice(best.pathPrefix.length) || '/';
    return { site: best, path: inner };
  }

  /** Creates a site with its root folder (the top page). */
  async create(actor: Actor | null, input: SiteInput, meta: RequestMeta): Promise<number> {
    const parsed = siteInput.safeParse(input);
    if (!parsed.success) throw new InputError(fieldErrors(parsed.error));
    const d = parsed.data;
    try {
      const id = await this.deps.db.transaction().execute(async (tx) => {
        const at = nowIso();
        const site = await tx
          .insertInto('cms_sites')
          .values({ key: d.key, name: d.name, name_en: d.nameEn || null, host: d.host || null, path_prefix: d.pathPrefix ?? '', organization_id: d.organizationId ?? null, settings: JSON.stringify(d.settings), created_at: at, updated_at: at })
          .returning('id')
          .executeTakeFirstOrThrow();
        // The root folder's live version is the top page.
        await insertNode(tx, { siteId: site.id, parentId: null, kind: 'folder', slug: '', path: '/', sortOrder: 0, pageType: 'standard', organizationId: d.organizationId ?? null, actorId: actor?.id || null, title: d.name, bodyHtml: '', fields: {}, summary: null, comment: 'サイト作成' });
        await this.deps.audit.record(
          { actor: actor ? actorRef(actor) : null, organizationId: d.organizationId ?? null, ...meta, action: 'cms.site_create', targetType: 'cms_site', targetId: site.id, summary: `サイト「${d.name}」（${d.key}）を作成しました` },
          tx,
        );
        return site.id;
      });
      this.invalidate();
      return id;
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ key: 'このサイトキーまたはホスト名は既に使われています。' });
      throw e;
    }
  }
}
