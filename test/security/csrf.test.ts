/**
 * IPA 6. CSRF（クロスサイト・リクエスト・フォージェリ） — one middleware guards every POST/PUT/
 * PATCH/DELETE: the token is an HMAC of the session (or of the anonymous cookie before login),
 * and a browser-declared cross-site request is refused outright. The routes are read from the
 * app itself, so a route added later is attacked too.
 */
import { expect, it } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { HttpClient } from '../helpers/http-client.js';
import { createOrganization, createStaff } from '../helpers/platform.js';
import { identitySnapshot, signedIn, tableCounts } from './helpers.js';

const CSRF_MESSAGE = '画面の有効期限が切れたか、不正な送信です';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

describePlatform('security: CSRF', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000' } }, (tp) => {
  it('every state-changing route refuses forged requests and writes nothing', async () => {
    const p = tp().platform;
    const orgId = await createOrganization(p);
    const target = await createStaff(p, { roles: ['editor'], organizationId: orgId, email: 'csrf-target@example.jp' });
    await p.db.updateTable('users').set({ locked_at: new Date().toISOString() }).where('id', '=', target.id).execute();
    const closedDay = await p.calendar.addClosedDay({ organizationId: null, day: '2031-05-07', reason: 'CSRF' });
    const jobId = await p.jobs.enqueue('sessions.purge', {});
    const { client: victim } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    const { client: other } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    const otherSessionToken = other.lastCsrf;
    const attackerAnon = new HttpClient(tp().baseUrl);
    await attackerAnon.get('/admin/login');
    const attackerAnonToken = attackerAnon.lastCsrf;
    expect(otherSessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(attackerAnonToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await victim.get('/admin');
    const victimToken = victim.lastCsrf;
    expect(victimToken).not.toBe(otherSessionToken);
    const victimAnon = new HttpClient(tp().baseUrl);
    await victimAnon.get('/admin/login');
    const victimAnonToken = victimAnon.lastCsrf;

    const routes = [...new Map(p.app.routes.filter((r) => UNSAFE.has(r.method)).map((r) => [`${r.method} ${r.path}`, r])).values()];
    const paths = routes.map((r) => r.path);
    // The enumeration found the real routes (guards against a test that attacks nothing).
    expect(paths).toEqual(expect.arrayContaining(['/admin/login', '/admin/logout', '/admin/users', '/admin/users/:id{[0-9]+}/delete', '/admin/roles/:role', '/admin/backups/run', '/admin/account/password']));
    expect(routes.length).toBeGreaterThanOrEqual(20);

    const sample: Record<string, string> = { id: String(target.id), role: 'editor', token: 'A'.repeat(43), locale: 'en' };
    const concrete = (path: string) =>
      path.replace(/:(\w+)(\{[^}]*\})?/g, (_m, name: string) => {
        if (path.startsWith('/admin/calendar')) return String(closedDay);
        if (path.startsWith('/admin/jobs')) return String(jobId);
        if (path.startsWith('/admin/organizations')) return String(orgId);
        return sample[name] ?? '1';
      });
    const form = { loginId: target.loginId, password: 'Whatever-123', displayName: 'CSRF', roles: 'system_admin', code: 'csrf-org', name: 'CSRF', kind: 'department', confirm: '1', current: 'x', confirm_: 'x', requireTotp: '1', ipAllowlist: '192.0.2.0/24', day: '2031-05-08', reason: 'CSRF' };

    const before = await tableCounts(p);
    const snap = await identitySnapshot(p);
    const roleSettings = await p.db.selectFrom('role_settings').selectAll().execute();
    for (const r of routes) {
      const path = concrete(r.path);
      const attempts: Array<[string, HttpClient, Parameters<HttpClient['post']>[2]]> = [
        ['no token', victim, { csrf: null }],
        ['empty token', victim, { csrf: '' }],
        ["another session's token", victim, { csrf: otherSessionToken }],
        ["another browser's anonymous token", victim, { csrf: attackerAnonToken }],
        ["another browser's anonymous token (signed out)", victimAnon, { csrf: attackerAnonToken }],
        ['own token, Sec-Fetch-Site: cross-site', victim, { csrf: victimToken, headers: { 'sec-fetch-site': 'cross-site' } }],
        ['own anonymous token, Sec-Fetch-Site: cross-site', victimAnon, { csrf: victimAnonToken, headers: { 'sec-fetch-site': 'cross-site' } }],
        ['token of a wrong length', victim, { csrf: `${victimToken}x` }],
      ];
      for (const [label, client, opts] of attempts) {
        const res = await client.request(r.method, path, {
          body: new URLSearchParams({ ...form, ...(opts?.csrf != null ? { _csrf: opts.csrf } : {}) }),
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...opts?.headers },
        });
        expect(res.status, `${r.method} ${path}: ${label}`).toBe(403);
        expect(res.text, `${r.method} ${path}: ${label}`).toContain(CSRF_MESSAGE);
      }
      // A token smuggled in a body the middleware does not parse (text/plain forms, JSON) counts as missing.
      for (const [type, body] of [
        ['text/plain', `_csrf=${victimToken}`],
        ['application/json', JSON.stringify({ _csrf: victimToken, ...form })],
      ] as const) {
        const res = await victim.request(r.method, path, { body, headers: { 'content-type': type } });
        expect(res.status, `${r.method} ${path}: ${type}`).toBe(403);
      }
    }
    expect(await tableCounts(p)).toEqual(before);
    expect(await identitySnapshot(p)).toEqual(snap);
    expect(await p.db.selectFrom('role_settings').selectAll().execute()).toEqual(roleSettings);
    // The victim is still signed in (the forged logout did nothing) and the real token works.
    expect((await victim.get('/admin')).status).toBe(200);
    const ok = await victim.post(`/admin/users/${target.id}/unlock`, {}, { csrf: victimToken });
    expect(ok.status).toBe(303);
  });

  it('the anonymous token is bound to its own cookie (login CSRF)', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    const attacker = new HttpClient(tp().baseUrl);
    await attacker.get('/admin/login');
    const victim = new HttpClient(tp().baseUrl);
    await victim.get('/admin/login');
    const res = await victim.post('/admin/login', { loginId: staff.loginId, password: staff.password }, { csrf: attacker.lastCsrf });
    expect(res.status).toBe(403);
    // Without any anonymous cookie there is nothing to compare against.
    const bare = new HttpClient(tp().baseUrl);
    expect((await bare.post('/admin/login', { loginId: staff.loginId, password: staff.password }, { csrf: attacker.lastCsrf })).status).toBe(403);
    expect(await p.db.selectFrom('sessions').select('id').where('user_id', '=', staff.id).execute()).toEqual([]);
  });
});
