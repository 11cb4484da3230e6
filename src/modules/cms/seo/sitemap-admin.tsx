/**
 * C-3-9: the sitemap editor (/admin/cms/sites/:id/sitemap). Administrators see the public tree as
 * both sitemaps show it, move entries up and down among their siblings (plain form buttons, no
 * script), rename them, hide them from the HTML sitemap, mark pages noindex, and add links to
 * pages outside the CMS (the event calendar, the map, other sites).
 */
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { requestMeta } from '../../../core/http/app.js';
import { readForm, str, type FormValues } from '../../../core/http/validate.js';
import { renderError } from '../../../core/http/errors.js';
import { InputError, NotFoundError } from '../../../core/errors.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { viewOf } from '../../../core/ui/view.js';
import { Checkbox, Csrf, ErrorSummary, Notice, SelectField, TextField, type FieldErrors } from '../../../core/ui/forms.js';
import { actorOf } from '../../admin/guards.js';
import type { CmsServices } from '../index.js';
import type { Site } from '../sites.js';
import { flatten, type SitemapEntry } from './sitemap.js';
import type { SeoServices } from './services.js';
import { loadSite, SiteTabs } from './sites-admin.js';

const KEY = /^[nl]\d{1,9}$/;
const LABELS = { parentKey: '表示する場所', label: '表示名', href: 'リンク先' };

