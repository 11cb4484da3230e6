import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { requestMeta, setSessionCookie } from '../../core/http/app.js';
import { validateForm } from '../../core/http/validate.js';
import { AdminLayout } from '../../core/ui/layout.js';
import { viewOf, formatDateTime } from '../../core/ui/view.js';
import { Csrf, ErrorSummary, Notice, TextField, type FieldErrors } from '../../core/ui/forms.js';
import { qrDataUri, totpUri } from '../../core/auth/totp.js';
import { actorOf } from './guards.js';

const passwordSchema = z
  .object({
    current: z.string().min(1, '現在のパスワードを入力してください。'),
    password: z.string().min(1, '新しいパスワードを入力してください。').max(256, 'パスワードは256文字以内で入力してください。'),
    confirm: z.string().min(1, '確認のため、もう一度入力してください。'),
  })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: '確認用のパスワードが一致しません。' });

const codeSchema = z.object({ code: z.string().trim().min(1, '確認コードを入力してください。').max(20, '確認コードが長すぎます。') });

/** A staff member's own account: password, two-step verification, sessions. */
export function mountAccountRoutes(app: Hono<AppEnv>, p: Platform) {
  const page = async (c: Context<AppEnv>, opts: { errors?: FieldErrors; notice?: string; recoveryCodes?: string[]; enrol?: boolean } = {}) => {
    const v = viewOf(c);
    const t = v.t;
    const actor = actorOf(c);
    const user = await p.db.selectFrom('users').select(['totp_enabled', 'login_id', 'must_change_password']).where('id', '=', actor.id).executeTakeFirstOrThrow();
    const sessions = await p.auth.sessions.listForUser(actor.id);
    const required = await p.auth.totpRequired({ totp_enabled: 0 }, actor.roles);
    let qr = '';
    let secret = '';
    if (opts.enrol && user.totp_enabled !== 1) {
      secret = await p.auth.pendingTotpSecret(actor.id);
      qr = await qrDataUri(totpUri(secret, user.login_id, 'Machimado'));
    }
    const remaining = user.totp_enabled === 1 ? await p.auth.remainingRecoveryCodes(actor.id) : 0;
    const labels = { current: t('account.currentPassword'), password: t('reset.newPassword'), confirm: t('reset.confirmPassword'), code: t('totp.code') };
    return (
      <AdminLayout v={v} title={t('account.title')} menu={p.menu}>
        {user.must_change_password ? <Notice kind="warning"><p>{t('account.mustChange')}</p></Notice> : null}
        {opts.notice ? <Notice kind="success"><p>{opts.notice}</p></Notice> : null}
        <ErrorSummary v={v} errors={opts.errors} labels={labels} />
        <section aria-labelledby="pw-title">
          <h2 id="pw-title">{t('account.password')}</h2>
          <form method="post" action="/admin/account/password" class="form" novalidate>
            <Csrf v={v} />
            <input type="text" name="username" value={user.login_id} autocomplete="username" class="visually-hidden" tabindex={-1} aria-hidden="true" readonly />
            <TextField v={v} name="current" type="password" label={labels.current} autocomplete="current-password" required errors={opts.errors} />
            <TextField v={v} name="password" type="password" label={labels.password} autocomplete="new-password" required errors={opts.errors} hint={t('admin.passwordHint', { min: p.config.PASSWORD_MIN_LENGTH })} />
            <TextField v={v} name="confirm" type="password" label={labels.confirm} autocomplete="new-password" required errors={opts.errors} />
            <div class="actions"><button type="submit">{t('reset.submit')}</button></div>
          </form>
        </section>
        <section aria-labelledby="totp-title">
          <h2 id="totp-title">{t('totp.title')}</h2>
          <p>{user.totp_enabled ? t('totp.status.on') : t('totp.status.off')}{user.totp_enabled ? t('admin.paren', { text: `${t('totp.recoveryTitle')}: ${remaining}` }) : ''}</p>
          {opts.recoveryCodes ? (
            <Notice kind="success">
              <p>{t('totp.enabled')}</p>
              <ul class="recovery-codes" data-testid="recovery-codes">{opts.recoveryCodes.map((code) => <li>{code}</li>)}</ul>
            </Notice>
          ) : null}
          {user.totp_enabled ? (
            required ? (
              <p>{t('totp.cannotDisable')}</p>
            ) : (
              <form method="post" action="/admin/account/totp/disable">
                <Csrf v={v} />
                <button type="submit" class="button--secondary">{t('totp.disable')}</button>
              </form>
            )
          ) : opts.enrol ? (
            <>
              <p>{t('totp.setupIntro')}</p>
              <img class="qr" src={qr} alt={t('totp.qrAlt')} width={192} height={192} />
              <p>{t('totp.secret')}: <code data-testid="totp-secret">{secret}</code></p>
              <form method="post" action="/admin/account/totp" class="form" novalidate>
                <Csrf v={v} />
                <TextField v={v} name="code" label={labels.code} autocomplete="one-time-code" inputmode="numeric" required errors={opts.errors} />
                <div class="actions"><button type="submit">{t('totp.enable')}</button></div>
              </form>
            </>
          ) : (
            <p><a class="button" href="/admin/account?enrol=1">{t('totp.enable')}</a></p>
          )}
        </section>
        <section aria-labelledby="sessions-title">
          <h2 id="sessions-title">{t('account.sessions')}</h2>
          <div class="table-wrap">
            <table>
              <thead><tr><th scope="col">{t('admin.account.col.createdAt')}</th><th scope="col">{t('admin.account.col.lastSeen')}</th><th scope="col">{t('admin.account.col.ip')}</th><th scope="col">{t('admin.account.col.browser')}</th></tr></thead>
              <tbody>
                {sessions.map((s) => (
                  <tr>
                    <td>{formatDateTime(s.created_at, v.locale)}{s.id === c.get('session')?.id ? t('admin.account.thisDevice') : ''}</td>
                    <td>{formatDateTime(s.last_seen_at, v.locale)}</td>
                    <td>{s.ip}</td>
                    <td>{(s.user_agent ?? '').slice(0, 80)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <form method="post" action="/admin/account/logout-all">
            <Csrf v={v} />
            <button type="submit" class="button--secondary">{t('account.logoutAll')}</button>
          </form>
        </section>
      </AdminLayout>
    );
  };

  app.get('/admin/account', async (c) => c.html(await page(c, { enrol: c.req.query('enrol') === '1' })));

  app.post('/admin/account/password', async (c) => {
    const form = await validateForm(c, passwordSchema);
    if (!form.ok) return c.html(await page(c, { errors: form.errors }), 422);
    const problem = await p.auth.changePassword(actorOf(c), form.data.current, form.data.password, c.get('session')!.id, requestMeta(c));
    if (problem) return c.html(await page(c, { errors: { [problem.field]: problem.message } }), 422);
    return c.html(await page(c, { notice: c.get('t')('account.passwordChanged') }));
  });

  app.post('/admin/account/totp', async (c) => {
    const form = await validateForm(c, codeSchema);
    if (!form.ok) return c.html(await page(c, { errors: form.errors, enrol: true }), 422);
    const codes = await p.auth.confirmTotpEnrolment(actorOf(c).id, form.data.code, requestMeta(c));
    if (!codes) return c.html(await page(c, { errors: { code: c.get('t')('totp.invalid') }, enrol: true }), 422);
    return c.html(await page(c, { recoveryCodes: codes }));
  });

  app.post('/admin/account/totp/disable', async (c) => {
    const actor = actorOf(c);
    if (await p.auth.totpRequired({ totp_enabled: 0 }, actor.roles)) return c.html(await page(c, { errors: { _form: c.get('t')('totp.cannotDisable') } }), 422);
    await p.auth.disableTotp(actor.id, actor, requestMeta(c));
    return c.html(await page(c, { notice: c.get('t')('totp.disabledDone') }));
  });

  app.post('/admin/account/logout-all', async (c) => {
    await p.auth.logoutEverywhere(actorOf(c), requestMeta(c));
    setSessionCookie(c, p.config, null);
    return c.redirect('/admin/login?out=1', 303);
  });
}
