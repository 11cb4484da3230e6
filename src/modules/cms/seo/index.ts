import type { CmsFeature } from '../parts.js';

/** (Being built.) */
export const seoFeature: CmsFeature = {
  name: 'cms.seo',
};
