import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { raw } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../../core/http/types.js';
import { PublicLayout } from '../../core/ui/layout.js';
import { viewOf } from '../../core/ui/view.js';
import type { PageService } from './pages.js';
import type { RenderCache } from './render-cache.js';
import type { Site, SiteService } from './sites.js';
import type { SearchIndex } from './search/index.js';
import { feedsRoute, FeedLink } from './feeds.js';

function SiteHeaderMenu(props: { site: Site; prefix: string }) {
  if (!props.site.settings.headerMenu.length) return null;
  return (
    <nav aria-label="サイトメニュー">
      <ul class="site-menu">
        {props.site.settings.headerMenu.map((m) => (
          <li><a href={m.href.startsWith('/') ? `${props.prefix}${m.href}` : m.href}>{m.label}</a></li>
        ))}
      </ul>
    </nav>
  );
}

/** C-3-22: the site-search box on every page. */
function SearchBox(props: { prefix: string; q?: string; id: string; landmark?: string }) {
  return (
    <form method="get" action={`${props.prefix}/search`} role="search" class="site-search" aria-label={props.landmark ?? 'サイト内検索'}>
      <label for={props.id} class="visually-hidden">サイト内検索</label>
      <input type="search" id={props.id} name="q" value={props.q ?? ''} placeholder="サイト内検索" />
      <button type="submit" class="button--small">検索</button>
    </form>
  );
}

function SiteHeader(props: { site: Site; q?: string }) {
  return (
    <>
      <SiteHeaderMenu site={props.site} prefix={props.site.pathPrefix} />
      <SearchBox prefix={props.site.pathPrefix} q={props.q} id="site-search-q" />
    </>
  );
}

/** 404 and other error pages in the design of the site the address belongs to. */
export function siteErrorRenderer(sites: SiteService) {
  return async (c: Context<AppEnv>, status: ContentfulStatusCode, messageKey: string): Promise<Response> => {
    const resolved = await sites.resolve(c.req.header('host') ?? '', c.req.path).catch(() => null);
    const v = { ...viewOf(c), csrf: '' };
    const t = v.t;
    const site = resolved?.site;
    const title = (status === 404 ? t('error.notFound') : status >= 500 ? t('error.server') : t('error.badRequest')).replace(/[。.]$/, '');
    const page = (
      <PublicLayout
        v={v}
        title={title}
        siteName={site?.name ?? t('app.name')}
        homeHref={site ? `${site.pathPrefix}/` : '/'}
        header={site ? <SiteHeader site={site} /> : undefined}
        footer={site?.settings.footerText ? <p>{site.settings.footerText}</p> : undefined}
      >
        <h1>{title}</h1>
        <p>{t(messageKey)}</p>
        {status === 404 ? <p>{t('error.notFoundHint')}</p> : null}
        {status >= 500 ? <p>受付番号 / Reference: <code>{c.get('requestId')}</code></p> : null}
        <p><a href={site ? `${site.pathPrefix}/` : '/'}>{site ? `${site.name}のトップページへ` : t('common.back')}</a></p>
      </PublicLayout>
    );
    return c.html(page, status);
  };
}

/**
 * Public pages of every CMS site: resolves the site from host and path, renders the live
 * version in the site's frame with breadcrumbs, and serves it from the render cache.
 * Requests no site or page claims fall through to the next handler.
 */
