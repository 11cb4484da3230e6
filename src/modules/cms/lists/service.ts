/**
 * The list engine (C-3-1, C-3-4): lists' settings with their pins and exclusions, and the items
 * of a list read from the live pages on every render — so a page published, withdrawn, hidden,
 * trashed or past its end time is in or out of every list at once. Knows nothing of HTTP.
 */
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { AuditService } from '../../../core/audit/index.js';
import type { Database, Db } from '../../../core/db/index.js';
import { isRowId, nowIso, parseJson } from '../../../core/db/index.js';
import { InputError, NotFoundError } from '../../../core/errors.js';
import { fieldErrors } from '../../../core/http/validate.js';
import { actorRef } from '../../../core/organizations/index.js';
import type { Actor } from '../../../core/permissions/index.js';
import type { RequestMeta } from '../../../core/auth/service.js';
import type { CmsNode, CmsVersion, ContentChange } from '../pages.js';
import { eventSpan, newsFields } from '../types/fields.js';
import { listSettingsInput, toListConfig, type ListConfig, type ListSettings, type ListSettingsInput } from './config.js';
import type { FieldErrors } from '../../../core/ui/forms.js';
import './schema.js';

/** One entry of a list as the views need it. */
export interface ListItem {
  nodeId: number;
  path: string;
  pageType: string;
  publishedAt: string | null;
  organizationId: number | null;
  createdAt: string;
  title: string;
  summary: string | null;
  fields: Record<string, unknown>;
  /** The live body, read only when a column needs it (thumbnail, summary fallback). */
  bodyHtml: string | null;
  important: boolean;
  urgent: boolean;
  eventFirst: string | null;
  eventLast: string | null;
  pinned: boolean;
}

/** A page of a list: its items, whether more follow, and the total when asked for. */
export interface ListWindow {
  items: ListItem[];
  hasMore: boolean;
  total?: number;
}

type ItemQuery = ReturnType<ListService['itemQuery']>;
/** Queries over cms_nodes as `n` joined to cms_list_facts as `f` (item queries and counts alike). */
type Scope = ExpressionBuilder<any, any>;
/** The part of a list a query reads: all of it, or its 緊急 pages, or the rest. */
type Segment = 'all' | 'urgent' | 'rest';

