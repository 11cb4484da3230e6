import { registerMessages } from '../../../core/i18n/index.js';
import type { Platform } from '../../../core/platform.js';
import type { CmsFeature } from '../parts.js';
import { mountWorkflowRoutes } from './admin-routes.js';
import { seedWorkflowDemo } from './demo.js';
import { workflowMigrations } from './migrations.js';
import { workflowPanel } from './panel.js';
import { A11Y_OVERRIDE, ApprovalRouteService, WORKFLOW_ADMIN } from './routes.js';
import { WorkflowService } from './service.js';

export { A11Y_OVERRIDE, WORKFLOW_ADMIN, ApprovalRouteService, type ApprovalRoute, type RouteInput } from './routes.js';
export { WorkflowService, STALE_MESSAGE, type WorkflowRequest, type RequestDetail } from './service.js';

registerMessages({
  ja: { 'nav.cms.workflow': '承認待ち', 'nav.cms.workflowRoutes': '承認ルート' },
  en: { 'nav.cms.workflow': 'Approvals', 'nav.cms.workflowRoutes': 'Approval routes' },
});

interface WorkflowServices {
  service: WorkflowService;
  routes: ApprovalRouteService;
}

const installed = new WeakMap<Platform, WorkflowServices>();

/** The workflow's services of a platform (they exist once the CMS is installed: cmsOf(p)). */
export function workflowOf(p: Platform): WorkflowServices {
  const s = installed.get(p);
  if (!s) throw new Error('the CMS workflow is not installed on this platform; call cmsOf(p) first');
  return s;
}

/**
 * 承認ワークフロー (SHIRASAGI's model): approval routes per site, folder and organisation with up
 * to five levels; a request pins the saved draft version; the last approval publishes it at once
 * or at the requested time; send-back and withdrawal; mail to whoever acts next.
 */
export const workflowFeature: CmsFeature = {
  name: 'cms.workflow',
  migrations: workflowMigrations,
  permissions: [
    { key: WORKFLOW_ADMIN, label: '承認ルートの管理', labelEn: 'Manage approval routes' },
    { key: A11Y_OVERRIDE, label: 'アクセシビリティのエラーがあるページの承認依頼・承認（理由を記録）', labelEn: 'Request or approve pages with accessibility errors (reason recorded)' },
  ],
  roles: [{ key: 'site_admin', permissions: [WORKFLOW_ADMIN, A11Y_OVERRIDE] }],
  jobs: (p) => [
    {
      name: 'cms.workflow.guard',
      label: '承認済み公開予約の確認（内容が変わった依頼の無効化）',
      schedule: '* * * * *',
      handler: async () => ({ voided: await workflowOf(p).service.guardScheduled() }),
    },
  ],
  adminMenu: [
    { label: 'nav.cms.workflow', href: '/admin/cms/workflow', permission: 'cms.edit', order: 11 },
    { label: 'nav.cms.workflowRoutes', href: '/admin/cms/workflow/routes', permission: WORKFLOW_ADMIN, order: 12 },
  ],
  install(cms, p) {
    const routes = new ApprovalRouteService({ db: p.db, audit: p.audit, organizations: p.organizations, permissions: p.permissions, sites: cms.sites });
    const service = new WorkflowService({
      db: p.db,
      audit: p.audit,
      mail: p.mail,
      organizations: p.organizations,
      permissions: p.permissions,
      cms,
      routes,
      config: p.config,
      log: p.log.child({ component: 'cms.workflow' }),
      wakeMail: () => p.jobs.wake(),
    });
    installed.set(p, { service, routes });
    cms.parts.onPublishTx(service.publishHook);
    cms.parts.addEditor({ panel: (ctx) => workflowPanel(service, ctx) }, 50);
  },
  routes(app, p, cms) {
    const { service, routes } = workflowOf(p);
    mountWorkflowRoutes(app, p, cms, service, routes);
  },
  seedDemo: (p, cms) => seedWorkflowDemo(p, cms, workflowOf(p).routes),
};
