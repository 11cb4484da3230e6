/**
 * IPA 10. バッファオーバーフロー — in a managed runtime the equivalent risk is resource exhaustion
 * by oversized input: bodies over MAX_FORM_BYTES / MAX_UPLOAD_BYTES are refused (413) before any
 * handler reads them, every field has a length limit, and Node caps header size (431).
 */
import { expect, it } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { HttpClient } from '../helpers/http-client.js';
import { rawPost, signedIn, tableCounts } from './helpers.js';

const TOO_LARGE = '送信された内容が大きすぎます';

describePlatform('security: oversized input', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000', MAX_UPLOAD_BYTES: '65536' } }, (tp) => {
  it('a 2 MB urlencoded POST gets 413 in Japanese before the handler runs (with and without Content-Length)', async () => {
    const p = tp().platform;
    const client = new HttpClient(tp().baseUrl);
    await client.get('/admin/login');
    const before = await tableCounts(p);
    const rateBefore = await p.db.selectFrom('rate_limits').select('key').execute();
    const big = new URLSearchParams({ _csrf: client.lastCsrf, loginId: 'x'.repeat(2 * 1024 * 1024), password: 'y' }).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded', cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    const res = await rawPost(tp().baseUrl, '/admin/login', big, headers);
    expect(res.status).toBe(413);
    expect(res.body).toContain(TOO_LARGE);
    // Streamed without a length (chunked): the limit still applies while reading.
    const chunked = await rawPost(tp().baseUrl, '/admin/login', big, headers, { chunked: true });
    expect(chunked.status).toBe(413);
    expect(chunked.body).toContain(TOO_LARGE);
    // The login handler never ran: no rate-limit hit, no audit entry, no session.
    expect(await p.db.selectFrom('rate_limits').select('key').execute()).toEqual(rateBefore);
    expect(await tableCounts(p)).toEqual(before);
  });

  it('a multipart body over MAX_UPLOAD_BYTES gets 413', async () => {
    const { client } = await signedIn(tp().baseUrl, tp().platform, { roles: ['system_admin'] });
    await client.get('/admin/organizations');
    const boundary = 'securitytestboundary';
    const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const body = part('_csrf', client.lastCsrf) + part('code', 'big') + part('name', 'x'.repeat(100 * 1024)) + part('kind', 'department') + `--${boundary}--\r\n`;
    const res = await rawPost(tp().baseUrl, '/admin/organizations', body, {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    });
    expect(res.status).toBe(413);
    expect(res.body).toContain(TOO_LARGE);
    // Just under the limit the same form is accepted by the size check (and validated as usual).
    const small = body.replace('x'.repeat(100 * 1024), 'x'.repeat(200));
    const ok = await rawPost(tp().baseUrl, '/admin/organizations', small, { 'content-type': `multipart/form-data; boundary=${boundary}`, cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') });
    expect(ok.status).toBe(422);
    expect(ok.body).toContain('組織名は100文字以内で入力してください');
    expect(await tp().platform.db.selectFrom('organizations').select('id').where('code', '=', 'big').execute()).toEqual([]);
  });

  it('a 100 KB login ID or a 900 KB password gets a 4xx, not a 500, and stores nothing', async () => {
    const p = tp().platform;
    const client = new HttpClient(tp().baseUrl);
    const before = await tableCounts(p);
    for (const [loginId, password] of [
      ['x'.repeat(100 * 1024), 'y'],
      ['someone', 'p'.repeat(900 * 1024)],
    ]) {
      await client.get('/admin/login');
      const started = Date.now();
      const res = await client.post('/admin/login', { loginId: loginId!, password: password! });
      expect(res.status).toBe(422);
      expect(res.text).toMatch(/長すぎます/);
      // Refused by validation, not after hashing a megabyte.
      expect(Date.now() - started).toBeLessThan(2000);
    }
    await client.get('/admin/password-reset');
    expect((await client.post('/admin/password-reset', { loginId: 'x'.repeat(100 * 1024) })).status).toBe(422);
    expect((await tableCounts(p)).sessions).toBe(before.sessions);
    expect((await tableCounts(p)).mail_messages).toBe(before.mail_messages);
  });

  it('very long query strings and headers get 200 or a 4xx, never a 500', async () => {
    const { client } = await signedIn(tp().baseUrl, tp().platform, { roles: ['system_admin'] });
    const mid = await client.get(`/admin/users?q=${'あ'.repeat(1000)}`);
    expect(mid.status).toBe(200);
    const audit = await client.get(`/admin/audit?q=${'%'.repeat(2000).replace(/%/g, '%25')}&actor=${'a'.repeat(3000)}`);
    expect(audit.status).toBe(200);
    const huge = await client.get(`/admin/users?q=${'a'.repeat(200 * 1024)}`);
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    const cookie = await fetch(`${tp().baseUrl}/admin`, { headers: { cookie: `mm_session=${'z'.repeat(12_000)}` }, redirect: 'manual' });
    expect(cookie.status).toBeLessThan(500);
    expect((await fetch(`${tp().baseUrl}/healthz`)).status).toBe(200);
  });

  it('thousands of repeated form fields are refused without a 500 and store nothing', async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    const before = await tableCounts(p);
    await client.get('/admin/users/new');
    const roles = await client.post('/admin/users', { loginId: 'repeat1', displayName: 'x', roles: Array.from({ length: 20_000 }, (_, i) => `role${i}`) });
    expect(roles.status).toBe(422);
    const ids = await client.post('/admin/users', { loginId: Array.from({ length: 20_000 }, () => 'repeat2'), displayName: 'x', roles: 'editor' });
    expect(ids.status).toBeGreaterThanOrEqual(400);
    expect(ids.status).toBeLessThan(500);
    const anon = new HttpClient(tp().baseUrl);
    await anon.get('/admin/login');
    const login = await anon.post('/admin/login', { loginId: Array.from({ length: 20_000 }, () => 'a'), password: Array.from({ length: 20_000 }, () => 'b') });
    expect(login.status).toBe(422);
    const after = await tableCounts(p);
    expect(after.users).toBe(before.users);
    expect(after.sessions).toBe(before.sessions);
  });
});
