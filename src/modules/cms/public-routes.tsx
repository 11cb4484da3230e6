import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { raw } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../../core/http/types.js';
import { PublicLayout } from '../../core/ui/layout.js';
import { viewOf } from '../../core/ui/view.js';
import { parseJson } from '../../core/db/index.js';
import type { CmsNode, CmsVersion } from './pages.js';
import type { CmsServices } from './index.js';
import type { PagePart, PublicPageContext } from './parts.js';
import { SiteFrame, requestOrigin } from './frame.js';
import type { Site, SiteService } from './sites.js';
import { searchPage } from './search/page.js';
import { feedsRoute, FeedLink } from './feeds.js';

/** 404 and other error pages in the design of the site the address belongs to. */
export function siteErrorRenderer(sites: SiteService) {
  return async (c: Context<AppEnv>, status: ContentfulStatusCode, messageKey: string): Promise<Response> => {
    const resolved = await sites.resolve(c.req.header('host') ?? '', c.req.path).catch(() => null);
    const v = { ...viewOf(c), csrf: '' };
    const t = v.t;
    const site = resolved?.site;
    const title = (status === 404 ? t('error.notFound') : status >= 500 ? t('error.server') : t('error.badRequest')).replace(/[。.]$/, '');
    const body = (
      <>
        <h1>{title}</h1>
        <p>{t(messageKey)}</p>
        {status === 404 ? <p>{t('error.notFoundHint')}</p> : null}
        {status >= 500 ? <p>受付番号 / Reference: <code>{c.get('requestId')}</code></p> : null}
        <p><a href={site ? `${site.pathPrefix}/` : '/'}>{site ? `${site.name}のトップページへ` : t('common.back')}</a></p>
      </>
    );
    const page = site ? (
      <SiteFrame c={c} v={v} site={site} title={title}>{body}</SiteFrame>
    ) : (
      <PublicLayout v={v} title={title} siteName={t('app.name')} homeHref="/">{body}</PublicLayout>
    );
    return c.html(page, status);
  };
}

/** A found public node, as PageService.findPublic returns it (or a preview builds it). */
export interface PageToRender {
  node: CmsNode;
  version: CmsVersion;
  ancestors: Array<{ node: CmsNode; title: string }>;
}

/**
 * The HTML of one page of a site in its frame: breadcrumbs, the page-type parts before the body,
 * the body, the children of a folder, the parts after the body (lists, maps, contact…), and the
 * head parts (SEO). Used for the public page and for staff previews (`preview`).
 */
export async function renderPage(c: Context<AppEnv>, cms: CmsServices, site: Site, found: PageToRender, opts: { preview: boolean }): Promise<string> {
  const { node, version, ancestors } = found;
  const children = node.kind === 'folder' ? await cms.pages.publicChildren(node.id) : [];
  const v = { ...viewOf(c), csrf: '' };
  const prefix = site.pathPrefix;
  const isTop = node.path === '/';
  const ctx: PublicPageContext = {
    c,
    v,
    site,
    node,
    version,
    fields: parseJson<Record<string, unknown>>(version.fields, {}),
    ancestors,
    children,
    prefix,
    isTop,
    preview: opts.preview,
    url: `${requestOrigin(c)}${prefix}${node.path}`,
  };
  const run = (parts: PagePart[]) => Promise.all(parts.map((part) => part(ctx)));
  const [head, before, after] = await Promise.all([run(cms.parts.headParts()), run(cms.parts.beforeBodyParts()), run(cms.parts.afterBodyParts())]);
  const crumbs = [...ancestors.map((a) => ({ href: `${prefix}${a.node.path}`, title: a.node.path === '/' ? site.name : a.title })), { href: '', title: version.title }];
  const page = (
    <SiteFrame c={c} v={v} site={site} title={isTop ? '' : version.title} head={<>{head}<FeedLink site={site} /></>}>
      {opts.preview ? (
        <p class="notice notice--warning preview-banner" role="note">
          これはプレビューです。公開中の内容とは異なる場合があります。
        </p>
      ) : null}
      {!isTop ? (
        <nav aria-label="現在位置" class="breadcrumbs">
          <ol>
            {crumbs.map((b, i) => (i < crumbs.length - 1 ? <li><a href={b.href}>{b.title}</a></li> : <li aria-current="page">{b.title}</li>))}
          </ol>
        </nav>
      ) : null}
      <article>
        <h1>{version.title}</h1>
        {before}
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
      {after}
    </SiteFrame>
  );
  return (await page).toString();
}

/**
 * Public pages of every CMS site: resolves the site from host and path, renders the live
 * version in the site's frame with breadcrumbs, and serves it from the render cache.
 * Requests no site or page claims fall through to the next handler.
 */
export function mountPublicRoutes(app: Hono<AppEnv>, cms: CmsServices) {
  app.get('*', async (c: Context<AppEnv>, next) => {
    if (c.req.path.startsWith('/admin') || c.req.path.startsWith('/assets/')) return next();
    const resolved = await cms.sites.resolve(c.req.header('host') ?? '', decodeURIComponent(c.req.path));
    if (!resolved) return next();
    const { site, path } = resolved;
    if (path === '/search') return searchPage(c, site, cms.search);
    if (path === '/sitemap.xml' || path === '/feed.xml' || path === '/sitemap') return feedsRoute(c, site, cms, path);
    const locale = c.get('locale');
    // A maintenance banner is per request and time-bound: such pages are neither read from nor put in the cache.
    const cacheable = !c.get('maintenanceNotice');
    const cached = cacheable ? cms.cache.get(site.id, path, locale) : undefined;
    if (cached) {
      if (c.req.header('if-none-match') === cached.etag) return c.body(null, 304);
      c.header('ETag', cached.etag);
      c.header('Cache-Control', 'public, max-age=0, must-revalidate');
      c.header('X-Render-Cache', 'hit');
      return c.html(cached.html);
    }
    const found = await cms.pages.findPublic(site.id, path);
    if (!found) return next();
    const html = await renderPage(c, cms, site, found, { preview: false });
    const etag = `"${createHash('sha256').update(html).digest('base64url').slice(0, 20)}"`;
    if (cacheable) cms.cache.set(site.id, path, locale, html, etag);
    c.header('ETag', etag);
    c.header('Cache-Control', 'public, max-age=0, must-revalidate');
    c.header('X-Render-Cache', 'miss');
    return c.html(html);
  });
}
