/**
 * IPA 1. SQLインジェクション — every value that reaches SQL goes through Kysely parameters;
 * LIKE searches escape % and _ so they match literally.
 */
import { expect, it } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { HttpClient } from '../helpers/http-client.js';
import { createStaff } from '../helpers/platform.js';
import { identitySnapshot, signedIn, tableCounts } from './helpers.js';

const PAYLOADS = [
  `' OR '1'='1' --`,
  `' OR '1'='1`,
  `admin'--`,
  `admin' #`,
  `1; DROP TABLE users`,
  `'; DROP TABLE users; --`,
  `" OR ""="`,
  `') OR ('1'='1`,
  `' UNION SELECT login_id, password_hash FROM users --`,
  `%' OR 1=1 --`,
  `\\'; DELETE FROM sessions; --`,
  `1 OR 1=1`,
  `'||(SELECT password_hash FROM users LIMIT 1)||'`,
];

const usersTotal = (html: string) => Number(/ユーザ一覧（(\d+)件）/.exec(html)?.[1] ?? NaN);
const auditTotal = (html: string) => Number(/操作ログ（(\d+)件）/.exec(html)?.[1] ?? NaN);

describePlatform('security: SQL injection', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000', LOGIN_MAX_FAILURES: '100' } }, (tp) => {
  it('login ID and password payloads never sign anyone in and never cause a 500', async () => {
    const p = tp().platform;
    const victim = await createStaff(p, { loginId: 'sqlvictim', roles: ['system_admin'] });
    const before = await tableCounts(p);
    const client = new HttpClient(tp().baseUrl);
    for (const payload of [...PAYLOADS, `${victim.loginId}'--`, `${victim.loginId}' OR '1'='1`, `${victim.loginId}'/*`]) {
      for (const [loginId, password] of [
        [payload, 'whatever-1'],
        [victim.loginId, payload],
        [payload, payload],
      ] as const) {
        const res = await client.login(loginId, password);
        expect(res.status, `${loginId} / ${password}`).toBe(401);
        expect(res.text).toContain('ログインIDまたはパスワードが正しくありません');
        expect([...client.cookies.keys()].some((k) => k.includes('mm_session'))).toBe(false);
      }
    }
    const after = await tableCounts(p);
    expect(after.users).toBe(before.users);
    expect(after.sessions).toBe(before.sessions);
    // The payload is stored as data (audit of the failed attempt), not executed.
    const logged = await p.audit.list({ q: '1; DROP TABLE users' }, { limit: 5 });
    expect(logged.total).toBeGreaterThan(0);
    // The real password still works: no row was changed.
    expect((await client.login(victim.loginId, victim.password)).status).toBe(303);
  });

  it('the user search (?q=, ?role=, ?status=, ?page=) treats payloads as text', async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    const all = await client.get('/admin/users');
    expect(all.status).toBe(200);
    expect(usersTotal(all.text)).toBeGreaterThanOrEqual(2);
    const snap = await identitySnapshot(p);
    for (const payload of PAYLOADS) {
      for (const param of ['q', 'role', 'status', 'page']) {
        const res = await client.get(`/admin/users?${new URLSearchParams({ [param]: payload })}`);
        expect(res.status, `${param}=${payload}`).toBe(200);
        if (param === 'q' || param === 'role') expect(usersTotal(res.text), `${param}=${payload}`).toBe(0);
      }
    }
    expect(await identitySnapshot(p)).toEqual(snap);
  });

  it('LIKE wildcards % and _ in the user search match only themselves', async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    await createStaff(p, { loginId: 'like_a1', displayName: '進捗100%完了', roles: ['editor'] });
    await createStaff(p, { loginId: 'likexa1', displayName: '進捗100点', roles: ['editor'] });
    const underscore = await client.get(`/admin/users?q=${encodeURIComponent('like_a')}`);
    expect(underscore.text).toContain('like_a1');
    expect(underscore.text).not.toContain('likexa1');
    expect(usersTotal(underscore.text)).toBe(1);
    const percent = await client.get(`/admin/users?q=${encodeURIComponent('100%')}`);
    expect(percent.text).toContain('like_a1');
    expect(percent.text).not.toContain('likexa1');
    expect(usersTotal(percent.text)).toBe(1);
    expect(usersTotal((await client.get(`/admin/users?q=${encodeURIComponent('%')}`)).text)).toBe(1);
    expect(usersTotal((await client.get(`/admin/users?q=${encodeURIComponent('____')}`)).text)).toBe(0);
  });

  it('audit filters (?action=, ?actor=, ?q=, ?targetType=, ?targetId=, ?from=, ?to=, ?page=) and the CSV export treat payloads as text', async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    await p.audit.record({ action: 'test.literal', summary: '達成率 50% の報告', targetType: 'test' });
    await p.audit.record({ action: 'test.literal', summary: '達成率 50点 の報告', targetType: 'test' });
    const all = await client.get('/admin/audit');
    expect(auditTotal(all.text)).toBeGreaterThan(2);
    const literalMatches = async (needle: string) => {
      const rows = await p.db.selectFrom('audit_log').select(['summary', 'actor_login', 'target_id', 'ip', 'details']).execute();
      const n = needle.trim().toLowerCase();
      return rows.filter((r) => [r.summary, r.actor_login, r.target_id, r.ip, r.details].some((v) => v != null && String(v).toLowerCase().includes(n))).length;
    };
    const beforeAudit = (await tableCounts(p)).audit_log;
    const snap = await identitySnapshot(p);
    for (const payload of [...PAYLOADS, '2026-99-99', '9999-12-31T99:99', '2026-02-30']) {
      for (const param of ['action', 'actor', 'q', 'targetType', 'targetId', 'from', 'to', 'page']) {
        const res = await client.get(`/admin/audit?${new URLSearchParams({ [param]: payload })}`);
        expect(res.status, `${param}=${payload}`).toBe(200);
        if (['action', 'actor', 'targetType', 'targetId'].includes(param)) expect(auditTotal(res.text), `${param}=${payload}`).toBe(0);
        // Earlier failed logins stored the payloads as text: ?q= must find exactly those, by substring.
        if (param === 'q') expect(auditTotal(res.text), `q=${payload}`).toBe(await literalMatches(payload));
      }
      const csv = await client.get(`/admin/audit/export.csv?${new URLSearchParams({ q: payload, actor: payload })}`);
      expect(csv.status).toBe(200);
      expect(csv.text.trim().split('\r\n')).toHaveLength(1); // header only
    }
    expect(await identitySnapshot(p)).toEqual(snap);
    // Only the export entries were added (the audit of each CSV download), nothing removed.
    expect((await tableCounts(p)).audit_log).toBeGreaterThanOrEqual(beforeAudit);
    const pct = await client.get(`/admin/audit?q=${encodeURIComponent('50%')}`);
    expect(auditTotal(pct.text)).toBe(1);
    expect(pct.text).toContain('達成率 50% の報告');
    const under = await client.get(`/admin/audit?q=${encodeURIComponent('50_')}`);
    expect(auditTotal(under.text)).toBe(0);
  });

  it('the users/:id path only accepts digits', async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    const target = await createStaff(p, { roles: ['editor'] });
    const snap = await identitySnapshot(p);
    for (const payload of [`${target.id} OR 1=1`, `${target.id};DROP TABLE users`, `' OR '1'='1`, `${target.id}'--`, '0x1', '-1', '1e3']) {
      const path = `/admin/users/${encodeURIComponent(payload)}`;
      expect((await client.get(path)).status, path).toBe(404);
      expect((await client.post(path, { loginId: 'x', displayName: 'x', roles: 'editor' })).status, path).toBe(404);
      expect((await client.post(`${path}/disable`, {})).status, path).toBe(404);
      expect((await client.post(`${path}/delete`, { confirm: '1' })).status, path).toBe(404);
    }
    // Digits beyond the INTEGER range are "not found", not a database error.
    for (const big of ['99999999999999999999', '2147483648', '9007199254740993']) {
      expect((await client.get(`/admin/users/${big}`)).status, big).toBe(404);
      expect((await client.post(`/admin/users/${big}/disable`, {})).status, big).toBe(404);
      expect((await client.get(`/admin/mail/${big}`)).status, big).toBe(404);
      expect((await client.get(`/admin/organizations/${big}`)).status, big).toBe(404);
      expect((await client.post(`/admin/jobs/${big}/retry`, {})).status, big).toBe(404);
      expect((await client.post(`/admin/calendar/closed/${big}/delete`, {})).status, big).toBeLessThan(500);
    }
    expect(await identitySnapshot(p)).toEqual(snap);
  });

  it('leaves every table in place', async () => {
    const p = tp().platform;
    const counts = await tableCounts(p);
    expect(counts.users).toBeGreaterThan(0);
    expect(counts.audit_log).toBeGreaterThan(0);
  });
});
