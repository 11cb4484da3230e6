import type { CmsServices } from '../index.js';
import type { SitemapEdits } from './sitemap.js';
import type { SiteSecrets } from './secrets.js';
import type { XPostService } from './x-posts.js';
import type { AnalyticsService } from './analytics.js';

/** Where the SEO feature's outside services live; tests point them at local contract servers. */
export interface SeoEndpoints {
  /** X API base (POST /2/tweets). */
  x: string;
  /** Google's OAuth 2.0 token endpoint for service accounts (the JWT's audience). */
  googleToken: string;
  /** GA4 Data API base (POST /v1beta/properties/{id}:runReport). */
  ga4Data: string;
}

export const DEFAULT_ENDPOINTS: SeoEndpoints = {
  x: 'https://api.x.com',
  googleToken: 'https://oauth2.googleapis.com/token',
  ga4Data: 'https://analyticsdata.googleapis.com',
};

/** The SEO feature's services for one platform's CMS. */
export interface SeoServices {
  sitemap: SitemapEdits;
  secrets: SiteSecrets;
  xPosts: XPostService;
  analytics: AnalyticsService;
  endpoints: SeoEndpoints;
}

const registry = new WeakMap<CmsServices, SeoServices>();

export function registerSeo(cms: CmsServices, seo: SeoServices): void {
  registry.set(cms, seo);
}

/** The SEO services of a CMS (undefined only if the feature is not installed). */
export function seoOf(cms: CmsServices): SeoServices | undefined {
  return registry.get(cms);
}
