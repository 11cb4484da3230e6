import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../../core/http/types.js';
import { PublicLayout } from '../../core/ui/layout.js';
import type { View } from '../../core/ui/view.js';
import type { Site } from './sites.js';

/** Head and body additions every page of a site carries (GA4 tag, theme colour, feed link…). */
export type SiteHeadPart = (props: { site: Site; v: View; c: Context<AppEnv> }) => Child;

const siteHeadParts: SiteHeadPart[] = [];

/** Registers something every page of every site puts in its `<head>` (once per process). */
export function addSiteHead(part: SiteHeadPart): void {
  if (!siteHeadParts.includes(part)) siteHeadParts.push(part);
}

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
      <SiteHeaderMenu site={props.site} prefix={props.site.pathPrefix} />
      <SearchBox prefix={props.site.pathPrefix} q={props.q} id="site-search-q" />
    </>
  );
}

/**
 * Scheme and host of the request as the visitor sees it. The Host header already chose this site
 * (a host-bound site is only reached by its own host); a TLS-terminating proxy tells us the scheme.
 */
export function requestOrigin(c: Context<AppEnv>): string {
  const url = new URL(c.req.url);
  const forwarded = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const scheme = forwarded === 'https' || forwarded === 'http' ? forwarded : url.protocol.replace(/:$/, '');
  return `${scheme}://${url.host}`;
}

/**
 * The frame of every page of a site — pages, search, sitemap, error pages: the site's header
 * menu and search box, footer, and the site-wide head parts, around the content.
 */
export function SiteFrame(props: { c: Context<AppEnv>; v: View; site: Site; title: string; head?: Child; q?: string; children: Child }) {
  const { site, v, c } = props;
  return (
    <PublicLayout
      v={v}
      title={props.title}
      siteName={site.name}
      homeHref={`${site.pathPrefix}/`}
      head={
        <>
          {siteHeadParts.map((part) => part({ site, v, c }))}
          {props.head}
        </>
      }
      header={<SiteHeader site={site} q={props.q} />}
      footer={site.settings.footerText ? <p>{site.settings.footerText}</p> : undefined}
    >
      {props.children}
    </PublicLayout>
  );
}
