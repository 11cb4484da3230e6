import { expect, it } from 'vitest';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createStaff } from '../../../test/helpers/platform.js';
import { currentTotp } from '../../core/auth/totp.js';

describePlatform('staff sign-in', { smtp: true, env: { LOGIN_MAX_FAILURES: '3', SESSION_IDLE_MINUTES: '30', RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  it('signs in with ID and password, issues a new session id, and signs out', async () => {
    const staff = await createStaff(tp().platform, { roles: ['editor'] });
    const client = new HttpClient(tp().baseUrl);
    await client.get('/admin/login');
    const anonCookies = new Map(client.cookies);
    const res = await client.post('/admin/login', { loginId: staff.loginId, password: staff.password, next: '/admin/account' });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/admin/account');
    const cookie = [...client.cookies.keys()].find((k) => k.includes('mm_session'));
    expect(cookie).toBeDefined();
    expect(anonCookies.get(cookie!)).toBeUndefined();
    const setCookie = res.headers.getSetCookie().find((c) => c.includes('mm_session'))!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const dash = await client.get('/admin');
    expect(dash.status).toBe(200);
    expect(dash.text).toContain(staff.loginId);
    const out = await client.post('/admin/logout', {});
    expect(out.status).toBe(303);
    expect((await client.get('/admin')).status).toBe(303);
    const actions = (await tp().platform.audit.list({ actorLogin: staff.loginId }, { limit: 10 })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.login', 'auth.logout']));
  });

  it('refuses a wrong password with a Japanese message, 401, and counts it', async () => {
    const staff = await createStaff(tp().platform, { roles: ['editor'] });
    const client = new HttpClient(tp().baseUrl);
    const res = await client.login(staff.loginId, 'wrong-password');
    expect(res.status).toBe(401);
    expect(res.text).toContain('ログインIDまたはパスワードが正しくありません');
    const row = await tp().platform.db.selectFrom('users').select('failed_logins').where('id', '=', staff.id).executeTakeFirstOrThrow();
    expect(row.failed_logins).toBe(1);
  });

  it('shows field-level errors for an empty form and stores no session', async () => {
    const client = new HttpClient(tp().baseUrl);
    const before = await tp().platform.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const res = await client.post('/admin/login', { loginId: '', password: '' }, { csrf: (await client.get('/admin/login')) && client.lastCsrf });
    expect(res.status).toBe(422);
    expect(res.text).toContain('ログインIDを入力してください。');
    expect(res.text).toContain('パスワードを入力してください。');
    expect(res.text).toContain('aria-invalid="true"');
    const after = await tp().platform.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('locks the account after N failures, audits it, and an administrator unlocks it', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const admin = await createStaff(p, { roles: ['system_admin'] });
    const client = new HttpClient(tp().baseUrl);
    for (let i = 0; i < 2; i++) expect((await client.login(staff.loginId, 'nope-nope-1')).status).toBe(401);
    const third = await client.login(staff.loginId, 'nope-nope-1');
    expect(third.status).toBe(423);
    expect(third.text).toContain('ロックされています');
    // Even the right password is refused while locked.
    expect((await client.login(staff.loginId, staff.password)).status).toBe(423);
    const lockouts = await p.audit.list({ action: 'auth.lockout', targetId: String(staff.id) }, { limit: 5 });
    expect(lockouts.total).toBe(1);

    const adminClient = new HttpClient(tp().baseUrl);
    await adminClient.login(admin.loginId, admin.password);
    const page = await adminClient.get(`/admin/users/${staff.id}`);
    expect(page.text).toContain('ロックを解除する');
    const unlock = await adminClient.post(`/admin/users/${staff.id}/unlock`, {});
    expect(unlock.status).toBe(303);
    expect((await p.audit.list({ action: 'user.unlock', targetId: String(staff.id) }, { limit: 5 })).total).toBe(1);
    expect((await client.login(staff.loginId, staff.password)).status).toBe(303);
  });

  it('requires the TOTP second step when enabled, refuses a replayed code, and accepts a recovery code once', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const secret = await p.auth.pendingTotpSecret(staff.id);
    const codes = await p.auth.confirmTotpEnrolment(staff.id, currentTotp(secret), { ip: '127.0.0.1', userAgent: 't' });
    expect(codes).toHaveLength(10);

    const client = new HttpClient(tp().baseUrl);
    const first = await client.login(staff.loginId, staff.password);
    expect(first.location).toMatch(/^\/admin\/login\/totp/);
    // The half-signed-in session cannot reach the admin.
    expect((await client.get('/admin')).status).toBe(303);
    await client.get('/admin/login/totp');
    // The code used for enrolment is spent: replay is refused.
    expect((await client.post('/admin/login/totp', { code: currentTotp(secret) })).status).toBe(401);
    const ok = await client.post('/admin/login/totp', { code: codes![0]! });
    expect(ok.status).toBe(303);
    expect((await client.get('/admin')).status).toBe(200);

    const again = new HttpClient(tp().baseUrl);
    await again.login(staff.loginId, staff.password);
    await again.get('/admin/login/totp');
    expect((await again.post('/admin/login/totp', { code: codes![0]! })).status).toBe(401);
  });

  it('an administrator resets a lost 2-step verification; the user signs in with the password and can enrol again', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const admin = await createStaff(p, { roles: ['system_admin'] });
    const secret = await p.auth.pendingTotpSecret(staff.id);
    await p.auth.confirmTotpEnrolment(staff.id, currentTotp(secret), { ip: '127.0.0.1', userAgent: 't' });
    const adminClient = new HttpClient(tp().baseUrl);
    await adminClient.login(admin.loginId, admin.password);
    const page = await adminClient.get(`/admin/users/${staff.id}`);
    expect(page.text).toContain('2段階認証をリセットする');
    expect((await adminClient.post(`/admin/users/${staff.id}/reset-2fa`, {})).status).toBe(303);
    const row = await p.db.selectFrom('users').select(['totp_enabled', 'totp_secret']).where('id', '=', staff.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ totp_enabled: 0, totp_secret: null });
    expect(await p.db.selectFrom('recovery_codes').select('id').where('user_id', '=', staff.id).execute()).toEqual([]);
    expect((await p.audit.list({ action: 'user.totp_reset', targetId: String(staff.id) }, { limit: 5 })).total).toBe(1);
    const client = new HttpClient(tp().baseUrl);
    const res = await client.login(staff.loginId, staff.password);
    expect(res.status).toBe(303);
    expect(res.location).toBe('/admin');
  });

  it('forces enrolment when the role requires 2-step verification', async () => {
    const p = tp().platform;
    const admin = await createStaff(p, { roles: ['system_admin'] });
    const staff = await createStaff(p, { roles: ['approver'] });
    await p.users.updateRoleSettings({ ...(await p.auth.actorFor(admin.id))! }, 'approver', { requireTotp: true, ipAllowlist: '' }, { ip: '127.0.0.1', userAgent: 't' });
    const client = new HttpClient(tp().baseUrl);
    const res = await client.login(staff.loginId, staff.password);
    expect(res.location).toMatch(/^\/admin\/login\/totp/);
    const page = await client.get('/admin/login/totp');
    expect(page.text).toContain('2段階認証の設定');
    const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(page.text)![1]!;
    const done = await client.post('/admin/login/totp', { code: currentTotp(secret) });
    expect(done.status).toBe(200);
    expect(done.text).toContain('data-testid="recovery-codes"');
    expect((await client.get('/admin')).status).toBe(200);
    await p.users.updateRoleSettings((await p.auth.actorFor(admin.id))!, 'approver', { requireTotp: false, ipAllowlist: '' }, { ip: '127.0.0.1', userAgent: 't' });
  });

  it('denies sign-in from outside the role IP allow-list, and ends sessions used from elsewhere', async () => {
    const p = tp().platform;
    const admin = await createStaff(p, { roles: ['system_admin'] });
    const staff = await createStaff(p, { roles: ['municipality_staff'] });
    const actor = (await p.auth.actorFor(admin.id))!;
    await p.users.updateRoleSettings(actor, 'municipality_staff', { requireTotp: false, ipAllowlist: '192.0.2.0/24, 2001:db8::/32' }, { ip: '127.0.0.1', userAgent: 't' });
    try {
      const client = new HttpClient(tp().baseUrl);
      const res = await client.login(staff.loginId, staff.password);
      expect(res.status).toBe(403);
      expect(res.text).toContain('この接続元からはログインできません');
      expect((await p.audit.list({ action: 'auth.ip_denied', targetId: String(staff.id) }, { limit: 5 })).total).toBe(1);
      // Allow loopback: sign-in works; then narrow it again and the live session is refused.
      await p.users.updateRoleSettings(actor, 'municipality_staff', { requireTotp: false, ipAllowlist: '127.0.0.0/8, ::1' }, { ip: '127.0.0.1', userAgent: 't' });
      expect((await client.login(staff.loginId, staff.password)).status).toBe(303);
      expect((await client.get('/admin')).status).toBe(200);
      await p.users.updateRoleSettings(actor, 'municipality_staff', { requireTotp: false, ipAllowlist: '192.0.2.0/24' }, { ip: '127.0.0.1', userAgent: 't' });
      expect((await client.get('/admin')).status).toBe(403);
    } finally {
      await p.users.updateRoleSettings(actor, 'municipality_staff', { requireTotp: false, ipAllowlist: '' }, { ip: '127.0.0.1', userAgent: 't' });
    }
  });

  it('rejects state-changing requests without a valid CSRF token', async () => {
    const p = tp().platform;
    const admin = await createStaff(p, { roles: ['system_admin'] });
    const client = new HttpClient(tp().baseUrl);
    await client.login(admin.loginId, admin.password);
    await client.get('/admin/organizations');
    const missing = await client.post('/admin/organizations', { code: 'csrf1', name: 'CSRF', kind: 'department' }, { csrf: null });
    expect(missing.status).toBe(403);
    expect(missing.text).toContain('画面の有効期限が切れたか、不正な送信です');
    const forged = await client.post('/admin/organizations', { code: 'csrf2', name: 'CSRF', kind: 'department' }, { csrf: 'x'.repeat(43) });
    expect(forged.status).toBe(403);
    const crossSite = await client.post('/admin/organizations', { code: 'csrf3', name: 'CSRF', kind: 'department' }, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    const n = await p.db.selectFrom('organizations').select('code').where('code', 'in', ['csrf1', 'csrf2', 'csrf3']).execute();
    expect(n).toEqual([]);
    const ok = await client.post('/admin/organizations', { code: 'csrf4', name: 'CSRF', kind: 'department' });
    expect(ok.status).toBe(303);
  });

  it('expires idle sessions and sessions past their absolute limit', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const client = new HttpClient(tp().baseUrl);
    await client.login(staff.loginId, staff.password);
    expect((await client.get('/admin')).status).toBe(200);
    // Move the clock of this session back past the idle limit.
    const old = new Date(Date.now() - 31 * 60_000).toISOString();
    await p.db.updateTable('sessions').set({ last_seen_at: old }).where('user_id', '=', staff.id).execute();
    const res = await client.get('/admin');
    expect(res.status).toBe(303);
    expect(res.location).toMatch(/^\/admin\/login/);
    expect(await p.db.selectFrom('sessions').select('id').where('user_id', '=', staff.id).execute()).toEqual([]);

    await client.login(staff.loginId, staff.password);
    await p.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('user_id', '=', staff.id).execute();
    expect((await client.get('/admin')).status).toBe(303);
  });

  it('logs out everywhere', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const a = new HttpClient(tp().baseUrl);
    const b = new HttpClient(tp().baseUrl);
    await a.login(staff.loginId, staff.password);
    await b.login(staff.loginId, staff.password);
    await a.get('/admin/account');
    expect((await a.post('/admin/account/logout-all', {})).status).toBe(303);
    expect((await b.get('/admin')).status).toBe(303);
  });

  it('resets a password through a single-use link mailed over SMTP', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'], email: 'reset-me@example.lg.jp' });
    const client = new HttpClient(tp().baseUrl);
    await client.get('/admin/password-reset');
    const res = await client.post('/admin/password-reset', { loginId: staff.loginId });
    expect(res.status).toBe(200);
    // Unknown IDs get the same answer (no account discovery).
    await client.get('/admin/password-reset');
    const unknown = await client.post('/admin/password-reset', { loginId: 'nobody-here' });
    expect(unknown.text).toContain('再設定用のリンクを送信しました');
    await p.jobs.drain();
    const mail = await tp().smtp!.waitFor((m) => m.to.includes('reset-me@example.lg.jp'));
    expect(mail.subject).toContain('パスワード再設定');
    const link = /(\/admin\/password-reset\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    await client.get(link);
    const weak = await client.post(link, { password: 'short', confirm: 'short' });
    expect(weak.status).toBe(422);
    expect(weak.text).toContain('文字以上で入力してください');
    const done = await client.post(link, { password: 'N3w-Secret-Pass', confirm: 'N3w-Secret-Pass' });
    expect(done.status).toBe(303);
    expect((await client.get(link)).status).toBe(404);
    expect((await client.login(staff.loginId, 'N3w-Secret-Pass')).status).toBe(303);
    expect((await new HttpClient(tp().baseUrl).login(staff.loginId, staff.password)).status).toBe(401);
  });

  it('rate-limits login attempts per address', async () => {
    const p = tp().platform;
    const { hitRateLimit } = await import('../../core/http/rate-limit.js');
    const now = new Date('2030-01-01T00:00:10Z');
    for (let i = 0; i < 3; i++) expect((await hitRateLimit(p.db, 'test:rl', 3, 60, now)).allowed).toBe(true);
    const fourth = await hitRateLimit(p.db, 'test:rl', 3, 60, now);
    expect(fourth.allowed).toBe(false);
    expect(fourth.retryAfterSeconds).toBe(50);
    expect((await hitRateLimit(p.db, 'test:rl', 3, 60, new Date('2030-01-01T00:01:00Z'))).allowed).toBe(true);
  });
});
