/**
 * Staff sign-in journeys in a real browser: enrolment in and use of 2-step verification, lockout
 * and unlock, IP allow-list denial, CSRF rejection, idle session expiry, password reset by mail.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { currentTotp } from '../../src/core/auth/totp.js';
import { createStaff, startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { describeE2E, loginAs, newPage, submitAndWait, useBrowser, visit } from './helpers.js';

const browser = useBrowser();

describeE2E('staff sign-in in the browser', (engine) => {
  let tp: TestPlatform;
  let admin: { id: number; loginId: string; password: string };
  const meta = { ip: '127.0.0.1', userAgent: 'e2e' };

  beforeAll(async () => {
    tp = await startTestPlatform(engine, {
      smtp: true,
      env: { LOGIN_MAX_FAILURES: '3', RATE_LIMIT_LOGIN_PER_MINUTE: '1000', SESSION_IDLE_MINUTES: '30' },
    });
    admin = await createStaff(tp.platform, { roles: ['system_admin'] });
  });
  afterAll(async () => {
    await tp?.close();
  });

  const h1 = (pg: import('playwright-core').Page) => pg.getByRole('heading', { level: 1 }).textContent();

  it('enrols in 2-step verification when the role requires it, then signs in with a recovery code', async () => {
    const p = tp.platform;
    const staff = await createStaff(p, { roles: ['approver'] });
    await p.users.updateRoleSettings((await p.auth.actorFor(admin.id))!, 'approver', { requireTotp: true, ipAllowlist: '' }, meta);
    try {
      const pg = await newPage(browser(), tp.baseUrl);
      await loginAs(pg, staff.loginId, staff.password);
      expect(new URL(pg.url()).pathname).toBe('/admin/login/totp');
      expect(await h1(pg)).toBe('2段階認証の設定');
      // The QR code is a real, decoded image with a text alternative.
      const qr = pg.getByRole('img', { name: '2段階認証の設定用QRコード' });
      expect(await qr.isVisible()).toBe(true);
      expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
      const secret = (await pg.getByTestId('totp-secret').textContent())!.trim();
      expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
      // Not signed in yet: the dashboard still sends the half-signed-in user away.
      const probe = await pg.context().request.get('/admin', { maxRedirects: 0 });
      expect(probe.status()).toBe(303);

      await pg.getByLabel('確認コード').fill(currentTotp(secret));
      expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '確認する' }).click())).toBe(200);
      expect(await h1(pg)).toBe('リカバリーコード');
      const codes = (await pg.getByTestId('recovery-codes').getByRole('listitem').allTextContents()).map((c) => c.trim());
      expect(codes).toHaveLength(10);
      await submitAndWait(pg, () => pg.getByRole('link', { name: '次へ' }).click());
      expect(new URL(pg.url()).pathname).toBe('/admin');
      expect(await h1(pg)).toBe('ダッシュボード');

      await submitAndWait(pg, () => pg.getByRole('button', { name: 'ログアウト' }).click());
      expect(new URL(pg.url()).pathname).toBe('/admin/login');
      expect(await pg.getByRole('status').textContent()).toContain('ログアウトしました');
      expect(await visit(pg, '/admin')).toBe(200);
      expect(new URL(pg.url()).pathname).toBe('/admin/login');

      // Second sign-in: no enrolment any more, the code step instead; a recovery code works once.
      await loginAs(pg, staff.loginId, staff.password);
      expect(new URL(pg.url()).pathname).toBe('/admin/login/totp');
      expect(await h1(pg)).toBe('2段階認証');
      expect(await pg.getByRole('img').count()).toBe(0);
      await pg.getByLabel('確認コード').fill('123456');
      expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '確認する' }).click())).toBe(401);
      expect(await pg.getByRole('alert').textContent()).toContain('確認コード');
      await pg.getByLabel('確認コード').fill(codes[0]!);
      expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '確認する' }).click())).toBe(200);
      expect(new URL(pg.url()).pathname).toBe('/admin');
      expect(await pg.getByText(`（${staff.loginId}）`).count()).toBe(1);
      await pg.context().close();
    } finally {
      await p.users.updateRoleSettings((await p.auth.actorFor(admin.id))!, 'approver', { requireTotp: false, ipAllowlist: '' }, meta);
    }
  });

  it('locks the account after 3 failures; an administrator unlocks it from another browser', async () => {
    const staff = await createStaff(tp.platform, { roles: ['editor'] });
    const pg = await newPage(browser(), tp.baseUrl);
    for (let i = 0; i < 2; i++) {
      await pg.goto('/admin/login');
      await pg.getByLabel('ログインID').fill(staff.loginId);
      await pg.getByLabel('パスワード').fill('wrong-password-1');
      expect(await submitAndWait(pg, () => pg.getByRole('button', { name: 'ログインする' }).click())).toBe(401);
      expect(await pg.getByRole('alert').textContent()).toContain('ログインIDまたはパスワードが正しくありません');
    }
    await pg.getByLabel('パスワード').fill('wrong-password-1');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: 'ログインする' }).click())).toBe(423);
    expect(await pg.getByRole('alert').textContent()).toContain('アカウントがロックされています');
    // The right password does not help while locked.
    await loginAs(pg, staff.loginId, staff.password);
    expect(new URL(pg.url()).pathname).toBe('/admin/login');
    expect(await pg.getByRole('alert').textContent()).toContain('ロックされています');

    const adminPage = await newPage(browser(), tp.baseUrl);
    await loginAs(adminPage, admin.loginId, admin.password);
    await submitAndWait(adminPage, () => adminPage.getByRole('navigation', { name: '管理メニュー' }).getByRole('link', { name: 'ユーザ管理' }).click());
    await submitAndWait(adminPage, () => adminPage.getByRole('link', { name: staff.loginId, exact: true }).click());
    expect(new URL(adminPage.url()).pathname).toBe(`/admin/users/${staff.id}`);
    expect(await adminPage.locator('dl.meta').textContent()).toContain('ロック中');
    expect(await submitAndWait(adminPage, () => adminPage.getByRole('button', { name: 'ロックを解除する' }).click())).toBe(200);
    expect(await adminPage.getByRole('status').first().textContent()).toContain('保存しました');
    expect(await adminPage.getByRole('button', { name: 'ロックを解除する' }).count()).toBe(0);
    expect(await adminPage.locator('dl.meta').textContent()).toContain('有効');
    await adminPage.context().close();

    await loginAs(pg, staff.loginId, staff.password);
    expect(new URL(pg.url()).pathname).toBe('/admin');
    expect(await h1(pg)).toBe('ダッシュボード');
    await pg.context().close();
  });

  it('refuses sign-in from outside the allow-list set on the roles screen', async () => {
    const p = tp.platform;
    const staff = await createStaff(p, { roles: ['municipality_staff'] });
    const adminPage = await newPage(browser(), tp.baseUrl);
    await loginAs(adminPage, admin.loginId, admin.password);
    await submitAndWait(adminPage, () => adminPage.getByRole('link', { name: '権限グループ' }).click());
    const role = adminPage.getByRole('region', { name: /municipality_staff/ });
    await role.getByLabel('ログインを許可する接続元').fill('192.0.2.0/24');
    expect(await submitAndWait(adminPage, () => role.getByRole('button', { name: '市町村職員の設定を保存' }).click())).toBe(200);
    expect(await adminPage.getByRole('status').first().textContent()).toContain('保存しました');
    try {
      const pg = await newPage(browser(), tp.baseUrl);
      await pg.goto('/admin/login');
      await pg.getByLabel('ログインID').fill(staff.loginId);
      await pg.getByLabel('パスワード').fill(staff.password);
      expect(await submitAndWait(pg, () => pg.getByRole('button', { name: 'ログインする' }).click())).toBe(403);
      expect(await pg.getByRole('alert').textContent()).toContain('この接続元からはログインできません');
      expect(await visit(pg, '/admin')).toBe(200);
      expect(new URL(pg.url()).pathname).toBe('/admin/login');
      await pg.context().close();
    } finally {
      await p.users.updateRoleSettings((await p.auth.actorFor(admin.id))!, 'municipality_staff', { requireTotp: false, ipAllowlist: '' }, meta);
      await adminPage.context().close();
    }
  });

  it('rejects a form whose CSRF token was tampered with, and stores nothing', async () => {
    const p = tp.platform;
    const pg = await newPage(browser(), tp.baseUrl);
    await loginAs(pg, admin.loginId, admin.password);
    await pg.goto('/admin/organizations');
    const fill = async (code: string) => {
      await pg.getByLabel('組織コード').fill(code);
      await pg.getByLabel('組織名', { exact: false }).first().fill(`CSRF検証 ${code}`);
      await pg.getByLabel('種別').selectOption('department');
    };
    await fill('e2e-csrf-1');
    const changed = await pg.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>('form[action="/admin/organizations"] input[name="_csrf"]');
      if (!input) return false;
      input.value = 'A'.repeat(input.value.length);
      return true;
    });
    expect(changed).toBe(true);
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '保存する' }).click())).toBe(403);
    expect(await pg.getByRole('main').textContent()).toContain('画面の有効期限が切れたか、不正な送信です');
    expect(await p.db.selectFrom('organizations').select('id').where('code', '=', 'e2e-csrf-1').execute()).toEqual([]);

    // The same form with its own token is accepted (so the 403 above came from the token alone).
    await pg.goto('/admin/organizations');
    await fill('e2e-csrf-2');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '保存する' }).click())).toBe(200);
    expect(await pg.getByRole('status').first().textContent()).toContain('保存しました');
    expect(await p.db.selectFrom('organizations').select('id').where('code', '=', 'e2e-csrf-2').execute()).toHaveLength(1);
    await pg.context().close();
  });

  it('sends an idle session back to the login page', async () => {
    const p = tp.platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const pg = await newPage(browser(), tp.baseUrl);
    await loginAs(pg, staff.loginId, staff.password);
    expect(await visit(pg, '/admin/account')).toBe(200);
    expect(await h1(pg)).toBe('アカウント設定');
    const old = new Date(Date.now() - 31 * 60_000).toISOString();
    const aged = await p.db.updateTable('sessions').set({ last_seen_at: old }).where('user_id', '=', staff.id).executeTakeFirst();
    expect(Number(aged.numUpdatedRows)).toBe(1);
    await pg.reload();
    const url = new URL(pg.url());
    expect(url.pathname).toBe('/admin/login');
    expect(url.searchParams.get('next')).toBe('/admin/account');
    expect(await h1(pg)).toBe('ログイン');
    // Signing in again returns to the page that was open.
    await pg.getByLabel('ログインID').fill(staff.loginId);
    await pg.getByLabel('パスワード').fill(staff.password);
    await submitAndWait(pg, () => pg.getByRole('button', { name: 'ログインする' }).click());
    expect(new URL(pg.url()).pathname).toBe('/admin/account');
    await pg.context().close();
  });

  it('resets a forgotten password through the link mailed over SMTP', async () => {
    const p = tp.platform;
    const staff = await createStaff(p, { roles: ['editor'], email: 'e2e-reset@example.lg.jp' });
    const pg = await newPage(browser(), tp.baseUrl);
    await pg.goto('/admin/login');
    await submitAndWait(pg, () => pg.getByRole('link', { name: 'パスワードを忘れた方' }).click());
    expect(await h1(pg)).toBe('パスワードの再設定');
    await pg.getByLabel('ログインID').fill(staff.loginId);
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '再設定メールを送る' }).click())).toBe(200);
    expect(await pg.getByRole('status').textContent()).toContain('再設定用のリンクを送信しました');

    await p.jobs.drain();
    const mail = await tp.smtp!.waitFor((m) => m.to.includes('e2e-reset@example.lg.jp'));
    expect(mail.subject).toContain('パスワード再設定');
    const link = /(\/admin\/password-reset\/[A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
    expect(link, mail.text).toBeDefined();

    expect(await visit(pg, link!)).toBe(200);
    const newPassword = 'E2e-N3w-Secret!';
    await pg.getByLabel(/^新しいパスワード(?!（確認）)/).fill(newPassword);
    await pg.getByLabel('新しいパスワード（確認）').fill(newPassword);
    await submitAndWait(pg, () => pg.getByRole('button', { name: 'パスワードを変更する' }).click());
    expect(new URL(pg.url()).pathname).toBe('/admin/login');
    expect(await pg.getByRole('status').textContent()).toContain('パスワードを変更しました');
    // The link is single-use.
    expect(await visit(pg, link!)).toBe(404);

    await loginAs(pg, staff.loginId, staff.password);
    expect(new URL(pg.url()).pathname).toBe('/admin/login');
    await loginAs(pg, staff.loginId, newPassword);
    expect(new URL(pg.url()).pathname).toBe('/admin');
    expect(await h1(pg)).toBe('ダッシュボード');
    await pg.context().close();
  });

});
