/**
 * C-3-9: the sitemap as administrators arrange it. The public tree (PageService.publicTree) is
 * the base; a row in cms_sitemap_items can reorder a page among its siblings, rename it, hide it
 * from the HTML sitemap or mark it noindex; extra rows add links (the event calendar, the map,
 * another site). Pages without a row appear by themselves at their place in the tree.
 *
 * Ordering: among one folder's children, the pages (in tree order) followed by the extra links
 * form the base list. Items that carry a position keep the places such items hold in that list
 * and are sorted among themselves; items without one (pages published since) stay at their tree
 * place. Moving an item gives every current sibling a position.
 *
 * What each flag does: `hidden` leaves an entry (and what is listed under it) out of the HTML
 * sitemap only — it is a navigation aid for people, and a page kept off it is still a public
 * page crawlers should find. `noindex` leaves a page out of sitemap.xml and puts
 * `<meta name="robots" content="noindex">` on the page itself.
 */
import type { Selectable } from 'kysely';
import type { AuditService } from '../../../core/audit/index.js';
import type { RequestMeta } from '../../../core/auth/service.js';
import type { Db } from '../../../core/db/index.js';
import { nowIso } from '../../../core/db/index.js';
import { InputError, NotFoundError } from '../../../core/errors.js';
import { actorRef } from '../../../core/organizations/index.js';
import type { Actor } from '../../../core/permissions/index.js';
import type { CmsNode, PageService } from '../pages.js';
import type { Site } from '../sites.js';
import type { CmsSitemapItemTable } from './schema.js';

export type SitemapRow = Selectable<CmsSitemapItemTable>;
type PublicEntry = Awaited<ReturnType<PageService['publicTree']>>[number];

/** One entry of the arranged sitemap: a public page or an extra link. */
export interface SitemapEntry {
  /** `n<nodeId>` for a page, `l<rowId>` for an extra link (used in admin URLs). */
  key: string;
  kind: 'page' | 'link';
  /** What the HTML sitemap shows: the administrators' label, else the page title. */
  label: string;
  /** The page's live title (pages) or the link's label. */
  title: string;
  /** A path inside the site (`/kurashi/`) or an absolute URL (links may point elsewhere). */
  href: string;
  node?: CmsNode;
  /** The public tree's entry (dates for sitemap.xml). */
  entry?: PublicEntry;
  hidden: boolean;
  noindex: boolean;
  /** Whether an administrator gave it a place (false: it follows the tree). */
  positioned: boolean;
  children: SitemapEntry[];
}

const LINK = /^(\/(?!\/)[^\s]*|https?:\/\/[^\s/]+[^\s]*)$/i;

/**
 * Arranges the public tree with the administrators' rows. Pure, so both sitemaps and the admin
 * screen agree by construction.
 */
export function arrangeSitemap(entries: PublicEntry[], rows: SitemapRow[], site: Pick<Site, 'name'>): SitemapEntry[] {
  const byNode = new Map(rows.filter((r) => r.node_id !== null).map((r) => [r.node_id!, r]));
  const links = rows.filter((r) => r.node_id === null && r.parent_node_id !== null);
  const kids = new Map<number | null, PublicEntry[]>();
  for (const e of entries) kids.set(e.node.parent_id, [...(kids.get(e.node.parent_id) ?? []), e]);
  const pageEntry = (e: PublicEntry): { entry: SitemapEntry; position: number | null } => {
    const row = byNode.get(e.node.id);
    const title = e.node.path === '/' ? `${site.name} トップページ` : e.title;
    return {
      entry: { key: `n${e.node.id}`, kind: 'page', label: row?.label || title, title, href: e.node.path, node: e.node, entry: e, hidden: row?.hidden === 1, noindex: row?.noindex === 1, positioned: row?.position != null, children: build(e.node.id) },
      position: row?.position ?? null,
    };
  };
  const linkEntry = (r: SitemapRow): { entry: SitemapEntry; position: number | null } => ({
    entry: { key: `l${r.id}`, kind: 'link', label: r.label ?? '', title: r.label ?? '', href: r.href ?? '/', hidden: r.hidden === 1, noindex: r.noindex === 1, positioned: true, children: [] },
    // Links always hold a place; a link without a position goes after everything placed.
    position: r.position ?? Number.MAX_SAFE_INTEGER - 1_000_000 + r.id,
  });
  function build(parentId: number): SitemapEntry[] {
    const base = [...(kids.get(parentId) ?? []).map(pageEntry), ...links.filter((l) => l.parent_node_id === parentId).sort((a, b) => a.id - b.id).map(linkEntry)];
    const slots = base.map((b, i) => (b.position !== null ? i : -1)).filter((i) => i >= 0);
    const placed = slots.map((i) => ({ i, b: base[i]! })).sort((x, y) => x.b.position! - y.b.position! || x.i - y.i);
    const out = base.map((b) => b.entry);
    slots.forEach((slot, k) => {
      out[slot] = placed[k]!.b.entry;
    });
    return out;
  }
  const root = entries.find((e) => e.node.path === '/' && e.node.parent_id === null);
  return root ? [pageEntry(root).entry] : [];
}

