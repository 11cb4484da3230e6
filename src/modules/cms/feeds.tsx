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
import { SiteFrame, requestOrigin } from './frame.js';
import { viewOf } from '../../core/ui/view.js';
import type { CmsNode, PageService } from './pages.js';
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

/** Plain text of a sanitised body, shortened, for a feed summary. */
function bodyText(html: string, max = SUMMARY_CHARS): string {
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

/** C-3-8: every public page of the site with its absolute address and last change. */
export function sitemapXml(entries: PublicEntry[], base: string): string {
  const urls = entries.slice(0, SITEMAP_LIMIT).map((e) => `<url><loc>${xmlEscape(`${base}${e.node.path}`)}</loc><lastmod>${lastModified(e)}</lastmod></url>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls.join('\n')}\n</urlset>\n`;
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

interface TreeItem {
  entry: PublicEntry;
  children: TreeItem[];
}

function nest(entries: PublicEntry[]): TreeItem[] {
  const items = new Map<number, TreeItem>();
  const roots: TreeItem[] = [];
  for (const entry of entries) {
    const item: TreeItem = { entry, children: [] };
    items.set(entry.node.id, item);
    const parent = entry.node.parent_id === null ? undefined : items.get(entry.node.parent_id);
    (parent ? parent.children : roots).push(item);
  }
  return roots;
}

function SitemapList(props: { items: TreeItem[]; prefix: string; site: Site }): Child {
  return (
    <ul>
      {props.items.map((it) => (
        <li>
          <a href={`${props.prefix}${it.entry.node.path}`}>{it.entry.node.path === '/' ? `${props.site.name} トップページ` : it.entry.title}</a>
          {it.children.length ? <SitemapList items={it.children} prefix={props.prefix} site={props.site} /> : null}
        </li>
      ))}
    </ul>
  );
}

/** The `<link rel="alternate">` a site's pages put in their head so browsers and readers find the feed. */
export function FeedLink(props: { site: Site }) {
  return <link rel="alternate" type="application/atom+xml" title={`${props.site.name} 新着情報`} href={`${props.site.pathPrefix}/feed.xml`} />;
}

/**
 * Answers `/sitemap.xml`, `/feed.xml` and `/sitemap` inside a site (the caller has resolved the
 * site and checked the path is one of FEED_PATHS). The HTML sitemap sits in the site's frame.
 */
export async function feedsRoute(c: Context<AppEnv>, site: Site, deps: { pages: PageService }, path: string): Promise<Response> {
  const entries = await deps.pages.publicTree(site.id);
  const origin = requestOrigin(c);
  const base = `${origin}${site.pathPrefix}`;

  if (path === '/sitemap.xml') return send(c, sitemapXml(entries, base), 'application/xml; charset=utf-8');

  if (path === '/feed.xml') {
    const newest = entries
      .filter((e) => e.node.kind === 'page')
      .sort((a, b) => (isoDate(b.node.published_at) ?? '').localeCompare(isoDate(a.node.published_at) ?? '') || b.node.id - a.node.id)
      .slice(0, FEED_ENTRIES);
    const bodies = await deps.pages.publicBodies(newest.filter((e) => !e.summary).map((e) => e.node.id));
    const withText = newest.map((e) => ({ ...e, text: e.summary ?? bodyText(bodies.get(e.node.id) ?? '') }));
    return send(c, atomFeed(site, withText, base, new URL(origin).hostname), 'application/atom+xml; charset=utf-8');
  }

  const v = { ...viewOf(c), csrf: '' };
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
      {entries.length ? (
        <nav aria-labelledby="sitemap-tree-title" class="sitemap">
          <h2 id="sitemap-tree-title" class="visually-hidden">このサイトのページ一覧</h2>
          <SitemapList items={nest(entries)} prefix={prefix} site={site} />
        </nav>
      ) : (
        <p>公開中のページはまだありません。</p>
      )}
      <p><a href={`${prefix}/feed.xml`} type="application/atom+xml">新着情報のフィード（Atom）</a></p>
    </SiteFrame>
  );
  return send(c, (await page).toString(), 'text/html; charset=utf-8');
}
