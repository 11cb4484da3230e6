import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { requestMeta, safeNext, setSessionCookie } from '../../core/http/app.js';
import { hitRateLimit } from '../../core/http/rate-limit.js';
import { validateForm, type FormValues, str } from '../../core/http/validate.js';
import { AdminLayout } from '../../core/ui/layout.js';
import { viewOf } from '../../core/ui/view.js';
import { Csrf, ErrorSummary, Notice, TextField, type FieldErrors } from '../../core/ui/forms.js';
import { qrDataUri, totpUri } from '../../core/auth/totp.js';
import { translator } from '../../core/i18n/index.js';
import { renderError } from '../../core/http/errors.js';

const loginSchema = z.object({
  loginId: z.string().trim().min(1, 'ログインIDを入力してください。').max(200, 'ログインIDが長すぎます。'),
  password: z.string().min(1, 'パスワードを入力してください。').max(1000, 'パスワードが長すぎます。'),
  next: z.string().optional(),
});

const codeSchema = z.object({
  code: z.string().trim().min(1, '確認コードを入力してください。').max(40, '確認コードが長すぎます。'),
  next: z.string().optional(),
});

const resetRequestSchema = z.object({ loginId: z.string().trim().min(1, 'ログインIDを入力してください。').max(200, 'ログインIDが長すぎます。') });

const newPasswordSchema = z
  .object({
    password: z.string().min(1, '新しいパスワードを入力してください。').max(256, 'パスワードは256文字以内で入力してください。'),
    confirm: z.string().min(1, '確認のため、もう一度入力してください。'),
  })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: '確認用のパスワードが一致しません。' });

