import { z } from 'zod';
import type { Kysely, Selectable } from 'kysely';
import type { AuditService } from '../../core/audit/index.js';
import type { Database, Db } from '../../core/db/index.js';
import { isRowId, isUniqueViolation, nowIso, parseJson } from '../../core/db/index.js';
import { InputError, NotFoundError } from '../../core/errors.js';
import { fieldErrors } from '../../core/http/validate.js';
import { actorRef } from '../../core/organizations/index.js';
import type { Actor } from '../../core/permissions/index.js';
import type { RequestMeta } from '../../core/auth/service.js';
import { sanitizeBody } from './content/index.js';
import type { CmsNodeTable, CmsVersionTable } from './schema.js';
import type { SearchIndex } from './search/index.js';
import type { PublishHook } from './parts.js';

export type CmsNode = Selectable<CmsNodeTable>;
export type CmsVersion = Selectable<CmsVersionTable>;

/** What changed, so caches, lists and the search index update exactly where it lands. */
export interface ContentChange {
  siteId: number;
  nodeId: number;
  path: string;
  kind: 'publish' | 'unpublish' | 'hide' | 'show' | 'move' | 'trash' | 'restore' | 'settings';
}

/** Top-level addresses the site itself serves (search, sitemap, feeds). */
const RESERVED_TOP_SLUGS = ['search', 'sitemap', 'feed', 'admin', 'assets', 'lang'];

const slugRule = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,79}$/, 'URLの名前は半角英小文字・数字・ハイフンで入力してください（例: gomi-schedule）。');

export const nodeInput = z.object({
  siteId: z.number().int().positive(),
  parentId: z.number().int().positive({ error: '親フォルダを選んでください。' }),
  kind: z.enum(['folder', 'page']),
  slug: slugRule,
  title: z.string().trim().min(1, 'タイトルを入力してください。').max(200, 'タイトルは200文字以内で入力してください。'),
  body: z.string().max(2_000_000, '本文が長すぎます。').default(''),
  pageType: z.string().regex(/^[a-z_]{1,30}$/).default('standard'),
  fields: z.record(z.string(), z.unknown()).default({}),
  summary: z.string().trim().max(300, '概要は300文字以内で入力してください。').optional(),
  organizationId: z.number().int().positive().nullable().optional(),
  sortOrder: z.number().int().min(0).max(100000).optional(),
});
export type NodeInput = z.input<typeof nodeInput>;

export const draftInput = z.object({
  title: z.string().trim().min(1, 'タイトルを入力してください。').max(200, 'タイトルは200文字以内で入力してください。'),
  body: z.string().max(2_000_000, '本文が長すぎます。').default(''),
  fields: z.record(z.string(), z.unknown()).default({}),
  summary: z.string().trim().max(300, '概要は300文字以内で入力してください。').optional(),
  comment: z.string().trim().max(300, 'コメントは300文字以内で入力してください。').optional(),
});
export type DraftInput = z.input<typeof draftInput>;

