/**
 * Page-body content pipeline of the CMS: sanitising editor and Word output, and the
 * accessibility checker shown beside the editor. Pure functions, no I/O.
 */
export { ALLOWED_CLASSES, cleanWordHtml, embedUrl, sanitizeBody, type SanitizeOptions } from './sanitize.js';
export {
  checkAccessibility,
  fixMachineDependentChars,
  hasBlockingIssues,
  type A11yIssue,
  type A11yIssueCode,
} from './a11y-check.js';
