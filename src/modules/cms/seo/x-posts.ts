/**
 * Posting to X when a page is first published (optional per site). Publishing never waits on X:
 * the change listener (after commit) records the text to send and queues a job; the job posts
 * through XClient and records the outcome per page. A 429 waits for X's announced reset, 5xx and
 * time-outs retry with back-off, a duplicate-content 403 counts as done-not-posted.
 */
import type { Selectable } from 'kysely';
import type { AuditService } from '../../../core/audit/index.js';
import type { RequestMeta } from '../../../core/auth/service.js';
import type { Db } from '../../../core/db/index.js';
import { nowIso } from '../../../core/db/index.js';
import type { JobContext, JobDefinition, JobRunner } from '../../../core/jobs/index.js';
import type { Logger } from '../../../core/log.js';
import { actorRef } from '../../../core/organizations/index.js';
import type { Actor } from '../../../core/permissions/index.js';
import { XClient, XDuplicateError, XRateLimitError, type XApiError } from '../../sns/x-client.js';
import type { OAuth1Credentials } from '../../sns/oauth1.js';
import { truncateForPost } from '../../sns/x-text.js';
import type { ContentChange, PageService } from '../pages.js';
import type { Site, SiteService } from '../sites.js';
import type { CmsXPostTable, XPostStatus } from './schema.js';
import type { SiteSecrets } from './secrets.js';
import type { SeoEndpoints } from './services.js';

export const X_POST_JOB = 'cms.seo.x_post';
export type XPostRow = Selectable<CmsXPostTable>;

/** A publication counts as the first when the page's first-publication time is this fresh. */
const FIRST_PUBLICATION_WINDOW_MS = 10 * 60_000;
/** Tries through the job runner for 5xx and time-outs (1, 2, 4, 8, 16 minutes apart). */
const MAX_ATTEMPTS = 6;
/** Waits for X's rate-limit reset before giving up. */
const MAX_RATE_WAITS = 10;

export const X_POST_STATUS: Record<XPostStatus, string> = {
  queued: '送信待ち',
  posted: '投稿済み',
  duplicate: '投稿済みとみなす（同じ内容が既にX上にあります）',
  failed: '失敗',
};

export interface XPostDeps {
  db: Db;
  audit: AuditService;
  jobs: JobRunner;
  sites: SiteService;
  pages: PageService;
  secrets: SiteSecrets;
  endpoints: SeoEndpoints;
  log: Logger;
  /** The installation's public URL (BASE_URL): scheme, and host for sites without their own. */
  baseUrl: () => string;
}

/** The absolute address of a page as announced outside (no request to take the host from). */
export function publicPageUrl(site: Site, path: string, baseUrl: string): string {
  const base = new URL(baseUrl);
  const origin = site.host ? `${base.protocol}//${site.host}` : base.origin;
  return `${origin}${site.pathPrefix}${path}`;
}

/** The job that sends queued posts; `service` is looked up when it runs (the CMS is built after the jobs). */
export function xPostJob(service: () => XPostService | undefined): JobDefinition<{ postId: number }> {
  return {
    name: X_POST_JOB,
    label: 'ページ公開のX投稿',
    maxAttempts: MAX_ATTEMPTS,
    backoffSeconds: (attempt) => Math.min(60 * 2 ** Math.max(0, attempt - 1), 3600),
    timeoutMs: 60_000,
    handler: async (payload, ctx) => {
      const s = service();
      if (!s) throw new Error('cms.seo is not installed');
      return s.send(payload.postId, ctx);
    },
  };
}

export class XPostService {
  constructor(private readonly deps: XPostDeps) {}

  /**
   * After a change commits: a page published for the first time on a site with X posting on is
   * queued. Never throws (a publish must not fail because of X).
   */
  async onChange(change: ContentChange): Promise<void> {
    if (change.kind !== 'publish') return;
    try {
      await this.queue(change.siteId, change.nodeId);
    } catch (err) {
      this.deps.log.error({ err, nodeId: change.nodeId }, 'could not queue the X post of a published page');
    }
  }

