import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../../core/http/types.js';
import { PublicLayout } from '../../core/ui/layout.js';
import type { View } from '../../core/ui/view.js';
import type { Site } from './sites.js';
import { textColourOn } from './seo/contrast.js';

/** Head and body additions every page of a site carries (GA4 tag, theme colour, feed link…). */
export type SiteHeadPart = (props: { site: Site; v: View; c: Context<AppEnv> }) => Child;

const siteHeadParts: SiteHeadPart[] = [];

/** Registers something every page of every site puts in its `<head>` (once per process). */
export function addSiteHead(part: SiteHeadPart): void {
  if (!siteHeadParts.includes(part)) siteHeadParts.push(part);
}

/**
 * Something every response of a site needs, whether its page is rendered or comes from the render
 * cache (the CSP sources of the site's analytics, for example).
 */
export type SiteRequestHook = (c: Context<AppEnv>, site: Site) => void;

const siteRequestHooks: SiteRequestHook[] = [];

/** Registers a hook run for every response of every site (once per process). */
export function addSiteRequestHook(hook: SiteRequestHook): void {
  if (!siteRequestHooks.includes(hook)) siteRequestHooks.push(hook);
}

/** Runs the site request hooks (SiteFrame does; so does a render-cache hit). */
export function applySiteRequestHooks(c: Context<AppEnv>, site: Site): void {
  for (const hook of siteRequestHooks) hook(c, site);
}

const previews = new WeakSet<Context<AppEnv>>();

/** Marks a request as a staff preview: no analytics, no indexing. */
export function markPreview(c: Context<AppEnv>): void {
  previews.add(c);
}

/** Whether the request renders a staff preview (or anything under /admin). */
export function isPreview(c: Context<AppEnv>): boolean {
  // Preview links live at `/preview/<token>` or `<prefix>/preview/<token>` (an unknown token's 404 too).
  return previews.has(c) || c.req.path === '/admin' || c.req.path.startsWith('/admin/') || /(^|\/)preview\//.test(c.req.path);
}

/** A menu link as written by administrators: site paths get the site's prefix. */
export function siteHref(site: Site, href: string): string {
  return href.startsWith('/') && !href.startsWith('//') ? `${site.pathPrefix}${href}` : href;
}

function SiteHeaderMenu(props: { site: Site }) {
  if (!props.site.settings.headerMenu.length) return null;
  return (
    <nav aria-label="サイトメニュー">
      <ul class="site-menu">
        {props.site.settings.headerMenu.map((m) => (
          <li><a href={siteHref(props.site, m.href)}>{m.label}</a></li>
        ))}
      </ul>
    </nav>
  );
}

function SiteFooter(props: { site: Site }) {
  const { site } = props;
  return (
    <>
      {site.settings.footerMenu.length ? (
        <nav aria-label="フッターメニュー">
          <ul class="site-menu">
            {site.settings.footerMenu.map((m) => (
              <li><a href={siteHref(site, m.href)}>{m.label}</a></li>
            ))}
          </ul>
        </nav>
      ) : null}
      <p>{site.settings.footerText || `© ${site.name}`}</p>
    </>
  );
}

/** C-3-22: the site-search box on every page. */
export function SearchBox(props: { prefix: string; q?: string; id: string; landmark?: string }) {
  return (
    <form method="get" action={`${props.prefix}/search`} role="search" class="site-search" aria-label={props.landmark ?? 'サイト内検索'}>
      <label for={props.id} class="visually-hidden">サイト内検索</label>
      <input type="search" id={props.id} name="q" value={props.q ?? ''} placeholder="サイト内検索" />
      <button type="submit" class="button--small">検索</button>
    </form>
  );
}

export function SiteHeader(props: { site: Site; q?: string }) {
  return (
    <>
      <SiteHeaderMenu site={props.site} />
      <SearchBox prefix={props.site.pathPrefix} q={props.q} id="site-search-q" />
    </>
  );
}

/**
 * The installation's public origin, from BASE_URL. Never from the Host or X-Forwarded-Proto
 * headers: a page rendered for one request is cached and served to everyone, so a forged Host
 * would otherwise plant its domain in canonical URLs, OGP and feeds for every visitor.
 */
export function requestOrigin(c: Context<AppEnv>): string {
  return new URL(c.get('baseUrl')).origin;
}

/**
 * The origin pages of a site are addressed by in canonical URLs, OGP and sitemaps: the site's own
 * host when it has one (with BASE_URL's scheme), else the installation's origin.
 */
export function siteOrigin(c: Context<AppEnv>, site: Site): string {
  const base = new URL(c.get('baseUrl'));
  return site.host ? `${base.protocol}//${site.host}` : base.origin;
}

/**
 * The site's own stylesheet: the header bar in its theme colour, with text that keeps 4.5:1.
 * Served at `<prefix>/theme.css` (the CSP allows only same-origin styles, never inline ones).
 */
export function themeCss(site: Site): string {
  const bg = site.settings.themeColor;
  if (!bg || !/^#[0-9a-f]{6}$/i.test(bg)) return '';
  const fg = textColourOn(bg);
  return [
    `body > .site-header { background: ${bg}; color: ${fg}; border-bottom-color: ${bg}; }`,
    `body > .site-header a, body > .site-header a:visited, body > .site-header .site-header__brand, body > .site-header .site-header__brand:visited { color: ${fg}; }`,
    `body > .site-header a:hover { color: ${fg}; text-decoration-thickness: 2px; }`,
    `body > .site-header button { border-color: ${fg}; }`,
    '',
  ].join('\n');
}

/** Address of the theme stylesheet, versioned by the site's last change so browsers may keep it. */
export function themeHref(site: Site): string {
  return `${site.pathPrefix}/theme.css?v=${encodeURIComponent(createHash('sha256').update(themeCss(site)).digest('base64url').slice(0, 12))}`;
}

/**
 * The frame of every page of a site — pages, search, sitemap, error pages: the site's header
 * (logo, theme colour, menu, search box), footer (menu, text), and the site-wide head parts,
 * around the content.
 */
export function SiteFrame(props: { c: Context<AppEnv>; v: View; site: Site; title: string; head?: Child; q?: string; children: Child }) {
  const { site, v, c } = props;
  applySiteRequestHooks(c, site);
  return (
    <PublicLayout
      v={v}
      title={props.title}
      siteName={site.name}
      homeHref={`${site.pathPrefix}/`}
      brand={site.settings.logoUrl ? <img class="site-header__logo" src={site.settings.logoUrl} alt={site.name} height={48} /> : undefined}
      head={
        <>
          {site.settings.themeColor ? <link rel="stylesheet" href={themeHref(site)} /> : null}
          {siteHeadParts.map((part) => part({ site, v, c }))}
          {props.head}
        </>
      }
      header={<SiteHeader site={site} q={props.q} />}
      footer={<SiteFooter site={site} />}
    >
      {props.children}
    </PublicLayout>
  );
}
