import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { requestMeta } from '../../../core/http/app.js';
import { renderError } from '../../../core/http/errors.js';
import { readForm, str } from '../../../core/http/validate.js';
import { InputError } from '../../../core/errors.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { Csrf, Notice, SelectField } from '../../../core/ui/forms.js';
import { formatDateTime, viewOf, type View } from '../../../core/ui/view.js';
import { actorOf } from '../../admin/guards.js';
import { mayTouchNode } from '../admin-routes.js';
import { requestOrigin } from '../frame.js';
import type { CmsServices } from '../index.js';
import type { CmsNode } from '../pages.js';
import type { EditorContext, PagePart } from '../parts.js';
import { renderPage } from '../public-routes.js';
import type { Site } from '../sites.js';
import { DEFAULT_PREVIEW_HOURS, PREVIEW_HOURS, PREVIEW_TOKEN } from './previews.js';
import { historyOf } from './services.js';

const HOURS_LABEL: Record<number, string> = { 1: '1時間', 24: '1日', 72: '3日', 168: '7日', 720: '30日' };

/** The address of a preview on its site: `/preview/<token>` under the site's path prefix. */
export function previewPath(site: Site, token: string): string {
  return `${site.pathPrefix}/preview/${token}`;
}

/**
 * A preview link's token must not travel on in Referer headers when its reader follows a link on
 * the page (the app's header policy applies after the route, so the page itself says so).
 */
export const previewReferrerPart: PagePart = (ctx) => (ctx.preview && /\/preview\/[^/]+$/.test(ctx.c.req.path) ? <meta name="referrer" content="no-referrer" /> : null);

