import type { Platform } from '../../../core/platform.js';
import { consoleActor } from '../../../core/permissions/index.js';
import type { CmsServices } from '../index.js';
import type { ApprovalRouteService } from './routes.js';

/**
 * A default approval route for the demo city site (あおば市): one level, approved by a demo
 * approver when there is one, else by the demo administrator. On a brand-new installation the
 * administrator is created after the demo content, so the start-up runs the demo seeding again
 * once it exists (idempotent: a site that has any route is left alone).
 */
export async function seedWorkflowDemo(p: Platform, cms: CmsServices, routes: ApprovalRouteService): Promise<void> {
  const site = (await cms.sites.all()).find((s) => s.key === 'aoba');
  if (!site) return;
  if (await p.db.selectFrom('cms_workflow_routes').select('id').where('site_id', '=', site.id).limit(1).executeTakeFirst()) return;
  const pick = async (role: string) =>
    p.db
      .selectFrom('users')
      .innerJoin('user_roles', 'user_roles.user_id', 'users.id')
      .select('users.id')
      .where('user_roles.role', '=', role)
      .where('users.status', '=', 'active')
      .orderBy('users.id')
      .limit(1)
      .executeTakeFirst();
  const approver = (await pick('approver')) ?? (await p.db.selectFrom('users').select('id').where('login_id', '=', 'admin').where('status', '=', 'active').executeTakeFirst()) ?? (await pick('system_admin'));
  if (!approver) return;
  await routes.save(
    consoleActor(p.permissions),
    null,
    { siteId: site.id, name: 'あおば市 標準ルート', folderId: null, organizationId: null, levels: [{ rule: 'any', approverIds: [approver.id] }] },
    { ip: 'console', userAgent: 'demo content' },
  );
}
