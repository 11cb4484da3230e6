import { createHash, randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { raw } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../../core/http/types.js';
import { PublicLayout } from '../../core/ui/layout.js';
import { publicViewOf } from '../../core/ui/view.js';
import { parseJson } from '../../core/db/index.js';
import type { CmsNode, CmsVersion } from './pages.js';
import type { CmsServices } from './index.js';
import type { PagePart, PublicPageContext } from './parts.js';
import { SiteFrame, applySiteRequestHooks, markPreview, siteOrigin, themeCss } from './frame.js';
import type { Site, SiteService } from './sites.js';
import { searchPage } from './search/page.js';
import { feedsRoute, robotsRoute, FeedLink } from './feeds.js';

/** 404, 500 and other error pages in the design of the site the address belongs to. */
export function siteErrorRenderer(sites: SiteService) {
  return async (c: Context<AppEnv>, status: ContentfulStatusCode, messageKey: string): Promise<Response> => {
    const resolved = await sites.resolve(c.req.header('host') ?? '', c.req.path).catch(() => null);
    const v = publicViewOf(c);
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
    const plain = () => <PublicLayout v={v} title={title} siteName={t('app.name')} homeHref="/">{body}</PublicLayout>;
    let html: string;
    try {
      html = (await (site ? <SiteFrame c={c} v={v} site={site} title={title}>{body}</SiteFrame> : plain())).toString();
    } catch (err) {
      // The site's own frame failed too (a broken head part): the error still gets a page.
      c.get('log')?.error({ err }, 'site frame failed while rendering an error page');
      html = (await plain()).toString();
    }
    if (status >= 500) c.header('Cache-Control', 'no-store');
    return c.html(html, status);
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
  const v = publicViewOf(c);
  const prefix = site.pathPrefix;
  const isTop = node.path === '/';
  if (opts.preview) markPreview(c);
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
    url: `${siteOrigin(c, site)}${prefix}${node.path}`,
  };
  const run = (parts: PagePart[]) => Promise.all(parts.map((part) => part(ctx)));
  const [head, before, after, body] = await Promise.all([run(cms.parts.headParts()), run(cms.parts.beforeBodyParts()), run(cms.parts.afterBodyParts()), cms.parts.filterBody(version.body_html, ctx)]);
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
        {body ? <div class="page-body">{raw(body)}</div> : null}
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

/** Stands for the request's CSP nonce in cached pages; random per process, so content cannot contain it. */
const NONCE_SLOT = `mm-nonce-${randomBytes(16).toString('hex')}`;

/**
 * Public pages of every CMS site: resolves the site from host and path, renders the live
 * version in the site's frame with breadcrumbs, and serves it from the render cache.
 * Requests no site or page claims fall through to the next handler.
 *
 * Cached pages keep their inline scripts (a site's GA4 snippet) by storing the nonce as a slot
 * that each response fills with its own nonce. The cache key carries the site's last settings
 * change, so a node whose site list is a few seconds old never keeps an outdated frame.
 */
export function mountPublicRoutes(app: Hono<AppEnv>, cms: CmsServices) {
  app.get('*', async (c: Context<AppEnv>, next) => {
    if (c.req.path.startsWith('/admin') || c.req.path.startsWith('/assets/')) return next();
    const host = c.req.header('host') ?? '';
    if (c.req.path === '/robots.txt') {
      // Crawlers only read robots.txt at the root of a host: it names every site bound to the host.
      const bound = await cms.sites.boundTo(host);
      if (bound.length) return robotsRoute(c, bound);
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(c.req.path);
    } catch {
      return next(); // a malformed %-escape names no page: 404, not 500
    }
    const resolved = await cms.sites.resolve(host, decoded);
    if (!resolved) return next();
    const { site, path } = resolved;
    if (path === '/search') return searchPage(c, site, cms.search);
    if (path === '/sitemap.xml' || path === '/feed.xml' || path === '/sitemap') return feedsRoute(c, site, cms, path);
    if (path === '/robots.txt') return robotsRoute(c, [site]);
    if (path === '/theme.css') return themeRoute(c, site);
    const locale = c.get('locale');
    // A maintenance banner is per request and time-bound: such pages are neither read from nor put in the cache.
    const cacheable = !c.get('maintenanceNotice');
    const key = `${site.updatedAt ?? ''}|${path}`;
    const cached = cacheable ? cms.cache.get(site.id, key, locale) : undefined;
    if (cached) {
      applySiteRequestHooks(c, site);
      if (c.req.header('if-none-match') === cached.etag) return c.body(null, 304);
      c.header('ETag', cached.etag);
      c.header('Cache-Control', 'public, max-age=0, must-revalidate');
      c.header('X-Render-Cache', 'hit');
      return c.html(cached.html.replaceAll(NONCE_SLOT, c.get('nonce')));
    }
    const found = await cms.pages.findPublic(site.id, path);
    if (!found) return next();
    const html = await renderPage(c, cms, site, found, { preview: false });
    const template = html.split(c.get('nonce')).join(NONCE_SLOT);
    const etag = `"${createHash('sha256').update(template).digest('base64url').slice(0, 20)}"`;
    if (cacheable) cms.cache.set(site.id, key, locale, template, etag, cms.cache.tagsFor(c, found));
    c.header('ETag', etag);
    c.header('Cache-Control', 'public, max-age=0, must-revalidate');
    c.header('X-Render-Cache', 'miss');
    return c.html(html);
  });
}

/** The site's theme stylesheet (see themeCss); its address changes with its content. */
function themeRoute(c: Context<AppEnv>, site: Site): Response {
  c.header('Content-Type', 'text/css; charset=utf-8');
  c.header('Cache-Control', c.req.query('v') ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate');
  return c.body(themeCss(site));
}
