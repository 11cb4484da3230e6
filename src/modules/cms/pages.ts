import { z } from 'zod';
import { sql, type Kysely, type Selectable, type SqlBool } from 'kysely';
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
import './history/schema.js';

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
const RESERVED_TOP_SLUGS = ['search', 'sitemap', 'feed', 'admin', 'assets', 'lang', 'preview', 'lists', 'events', 'map', 'category', 'media', 'forms'];

/** Where a trashed node's path moves, so its address is free for a new page meanwhile (slugs never start with '.'). */
const trashPath = (rootId: number, path: string) => `/.trash/${rootId}${path}`;

/** A version as the history lists it, with its author's name. */
export type VersionEntry = CmsVersion & { author_name: string | null };

/** A page or folder in the trash, as the trash list shows it (only the nodes staff deleted, not their subtrees). */
export interface TrashEntry {
  node: CmsNode;
  title: string;
  originalPath: string;
  trashedAt: string;
  trashedBy: string | null;
  reason: string | null;
  /** Nodes that come back with it (itself included). */
  count: number;
}

/**
 * The draft a form was opened on is no longer the page's working version: someone saved (or
 * restored) in between. Saving would silently overwrite their change, so it is refused.
 */
export class StaleDraftError extends Error {
  constructor(readonly current: { id: number; number: number; authorName: string | null; createdAt: string }) {
    super(`the working version is now ${current.number}`);
  }
}

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

