/**
 * Every page template, in a real browser, passes axe-core (WCAG 2.0/2.1/2.2 A and AA rules) with
 * zero violations: signed out, as a system administrator and as an editor, with and without
 * validation errors, in Japanese and English. Also: keyboard use of the login page, and layout
 * sanity at desktop and 390px mobile widths (screenshots in /tmp for a human look).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { currentTotp } from '../../src/core/auth/totp.js';
import { createOrganization, createStaff, startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { checkA11y, describeE2E, focused, loginAs, newPage, submitAndWait, useBrowser, visit } from './helpers.js';

const browser = useBrowser();

describeE2E('accessibility of every page template', (engine) => {
  let tp: TestPlatform;
  let admin: { id: number; loginId: string; password: string };
  let editor: { id: number; loginId: string; password: string };
  let approver: { id: number; loginId: string; password: string };
  let resetUser: { id: number; loginId: string; password: string };

  beforeAll(async () => {
    tp = await startTestPlatform(engine, { smtp: true, env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } });
    const p = tp.platform;
    const org = await createOrganization(p, { name: 'あおば市', kind: 'municipality' });
    admin = await createStaff(p, { roles: ['system_admin'], organizationId: org, displayName: '管理 太郎' });
    editor = await createStaff(p, { roles: ['editor'], organizationId: org, displayName: '作成 花子' });
    approver = await createStaff(p, { roles: ['approver'], organizationId: org });
    resetUser = await createStaff(p, { roles: ['editor'], organizationId: org, email: 'a11y-reset@example.lg.jp' });
    await p.users.updateRoleSettings((await p.auth.actorFor(admin.id))!, 'approver', { requireTotp: true, ipAllowlist: '' }, { ip: '127.0.0.1', userAgent: 'e2e' });
  });
  afterAll(async () => {
    await tp?.close();
  });

  const page = async (): Promise<Page> => newPage(browser(), tp.baseUrl);

  it('signed out: top page, login (also with errors), password reset (request, sent, token page), 404, English login', async () => {
    const pg = await page();
    expect(await visit(pg, '/')).toBe(200);
    await checkA11y(pg, 'public top page');

    expect(await visit(pg, '/admin/login')).toBe(200);
    await checkA11y(pg, 'login');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: 'ログインする' }).click())).toBe(422);
    await expect(pg.getByRole('alert').textContent()).resolves.toContain('ログインIDを入力してください。');
    await checkA11y(pg, 'login with errors');
    // A wrong password shows the form-level error.
    await pg.getByLabel('ログインID').fill(editor.loginId);
    await pg.getByLabel('パスワード').fill('not-the-password');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: 'ログインする' }).click())).toBe(401);
    await checkA11y(pg, 'login failed');

    expect(await submitAndWait(pg, () => pg.getByRole('link', { name: 'パスワードを忘れた方' }).click())).toBe(200);
    expect(new URL(pg.url()).pathname).toBe('/admin/password-reset');
    await checkA11y(pg, 'password reset request');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '再設定メールを送る' }).click())).toBe(422);
    await checkA11y(pg, 'password reset request with errors');
    await pg.getByLabel('ログインID').fill(resetUser.loginId);
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '再設定メールを送る' }).click())).toBe(200);
    await expect(pg.getByRole('status').first().textContent()).resolves.toContain('再設定用のリンクを送信しました');
    await checkA11y(pg, 'password reset requested');

    await tp.platform.jobs.drain();
    const mail = await tp.smtp!.waitFor((m) => m.to.includes('a11y-reset@example.lg.jp'));
    const link = /(\/admin\/password-reset\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    expect(await visit(pg, link)).toBe(200);
    await checkA11y(pg, 'reset token page');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: 'パスワードを変更する' }).click())).toBe(422);
    await checkA11y(pg, 'reset token page with errors');
    expect(await visit(pg, '/admin/password-reset/not-a-valid-token-at-all')).toBe(404);
    await checkA11y(pg, 'invalid reset token (404)');

    expect(await visit(pg, '/no-such-page')).toBe(404);
    await checkA11y(pg, 'public 404');

    expect(await visit(pg, `/lang/en?next=${encodeURIComponent('/admin/login')}`)).toBe(200);
    expect(await pg.getAttribute('html', 'lang')).toBe('en');
    expect(await pg.getByRole('heading', { level: 1 }).textContent()).toBe('Log in');
    await checkA11y(pg, 'login (English)');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: 'Log in' }).click())).toBe(422);
    await checkA11y(pg, 'login with errors (English)');
    expect(await visit(pg, '/')).toBe(200);
    await checkA11y(pg, 'public top page (English)');
    await pg.context().close();
  });

  it('the 2-step verification enrolment and recovery-code screens', async () => {
    const pg = await page();
    await loginAs(pg, approver.loginId, approver.password);
    expect(new URL(pg.url()).pathname).toBe('/admin/login/totp');
    await expect(pg.getByRole('img', { name: '2段階認証の設定用QRコード' }).isVisible()).resolves.toBe(true);
    await checkA11y(pg, 'TOTP enrolment');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '確認する' }).click())).toBe(422);
    await checkA11y(pg, 'TOTP enrolment with errors');
    await pg.getByLabel('確認コード').fill('000000');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '確認する' }).click())).toBe(401);
    await checkA11y(pg, 'TOTP enrolment, wrong code');
    const secret = (await pg.getByTestId('totp-secret').textContent())!.trim();
    await pg.getByLabel('確認コード').fill(currentTotp(secret));
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '確認する' }).click())).toBe(200);
    await expect(pg.getByTestId('recovery-codes').getByRole('listitem').count()).resolves.toBe(10);
    await checkA11y(pg, 'recovery codes');
    await pg.context().close();
  });

  it('as system administrator: every admin screen, with validation errors, 404, English dashboard', async () => {
    const p = tp.platform;
    const pg = await page();
    await loginAs(pg, admin.loginId, admin.password);
    expect(new URL(pg.url()).pathname).toBe('/admin');
    const nav = pg.getByRole('navigation', { name: '管理メニュー' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['ダッシュボード', 'ページ管理', '承認待ち', 'メディアライブラリ', 'フォーム', 'ユーザ管理', '権限グループ', '組織', '操作ログ', 'ジョブ', '送信メール', '業務カレンダー', 'バックアップ', 'メンテナンス告知', 'アカウント設定']);

    const mailId = await p.mail.send({ to: 'a11y-notice@example.lg.jp', subject: 'お知らせの確認', text: '本文の1行目\n本文の2行目', category: 'test' });
    await p.jobs.drain();
    const pages: Array<[string, string]> = [
      ['/admin', 'dashboard'],
      ['/admin/users', 'users'],
      ['/admin/users?status=locked&q=nobody', 'users, filtered to nothing'],
      ['/admin/users/new', 'new user'],
      [`/admin/users/${editor.id}`, 'user detail'],
      ['/admin/roles', 'roles'],
      ['/admin/organizations', 'organisations'],
      ['/admin/account', 'account'],
      ['/admin/account?enrol=1', 'account, TOTP enrolment'],
      ['/admin/audit', 'audit'],
      ['/admin/jobs', 'jobs'],
      ['/admin/mail', 'mail'],
      [`/admin/mail/${mailId}`, 'mail detail'],
      ['/admin/calendar', 'calendar'],
      ['/admin/backups', 'backups'],
    ];
    for (const [path, label] of pages) {
      expect(await visit(pg, path), label).toBe(200);
      await checkA11y(pg, label);
    }

    // Forms with validation errors.
    expect(await visit(pg, '/admin/users/new')).toBe(200);
    await pg.getByLabel('ログインID').fill('x');
    for (const box of await pg.getByRole('checkbox', { checked: true }).all()) await box.uncheck();
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '保存する' }).click())).toBe(422);
    await checkA11y(pg, 'new user with errors');

    expect(await visit(pg, '/admin/organizations')).toBe(200);
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '保存する' }).click())).toBe(422);
    await checkA11y(pg, 'organisations with errors');

    expect(await visit(pg, '/admin/calendar')).toBe(200);
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '追加する' }).click())).toBe(422);
    await checkA11y(pg, 'calendar with errors');

    expect(await visit(pg, '/admin/roles')).toBe(200);
    const role = pg.getByRole('region', { name: /municipality_staff/ });
    await role.getByLabel('ログインを許可する接続元').fill('not-an-address');
    expect(await submitAndWait(pg, () => role.getByRole('button', { name: '市町村職員の設定を保存' }).click())).toBe(422);
    await checkA11y(pg, 'roles with errors');
    // The error summary links to the field of the role that has the error.
    const href = await pg.getByRole('alert').getByRole('link').first().getAttribute('href');
    expect(await pg.locator(href!).getAttribute('name')).toBe('ipAllowlist');
    expect(await pg.locator(href!).inputValue()).toBe('not-an-address');

    expect(await visit(pg, '/admin/account')).toBe(200);
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: 'パスワードを変更する' }).click())).toBe(422);
    await checkA11y(pg, 'account with errors');

    expect(await visit(pg, '/admin/audit')).toBe(200);
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '改ざん検査を実行する' }).click())).toBe(200);
    await checkA11y(pg, 'audit verify result');

    expect(await visit(pg, '/admin/no-such-page')).toBe(404);
    await checkA11y(pg, 'admin 404');
    expect(await visit(pg, '/admin/users/999999')).toBe(404);
    await checkA11y(pg, 'admin 404 (unknown user)');

    expect(await visit(pg, `/lang/en?next=${encodeURIComponent('/admin')}`)).toBe(200);
    expect(await pg.getAttribute('html', 'lang')).toBe('en');
    expect(await pg.getByRole('heading', { level: 1 }).textContent()).toBe('Dashboard');
    await checkA11y(pg, 'dashboard (English)');
    expect(await visit(pg, '/admin/roles')).toBe(200);
    await checkA11y(pg, 'roles (English)');
    expect(await visit(pg, `/lang/ja?next=${encodeURIComponent('/admin')}`)).toBe(200);
    expect(await pg.getAttribute('html', 'lang')).toBe('ja');
    await pg.context().close();
  });

  it('as an editor: fewer menu items, and the 403 page', async () => {
    const pg = await page();
    await loginAs(pg, editor.loginId, editor.password);
    expect(new URL(pg.url()).pathname).toBe('/admin');
    const nav = pg.getByRole('navigation', { name: '管理メニュー' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['ダッシュボード', 'ページ管理', '承認待ち', 'メディアライブラリ', 'フォーム', 'アカウント設定']);
    await checkA11y(pg, 'dashboard (editor)');
    expect(await visit(pg, '/admin/account')).toBe(200);
    await checkA11y(pg, 'account (editor)');
    expect(await visit(pg, '/admin/users')).toBe(403);
    expect(await pg.getByRole('main').textContent()).toContain('この操作を行う権限がありません。');
    await checkA11y(pg, '403');
    expect(await visit(pg, '/admin/backups')).toBe(403);
    await pg.context().close();
  });

  it('keyboard: Tab reaches the skip link first, Enter moves focus to main, then ID, password, submit; Enter submits', async () => {
    const pg = await page();
    expect(await visit(pg, '/admin/login')).toBe(200);
    await pg.keyboard.press('Tab');
    const skip = await focused(pg);
    expect(skip).toMatchObject({ tag: 'a', text: '本文へ移動' });
    // The skip link is visible when focused (not left off-screen).
    const box = await pg.locator('.skip-link').boundingBox();
    expect(box && box.y >= 0 && box.width > 0).toBe(true);
    await pg.keyboard.press('Enter');
    await pg.waitForFunction(() => document.activeElement?.id === 'main');
    await pg.keyboard.press('Tab');
    expect(await focused(pg)).toMatchObject({ tag: 'input', name: 'loginId' });
    await pg.keyboard.type(admin.loginId);
    await pg.keyboard.press('Tab');
    expect(await focused(pg)).toMatchObject({ tag: 'input', name: 'password', type: 'password' });
    await pg.keyboard.type(admin.password);
    await pg.keyboard.press('Tab');
    expect(await focused(pg)).toMatchObject({ tag: 'button', text: 'ログインする' });
    await pg.keyboard.press('Shift+Tab');
    expect(await focused(pg)).toMatchObject({ name: 'password' });
    expect(await submitAndWait(pg, () => pg.keyboard.press('Enter'))).toBe(200);
    expect(new URL(pg.url()).pathname).toBe('/admin');
    expect(await pg.getByRole('heading', { level: 1 }).textContent()).toBe('ダッシュボード');
    // The focus indicator is drawn (outline) on keyboard focus.
    await pg.keyboard.press('Tab');
    const outline = await pg.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await pg.context().close();
  });

  it('layout: no horizontal scrolling at 390px, screenshots for a human look', async () => {
    const mobile = await newPage(browser(), tp.baseUrl, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    const noHorizontalScroll = () => mobile.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
    expect(await visit(mobile, '/')).toBe(200);
    expect(await noHorizontalScroll()).toBe(true);
    await mobile.screenshot({ path: '/tmp/machimado-e2e-public-390.png', fullPage: true });
    expect(await visit(mobile, '/admin/login')).toBe(200);
    expect(await noHorizontalScroll()).toBe(true);
    // Signed out there is no menu: the form starts right under the header, not below an empty bar.
    expect((await mobile.getByRole('heading', { level: 1 }).boundingBox())!.y).toBeLessThan(150);
    await mobile.screenshot({ path: '/tmp/machimado-e2e-login-390.png', fullPage: true });
    await loginAs(mobile, admin.loginId, admin.password);
    expect(await noHorizontalScroll()).toBe(true);
    await mobile.screenshot({ path: '/tmp/machimado-e2e-dashboard-390.png', fullPage: true });
    await mobile.context().close();

    const desktop = await newPage(browser(), tp.baseUrl, { viewport: { width: 1280, height: 900 } });
    expect(await visit(desktop, '/admin/login')).toBe(200);
    await desktop.screenshot({ path: '/tmp/machimado-e2e-login.png', fullPage: true });
    await loginAs(desktop, admin.loginId, admin.password);
    // Navigation sits beside the content on a wide screen.
    const navBox = (await desktop.getByRole('navigation', { name: '管理メニュー' }).boundingBox())!;
    const mainBox = (await desktop.getByRole('main').boundingBox())!;
    expect(navBox.x + navBox.width).toBeLessThanOrEqual(mainBox.x);
    await desktop.screenshot({ path: '/tmp/machimado-e2e-dashboard.png', fullPage: true });
    await desktop.context().close();
  });
});