/** Depth-first, parents before children. */
export function flatten(entries: SitemapEntry[], depth = 0): Array<SitemapEntry & { depth: number; parentKey: string | null }> {
  const out: Array<SitemapEntry & { depth: number; parentKey: string | null }> = [];
  const walk = (list: SitemapEntry[], d: number, parentKey: string | null) => {
    for (const e of list) {
      out.push({ ...e, depth: d, parentKey });
      walk(e.children, d + 1, e.key);
    }
  };
  walk(entries, depth, null);
  return out;
}

/** What the HTML sitemap shows: hidden entries leave with everything under them. */
export function visibleInHtml(entries: SitemapEntry[]): SitemapEntry[] {
  return entries.filter((e) => !e.hidden).map((e) => ({ ...e, children: visibleInHtml(e.children) }));
}

/** What sitemap.xml lists, in the arranged order: pages not marked noindex, and links inside the site. */
export function listedInXml(entries: SitemapEntry[]): SitemapEntry[] {
  return flatten(entries).filter((e) => !e.noindex && (e.kind === 'page' || (e.href.startsWith('/') && !e.href.startsWith('//'))));
}

export interface SitemapItemChange {
  label?: string;
  hidden?: boolean;
  noindex?: boolean;
  /** Links only. */
  href?: string;
}

/** Reads and changes the administrators' sitemap rows; every change audited, caches cleared after. */
export class SitemapEdits {
  constructor(private readonly deps: { db: Db; audit: AuditService; pages: PageService }) {}

  async rows(siteId: number): Promise<SitemapRow[]> {
    return this.deps.db.selectFrom('cms_sitemap_items').selectAll().where('site_id', '=', siteId).execute();
  }

  /** The arranged sitemap of a site (every public page and link, hidden ones included). */
  async arranged(site: Site): Promise<SitemapEntry[]> {
    const [entries, rows] = await Promise.all([this.deps.pages.publicTree(site.id), this.rows(site.id)]);
    return arrangeSitemap(entries, rows, site);
  }

  /** Whether a page is marked noindex (read when a page is rendered). */
  async isNoindex(nodeId: number): Promise<boolean> {
    const row = await this.deps.db.selectFrom('cms_sitemap_items').select('noindex').where('node_id', '=', nodeId).executeTakeFirst();
    return row?.noindex === 1;
  }

  private async audit(actor: Actor | null, site: Site, meta: RequestMeta, summary: string, tx: Parameters<AuditService['record']>[1]): Promise<void> {
    await this.deps.audit.record({ actor: actor ? actorRef(actor) : null, organizationId: site.organizationId, ...meta, action: 'cms.sitemap_edit', targetType: 'cms_site', targetId: site.id, summary: `サイトマップ（${site.name}）: ${summary}` }, tx);
  }

  private async changed(site: Site): Promise<void> {
    const root = await this.deps.pages.root(site.id);
    await this.deps.pages.notifyChanged({ siteId: site.id, nodeId: root.id, path: '/', kind: 'settings' });
  }

  /** Moves an entry one place up or down among its siblings; every sibling then keeps a position. */
  async move(actor: Actor | null, site: Site, key: string, direction: 'up' | 'down', meta: RequestMeta): Promise<void> {
    const flat = flatten(await this.arranged(site));
    const item = flat.find((e) => e.key === key);
    if (!item || item.parentKey === null) throw new NotFoundError();
    const siblings = flat.filter((e) => e.parentKey === item.parentKey);
    const at = siblings.findIndex((e) => e.key === key);
    const to = direction === 'up' ? at - 1 : at + 1;
    if (to < 0 || to >= siblings.length) return;
    [siblings[at], siblings[to]] = [siblings[to]!, siblings[at]!];
    await this.deps.db.transaction().execute(async (tx) => {
      const now = nowIso();
      for (const [position, e] of siblings.entries()) {
        if (e.kind === 'link') {
          await tx.updateTable('cms_sitemap_items').set({ position, updated_at: now }).where('id', '=', Number(e.key.slice(1))).where('site_id', '=', site.id).execute();
        } else {
          await tx
            .insertInto('cms_sitemap_items')
            .values({ site_id: site.id, node_id: e.node!.id, parent_node_id: null, label: null, href: null, position, hidden: 0, noindex: 0, created_at: now, updated_at: now })
            .onConflict((oc) => oc.columns(['site_id', 'node_id']).doUpdateSet({ position, updated_at: now }))
            .execute();
        }
      }
      await this.audit(actor, site, meta, `「${item.label}」を${direction === 'up' ? '上' : '下'}へ移動しました`, tx);
    });
    await this.changed(site);
  }

