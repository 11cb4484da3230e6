import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { auditContext } from '../../core/http/app.js';
import { readForm, str, type FormValues } from '../../core/http/validate.js';
import { renderError } from '../../core/http/errors.js';
import { isRowId } from '../../core/db/index.js';
import { AdminLayout, PublicLayout } from '../../core/ui/layout.js';
import { viewOf, formatPeriod, formatWhen } from '../../core/ui/view.js';
import { Checkbox, Csrf, ErrorSummary, Notice, TextArea, TextField, type FieldErrors } from '../../core/ui/forms.js';
import { requirePermission, requireStaff } from '../admin/guards.js';
import { MAINTENANCE_LEAD_DAYS, MaintenanceValidationError, type MaintenanceService, type MaintenanceWindow } from './service.js';

export const MAINTENANCE_PERMISSION = 'maintenance.manage';

/** Paths that stay up during a public stop: the staff console, probes, metrics and static files. */
export function exemptFromMaintenance(path: string): boolean {
  return path === '/admin' || path.startsWith('/admin/') || path === '/healthz' || path === '/readyz' || path === '/metrics' || path.startsWith('/assets/') || path.startsWith('/lang/');
}

/** The public answer during a stop: 503, Retry-After until the end, in the public frame. */
function unavailable(c: Context<AppEnv>, w: MaintenanceWindow, now: Date): Response | Promise<Response> {
  const retryAfter = Math.max(1, Math.ceil((Date.parse(w.endsAt) - now.getTime()) / 1000));
  c.header('Retry-After', String(retryAfter));
  c.header('Cache-Control', 'no-store');
  const v = viewOf(c);
  const t = v.t;
  const accept = c.req.header('accept') ?? '';
  if (accept.includes('application/json') && !accept.includes('text/html')) {
    return c.json({ error: t('maintenance.unavailable.title'), title: w.title, startsAt: w.startsAt, endsAt: w.endsAt, requestId: c.get('requestId') }, 503);
  }
  return c.html(
    <PublicLayout v={v} title={t('maintenance.unavailable.title')} siteName={t('app.name')}>
      <h1>{t('maintenance.unavailable.title')}</h1>
      <p>{t('maintenance.unavailable.lead')}</p>
      <section class="notice notice--warning" aria-labelledby="maintenance-title">
        <h2 id="maintenance-title">{w.title}</h2>
        <p>{t('maintenance.unavailable.period', { period: formatPeriod(w.startsAt, w.endsAt, v.locale) })}</p>
        <p data-testid="maintenance-until">{t('maintenance.unavailable.until', { at: formatWhen(w.endsAt, v.locale) })}</p>
        {w.body ? <p>{w.body}</p> : null}
      </section>
    </PublicLayout>,
    503,
  );
}

/**
 * Before the CMS and public routes: during a window that stops the public site, every public
 * request gets the 503 page; while a window is announced, the notice goes to every public page.
 * A failure to read the windows never takes the site down (C-5: open 24/365).
 */
export function maintenanceGate(svc: MaintenanceService): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (exemptFromMaintenance(c.req.path)) return next();
    const now = new Date();
    let active: MaintenanceWindow | null = null;
    let announced: MaintenanceWindow | null = null;
    try {
      active = await svc.active(now);
      if (!active?.affectsPublic) announced = await svc.announced(now);
    } catch (err) {
      c.get('log').error({ err }, 'maintenance windows could not be read; serving without them');
      return next();
    }
    if (active?.affectsPublic) return unavailable(c, active, now);
    if (announced) c.set('maintenanceNotice', { title: announced.title, body: announced.body, startsAt: announced.startsAt, endsAt: announced.endsAt });
    return next();
  };
}

const FIELDS = ['title', 'body', 'startsAt', 'endsAt', 'announceFrom'] as const;

