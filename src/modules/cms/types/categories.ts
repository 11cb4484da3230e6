import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { AuditService } from '../../../core/audit/index.js';
import type { RequestMeta } from '../../../core/auth/service.js';
import { isRowId, isUniqueViolation, nowIso, parseJson, type Database, type Db, type Engine } from '../../../core/db/index.js';
import { InputError, NotFoundError } from '../../../core/errors.js';
import { fieldErrors } from '../../../core/http/validate.js';
import { actorRef } from '../../../core/organizations/index.js';
import type { Actor } from '../../../core/permissions/index.js';
import type { Platform } from '../../../core/platform.js';
import type { CmsNode, CmsVersion } from '../pages.js';
import { pageCategories } from './fields.js';
import './schema.js';

/** A category (分野) of a site. `depth` 0 is a 大分類, 1 a 小分類 under `parentId`. */
export interface CategoryRecord {
  id: number;
  siteId: number;
  parentId: number | null;
  slug: string;
  name: string;
  description: string;
  sortOrder: number;
  depth: 0 | 1;
}

/** A public page filed under a category, as category pages and automatic lists show it. */
export interface CategoryPage {
  nodeId: number;
  /** Path inside the site ('/kurashi/gomi'); prefix it with the site's path prefix for a link. */
  path: string;
  title: string;
  summary: string | null;
  pageType: string;
  publishedAt: string;
  fields: Record<string, unknown>;
}

/** Addresses the site itself serves under /category/ cannot be category slugs. */
const categoryInput = z.object({
  siteId: z.number().int().positive(),
  parentId: z.number().int().positive().nullable().default(null),
  slug: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9-]{0,59}$/, 'URLの名前は半角英小文字・数字・ハイフンで入力してください（例: kosodate）。'),
  name: z.string().trim().min(1, '分野の名前を入力してください。').max(60, '分野の名前は60文字以内で入力してください。'),
  description: z.string().trim().max(500, '説明は500文字以内で入力してください。').default(''),
});
export type CategoryInput = z.input<typeof categoryInput>;

type CategoryRow = { id: number; site_id: number; parent_id: number | null; slug: string; name: string; description: string; sort_order: number };

/**
 * Categories (分野) of each site, one level deep, and the index of public pages per category that
 * the publish transaction keeps (`indexNode`), so a category page is one indexed query.
 * @example
 * const cats = categoriesOf(p);
 * await cats.list(siteId);                               // 大分類, each followed by its 小分類
 * await cats.nodesIn(categoryId, { limit: 20 });         // { total, items: newest public pages first }
 */
export class CategoryService {
  constructor(private readonly deps: { db: Db; audit: AuditService; engine: Engine }) {}

  /** Every category of a site: each 大分類 followed by its 小分類, in the administrators' order. */
  async list(siteId: number): Promise<CategoryRecord[]> {
    const rows = await this.deps.db.selectFrom('cms_categories').selectAll().where('site_id', '=', siteId).orderBy('sort_order').orderBy('id').execute();
    const out: CategoryRecord[] = [];
    for (const top of rows.filter((r) => r.parent_id === null)) {
      out.push(toRecord(top, 0));
      for (const sub of rows.filter((r) => r.parent_id === top.id)) out.push(toRecord(sub, 1));
    }
    return out;
  }