  /** Renames, hides or shows, marks noindex (pages), or changes a link's address. */
  async change(actor: Actor | null, site: Site, key: string, change: SitemapItemChange, meta: RequestMeta): Promise<void> {
    const item = flatten(await this.arranged(site)).find((e) => e.key === key) ?? (await this.orphanLink(site, key));
    if (!item) throw new NotFoundError();
    const label = (change.label ?? '').trim();
    const errors: Record<string, string> = {};
    if (label.length > 100) errors.label = '表示名は100文字以内で入力してください。';
    if (item.kind === 'link' && !label) errors.label = 'リンクの表示名を入力してください。';
    const href = (change.href ?? '').trim();
    if (item.kind === 'link' && (!LINK.test(href) || href.length > 500)) errors.href = 'リンク先は「/」で始まるサイト内のパスか、https:// で始まるURLを入力してください。';
    if (Object.keys(errors).length) throw new InputError(errors);
    await this.deps.db.transaction().execute(async (tx) => {
      const now = nowIso();
      const set = { label: label || null, hidden: change.hidden ? 1 : 0, noindex: item.kind === 'page' && change.noindex ? 1 : 0, updated_at: now };
      if (item.kind === 'link') {
        await tx.updateTable('cms_sitemap_items').set({ ...set, href }).where('id', '=', Number(key.slice(1))).where('site_id', '=', site.id).execute();
      } else {
        await tx
          .insertInto('cms_sitemap_items')
          .values({ site_id: site.id, node_id: item.node!.id, parent_node_id: null, href: null, position: null, created_at: now, ...set })
          .onConflict((oc) => oc.columns(['site_id', 'node_id']).doUpdateSet(set))
          .execute();
      }
      const flags = [change.hidden ? 'HTMLサイトマップに表示しない' : 'HTMLサイトマップに表示', item.kind === 'page' ? (change.noindex ? '検索エンジン対象外' : '検索エンジン対象') : ''].filter(Boolean).join('・');
      await this.audit(actor, site, meta, `「${item.title}」を変更しました（表示名: ${label || '（ページのタイトル）'}、${flags}）`, tx);
    });
    await this.changed(site);
  }

  /** Adds an extra link under a public folder of the site, after its other entries. */
  async addLink(actor: Actor | null, site: Site, input: { parentKey: string; label: string; href: string }, meta: RequestMeta): Promise<number> {
    const flat = flatten(await this.arranged(site));
    const parent = flat.find((e) => e.key === input.parentKey && e.kind === 'page' && e.node?.kind === 'folder');
    const label = input.label.trim();
    const href = input.href.trim();
    const errors: Record<string, string> = {};
    if (!parent) errors.parentKey = '表示する場所（公開中のフォルダ）を選んでください。';
    if (!label) errors.label = 'リンクの表示名を入力してください。';
    else if (label.length > 100) errors.label = '表示名は100文字以内で入力してください。';
    if (!LINK.test(href) || href.length > 500) errors.href = 'リンク先は「/」で始まるサイト内のパスか、https:// で始まるURLを入力してください。';
    if (Object.keys(errors).length) throw new InputError(errors);
    const siblings = flat.filter((e) => e.parentKey === parent!.key).length;
    const id = await this.deps.db.transaction().execute(async (tx) => {
      const now = nowIso();
      const row = await tx
        .insertInto('cms_sitemap_items')
        .values({ site_id: site.id, node_id: null, parent_node_id: parent!.node!.id, label, href, position: 1_000_000 + siblings, hidden: 0, noindex: 0, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.audit(actor, site, meta, `リンク「${label}」（${href}）を「${parent!.label}」の下に追加しました`, tx);
      return row.id;
    });
    await this.changed(site);
    return id;
  }

  /** Removes an extra link. */
  async removeLink(actor: Actor | null, site: Site, key: string, meta: RequestMeta): Promise<void> {
    const row = await this.link(site, key);
    if (!row) throw new NotFoundError();
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('cms_sitemap_items').where('id', '=', row.id).execute();
      await this.audit(actor, site, meta, `リンク「${row.label ?? ''}」（${row.href ?? ''}）を削除しました`, tx);
    });
    await this.changed(site);
  }

  /** An extra link row of this site by its key (`l<id>`). */
  async link(site: Site, key: string): Promise<SitemapRow | undefined> {
    const id = /^l(\d{1,9})$/.exec(key)?.[1];
    if (!id) return undefined;
    return this.deps.db.selectFrom('cms_sitemap_items').selectAll().where('id', '=', Number(id)).where('site_id', '=', site.id).where('node_id', 'is', null).executeTakeFirst();
  }

  /** A link whose folder is not public any more: not in the arranged tree, still editable. */
  private async orphanLink(site: Site, key: string): Promise<SitemapEntry | undefined> {
    const r = await this.link(site, key);
    return r ? { key, kind: 'link', label: r.label ?? '', title: r.label ?? '', href: r.href ?? '/', hidden: r.hidden === 1, noindex: false, positioned: true, children: [] } : undefined;
  }
}