/** The editor panel: working preview links of the page, revoke buttons and the form for a new one. */
export function previewPanel(p: Platform) {
  return async (ctx: EditorContext) => {
    const { v, node } = ctx;
    if (!node || node.status === 'trashed') return null;
    const links = await historyOf(p).previews.active(node.id);
    return (
      <section aria-labelledby="preview-links-title" data-testid="preview-panel">
        <h2 id="preview-links-title">プレビュー用URL</h2>
        <p>ログインしていない人にも、このページの編集中の内容（下書きがなければ公開版）を見せられるURLを作ります。非公開・一時非公開のページでも表示できます。URLを知っている人は誰でも見られるので、期限を短めにし、不要になったら無効にしてください。</p>
        {links.length ? (
          <div class="table-wrap">
            <table>
              <caption>有効なプレビュー用URL（{links.length}件）</caption>
              <thead><tr><th scope="col">作成</th><th scope="col">作成した人</th><th scope="col">有効期限</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
              <tbody>
                {links.map((l) => (
                  <tr>
                    <td>{formatDateTime(l.createdAt, v.locale)}</td>
                    <td>{l.createdBy}</td>
                    <td>{formatDateTime(l.expiresAt, v.locale)}</td>
                    <td>
                      <form method="post" action={`/admin/cms/nodes/${node.id}/previews/${l.id}/revoke`}>
                        <Csrf v={v} />
                        <button type="submit" class="button--secondary button--small">無効にする<span class="visually-hidden">（{formatDateTime(l.expiresAt, v.locale)} まで有効なURL）</span></button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : <p>有効なプレビュー用URLはありません。</p>}
        <form method="post" action={`/admin/cms/nodes/${node.id}/previews`} class="form" novalidate>
          <Csrf v={v} />
          <SelectField v={v} name="hours" label="有効期間" value={DEFAULT_PREVIEW_HOURS} options={PREVIEW_HOURS.map((h) => ({ value: h, label: HOURS_LABEL[h]! }))} idPrefix="preview" />
          <div class="actions"><button type="submit" class="button--secondary">プレビュー用URLを作る</button></div>
        </form>
      </section>
    );
  };
}

/**
 * Staff create and revoke preview links (admin), and anyone holding one sees the page's working
 * version at `/preview/<token>` under the site's prefix: never cached, never indexed.
 */
export function mountPreviewRoutes(app: Hono<AppEnv>, p: Platform, cms: CmsServices) {
  const { previews } = historyOf(p);

  const loadNode = async (c: Context<AppEnv>): Promise<CmsNode | null> => {
    const node = await cms.pages.node(Number(c.req.param('id'))).catch(() => null);
    return node && (await mayTouchNode(p, actorOf(c), node)) ? node : null;
  };

  const createdPage = (c: Context<AppEnv>, v: View, node: CmsNode, url: string, expiresAt: string) =>
    c.html(
      <AdminLayout v={v} title="プレビュー用URLを作成しました" menu={p.menu}>
        <Notice kind="success"><p>このURLは今だけ表示されます。コピーして、確認してほしい人に伝えてください。</p></Notice>
        <div class="field">
          <label for="f-preview-url">プレビュー用URL（{formatDateTime(expiresAt, v.locale)} まで有効）</label>
          <input id="f-preview-url" type="text" readonly value={url} class="preview-url" data-testid="preview-url" />
        </div>
        <p class="inline-actions">
          <a href={url} target="_blank" rel="noopener noreferrer">プレビューを開く（新しいタブ）</a>
          <a href={`/admin/cms/nodes/${node.id}`}>ページの編集に戻る</a>
        </p>
      </AdminLayout>,
    );

  app.post('/admin/cms/nodes/:id{[0-9]+}/previews', async (c) => {
    const node = await loadNode(c);
    if (!node || node.status === 'trashed') return renderError(c, 404, 'error.notFound');
    const site = await cms.sites.get(node.site_id);
    if (!site) return renderError(c, 404, 'error.notFound');
    const hours = Number(str((await readForm(c)).hours) || DEFAULT_PREVIEW_HOURS);
    try {
      const link = await previews.create(actorOf(c), node, hours, requestMeta(c));
      const path = previewPath(site, link.token);
      const origin = site.host ? `${new URL(requestOrigin(c)).protocol}//${site.host}` : requestOrigin(c);
      // The token is shown once, in this answer (never in a redirect's address, which would land in logs).
      c.header('Cache-Control', 'no-store');
      return createdPage(c, viewOf(c), node, `${origin}${path}`, link.expiresAt);
    } catch (e) {
      if (e instanceof InputError) return renderError(c, 422, 'error.badRequest');
      throw e;
    }
  });

  app.post('/admin/cms/nodes/:id{[0-9]+}/previews/:linkId{[0-9]+}/revoke', async (c) => {
    const node = await loadNode(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    const ok = await previews.revoke(actorOf(c), node, Number(c.req.param('linkId')), requestMeta(c));
    if (!ok) return renderError(c, 404, 'error.notFound');
    return c.redirect(`/admin/cms/nodes/${node.id}?saved=1`, 303);
  });

  // Public: `/preview/<token>`, or under a site's prefix. Mounted before the page catch-all.
  app.get('*', async (c, next) => {
    const m = /^(.*)\/preview\/([^/]+)$/.exec(c.req.path);
    if (!m || c.req.path.startsWith('/admin')) return next();
    const [, prefix, token] = m as unknown as [string, string, string];
    // Only `/preview/` right at the top of the installation or of a site is ours (the slug is reserved there).
    if (prefix !== '' && !(await cms.sites.all()).some((s) => s.pathPrefix === prefix)) return next();
    const nodeId = PREVIEW_TOKEN.test(token) ? await previews.resolve(token) : null;
    const node = nodeId ? await cms.pages.node(nodeId).catch(() => null) : null;
    const site = node ? await cms.sites.get(node.site_id) : undefined;
    const version = node ? await cms.pages.version(node.draft_version_id ?? node.published_version_id) : undefined;
    c.header('Cache-Control', 'no-store');
    c.header('X-Robots-Tag', 'noindex, nofollow');
    // The token decides the page; a link used under another site's prefix is not that page's address.
    if (!node || !site || !version || node.status === 'trashed' || (prefix !== '' && prefix !== site.pathPrefix)) return renderError(c, 404, 'error.notFound');
    const ancestors = await cms.pages.previewAncestors(node);
    return c.html(await renderPage(c, cms, site, { node, version, ancestors }, { preview: true }));
  });
}
