/**
 * IPA 11. アクセス制御や認可制御の欠落 — requirePermission() guards each admin area,
 * UserAdminService / OrganizationService enforce the organisation scope and the grantable roles,
 * and every request re-reads the user (a disabled or deleted account loses its session at once).
 */
import { beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { HttpClient } from '../helpers/http-client.js';
import { createOrganization, createStaff } from '../helpers/platform.js';
import { identitySnapshot, signedIn, tableCounts } from './helpers.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

const ADMIN_AREAS = ['/admin/users', '/admin/users/new', '/admin/roles', '/admin/audit', '/admin/audit/export.csv', '/admin/jobs', '/admin/mail', '/admin/backups', '/admin/organizations', '/admin/calendar'];

describePlatform('security: access control', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000', METRICS_ALLOW: '192.0.2.0/24', METRICS_TOKEN } }, (tp) => {
  let orgA: number;
  let orgAdept: number;
  let orgB: number;
  let userA: { id: number; loginId: string; password: string };
  let userB: { id: number; loginId: string; password: string };

  beforeAll(async () => {
    const p = tp().platform;
    orgA = await createOrganization(p, { name: '市A' });
    orgAdept = await createOrganization(p, { name: '市A 総務課', kind: 'department', parentId: orgA });
    orgB = await createOrganization(p, { name: '市B' });
    userA = await createStaff(p, { roles: ['editor'], organizationId: orgAdept });
    userB = await createStaff(p, { roles: ['editor'], organizationId: orgB, email: 'b-user@example.jp' });
  });

  it('an editor gets 403 on every admin area and its POST actions, and sees no such menu entry', async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['editor'], organizationId: orgA });
    const dash = await client.get('/admin');
    expect(dash.status).toBe(200);
    for (const path of ADMIN_AREAS) {
      const res = await client.get(path);
      expect(res.status, path).toBe(403);
      expect(res.text, path).toContain('この操作を行う権限がありません');
      expect(dash.text, path).not.toContain(`href="${path}"`);
    }
    expect(dash.text).toContain('href="/admin/account"');
    await client.get('/admin');
    const before = await tableCounts(p);
    const snap = await identitySnapshot(p);
    const posts: Array<[string, Record<string, string>]> = [
      ['/admin/users', { loginId: 'byeditor', displayName: 'x', roles: 'system_admin' }],
      [`/admin/users/${userB.id}`, { loginId: userB.loginId, displayName: 'x', roles: 'system_admin' }],
      [`/admin/users/${userA.id}/disable`, {}],
      [`/admin/users/${userA.id}/delete`, { confirm: '1' }],
      [`/admin/users/${userA.id}/unlock`, {}],
      [`/admin/users/${userA.id}/reset-2fa`, {}],
      ['/admin/roles/editor', { requireTotp: '1', ipAllowlist: '192.0.2.0/24' }],
      ['/admin/organizations', { code: 'byeditor', name: 'x', kind: 'department' }],
      [`/admin/organizations/${orgA}`, { code: 'x', name: 'x', kind: 'department' }],
      ['/admin/audit/verify', {}],
      ['/admin/jobs/run', { name: 'backup.daily' }],
      ['/admin/jobs/1/retry', {}],
      ['/admin/backups/run', {}],
      ['/admin/calendar/closed', { day: '2031-01-06', reason: 'x' }],
      ['/admin/calendar/closed/1/delete', {}],
    ];
    for (const [path, form] of posts) {
      const res = await client.post(path, form);
      expect(res.status, path).toBe(403);
    }
    expect(await tableCounts(p)).toEqual(before);
    expect(await identitySnapshot(p)).toEqual(snap);
  });

  it("a site_admin of municipality A cannot list, open, edit, unlock, disable or delete B's users", async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['site_admin'], organizationId: orgA });
    const list = await client.get('/admin/users');
    expect(list.status).toBe(200);
    expect(list.text).toContain(userA.loginId);
    expect(list.text).not.toContain(userB.loginId);
    expect((await client.get(`/admin/users?q=${userB.loginId}`)).text).toContain('ユーザ一覧（0件）');
    await p.db.updateTable('users').set({ locked_at: new Date().toISOString() }).where('id', '=', userB.id).execute();
    const snap = await identitySnapshot(p);
    // Guessing ids: every id that is not in A's tree is "not found".
    const all = await p.db.selectFrom('users').select(['id', 'organization_id']).execute();
    const aTree = new Set([orgA, orgAdept]);
    for (const u of all.filter((x) => x.organization_id === null || !aTree.has(x.organization_id))) {
      expect((await client.get(`/admin/users/${u.id}`)).status, `user ${u.id}`).toBe(404);
    }
    await client.get('/admin/users');
    for (const [path, form] of [
      [`/admin/users/${userB.id}`, { loginId: userB.loginId, displayName: '乗っ取り', email: 'evil@example.com', organizationId: String(orgA), roles: 'editor' }],
      [`/admin/users/${userB.id}/unlock`, {}],
      [`/admin/users/${userB.id}/disable`, {}],
      [`/admin/users/${userB.id}/enable`, {}],
      [`/admin/users/${userB.id}/reset-2fa`, {}],
      [`/admin/users/${userB.id}/delete`, { confirm: '1' }],
    ] as const) {
      const res = await client.post(path, form);
      expect(res.status, path).toBe(404);
    }
    expect(await identitySnapshot(p)).toEqual(snap);
    await p.db.updateTable('users').set({ locked_at: null }).where('id', '=', userB.id).execute();
  });

  it('a site_admin cannot grant system_admin or operator, nor place a user in B', async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['site_admin'], organizationId: orgA });
    const snap = await identitySnapshot(p);
    await client.get('/admin/users/new');
    for (const roles of ['system_admin', 'operator', ['editor', 'system_admin'], ['operator', 'site_admin']]) {
      const res = await client.post('/admin/users', { loginId: 'escalate1', displayName: 'x', organizationId: String(orgA), roles });
      expect(res.status, String(roles)).toBe(422);
      expect(res.text).toContain('付与できない権限グループが含まれています');
    }
    const intoB = await client.post('/admin/users', { loginId: 'escalate2', displayName: 'x', organizationId: String(orgB), roles: 'editor' });
    expect(intoB.status).toBe(422);
    expect(intoB.text).toContain('管理できる組織を選んでください');
    const noOrg = await client.post('/admin/users', { loginId: 'escalate3', displayName: 'x', organizationId: '', roles: 'editor' });
    expect(noOrg.status).toBe(422);
    await client.get(`/admin/users/${userA.id}`);
    const move = await client.post(`/admin/users/${userA.id}`, { loginId: userA.loginId, displayName: 'x', organizationId: String(orgB), roles: 'editor' });
    expect(move.status).toBe(422);
    const promote = await client.post(`/admin/users/${userA.id}`, { loginId: userA.loginId, displayName: 'x', organizationId: String(orgAdept), roles: ['editor', 'operator'] });
    expect(promote.status).toBe(422);
    expect(await identitySnapshot(p)).toEqual(snap);
    // The form offers only what may be granted.
    const form = await client.get('/admin/users/new');
    expect(form.text).not.toContain('value="system_admin"');
    expect(form.text).not.toContain('value="operator"');
    expect(form.text).not.toContain(`value="${orgB}"`);
  });

  it("a site_admin cannot disable, delete, demote or take over a system_admin or operator inside A's tree", async () => {
    const p = tp().platform;
    const boss = await createStaff(p, { roles: ['system_admin'], organizationId: orgA });
    const ops = await createStaff(p, { roles: ['operator'], organizationId: orgAdept });
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['site_admin'], organizationId: orgA });
    const snap = await identitySnapshot(p);
    for (const target of [boss, ops]) {
      await client.get('/admin/users');
      for (const [path, form] of [
        [`/admin/users/${target.id}/disable`, {}],
        [`/admin/users/${target.id}/delete`, { confirm: '1' }],
        [`/admin/users/${target.id}/reset-2fa`, {}],
        [`/admin/users/${target.id}`, { loginId: target.loginId, displayName: 'x', organizationId: String(orgA), roles: 'editor', password: 'Taken-over-123' }],
      ] as const) {
        const res = await client.post(path, form);
        expect([403, 404, 422], `${path} → ${res.status}`).toContain(res.status);
      }
    }
    expect(await identitySnapshot(p)).toEqual(snap);
    expect((await new HttpClient(tp().baseUrl).login(boss.loginId, boss.password)).status).toBe(303);
  });

  it('a site_admin cannot open or change organisations outside A, nor hang organisations under B', async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['site_admin'], organizationId: orgA });
    const page = await client.get('/admin/organizations');
    expect(page.text).not.toContain('市B');
    expect((await client.get(`/admin/organizations/${orgB}`)).status).toBe(404);
    const snap = await identitySnapshot(p);
    const before = (await tableCounts(p)).organizations;
    expect((await client.post(`/admin/organizations/${orgB}`, { code: 'hijack', name: '乗っ取り', kind: 'municipality', parentId: String(orgA) })).status).toBe(404);
    const underB = await client.post('/admin/organizations', { code: 'under-b', name: 'Bの下', kind: 'department', parentId: String(orgB) });
    expect(underB.status, 'create under B').toBe(422);
    const moveToB = await client.post(`/admin/organizations/${orgAdept}`, { code: `dept-${orgAdept}`, name: '市A 総務課', kind: 'department', parentId: String(orgB) });
    expect(moveToB.status, 'move A department under B').toBe(422);
    expect((await tableCounts(p)).organizations).toBe(before);
    expect(await identitySnapshot(p)).toEqual(snap);
  });

  it('a scoped or operator account cannot read password-reset links of accounts it may not manage', async () => {
    const p = tp().platform;
    const boss = await createStaff(p, { roles: ['system_admin'], email: 'boss@example.jp' });
    const anon = new HttpClient(tp().baseUrl);
    await anon.get('/admin/password-reset');
    expect((await anon.post('/admin/password-reset', { loginId: boss.loginId })).status).toBe(200);
    await anon.get('/admin/password-reset');
    await anon.post('/admin/password-reset', { loginId: userB.loginId });
    const mails = await p.db.selectFrom('mail_messages').select(['id', 'to_address']).where('category', '=', 'password_reset').execute();
    const targets = mails.filter((m) => ['boss@example.jp', 'b-user@example.jp'].includes(m.to_address));
    expect(targets).toHaveLength(2);
    for (const roles of [['site_admin'], ['operator']]) {
      const { client } = await signedIn(tp().baseUrl, p, { roles, organizationId: orgA });
      for (const m of targets) {
        const res = await client.get(`/admin/mail/${m.id}`);
        const link = /\/admin\/password-reset\/[A-Za-z0-9_-]{20,}/.exec(res.text)?.[0];
        expect(link, `${roles[0]} reading mail to ${m.to_address} sees a working reset link`).toBeUndefined();
      }
    }
  });

  it('nobody can grant themselves a new role, not even a system_admin', async () => {
    const p = tp().platform;
    for (const [roles, extra, org] of [
      [['site_admin'], 'approver', orgA],
      [['system_admin'], 'operator', null],
    ] as const) {
      const { client, staff } = await signedIn(tp().baseUrl, p, { roles: [...roles], organizationId: org });
      await client.get(`/admin/users/${staff.id}`);
      const res = await client.post(`/admin/users/${staff.id}`, { loginId: staff.loginId, displayName: 'x', organizationId: org ? String(org) : '', roles: [...roles, extra] });
      expect(res.status).toBe(422);
      expect(res.text).toContain('自分自身に新しい権限グループを付与することはできません');
      const now = await p.db.selectFrom('user_roles').select('role').where('user_id', '=', staff.id).execute();
      expect(now.map((r) => r.role)).toEqual([...roles]);
    }
  });

  it('/metrics answers 403 outside METRICS_ALLOW and 200 with the bearer token', async () => {
    const base = tp().baseUrl;
    expect((await fetch(`${base}/metrics`)).status).toBe(403);
    // TRUSTED_PROXIES is empty: a forged X-Forwarded-For is ignored.
    expect((await fetch(`${base}/metrics`, { headers: { 'x-forwarded-for': '192.0.2.10' } })).status).toBe(403);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${'x'.repeat(METRICS_TOKEN.length)}` } })).status).toBe(403);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(403);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: METRICS_TOKEN } })).status).toBe(403);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/# HELP/);
  });

  it("a disabled user's live session stops working at once; a deleted user cannot sign in", async () => {
    const p = tp().platform;
    const { client: admin } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    const victim = await createStaff(p, { roles: ['editor'], organizationId: orgA });
    const session = new HttpClient(tp().baseUrl);
    await session.login(victim.loginId, victim.password);
    expect((await session.get('/admin')).status).toBe(200);
    await admin.get(`/admin/users/${victim.id}`);
    expect((await admin.post(`/admin/users/${victim.id}/disable`, {})).status).toBe(303);
    const after = await session.get('/admin');
    expect(after.status).toBe(303);
    expect(after.location).toMatch(/^\/admin\/login/);
    // Even a copy of the cookie kept from before is dead, and signing in again is refused.
    expect((await new HttpClient(tp().baseUrl).login(victim.loginId, victim.password)).status).toBe(403);
    // A session that survived in the table (e.g. written by another node) is refused on the next request too.
    const stale = await p.auth.sessions.create(victim.id, 'active', { ip: '127.0.0.1', userAgent: 't' });
    const replay = new HttpClient(tp().baseUrl);
    replay.cookies.set('mm_session', stale.token);
    expect((await replay.get('/admin')).status).toBe(303);

    const doomed = await createStaff(p, { roles: ['editor'], organizationId: orgA });
    const live = new HttpClient(tp().baseUrl);
    await live.login(doomed.loginId, doomed.password);
    await admin.get(`/admin/users/${doomed.id}`);
    expect((await admin.post(`/admin/users/${doomed.id}/delete`, { confirm: '1' })).status).toBe(303);
    expect((await live.get('/admin')).status).toBe(303);
    expect((await new HttpClient(tp().baseUrl).login(doomed.loginId, doomed.password)).status).toBe(401);
    expect((await admin.get(`/admin/users/${doomed.id}`)).status).toBe(404);
  });
});