export function mountSitemapAdmin(app: Hono<AppEnv>, p: Platform, cms: CmsServices, seo: SeoServices) {
  const listPage = async (c: Context<AppEnv>, site: Site, opts: { values?: FormValues; errors?: FieldErrors } = {}) => {
    const v = viewOf(c);
    const tree = await seo.sitemap.arranged(site);
    const flat = flatten(tree);
    const rows = await seo.sitemap.rows(site.id);
    const shownLinks = new Set(flat.filter((e) => e.kind === 'link').map((e) => e.key));
    const orphans = rows.filter((r) => r.node_id === null && !shownLinks.has(`l${r.id}`));
    const folders = flat.filter((e) => e.kind === 'page' && e.node?.kind === 'folder');
    const siblings = (e: (typeof flat)[number]) => flat.filter((x) => x.parentKey === e.parentKey);
    const prefix = site.pathPrefix;
    const MoveButton = (props: { e: SitemapEntry; direction: 'up' | 'down' }) => (
      <form method="post" action={`/admin/cms/sites/${site.id}/sitemap/move`} class="inline-form">
        <Csrf v={v} />
        <input type="hidden" name="key" value={props.e.key} />
        <input type="hidden" name="direction" value={props.direction} />
        <button type="submit" class="button--small button--secondary">
          {props.direction === 'up' ? '上へ' : '下へ'}<span class="visually-hidden">: {props.e.label}</span>
        </button>
      </form>
    );
    return (
      <AdminLayout v={v} title={`サイトマップの編集: ${site.name}`} menu={p.menu}>
        <SiteTabs site={site} current="sitemap" />
        {c.req.query('saved') ? <Notice kind="success"><p>{v.t('common.saved')}公開中のサイトマップにすぐ反映されます。</p></Notice> : null}
        <p>
          公開中のページは自動でサイトマップに載ります（新しいページはページ管理の並び順の位置に入ります）。ここでは、同じ階層の中での並び順、表示名、
          HTMLのサイトマップ（<a href={`${prefix}/sitemap`}>{prefix}/sitemap</a>）に出すかどうか、検索エンジン向けの sitemap.xml に載せるかどうかを変えられます。
          「HTMLサイトマップに表示しない」は人向けの一覧から外すだけで、検索エンジン向けの sitemap.xml には残ります。sitemap.xml からも外すには「検索エンジンの対象外」にしてください（ページに noindex が付きます）。
        </p>
        <div class="table-wrap">
          <table>
            <caption>サイトマップの項目（{flat.length}件、表示順）</caption>
            <thead><tr><th scope="col">表示名</th><th scope="col">アドレス</th><th scope="col">HTMLサイトマップ</th><th scope="col">sitemap.xml</th><th scope="col">並び順</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
            <tbody>
              {flat.map((e) => {
                const sib = siblings(e);
                const at = sib.findIndex((x) => x.key === e.key);
                return (
                  <tr data-testid={`sitemap-${e.key}`}>
                    <th scope="row">
                      {'　'.repeat(e.depth)}
                      {e.kind === 'link' ? 'リンク: ' : ''}
                      {e.label}
                      {e.label !== e.title ? <span class="field__hint">（ページ名: {e.title}）</span> : null}
                    </th>
                    <td><code>{e.href}</code></td>
                    <td>{e.hidden ? <span class="status status--muted">表示しない</span> : '表示'}</td>
                    <td>{e.noindex ? <span class="status status--muted">載せない（noindex）</span> : e.kind === 'link' && !e.href.startsWith('/') ? '—（外部リンク）' : '載せる'}</td>
                    <td>
                      {e.parentKey !== null && at > 0 ? <MoveButton e={e} direction="up" /> : null}
                      {e.parentKey !== null && at < sib.length - 1 ? <MoveButton e={e} direction="down" /> : null}
                    </td>
                    <td>{e.parentKey !== null ? <a href={`/admin/cms/sites/${site.id}/sitemap/items/${e.key}`}>編集<span class="visually-hidden">: {e.label}</span></a> : null}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        {orphans.length ? (
          <section aria-labelledby="orphan-links">
            <h2 id="orphan-links">表示されていないリンク</h2>
            <p>置き場所のフォルダが公開されていないため、サイトマップに出ていないリンクです。</p>
            <ul>
              {orphans.map((r) => (
                <li><a href={`/admin/cms/sites/${site.id}/sitemap/items/l${r.id}`}>{r.label}（{r.href}）を編集</a></li>
              ))}
            </ul>
          </section>
        ) : null}
        <section aria-labelledby="add-link">
          <h2 id="add-link">リンクを追加する</h2>
          <p>イベントカレンダー（/events/）や地図（/map/）など、ページ管理の外にあるページや他のサイトへのリンクをサイトマップに加えます。</p>
          <ErrorSummary v={v} errors={opts.errors} labels={LABELS} />
          <form method="post" action={`/admin/cms/sites/${site.id}/sitemap/links`} class="form" novalidate>
            <Csrf v={v} />
            <SelectField v={v} name="parentKey" label={LABELS.parentKey} value={str(opts.values?.parentKey)} options={folders.map((f) => ({ value: f.key, label: `${'　'.repeat(f.depth)}${f.label}` }))} errors={opts.errors} hint="選んだフォルダの下の最後に加わります。" />
            <TextField v={v} name="label" label={LABELS.label} value={str(opts.values?.label)} required errors={opts.errors} maxlength={100} />
            <TextField v={v} name="href" label={LABELS.href} value={str(opts.values?.href)} required errors={opts.errors} hint="「/events/」のようなサイト内のパス、または https:// で始まるURL。" spellcheck={false} />
            <div class="actions"><button type="submit">リンクを追加する</button></div>
          </form>
        </section>
      </AdminLayout>
    );
  };

  app.get('/admin/cms/sites/:id{[0-9]+}/sitemap', async (c) => {
    const site = await loadSite(c, p, cms);
    if (!site) return renderError(c, 404, 'error.notFound');
    return c.html(await listPage(c, site));
  });

  app.post('/admin/cms/sites/:id{[0-9]+}/sitemap/move', async (c) => {
    const site = await loadSite(c, p, cms);
    if (!site) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    const key = str(values.key);
    const direction = str(values.direction);
    if (!KEY.test(key) || (direction !== 'up' && direction !== 'down')) return renderError(c, 404, 'error.notFound');
    try {
      await seo.sitemap.move(actorOf(c), site, key, direction, requestMeta(c));
    } catch (e) {
      if (e instanceof NotFoundError) return renderError(c, 404, 'error.notFound');
      throw e;
    }
    return c.redirect(`/admin/cms/sites/${site.id}/sitemap?saved=1`, 303);
  });

  app.post('/admin/cms/sites/:id{[0-9]+}/sitemap/links', async (c) => {
    const site = await loadSite(c, p, cms);
    if (!site) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    try {
      await seo.sitemap.addLink(actorOf(c), site, { parentKey: str(values.parentKey), label: str(values.label), href: str(values.href) }, requestMeta(c));
    } catch (e) {
      if (e instanceof InputError) return c.html(await listPage(c, site, { values, errors: e.fields }), 422);
      throw e;
    }
    return c.redirect(`/admin/cms/sites/${site.id}/sitemap?saved=1`, 303);
  });

  /** The entry in the URL: in the arranged tree, or a link whose folder is not public. */
  const loadEntry = async (site: Site, key: string): Promise<SitemapEntry | null> => {
    if (!KEY.test(key)) return null;
    const found = flatten(await seo.sitemap.arranged(site)).find((e) => e.key === key && e.parentKey !== null);
    if (found) return found;
    const row = await seo.sitemap.link(site, key);
    return row ? { key, kind: 'link', label: row.label ?? '', title: row.label ?? '', href: row.href ?? '', hidden: row.hidden === 1, noindex: false, positioned: true, children: [] } : null;
  };

  const itemPage = async (c: Context<AppEnv>, site: Site, e: SitemapEntry, values: FormValues, errors?: FieldErrors) => {
    const v = viewOf(c);
    return (
      <AdminLayout v={v} title={`サイトマップの項目: ${e.title}`} menu={p.menu}>
        <SiteTabs site={site} current="sitemap" />
        <ErrorSummary v={v} errors={errors} labels={LABELS} />
        <p>アドレス: <code>{e.href}</code></p>
        <form method="post" action={`/admin/cms/sites/${site.id}/sitemap/items/${e.key}`} class="form" novalidate>
          <Csrf v={v} />
          <TextField v={v} name="label" label={LABELS.label} value={str(values.label)} required={e.kind === 'link'} errors={errors} maxlength={100} hint={e.kind === 'page' ? `空欄にするとページのタイトル（${e.title}）を表示します。` : undefined} />
          {e.kind === 'link' ? <TextField v={v} name="href" label={LABELS.href} value={str(values.href)} required errors={errors} spellcheck={false} hint="「/events/」のようなサイト内のパス、または https:// で始まるURL。" /> : null}
          <Checkbox name="hidden" label={e.kind === 'page' && e.node?.kind === 'folder' ? 'HTMLサイトマップに表示しない（この下の項目も表示しません）' : 'HTMLサイトマップに表示しない'} checked={str(values.hidden) === '1'} />
          {e.kind === 'page' ? <Checkbox name="noindex" label="検索エンジンの対象外にする（sitemap.xml から外し、ページに noindex を付けます）" checked={str(values.noindex) === '1'} /> : null}
          <div class="actions"><button type="submit">保存する</button><a href={`/admin/cms/sites/${site.id}/sitemap`}>{v.t('common.back')}</a></div>
        </form>
        {e.kind === 'link' ? (
          <form method="post" action={`/admin/cms/sites/${site.id}/sitemap/items/${e.key}/delete`} class="actions">
            <Csrf v={v} />
            <button type="submit" class="button--danger">このリンクを削除する</button>
          </form>
        ) : null}
      </AdminLayout>
    );
  };

  app.get('/admin/cms/sites/:id{[0-9]+}/sitemap/items/:key', async (c) => {
    const site = await loadSite(c, p, cms);
    const e = site ? await loadEntry(site, c.req.param('key')) : null;
    if (!site || !e) return renderError(c, 404, 'error.notFound');
    const ownLabel = e.kind === 'link' || e.label !== e.title ? e.label : '';
    return c.html(await itemPage(c, site, e, { label: ownLabel, href: e.kind === 'link' ? e.href : '', hidden: e.hidden ? '1' : '', noindex: e.noindex ? '1' : '' }));
  });

  app.post('/admin/cms/sites/:id{[0-9]+}/sitemap/items/:key', async (c) => {
    const site = await loadSite(c, p, cms);
    const e = site ? await loadEntry(site, c.req.param('key')) : null;
    if (!site || !e) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    try {
      await seo.sitemap.change(actorOf(c), site, e.key, { label: str(values.label), href: str(values.href), hidden: str(values.hidden) === '1', noindex: str(values.noindex) === '1' }, requestMeta(c));
    } catch (err) {
      if (err instanceof InputError) return c.html(await itemPage(c, site, e, values, err.fields), 422);
      if (err instanceof NotFoundError) return renderError(c, 404, 'error.notFound');
      throw err;
    }
    return c.redirect(`/admin/cms/sites/${site.id}/sitemap?saved=1`, 303);
  });

  app.post('/admin/cms/sites/:id{[0-9]+}/sitemap/items/:key/delete', async (c) => {
    const site = await loadSite(c, p, cms);
    if (!site) return renderError(c, 404, 'error.notFound');
    try {
      await seo.sitemap.removeLink(actorOf(c), site, c.req.param('key'), requestMeta(c));
    } catch (e) {
      if (e instanceof NotFoundError) return renderError(c, 404, 'error.notFound');
      throw e;
    }
    return c.redirect(`/admin/cms/sites/${site.id}/sitemap?saved=1`, 303);
  });
}