/** Sign-in, second step, sign-out and password reset screens. */
export function mountAuthRoutes(app: Hono<AppEnv>, p: Platform) {
  const loginPage = (c: Context<AppEnv>, opts: { errors?: FieldErrors; values?: FormValues; notice?: { kind: 'info' | 'success' | 'error'; text: string } } = {}) => {
    const v = viewOf(c);
    const t = v.t;
    const next = str(opts.values?.next) || c.req.query('next') || '';
    return (
      <AdminLayout v={v} title={t('login.title')} menu={[]}>
        {opts.notice ? <Notice kind={opts.notice.kind}><p>{opts.notice.text}</p></Notice> : null}
        <ErrorSummary v={v} errors={opts.errors} labels={{ loginId: t('login.loginId'), password: t('login.password') }} />
        <form method="post" action="/admin/login" class="form" novalidate>
          <Csrf v={v} />
          <input type="hidden" name="next" value={next} />
          <TextField v={v} name="loginId" label={t('login.loginId')} value={str(opts.values?.loginId)} autocomplete="username" required errors={opts.errors} spellcheck={false} />
          <TextField v={v} name="password" type="password" label={t('login.password')} autocomplete="current-password" required errors={opts.errors} />
          <div class="actions">
            <button type="submit">{t('login.submit')}</button>
            <a href="/admin/password-reset">{t('login.forgot')}</a>
          </div>
        </form>
      </AdminLayout>
    );
  };

  app.get('/admin/login', (c) => {
    if (c.get('actor')) return c.redirect(safeNext(c.req.query('next'), '/admin'), 303);
    const t = c.get('t');
    const notice = c.req.query('out') ? { kind: 'success' as const, text: t('login.loggedOut') } : c.req.query('reset') ? { kind: 'success' as const, text: t('reset.done') } : undefined;
    return c.html(loginPage(c, { notice }));
  });

  app.post('/admin/login', async (c) => {
    const t = c.get('t');
    const ip = c.get('clientIp');
    const limit = await hitRateLimit(p.db, `login:ip:${ip}`, p.config.RATE_LIMIT_LOGIN_PER_MINUTE, 60);
    if (!limit.allowed) {
      c.header('Retry-After', String(limit.retryAfterSeconds));
      return c.html(loginPage(c, { errors: { _form: t('login.rateLimited') } }), 429);
    }
    const form = await validateForm(c, loginSchema);
    if (!form.ok) return c.html(loginPage(c, { errors: form.errors, values: form.values }), 422);
    const result = await p.auth.login(form.data.loginId, form.data.password, requestMeta(c));
    const values = { loginId: form.data.loginId, next: form.data.next ?? '' };
    switch (result.kind) {
      case 'ok':
        setSessionCookie(c, p.config, result.session);
        return c.redirect(safeNext(form.data.next, '/admin'), 303);
      case 'second_step':
        setSessionCookie(c, p.config, result.session);
        return c.redirect(`/admin/login/totp?next=${encodeURIComponent(safeNext(form.data.next, '/admin'))}`, 303);
      case 'locked':
        return c.html(loginPage(c, { errors: { _form: t('login.locked') }, values }), 423);
      case 'disabled':
        return c.html(loginPage(c, { errors: { _form: t('login.disabled') }, values }), 403);
      case 'ip_denied':
        return c.html(loginPage(c, { errors: { _form: t('login.ipDenied') }, values }), 403);
      default:
        return c.html(loginPage(c, { errors: { _form: t('login.failed') }, values }), 401);
    }
  });

  const totpPage = async (c: Context<AppEnv>, errors?: FieldErrors) => {
    const v = viewOf(c);
    const t = v.t;
    const session = c.get('session')!;
    const user = await p.db.selectFrom('users').select(['login_id', 'totp_enabled']).where('id', '=', session.userId).executeTakeFirstOrThrow();
    const enrol = user.totp_enabled !== 1;
    let qr = '';
    let secret = '';
    if (enrol) {
      secret = await p.auth.pendingTotpSecret(session.userId);
      qr = await qrDataUri(totpUri(secret, user.login_id, 'Machimado'));
    }
    return (
      <AdminLayout v={v} title={enrol ? t('totp.setupTitle') : t('totp.title')} menu={[]}>
        <ErrorSummary v={v} errors={errors} labels={{ code: t('totp.code') }} />
        {enrol ? (
          <>
            <Notice kind="info"><p>{t('totp.setupRequired')}</p></Notice>
            <p>{t('totp.setupIntro')}</p>
            <img class="qr" src={qr} alt={t('totp.qrAlt')} width={192} height={192} />
            <p>
              {t('totp.secret')}: <code data-testid="totp-secret">{secret}</code>
            </p>
          </>
        ) : (
          <p>{t('totp.hint')}</p>
        )}
        <form method="post" action="/admin/login/totp" class="form" novalidate>
          <Csrf v={v} />
          <input type="hidden" name="next" value={c.req.query('next') ?? ''} />
          <TextField v={v} name="code" label={t('totp.code')} autocomplete="one-time-code" inputmode="numeric" required errors={errors} spellcheck={false} />
          <div class="actions">
            <button type="submit">{t('totp.submit')}</button>
          </div>
        </form>
      </AdminLayout>
    );
  };

  const pendingOnly = (c: Context<AppEnv>) => c.get('session')?.stage === 'pending_totp';

  app.get('/admin/login/totp', async (c) => {
    if (!pendingOnly(c)) return c.redirect('/admin/login', 303);
    return c.html(await totpPage(c));
  });

  app.post('/admin/login/totp', async (c) => {
    if (!pendingOnly(c)) return c.redirect('/admin/login', 303);
    const t = c.get('t');
    const limit = await hitRateLimit(p.db, `totp:ip:${c.get('clientIp')}`, p.config.RATE_LIMIT_LOGIN_PER_MINUTE, 60);
    if (!limit.allowed) return c.html(await totpPage(c, { _form: t('login.rateLimited') }), 429);
    const form = await validateForm(c, codeSchema);
    if (!form.ok) return c.html(await totpPage(c, form.errors), 422);
    const result = await p.auth.completeSecondStep(c.get('session')!, form.data.code, requestMeta(c));
    if (result.kind === 'locked') {
      setSessionCookie(c, p.config, null);
      return c.html(loginPage(c, { errors: { _form: t('login.locked') } }), 423);
    }
    if (result.kind === 'invalid') return c.html(await totpPage(c, { code: t('totp.invalid') }), 401);
    setSessionCookie(c, p.config, result.session);
    const next = safeNext(form.data.next, '/admin');
    if (result.recoveryCodes) {
      const v = viewOf(c);
      return c.html(
        <AdminLayout v={v} title={t('totp.recoveryTitle')} menu={[]}>
          <Notice kind="success"><p>{t('totp.enabled')}</p></Notice>
          <ul class="recovery-codes" data-testid="recovery-codes">
            {result.recoveryCodes.map((code) => <li>{code}</li>)}
          </ul>
          <p><a class="button" href={next}>{t('common.next')}</a></p>
        </AdminLayout>,
      );
    }
    return c.redirect(next, 303);
  });

  app.post('/admin/logout', async (c) => {
    const session = c.get('session');
    if (session) await p.auth.logout(session, c.get('actor'), requestMeta(c));
    setSessionCookie(c, p.config, null);
    return c.redirect('/admin/login?out=1', 303);
  });

  const resetRequestPage = (c: Context<AppEnv>, opts: { errors?: FieldErrors; values?: FormValues; done?: boolean } = {}) => {
    const v = viewOf(c);
    const t = v.t;
    return (
      <AdminLayout v={v} title={t('reset.title')} menu={[]}>
        {opts.done ? (
          <Notice kind="success"><p>{t('reset.requested', { minutes: p.config.PASSWORD_RESET_MINUTES })}</p></Notice>
        ) : null}
        <ErrorSummary v={v} errors={opts.errors} labels={{ loginId: t('login.loginId') }} />
        <p>{t('reset.requestIntro')}</p>
        <form method="post" action="/admin/password-reset" class="form" novalidate>
          <Csrf v={v} />
          <TextField v={v} name="loginId" label={t('login.loginId')} value={str(opts.values?.loginId)} autocomplete="username" required errors={opts.errors} />
          <div class="actions">
            <button type="submit">{t('reset.requestSubmit')}</button>
            <a href="/admin/login">{t('common.back')}</a>
          </div>
        </form>
      </AdminLayout>
    );
  };

  app.get('/admin/password-reset', (c) => c.html(resetRequestPage(c)));

  app.post('/admin/password-reset', async (c) => {
    const limit = await hitRateLimit(p.db, `reset:ip:${c.get('clientIp')}`, 5, 600);
    if (!limit.allowed) return c.html(resetRequestPage(c, { errors: { _form: c.get('t')('error.rateLimited') } }), 429);
    const form = await validateForm(c, resetRequestSchema);
    if (!form.ok) return c.html(resetRequestPage(c, { errors: form.errors, values: form.values }), 422);
    await p.auth.requestPasswordReset(form.data.loginId, requestMeta(c), translator('ja'));
    return c.html(resetRequestPage(c, { done: true }));
  });

  const resetPage = (c: Context<AppEnv>, token: string, errors?: FieldErrors) => {
    const v = viewOf(c);
    const t = v.t;
    return (
      <AdminLayout v={v} title={t('reset.title')} menu={[]}>
        <ErrorSummary v={v} errors={errors} labels={{ password: t('reset.newPassword'), confirm: t('reset.confirmPassword') }} />
        <form method="post" action={`/admin/password-reset/${token}`} class="form" novalidate>
          <Csrf v={v} />
          <TextField v={v} name="password" type="password" label={t('reset.newPassword')} autocomplete="new-password" required errors={errors} hint={t('admin.passwordHint', { min: p.config.PASSWORD_MIN_LENGTH })} />
          <TextField v={v} name="confirm" type="password" label={t('reset.confirmPassword')} autocomplete="new-password" required errors={errors} />
          <div class="actions">
            <button type="submit">{t('reset.submit')}</button>
          </div>
        </form>
      </AdminLayout>
    );
  };

  app.get('/admin/password-reset/:token', async (c) => {
    const token = c.req.param('token');
    c.header('Referrer-Policy', 'no-referrer');
    if (!(await p.auth.resetTokenValid(token))) return renderError(c, 404, 'reset.invalidToken');
    return c.html(resetPage(c, token));
  });

  app.post('/admin/password-reset/:token', async (c) => {
    const token = c.req.param('token');
    const form = await validateForm(c, newPasswordSchema);
    if (!form.ok) return c.html(resetPage(c, token, form.errors), 422);
    const result = await p.auth.resetPassword(token, form.data.password, requestMeta(c));
    if (!result.ok) {
      if (result.message === 'invalid_token') return renderError(c, 404, 'reset.invalidToken');
      return c.html(resetPage(c, token, { [result.field]: result.message }), 422);
    }
    return c.redirect('/admin/login?reset=1', 303);
  });
}
