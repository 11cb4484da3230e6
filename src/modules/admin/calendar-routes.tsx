import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { auditContext } from '../../core/http/app.js';
import { readForm, str, type FormValues } from '../../core/http/validate.js';
import { AdminLayout } from '../../core/ui/layout.js';
import { viewOf, formatDateTime } from '../../core/ui/view.js';
import { Csrf, ErrorSummary, Notice, TextField, SelectField, type FieldErrors } from '../../core/ui/forms.js';
import { renderError } from '../../core/http/errors.js';
import { CORE_PERMISSIONS as P } from '../../core/core-module.js';
import { CalendarValidationError, type OfficeHours } from '../../core/calendar/index.js';
import type { Actor } from '../../core/permissions/index.js';
import type { Translator } from '../../core/i18n/index.js';
import { actorOf, requirePermission } from './guards.js';

/** Short Japanese weekday names for audit summaries (stored in Japanese); screens use admin.weekday.<n>. */
const WEEKDAYS = ['日', '月', '火', '水', '木', '金', '土'];
const weekday = (t: Translator, d: number) => t(`admin.weekday.${d}`);
/** Two bands a day cover a lunch closure (e.g. 8:30–12:00 and 13:00–17:15). */
const BANDS = [0, 1];
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The organisation a calendar request is about: '' is the installation default. */
async function scopeOf(p: Platform, actor: Actor, raw: string | undefined): Promise<number | null | 'forbidden'> {
  if (raw === undefined || raw === '') {
    if (actor.allOrganizations) return null;
    return actor.organizationId ?? 'forbidden';
  }
  const id = Number(raw);
  if (!Number.isInteger(id) || !(await p.organizations.canAccess(actor, id)) || !(await p.organizations.get(id))) return 'forbidden';
  return id;
}

/** Office-hours form values (opens-<weekday>-<band>) from a list of hours. */
function hoursValues(hours: OfficeHours[]): FormValues {
  const values: FormValues = {};
  for (let d = 0; d < 7; d++) {
    hours.filter((h) => h.weekday === d).forEach((h, band) => {
      values[`opens-${d}-${band}`] = h.opens;
      values[`closes-${d}-${band}`] = h.closes;
    });
  }
  return values;
}

/** Hours from the form; a band left empty on both sides means closed. Half-filled bands are errors. */
function hoursFrom(values: FormValues, t: Translator): { hours: OfficeHours[]; names: string[]; errors: FieldErrors } {
  const hours: OfficeHours[] = [];
  const names: string[] = [];
  const errors: FieldErrors = {};
  for (let d = 0; d < 7; d++) {
    for (const band of BANDS) {
      const opens = str(values[`opens-${d}-${band}`]).trim();
      const closes = str(values[`closes-${d}-${band}`]).trim();
      if (!opens && !closes) continue;
      if (!opens) errors[`opens-${d}-${band}`] = t('admin.calendar.opensRequired', { day: weekday(t, d) });
      else if (!closes) errors[`closes-${d}-${band}`] = t('admin.calendar.closesRequired', { day: weekday(t, d) });
      hours.push({ weekday: d, opens, closes });
      names.push(`${d}-${band}`);
    }
  }
  return { hours, names, errors };
}

