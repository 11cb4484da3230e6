import type { Platform } from '../../../core/platform.js';
import { registerMessages } from '../../../core/i18n/index.js';
import type { CmsServices } from '../index.js';
import type { CmsFeature } from '../parts.js';
import { installPageParts } from './page-parts.js';
import { listsMigrations } from './migrations.js';
import { ListService } from './service.js';
import { mountListsPublicRoutes } from './public.js';
import { mountListsAdminRoutes } from './admin.js';
import { buildMapBundle } from './map-bundle.js';
import { seedListsDemo } from './demo.js';

registerMessages({ ja: { 'nav.cmsLists': '自動一覧' }, en: { 'nav.cmsLists': 'Automatic lists' } });

const services = new WeakMap<Platform, ListService>();

/** The list engine of a platform (created when the CMS installs its features). */
export function listsOf(p: Platform): ListService {
  const s = services.get(p);
  if (!s) throw new Error('cms.lists is not installed on this platform; call cmsOf(p) first');
  return s;
}

/**
 * Automatic lists (C-3-1..C-3-4), the event calendar and the spot map (C-2-6). Lists are read
 * from the live pages at render; PageService's change announcements clear the render cache, and
 * list settings announce their own changes, so every list is current on the next request.
 */
export const listsFeature: CmsFeature = {
  name: 'cms.lists',
  migrations: listsMigrations,
  adminMenu: [{ label: 'nav.cmsLists', href: '/admin/cms/lists', permission: 'cms.sites', order: 13 }],
  cli: [
    {
      name: 'cms:lists-reindex',
      summary: '自動一覧とイベントカレンダーが使う、公開中ページの重要・緊急・開催日を作り直す',
      async run(p) {
        const { cmsOf } = await import('../index.js');
        cmsOf(p);
        const n = await listsOf(p).rebuildFacts();
        console.log(`${n} ページを索引しました。`);
        return 0;
      },
    },
  ],
  install(cms: CmsServices, p: Platform) {
    const lists = new ListService({ db: p.db, audit: p.audit, notify: (change) => cms.pages.notifyChanged(change) });
    services.set(p, lists);
    // Facts follow the live version; a page off the site keeps none, so the 緊急/重要 indexes stay small.
    cms.parts.onPublishTx(async (tx, event) => {
      if ((event.kind === 'publish' || event.kind === 'restore' || event.kind === 'show') && event.version) await lists.recordFacts(tx, event.node, event.version);
      else if (event.kind === 'unpublish' || event.kind === 'trash') await lists.dropFacts(tx, event.node.id);
    });
    installPageParts(cms, p, lists);
    // Build the map's script ahead of the first visitor; a failure is retried on first use.
    buildMapBundle().catch((err: unknown) => p.log.warn({ err }, 'spot map bundle could not be built yet'));
  },
  routes(app, p, cms) {
    mountListsAdminRoutes(app, p, cms, listsOf(p));
    mountListsPublicRoutes(app, p, cms, listsOf(p));
  },
  seedDemo: (p, cms) => seedListsDemo(p, cms, listsOf(p)),
};
