import { LIST_TAG } from '../render-cache.js';
/** The pieces lists add to public pages: the RSS links in the head, the lists after the body, the stylesheet. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Platform } from '../../../core/platform.js';
import { registerAsset } from '../../../core/ui/assets.js';
import type { CmsServices } from '../index.js';
import { addSiteHead } from '../frame.js';
import type { PublicPageContext } from '../parts.js';
import type { ListConfig } from './config.js';
import type { ListService } from './service.js';
import { ListBlock, listFeedPath, needsBody } from './view.js';
import { labelsFor } from './page-kit.js';

const stylesheet = registerAsset('lists.css', readFileSync(fileURLToPath(new URL('./lists.css', import.meta.url)), 'utf8'), 'text/css; charset=utf-8');
const ListsStylesheet = () => <link rel="stylesheet" href={stylesheet} />;

/** Registers the lists' head and after-body parts and the site-wide stylesheet. */
export function installPageParts(cms: CmsServices, p: Platform, lists: ListService): void {
    // Head and body parts of one page share one read of the page's lists.
    const onPage = new WeakMap<PublicPageContext, Promise<ListConfig[]>>();
    const listsFor = (ctx: PublicPageContext) => {
      let found = onPage.get(ctx);
      if (!found) onPage.set(ctx, (found = lists.listsOn(ctx.node.id)));
      return found;
    };
    cms.parts.addHead(async (ctx) =>
      (await listsFor(ctx)).map((l) => <link rel="alternate" type="application/rss+xml" title={`${ctx.site.name} ${l.heading}`} href={`${ctx.prefix}${listFeedPath(l.id)}`} />),
    );
    cms.parts.addAfterBody(async (ctx) => {
      const found = await listsFor(ctx);
      if (!found.length) return null;
      // A page showing an automatic list must be cleared whenever any page changes.
      cms.cache.dependOn(ctx.c, LIST_TAG);
      const labels = await labelsFor(p, cms, ctx.site, { departments: found.some((l) => l.columns.includes('department')) });
      const blocks = await Promise.all(
        found.map(async (list) => {
          const w = await lists.window(list, { limit: list.limit, withBody: needsBody(list) });
          return <ListBlock list={list} items={w.items} hasMore={w.hasMore} labels={labels} />;
        }),
      );
      return <>{blocks}</>;
    }, 50);
    addSiteHead(ListsStylesheet);
}
