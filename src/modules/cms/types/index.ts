import type { CmsFeature } from '../parts.js';

/** (Being built.) */
export const typesFeature: CmsFeature = {
  name: 'cms.types',
};