/** Business calendar (O-01): office hours and extra closed days, per organisation or for all. */
export function mountCalendarRoutes(app: Hono<AppEnv>, p: Platform) {
  app.use('/admin/calendar', requirePermission(P.calendarManage));
  app.use('/admin/calendar/*', requirePermission(P.calendarManage));

  const page = async (c: Context<AppEnv>, org: number | null, opts: { errors?: FieldErrors; values?: FormValues; hoursErrors?: FieldErrors; hoursValues?: FormValues } = {}) => {
    const v = viewOf(c);
    const t = v.t;
    const actor = actorOf(c);
    const now = new Date();
    const year = Number(c.req.query('year')) || Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Tokyo', year: 'numeric' }).format(now));
    const orgs = await p.organizations.visibleTo(actor);
    const orgName = org === null ? t('admin.calendar.defaultScope') : orgs.find((o) => o.id === org)?.name ?? '';
    const closed = [
      ...(org === null ? [] : await p.calendar.listClosedDays({ organizationId: null, year })).map((d) => ({ ...d, inherited: true })),
      ...(await p.calendar.listClosedDays({ organizationId: org, year })).map((d) => ({ ...d, inherited: false })),
    ].sort((a, b) => a.day.localeCompare(b.day));
    const own = p.calendar.hasOwnOfficeHours(org);
    const hv = opts.hoursValues ?? hoursValues(p.calendar.officeHours(org));
    const holiday = p.calendar.holiday(now);
    const orgParam = org === null ? '' : String(org);
    const labels: Record<string, string> = { day: t('admin.calendar.day'), reason: t('admin.calendar.reason') };
    for (let d = 0; d < 7; d++) for (const b of BANDS) {
      const band = b ? t('admin.calendar.band2') : '';
      labels[`opens-${d}-${b}`] = t('admin.calendar.opensField', { day: weekday(t, d), band });
      labels[`closes-${d}-${b}`] = t('admin.calendar.closesField', { day: weekday(t, d), band });
    }
    return (
      <AdminLayout v={v} title={v.t('nav.calendar')} menu={p.menu}>
        {c.req.query('saved') ? <Notice kind="success"><p>{v.t('common.saved')}</p></Notice> : null}
        <form method="get" action="/admin/calendar" class="filters">
          <SelectField
            v={v}
            name="org"
            label={t('admin.calendar.organization')}
            value={orgParam}
            options={[...(actor.allOrganizations ? [{ value: '', label: t('admin.calendar.defaultScope') }] : []), ...orgs.map((o) => ({ value: o.id, label: o.name }))]}
          />
          <TextField v={v} name="year" type="number" label={t('admin.calendar.year')} value={year} />
          <div class="field"><button type="submit">{t('admin.calendar.show')}</button></div>
        </form>
        <p data-testid="calendar-today">
          {orgName} — {v.t('dashboard.calendar')}: {p.calendar.isBusinessDay(now, org) ? v.t('dashboard.open') : v.t('dashboard.closed')}
          {holiday ? t('admin.calendar.holiday', { name: holiday }) : ''}
          {t('admin.calendar.now', { state: p.calendar.isOpenAt(now, org) ? t('admin.calendar.withinHours') : t('admin.calendar.outsideHours'), next: formatDateTime(p.calendar.nextOpening(now, org).toISOString(), v.locale) })}
        </p>
        <p>{t('admin.calendar.intro')}</p>

        <h2>{t('admin.calendar.hoursTitle', { org: orgName })}</h2>
        <p>{own ? t('admin.calendar.hoursOwn') : org === null ? t('admin.calendar.hoursDefault') : t('admin.calendar.hoursInherited')}{t('admin.calendar.hoursHelp')}</p>
        <ErrorSummary v={v} errors={opts.hoursErrors} labels={labels} idPrefix="hours" />
        <form method="post" action="/admin/calendar/hours" novalidate>
          <Csrf v={v} />
          <input type="hidden" name="org" value={orgParam} />
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">{t('admin.calendar.hoursCaption')}</caption>
              <thead><tr><th scope="col">{t('admin.calendar.col.weekday')}</th><th scope="col">{t('admin.calendar.col.opens')}</th><th scope="col">{t('admin.calendar.col.closes')}</th><th scope="col">{t('admin.calendar.col.opens2')}</th><th scope="col">{t('admin.calendar.col.closes2')}</th></tr></thead>
              <tbody>
                {[1, 2, 3, 4, 5, 6, 0].map((d) => (
                  <tr>
                    <th scope="row">{weekday(t, d)}</th>
                    {BANDS.flatMap((b) =>
                      (['opens', 'closes'] as const).map((kind) => {
                        const name = `${kind}-${d}-${b}`;
                        const err = opts.hoursErrors?.[name];
                        return (
                          <td>
                            <label class="visually-hidden" for={`f-hours-${name}`}>{labels[name]}</label>
                            {err ? <span class="field__error" id={`f-hours-${name}-error`}>{err}</span> : null}
                            <input type="time" id={`f-hours-${name}`} name={name} value={str(hv[name])} aria-invalid={err ? 'true' : undefined} aria-describedby={err ? `f-hours-${name}-error` : undefined} />
                          </td>
                        );
                      }),
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="actions">
            <button type="submit">{t('admin.calendar.saveHours')}</button>
            {own ? <button type="submit" name="reset" value="1" class="button--secondary">{org === null ? t('admin.calendar.resetDefault') : t('admin.calendar.resetInherited')}</button> : null}
          </div>
        </form>

        <h2>{t('admin.calendar.closedTitle', { org: orgName, year })}</h2>
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">{t('admin.calendar.col.day')}</th><th scope="col">{t('admin.calendar.col.reason')}</th><th scope="col">{t('admin.calendar.col.scope')}</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
            <tbody>
              {closed.length === 0 ? <tr><td colspan={4}>{v.t('common.none')}</td></tr> : null}
              {closed.map((d) => (
                <tr>
                  <td>{d.day}</td>
                  <td>{d.reason}</td>
                  <td>{d.inherited ? t('admin.calendar.allOrganizations') : orgName}</td>
                  <td>
                    {d.inherited ? null : (
                      <form method="post" action={`/admin/calendar/closed/${d.id}/delete`} class="inline-form">
                        <Csrf v={v} />
                        <input type="hidden" name="org" value={orgParam} />
                        <button type="submit" class="button--small button--secondary">{v.t('common.delete')}<span class="visually-hidden">: {d.day}</span></button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <h3>{t('admin.calendar.addClosed')}</h3>
        <ErrorSummary v={v} errors={opts.errors} labels={labels} />
        <form method="post" action="/admin/calendar/closed" class="form" novalidate>
          <Csrf v={v} />
          <input type="hidden" name="org" value={orgParam} />
          <TextField v={v} name="day" type="date" label={t('admin.calendar.day')} value={str(opts.values?.day)} required errors={opts.errors} />
          <TextField v={v} name="reason" label={t('admin.calendar.reason')} value={str(opts.values?.reason)} required errors={opts.errors} hint={t('admin.calendar.reasonHint')} />
          <div class="actions"><button type="submit">{t('admin.calendar.add')}</button></div>
        </form>
      </AdminLayout>
    );
  };

  const back = (org: number | null) => `/admin/calendar?saved=1${org === null ? '' : `&org=${org}`}`;
  const audit = (c: Context<AppEnv>, org: number | null, action: string, targetId: number | string | null, summary: string) => {
    const ctx = auditContext(c);
    return p.audit.record({ ...ctx, organizationId: org ?? ctx.organizationId, action, targetType: 'calendar', targetId, summary });
  };

  app.get('/admin/calendar', async (c) => {
    const org = await scopeOf(p, actorOf(c), c.req.query('org'));
    if (org === 'forbidden') return renderError(c, 404, 'error.notFound');
    await p.calendar.refresh();
    return c.html(await page(c, org));
  });

  app.post('/admin/calendar/hours', async (c) => {
    const values = await readForm(c);
    const org = await scopeOf(p, actorOf(c), str(values.org));
    if (org === 'forbidden') return renderError(c, 404, 'error.notFound');
    const reset = str(values.reset) === '1';
    const { hours, names, errors } = reset ? { hours: [], names: [], errors: {} } : hoursFrom(values, c.get('t'));
    if (Object.keys(errors).length) return c.html(await page(c, org, { hoursErrors: errors, hoursValues: values }), 422);
    try {
      await p.calendar.setOfficeHours(org, hours);
    } catch (e) {
      if (!(e instanceof CalendarValidationError)) throw e;
      // The service names rows by position (hours.3.closes); the form names them by weekday and band.
      const fields: FieldErrors = {};
      for (const [key, msg] of Object.entries(e.fields)) {
        const m = /^hours\.(\d+)\.(opens|closes)$/.exec(key);
        const name = m ? `${m[2]}-${names[Number(m[1])]}` : '_form';
        fields[name] = m ? c.get('t')('admin.calendar.dayError', { day: weekday(c.get('t'), Number(names[Number(m[1])]!.split('-')[0])), message: msg }) : msg;
      }
      return c.html(await page(c, org, { hoursErrors: fields, hoursValues: values }), 422);
    }
    const text = reset ? '既定に戻しました' : hours.map((h) => `${WEEKDAYS[h.weekday]} ${h.opens}-${h.closes}`).join('、') || 'すべて閉庁';
    await audit(c, org, 'calendar.office_hours', org, `受付時間を変更しました（${org === null ? '標準' : `組織 #${org}`}: ${text}）`);
    return c.redirect(back(org), 303);
  });

  app.post('/admin/calendar/closed', async (c) => {
    const form = await readForm(c);
    const org = await scopeOf(p, actorOf(c), str(form.org));
    if (org === 'forbidden') return renderError(c, 404, 'error.notFound');
    const values = { day: str(form.day).trim(), reason: str(form.reason).trim() };
    const errors: FieldErrors = {};
    const t = c.get('t');
    if (!values.reason) errors.reason = t('admin.calendar.reasonRequired');
    else if (values.reason.length > 100) errors.reason = t('admin.calendar.reasonTooLong');
    if (!ISO_DATE.test(values.day)) errors.day = t('admin.calendar.dayInvalid');
    if (Object.keys(errors).length) return c.html(await page(c, org, { errors, values }), 422);
    try {
      const id = await p.calendar.addClosedDay({ organizationId: org, day: values.day, reason: values.reason });
      await audit(c, org, 'calendar.closed_day_add', id, `臨時閉庁日 ${values.day}（${values.reason}）を追加しました`);
    } catch (e) {
      if (e instanceof CalendarValidationError) return c.html(await page(c, org, { errors: e.fields, values }), 422);
      throw e;
    }
    return c.redirect(back(org), 303);
  });

  app.post('/admin/calendar/closed/:id{[0-9]+}/delete', async (c) => {
    const id = Number(c.req.param('id'));
    const org = await scopeOf(p, actorOf(c), str((await readForm(c)).org));
    if (org === 'forbidden') return renderError(c, 404, 'error.notFound');
    const day = (await p.calendar.listClosedDays({ organizationId: org })).find((d) => d.id === id);
    if (!day) return renderError(c, 404, 'error.notFound');
    await p.calendar.removeClosedDay(id);
    await audit(c, org, 'calendar.closed_day_remove', id, `臨時閉庁日 ${day.day}（${day.reason}）を削除しました`);
    return c.redirect(back(org), 303);
  });
}