/** The content of a version: what a draft saves and what a restore copies. */
interface VersionContent {
  title: string;
  bodyHtml: string;
  fields: Record<string, unknown>;
  summary: string | null;
  comment: string | null;
}

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
    if (parent.path === '/' && RESERVED_TOP_SLUGS.includes(d.slug)) throw new InputError({ slug: `「${d.slug}」はサイトの機能（検索・サイトマップ・カレンダー・地図など）が使うため、別の名前にしてください。` });
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

  /**
   * Saves a new version as the draft; a published page stays live unchanged until publish.
   * With `baseVersionId` (the working version the form was opened on), a save made after someone
   * else's is refused with StaleDraftError instead of overwriting it.
   */
  async saveDraft(actor: Actor | null, nodeId: number, input: DraftInput, meta: RequestMeta, opts: { baseVersionId?: number | null } = {}): Promise<number> {
    const d = parse(draftInput, input);
    const node = await this.node(nodeId);
    return this.deps.db.transaction().execute(async (tx) => {
      const added = await this.addDraft(tx, node, { title: d.title, bodyHtml: sanitizeBody(d.body), fields: d.fields, summary: d.summary ?? null, comment: d.comment ?? null }, actor, opts.baseVersionId);
      await this.deps.audit.record(
        { actor: actor ? actorRef(actor) : null, organizationId: node.organization_id, ...meta, action: 'cms.edit', targetType: 'cms_node', targetId: nodeId, summary: `「${d.title}」（${node.path}）を編集しました（版 ${added.number}）` },
        tx,
      );
      return added.id;
    });
  }

  /**
   * Inserts a version and makes it the draft, one writer at a time: the node's row is updated
   * first (a row lock on PostgreSQL; SQLite has one writer), and only while its working version
   * is still `baseVersionId` when one is given, so a concurrent save cannot slip in between.
   */
  private async addDraft(tx: Kysely<Database>, node: CmsNode, content: VersionContent, actor: Actor | null, baseVersionId?: number | null): Promise<{ id: number; number: number }> {
    const at = nowIso();
    const claimed = await tx
      .updateTable('cms_nodes')
      .set({ updated_at: at })
      .where('id', '=', node.id)
      .where('status', '!=', 'trashed')
      .$if(baseVersionId != null, (q) => q.where((eb) => eb(eb.fn.coalesce('draft_version_id', 'published_version_id'), '=', baseVersionId!)))
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) {
      const now = await tx.selectFrom('cms_nodes').select(['status', 'draft_version_id', 'published_version_id']).where('id', '=', node.id).executeTakeFirst();
      if (!now || now.status === 'trashed') throw new InputError({ _form: 'このページはごみ箱にあるため保存できません。ごみ箱から戻してから編集してください。' });
      const current = await tx
        .selectFrom('cms_versions')
        .leftJoin('users', 'users.id', 'cms_versions.created_by')
        .select(['cms_versions.id as id', 'cms_versions.number as number', 'cms_versions.created_at as created_at', 'users.display_name as author_name'])
        .where('cms_versions.id', '=', now.draft_version_id ?? now.published_version_id ?? -1)
        .executeTakeFirstOrThrow();
      throw new StaleDraftError({ id: current.id, number: current.number, authorName: current.author_name, createdAt: current.created_at });
    }
    const last = await tx.selectFrom('cms_versions').select((eb) => eb.fn.max('number').as('n')).where('node_id', '=', node.id).executeTakeFirst();
    const number = Number(last?.n ?? 0) + 1;
    const version = await tx
      .insertInto('cms_versions')
      .values({
        node_id: node.id,
        number,
        title: content.title,
        body_html: content.bodyHtml,
        fields: JSON.stringify(content.fields),
        summary: content.summary,
        comment: content.comment,
        created_by: actor?.id || null,
        created_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx.updateTable('cms_nodes').set({ draft_version_id: version.id, updated_by: actor?.id || null, updated_at: at }).where('id', '=', node.id).execute();
    return { id: version.id, number };
  }

  /** Every version of a node, newest first, with its author's display name. */
  async versions(nodeId: number): Promise<VersionEntry[]> {
    return this.deps.db
      .selectFrom('cms_versions')
      .leftJoin('users', 'users.id', 'cms_versions.created_by')
      .selectAll('cms_versions')
      .select('users.display_name as author_name')
      .where('cms_versions.node_id', '=', nodeId)
      .orderBy('cms_versions.number', 'desc')
      .execute();
  }

  /** One version of a node by its number (版 3), with its author's name. */
  async versionByNumber(nodeId: number, number: number): Promise<VersionEntry | undefined> {
    if (!Number.isSafeInteger(number) || number < 1 || number > 2_147_483_647) return undefined;
    return this.deps.db
      .selectFrom('cms_versions')
      .leftJoin('users', 'users.id', 'cms_versions.created_by')
      .selectAll('cms_versions')
      .select('users.display_name as author_name')
      .where('cms_versions.node_id', '=', nodeId)
      .where('cms_versions.number', '=', number)
      .executeTakeFirst();
  }

  /**
   * Brings back an old version as a new draft (版 N を復元): history is never rewritten, and the
   * live page stays as it is until publish.
   */
  async restoreVersion(actor: Actor | null, nodeId: number, number: number, meta: RequestMeta): Promise<{ id: number; number: number }> {
    const node = await this.node(nodeId);
    const old = await this.versionByNumber(nodeId, number);
    if (!old) throw new NotFoundError();
    return this.deps.db.transaction().execute(async (tx) => {
      const added = await this.addDraft(tx, node, { title: old.title, bodyHtml: old.body_html, fields: parseJson(old.fields, {}), summary: old.summary, comment: `版 ${old.number} を復元` }, actor);
      await this.deps.audit.record(
        { actor: actor ? actorRef(actor) : null, organizationId: node.organization_id, ...meta, action: 'cms.restore_version', targetType: 'cms_node', targetId: nodeId, summary: `「${old.title}」（${node.path}）の版 ${old.number} を復元し、新しい下書き（版 ${added.number}）にしました`, details: { from: old.number, to: added.number } },
        tx,
      );
      return added;
    });
  }

  /** Makes the draft the live version. */
  async publish(actor: Actor | null, nodeId: number, meta: RequestMeta): Promise<void> {
    const node = await this.node(nodeId);
    if (node.status === 'trashed') throw new InputError({ _form: 'ごみ箱にあるページは公開できません。ごみ箱から戻してください。' });
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

  /**
   * C-3-12: sets (or clears, with null) when the page goes public, when it comes down and when it
   * goes to the trash. Leaving `deleteAt` out keeps the deletion time as it is.
   */
  async schedule(actor: Actor | null, nodeId: number, when: { publishAt: Date | null; unpublishAt: Date | null; deleteAt?: Date | null }, meta: RequestMeta): Promise<void> {
    const node = await this.node(nodeId);
    if (node.status === 'trashed') throw new InputError({ _form: 'ごみ箱にあるページには予約を設定できません。' });
    if (when.publishAt && when.unpublishAt && when.unpublishAt <= when.publishAt) throw new InputError({ unpublishAt: '公開終了日時は公開開始日時より後にしてください。' });
    if (when.publishAt && when.deleteAt && when.deleteAt <= when.publishAt) throw new InputError({ deleteAt: '削除日時は公開開始日時より後にしてください。' });
    if (node.parent_id === null && when.deleteAt) throw new InputError({ deleteAt: 'サイトのトップページは削除できません。' });
    const fmt = (d: Date | null | undefined) => (d ? d.toISOString() : null);
    const deleteAt = when.deleteAt === undefined ? node.delete_at : fmt(when.deleteAt);
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('cms_nodes').set({ publish_at: fmt(when.publishAt), unpublish_at: fmt(when.unpublishAt), delete_at: deleteAt, updated_at: nowIso() }).where('id', '=', nodeId).execute();
      await this.deps.audit.record(
        {
          actor: actor ? actorRef(actor) : null,
          organizationId: node.organization_id,
          ...meta,
          action: 'cms.schedule',
          targetType: 'cms_node',
          targetId: nodeId,
          summary: `${node.path} の公開予約を設定しました（開始: ${fmt(when.publishAt) ?? 'なし'}、終了: ${fmt(when.unpublishAt) ?? 'なし'}、削除: ${deleteAt ?? 'なし'}）`,
        },
        tx,
      );
    });
  }

  /**
   * Runs what is due: drafts whose publish time has come go live, live pages whose end time has
   * come are taken down, pages whose deletion time has come go to the trash. Called every minute
   * by the job runner (one node at a time).
   */
  async runSchedule(now = new Date()): Promise<{ published: number; unpublished: number; trashed: number }> {
    const iso = now.toISOString();
    const due = await this.deps.db.selectFrom('cms_nodes').select(['id']).where('publish_at', '<=', iso).where('status', '!=', 'trashed').execute();
    const meta = { ip: 'scheduler', userAgent: 'machimado jobs' };
    for (const { id } of due) {
      await this.deps.db.updateTable('cms_nodes').set({ publish_at: null }).where('id', '=', id).execute();
      await this.publish(null, id, meta);
    }
    const ending = await this.deps.db.selectFrom('cms_nodes').select(['id']).where('unpublish_at', '<=', iso).where('status', '=', 'published').execute();
    for (const { id } of ending) await this.unpublish(null, id, meta, '（予約による自動終了）');
    // A folder and a page below it may both be due: the folder takes the page with it, the page is then skipped.
    const deleting = await this.deps.db.selectFrom('cms_nodes').select(['id']).where('delete_at', '<=', iso).where('status', '!=', 'trashed').orderBy('path').execute();
    let trashed = 0;
    for (const { id } of deleting) {
      const r = await this.trash(null, id, meta, '予約による自動削除');
      if (r.count) trashed++;
    }
    return { published: due.length, unpublished: ending.length, trashed };
  }

  /** The node and every node below it that is not already in the trash, top first. */
  private async liveSubtree(tx: Kysely<Database>, root: CmsNode): Promise<CmsNode[]> {
    const out: CmsNode[] = [root];
    let level = [root.id];
    while (level.length) {
      const kids = await tx.selectFrom('cms_nodes').selectAll().where('parent_id', 'in', level).where('status', '!=', 'trashed').execute();
      out.push(...kids);
      level = kids.map((k) => k.id);
    }
    return out;
  }

  /**
   * Moves a page or a folder with everything below it to the trash: off the public site, out of
   * search, lists, feeds and the sitemap at once. Its address is freed meanwhile; restoreFromTrash
   * brings it back. Nodes already in the trash below it keep their own entry.
   */
  async trash(actor: Actor | null, nodeId: number, meta: RequestMeta, reason: string | null = null): Promise<{ count: number }> {
    const node = await this.node(nodeId);
    if (node.parent_id === null) throw new InputError({ _form: 'サイトのトップページ（最上位のフォルダ）は削除できません。' });
    if (node.status === 'trashed') return { count: 0 };
    const at = nowIso();
    const result = await this.deps.db.transaction().execute(async (tx) => {
      // Re-read inside the transaction: a concurrent trash of a folder above may have taken it.
      const fresh = await tx.selectFrom('cms_nodes').selectAll().where('id', '=', nodeId).where('status', '!=', 'trashed').executeTakeFirst();
      if (!fresh) return { count: 0, title: '' };
      const subtree = await this.liveSubtree(tx, fresh);
      const ids = subtree.map((n) => n.id);
      // One statement per table for the whole subtree (a folder may hold hundreds of pages).
      for (let i = 0; i < subtree.length; i += 500) {
        const chunk = subtree.slice(i, i + 500);
        await tx
          .insertInto('cms_trash')
          .values(chunk.map((n) => ({ node_id: n.id, root_id: fresh.id, original_path: n.path, original_status: n.status as 'draft' | 'published' | 'withdrawn', trashed_at: at, trashed_by: actor?.id || null, reason })))
          .execute();
        await tx
          .updateTable('cms_nodes')
          .set({ status: 'trashed', path: sql<string>`${trashPath(fresh.id, '')} || ${sql.ref('path')}`, publish_at: null, unpublish_at: null, delete_at: null, updated_by: actor?.id || null, updated_at: at })
          .where('id', 'in', chunk.map((n) => n.id))
          .execute();
      }
      const live = new Map((await tx.selectFrom('cms_versions').selectAll().where('id', 'in', subtree.map((n) => n.published_version_id ?? -1)).execute()).map((v) => [v.id, v]));
      for (const n of subtree) {
        if (this.deps.search && n.status === 'published') await this.deps.search.remove(`page:${n.id}`, tx);
        await this.runHooks(tx, { node: { ...n, status: 'trashed' }, version: n.published_version_id ? (live.get(n.published_version_id) ?? null) : null, kind: 'trash' });
      }
      await tx.deleteFrom('cms_edit_locks').where('node_id', 'in', ids).execute();
      const title = (await this.versionIn(tx, fresh.draft_version_id ?? fresh.published_version_id))?.title ?? fresh.path;
      await this.deps.audit.record(
        {
          actor: actor ? actorRef(actor) : null,
          organizationId: fresh.organization_id,
          ...meta,
          action: 'cms.trash',
          targetType: 'cms_node',
          targetId: fresh.id,
          summary: `「${title}」（${fresh.path}）をごみ箱に移しました${subtree.length > 1 ? `（配下の ${subtree.length - 1} 件を含む）` : ''}${reason ? `（${reason}）` : ''}`,
          details: { count: subtree.length },
        },
        tx,
      );
      return { count: subtree.length, title };
    });
    if (result.count) await this.announce({ siteId: node.site_id, nodeId, path: node.path, kind: 'trash' });
    return { count: result.count };
  }

  /**
   * Brings a node and its subtree back from the trash at its old address (under its parent's
   * current path), never public: pages that had been published come back withdrawn, others as
   * drafts. A parent still in the trash, or a new page now at one of the addresses, is reported.
   */
  async restoreFromTrash(actor: Actor | null, nodeId: number, meta: RequestMeta): Promise<{ count: number; path: string }> {
    const node = await this.node(nodeId);
    const entry = await this.deps.db.selectFrom('cms_trash').selectAll().where('node_id', '=', nodeId).executeTakeFirst();
    if (!entry || node.status !== 'trashed') throw new InputError({ _form: 'このページはごみ箱にありません。' });
    if (entry.root_id !== nodeId) {
      const root = await this.deps.db.selectFrom('cms_trash').select('original_path').where('node_id', '=', entry.root_id).executeTakeFirst();
      throw new InputError({ _form: `このページはフォルダ（${root?.original_path ?? ''}）と一緒にごみ箱に入っています。そのフォルダを戻してください。` });
    }
    const parent = node.parent_id === null ? undefined : await this.node(node.parent_id).catch(() => undefined);
    if (!parent) throw new InputError({ _form: '戻す先のフォルダが見つかりません。' });
    if (parent.status === 'trashed') {
      const p = await this.deps.db.selectFrom('cms_trash').select('original_path').where('node_id', '=', parent.id).executeTakeFirst();
      throw new InputError({ _form: `親フォルダ（${p?.original_path ?? parent.path}）もごみ箱にあります。先に親フォルダを戻してください。` });
    }
    const rows = await this.deps.db.selectFrom('cms_trash').innerJoin('cms_nodes', 'cms_nodes.id', 'cms_trash.node_id').selectAll('cms_nodes').select('cms_trash.original_path as original_path').where('cms_trash.root_id', '=', nodeId).execute();
    const rootPath = `${parent.path}${node.slug}${node.kind === 'folder' ? '/' : ''}`;
    const target = rows.map((r) => ({ row: r, path: rootPath + r.original_path.slice(entry.original_path.length) }));
    const conflictMessage = async (): Promise<InputError> => {
      const taken = await this.deps.db
        .selectFrom('cms_nodes')
        .leftJoin('cms_versions', (j) => j.on((eb) => eb('cms_versions.id', '=', eb.fn.coalesce('cms_nodes.draft_version_id', 'cms_nodes.published_version_id'))))
        .select(['cms_nodes.path as path', 'cms_versions.title as title'])
        .where('cms_nodes.site_id', '=', node.site_id)
        .where('cms_nodes.path', 'in', target.map((t) => t.path))
        .where('cms_nodes.status', '!=', 'trashed')
        .execute();
      const list = taken.map((t) => `${t.path}（${t.title ?? ''}）`).join('、');
      return new InputError({ _form: `次のURLには既に別のページがあるため、元に戻せません: ${list}。そのページのURLを変えるかごみ箱に移してから、もう一度戻してください。` });
    };
    const clash = await this.deps.db.selectFrom('cms_nodes').select('id').where('site_id', '=', node.site_id).where('path', 'in', target.map((t) => t.path)).where('status', '!=', 'trashed').executeTakeFirst();
    if (clash) throw await conflictMessage();
    const at = nowIso();
    try {
      await this.deps.db.transaction().execute(async (tx) => {
        const live = new Map((await tx.selectFrom('cms_versions').selectAll().where('id', 'in', target.map((t) => t.row.published_version_id ?? -1)).execute()).map((v) => [v.id, v]));
        for (const { row, path } of target) {
          const { original_path: _, ...n } = row;
          const status = n.published_version_id !== null ? 'withdrawn' : 'draft';
          await tx.updateTable('cms_nodes').set({ status, path, updated_by: actor?.id || null, updated_at: at }).where('id', '=', n.id).execute();
          await this.runHooks(tx, { node: { ...n, status, path }, version: n.published_version_id ? (live.get(n.published_version_id) ?? null) : null, kind: 'restore' });
        }
        await tx.deleteFrom('cms_trash').where('root_id', '=', nodeId).execute();
        const title = (await this.versionIn(tx, node.draft_version_id ?? node.published_version_id))?.title ?? rootPath;
        await this.deps.audit.record(
          {
            actor: actor ? actorRef(actor) : null,
            organizationId: node.organization_id,
            ...meta,
            action: 'cms.trash_restore',
            targetType: 'cms_node',
            targetId: nodeId,
            summary: `「${title}」（${rootPath}）をごみ箱から戻しました（非公開${target.length > 1 ? `、配下の ${target.length - 1} 件を含む` : ''}）`,
            details: { count: target.length },
          },
          tx,
        );
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw await conflictMessage();
      throw e;
    }
    await this.announce({ siteId: node.site_id, nodeId, path: rootPath, kind: 'restore' });
    return { count: target.length, path: rootPath };
  }

  /**
   * Deletes a node the staff put in the trash, with everything below it, for good: its versions
   * go too (audit entries stay). Only nodes in the trash can be purged.
   */
  async purge(actor: Actor | null, nodeId: number, meta: RequestMeta, reason: string | null = null): Promise<{ count: number }> {
    const node = await this.node(nodeId);
    const entry = await this.deps.db.selectFrom('cms_trash').selectAll().where('node_id', '=', nodeId).executeTakeFirst();
    if (!entry || entry.root_id !== nodeId || node.status !== 'trashed') throw new InputError({ _form: 'ごみ箱に入れたページだけを完全に削除できます。' });
    return this.deps.db.transaction().execute(async (tx) => {
      // Every level below, deepest deleted first (parent_id has no cascade).
      const levels: number[][] = [[nodeId]];
      for (let level = [nodeId]; level.length; ) {
        level = (await tx.selectFrom('cms_nodes').select('id').where('parent_id', 'in', level).execute()).map((r) => r.id);
        if (level.length) levels.push(level);
      }
      const title = (await this.versionIn(tx, node.draft_version_id ?? node.published_version_id))?.title ?? entry.original_path;
      for (const level of [...levels].reverse()) await tx.deleteFrom('cms_nodes').where('id', 'in', level).execute();
      const count = levels.reduce((n, l) => n + l.length, 0);
      await this.deps.audit.record(
        {
          actor: actor ? actorRef(actor) : null,
          organizationId: node.organization_id,
          ...meta,
          action: 'cms.purge',
          targetType: 'cms_node',
          targetId: nodeId,
          summary: `「${title}」（${entry.original_path}）をごみ箱から完全に削除しました${count > 1 ? `（配下の ${count - 1} 件を含む）` : ''}${reason ? `（${reason}）` : ''}`,
          details: { count },
        },
        tx,
      );
      return { count };
    });
  }

  /** Purges what has been in the trash longer than `days` (the daily job). Returns how many entries went. */
  async purgeTrash(now: Date, days: number): Promise<number> {
    const before = new Date(now.getTime() - days * 86_400_000).toISOString();
    const due = await this.deps.db.selectFrom('cms_trash').select('node_id').whereRef('root_id', '=', 'node_id').where('trashed_at', '<', before).execute();
    const meta = { ip: 'scheduler', userAgent: 'machimado jobs' };
    let purged = 0;
    for (const { node_id } of due) {
      // A folder above may have been purged first and taken this one with it.
      const still = await this.deps.db.selectFrom('cms_trash').select('node_id').where('node_id', '=', node_id).executeTakeFirst();
      if (!still) continue;
      await this.purge(null, node_id, meta, `保存期間 ${days} 日を過ぎたため自動削除`);
      purged++;
    }
    return purged;
  }

  /** What staff put in the trash on a site, newest first: each deleted node with how many come back with it. */
  async trashList(siteId: number): Promise<TrashEntry[]> {
    const rows = await this.deps.db
      .selectFrom('cms_trash')
      .innerJoin('cms_nodes', 'cms_nodes.id', 'cms_trash.node_id')
      .leftJoin('cms_versions', (j) => j.on((eb) => eb('cms_versions.id', '=', eb.fn.coalesce('cms_nodes.draft_version_id', 'cms_nodes.published_version_id'))))
      .leftJoin('users', 'users.id', 'cms_trash.trashed_by')
      .selectAll('cms_nodes')
      .select(['cms_versions.title as working_title', 'cms_trash.original_path as original_path', 'cms_trash.trashed_at as trashed_at', 'cms_trash.reason as reason', 'users.display_name as trashed_by_name'])
      .select((eb) => eb.selectFrom('cms_trash as t2').select((e2) => e2.fn.countAll<number>().as('n')).whereRef('t2.root_id', '=', 'cms_trash.node_id').as('count'))
      .where('cms_nodes.site_id', '=', siteId)
      .whereRef('cms_trash.root_id', '=', 'cms_trash.node_id')
      .orderBy('cms_trash.trashed_at', 'desc')
      .orderBy('cms_nodes.id', 'desc')
      .execute();
    return rows.map(({ working_title, original_path, trashed_at, reason, trashed_by_name, count, ...node }) => ({
      node,
      title: working_title ?? original_path,
      originalPath: original_path,
      trashedAt: trashed_at,
      trashedBy: trashed_by_name,
      reason,
      count: Number(count ?? 1),
    }));
  }

  /**
   * Ids of the nodes on a site and/or under a path (a page's own path, or a folder's and
   * everything below it), trashed ones by the path they had: for filtering the CMS log.
   */
  async nodeIds(filter: { siteId?: number; pathPrefix?: string }): Promise<number[]> {
    const like = filter.pathPrefix ? `${filter.pathPrefix.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null;
    const rows = await this.deps.db
      .selectFrom('cms_nodes')
      .leftJoin('cms_trash', 'cms_trash.node_id', 'cms_nodes.id')
      .select('cms_nodes.id as id')
      .$if(filter.siteId !== undefined, (q) => q.where('cms_nodes.site_id', '=', filter.siteId!))
      .$if(like !== null, (q) => q.where((eb) => eb.or([sql<SqlBool>`${sql.ref('cms_nodes.path')} like ${like} escape '\\'`, sql<SqlBool>`${sql.ref('cms_trash.original_path')} like ${like} escape '\\'`])))
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Folders above a node for a staff preview, top first: their live titles when public, else their
   * working titles, so a draft under a folder not yet published still has breadcrumbs.
   */
  async previewAncestors(node: CmsNode): Promise<Array<{ node: CmsNode; title: string }>> {
    const prefixes: string[] = [];
    for (let i = node.path.indexOf('/', 0); i >= 0 && i < node.path.length - 1; i = node.path.indexOf('/', i + 1)) prefixes.push(node.path.slice(0, i + 1));
    if (!prefixes.length) return [];
    const folders = await this.deps.db
      .selectFrom('cms_nodes')
      .leftJoin('cms_versions as live', 'live.id', 'cms_nodes.published_version_id')
      .leftJoin('cms_versions as work', (j) => j.on((eb) => eb('work.id', '=', eb.fn.coalesce('cms_nodes.draft_version_id', 'cms_nodes.published_version_id'))))
      .selectAll('cms_nodes')
      .select(['live.title as live_title', 'work.title as working_title'])
      .where('cms_nodes.site_id', '=', node.site_id)
      .where('cms_nodes.path', 'in', prefixes)
      .execute();
    const out: Array<{ node: CmsNode; title: string }> = [];
    for (const prefix of prefixes) {
      const f = folders.find((x) => x.path === prefix);
      if (!f) continue;
      const { live_title, working_title, ...rest } = f;
      out.push({ node: rest, title: (this.isPublic(rest) ? live_title : working_title) ?? working_title ?? rest.path });
    }
    return out;
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
