import { defineModule } from '../../core/module.js';
import { CORE_PERMISSIONS as P } from '../../core/core-module.js';
import { AdminLayout } from '../../core/ui/layout.js';
import { viewOf, formatDateTime } from '../../core/ui/view.js';
import { requireStaff, actorOf } from './guards.js';
import { mountAuthRoutes } from './auth-routes.js';
import { mountUserRoutes } from './users-routes.js';
import { mountAccountRoutes } from './account-routes.js';
import { mountSystemRoutes } from './system-routes.js';
import { mountCalendarRoutes } from './calendar-routes.js';
import { adminCliCommands } from './cli.js';
import './messages.js';

/**
 * The admin shell: sign-in, dashboard, users, roles, organisations, own account, audit trail,
 * jobs, mail, calendar and backups. General users see only what their permissions allow.
 */
export const adminModule = defineModule({
  name: 'admin',
  adminMenu: [
    { label: 'nav.dashboard', href: '/admin', order: 0 },
    { label: 'nav.users', href: '/admin/users', permission: P.usersManage, order: 80 },
    { label: 'nav.roles', href: '/admin/roles', permission: P.rolesManage, order: 81 },
    { label: 'nav.organizations', href: '/admin/organizations', permission: P.organizationsManage, order: 82 },
    { label: 'nav.audit', href: '/admin/audit', permission: P.auditRead, order: 90 },
    { label: 'nav.jobs', href: '/admin/jobs', permission: P.jobsManage, order: 91 },
    { label: 'nav.mail', href: '/admin/mail', permission: P.mailRead, order: 92 },
    { label: 'nav.calendar', href: '/admin/calendar', permission: P.calendarManage, order: 93 },
    { label: 'nav.backups', href: '/admin/backups', permission: P.backupsManage, order: 94 },
    { label: 'nav.account', href: '/admin/account', order: 99 },
  ],
  cli: adminCliCommands,
  routes(app, p) {
    mountAuthRoutes(app, p);
    app.use('/admin', requireStaff((id) => p.auth.mustChangePassword(id)));
    app.use('/admin/*', requireStaff((id) => p.auth.mustChangePassword(id)));

    app.get('/admin', async (c) => {
      const v = viewOf(c);
      const t = v.t;
      const actor = actorOf(c);
      const can = (perm: string) => actor.permissions.has(perm);
      const me = await p.db.selectFrom('users').select(['last_login_at']).where('id', '=', actor.id).executeTakeFirst();
      const now = new Date();
      const cards: Array<{ label: string; value: number; href: string }> = [];
      if (can(P.usersManage)) {
        const scope = await p.users.list(actor, {}, { limit: 1, offset: 0 });
        const locked = await p.users.list(actor, { status: 'locked' }, { limit: 1, offset: 0 });
        cards.push({ label: t('dashboard.users'), value: scope.total, href: '/admin/users' }, { label: t('dashboard.locked'), value: locked.total, href: '/admin/users?status=locked' });
      }
      if (can(P.jobsManage)) {
        const dead = (await p.jobs.summary()).reduce((n, j) => n + j.dead, 0);
        cards.push({ label: t('dashboard.failedJobs'), value: dead, href: '/admin/jobs' });
      }
      if (can(P.mailRead)) {
        const unsent = await p.mail.list({ status: 'failed', limit: 1 });
        cards.push({ label: t('dashboard.outbox'), value: unsent.total, href: '/admin/mail?status=failed' });
      }
      const recent = can(P.auditRead) ? (await p.audit.list({}, { limit: 8, offset: 0 })).rows : [];
      return c.html(
        <AdminLayout v={v} title={t('dashboard.title')} menu={p.menu}>
          <p>{t('dashboard.welcome', { name: actor.displayName })}</p>
          <p>{t('dashboard.lastLogin', { at: formatDateTime(me?.last_login_at, v.locale) })}</p>
          <p>
            {t('dashboard.calendar')}: {p.calendar.isBusinessDay(now) ? t('dashboard.open') : t('dashboard.closed')}
            {p.calendar.holiday(now) ? `（${p.calendar.holiday(now)}）` : ''}
          </p>
          {cards.length ? (
            <ul class="cards">
              {cards.map((card) => (
                <li class="card">
                  <a href={card.href}>{card.label}</a>
                  <div class="card__value">{card.value}</div>
                </li>
              ))}
            </ul>
          ) : null}
          {recent.length ? (
            <section aria-labelledby="recent-title">
              <h2 id="recent-title">{t('dashboard.audit')}</h2>
              <ul>
                {recent.map((r) => (
                  <li>
                    {formatDateTime(r.at, v.locale)} {r.actorLogin ?? '—'}: {r.summary}
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
        </AdminLayout>,
      );
    });

    mountAccountRoutes(app, p);
    mountUserRoutes(app, p);
    mountSystemRoutes(app, p);
    mountCalendarRoutes(app, p);
  },
});
