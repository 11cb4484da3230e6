import { defineModule } from '../../core/module.js';
import type { Platform } from '../../core/platform.js';
import { consoleActor } from '../../core/permissions/index.js';
import { cmsMigrations } from './migrations.js';
import { PageService } from './pages.js';
import { RenderCache } from './render-cache.js';
import { SiteService } from './sites.js';
import { SearchIndex } from './search/index.js';
import { startClusterSync } from './cluster-sync.js';
import { mountPublicRoutes, siteErrorRenderer } from './public-routes.js';
import { setPublicErrorRenderer } from '../../core/http/errors.js';
import { seedDemoSite } from './demo.js';
import { mountCmsAdminRoutes } from './admin-routes.js';
import { registerMessages } from '../../core/i18n/index.js';

registerMessages({ ja: { 'nav.cms': 'ページ管理' }, en: { 'nav.cms': 'Pages' } });

export interface CmsServices {
  sites: SiteService;
  pages: PageService;
  cache: RenderCache;
  search: SearchIndex;
}

const services = new WeakMap<Platform, CmsServices>();

/** The CMS's services for a platform (created once, on first use). */
export function cmsOf(p: Platform): CmsServices {
  let s = services.get(p);
  if (!s) {
    const sites = new SiteService({ db: p.db, audit: p.audit });
    const search = new SearchIndex({ db: p.db, engine: p.database.engine });
    const pages = new PageService({ db: p.db, audit: p.audit, search });
    const cache = new RenderCache();
    s = { sites, pages, cache, search };
    services.set(p, s);
    // Other nodes learn of a change through PostgreSQL; until the listener runs, nothing is cached.
    let announce: (siteId: number) => Promise<void> = async () => undefined;
    cache.enabled = p.database.engine !== 'postgres';
    void startClusterSync(p, cache)
      .then((fn) => {
        announce = fn;
      })
      .catch((err) => p.log.error({ err }, 'cms change listener could not start; render cache stays off'));
    pages.onChange(async (change) => {
      cache.clearSite(change.siteId);
      await announce(change.siteId);
    });
  }
  return s;
}

/**
 * Public websites (issue 3, in progress): sites chosen by host or path prefix, a page tree with
 * versions, publish / temporary withdrawal, public rendering with breadcrumbs and a render cache.
 */
export const cmsModule = defineModule({
  name: 'cms',
  migrations: cmsMigrations,
  permissions: [
    { key: 'cms.edit', label: 'ページの作成・編集', labelEn: 'Create and edit pages' },
    { key: 'cms.publish', label: 'ページの公開・非公開', labelEn: 'Publish and withdraw pages' },
    { key: 'cms.sites', label: 'サイトの設定', labelEn: 'Configure sites' },
  ],
  roles: [
    { key: 'site_admin', permissions: ['cms.edit', 'cms.publish', 'cms.sites'] },
    { key: 'editor', permissions: ['cms.edit'] },
    { key: 'approver', permissions: ['cms.edit', 'cms.publish'] },
  ],
  jobs: (p) => [
    {
      name: 'cms.schedule',
      label: 'ページの予約公開・公開終了',
      schedule: '* * * * *',
      handler: async () => cmsOf(p).pages.runSchedule(),
    },
  ],
  adminMenu: [{ label: 'nav.cms', href: '/admin/cms', permission: 'cms.edit', order: 10 }],
  routes(app, p) {
    mountCmsAdminRoutes(app, p, cmsOf(p));
    mountPublicRoutes(app, cmsOf(p));
    setPublicErrorRenderer(siteErrorRenderer(cmsOf(p).sites));
  },
  seedDemo: async (p) => seedDemoSite(p, cmsOf(p), consoleActor(p.permissions)),
});
