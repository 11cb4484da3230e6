import type { CmsFeature } from '../parts.js';

/** (Being built.) */
export const listsFeature: CmsFeature = {
  name: 'cms.lists',
};
