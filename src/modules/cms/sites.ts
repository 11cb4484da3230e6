import { z } from 'zod';
import type { AuditService } from '../../core/audit/index.js';
import type { Kysely } from 'kysely';
import type { Database, Db } from '../../core/db/index.js';
import { isUniqueViolation, nowIso, parseJson } from '../../core/db/index.js';
import { InputError, NotFoundError } from '../../core/errors.js';
import { actorRef } from '../../core/organizations/index.js';
import type { Actor } from '../../core/permissions/index.js';
import type { RequestMeta } from '../../core/auth/service.js';
import './schema.js';
import { insertNode } from './pages.js';
import { contrastRatio, MIN_TEXT_CONTRAST, parseHex } from './seo/contrast.js';

export interface MenuLink {
  label: string;
  href: string;
}

export interface SiteSettings {
  /** Logo image shown in the header (absolute URL or a path on this server). */
  logoUrl?: string;
  /** Header bar colour (#RRGGBB); white text on it reaches 4.5:1. */
  themeColor?: string;
  /** GA4 measurement id (G-XXXXXXX): the gtag snippet on every public page when set (C-3-21). */
  ga4Id?: string;
  /** GA4 property id (digits) the analytics screen reads figures from (C-3-20). */
  ga4PropertyId?: string;
  /** Default share image for pages without one of their own (og:image). */
  ogImage?: string;
  /** Site description for meta description and OGP of the top page. */
  description?: string;
  headerMenu: MenuLink[];
  footerMenu: MenuLink[];
  footerText?: string;
  /** Extra lines appended to robots.txt (after the platform's own). */
  robotsExtra?: string;
  /** Post 「title URL」 to X when a page is first published (credentials kept apart, encrypted). */
  xPostEnabled?: boolean;
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
  /** Changes whenever the site's settings do (part of the render cache key); absent on partial copies. */
  updatedAt?: string;
}

