/**
 * IPA 4. セッション管理の不備 — random 256-bit tokens, a new one at every login, only their
 * SHA-256 in the database, HttpOnly / SameSite=Lax / Path=/ cookies (Secure and __Host- on HTTPS),
 * server-side logout, and other sessions ended by a password change.
 */
import { createHash } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { HttpClient } from '../helpers/http-client.js';
import { createStaff } from '../helpers/platform.js';

const sessionCookieOf = (c: HttpClient) => [...c.cookies].find(([k]) => k.includes('mm_session'));
const attrs = (setCookie: string) => setCookie.split(';').slice(1).map((a) => a.trim().toLowerCase());

describePlatform('security: session management', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000' } }, (tp) => {
  it('does not adopt a session id planted before login (session fixation)', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const planted = 'AttackerChosenSessionToken_0123456789abcdef';
    const victim = new HttpClient(tp().baseUrl);
    victim.cookies.set('mm_session', planted);
    const page = await victim.get('/admin/login');
    // The unknown cookie is cleared at once.
    expect(page.headers.getSetCookie().some((c) => c.startsWith('mm_session=;') || /^mm_session=.*max-age=0/i.test(c))).toBe(true);
    victim.cookies.set('mm_session', planted);
    const res = await victim.post('/admin/login', { loginId: staff.loginId, password: staff.password });
    expect(res.status).toBe(303);
    const issued = sessionCookieOf(victim)![1];
    expect(issued).not.toBe(planted);
    expect(issued).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await victim.get('/admin')).status).toBe(200);
    // The attacker's copy of the planted value is worth nothing.
    const attacker = new HttpClient(tp().baseUrl);
    attacker.cookies.set('mm_session', planted);
    const denied = await attacker.get('/admin');
    expect(denied.status).toBe(303);
    expect(denied.location).toMatch(/^\/admin\/login/);
    expect(await p.db.selectFrom('sessions').select('id').where('id', 'in', [planted, createHash('sha256').update(planted).digest('hex')]).execute()).toEqual([]);
  });

  it('issues a different token at every login, even in the same browser', async () => {
    const staff = await createStaff(tp().platform, { roles: ['editor'] });
    const client = new HttpClient(tp().baseUrl);
    await client.login(staff.loginId, staff.password);
    const first = sessionCookieOf(client)![1];
    await client.get('/admin');
    expect((await client.post('/admin/login', { loginId: staff.loginId, password: staff.password })).status).toBe(303);
    const second = sessionCookieOf(client)![1];
    expect(second).not.toBe(first);
  });

  it('sets HttpOnly, SameSite=Lax, Path=/ and (over http) no Secure flag', async () => {
    const staff = await createStaff(tp().platform, { roles: ['editor'] });
    const client = new HttpClient(tp().baseUrl);
    const login = await client.get('/admin/login');
    const anon = login.headers.getSetCookie().find((c) => c.startsWith('mm_anon='))!;
    expect(anon).toBeDefined();
    const res = await client.post('/admin/login', { loginId: staff.loginId, password: staff.password });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('mm_session='))!;
    for (const c of [anon, cookie]) {
      const a = attrs(c);
      expect(a, c).toContain('httponly');
      expect(a, c).toContain('samesite=lax');
      expect(a, c).toContain('path=/');
      expect(a.some((x) => x.startsWith('domain=')), c).toBe(false);
      // A session cookie (no Expires / Max-Age) ends with the browser.
      expect(a.some((x) => x.startsWith('expires=') || x.startsWith('max-age=')), c).toBe(false);
    }
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('stores only the SHA-256 of the cookie token', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const client = new HttpClient(tp().baseUrl);
    await client.login(staff.loginId, staff.password);
    const token = sessionCookieOf(client)![1];
    const rows = await p.db.selectFrom('sessions').selectAll().where('user_id', '=', staff.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('logout destroys the session on the server: a replayed cookie is refused', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const client = new HttpClient(tp().baseUrl);
    await client.login(staff.loginId, staff.password);
    const [name, token] = sessionCookieOf(client)!;
    await client.get('/admin');
    expect((await client.post('/admin/logout', {})).status).toBe(303);
    expect(await p.db.selectFrom('sessions').select('id').where('user_id', '=', staff.id).execute()).toEqual([]);
    const replay = new HttpClient(tp().baseUrl);
    replay.cookies.set(name, token);
    const res = await replay.get('/admin');
    expect(res.status).toBe(303);
    expect(res.location).toMatch(/^\/admin\/login/);
    replay.cookies.set(name, token);
    expect((await replay.get('/admin/account')).status).toBe(303);
  });

  it('a password change ends every other session of the user, and keeps the current one', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const a = new HttpClient(tp().baseUrl);
    const b = new HttpClient(tp().baseUrl);
    await a.login(staff.loginId, staff.password);
    await b.login(staff.loginId, staff.password);
    expect((await b.get('/admin')).status).toBe(200);
    await a.get('/admin/account');
    const res = await a.post('/admin/account/password', { current: staff.password, password: 'Brand-new-pass-42', confirm: 'Brand-new-pass-42' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('パスワードを変更しました');
    expect((await a.get('/admin')).status).toBe(200);
    const other = await b.get('/admin');
    expect(other.status).toBe(303);
    expect(other.location).toMatch(/^\/admin\/login/);
  });
});

describePlatform(
  'security: session cookies over HTTPS',
  { env: { BASE_URL: 'https://city.example.lg.jp', COOKIE_SECURE: 'auto', RATE_LIMIT_LOGIN_PER_MINUTE: '10000' } },
  (tp) => {
    beforeAll(() => {
      // The test harness points BASE_URL at the loopback server; put the production value back.
      (tp().platform.config as { BASE_URL: string }).BASE_URL = 'https://city.example.lg.jp';
    });

    it('names the cookie __Host-mm_session, marks it Secure, and sends HSTS', async () => {
      const staff = await createStaff(tp().platform, { roles: ['editor'] });
      const client = new HttpClient(tp().baseUrl);
      const page = await client.get('/admin/login');
      expect(page.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
      const anon = page.headers.getSetCookie().find((c) => c.startsWith('__Host-mm_anon='))!;
      expect(anon).toBeDefined();
      expect(attrs(anon)).toContain('secure');
      const res = await client.post('/admin/login', { loginId: staff.loginId, password: staff.password });
      expect(res.status).toBe(303);
      const cookie = res.headers.getSetCookie().find((c) => c.includes('mm_session='))!;
      expect(cookie.startsWith('__Host-mm_session=')).toBe(true);
      const a = attrs(cookie);
      expect(a).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=lax', 'path=/']));
      expect(a.some((x) => x.startsWith('domain='))).toBe(false);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('mm_session='))).toBe(false);
      expect((await client.get('/admin')).status).toBe(200);
      // The plain name is not honoured when the site is HTTPS (a cookie set over http cannot stand in).
      const token = client.cookies.get('__Host-mm_session')!;
      const downgrade = new HttpClient(tp().baseUrl);
      downgrade.cookies.set('mm_session', token);
      expect((await downgrade.get('/admin')).status).toBe(303);
    });
  },
);
