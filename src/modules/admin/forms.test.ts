import { expect, it } from 'vitest';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createStaff } from '../../../test/helpers/platform.js';

/** Every admin form: invalid input → field-level Japanese message, HTTP 4xx, nothing stored. */
describePlatform('admin forms reject bad input', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let client: HttpClient;
  const count = async (table: 'users' | 'organizations' | 'closed_days' | 'role_settings') =>
    Number((await tp().platform.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  it('signs in as administrator', async () => {
    const admin = await createStaff(tp().platform, { roles: ['system_admin'], loginId: 'formadmin', password: 'Form-Admin-Pass1' });
    client = new HttpClient(tp().baseUrl);
    expect((await client.login(admin.loginId, admin.password)).status).toBe(303);
  });

  it('user form: every field problem is named, the input is kept, nothing is stored', async () => {
    const before = await count('users');
    await client.get('/admin/users/new');
    const res = await client.post('/admin/users', { loginId: 'a', displayName: '', email: 'not-an-email', roles: [], password: 'short' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('ログインIDは3文字以上で入力してください。');
    expect(res.text).toContain('氏名を入力してください。');
    expect(res.text).toContain('メールアドレスの形式が正しくありません');
    expect(res.text).toContain('入力内容に誤りがあります');
    expect(res.text).toContain('value="not-an-email"');
    expect(await count('users')).toBe(before);

    await client.get('/admin/users/new');
    const roles = await client.post('/admin/users', { loginId: 'valid.user', displayName: '山田', roles: ['no_such_role'] });
    expect(roles.status).toBe(422);
    expect(roles.text).toContain('付与できない権限グループ');
    await client.get('/admin/users/new');
    const weak = await client.post('/admin/users', { loginId: 'valid.user', displayName: '山田', roles: ['editor'], password: 'abcdefghijk' });
    expect(weak.status).toBe(422);
    expect(weak.text).toContain('2種類以上');
    expect(await count('users')).toBe(before);
  });

  it('user form: a duplicate login ID is a field error, not a 500', async () => {
    await client.get('/admin/users/new');
    const first = await client.post('/admin/users', { loginId: 'dup.user', displayName: '重複', roles: ['editor'] });
    expect(first.status).toBe(201);
    expect(first.text).toContain('data-testid="initial-password"');
    const before = await count('users');
    const again = await client.post('/admin/users', { loginId: 'dup.user', displayName: '重複2', roles: ['editor'] });
    expect(again.status).toBe(422);
    expect(again.text).toContain('このログインIDは既に使われています。');
    expect(await count('users')).toBe(before);
  });

  it('user delete needs the confirmation box', async () => {
    const u = await createStaff(tp().platform, { roles: ['editor'] });
    await client.get(`/admin/users/${u.id}`);
    const res = await client.post(`/admin/users/${u.id}/delete`, {});
    expect(res.status).toBe(422);
    expect(res.text).toContain('確認のチェックを入れてください');
    const row = await tp().platform.db.selectFrom('users').select('status').where('id', '=', u.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('active');
    await client.get(`/admin/users/${u.id}`);
    expect((await client.post(`/admin/users/${u.id}/delete`, { confirm: '1' })).status).toBe(303);
    expect((await tp().platform.db.selectFrom('users').select('status').where('id', '=', u.id).executeTakeFirstOrThrow()).status).toBe('deleted');
  });

  it('organisation form', async () => {
    const before = await count('organizations');
    await client.get('/admin/organizations');
    const res = await client.post('/admin/organizations', { code: 'bad code!', name: '', kind: 'planet' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('組織コードは半角英数字');
    expect(res.text).toContain('組織名を入力してください。');
    expect(res.text).toContain('種別を選んでください。');
    expect(await count('organizations')).toBe(before);
  });

  it('role settings: a malformed CIDR is named and the old setting stays', async () => {
    await client.get('/admin/roles');
    const res = await client.post('/admin/roles/editor', { requireTotp: '1', ipAllowlist: '10.0.0.0/40, hello' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('不正な');
    const row = await tp().platform.db.selectFrom('role_settings').selectAll().where('role', '=', 'editor').executeTakeFirst();
    expect(row?.require_totp ?? 0).toBe(0);
  });

  it('calendar closed day', async () => {
    const before = await count('closed_days');
    await client.get('/admin/calendar');
    const res = await client.post('/admin/calendar/closed', { day: '2026-13-45', reason: '' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('理由を入力してください。');
    expect(await count('closed_days')).toBe(before);
    await client.get('/admin/calendar');
    const bad = await client.post('/admin/calendar/closed', { day: '2026-02-30', reason: '停電' });
    expect(bad.status).toBe(422);
    expect(await count('closed_days')).toBe(before);
  });

  it('own password change', async () => {
    await client.get('/admin/account');
    const res = await client.post('/admin/account/password', { current: 'wrong', password: 'x', confirm: 'y' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('確認用のパスワードが一致しません。');
    await client.get('/admin/account');
    const wrong = await client.post('/admin/account/password', { current: 'wrong-current', password: 'New-Pass-12345', confirm: 'New-Pass-12345' });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('現在のパスワードが正しくありません。');
    expect((await new HttpClient(tp().baseUrl).login('formadmin', 'Form-Admin-Pass1')).status).toBe(303);
  });

  it('two-step enrolment with a wrong code', async () => {
    await client.get('/admin/account?enrol=1');
    const res = await client.post('/admin/account/totp', { code: '000000' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('確認コードが正しくありません。');
    const row = await tp().platform.db.selectFrom('users').select('totp_enabled').where('login_id', '=', 'formadmin').executeTakeFirstOrThrow();
    expect(row.totp_enabled).toBe(0);
  });

  it('password reset forms', async () => {
    const anon = new HttpClient(tp().baseUrl);
    await anon.get('/admin/password-reset');
    const empty = await anon.post('/admin/password-reset', { loginId: '' });
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('ログインIDを入力してください。');
    expect((await anon.get('/admin/password-reset/not-a-real-token-1234567890')).status).toBe(404);
  });
});
