import { defineModule, type MenuEntry } from '../../core/module.js';
import type { Platform } from '../../core/platform.js';
import { consoleActor } from '../../core/permissions/index.js';
import { cmsMigrations } from './migrations.js';
import { PageService, type ContentChange } from './pages.js';
import { RenderCache } from './render-cache.js';
import { SiteService } from './sites.js';
import { SearchIndex } from './search/index.js';
import { startClusterSync } from './cluster-sync.js';
import { mountPublicRoutes, siteErrorRenderer } from './public-routes.js';
import { setPublicErrorRenderer } from '../../core/http/errors.js';
import { seedDemoSite } from './demo.js';
import { mountCmsAdminRoutes } from './admin-routes.js';
import { registerMessages } from '../../core/i18n/index.js';
import { CmsParts } from './parts.js';
import { cmsFeatures } from './features.js';

registerMessages({ ja: { 'nav.cms': 'ページ管理' }, en: { 'nav.cms': 'Pages' } });

export interface CmsServices {
  sites: SiteService;
  pages: PageService;
  cache: RenderCache;
  search: SearchIndex;
  /** Extension points the features plug into (page types, page and editor parts, publish hooks). */
  parts: CmsParts;
}

/** The CMS screens listed on the page manager (サイトの管理), each shown to holders of its permission. */
export function cmsToolLinks(): MenuEntry[] {
  return all((f) => f.adminMenu)
    .filter((m) => !MAIN_MENU.has(m.href))
    .sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
}

const services = new WeakMap<Platform, CmsServices>();

/** The CMS's services for a platform (created once, on first use). */
export function cmsOf(p: Platform): CmsServices {
  let s = services.get(p);
  if (!s) {
    const sites = new SiteService({ db: p.db, audit: p.audit, canAccess: (actor, orgId) => p.organizations.canAccess(actor, orgId) });
    const search = new SearchIndex({ db: p.db, engine: p.database.engine });
    const parts = new CmsParts();
    const pages = new PageService({ db: p.db, audit: p.audit, search, publishHooks: parts.publishHooks });
    const cache = new RenderCache();
    s = { sites, pages, cache, search, parts };
    services.set(p, s);
    for (const f of cmsFeatures) f.install?.(s, p);
    // Other nodes learn of a change through PostgreSQL; until the listener runs, nothing is cached.
    let announce: (change: ContentChange) => Promise<void> = async () => undefined;
    cache.enabled = p.database.engine !== 'postgres';
    void startClusterSync(p, cache)
      .then((fn) => {
        announce = fn;
      })
      .catch((err) => p.log.error({ err }, 'cms change listener could not start; render cache stays off'));
    pages.onChange(async (change) => {
      cache.invalidate(change);
      await announce(change);
    });
  }
  return s;
}

/**
 * Screens staff use daily stay in the main admin menu; the site administrators' screens (settings,
 * routes, categories, lists, contacts, analytics, log) are listed on the page manager instead,
 * so the menu stays short for Word-level staff.
 */
const MAIN_MENU = new Set(['/admin/cms/workflow', '/admin/cms/media']);

const all = <T,>(pick: (f: (typeof cmsFeatures)[number]) => T[] | undefined): T[] => cmsFeatures.flatMap((f) => pick(f) ?? []);

/**
 * Public websites (issue 3): sites chosen by host or path prefix, a page tree with versions,
 * publish / temporary withdrawal, public rendering with breadcrumbs and a render cache, and the
 * features in ./features.ts (workflow, media, page types, lists, SEO, static export).
 */
export const cmsModule = defineModule({
  name: 'cms',
  migrations: [...cmsMigrations, ...all((f) => f.migrations)],
  permissions: [
    { key: 'cms.edit', label: 'ページの作成・編集', labelEn: 'Create and edit pages' },
    { key: 'cms.publish', label: 'ページの公開・非公開', labelEn: 'Publish and withdraw pages' },
    { key: 'cms.sites', label: 'サイトの設定', labelEn: 'Configure sites' },
    ...all((f) => f.permissions),
  ],
  roles: [
    { key: 'site_admin', permissions: ['cms.edit', 'cms.publish', 'cms.sites'] },
    { key: 'editor', permissions: ['cms.edit'] },
    { key: 'approver', permissions: ['cms.edit', 'cms.publish'] },
    ...all((f) => f.roles),
  ],
  jobs: (p) => [
    {
      name: 'cms.schedule',
      label: 'ページの予約公開・公開終了',
      schedule: '* * * * *',
      handler: async () => cmsOf(p).pages.runSchedule(),
    },
    ...all((f) => f.jobs?.(p)),
  ],
  adminMenu: [{ label: 'nav.cms', href: '/admin/cms', permission: 'cms.edit', order: 10 }, ...all((f) => f.adminMenu).filter((m) => MAIN_MENU.has(m.href))],
  cli: all((f) => f.cli),
  routes(app, p) {
    const cms = cmsOf(p);
    mountCmsAdminRoutes(app, p, cms);
    for (const f of cmsFeatures) f.routes?.(app, p, cms);
    mountPublicRoutes(app, cms);
    setPublicErrorRenderer(siteErrorRenderer(cms.sites));
  },
  seedDemo: async (p) => {
    await seedDemoSite(p, cmsOf(p), consoleActor(p.permissions));
    for (const f of cmsFeatures) await f.seedDemo?.(p, cmsOf(p));
  },
});
