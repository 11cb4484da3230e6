import type { CmsFeature } from '../parts.js';

/** (Being built.) */
export const exportFeature: CmsFeature = {
  name: 'cms.export',
};
