/**
 * Machine- and human-readable indexes of a site (C-3-8, C-3-9, feeds for C-3-1): the XML sitemap
 * for search engines, an Atom feed of the newest pages, and the HTML sitemap in the site's frame.
 *
 * None of them goes through the render cache: they are built from the database on each request
 * (one query over the site's public nodes), so a publish or withdrawal shows at once on every
 * node. Each answer carries an ETag so feed readers and crawlers revalidate cheaply.
 */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { Parser } from 'htmlparser2';
import type { AppEnv } from '../../core/http/types.js';
import { SiteFrame, siteOrigin } from './frame.js';
import { publicViewOf } from '../../core/ui/view.js';
import type { CmsNode, PageService } from './pages.js';
import type { CmsServices } from './index.js';
import { arrangeSitemap, listedInXml, visibleInHtml, type SitemapEntry } from './seo/sitemap.js';
import { seoOf } from './seo/services.js';
import type { Site } from './sites.js';

/** The paths inside every site that this file answers (a page slug `sitemap` at the top would be shadowed). */
export const FEED_PATHS: readonly string[] = ['/sitemap.xml', '/feed.xml', '/sitemap'];

/** Sitemaps hold at most 50,000 addresses (sitemaps.org); a larger site would need an index file. */
const SITEMAP_LIMIT = 50_000;
const FEED_ENTRIES = 20;
const SUMMARY_CHARS = 120;

type PublicEntry = Awaited<ReturnType<PageService['publicTree']>>[number];

/** Text safe inside XML 1.0 elements and attributes: escaped, without the characters XML forbids. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** An RFC 3339 / W3C date-time in UTC, whatever the engine handed back. */
function isoDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** When the page's public content last changed: its first publication or its live version, whichever is later. */
function lastModified(e: PublicEntry): string {
  const dates = [isoDate(e.node.published_at), isoDate(e.versionAt)].filter((d): d is string => d !== null).sort();
  return dates[dates.length - 1] ?? new Date(0).toISOString();
}

/** Plain text of a sanitised body, shortened (feed summaries, meta descriptions). */
export function bodyText(html: string, max = SUMMARY_CHARS): string {
  let text = '';
  const parser = new Parser({ ontext: (t) => void (text += t) }, { decodeEntities: true });
  parser.write(html.replace(/<\/(p|h[1-6]|li|tr|div|br)\s*>|<br\s*\/?>/gi, (m) => `${m} `));
  parser.end();
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Sends a body with an ETag, answering 304 when the client already has it. */
function send(c: Context<AppEnv>, body: string, contentType: string): Response {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 20)}"`;
  c.header('ETag', etag);
  c.header('Cache-Control', 'public, max-age=0, must-revalidate');
  if (c.req.header('if-none-match') === etag) return c.body(null, 304);
  c.header('Content-Type', contentType);
  return c.body(body);
}

/** One address of sitemap.xml: a path inside the site and, for pages, when it last changed. */
export interface SitemapUrl {
  path: string;
  lastmod: string | null;
}