/** Inserts a node with its first version as the draft (the site root and every page). */
export async function insertNode(
  tx: Kysely<Database>,
  v: { siteId: number; parentId: number | null; kind: 'folder' | 'page'; slug: string; path: string; sortOrder: number; pageType: string; organizationId: number | null; actorId: number | null; title: string; bodyHtml: string; fields: Record<string, unknown>; summary: string | null; comment: string | null },
): Promise<number> {
  const at = nowIso();
  const node = await tx
    .insertInto('cms_nodes')
    .values({
      site_id: v.siteId,
      parent_id: v.parentId,
      kind: v.kind,
      slug: v.slug,
      path: v.path,
      sort_order: v.sortOrder,
      page_type: v.pageType,
      status: 'draft',
      published_version_id: null,
      draft_version_id: null,
      temporarily_hidden: 0,
      publish_at: null,
      unpublish_at: null,
      organization_id: v.organizationId,
      created_by: v.actorId,
      updated_by: v.actorId,
      published_at: null,
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const version = await tx
    .insertInto('cms_versions')
    .values({ node_id: node.id, number: 1, title: v.title, body_html: v.bodyHtml, fields: JSON.stringify(v.fields), summary: v.summary, comment: v.comment, created_by: v.actorId, created_at: at })
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx.updateTable('cms_nodes').set({ draft_version_id: version.id }).where('id', '=', node.id).execute();
  return node.id;
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new InputError(fieldErrors(r.error));
  return r.data;
}

/**
 * The page tree and its versions: create, edit as a draft next to the live version (差し替え),
 * publish, withdraw temporarily (C-2-7), unpublish. Every change is audited (C-3-17) and
 * announced to listeners after it commits.
 */
export class PageService {
  private readonly listeners: Array<(change: ContentChange) => void | Promise<void>> = [];

  constructor(private readonly deps: { db: Db; audit: AuditService; search?: SearchIndex; publishHooks?: PublishHook[] }) {}

  /** Runs the features' hooks inside a change's transaction (category index, media release…). */
  private async runHooks(tx: Kysely<Database>, event: Parameters<PublishHook>[1]): Promise<void> {
    for (const hook of this.deps.publishHooks ?? []) await hook(tx, event);
  }

  /** The search entry of a live page, written in the same transaction as the change. */
  private searchDocument(node: CmsNode, version: CmsVersion) {
    return {
      key: `page:${node.id}`,
      siteId: node.site_id,
      url: node.path,
      title: version.title,
      type: node.page_type,
      publishedAt: node.published_at ?? nowIso(),
      bodyHtml: version.body_html,
      bodyText: version.summary ?? '',
    };
  }

  /** Called after every committed change that alters what the public sees. */
  onChange(listener: (change: ContentChange) => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  private async announce(change: ContentChange): Promise<void> {
    for (const l of this.listeners) await l(change);
  }

  /**
   * For features that change what the public sees without going through this service (list
   * settings, sitemap edits, media): clears render caches on every node, after the change commits.
   */
  async notifyChanged(change: ContentChange): Promise<void> {
    await this.announce(change);
  }

  async node(id: number): Promise<CmsNode> {
    if (!isRowId(id)) throw new NotFoundError();
    const row = await this.deps.db.selectFrom('cms_nodes').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError();
    return row;
  }

  async version(id: number | null): Promise<CmsVersion | undefined> {
    if (id === null) return undefined;
    return this.deps.db.selectFrom('cms_versions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A version read inside a transaction (on SQLite a second connection would wait for it). */
  private async versionIn(tx: Kysely<Database>, id: number | null): Promise<CmsVersion | undefined> {
    if (id === null) return undefined;
    return tx.selectFrom('cms_versions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async root(siteId: number): Promise<CmsNode> {
    const row = await this.deps.db.selectFrom('cms_nodes').selectAll().where('site_id', '=', siteId).where('path', '=', '/').executeTakeFirst();
    if (!row) throw new NotFoundError();
    return row;
  }

  /** Creates a folder or page with its first version as a draft. */
  async create(actor: Actor | null, input: NodeInput, meta: RequestMeta): Promise<number> {
    const d = parse(nodeInput, input);
    const parent = await this.node(d.parentId).catch(() => {
      throw new InputError({ parentId: '親フォルダが見つかりません。' });
    });
    if (parent.kind !== 'folder' || parent.site_id !== d.siteId) throw new InputError({ parentId: '親にはこのサイトのフォルダを選んでください。' });
    if (parent.path === '/' && RESERVED_TOP_SLUGS.includes(d.slug)) throw new InputError({ slug: `「${d.slug}」はサイトの機能（検索・サイトマップ）が使うため、別の名前にしてください。` });
    const path = `${parent.path}${d.slug}${d.kind === 'folder' ? '/' : ''}`;
    try {
      return await this.deps.db.transaction().execute(async (tx) => {
        const nodeId = await insertNode(tx, {
          siteId: d.siteId,
          parentId: parent.id,
          kind: d.kind,
          slug: d.slug,
          path,
          sortOrder: d.sortOrder ?? 0,
          pageType: d.pageType,
          organizationId: d.organizationId ?? parent.organization_id,
          actorId: actor?.id || null,
          title: d.title,
          bodyHtml: sanitizeBody(d.body),
          fields: d.fields,
          summary: d.summary ?? null,
          comment: null,
        });
        await this.deps.audit.record(
          { actor: actor ? actorRef(actor) : null, organizationId: d.organizationId ?? parent.organization_id, ...meta, action: 'cms.create', targetType: 'cms_node', targetId: nodeId, summary: `${d.kind === 'folder' ? 'フォルダ' : 'ページ'}「${d.title}」（${path}）を作成しました` },
          tx,
        );
        return nodeId;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ slug: `このURL（${path}）は既に使われています。別の名前にしてください。` });
      throw e;
    }
  }

  /** Saves a new version as the draft; a published page stays live unchanged until publish. */
  async saveDraft(actor: Actor | null, nodeId: number, input: DraftInput, meta: RequestMeta): Promise<number> {
    const d = parse(draftInput, input);
    const node = await this.node(nodeId);
    return this.deps.db.transaction().execute(async (tx) => {
      const last = await tx.selectFrom('cms_versions').select((eb) => eb.fn.max('number').as('n')).where('node_id', '=', nodeId).executeTakeFirst();
      const version = await tx
        .insertInto('cms_versions')
        .values({
          node_id: nodeId,
          number: Number(last?.n ?? 0) + 1,
          title: d.title,
          body_html: sanitizeBody(d.body),
          fields: JSON.stringify(d.fields),
          summary: d.summary ?? null,
          comment: d.comment ?? null,
          created_by: actor?.id || null,
          created_at: nowIso(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tx.updateTable('cms_nodes').set({ draft_version_id: version.id, updated_by: actor?.id || null, updated_at: nowIso() }).where('id', '=', nodeId).execute();
      await this.deps.audit.record(
        { actor: actor ? actorRef(actor) : null, organizationId: node.organization_id, ...meta, action: 'cms.edit', targetType: 'cms_node', targetId: nodeId, summary: `「${d.title}」（${node.path}）を編集しました（版 ${Number(last?.n ?? 0) + 1}）` },
        tx,
      );
      return version.id;
    });
  }

  /** Makes the draft the live version. */
  async publish(actor: Actor | null, nodeId: number, meta: RequestMeta): Promise<void> {
    const node = await this.node(nodeId);
    const versionId = node.draft_version_id ?? node.published_version_id;
    const version = await this.version(versionId);
    if (!version) throw new InputError({ _form: '公開する内容がありません。' });
    const at = nowIso();
    await this.deps.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('cms_nodes')
        .set({ published_version_id: version.id, draft_version_id: null, status: 'published', published_at: node.published_at ?? at, updated_by: actor?.id || null, updated_at: at })
        .where('id', '=', nodeId)
        .execute();
      if (this.deps.search && node.temporarily_hidden === 0) await this.deps.search.upsert(this.searchDocument({ ...node, published_at: node.published_at ?? at }, version), tx);
      await this.runHooks(tx, { node: { ...node, status: 'published', published_version_id: version.id, draft_version_id: null, published_at: node.published_at ?? at }, version, kind: 'publish' });
      await this.deps.audit.record(
        { actor: actor ? actorRef(actor) : null, organizationId: node.organization_id, ...meta, action: 'cms.publish', targetType: 'cms_node', targetId: nodeId, summary: `「${version.title}」（${node.path}）を公開しました（版 ${version.number}）` },
        tx,
      );
    });
    await this.announce({ siteId: node.site_id, nodeId, path: node.path, kind: 'publish' });
  }

  /** C-2-7: hides a page from the public for a while, or shows it again; preview keeps working. */
  async setTemporarilyHidden(actor: Actor | null, nodeId: number, hidden: boolean, meta: RequestMeta): Promise<void> {
    const node = await this.node(nodeId);
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('cms_nodes').set({ temporarily_hidden: hidden ? 1 : 0, updated_at: nowIso() }).where('id', '=', nodeId).execute();
      if (this.deps.search) {
        const live = await this.versionIn(tx, node.published_version_id);
        if (hidden || !live || node.status !== 'published') await this.deps.search.remove(`page:${nodeId}`, tx);
        else await this.deps.search.upsert(this.searchDocument(node, live), tx);
      }
      await this.runHooks(tx, { node: { ...node, temporarily_hidden: hidden ? 1 : 0 }, version: (await this.versionIn(tx, node.published_version_id)) ?? null, kind: hidden ? 'hide' : 'show' });
      await this.deps.audit.record(
        { actor: actor ? actorRef(actor) : null, organizationId: node.organization_id, ...meta, action: hidden ? 'cms.hide' : 'cms.show', targetType: 'cms_node', targetId: nodeId, summary: `${node.path} を${hidden ? '一時的に非公開に' : '再公開'}しました` },
        tx,
      );
    });
    await this.announce({ siteId: node.site_id, nodeId, path: node.path, kind: hidden ? 'hide' : 'show' });
  }

  /** Takes a page off the public site (its versions stay); publishing again brings it back. */
  async unpublish(actor: Actor | null, nodeId: number, meta: RequestMeta, reason = ''): Promise<void> {
    const node = await this.node(nodeId);
    if (node.status !== 'published') return;
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('cms_nodes').set({ status: 'withdrawn', unpublish_at: null, updated_by: actor?.id || null, updated_at: nowIso() }).where('id', '=', nodeId).execute();
      if (this.deps.search) await this.deps.search.remove(`page:${nodeId}`, tx);
      await this.runHooks(tx, { node: { ...node, status: 'withdrawn' }, version: (await this.versionIn(tx, node.published_version_id)) ?? null, kind: 'unpublish' });
      await this.deps.audit.record(
        { actor: actor ? actorRef(actor) : null, organizationId: node.organization_id, ...meta, action: 'cms.unpublish', targetType: 'cms_node', targetId: nodeId, summary: `${node.path} の公開を終了しました${reason}` },
        tx,
      );
    });
    await this.announce({ siteId: node.site_id, nodeId, path: node.path, kind: 'unpublish' });
  }

  /** C-3-12: sets (or clears, with null) when the page goes public and when it comes down. */
  async schedule(actor: Actor | null, nodeId: number, when: { publishAt: Date | null; unpublishAt: Date | null }, meta: RequestMeta): Promise<void> {
    const node = await this.node(nodeId);
    if (when.publishAt && when.unpublishAt && when.unpublishAt <= when.publishAt) throw new InputError({ unpublishAt: '公開終了日時は公開開始日時より後にしてください。' });
    const fmt = (d: Date | null) => (d ? d.toISOString() : null);
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('cms_nodes').set({ publish_at: fmt(when.publishAt), unpublish_at: fmt(when.unpublishAt), updated_at: nowIso() }).where('id', '=', nodeId).execute();
      await this.deps.audit.record(
        { actor: actor ? actorRef(actor) : null, organizationId: node.organization_id, ...meta, action: 'cms.schedule', targetType: 'cms_node', targetId: nodeId, summary: `${node.path} の公開予約を設定しました（開始: ${fmt(when.publishAt) ?? 'なし'}、終了: ${fmt(when.unpublishAt) ?? 'なし'}）` },
        tx,
      );
    });
  }

  /**
   * Runs what is due: drafts whose publish time has come go live, live pages whose end time has
   * come are taken down. Called every minute by the job runner (one node at a time).
   */
  async runSchedule(now = new Date()): Promise<{ published: number; unpublished: number }> {
    const iso = now.toISOString();
    const due = await this.deps.db.selectFrom('cms_nodes').select(['id']).where('publish_at', '<=', iso).where('status', '!=', 'trashed').execute();
    const meta = { ip: 'scheduler', userAgent: 'machimado jobs' };
    for (const { id } of due) {
      await this.deps.db.updateTable('cms_nodes').set({ publish_at: null }).where('id', '=', id).execute();
      await this.publish(null, id, meta);
    }
    const ending = await this.deps.db.selectFrom('cms_nodes').select(['id']).where('unpublish_at', '<=', iso).where('status', '=', 'published').execute();
    for (const { id } of ending) await this.unpublish(null, id, meta, '（予約による自動終了）');
    return { published: due.length, unpublished: ending.length };
  }

  /**
   * The published node at a path, with its live version, when the public may see it: published,
   * not hidden, and every folder above it likewise.
   */
  async findPublic(siteId: number, path: string): Promise<{ node: CmsNode; version: CmsVersion; ancestors: Array<{ node: CmsNode; title: string }> } | null> {
    const candidates = path.endsWith('/') ? [path] : [path, `${path}/`];
    const node = await this.deps.db.selectFrom('cms_nodes').selectAll().where('site_id', '=', siteId).where('path', 'in', candidates).orderBy('path').executeTakeFirst();
    if (!node || !this.isPublic(node)) return null;
    const version = await this.version(node.published_version_id);
    if (!version) return null;
    const ancestors = await this.ancestors(node);
    if (!ancestors) return null;
    return { node, version, ancestors };
  }

  private isPublic(node: CmsNode): boolean {
    return node.status === 'published' && node.temporarily_hidden === 0 && node.published_version_id !== null;
  }

  /** Folders above the node with their live titles, top first; null when one of them is not public. */
  private async ancestors(node: CmsNode): Promise<Array<{ node: CmsNode; title: string }> | null> {
    const prefixes: string[] = [];
    for (let i = node.path.indexOf('/', 0); i >= 0 && i < node.path.length - 1; i = node.path.indexOf('/', i + 1)) prefixes.push(node.path.slice(0, i + 1));
    const folders = prefixes.length
      ? await this.deps.db
          .selectFrom('cms_nodes')
          .leftJoin('cms_versions', 'cms_versions.id', 'cms_nodes.published_version_id')
          .selectAll('cms_nodes')
          .select('cms_versions.title as live_title')
          .where('cms_nodes.site_id', '=', node.site_id)
          .where('cms_nodes.path', 'in', prefixes)
          .execute()
      : [];
    const out: Array<{ node: CmsNode; title: string }> = [];
    for (const prefix of prefixes) {
      const f = folders.find((x) => x.path === prefix);
      if (!f || !this.isPublic(f) || !f.live_title) return null;
      const { live_title, ...rest } = f;
      out.push({ node: rest, title: live_title });
    }
    return out;
  }

  /** Every node of a site in tree order, with its working title (draft, else live) and depth. */
  async tree(siteId: number): Promise<Array<CmsNode & { title: string; depth: number }>> {
    const rows = await this.deps.db
      .selectFrom('cms_nodes')
      .leftJoin('cms_versions', (j) => j.on((eb) => eb('cms_versions.id', '=', eb.fn.coalesce('cms_nodes.draft_version_id', 'cms_nodes.published_version_id'))))
      .selectAll('cms_nodes')
      .select('cms_versions.title as working_title')
      .where('cms_nodes.site_id', '=', siteId)
      .where('cms_nodes.status', '!=', 'trashed')
      .execute();
    const byParent = new Map<number | null, typeof rows>();
    for (const r of rows) byParent.set(r.parent_id, [...(byParent.get(r.parent_id) ?? []), r]);
    const out: Array<CmsNode & { title: string; depth: number }> = [];
    const walk = (parent: number | null, depth: number) => {
      const kids = (byParent.get(parent) ?? []).sort((a, b) => a.sort_order - b.sort_order || a.path.localeCompare(b.path));
      for (const { working_title, ...node } of kids) {
        out.push({ ...node, title: working_title ?? node.path, depth });
        walk(node.id, depth + 1);
      }
    };
    walk(null, 0);
    return out;
  }

  /** Nodes the public may see on their own (published, not hidden), joined to their live version. */
  private liveNodes() {
    return this.deps.db
      .selectFrom('cms_nodes')
      .innerJoin('cms_versions', 'cms_versions.id', 'cms_nodes.published_version_id')
      .selectAll('cms_nodes')
      .where('cms_nodes.status', '=', 'published')
      .where('cms_nodes.temporarily_hidden', '=', 0);
  }

  /** Public children of a folder with their live titles, in the administrators' order. */
  async publicChildren(folderId: number): Promise<Array<{ node: CmsNode; title: string; summary: string | null; fields: Record<string, unknown> }>> {
    const rows = await this.liveNodes()
      .select(['cms_versions.title as live_title', 'cms_versions.summary as live_summary', 'cms_versions.fields as live_fields'])
      .where('cms_nodes.parent_id', '=', folderId)
      .orderBy('cms_nodes.sort_order')
      .orderBy('cms_nodes.published_at', 'desc')
      .execute();
    return rows.map(({ live_title, live_summary, live_fields, ...node }) => ({ node, title: live_title, summary: live_summary, fields: parseJson(live_fields, {}) }));
  }

  /**
   * Every node the public can see on a site — published, not temporarily hidden, and every folder
   * above it likewise — in tree order (the administrators' sort order, as in folder lists), with
   * its live title and summary, the live version's date and its depth (the top page is 0).
   * Bodies are not read; see publicBodies.
   */
  async publicTree(siteId: number): Promise<Array<{ node: CmsNode; title: string; summary: string | null; versionAt: string; depth: number }>> {
    const rows = await this.liveNodes()
      .select(['cms_versions.title as live_title', 'cms_versions.summary as live_summary', 'cms_versions.created_at as live_at'])
      .where('cms_nodes.site_id', '=', siteId)
      .execute();
    const byParent = new Map<number | null, typeof rows>();
    for (const r of rows) byParent.set(r.parent_id, [...(byParent.get(r.parent_id) ?? []), r]);
    const out: Array<{ node: CmsNode; title: string; summary: string | null; versionAt: string; depth: number }> = [];
    // Only nodes reached from the public root are public: a missing (non-public) folder cuts its subtree off.
    const walk = (parent: number | null, depth: number) => {
      const kids = (byParent.get(parent) ?? []).sort(
        (a, b) => a.sort_order - b.sort_order || (b.published_at ?? '').localeCompare(a.published_at ?? '') || a.path.localeCompare(b.path),
      );
      for (const { live_title, live_summary, live_at, ...node } of kids) {
        if (parent === null && node.path !== '/') continue;
        out.push({ node, title: live_title, summary: live_summary, versionAt: live_at, depth });
        walk(node.id, depth + 1);
      }
    };
    walk(null, 0);
    return out;
  }

  /** The live bodies of the given nodes (for feed summaries of pages without one). */
  async publicBodies(nodeIds: number[]): Promise<Map<number, string>> {
    if (!nodeIds.length) return new Map();
    const rows = await this.deps.db
      .selectFrom('cms_nodes')
      .innerJoin('cms_versions', 'cms_versions.id', 'cms_nodes.published_version_id')
      .select(['cms_nodes.id as id', 'cms_versions.body_html as body_html'])
      .where('cms_nodes.id', 'in', nodeIds)
      .execute();
    return new Map(rows.map((r) => [r.id, r.body_html]));
  }
}