  private async queue(siteId: number, nodeId: number): Promise<number | null> {
    const site = await this.deps.sites.get(siteId);
    if (!site?.settings.xPostEnabled) return null;
    const node = await this.deps.pages.node(nodeId);
    if (node.kind !== 'page' || !node.published_at) return null;
    // Re-publishing (an edit, or after a withdrawal) keeps the first publication time: not announced again.
    if (Date.now() - Date.parse(node.published_at) > FIRST_PUBLICATION_WINDOW_MS) return null;
    const found = await this.deps.pages.findPublic(siteId, node.path);
    if (!found) return null;
    const url = publicPageUrl(site, node.path, this.deps.baseUrl());
    const text = truncateForPost(found.version.title, { url });
    const id = await this.deps.db.transaction().execute(async (tx) => {
      const now = nowIso();
      const row = await tx
        .insertInto('cms_x_posts')
        .values({ site_id: siteId, node_id: nodeId, text, url, status: 'queued', post_id: null, attempts: 0, last_error: null, created_at: now, updated_at: now, posted_at: null })
        .onConflict((oc) => oc.column('node_id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (row) await this.deps.jobs.enqueue(X_POST_JOB, { postId: row.id }, { uniqueKey: `${X_POST_JOB}:${row.id}:0` }, tx);
      return row?.id ?? null;
    });
    if (id !== null) this.deps.jobs.wake();
    return id;
  }

  private async finish(id: number, status: XPostStatus, fields: { post_id?: string; last_error?: string | null } = {}): Promise<{ status: XPostStatus }> {
    const now = nowIso();
    await this.deps.db
      .updateTable('cms_x_posts')
      .set({ status, updated_at: now, ...(status === 'posted' ? { posted_at: now } : {}), ...fields })
      .where('id', '=', id)
      .execute();
    return { status };
  }

  /** Sends one queued post (the job's handler). */
  async send(postId: number, ctx: Pick<JobContext, 'attempt' | 'log'>): Promise<unknown> {
    const row = await this.deps.db.selectFrom('cms_x_posts').selectAll().where('id', '=', postId).executeTakeFirst();
    if (!row || row.status !== 'queued') return { status: row?.status ?? 'missing' };
    const site = await this.deps.sites.get(row.site_id);
    if (!site?.settings.xPostEnabled) return this.finish(row.id, 'failed', { last_error: 'このサイトのX投稿が無効になっているため送りませんでした。' });
    const credentials = await this.deps.secrets.get<OAuth1Credentials>(row.site_id, 'x');
    if (!credentials) return this.finish(row.id, 'failed', { last_error: 'Xの認証情報が設定されていません（サイト設定で入力してください）。' });
    const attempts = row.attempts + 1;
    await this.deps.db.updateTable('cms_x_posts').set({ attempts, updated_at: nowIso() }).where('id', '=', row.id).execute();
    const client = new XClient({ baseUrl: this.deps.endpoints.x, credentials: { kind: 'oauth1', ...credentials } });
    try {
      const post = await client.post(row.text);
      return { ...(await this.finish(row.id, 'posted', { post_id: post.id, last_error: null })), postId: post.id };
    } catch (e) {
      const err = e as XApiError;
      if (err instanceof XDuplicateError) return this.finish(row.id, 'duplicate', { last_error: err.message });
      if (err instanceof XRateLimitError && attempts < MAX_RATE_WAITS) {
        // X says when the window resets: wait for exactly that, not for the runner's back-off.
        await this.deps.db.updateTable('cms_x_posts').set({ last_error: err.message, updated_at: nowIso() }).where('id', '=', row.id).execute();
        await this.deps.jobs.enqueue(X_POST_JOB, { postId: row.id }, { runAt: err.retryAt, uniqueKey: `${X_POST_JOB}:${row.id}:${attempts}` });
        ctx.log.warn({ postId: row.id, retryAt: err.retryAt.toISOString() }, 'X rate limit; post waits for the reset');
        return { status: 'queued', retryAt: err.retryAt.toISOString() };
      }
      if (err.retryable && ctx.attempt < MAX_ATTEMPTS) {
        await this.deps.db.updateTable('cms_x_posts').set({ last_error: err.message, updated_at: nowIso() }).where('id', '=', row.id).execute();
        throw err;
      }
      return this.finish(row.id, 'failed', { last_error: err.message ?? String(e) });
    }
  }

  /** Sends a failed post again (an administrator fixed the credentials, say). */
  async retry(actor: Actor, site: Site, postId: number, meta: RequestMeta): Promise<boolean> {
    const row = await this.deps.db.selectFrom('cms_x_posts').selectAll().where('id', '=', postId).where('site_id', '=', site.id).executeTakeFirst();
    if (!row || row.status !== 'failed') return false;
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('cms_x_posts').set({ status: 'queued', attempts: 0, last_error: null, updated_at: nowIso() }).where('id', '=', row.id).execute();
      await this.deps.jobs.enqueue(X_POST_JOB, { postId: row.id }, { uniqueKey: `${X_POST_JOB}:${row.id}:retry:${Date.now()}` }, tx);
      await this.deps.audit.record({ actor: actorRef(actor), organizationId: site.organizationId, ...meta, action: 'cms.x_post_retry', targetType: 'cms_node', targetId: row.node_id, summary: `Xへの投稿を再送します: ${row.text}` }, tx);
    });
    this.deps.jobs.wake();
    return true;
  }

  /** A site's posts, newest first, with the pages' current titles. */
  async list(siteId: number, limit = 100): Promise<Array<XPostRow & { path: string | null }>> {
    return this.deps.db
      .selectFrom('cms_x_posts')
      .leftJoin('cms_nodes', 'cms_nodes.id', 'cms_x_posts.node_id')
      .selectAll('cms_x_posts')
      .select('cms_nodes.path as path')
      .where('cms_x_posts.site_id', '=', siteId)
      .orderBy('cms_x_posts.id', 'desc')
      .limit(limit)
      .execute();
  }
}
