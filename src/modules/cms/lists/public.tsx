/**
 * Public addresses of this feature inside every site: a list's paged page and its RSS feed
 * (`/lists/<id>/`, `/lists/<id>/feed.xml`), the event calendar (`/events/`, `/events/calendar.ics`)
 * and the spot map (`/map/`). Mounted before the page catch-all; none goes through the render
 * cache (each is one or two indexed queries), so a change shows on the next request everywhere.
 */
import type { Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { publicViewOf } from '../../../core/ui/view.js';
import type { CmsServices } from '../index.js';
import { SiteFrame, requestOrigin } from '../frame.js';
import { FeedLink } from '../feeds.js';
import type { Site } from '../sites.js';
import type { ListConfig } from './config.js';
import type { ListService } from './service.js';
import { ListItems, listFeedPath, listPagePath, needsBody, rssFeed } from './view.js';
import { Crumbs, labelsFor, sendWithEtag } from './page-kit.js';
import { calendarIcs, eventsPage } from './calendar.js';
import { mapPage } from './map.js';

/** Items per page of a list's own page. */
export const LIST_PAGE_SIZE = 20;

/** Top-level names this feature serves in every site (pages cannot use them). */
export const LISTS_RESERVED_SLUGS = ['lists', 'events', 'map'];

/** The list's host page when the public can see it (the list's own page and feed follow it). */
async function publicHost(cms: CmsServices, site: Site, list: ListConfig) {
  const host = await cms.pages.node(list.hostNodeId).catch(() => null);
  return host ? cms.pages.findPublic(site.id, host.path) : null;
}

async function listPage(c: Context<AppEnv>, p: Platform, cms: CmsServices, lists: ListService, site: Site, listId: number): Promise<Response | null> {
  const list = await lists.get(listId).catch(() => null);
  if (!list || list.siteId !== site.id) return null;
  const host = await publicHost(cms, site, list);
  if (!host) return null;
  const pageNo = Math.max(1, Math.min(10_000, Number.parseInt(c.req.query('page') ?? '1', 10) || 1));
  const window = await lists.window(list, { offset: (pageNo - 1) * LIST_PAGE_SIZE, limit: LIST_PAGE_SIZE, withTotal: true, withBody: needsBody(list) });
  const pages = Math.max(1, Math.ceil((window.total ?? 0) / LIST_PAGE_SIZE));
  if (pageNo > pages) return null;
  const labels = await labelsFor(p, cms, site, { departments: list.columns.includes('department') });
  const v = publicViewOf(c);
  const prefix = site.pathPrefix;
  const self = `${prefix}${listPagePath(list.id)}`;
  const trail = [
    ...host.ancestors.filter((a) => a.node.path !== '/').map((a) => ({ href: `${prefix}${a.node.path}`, title: a.title })),
    ...(host.node.path === '/' ? [] : [{ href: `${prefix}${host.node.path}`, title: host.version.title }]),
    { title: list.heading },
  ];
  const page: Child = (
    <SiteFrame c={c} v={v} site={site} title={pageNo > 1 ? `${list.heading}（${pageNo}ページ目）` : list.heading} head={<><FeedLink site={site} /><link rel="alternate" type="application/rss+xml" title={`${site.name} ${list.heading}`} href={`${prefix}${listFeedPath(list.id)}`} /></>}>
      <Crumbs site={site} trail={trail} />
      <h1>{list.heading}</h1>
      <p>全{window.total}件{pages > 1 ? `（${pageNo} / ${pages} ページ）` : ''}</p>
      <section class="auto-list" aria-label={list.heading} data-list-id={String(list.id)}>
        <ListItems list={list} items={window.items} labels={labels} />
      </section>
      {pages > 1 ? (
        <nav class="pager" aria-label="ページ送り">
          {pageNo > 1 ? <a href={`${self}?page=${pageNo - 1}`} rel="prev">前の{LIST_PAGE_SIZE}件</a> : null}
          <span>{pageNo} / {pages} ページ</span>
          {pageNo < pages ? <a href={`${self}?page=${pageNo + 1}`} rel="next">次の{LIST_PAGE_SIZE}件</a> : null}
        </nav>
      ) : null}
      <p><a href={`${prefix}${listFeedPath(list.id)}`} type="application/rss+xml">{list.heading}のRSS</a></p>
    </SiteFrame>
  );
  return sendWithEtag(c, (await page).toString(), 'text/html; charset=utf-8');
}

async function listFeed(c: Context<AppEnv>, p: Platform, cms: CmsServices, lists: ListService, site: Site, listId: number): Promise<Response | null> {
  const list = await lists.get(listId).catch(() => null);
  if (!list || list.siteId !== site.id) return null;
  const host = await publicHost(cms, site, list);
  if (!host) return null;
  const window = await lists.window(list, { limit: list.limit, withBody: true });
  const origin = requestOrigin(c);
  const base = `${origin}${site.pathPrefix}`;
  const labels = await labelsFor(p, cms, site);
  const xml = rssFeed({ list, items: window.items, siteName: site.name, base, hostUrl: `${base}${host.node.path}`, selfUrl: `${base}${listFeedPath(list.id)}`, hostname: new URL(origin).hostname, siteKey: site.key, labels });
  return sendWithEtag(c, xml, 'application/rss+xml; charset=utf-8');
}

/** Only requests ending in one of these can be ours; everything else passes straight on. */
const OURS = /\/(lists\/\d+\/(feed\.xml)?|events\/?|events\/calendar\.ics|map\/?)$/;

/** Mounts the public addresses of lists, the calendar and the map (before the page catch-all). */
export function mountListsPublicRoutes(app: Hono<AppEnv>, p: Platform, cms: CmsServices, lists: ListService): void {
  app.get('*', async (c, next) => {
    if (c.req.path.startsWith('/admin') || c.req.path.startsWith('/assets/') || !OURS.test(c.req.path)) return next();
    let decoded: string;
    try {
      decoded = decodeURIComponent(c.req.path);
    } catch {
      return next();
    }
    const resolved = await cms.sites.resolve(c.req.header('host') ?? '', decoded);
    if (!resolved) return next();
    const { site, path } = resolved;
    const query = new URL(c.req.url).search;
    let res: Response | null = null;
    let m: RegExpExecArray | null;
    if ((m = /^\/lists\/(\d+)\/$/.exec(path))) res = await listPage(c, p, cms, lists, site, Number(m[1]));
    else if ((m = /^\/lists\/(\d+)\/feed\.xml$/.exec(path))) res = await listFeed(c, p, cms, lists, site, Number(m[1]));
    else if (path === '/events' || path === '/map') return c.redirect(`${site.pathPrefix}${path}/${query}`, 301);
    else if (path === '/events/') res = await eventsPage(c, p, cms, lists, site);
    else if (path === '/events/calendar.ics') res = await calendarIcs(c, p, lists, site);
    else if (path === '/map/') res = await mapPage(c, p, cms, lists, site);
    return res ?? next();
  });
}