/** A link a person may put in a menu: a path on the site, http(s), mail or telephone. */
const LINK = /^(\/(?!\/)[^\s]*|https?:\/\/[^\s/]+[^\s]*|mailto:[^\s]+|tel:[0-9+\-]+)$/i;
/** An image address: a path on this server or http(s). */
const IMAGE = /^(\/(?!\/)[^\s]*|https?:\/\/[^\s/]+[^\s]*)$/i;
/** Host names: labels of letters, digits and inner hyphens, optional port (no scheme, no path). */
const HOST = /^(?=.{1,253}(:|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;
/** Prefixes the platform itself answers (admin, assets, language switch, previews). */
const RESERVED_PREFIXES = /^\/(admin|assets|lang|preview|healthz|readyz|metrics)(\/|$)/;

const menuRows = (max: number, what: string) =>
  z
    .array(
      z.object({
        label: z.string().trim().min(1, `${what}の表示名を入力してください。`).max(40, `${what}の表示名は40文字以内で入力してください。`),
        href: z.string().trim().min(1, `${what}のリンク先を入力してください。`).max(500, 'リンク先は500文字以内で入力してください。').regex(LINK, 'リンク先は「/」で始まるサイト内のパスか、https:// で始まるURLを入力してください。'),
      }),
    )
    .max(max, `${what}は${max}件までです。`)
    .default([]);

const optionalText = (max: number, message: string) => z.string().trim().max(max, message).optional().transform((v) => v || undefined);

const settingsInput = z.object({
  logoUrl: optionalText(500, 'ロゴのURLは500文字以内で入力してください。').refine((v) => v === undefined || IMAGE.test(v), 'ロゴは「/」で始まるパスか、https:// で始まるURLで指定してください。'),
  themeColor: z
    .string()
    .trim()
    .optional()
    .transform((v) => v?.toLowerCase() || undefined)
    .refine((v) => v === undefined || parseHex(v) !== null, 'テーマ色は #RRGGBB の形式で入力してください（例: #0031d8）。')
    .superRefine((v, ctx) => {
      if (v === undefined || parseHex(v) === null) return;
      const ratio = contrastRatio('#ffffff', v);
      if (ratio < MIN_TEXT_CONTRAST) {
        ctx.addIssue({ code: 'custom', message: `テーマ色と白い文字のコントラスト比が ${ratio.toFixed(2)}:1 で、必要な ${MIN_TEXT_CONTRAST}:1 に足りません。もっと濃い色を選んでください。` });
      }
    }),
  ga4Id: z
    .string()
    .trim()
    .optional()
    .transform((v) => v?.toUpperCase() || undefined)
    .refine((v) => v === undefined || /^G-[A-Z0-9]{4,20}$/.test(v), 'GA4の測定IDは「G-」で始まる形式で入力してください（例: G-ABC123XYZ9）。'),
  ga4PropertyId: optionalText(20, 'GA4のプロパティIDは数字で入力してください（例: 123456789）。').refine((v) => v === undefined || /^\d{3,20}$/.test(v), 'GA4のプロパティIDは数字で入力してください（例: 123456789）。'),
  ogImage: optionalText(500, '共有用画像のURLは500文字以内で入力してください。').refine((v) => v === undefined || IMAGE.test(v), '共有用画像は「/」で始まるパスか、https:// で始まるURLで指定してください。'),
  description: optionalText(300, 'サイトの説明は300文字以内で入力してください。'),
  headerMenu: menuRows(12, 'ヘッダーメニュー'),
  footerMenu: menuRows(20, 'フッターメニュー'),
  footerText: optionalText(500, 'フッターの文章は500文字以内で入力してください。'),
  robotsExtra: optionalText(2000, 'robots.txt の追加行は2000文字以内で入力してください。').refine(
    (v) => v === undefined || v.split(/\r?\n/).every((line) => line.trim() === '' || /^#/.test(line.trim()) || /^[A-Za-z-]+:\s*[^\u0000-\u001f]*$/.test(line.trim())),
    'robots.txt の追加行は「Disallow: /path/」のように「項目名: 値」の形で1行ずつ入力してください。',
  ),
  xPostEnabled: z.boolean().optional().transform((v) => v || undefined),
});

const siteFields = {
  name: z.string().trim().min(1, 'サイト名を入力してください。').max(100, 'サイト名は100文字以内で入力してください。'),
  nameEn: z.string().trim().max(100, '英語名は100文字以内で入力してください。').optional(),
  host: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v === '' || HOST.test(v), 'ホスト名の形式が正しくありません（例: www.city.example.lg.jp。https:// や / は付けません）。')
    .optional(),
  pathPrefix: z
    .string()
    .trim()
    .regex(/^$|^\/[a-z0-9-]+(\/[a-z0-9-]+)*$/, 'パスの形式が正しくありません（例: /sites/aoba）。')
    .refine((v) => !RESERVED_PREFIXES.test(v), 'このパスは管理画面などが使うため、サイトのパスにはできません。')
    .optional(),
  organizationId: z.number().int().positive().nullable().optional(),
  settings: settingsInput.prefault({}),
};

const siteInput = z.object({
  key: z.string().trim().regex(/^[a-z0-9][a-z0-9-]{1,39}$/, 'サイトキーは半角英小文字・数字・ハイフンの2～40文字で入力してください。'),
  ...siteFields,
});
export type SiteInput = z.input<typeof siteInput>;

const siteUpdate = z.object(siteFields);
export type SiteUpdate = z.input<typeof siteUpdate>;

/**
 * Field errors keyed by form input names: settings fields by their own name, menu rows as
 * `headerMenu-2-href`, so the form can mark the exact input.
 */
function siteErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = issue.path[0] === 'settings' ? issue.path.slice(1) : issue.path;
    const key = path.length ? path.map(String).join('-') : '_form';
    if (!(key in out)) out[key] = issue.message;
  }
  return out;
}

function toSite(r: { id: number; key: string; name: string; name_en: string | null; host: string | null; path_prefix: string; organization_id: number | null; settings: string; updated_at: string }): Site {
  return {
    id: r.id,
    key: r.key,
    name: r.name,
    nameEn: r.name_en,
    host: r.host,
    pathPrefix: r.path_prefix,
    organizationId: r.organization_id,
    settings: { headerMenu: [], footerMenu: [], ...parseJson<Partial<SiteSettings>>(r.settings, {}) },
    updatedAt: String(r.updated_at),
  };
}

/**
 * The installation's websites and how a request finds its site: by host name first, then by
 * the longest matching path prefix (development and single-host installations).
 */
export class SiteService {
  private cache: { at: number; sites: Site[] } | null = null;
  private readonly listeners: Array<(siteId: number) => void | Promise<void>> = [];

  constructor(private readonly deps: { db: Db; audit: AuditService; canAccess?: (actor: Actor, organizationId: number | null) => Promise<boolean> }) {}

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

