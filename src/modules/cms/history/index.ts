import type { CmsFeature } from '../parts.js';

/** (Being built.) */
export const historyFeature: CmsFeature = {
  name: 'cms.history',
};