/** C-3-8: every listed address of the site, absolute, with its last change when known. */
export function sitemapXml(urls: SitemapUrl[], base: string): string {
  const lines = urls.slice(0, SITEMAP_LIMIT).map((u) => `<url><loc>${xmlEscape(`${base}${u.path}`)}</loc>${u.lastmod ? `<lastmod>${u.lastmod}</lastmod>` : ''}</url>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${lines.join('\n')}\n</urlset>\n`;
}

/** A stable entry id that survives a page being moved or renamed (RFC 4151 tag URI). */
function entryId(node: CmsNode, site: Site, hostname: string): string {
  const day = (isoDate(node.created_at) ?? new Date(0).toISOString()).slice(0, 10);
  return `tag:${hostname},${day}:${site.key}/${node.id}`;
}

/** Atom 1.0 (RFC 4287): the newest pages first. */
export function atomFeed(site: Site, entries: Array<PublicEntry & { text: string }>, base: string, hostname: string): string {
  const updated = entries.map(lastModified).sort().at(-1) ?? new Date(0).toISOString();
  const items = entries.map((e) => {
    const href = xmlEscape(`${base}${e.node.path}`);
    return [
      '<entry>',
      `<title type="text">${xmlEscape(e.title)}</title>`,
      `<link rel="alternate" type="text/html" href="${href}"/>`,
      `<id>${xmlEscape(entryId(e.node, site, hostname))}</id>`,
      `<published>${isoDate(e.node.published_at) ?? lastModified(e)}</published>`,
      `<updated>${lastModified(e)}</updated>`,
      e.text ? `<summary type="text">${xmlEscape(e.text)}</summary>` : '',
      '</entry>',
    ].join('');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ja">`,
    `<title type="text">${xmlEscape(site.name)}</title>`,
    `<link rel="alternate" type="text/html" href="${xmlEscape(`${base}/`)}"/>`,
    `<link rel="self" type="application/atom+xml" href="${xmlEscape(`${base}/feed.xml`)}"/>`,
    `<id>${xmlEscape(`${base}/`)}</id>`,
    `<updated>${updated}</updated>`,
    `<author><name>${xmlEscape(site.name)}</name></author>`,
    '<generator>Machimado</generator>',
    ...items,
    '</feed>',
    '',
  ].join('\n');
}

function SitemapList(props: { items: SitemapEntry[]; prefix: string }): Child {
  return (
    <ul>
      {props.items.map((it) => (
        <li>
          <a href={it.href.startsWith('/') ? `${props.prefix}${it.href}` : it.href}>{it.label}</a>
          {it.children.length ? <SitemapList items={it.children} prefix={props.prefix} /> : null}
        </li>
      ))}
    </ul>
  );
}

/** The `<link rel="alternate">` a site's pages put in their head so browsers and readers find the feed. */
export function FeedLink(props: { site: Site }) {
  return <link rel="alternate" type="application/atom+xml" title={`${props.site.name} 新着情報`} href={`${props.site.pathPrefix}/feed.xml`} />;
}

/** The site's sitemap as administrators arranged it (C-3-9), or the plain public tree without the SEO feature. */
async function arranged(site: Site, cms: CmsServices): Promise<SitemapEntry[]> {
  const edits = seoOf(cms)?.sitemap;
  if (edits) return edits.arranged(site);
  return arrangeSitemap(await cms.pages.publicTree(site.id), [], site);
}

/**
 * Answers `/sitemap.xml`, `/feed.xml` and `/sitemap` inside a site (the caller has resolved the
 * site and checked the path is one of FEED_PATHS). The HTML sitemap sits in the site's frame.
 */
export async function feedsRoute(c: Context<AppEnv>, site: Site, cms: CmsServices, path: string): Promise<Response> {
  const origin = siteOrigin(c, site);
  const base = `${origin}${site.pathPrefix}`;

  if (path === '/sitemap.xml') {
    const urls = listedInXml(await arranged(site, cms)).map((e) => ({ path: e.href, lastmod: e.entry ? lastModified(e.entry) : null }));
    return send(c, sitemapXml(urls, base), 'application/xml; charset=utf-8');
  }

  if (path === '/feed.xml') {
    const entries = await cms.pages.publicTree(site.id);
    const newest = entries
      .filter((e) => e.node.kind === 'page')
      .sort((a, b) => (isoDate(b.node.published_at) ?? '').localeCompare(isoDate(a.node.published_at) ?? '') || b.node.id - a.node.id)
      .slice(0, FEED_ENTRIES);
    const bodies = await cms.pages.publicBodies(newest.filter((e) => !e.summary).map((e) => e.node.id));
    const withText = newest.map((e) => ({ ...e, text: e.summary ?? bodyText(bodies.get(e.node.id) ?? '') }));
    return send(c, atomFeed(site, withText, base, new URL(origin).hostname), 'application/atom+xml; charset=utf-8');
  }

  const tree = visibleInHtml(await arranged(site, cms));
  const v = publicViewOf(c);
  const prefix = site.pathPrefix;
  const page = (
    <SiteFrame c={c} v={v} site={site} title="サイトマップ" head={<FeedLink site={site} />}>
      <nav aria-label="現在位置" class="breadcrumbs">
        <ol>
          <li><a href={`${prefix}/`}>{site.name}</a></li>
          <li aria-current="page">サイトマップ</li>
        </ol>
      </nav>
      <h1>サイトマップ</h1>
      {tree.length ? (
        <nav aria-labelledby="sitemap-tree-title" class="sitemap">
          <h2 id="sitemap-tree-title" class="visually-hidden">このサイトのページ一覧</h2>
          <SitemapList items={tree} prefix={prefix} />
        </nav>
      ) : (
        <p>公開中のページはまだありません。</p>
      )}
      <p><a href={`${prefix}/feed.xml`} type="application/atom+xml">新着情報のフィード（Atom）</a></p>
    </SiteFrame>
  );
  return send(c, (await page).toString(), 'text/html; charset=utf-8');
}

/**
 * robots.txt: everyone may crawl the public pages, not the staff console or previews; the
 * sitemap of each site on this address; then the administrators' own lines. Served at the host
 * root for host-bound sites (all sites on the host together) and at `<prefix>/robots.txt`.
 */
export function robotsTxt(sites: Array<{ site: Site; base: string }>): string {
  const lines = ['User-agent: *', 'Disallow: /admin/', 'Disallow: /preview/'];
  // Staff preview links also live under each site's prefix.
  for (const { site } of sites) if (site.pathPrefix) lines.push(`Disallow: ${site.pathPrefix}/preview/`);
  const extra = sites.map(({ site }) => site.settings.robotsExtra?.trim()).filter((x): x is string => Boolean(x));
  for (const block of extra) lines.push(...block.split(/\r?\n/).map((l) => l.trim()).filter(Boolean));
  lines.push('');
  for (const { base } of sites) lines.push(`Sitemap: ${base}/sitemap.xml`);
  return `${lines.join('\n')}\n`;
}

/** Answers robots.txt for the given sites (one, or every site bound to the request's host). */
export function robotsRoute(c: Context<AppEnv>, sites: Site[]): Response {
  return send(c, robotsTxt(sites.map((site) => ({ site, base: `${siteOrigin(c, site)}${site.pathPrefix}` }))), 'text/plain; charset=utf-8');
}