/** The admin screen: list, add, cancel (C-5, H-19, O-03). */
export function mountMaintenanceAdmin(app: Hono<AppEnv>, p: Platform, svc: MaintenanceService) {
  // This module is registered before the admin shell, whose staff guard would come too late.
  const staff = requireStaff((id) => p.auth.mustChangePassword(id));
  for (const path of ['/admin/maintenance', '/admin/maintenance/*']) {
    app.use(path, staff);
    app.use(path, requirePermission(MAINTENANCE_PERMISSION));
  }

  const page = async (c: Context<AppEnv>, opts: { errors?: FieldErrors; values?: FormValues } = {}) => {
    const v = viewOf(c);
    const t = v.t;
    const now = new Date();
    const { rows, total } = await svc.list({ limit: 100 });
    const labels: Record<string, string> = Object.fromEntries(FIELDS.map((f) => [f, t(`maintenance.field.${f}`)]));
    const values = opts.values;
    const shortLead = c.req.query('short') === '1';
    return (
      <AdminLayout v={v} title={t('nav.maintenance')} menu={p.menu}>
        {c.req.query('saved') ? <Notice kind="success"><p>{t('maintenance.admin.saved')}</p></Notice> : null}
        {shortLead ? <Notice kind="warning"><p>{t('maintenance.admin.shortLead', { days: MAINTENANCE_LEAD_DAYS })}</p></Notice> : null}
        {c.req.query('cancelled') ? <Notice kind="success"><p>{t('maintenance.admin.cancelled')}</p></Notice> : null}
        <p>{t('maintenance.admin.intro', { days: MAINTENANCE_LEAD_DAYS })}</p>
        <div class="table-wrap">
          <table>
            <caption>{t('maintenance.admin.caption', { total })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('maintenance.admin.col.period')}</th>
                <th scope="col">{t('maintenance.admin.col.title')}</th>
                <th scope="col">{t('maintenance.admin.col.announceFrom')}</th>
                <th scope="col">{t('maintenance.admin.col.effect')}</th>
                <th scope="col">{t('maintenance.admin.col.status')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 ? <tr><td colspan={6}>{t('common.none')}</td></tr> : null}
              {rows.map((w) => {
                const status = svc.status(w, now);
                return (
                  <tr data-testid={`maintenance-${w.id}`}>
                    <td>{formatPeriod(w.startsAt, w.endsAt, v.locale)}</td>
                    <td>{w.title}</td>
                    <td>{formatWhen(w.announceFrom, v.locale)}</td>
                    <td>{w.affectsPublic ? t('maintenance.admin.effect.stop') : t('maintenance.admin.effect.notice')}</td>
                    <td><span class={`status ${status === 'active' ? 'status--bad' : status === 'announced' ? 'status--good' : 'status--muted'}`}>{t(`maintenance.admin.status.${status}`)}</span></td>
                    <td>
                      {status === 'scheduled' || status === 'announced' || status === 'active' ? (
                        <form method="post" action={`/admin/maintenance/${w.id}/cancel`} class="inline-form">
                          <Csrf v={v} />
                          <button type="submit" class="button--small button--secondary">
                            {status === 'active' ? t('maintenance.admin.endNow') : t('maintenance.admin.cancel')}
                            <span class="visually-hidden">: {w.title}</span>
                          </button>
                        </form>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>

        <h2>{t('maintenance.admin.add')}</h2>
        <ErrorSummary v={v} errors={opts.errors} labels={labels} />
        <form method="post" action="/admin/maintenance" class="form" novalidate>
          <Csrf v={v} />
          <TextField v={v} name="title" label={labels.title!} value={str(values?.title)} required maxlength={100} errors={opts.errors} hint={t('maintenance.hint.title')} />
          <TextArea v={v} name="body" label={labels.body!} value={str(values?.body)} rows={4} errors={opts.errors} />
          <TextField v={v} name="startsAt" type="datetime-local" label={labels.startsAt!} value={str(values?.startsAt)} required errors={opts.errors} hint={t('maintenance.hint.time')} />
          <TextField v={v} name="endsAt" type="datetime-local" label={labels.endsAt!} value={str(values?.endsAt)} required errors={opts.errors} hint={t('maintenance.hint.time')} />
          <TextField v={v} name="announceFrom" type="datetime-local" label={labels.announceFrom!} value={str(values?.announceFrom)} errors={opts.errors} hint={t('maintenance.hint.announceFrom', { days: MAINTENANCE_LEAD_DAYS })} />
          <Checkbox name="affectsPublic" label={t('maintenance.field.affectsPublic')} checked={values ? str(values.affectsPublic) === '1' : true} />
          <div class="actions"><button type="submit">{t('maintenance.admin.submit')}</button></div>
        </form>
      </AdminLayout>
    );
  };

  app.get('/admin/maintenance', async (c) => c.html(await page(c)));

  app.post('/admin/maintenance', async (c) => {
    const values = await readForm(c);
    const t = c.get('t');
    try {
      const w = await svc.create(
        { title: str(values.title), body: str(values.body), startsAt: str(values.startsAt), endsAt: str(values.endsAt), announceFrom: str(values.announceFrom), affectsPublic: str(values.affectsPublic) },
        auditContext(c),
      );
      const short = Date.parse(w.startsAt) - Date.now() < MAINTENANCE_LEAD_DAYS * 86_400_000;
      return c.redirect(`/admin/maintenance?saved=1${short ? '&short=1' : ''}`, 303);
    } catch (e) {
      if (!(e instanceof MaintenanceValidationError)) throw e;
      const errors: FieldErrors = Object.fromEntries(Object.entries(e.keys).map(([k, key]) => [k, t(key)]));
      return c.html(await page(c, { errors, values }), 422);
    }
  });

  app.post('/admin/maintenance/:id{[0-9]+}/cancel', async (c) => {
    const id = Number(c.req.param('id'));
    if (!isRowId(id)) return renderError(c, 404, 'error.notFound');
    const done = await svc.cancel(id, auditContext(c));
    if (!done) return renderError(c, 404, 'error.notFound');
    return c.redirect('/admin/maintenance?cancelled=1', 303);
  });
}
