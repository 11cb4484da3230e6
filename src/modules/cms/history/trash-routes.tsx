import type { Actor } from '../../../core/permissions/index.js';
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { requestMeta } from '../../../core/http/app.js';
import { renderError } from '../../../core/http/errors.js';
import { readForm, str } from '../../../core/http/validate.js';
import { InputError } from '../../../core/errors.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { Csrf, ErrorSummary, Notice, TextField, type FieldErrors } from '../../../core/ui/forms.js';
import { formatDateTime, viewOf } from '../../../core/ui/view.js';
import { actorOf, requirePermission } from '../../admin/guards.js';
import { jstClock, mayTouchNode } from '../admin-routes.js';
import type { CmsServices } from '../index.js';
import type { CmsNode } from '../pages.js';
import { historyOf } from './services.js';

/**
 * 削除 and the trash: the confirmation before a page or folder goes to the trash, the trash list
 * of each site with restore and permanent deletion, and how long the trash keeps things.
 */
export function mountTrashRoutes(app: Hono<AppEnv>, p: Platform, cms: CmsServices) {
  const { locks, trash: settings } = historyOf(p);

  const loadNode = async (c: Context<AppEnv>): Promise<CmsNode | null> => {
    const node = await cms.pages.node(Number(c.req.param('id'))).catch(() => null);
    return node && (await mayTouchNode(p, actorOf(c), node)) ? node : null;
  };

  /** Nodes of the subtree that are live on the public site: taking them down needs cms.publish. */
  const subtreeOf = async (node: CmsNode) => (await cms.pages.tree(node.site_id)).filter((n) => n.path.startsWith(node.path) && (n.path === node.path || node.kind === 'folder'));

  /** Whether some node under a folder (trashed or not) belongs to an organisation the actor cannot reach. */
  const holdsForeign = async (actor: Actor, node: CmsNode): Promise<boolean> => {
    if (node.kind !== 'folder') return false;
    const below = await p.db.selectFrom('cms_nodes').selectAll().where('site_id', '=', node.site_id).where('path', 'like', `${node.path}%`).execute();
    for (const n of below) if (!(await mayTouchNode(p, actor, n))) return true;
    return false;
  };
  const FOREIGN = 'このフォルダには、あなたが管理できない組織のページが含まれています。そのページの担当組織か、全体の管理者に依頼してください。';

  const confirmPage = async (c: Context<AppEnv>, node: CmsNode, error?: string, status: 200 | 403 | 409 | 422 = 200) => {
    const v = viewOf(c);
    const subtree = await subtreeOf(node);
    const title = subtree.find((n) => n.id === node.id)?.title ?? node.path;
    const live = subtree.filter((n) => n.status === 'published').length;
    return c.html(
      <AdminLayout v={v} title={`ごみ箱に移す: ${title}`} menu={p.menu}>
        {error ? <Notice kind="error"><p data-testid="trash-refused">{error}</p></Notice> : null}
        <p>
          「{title}」（<code>{node.path}</code>）{subtree.length > 1 ? <>と、その下の {subtree.length - 1} 件のページ・フォルダ</> : null}をごみ箱に移します。
          公開サイト・サイト内検索・一覧・フィード・サイトマップからすぐに消えます。
        </p>
        {live ? <p><strong>公開中のページが {live} 件含まれています。</strong></p> : null}
        <p>ごみ箱からは非公開の状態で元に戻せます。保存期間（{await settings.retentionDays()} 日）を過ぎると完全に削除されます。</p>
        <form method="post" action={`/admin/cms/nodes/${node.id}/trash`} class="actions">
          <Csrf v={v} />
          <button type="submit">ごみ箱に移す</button>
          <a href={`/admin/cms/nodes/${node.id}`}>やめる</a>
        </form>
      </AdminLayout>,
      status,
    );
  };

  app.get('/admin/cms/nodes/:id{[0-9]+}/trash', async (c) => {
    const node = await loadNode(c);
    if (!node || node.status === 'trashed') return renderError(c, 404, 'error.notFound');
    return confirmPage(c, node);
  });

  app.post('/admin/cms/nodes/:id{[0-9]+}/trash', async (c) => {
    const node = await loadNode(c);
    if (!node || node.status === 'trashed') return renderError(c, 404, 'error.notFound');
    const actor = actorOf(c);
    const subtree = await subtreeOf(node);
    if (await holdsForeign(actor, node)) return confirmPage(c, node, FOREIGN, 403);
    if (subtree.some((n) => n.status === 'published') && !actor.permissions.has('cms.publish')) return confirmPage(c, node, '公開中のページを含むため、ごみ箱に移すには公開の権限が必要です。公開の権限を持つ職員に依頼してください。', 403);
    const foreign = [...(await locks.activeFor(subtree.map((n) => n.id))).values()].find((l) => l.userId !== actor.id);
    if (foreign) return confirmPage(c, node, `${foreign.userName}さんが編集中です（${jstClock(foreign.acquiredAt)} から）。編集が終わってからごみ箱に移してください。`, 409);
    try {
      await cms.pages.trash(actor, node.id, requestMeta(c));
    } catch (e) {
      if (e instanceof InputError) return confirmPage(c, node, Object.values(e.fields).join(' '), 422);
      throw e;
    }
    return c.redirect('/admin/cms?trashed=1', 303);
  });

  const trashPage = async (c: Context<AppEnv>, siteId: number, opts: { notice?: string; error?: string; settingsErrors?: FieldErrors; days?: string } = {}, status: 200 | 403 | 409 | 422 = 200) => {
    const site = await cms.sites.get(siteId);
    if (!site) return renderError(c, 404, 'error.notFound');
    const v = viewOf(c);
    const actor = actorOf(c);
    const entries = [];
    for (const e of await cms.pages.trashList(site.id)) if (await mayTouchNode(p, actor, e.node)) entries.push(e);
    const days = await settings.retentionDays();
    const canPurge = actor.permissions.has('cms.publish');
    const canConfigure = actor.permissions.has('cms.sites') && actor.allOrganizations;
    return c.html(
      <AdminLayout v={v} title={`ごみ箱: ${site.name}`} menu={p.menu}>
        {opts.notice ? <Notice kind="success"><p data-testid="trash-notice">{opts.notice}</p></Notice> : null}
        {opts.error ? <Notice kind="error"><p data-testid="trash-error">{opts.error}</p></Notice> : null}
        <p class="inline-actions"><a href="/admin/cms">ページ管理に戻る</a></p>
        <p>削除したページとフォルダ（配下を含む）です。元に戻すと非公開（下書き）の状態で戻ります。ごみ箱に入って {days} 日を過ぎたものは、毎日の処理で完全に削除されます。</p>
        <div class="table-wrap">
          <table>
            <caption>ごみ箱の中身（{entries.length}件）</caption>
            <thead>
              <tr><th scope="col">タイトル</th><th scope="col">元のURL</th><th scope="col">削除日時</th><th scope="col">削除した人</th><th scope="col">件数</th><th scope="col">{v.t('common.actions')}</th></tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr data-testid={`trash-${e.node.id}`}>
                  <th scope="row">{e.node.kind === 'folder' ? '📁 ' : ''}{e.title}</th>
                  <td><code>{e.originalPath}</code></td>
                  <td>{formatDateTime(e.trashedAt, v.locale)}</td>
                  <td>{e.trashedBy ?? (e.reason ? `自動（${e.reason}）` : '—')}</td>
                  <td>{e.count}</td>
                  <td>
                    <div class="inline-actions">
                      <form method="post" action={`/admin/cms/trash/${e.node.id}/restore`}>
                        <Csrf v={v} />
                        <button type="submit" class="button--small">元に戻す<span class="visually-hidden">: {e.title}</span></button>
                      </form>
                      {canPurge ? (
                        <form method="post" action={`/admin/cms/trash/${e.node.id}/purge`}>
                          <Csrf v={v} />
                          <button type="submit" class="button--secondary button--small">完全に削除<span class="visually-hidden">: {e.title}</span></button>
                        </form>
                      ) : null}
                      <a href={`/admin/cms/nodes/${e.node.id}/history`}>履歴<span class="visually-hidden">: {e.title}</span></a>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {canConfigure ? (
          <section aria-labelledby="trash-settings-title">
            <h2 id="trash-settings-title">ごみ箱の保存期間（すべてのサイト共通）</h2>
            <ErrorSummary v={v} errors={opts.settingsErrors} labels={{ days: '保存期間（日）' }} />
            <form method="post" action={`/admin/cms/sites/${site.id}/trash/settings`} class="form" novalidate>
              <Csrf v={v} />
              <TextField v={v} name="days" type="number" inputmode="numeric" label="保存期間（日）" value={opts.days ?? String(days)} errors={opts.settingsErrors} hint="この日数を過ぎたものは完全に削除されます（1～3650）。" />
              <div class="actions"><button type="submit" class="button--secondary">保存期間を保存する</button></div>
            </form>
          </section>
        ) : null}
      </AdminLayout>,
      status,
    );
  };

  app.get('/admin/cms/sites/:siteId{[0-9]+}/trash', async (c) => {
    const back = c.req.query('restored') ? await cms.pages.node(Number(c.req.query('restored'))).catch(() => null) : null;
    const restored = back && (await mayTouchNode(p, actorOf(c), back)) ? back : null;
    const purged = Number(c.req.query('purged'));
    const notice = restored
      ? `${restored.path} に非公開の状態で戻しました。公開するときは、そのページで公開してください。`
      : purged > 0
        ? `完全に削除しました（${purged} 件）。`
        : c.req.query('days')
          ? `ごみ箱の保存期間を ${await settings.retentionDays()} 日にしました。`
          : undefined;
    return trashPage(c, Number(c.req.param('siteId')), { notice });
  });

  /** A trashed node (as staff deleted it, not part of a deleted folder) the actor may touch. */
  const loadTrashed = async (c: Context<AppEnv>): Promise<CmsNode | null> => {
    const node = await loadNode(c);
    return node && node.status === 'trashed' ? node : null;
  };

  app.post('/admin/cms/trash/:id{[0-9]+}/restore', async (c) => {
    const node = await loadTrashed(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    if (await holdsForeign(actorOf(c), node)) return trashPage(c, node.site_id, { error: FOREIGN }, 403);
    try {
      await cms.pages.restoreFromTrash(actorOf(c), node.id, requestMeta(c));
      return c.redirect(`/admin/cms/sites/${node.site_id}/trash?restored=${node.id}`, 303);
    } catch (e) {
      if (e instanceof InputError) return trashPage(c, node.site_id, { error: Object.values(e.fields).join(' ') }, 409);
      throw e;
    }
  });

  app.post('/admin/cms/trash/:id{[0-9]+}/purge', requirePermission('cms.publish'), async (c) => {
    const node = await loadTrashed(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    if (await holdsForeign(actorOf(c), node)) return trashPage(c, node.site_id, { error: FOREIGN }, 403);
    try {
      const r = await cms.pages.purge(actorOf(c), node.id, requestMeta(c));
      return c.redirect(`/admin/cms/sites/${node.site_id}/trash?purged=${r.count}`, 303);
    } catch (e) {
      if (e instanceof InputError) return trashPage(c, node.site_id, { error: Object.values(e.fields).join(' ') }, 409);
      throw e;
    }
  });

  app.post('/admin/cms/sites/:siteId{[0-9]+}/trash/settings', requirePermission('cms.sites'), async (c) => {
    const siteId = Number(c.req.param('siteId'));
    const actor = actorOf(c);
    if (!actor.allOrganizations) return renderError(c, 403, 'error.forbidden');
    const days = str((await readForm(c)).days).trim();
    try {
      await settings.setRetentionDays(actor, /^\d{1,4}$/.test(days) ? Number(days) : NaN, requestMeta(c));
    } catch (e) {
      if (e instanceof InputError) return trashPage(c, siteId, { settingsErrors: e.fields, days }, 422);
      throw e;
    }
    return c.redirect(`/admin/cms/sites/${siteId}/trash?days=1`, 303);
  });
}