  async get(id: number): Promise<CategoryRecord | undefined> {
    if (!isRowId(id)) return undefined;
    const row = await this.deps.db.selectFrom('cms_categories').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row, row.parent_id === null ? 0 : 1) : undefined;
  }

  async bySlug(siteId: number, slug: string): Promise<CategoryRecord | undefined> {
    const row = await this.deps.db.selectFrom('cms_categories').selectAll().where('site_id', '=', siteId).where('slug', '=', slug).executeTakeFirst();
    return row ? toRecord(row, row.parent_id === null ? 0 : 1) : undefined;
  }

  /**
   * Public pages filed under a category (a 大分類 includes its 小分類' pages), newest first.
   * Pages below a folder the public cannot see are left out.
   */
  async nodesIn(categoryId: number, opts: { limit?: number; offset?: number; pageTypes?: string[] } = {}): Promise<{ total: number; items: CategoryPage[] }> {
    if (!isRowId(categoryId)) return { total: 0, items: [] };
    const limit = Math.min(100, Math.max(1, Math.floor(opts.limit ?? 20)));
    const offset = Math.min(100_000, Math.max(0, Math.floor(opts.offset ?? 0)));
    const types = (opts.pageTypes ?? []).filter(Boolean);
    let base = this.deps.db
      .selectFrom('cms_node_categories as nc')
      .innerJoin('cms_nodes as n', 'n.id', 'nc.node_id')
      .where('nc.category_id', '=', categoryId)
      // A non-public folder above hides the page (its own state is in the index already).
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('cms_nodes as f')
              .select(sql`1`.as('x'))
              .whereRef('f.site_id', '=', 'nc.site_id')
              .where('f.kind', '=', 'folder')
              .where((eb) => eb.or([eb('f.status', '!=', 'published'), eb('f.temporarily_hidden', '=', 1)]))
              .where(sql<boolean>`substr(n.path, 1, length(f.path)) = f.path`),
          ),
        ),
      );
    if (types.length) base = base.where('nc.page_type', 'in', types);
    const [count, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
      base
        .innerJoin('cms_versions as v', 'v.id', 'n.published_version_id')
        .select(['n.id as node_id', 'n.path', 'nc.page_type', 'nc.published_at', 'v.title', 'v.summary', 'v.fields'])
        .orderBy('nc.published_at', 'desc')
        .orderBy('nc.node_id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
    ]);
    return {
      total: Number(count?.n ?? 0),
      items: rows.map((r) => ({
        nodeId: r.node_id,
        path: r.path,
        title: r.title,
        summary: r.summary,
        pageType: r.page_type,
        publishedAt: new Date(r.published_at).toISOString(),
        fields: parseJson<Record<string, unknown>>(r.fields, {}),
      })),
    };
  }

  /** How much a category is in use: public pages, pages whose working version names it, 小分類 under it. */
  async usage(categoryId: number): Promise<{ publicPages: number; pages: number; children: number }> {
    const cat = await this.get(categoryId);
    if (!cat) throw new NotFoundError();
    const pub = await this.deps.db.selectFrom('cms_node_categories').select((eb) => eb.fn.countAll<number>().as('n')).where('category_id', '=', categoryId).executeTakeFirst();
    const children = await this.deps.db.selectFrom('cms_categories').select((eb) => eb.fn.countAll<number>().as('n')).where('parent_id', '=', categoryId).executeTakeFirst();
    // Drafts and live versions both count: deleting a category a draft names would silently drop it on publish.
    const contains =
      this.deps.engine === 'postgres'
        ? sql<boolean>`(v.fields -> 'categories') @> ${JSON.stringify([categoryId])}::jsonb`
        : sql<boolean>`exists (select 1 from json_each(v.fields, '$.categories') j where j.value = ${categoryId})`;
    const pages = await this.deps.db
      .selectFrom('cms_nodes as n')
      .innerJoin('cms_versions as v', (j) => j.on((eb) => eb.or([eb('v.id', '=', eb.ref('n.draft_version_id')), eb('v.id', '=', eb.ref('n.published_version_id'))])))
      .select((eb) => eb.fn.count<number>('n.id').distinct().as('n'))
      .where('n.site_id', '=', cat.siteId)
      .where('n.status', '!=', 'trashed')
      .where(contains)
      .executeTakeFirst();
    return { publicPages: Number(pub?.n ?? 0), pages: Number(pages?.n ?? 0), children: Number(children?.n ?? 0) };
  }

  async create(actor: Actor | null, input: CategoryInput, meta: RequestMeta): Promise<number> {
    const d = parse(input);
    await this.checkParent(d.siteId, d.parentId, null);
    const last = await this.deps.db
      .selectFrom('cms_categories')
      .select((eb) => eb.fn.max('sort_order').as('n'))
      .where('site_id', '=', d.siteId)
      .where((eb) => (d.parentId === null ? eb('parent_id', 'is', null) : eb('parent_id', '=', d.parentId)))
      .executeTakeFirst();
    try {
      return await this.deps.db.transaction().execute(async (tx) => {
        const at = nowIso();
        const row = await tx
          .insertInto('cms_categories')
          .values({ site_id: d.siteId, parent_id: d.parentId, slug: d.slug, name: d.name, description: d.description, sort_order: Number(last?.n ?? -1) + 1, created_at: at, updated_at: at })
          .returning('id')
          .executeTakeFirstOrThrow();
        await this.deps.audit.record(
          { actor: actor ? actorRef(actor) : null, ...meta, action: 'cms.category_create', targetType: 'cms_category', targetId: row.id, summary: `分野「${d.name}」（${d.slug}）を作成しました` },
          tx,
        );
        return row.id;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ slug: `URLの名前「${d.slug}」はこのサイトで既に使われています。` });
      throw e;
    }
  }

  /** Renames a category, changes its address or description, or moves it under another 大分類. */
  async update(actor: Actor | null, id: number, input: Omit<CategoryInput, 'siteId'>, meta: RequestMeta): Promise<void> {
    const before = await this.get(id);
    if (!before) throw new NotFoundError();
    const d = parse({ ...input, siteId: before.siteId });
    await this.checkParent(before.siteId, d.parentId, id);
    try {
      await this.deps.db.transaction().execute(async (tx) => {
        await tx.updateTable('cms_categories').set({ parent_id: d.parentId, slug: d.slug, name: d.name, description: d.description, updated_at: nowIso() }).where('id', '=', id).execute();
        // Moved under another 大分類: its pages now count under the new one.
        if (d.parentId !== before.parentId) await this.reindexCategory(tx, id);
        await this.deps.audit.record(
          { actor: actor ? actorRef(actor) : null, ...meta, action: 'cms.category_update', targetType: 'cms_category', targetId: id, summary: `分野「${before.name}」を更新しました${before.name !== d.name ? `（新しい名前: ${d.name}）` : ''}`, details: { before, after: d } },
          tx,
        );
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ slug: `URLの名前「${d.slug}」はこのサイトで既に使われています。` });
      throw e;
    }
  }

  /** Moves a category one place up or down among its siblings. */
  async move(actor: Actor | null, id: number, direction: 'up' | 'down', meta: RequestMeta): Promise<void> {
    const cat = await this.get(id);
    if (!cat) throw new NotFoundError();
    const siblings = (await this.list(cat.siteId)).filter((c) => c.parentId === cat.parentId);
    const at = siblings.findIndex((c) => c.id === id);
    const other = siblings[direction === 'up' ? at - 1 : at + 1];
    if (!other) return;
    const order = siblings.map((c) => c.id);
    order[at] = other.id;
    order[siblings.indexOf(other)] = id;
    await this.deps.db.transaction().execute(async (tx) => {
      for (const [i, cid] of order.entries()) await tx.updateTable('cms_categories').set({ sort_order: i }).where('id', '=', cid).execute();
      await this.deps.audit.record(
        { actor: actor ? actorRef(actor) : null, ...meta, action: 'cms.category_reorder', targetType: 'cms_category', targetId: id, summary: `分野「${cat.name}」を${direction === 'up' ? '上' : '下'}へ移動しました` },
        tx,
      );
    });
  }

  /** Deletes an unused category; refuses, saying why, while pages or 小分類 use it. */
  async remove(actor: Actor | null, id: number, meta: RequestMeta): Promise<void> {
    const cat = await this.get(id);
    if (!cat) throw new NotFoundError();
    const use = await this.usage(id);
    if (use.children) throw new InputError({ _form: `分野「${cat.name}」には小分類が${use.children}個あるため削除できません。先に小分類を移動するか削除してください。` });
    if (use.pages || use.publicPages) throw new InputError({ _form: `分野「${cat.name}」は${Math.max(use.pages, use.publicPages)}件のページで使われているため削除できません。先にページの分野を変更してください。` });
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('cms_node_categories').where('category_id', '=', id).execute();
      await tx.deleteFrom('cms_categories').where('id', '=', id).execute();
      await this.deps.audit.record(
        { actor: actor ? actorRef(actor) : null, ...meta, action: 'cms.category_delete', targetType: 'cms_category', targetId: id, summary: `分野「${cat.name}」（${cat.slug}）を削除しました` },
        tx,
      );
    });
  }

  /**
   * Brings a node's rows in the category index up to date inside the caller's transaction: the
   * live version's categories (and their 大分類) while the node is public, none otherwise.
   * Returns the category ids indexed.
   */
  async indexNode(tx: Kysely<Database>, node: CmsNode, version: CmsVersion | null): Promise<number[]> {
    await tx.deleteFrom('cms_node_categories').where('node_id', '=', node.id).execute();
    const isPublic = node.status === 'published' && node.temporarily_hidden === 0 && version !== null;
    if (!isPublic || !version) return [];
    const wanted = pageCategories(parseJson<Record<string, unknown>>(version.fields, {}));
    if (!wanted.length) return [];
    const found = await tx.selectFrom('cms_categories').select(['id', 'parent_id']).where('site_id', '=', node.site_id).where('id', 'in', wanted).execute();
    const ids = [...new Set(found.flatMap((c) => (c.parent_id === null ? [c.id] : [c.id, c.parent_id])))].sort((a, b) => a - b);
    if (!ids.length) return [];
    const publishedAt = node.published_at ?? nowIso();
    await tx
      .insertInto('cms_node_categories')
      .values(ids.map((category_id) => ({ node_id: node.id, category_id, site_id: node.site_id, page_type: node.page_type, published_at: publishedAt })))
      .execute();
    return ids;
  }

  /** Re-indexes every public page filed under a category (after it moved to another 大分類). */
  private async reindexCategory(tx: Kysely<Database>, categoryId: number): Promise<void> {
    const rows = await tx.selectFrom('cms_node_categories').select('node_id').where('category_id', '=', categoryId).execute();
    for (const { node_id } of rows) {
      const node = await tx.selectFrom('cms_nodes').selectAll().where('id', '=', node_id).executeTakeFirst();
      if (!node) continue;
      const version = node.published_version_id === null ? undefined : await tx.selectFrom('cms_versions').selectAll().where('id', '=', node.published_version_id).executeTakeFirst();
      await this.indexNode(tx, node, version ?? null);
    }
  }

  private async checkParent(siteId: number, parentId: number | null, self: number | null): Promise<void> {
    if (parentId === null) return;
    if (parentId === self) throw new InputError({ parentId: '自分自身を大分類にはできません。' });
    const parent = await this.get(parentId);
    if (!parent || parent.siteId !== siteId) throw new InputError({ parentId: '大分類が見つかりません。' });
    if (parent.parentId !== null) throw new InputError({ parentId: '小分類の下には分類を作れません（2階層まで）。大分類を選んでください。' });
    if (self !== null) {
      const kids = await this.deps.db.selectFrom('cms_categories').select('id').where('parent_id', '=', self).executeTakeFirst();
      if (kids) throw new InputError({ parentId: '小分類を持つ大分類は、ほかの分野の下に移せません。' });
    }
  }
}

function parse(input: CategoryInput) {
  const r = categoryInput.safeParse(input);
  if (!r.success) throw new InputError(fieldErrors(r.error));
  return r.data;
}

function toRecord(r: CategoryRow, depth: 0 | 1): CategoryRecord {
  return { id: r.id, siteId: r.site_id, parentId: r.parent_id, slug: r.slug, name: r.name, description: r.description, sortOrder: r.sort_order, depth };
}

const services = new WeakMap<Platform, CategoryService>();

/** The category service of a platform (created once). */
export function categoriesOf(p: Platform): CategoryService {
  let s = services.get(p);
  if (!s) {
    s = new CategoryService({ db: p.db, audit: p.audit, engine: p.database.engine });
    services.set(p, s);
  }
  return s;
}
