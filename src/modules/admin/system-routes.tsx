import type { Context, Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { auditContext } from '../../core/http/app.js';
import { readForm, str } from '../../core/http/validate.js';
import { AdminLayout } from '../../core/ui/layout.js';
import { viewOf, formatDateTime, type View } from '../../core/ui/view.js';
import { Csrf, Notice, TextField, SelectField, Pagination } from '../../core/ui/forms.js';
import { renderError } from '../../core/http/errors.js';
import { CORE_PERMISSIONS as P } from '../../core/core-module.js';
import { actorOf, paging, requirePermission } from './guards.js';
import type { AuditFilter } from '../../core/audit/index.js';
import { contentDisposition } from '../../core/csv/index.js';
import type { MailStatus } from '../../core/mail/index.js';
import type { Actor } from '../../core/permissions/index.js';
import { jobLabel } from './messages.js';

/**
 * A reset link lets its reader take over the account; only someone who may already reset every
 * account's password (installation-wide user management) may see such a body.
 */
function mayReadSecrets(actor: Actor): boolean {
  return actor.allOrganizations && actor.permissions.has(P.usersManage);
}

/** Kinds of audit-chain problem with a translated name (admin.audit.problem.<kind>). */
const AUDIT_PROBLEM = new Set(['altered', 'broken_link', 'gap', 'head']);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The audit filter from the query string, narrowed to what the actor may see: a scoped
 * administrator reads only the entries of their own organisations.
 */
async function auditFilterFrom(c: Context<AppEnv>, p: Platform): Promise<{ filter: AuditFilter; query: URLSearchParams }> {
  const q = (k: string, max = 100) => c.req.query(k)?.trim().slice(0, max) || undefined;
  const from = q('from');
  const to = q('to');
  const filter: AuditFilter = {
    // The audit service reads YYYY-MM-DD as a whole JST day.
    // A well-formed but impossible date (2026-99-99) would make the audit service throw (500).
    from: from && ISO_DATE.test(from) && !Number.isNaN(Date.parse(from)) ? from : undefined,
    to: to && ISO_DATE.test(to) && !Number.isNaN(Date.parse(to)) ? to : undefined,
    action: q('action'),
    actorLogin: q('actor'),
    targetType: q('targetType'),
    targetId: q('targetId'),
    q: q('q'),
  };
  const actor = c.get('actor');
  if (actor && !actor.allOrganizations) filter.organizationIds = actor.organizationId === null ? [] : [...(await p.organizations.subtree(actor.organizationId))];
  const query = new URLSearchParams();
  for (const k of ['from', 'to', 'action', 'actor', 'targetType', 'targetId', 'q']) {
    const v = q(k);
    if (v) query.set(k, v);
  }
  return { filter, query };
}

/** Audit trail, jobs, sent mail, business calendar and backups. */
export function mountSystemRoutes(app: Hono<AppEnv>, p: Platform) {
  // Audit trail (O-02, C-3-17, C-3-18)
  app.use('/admin/audit', requirePermission(P.auditRead));
  app.use('/admin/audit/*', requirePermission(P.auditRead));
  app.get('/admin/audit', async (c) => {
    const v = viewOf(c);
    const page = paging(c);
    const { filter, query } = await auditFilterFrom(c, p);
    const [{ rows, total }, actions] = await Promise.all([p.audit.list(filter, page), p.audit.actions()]);
    const canExport = v.actor?.permissions.has(P.auditExport);
    return (c.html(
      <AdminLayout v={v} title={v.t('nav.audit')} menu={p.menu}>
        <form method="get" action="/admin/audit" class="filters" role="search">
          <TextField v={v} name="from" type="date" label={v.t('admin.audit.from')} value={query.get('from') ?? ''} />
          <TextField v={v} name="to" type="date" label={v.t('admin.audit.to')} value={query.get('to') ?? ''} />
          <SelectField v={v} name="action" label={v.t('admin.audit.action')} value={filter.action ?? ''} emptyLabel={v.t('admin.all')} options={actions.map((a) => ({ value: a, label: a }))} />
          <TextField v={v} name="actor" label={v.t('admin.audit.actor')} value={filter.actorLogin ?? ''} />
          <TextField v={v} name="targetType" label={v.t('admin.audit.targetType')} value={filter.targetType ?? ''} />
          <TextField v={v} name="q" type="search" label={v.t('admin.audit.keyword')} value={filter.q ?? ''} />
          <div class="field"><button type="submit">{v.t('common.filter')}</button></div>
        </form>
        <form method="post" action="/admin/audit/verify" class="actions">
          <Csrf v={v} />
          <button type="submit" class="button--secondary">{v.t('admin.audit.verify')}</button>
        </form>
        {canExport ? (
          <p class="actions">
            <a href={`/admin/audit/export.csv?${query.toString()}`}>{v.t('common.csv')}</a>
            <a href={`/admin/audit/export.csv?${new URLSearchParams([...query, ['encoding', 'sjis']]).toString()}`}>{v.t('common.csvSjis')}</a>
          </p>
        ) : null}
        <div class="table-wrap">
          <table>
            <caption>{v.t('admin.audit.caption', { total })}</caption>
            <thead><tr><th scope="col">{v.t('admin.audit.col.at')}</th><th scope="col">{v.t('admin.audit.col.actor')}</th><th scope="col">{v.t('admin.audit.col.ip')}</th><th scope="col">{v.t('admin.audit.col.action')}</th><th scope="col">{v.t('admin.audit.col.target')}</th><th scope="col">{v.t('admin.audit.col.summary')}</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td>{formatDateTime(r.at, v.locale)}</td>
                  <td>{r.actorLogin ?? '—'}</td>
                  <td>{r.ip ?? '—'}</td>
                  <td><code>{r.action}</code></td>
                  <td>{r.targetType ? `${r.targetType}#${r.targetId ?? ''}` : '—'}</td>
                  <td>{r.summary}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pagination v={v} total={total} limit={page.limit} offset={page.offset} baseQuery={query} />
      </AdminLayout>,
    ));
  });

  // Tamper check of the hash chain, the same as `machimado audit:verify`.
  app.post('/admin/audit/verify', async (c) => {
    const v = viewOf(c);
    const result = await p.audit.verify();
    await p.audit.record({ ...auditContext(c), action: 'audit.verify', targetType: 'audit_log', summary: `操作ログの改ざん検査を実行しました（${result.checked}件、${result.ok ? '異常なし' : `${result.problems.length}件の異常`}）` });
    return c.html(
      <AdminLayout v={v} title={v.t('admin.audit.verifyTitle')} menu={p.menu}>
        {result.ok ? (
          <Notice kind="success"><p data-testid="audit-verify-result">{v.t('admin.audit.verifyOk', { checked: result.checked })}</p></Notice>
        ) : (
          <Notice kind="error">
            <p data-testid="audit-verify-result">{v.t('admin.audit.verifyFailed', { problems: result.problems.length, checked: result.checked })}</p>
            <ul>{result.problems.slice(0, 50).map((pr) => <li>#{pr.id ?? '-'}: {AUDIT_PROBLEM.has(pr.kind) ? v.t(`admin.audit.problem.${pr.kind}`) : pr.kind}{v.t('admin.paren', { text: pr.problem })}</li>)}</ul>
          </Notice>
        )}
        <p><a href="/admin/audit">{v.t('common.back')}</a></p>
      </AdminLayout>,
      result.ok ? 200 : 409,
    );
  });

  app.get('/admin/audit/export.csv', requirePermission(P.auditExport), async (c) => {
    const { filter, query } = await auditFilterFrom(c, p);
    const encoding = c.req.query('encoding') === 'sjis' ? 'sjis' : 'utf8bom';
    await p.audit.record({ ...auditContext(c), action: 'audit.export', targetType: 'audit_log', summary: `操作ログをCSV出力しました（${encoding}、条件: ${query.toString() || 'なし'}）` });
    c.header('Content-Type', `text/csv; charset=${encoding === 'sjis' ? 'Shift_JIS' : 'UTF-8'}`);
    c.header('Content-Disposition', contentDisposition(`操作ログ_${new Date().toISOString().slice(0, 10)}.csv`));
    return stream(c, async (s) => {
      for await (const chunk of p.audit.exportCsv(filter, encoding)) await s.write(chunk);
    });
  });

  // Jobs
  app.use('/admin/jobs', requirePermission(P.jobsManage));
  app.use('/admin/jobs/*', requirePermission(P.jobsManage));
  app.get('/admin/jobs', async (c) => {
    const v = viewOf(c);
    const page = paging(c, 30);
    const [summary, recent] = await Promise.all([p.jobs.summary(), p.jobs.list({ limit: page.limit, offset: page.offset })]);
    return c.html(
      <AdminLayout v={v} title={v.t('nav.jobs')} menu={p.menu}>
        {c.req.query('queued') ? <Notice kind="success"><p>{v.t('admin.jobs.queued')}</p></Notice> : null}
        <div class="table-wrap">
          <table>
            <caption>{v.t('admin.jobs.summaryCaption')}</caption>
            <thead><tr><th scope="col">{v.t('admin.jobs.col.job')}</th><th scope="col">{v.t('admin.jobs.col.schedule')}</th><th scope="col">{v.t('admin.jobs.col.next')}</th><th scope="col">{v.t('admin.jobs.col.lastRun')}</th><th scope="col">{v.t('admin.jobs.col.result')}</th><th scope="col">{v.t('admin.jobs.col.queuedDead')}</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
            <tbody>
              {summary.map((j) => (
                <tr>
                  <td>{jobLabel(v, j)}<br /><code>{j.name}</code></td>
                  <td><code>{j.schedule ?? '—'}</code></td>
                  <td>{formatDateTime(j.nextRunAt, v.locale)}</td>
                  <td>{formatDateTime(j.lastRun?.finishedAt, v.locale)}</td>
                  <td>
                    {j.lastRun ? <span class={`status ${j.lastRun.status === 'done' ? 'status--good' : j.lastRun.status === 'dead' ? 'status--bad' : 'status--muted'}`}>{j.lastRun.status}</span> : '—'}
                    {j.lastRun?.error ? <><br />{j.lastRun.error.slice(0, 200)}</> : null}
                    {j.lastRun?.result != null ? <><br /><code class="job-result">{JSON.stringify(j.lastRun.result).slice(0, 160)}</code></> : null}
                  </td>
                  <td>{j.queued} / {j.dead}</td>
                  <td>
                    {j.schedule ? (
                      <form method="post" action="/admin/jobs/run" class="inline-form">
                        <Csrf v={v} />
                        <input type="hidden" name="name" value={j.name} />
                        <button type="submit" class="button--small button--secondary">{v.t('admin.jobs.runNow')}<span class="visually-hidden">: {jobLabel(v, j)}</span></button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="table-wrap">
          <table>
            <caption>{v.t('admin.jobs.historyCaption', { total: recent.total })}</caption>
            <thead><tr><th scope="col">{v.t('admin.jobs.col.id')}</th><th scope="col">{v.t('admin.jobs.col.job')}</th><th scope="col">{v.t('admin.jobs.col.status')}</th><th scope="col">{v.t('admin.jobs.col.attempts')}</th><th scope="col">{v.t('admin.jobs.col.runAt')}</th><th scope="col">{v.t('admin.jobs.col.finished')}</th><th scope="col">{v.t('admin.jobs.col.error')}</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
            <tbody>
              {recent.rows.map((r) => (
                <tr>
                  <td>{r.id}</td><td><code>{r.name}</code></td><td>{r.status}</td><td>{r.attempts}/{r.max_attempts}</td>
                  <td>{formatDateTime(r.run_at, v.locale)}</td><td>{formatDateTime(r.finished_at, v.locale)}</td>
                  <td>{r.last_error?.slice(0, 200) ?? ''}</td>
                  <td>
                    {r.status === 'dead' ? (
                      <form method="post" action={`/admin/jobs/${r.id}/retry`} class="inline-form">
                        <Csrf v={v} />
                        <button type="submit" class="button--small">{v.t('admin.jobs.retry')}<span class="visually-hidden">: {r.id}</span></button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pagination v={v} total={recent.total} limit={page.limit} offset={page.offset} baseQuery={new URLSearchParams()} />
      </AdminLayout>,
    );
  });
  app.post('/admin/jobs/run', async (c) => {
    const name = str((await readForm(c)).name);
    if (!p.jobs.definitions().some((d) => d.name === name)) return renderError(c, 404, 'error.notFound');
    await p.jobs.enqueue(name, { manual: true });
    await p.audit.record({ ...auditContext(c), action: 'job.run', targetType: 'job', targetId: name, summary: `ジョブ ${name} を手動で実行しました` });
    p.jobs.wake();
    return c.redirect('/admin/jobs?queued=1', 303);
  });
  app.post('/admin/jobs/:id{[0-9]+}/retry', async (c) => {
    const id = Number(c.req.param('id'));
    try {
      await p.jobs.retry(id);
    } catch {
      return renderError(c, 404, 'error.notFound');
    }
    await p.audit.record({ ...auditContext(c), action: 'job.retry', targetType: 'job', targetId: id, summary: `ジョブ #${id} を再実行しました` });
    p.jobs.wake();
    return c.redirect('/admin/jobs?queued=1', 303);
  });

  // Sent mail and the outbox (mail without SMTP settings is read here)
  app.use('/admin/mail', requirePermission(P.mailRead));
  app.use('/admin/mail/*', requirePermission(P.mailRead));
  /** Mail statuses, each named by admin.mail.status.<status>. */
  const MAIL_STATUS: Record<string, true> = { queued: true, sent: true, failed: true, outbox: true };
  const mailStatus = (v: View, status: string) => (MAIL_STATUS[status] ? v.t(`admin.mail.status.${status}`) : status);
  app.get('/admin/mail', async (c) => {
    const v = viewOf(c);
    const page = paging(c);
    const statusQ = c.req.query('status');
    const status = statusQ && statusQ in MAIL_STATUS ? (statusQ as MailStatus) : undefined;
    const q = c.req.query('q')?.trim().slice(0, 100) || undefined;
    const { rows, total } = await p.mail.list({ status, q, limit: page.limit, offset: page.offset });
    const query = new URLSearchParams({ ...(status ? { status } : {}), ...(q ? { q } : {}) });
    return c.html(
      <AdminLayout v={v} title={v.t('nav.mail')} menu={p.menu}>
        {!p.config.SMTP_URL ? <Notice kind="info"><p>{v.t('admin.mail.noSmtp')}</p></Notice> : null}
        <form method="get" action="/admin/mail" class="filters" role="search">
          <SelectField v={v} name="status" label={v.t('admin.status')} value={status ?? ''} emptyLabel={v.t('admin.all')} options={Object.keys(MAIL_STATUS).map((value) => ({ value, label: mailStatus(v, value) }))} />
          <TextField v={v} name="q" type="search" label={v.t('admin.mail.search')} value={q ?? ''} />
          <div class="field"><button type="submit">{v.t('common.filter')}</button></div>
        </form>
        <div class="table-wrap">
          <table>
            <caption>{v.t('admin.mail.caption', { total })}</caption>
            <thead><tr><th scope="col">{v.t('admin.mail.col.created')}</th><th scope="col">{v.t('admin.mail.col.to')}</th><th scope="col">{v.t('admin.mail.col.subject')}</th><th scope="col">{v.t('admin.mail.col.category')}</th><th scope="col">{v.t('admin.mail.col.status')}</th><th scope="col">{v.t('admin.mail.col.sent')}</th></tr></thead>
            <tbody>
              {rows.map((m) => (
                <tr>
                  <td>{formatDateTime(m.created_at, v.locale)}</td>
                  <td>{m.to_address}</td>
                  <td><a href={`/admin/mail/${m.id}`}>{m.subject}</a></td>
                  <td>{m.category ?? '—'}</td>
                  <td>{mailStatus(v, m.status)}{m.last_error ? v.t('admin.paren', { text: m.last_error.slice(0, 80) }) : ''}</td>
                  <td>{formatDateTime(m.sent_at, v.locale)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pagination v={v} total={total} limit={page.limit} offset={page.offset} baseQuery={query} />
      </AdminLayout>,
    );
  });
  app.get('/admin/mail/:id{[0-9]+}', async (c) => {
    const v = viewOf(c);
    const m = await p.mail.get(Number(c.req.param('id')));
    if (!m) return renderError(c, 404, 'error.notFound');
    const actor = actorOf(c);
    // Mail bodies can hold personal data and reset links: reading one is itself recorded.
    await p.audit.record({ ...auditContext(c), action: 'mail.read', targetType: 'mail', targetId: m.id, summary: `メール #${m.id}（${m.category ?? '一般'}）の本文を閲覧しました` });
    return c.html(
      <AdminLayout v={v} title={m.subject} menu={p.menu}>
        <dl class="meta">
          <dt>{v.t('admin.mail.to')}</dt><dd>{m.to_address}</dd>
          <dt>{v.t('admin.status')}</dt><dd>{mailStatus(v, m.status)}</dd>
          <dt>{v.t('admin.mail.created')}</dt><dd>{formatDateTime(m.created_at, v.locale)}</dd>
          <dt>{v.t('admin.mail.sent')}</dt><dd>{formatDateTime(m.sent_at, v.locale)}</dd>
          <dt>{v.t('admin.mail.attempts')}</dt><dd>{m.attempts}</dd>
          {m.last_error ? <><dt>{v.t('admin.mail.error')}</dt><dd>{m.last_error}</dd></> : null}
        </dl>
        <h2>{v.t('admin.mail.body')}</h2>
        {m.sensitive && !mayReadSecrets(actor) ? (
          <p data-testid="mail-body">{v.t('admin.mail.bodyHidden')}</p>
        ) : (
          <pre class="mail-body" data-testid="mail-body">{m.text_body}</pre>
        )}
        <p><a href="/admin/mail">{v.t('common.back')}</a></p>
      </AdminLayout>,
    );
  });

  // Backups (H-18, D-01)
  app.use('/admin/backups', requirePermission(P.backupsManage));
  app.use('/admin/backups/*', requirePermission(P.backupsManage));
  app.get('/admin/backups', async (c) => {
    const v = viewOf(c);
    const list = await p.backup.list();
    return c.html(
      <AdminLayout v={v} title={v.t('nav.backups')} menu={p.menu}>
        {c.req.query('queued') ? <Notice kind="success"><p>{v.t('admin.backups.queued')}</p></Notice> : null}
        <p>
          {v.t('admin.backups.scheduleBefore')}<code>{p.config.BACKUP_SCHEDULE}</code>{v.t('admin.backups.scheduleAfter', { generations: p.config.BACKUP_GENERATIONS })}<code>{v.t('admin.backups.restoreCommand')}</code>{v.t('admin.backups.restoreAfter')}
        </p>
        <form method="post" action="/admin/backups/run">
          <Csrf v={v} />
          <button type="submit">{v.t('admin.backups.runNow')}</button>
        </form>
        <div class="table-wrap">
          <table>
            <caption>{v.t('admin.backups.caption', { total: list.length })}</caption>
            <thead><tr><th scope="col">{v.t('admin.backups.col.created')}</th><th scope="col">{v.t('admin.backups.col.file')}</th><th scope="col">{v.t('admin.backups.col.size')}</th><th scope="col">{v.t('admin.backups.col.sha256')}</th></tr></thead>
            <tbody>
              {list.map((b) => (
                <tr>
                  <td>{formatDateTime(b.createdAt, v.locale)}</td>
                  <td><code>{b.file.split('/').pop()}</code></td>
                  <td>{(b.bytes / 1024).toFixed(1)} KB</td>
                  <td><code>{b.sha256.slice(0, 16)}…</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </AdminLayout>,
    );
  });
  app.post('/admin/backups/run', async (c) => {
    await p.jobs.enqueue('backup.daily', { manual: true });
    await p.audit.record({ ...auditContext(c), action: 'backup.run', targetType: 'backup', summary: 'バックアップを手動で開始しました' });
    p.jobs.wake();
    return c.redirect('/admin/backups?queued=1', 303);
  });
}
