import type { CmsFeature } from './parts.js';
import { historyFeature } from './history/index.js';
import { workflowFeature } from './workflow/index.js';
import { mediaFeature } from './media/index.js';
import { typesFeature } from './types/index.js';
import { listsFeature } from './lists/index.js';
import { seoFeature } from './seo/index.js';
import { exportFeature } from './export/index.js';

/**
 * The CMS's capabilities, each in its own folder. Order matters only where noted: features
 * install in this order, and their public routes mount before the page catch-all.
 */
export const cmsFeatures: CmsFeature[] = [historyFeature, workflowFeature, mediaFeature, typesFeature, listsFeature, seoFeature, exportFeature];
