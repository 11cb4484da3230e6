import type { CmsFeature } from '../parts.js';

/** (Being built.) */
export const workflowFeature: CmsFeature = {
  name: 'cms.workflow',
};