  /** Called after a site's settings change and commit (the CMS clears its render caches). */
  onChange(listener: (siteId: number) => void | Promise<void>): void {
    this.listeners.push(listener);
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
    const byHost = await this.boundTo(host);
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

  /** Sites bound to this Host header (with or without its port), shortest prefix first. */
  async boundTo(host: string): Promise<Site[]> {
    const h = host.toLowerCase();
    return (await this.all()).filter((s) => s.host && (s.host === h || s.host === h.replace(/:\d+$/, ''))).sort((a, b) => a.pathPrefix.length - b.pathPrefix.length);
  }

  /**
   * Two sites may not answer the same host and prefix (the second could never be reached). And
   * staff who do not manage every organisation may not place a site inside or above the address
   * of a site they cannot manage: the longest prefix wins, so `/kurashi` on another town's host
   * would take over that town's pages.
   */
  private async assertAddressFree(actor: Actor | null, host: string | null, prefix: string, exceptId: number | null): Promise<void> {
    const others = (await this.all()).filter((s) => s.id !== exceptId && (s.host ?? null) === host);
    const clash = others.find((s) => s.pathPrefix === prefix);
    if (clash) throw new InputError(prefix || !host ? { pathPrefix: `このホスト名とパスは既にサイト「${clash.name}」が使っています。` } : { host: `このホスト名は既にサイト「${clash.name}」が使っています。` });
    if (!actor || actor.allOrganizations) return;
    const nests = (a: string, b: string) => a === '' || b === '' || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
    // A site bound to a host also hides every host-less site from requests to that host.
    const shadowed = host === null ? [] : (await this.all()).filter((s) => s.id !== exceptId && s.host === null);
    for (const s of [...others.filter((o) => nests(o.pathPrefix, prefix)), ...shadowed]) {
      if (!this.deps.canAccess || !(await this.deps.canAccess(actor, s.organizationId))) {
        throw new InputError({ pathPrefix: `このアドレスは管理できないサイト「${s.name}」のアドレスと重なります。別のホスト名かパスにしてください。` });
      }
    }
  }

  /** Creates a site with its root folder (the top page). */
  async create(actor: Actor | null, input: SiteInput, meta: RequestMeta): Promise<number> {
    const parsed = siteInput.safeParse(input);
    if (!parsed.success) throw new InputError(siteErrors(parsed.error));
    const d = parsed.data;
    this.invalidate();
    await this.assertAddressFree(actor, d.host || null, d.pathPrefix ?? '', null);
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

  /** The field errors `update` would refuse this input with (none: {}), without writing anything. */
  validateUpdate(input: SiteUpdate): Record<string, string> {
    const parsed = siteUpdate.safeParse(input);
    return parsed.success ? {} : siteErrors(parsed.error);
  }

  /**
   * Changes a site's name, address, organisation and settings (the key stays); `settings`
   * replaces the stored settings as a whole. Audited with the names of the changed items; `inTx`
   * runs inside the same transaction (the settings screen stores secrets there). Listeners (the
   * CMS clears every node's render cache for the site) run after commit.
   */
  async update(actor: Actor | null, id: number, input: SiteUpdate, meta: RequestMeta, opts: { inTx?: (tx: Kysely<Database>) => Promise<void>; note?: string } = {}): Promise<void> {
    this.invalidate();
    const before = await this.get(id);
    if (!before) throw new NotFoundError();
    const parsed = siteUpdate.safeParse(input);
    if (!parsed.success) throw new InputError(siteErrors(parsed.error));
    const d = parsed.data;
    const host = d.host || null;
    const prefix = d.pathPrefix ?? '';
    if (host !== before.host || prefix !== before.pathPrefix) await this.assertAddressFree(actor, host, prefix, id);
    const after = { name: d.name, nameEn: d.nameEn || null, host, pathPrefix: prefix, organizationId: d.organizationId ?? null, settings: d.settings as SiteSettings };
    const changed = [
      ...(['name', 'nameEn', 'host', 'pathPrefix', 'organizationId'] as const).filter((k) => before[k] !== after[k]),
      ...[...new Set([...Object.keys(before.settings), ...Object.keys(after.settings)])].filter(
        (k) => JSON.stringify(before.settings[k as keyof SiteSettings] ?? null) !== JSON.stringify(after.settings[k as keyof SiteSettings] ?? null),
      ),
    ];
    try {
      await this.deps.db.transaction().execute(async (tx) => {
        await tx
          .updateTable('cms_sites')
          .set({ name: after.name, name_en: after.nameEn, host, path_prefix: prefix, organization_id: after.organizationId, settings: JSON.stringify(after.settings), updated_at: nowIso() })
          .where('id', '=', id)
          .execute();
        await opts.inTx?.(tx);
        await this.deps.audit.record(
          {
            actor: actor ? actorRef(actor) : null,
            organizationId: after.organizationId ?? before.organizationId,
            ...meta,
            action: 'cms.site_update',
            targetType: 'cms_site',
            targetId: id,
            summary: `サイト「${after.name}」の設定を変更しました（${changed.length ? changed.join(', ') : '変更なし'}）${opts.note ? `。${opts.note}` : ''}`,
          },
          tx,
        );
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ host: 'このホスト名は既に使われています。' });
      throw e;
    }
    this.invalidate();
    for (const l of this.listeners) await l(id);
  }
}