/** The day in Japan, 'YYYY-MM-DD'. */
function jstToday(now: Date): string {
  return new Date(now.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

/** The shortest set of prefixes that covers every path (a folder inside a hidden folder adds nothing). */
function minimalPrefixes(paths: string[]): string[] {
  const sorted = [...new Set(paths)].sort();
  const out: string[] = [];
  for (const p of sorted) if (!out.some((q) => p.startsWith(q))) out.push(p);
  return out;
}

/** `substr(path, 1, len) = prefix`: an exact prefix test on both engines, whatever the collation. */
function pathUnder(prefix: string): Expression<SqlBool> {
  return sql<SqlBool>`substr(${sql.ref('n.path')}, 1, ${sql.lit(prefix.length)}) = ${prefix}`;
}

export class ListService {
  constructor(private readonly deps: { db: Db; audit: AuditService; notify: (change: ContentChange) => Promise<void> }) {}

  // ---------------------------------------------------------------- settings

  async get(id: number): Promise<ListConfig> {
    if (!isRowId(id)) throw new NotFoundError();
    const row = await this.deps.db.selectFrom('cms_lists').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError();
    return toListConfig(row);
  }

  /** The lists a page shows after its body, in their order. */
  async listsOn(hostNodeId: number): Promise<ListConfig[]> {
    const rows = await this.deps.db.selectFrom('cms_lists').selectAll().where('host_node_id', '=', hostNodeId).orderBy('position').orderBy('id').execute();
    return rows.map(toListConfig);
  }

  async bySite(siteId: number): Promise<Array<ListConfig & { hostPath: string }>> {
    const rows = await this.deps.db
      .selectFrom('cms_lists')
      .innerJoin('cms_nodes', 'cms_nodes.id', 'cms_lists.host_node_id')
      .selectAll('cms_lists')
      .select('cms_nodes.path as host_path')
      .where('cms_lists.site_id', '=', siteId)
      .orderBy('cms_nodes.path')
      .orderBy('cms_lists.position')
      .orderBy('cms_lists.id')
      .execute();
    return rows.map(({ host_path, ...r }) => ({ ...toListConfig(r), hostPath: host_path }));
  }

  /** A node of the site at a path ('/kurashi/gomi' or '/kurashi/'), not in the trash. */
  async nodeAt(siteId: number, path: string): Promise<CmsNode | undefined> {
    const candidates = path.endsWith('/') ? [path] : [path, `${path}/`];
    return this.deps.db.selectFrom('cms_nodes').selectAll().where('site_id', '=', siteId).where('path', 'in', candidates).where('status', '!=', 'trashed').orderBy('path').executeTakeFirst();
  }

  /**
   * Validates the settings form and resolves its paths to nodes of the site: every problem at
   * once, keyed by field, so the form can show them all.
   */
  async checkSettings(siteId: number, input: ListSettingsInput): Promise<FieldErrors> {
    return (await this.readSettings(siteId, input)).errors;
  }

  private async readSettings(siteId: number, input: ListSettingsInput) {
    const parsed = listSettingsInput.safeParse(input);
    const errors: FieldErrors = parsed.success ? {} : fieldErrors(parsed.error);
    const hostPath = parsed.success ? parsed.data.hostPath : errors.hostPath ? null : String(input.hostPath ?? '').trim();
    const sourcePath = parsed.success ? parsed.data.sourcePath : errors.sourcePath ? null : String(input.sourcePath ?? '/').trim() || '/';
    const host = hostPath === null ? undefined : await this.nodeAt(siteId, hostPath);
    if (hostPath !== null && !host) errors.hostPath = `このサイトに「${hostPath}」のページはありません。URLを確かめてください。`;
    const source = sourcePath === null ? undefined : await this.nodeAt(siteId, sourcePath);
    if (sourcePath !== null && (!source || source.kind !== 'folder')) errors.sourcePath = `このサイトに「${sourcePath}」のフォルダはありません。`;
    return { errors, d: parsed.data, host };
  }

  private async settingsOrThrow(siteId: number, input: ListSettingsInput) {
    const { errors, d, host } = await this.readSettings(siteId, input);
    if (Object.keys(errors).length || !d || !host) throw new InputError(errors);
    return { d, host };
  }

  private values(d: ListSettings) {
    return {
      heading: d.heading,
      position: d.position,
      source_path: d.sourcePath,
      page_types: JSON.stringify([...new Set(d.pageTypes)]),
      categories: JSON.stringify([...new Set(d.categories)]),
      marks: d.marks,
      item_limit: d.limit,
      show_more: d.showMore ? 1 : 0,
      columns: JSON.stringify([...new Set(d.columns)]),
      date_format: d.dateFormat,
      sort: d.sort,
      urgent_first: d.urgentFirst ? 1 : 0,
    };
  }

  /** Creates a list on a page of the site; the page shows it from the next request on. */
  async create(actor: Actor | null, siteId: number, input: ListSettingsInput, meta: RequestMeta): Promise<number> {
    const { d, host } = await this.settingsOrThrow(siteId, input);
    const at = nowIso();
    const id = await this.deps.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto('cms_lists')
        .values({ site_id: siteId, host_node_id: host.id, ...this.values(d), created_by: actor?.id || null, updated_by: actor?.id || null, created_at: at, updated_at: at })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.audit(tx, actor, meta, 'cms.list_create', row.id, `一覧「${d.heading}」を ${host.path} に作成しました`);
      return row.id;
    });
    await this.deps.notify({ siteId, nodeId: host.id, path: host.path, kind: 'settings' });
    return id;
  }

  async update(actor: Actor | null, id: number, input: ListSettingsInput, meta: RequestMeta): Promise<void> {
    const list = await this.get(id);
    const { d, host } = await this.settingsOrThrow(list.siteId, input);
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('cms_lists').set({ host_node_id: host.id, ...this.values(d), updated_by: actor?.id || null, updated_at: nowIso() }).where('id', '=', id).execute();
      await this.audit(tx, actor, meta, 'cms.list_update', id, `一覧「${d.heading}」（${host.path}）の設定を変更しました`);
    });
    await this.deps.notify({ siteId: list.siteId, nodeId: host.id, path: host.path, kind: 'settings' });
  }

  async remove(actor: Actor | null, id: number, meta: RequestMeta): Promise<void> {
    const list = await this.get(id);
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('cms_lists').where('id', '=', id).execute();
      await this.audit(tx, actor, meta, 'cms.list_delete', id, `一覧「${list.heading}」を削除しました`);
    });
    await this.announce(list);
  }

  private async audit(tx: Kysely<Database>, actor: Actor | null, meta: RequestMeta, action: string, listId: number, summary: string) {
    await this.deps.audit.record({ actor: actor ? actorRef(actor) : null, organizationId: actor?.organizationId ?? null, ...meta, action, targetType: 'cms_list', targetId: listId, summary }, tx);
  }

  private async announce(list: ListConfig): Promise<void> {
    const host = await this.deps.db.selectFrom('cms_nodes').select(['id', 'path']).where('id', '=', list.hostNodeId).executeTakeFirst();
    await this.deps.notify({ siteId: list.siteId, nodeId: list.hostNodeId, path: host?.path ?? '/', kind: 'settings' });
  }

  // ---------------------------------------------------------------- pins, exclusions, manual order (C-3-4)

  /** Node ids of a role in order (pins and manual positions by position). */
  async itemIds(listId: number, role: 'pin' | 'exclude' | 'order'): Promise<number[]> {
    const rows = await this.deps.db.selectFrom('cms_list_items').select('node_id').where('list_id', '=', listId).where('role', '=', role).orderBy('position').orderBy('node_id').execute();
    return rows.map((r) => r.node_id);
  }

  /** A page of the list's site that may be pinned or excluded, or an input error. */
  private async pageOfSite(list: ListConfig, nodeId: number): Promise<CmsNode> {
    const node = isRowId(nodeId) ? await this.deps.db.selectFrom('cms_nodes').selectAll().where('id', '=', nodeId).executeTakeFirst() : undefined;
    if (!node || node.site_id !== list.siteId || node.kind !== 'page' || node.status === 'trashed') throw new InputError({ nodeId: 'このサイトのページを選んでください。' });
    return node;
  }

  /** Replaces the node ids of a role with the given order, in one transaction with its audit entry. */
  private async writeRole(actor: Actor | null, list: ListConfig, role: 'pin' | 'exclude' | 'order', ids: number[], meta: RequestMeta, action: string, summary: string, also?: (tx: Kysely<Database>) => Promise<void>) {
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('cms_list_items').where('list_id', '=', list.id).where('role', '=', role).execute();
      if (ids.length) await tx.insertInto('cms_list_items').values(ids.map((node_id, position) => ({ list_id: list.id, node_id, role, position }))).execute();
      await also?.(tx);
      await tx.updateTable('cms_lists').set({ updated_by: actor?.id || null, updated_at: nowIso() }).where('id', '=', list.id).execute();
      await this.audit(tx, actor, meta, action, list.id, summary);
    });
    await this.announce(list);
  }

  /** 固定表示: puts a page at the end of the pinned items (it leaves the exclusions). */
  async pin(actor: Actor | null, listId: number, nodeId: number, meta: RequestMeta): Promise<void> {
    const list = await this.get(listId);
    const node = await this.pageOfSite(list, nodeId);
    const pins = await this.itemIds(listId, 'pin');
    if (pins.includes(node.id)) return;
    await this.writeRole(actor, list, 'pin', [...pins, node.id], meta, 'cms.list_pin', `一覧「${list.heading}」に ${node.path} を固定表示しました`, async (tx) => {
      await tx.deleteFrom('cms_list_items').where('list_id', '=', listId).where('role', '=', 'exclude').where('node_id', '=', node.id).execute();
    });
  }

  async unpin(actor: Actor | null, listId: number, nodeId: number, meta: RequestMeta): Promise<void> {
    const list = await this.get(listId);
    const pins = await this.itemIds(listId, 'pin');
    if (!pins.includes(nodeId)) return;
    await this.writeRole(actor, list, 'pin', pins.filter((id) => id !== nodeId), meta, 'cms.list_unpin', `一覧「${list.heading}」の固定表示を外しました（ページ ${nodeId}）`);
  }

  /** Moves a pinned page one place up or down. */
  async movePin(actor: Actor | null, listId: number, nodeId: number, direction: 'up' | 'down', meta: RequestMeta): Promise<void> {
    const list = await this.get(listId);
    const pins = await this.itemIds(listId, 'pin');
    const moved = swap(pins, nodeId, direction);
    if (!moved) return;
    await this.writeRole(actor, list, 'pin', moved, meta, 'cms.list_reorder', `一覧「${list.heading}」の固定表示の順番を変えました`);
  }

  /** Leaves a single page out of the list (it also stops being pinned). */
  async exclude(actor: Actor | null, listId: number, nodeId: number, meta: RequestMeta): Promise<void> {
    const list = await this.get(listId);
    const node = await this.pageOfSite(list, nodeId);
    const excluded = await this.itemIds(listId, 'exclude');
    if (excluded.includes(node.id)) return;
    await this.writeRole(actor, list, 'exclude', [...excluded, node.id], meta, 'cms.list_exclude', `一覧「${list.heading}」から ${node.path} を除外しました`, async (tx) => {
      await tx.deleteFrom('cms_list_items').where('list_id', '=', listId).where('role', 'in', ['pin', 'order']).where('node_id', '=', node.id).execute();
    });
  }

  async include(actor: Actor | null, listId: number, nodeId: number, meta: RequestMeta): Promise<void> {
    const list = await this.get(listId);
    const excluded = await this.itemIds(listId, 'exclude');
    if (!excluded.includes(nodeId)) return;
    await this.writeRole(actor, list, 'exclude', excluded.filter((id) => id !== nodeId), meta, 'cms.list_include', `一覧「${list.heading}」の除外を取り消しました（ページ ${nodeId}）`);
  }

  /**
   * Manual order: fixes the positions of the items now shown (after the pins) and moves one of
   * them a place up or down. Pages published later come after the placed ones, newest first.
   */
  async moveItem(actor: Actor | null, listId: number, nodeId: number, direction: 'up' | 'down', meta: RequestMeta, now = new Date()): Promise<void> {
    const list = await this.get(listId);
    const shown = (await this.window(list, { offset: 0, limit: list.limit, now })).items.filter((i) => !i.pinned).map((i) => i.nodeId);
    const moved = swap(shown, nodeId, direction);
    if (!moved) return;
    await this.writeRole(actor, list, 'order', moved, meta, 'cms.list_reorder', `一覧「${list.heading}」の並び順を変えました`);
  }

  /** Pages by id with their working title and state, in the given order (for the admin panels). */
  async describeNodes(ids: number[]): Promise<Array<{ id: number; path: string; title: string; status: string; hidden: boolean }>> {
    if (!ids.length) return [];
    const rows = await this.deps.db
      .selectFrom('cms_nodes')
      .leftJoin('cms_versions', (j) => j.on((eb) => eb('cms_versions.id', '=', eb.fn.coalesce('cms_nodes.published_version_id', 'cms_nodes.draft_version_id'))))
      .select(['cms_nodes.id as id', 'cms_nodes.path as path', 'cms_nodes.status as status', 'cms_nodes.temporarily_hidden as hidden', 'cms_versions.title as title'])
      .where('cms_nodes.id', 'in', ids)
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      return r ? [{ id, path: r.path, title: r.title ?? r.path, status: r.status, hidden: r.hidden === 1 }] : [];
    });
  }

  // ---------------------------------------------------------------- items (C-3-1)

  /** Folder paths of the site the public cannot see (draft, withdrawn, hidden, trashed): their pages are out. */
  private async blockedPrefixes(siteId: number): Promise<string[]> {
    const rows = await this.deps.db
      .selectFrom('cms_nodes')
      .select('path')
      .where('site_id', '=', siteId)
      .where('kind', '=', 'folder')
      .where((eb) => eb.or([eb('status', '!=', 'published'), eb('temporarily_hidden', '=', 1)]))
      .execute();
    return minimalPrefixes(rows.map((r) => r.path));
  }

  /**
   * Pages of a site the public may see right now: published, not hidden, not past their end
   * time, and under no folder the public cannot see. A condition on `n` (cms_nodes) and `f`
   * (cms_list_facts), so item queries and counts share it.
   */
  private liveWhere(siteId: number, blocked: string[], now: Date) {
    return (eb: Scope) =>
      eb.and([
        eb('n.site_id', '=', siteId),
        eb('n.status', '=', 'published'),
        eb('n.temporarily_hidden', '=', 0),
        eb('n.kind', '=', 'page'),
        eb('n.published_version_id', 'is not', null),
        eb.or([eb('n.unpublish_at', 'is', null), eb('n.unpublish_at', '>', nowIso(now))]),
        ...(blocked.length ? [eb.not(eb.or(blocked.map(pathUnder)))] : []),
      ]);
  }

  /** The list's own source: folder, page types, categories, marks; minus pins and exclusions; one segment of it. */
  private sourceWhere(list: ListConfig, blocked: string[], now: Date, segment: Segment) {
    return (eb: Scope) => {
      const parts: Array<Expression<SqlBool>> = [
        this.liveWhere(list.siteId, blocked, now)(eb),
        eb('n.id', 'not in', eb.selectFrom('cms_list_items').select('node_id').where('list_id', '=', list.id).where('role', 'in', ['pin', 'exclude'])),
      ];
      if (list.sourcePath !== '/') parts.push(pathUnder(list.sourcePath));
      if (list.pageTypes.length) parts.push(eb('n.page_type', 'in', list.pageTypes));
      if (list.categories.length) parts.push(eb.exists(eb.selectFrom('cms_node_categories as nc').select('nc.node_id').whereRef('nc.node_id', '=', 'n.id').where('nc.category_id', 'in', list.categories)));
      if (list.marks === 'important') parts.push(eb('f.important', '=', 1));
      else if (list.marks === 'urgent') parts.push(eb('f.urgent', '=', 1));
      else if (list.marks === 'marked') parts.push(eb.or([eb('f.important', '=', 1), eb('f.urgent', '=', 1)]));
      if (list.sort === 'event') parts.push(eb('f.event_last', '>=', jstToday(now)));
      if (segment === 'urgent') parts.push(eb('f.urgent', '=', 1));
      else if (segment === 'rest') parts.push(eb.or([eb('f.urgent', 'is', null), eb('f.urgent', '=', 0)]));
      return eb.and(parts);
    };
  }

  /** Live pages with their live version and facts, as lists show them. */
  private itemQuery(withBody: boolean) {
    return this.deps.db
      .selectFrom('cms_nodes as n')
      .innerJoin('cms_versions as v', 'v.id', 'n.published_version_id')
      .leftJoin('cms_list_facts as f', 'f.node_id', 'n.id')
      .select([
        'n.id as node_id',
        'n.path as path',
        'n.page_type as page_type',
        'n.published_at as published_at',
        'n.organization_id as organization_id',
        'n.created_at as created_at',
        'v.title as title',
        'v.summary as summary',
        'v.fields as fields',
        'f.important as important',
        'f.urgent as urgent',
        'f.event_first as event_first',
        'f.event_last as event_last',
      ])
      .$if(withBody, (q) => q.select('v.body_html as body_html'));
  }

  private baseQuery(siteId: number, blocked: string[], now: Date, withBody: boolean): ItemQuery {
    return this.itemQuery(withBody).where(this.liveWhere(siteId, blocked, now));
  }

  /** How many pages a segment of the list holds (no version join: the index on nodes answers it). */
  private async count(list: ListConfig, blocked: string[], now: Date, segment: Segment): Promise<number> {
    const r = await this.deps.db
      .selectFrom('cms_nodes as n')
      .leftJoin('cms_list_facts as f', 'f.node_id', 'n.id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(this.sourceWhere(list, blocked, now, segment))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  private ordered(q: ItemQuery, list: ListConfig): ItemQuery {
    switch (list.sort) {
      case 'oldest':
        return q.orderBy('n.published_at', 'asc').orderBy('n.id', 'asc');
      case 'title':
        return q.orderBy('v.title', 'asc').orderBy('n.id', 'asc');
      case 'event':
        return q.orderBy('f.event_first', 'asc').orderBy('f.event_last', 'asc').orderBy('n.id', 'asc');
      case 'manual':
        return q
          .leftJoin('cms_list_items as o', (j) => j.onRef('o.node_id', '=', 'n.id').on('o.list_id', '=', list.id).on('o.role', '=', 'order'))
          .orderBy(sql`case when ${sql.ref('o.position')} is null then 1 else 0 end`)
          .orderBy('o.position', 'asc')
          .orderBy('n.published_at', 'desc')
          .orderBy('n.id', 'desc') as unknown as ItemQuery;
      default:
        return q.orderBy('n.published_at', 'desc').orderBy('n.id', 'desc');
    }
  }

  private toItem(r: Awaited<ReturnType<ItemQuery['execute']>>[number], pinned: boolean): ListItem {
    return {
      nodeId: r.node_id,
      path: r.path,
      pageType: r.page_type,
      publishedAt: r.published_at,
      organizationId: r.organization_id,
      createdAt: r.created_at,
      title: r.title,
      summary: r.summary,
      fields: parseJson<Record<string, unknown>>(r.fields, {}),
      bodyHtml: (r as { body_html?: string }).body_html ?? null,
      important: r.important === 1,
      urgent: r.urgent === 1,
      eventFirst: r.event_first,
      eventLast: r.event_last,
      pinned,
    };
  }

  /** Pinned pages the public can see now, in the administrators' order (pinned pages need not match the source). */
  private async pinned(list: ListConfig, blocked: string[], now: Date, withBody: boolean): Promise<ListItem[]> {
    const ids = await this.itemIds(list.id, 'pin');
    if (!ids.length) return [];
    const rows = await this.baseQuery(list.siteId, blocked, now, withBody).where('n.id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.node_id, r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      return r ? [this.toItem(r, true)] : [];
    });
  }

  /**
   * A window of the list in display order: pinned pages, then (when set) 緊急 pages, then the
   * rest by the sort rule. `offset`/`limit` page through it; `withTotal` also counts it.
   * @example await lists.window(list, { offset: 0, limit: list.limit })
   */
  async window(list: ListConfig, opts: { offset?: number; limit?: number; now?: Date; withTotal?: boolean; withBody?: boolean } = {}): Promise<ListWindow> {
    const now = opts.now ?? new Date();
    const offset = Math.max(0, opts.offset ?? 0);
    const limit = Math.max(1, opts.limit ?? list.limit);
    const withBody = opts.withBody ?? false;
    const blocked = await this.blockedPrefixes(list.siteId);
    const pins = await this.pinned(list, blocked, now, withBody);
    const segments: Segment[] = list.urgentFirst && list.marks !== 'urgent' ? ['urgent', 'rest'] : ['all'];

    const out: ListItem[] = pins.slice(offset, offset + limit + 1);
    let skip = Math.max(0, offset - pins.length);
    for (const [i, segment] of segments.entries()) {
      if (out.length > limit) break;
      const rows = await this.ordered(this.itemQuery(withBody).where(this.sourceWhere(list, blocked, now, segment)), list)
        .offset(skip)
        .limit(limit + 1 - out.length)
        .execute();
      out.push(...rows.map((r) => this.toItem(r, false)));
      // Rows skipped past a whole segment carry over to the next one.
      if (i < segments.length - 1) skip = rows.length ? 0 : Math.max(0, skip - (await this.count(list, blocked, now, segment)));
    }
    const window: ListWindow = { items: out.slice(0, limit), hasMore: out.length > limit };
    if (opts.withTotal) window.total = pins.length + (await this.count(list, blocked, now, 'all'));
    return window;
  }

  // ---------------------------------------------------------------- facts (publish hook)

  /** Stores what lists and the calendar sort and filter on, from the version going live. */
  async recordFacts(tx: Kysely<Database>, node: CmsNode, version: CmsVersion): Promise<void> {
    const fields = parseJson<Record<string, unknown>>(version.fields, {});
    const news = newsFields(fields);
    const span = eventSpan(fields);
    const facts = { important: news?.important ? 1 : 0, urgent: news?.urgent ? 1 : 0, event_first: span?.first ?? null, event_last: span?.last ?? null };
    await tx
      .insertInto('cms_list_facts')
      .values({ node_id: node.id, ...facts })
      .onConflict((oc) => oc.column('node_id').doUpdateSet(facts))
      .execute();
  }

  async dropFacts(tx: Kysely<Database>, nodeId: number): Promise<void> {
    await tx.deleteFrom('cms_list_facts').where('node_id', '=', nodeId).execute();
  }

  /** Rebuilds the facts of every live page (after an import, or for pages published before this feature). */
  async rebuildFacts(): Promise<number> {
    const rows = await this.deps.db
      .selectFrom('cms_nodes')
      .innerJoin('cms_versions', 'cms_versions.id', 'cms_nodes.published_version_id')
      .selectAll('cms_nodes')
      .select(['cms_versions.fields as live_fields'])
      .where('cms_nodes.status', '=', 'published')
      .execute();
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('cms_list_facts').execute();
      for (const { live_fields, ...node } of rows) await this.recordFacts(tx, node, { fields: live_fields } as CmsVersion);
    });
    return rows.length;
  }

  // ---------------------------------------------------------------- events and spots

  /**
   * Live event pages of a site overlapping [from, to] ('YYYY-MM-DD'), optionally in a category.
   * Event days are expanded by the caller (repeating rules, spans).
   */
  async eventsBetween(siteId: number, from: string, to: string, opts: { category?: number; now?: Date; limit?: number } = {}): Promise<ListItem[]> {
    const now = opts.now ?? new Date();
    const blocked = await this.blockedPrefixes(siteId);
    const rows = await this.baseQuery(siteId, blocked, now, false)
      .where('f.event_last', '>=', from)
      .where('f.event_first', '<=', to)
      .$if(opts.category !== undefined, (q) => q.where((eb) => eb.exists(eb.selectFrom('cms_node_categories as nc').select('nc.node_id').whereRef('nc.node_id', '=', 'n.id').where('nc.category_id', '=', opts.category!))))
      .orderBy('f.event_first')
      .orderBy('n.id')
      .limit(opts.limit ?? 2000)
      .execute();
    return rows.map((r) => this.toItem(r, false));
  }

  /** Live pages of one type on a site (the spot map's spots), optionally in a category. */
  async livePagesOfType(siteId: number, pageType: string, opts: { category?: number; now?: Date; limit?: number } = {}): Promise<ListItem[]> {
    const now = opts.now ?? new Date();
    const blocked = await this.blockedPrefixes(siteId);
    const rows = await this.baseQuery(siteId, blocked, now, false)
      .where('n.page_type', '=', pageType)
      .$if(opts.category !== undefined, (q) => q.where((eb) => eb.exists(eb.selectFrom('cms_node_categories as nc').select('nc.node_id').whereRef('nc.node_id', '=', 'n.id').where('nc.category_id', '=', opts.category!))))
      .orderBy('n.sort_order')
      .orderBy('v.title')
      .orderBy('n.id')
      .limit(opts.limit ?? 2000)
      .execute();
    return rows.map((r) => this.toItem(r, false));
  }
}

/** The ids with one moved a place up or down, or null when it cannot move. */
function swap(ids: number[], id: number, direction: 'up' | 'down'): number[] | null {
  const at = ids.indexOf(id);
  const to = direction === 'up' ? at - 1 : at + 1;
  if (at < 0 || to < 0 || to >= ids.length) return null;
  const out = [...ids];
  [out[at], out[to]] = [out[to]!, out[at]!];
  return out;
}
