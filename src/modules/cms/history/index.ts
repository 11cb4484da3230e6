import { registerMessages } from '../../../core/i18n/index.js';
import type { CmsFeature } from '../parts.js';
import { cmsOf } from '../index.js';
import { historyMigrations } from './migrations.js';
import { mountHistoryRoutes } from './routes.js';
import { mountTrashRoutes } from './trash-routes.js';
import { mountLogRoutes } from './log-routes.js';
import { mountPreviewRoutes, previewPanel, previewReferrerPart } from './preview-routes.js';
import { historyOf } from './services.js';

registerMessages({ ja: { 'nav.cmsLog': 'ページの操作ログ' }, en: { 'nav.cmsLog': 'Page activity log' } });

/**
 * The page lifecycle (issue 3, item 5): every version kept with diff and restore, edit locks
 * against two editors, the trash with restore and purge (and scheduled deletion through the
 * cms.schedule job), expiring preview links for unpublished pages, and the CMS log.
 * See README.md in this folder.
 */
export const historyFeature: CmsFeature = {
  name: 'cms.history',
  migrations: historyMigrations,
  jobs: (p) => [
    {
      name: 'cms.trash_purge',
      label: 'ごみ箱の古いページの完全削除',
      schedule: '30 3 * * *',
      handler: async () => {
        const days = await historyOf(p).trash.retentionDays();
        return { purged: await cmsOf(p).pages.purgeTrash(new Date(), days), days };
      },
    },
  ],
  adminMenu: [{ label: 'nav.cmsLog', href: '/admin/cms/log', permission: 'cms.edit', order: 11 }],
  install(cms, p) {
    // Previews carry <meta name="robots" content="noindex, nofollow"> from the SEO feature's head part;
    // the preview route adds X-Robots-Tag as well.
    cms.parts.addEditor({ panel: previewPanel(p) }, 50);
    cms.parts.addHead(previewReferrerPart, 1);
  },
  routes(app, p, cms) {
    mountHistoryRoutes(app, p, cms);
    mountTrashRoutes(app, p, cms);
    mountLogRoutes(app, p, cms);
    mountPreviewRoutes(app, p, cms);
  },
};
