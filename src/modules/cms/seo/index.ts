import { registerMessages } from '../../../core/i18n/index.js';
import type { CmsFeature } from '../parts.js';
import { cmsOf } from '../index.js';
import { addSiteHead, addSiteRequestHook } from '../frame.js';
import { seoMigrations } from './migrations.js';
import { SitemapEdits } from './sitemap.js';
import { SiteSecrets } from './secrets.js';
import { XPostService, xPostJob } from './x-posts.js';
import { AnalyticsService } from './analytics.js';
import { DEFAULT_ENDPOINTS, registerSeo, seoOf, type SeoServices } from './services.js';
import { ga4Head, seoHead, ShareLinks, siteCsp } from './head.js';
import { mountSiteAdmin } from './sites-admin.js';
import { mountSitemapAdmin } from './sitemap-admin.js';
import { mountAnalyticsAdmin } from './analytics-admin.js';

export { seoOf } from './services.js';

registerMessages({
  ja: { 'nav.cmsSites': 'サイト設定', 'nav.cmsAnalytics': 'アクセス解析', 'admin.jobLabel.cms.seo.x_post': 'ページ公開のX投稿' },
  en: { 'nav.cmsSites': 'Sites', 'nav.cmsAnalytics': 'Analytics', 'admin.jobLabel.cms.seo.x_post': 'Post published pages to X' },
});

/**
 * Sites, SEO and SNS (issue 3 items 1, 7, 9, 11): the site settings screen, the SEO head of every
 * page (description, canonical, OGP, X card, JSON-LD), share links, GA4 per site with its CSP,
 * robots.txt and the administrators' sitemap (C-3-9), GA4 figures in the CMS (C-3-20), and
 * posting newly published pages to X.
 */
export const seoFeature: CmsFeature = {
  name: 'cms.seo',
  migrations: seoMigrations,
  adminMenu: [
    { label: 'nav.cmsSites', href: '/admin/cms/sites', permission: 'cms.sites', order: 11 },
    { label: 'nav.cmsAnalytics', href: '/admin/cms/analytics', permission: 'cms.sites', order: 12 },
  ],
  jobs: (p) => [xPostJob(() => seoOf(cmsOf(p))?.xPosts)],
  install(cms, p) {
    const endpoints = { ...DEFAULT_ENDPOINTS };
    const secrets = new SiteSecrets(p.db, p.secretKey);
    const sitemap = new SitemapEdits({ db: p.db, audit: p.audit, pages: cms.pages });
    const xPosts = new XPostService({ db: p.db, audit: p.audit, jobs: p.jobs, sites: cms.sites, pages: cms.pages, secrets, endpoints, log: p.log.child({ component: 'cms.seo' }), baseUrl: () => p.config.BASE_URL });
    const analytics = new AnalyticsService({ secrets, endpoints });
    const seo: SeoServices = { sitemap, secrets, xPosts, analytics, endpoints };
    registerSeo(cms, seo);

    cms.parts.addHead(seoHead((nodeId) => sitemap.isNoindex(nodeId)), 10);
    cms.parts.addAfterBody(ShareLinks, 900);
    addSiteHead(ga4Head);
    addSiteRequestHook(siteCsp);
    // Settings shape every page of the site (frame, head): every node's render cache goes.
    cms.sites.onChange(async (siteId) => {
      const root = await cms.pages.root(siteId).catch(() => null);
      await cms.pages.notifyChanged({ siteId, nodeId: root?.id ?? 0, path: '/', kind: 'settings' });
    });
    cms.pages.onChange((change) => xPosts.onChange(change));
  },
  routes(app, p, cms) {
    const seo = seoOf(cms)!;
    mountSiteAdmin(app, p, cms, seo);
    mountSitemapAdmin(app, p, cms, seo);
    mountAnalyticsAdmin(app, p, cms, seo);
  },
};
