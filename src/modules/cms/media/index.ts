import type { CmsFeature } from '../parts.js';

/** (Being built.) */
export const mediaFeature: CmsFeature = {
  name: 'cms.media',
};