export function mountPublicRoutes(app: Hono<AppEnv>, deps: { sites: SiteService; pages: PageService; cache: RenderCache; search: SearchIndex }) {
  app.get('*', async (c: Context<AppEnv>, next) => {
    if (c.req.path.startsWith('/admin') || c.req.path.startsWith('/assets/')) return next();
    const resolved = await deps.sites.resolve(c.req.header('host') ?? '', decodeURIComponent(c.req.path));
    if (!resolved) return next();
    const { site, path } = resolved;
    if (path === '/search') return searchPage(c, site, deps.search);
    if (path === '/sitemap.xml' || path === '/feed.xml' || path === '/sitemap') return feedsRoute(c, site, deps, path, SiteHeader);
    const locale = c.get('locale');
    // A maintenance banner is per request and time-bound: such pages are neither read from nor put in the cache.
    const cacheable = !c.get('maintenanceNotice');
    const cached = cacheable ? deps.cache.get(site.id, path, locale) : undefined;
    if (cached) {
      if (c.req.header('if-none-match') === cached.etag) return c.body(null, 304);
      c.header('ETag', cached.etag);
      c.header('Cache-Control', 'public, max-age=0, must-revalidate');
      c.header('X-Render-Cache', 'hit');
      return c.html(cached.html);
    }
    const found = await deps.pages.findPublic(site.id, path);
    if (!found) return next();
    const { node, version, ancestors } = found;
    const children = node.kind === 'folder' ? await deps.pages.publicChildren(node.id) : [];
    const v = { ...viewOf(c), csrf: '' };
    const prefix = site.pathPrefix;
    const isTop = node.path === '/';
    const crumbs = [...ancestors.map((a) => ({ href: `${prefix}${a.node.path}`, title: a.node.path === '/' ? site.name : a.title })), { href: '', title: version.title }];
    const page = (
      <PublicLayout
        v={v}
        title={isTop ? '' : version.title}
        siteName={site.name}
        homeHref={`${prefix}/`}
        head={<FeedLink site={site} />}
        header={<SiteHeader site={site} />}
        footer={site.settings.footerText ? <p>{site.settings.footerText}</p> : undefined}
      >
        {!isTop ? (
          <nav aria-label="現在位置" class="breadcrumbs">
            <ol>
              {crumbs.map((b, i) => (i < crumbs.length - 1 ? <li><a href={b.href}>{b.title}</a></li> : <li aria-current="page">{b.title}</li>))}
            </ol>
          </nav>
        ) : null}
        <article>
          <h1>{version.title}</h1>
          {version.body_html ? <div class="page-body">{raw(version.body_html)}</div> : null}
        </article>
        {children.length ? (
          <section aria-labelledby="children-title">
            <h2 id="children-title">{isTop ? '新着・主なページ' : 'このカテゴリのページ'}</h2>
            <ul class="page-list">
              {children.map((ch) => (
                <li>
                  <a href={`${prefix}${ch.node.path}`}>{ch.title}</a>
                  {ch.summary ? <p>{ch.summary}</p> : null}
                </li>
              ))}
            </ul>
          </section>
        ) : null}
      </PublicLayout>
    );
    const html = (await page).toString();
    const etag = `"${createHash('sha256').update(html).digest('base64url').slice(0, 20)}"`;
    if (cacheable) deps.cache.set(site.id, path, locale, html, etag);
    c.header('ETag', etag);
    c.header('Cache-Control', 'public, max-age=0, must-revalidate');
    c.header('X-Render-Cache', 'miss');
    return c.html(html);
  });
}

/** C-3-23: search results inside the site's own header and footer. */
async function searchPage(c: Context<AppEnv>, site: Site, search: SearchIndex): Promise<Response> {
  const q = (c.req.query('q') ?? '').trim().slice(0, 100);
  const pageNo = Math.max(1, Math.min(100, Number.parseInt(c.req.query('page') ?? '1', 10) || 1));
  const limit = 10;
  const result = q ? await search.search({ siteId: site.id, text: q, limit, offset: (pageNo - 1) * limit }) : { total: 0, hits: [] };
  const v = { ...viewOf(c), csrf: '' };
  const prefix = site.pathPrefix;
  const pages = Math.ceil(result.total / limit);
  const link = (n: number) => `${prefix}/search?${new URLSearchParams({ q, page: String(n) }).toString()}`;
  c.header('Cache-Control', 'no-store');
  return c.html(
    <PublicLayout v={v} title={q ? `「${q}」の検索結果` : 'サイト内検索'} siteName={site.name} homeHref={`${prefix}/`} header={<SiteHeader site={site} q={q} />} footer={site.settings.footerText ? <p>{site.settings.footerText}</p> : undefined}>
      <h1>サイト内検索</h1>
      <SearchBox prefix={prefix} q={q} id="search-page-q" landmark="検索条件" />
      {q ? (
        <p role="status" data-testid="search-count">「{q}」の検索結果: {result.total}件</p>
      ) : (
        <p>探したい言葉を入力してください。</p>
      )}
      <ol class="page-list search-results">
        {result.hits.map((h) => (
          <li>
            <a href={`${prefix}${h.url}`}>{raw(h.titleHtml)}</a>
            <p>{raw(h.snippetHtml)}</p>
          </li>
        ))}
      </ol>
      {pages > 1 ? (
        <nav class="pagination" aria-label="検索結果のページ">
          {pageNo > 1 ? <a href={link(pageNo - 1)} rel="prev">前へ</a> : null}
          <span>{pageNo} / {pages}</span>
          {pageNo < pages ? <a href={link(pageNo + 1)} rel="next">次へ</a> : null}
        </nav>
      ) : null}
    </PublicLayout>,
  );
}
