import { expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createStaff } from '../../../test/helpers/platform.js';
import { parseCsv } from '../../core/csv/index.js';

describePlatform('admin system screens', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let admin: HttpClient;

  it('signs in', async () => {
    const a = await createStaff(tp().platform, { roles: ['system_admin'], loginId: 'sysadmin', password: 'Sys-Admin-Pass1' });
    admin = new HttpClient(tp().baseUrl);
    expect((await admin.login(a.loginId, a.password)).status).toBe(303);
  });

  it('lists and filters the audit trail and exports it as CSV (UTF-8 BOM and Shift_JIS), the export itself audited', async () => {
    const p = tp().platform;
    await p.audit.record({ action: 'test.marker', summary: '監査テスト「カンマ,引用\"」', targetType: 'thing', targetId: 42 });
    const list = await admin.get('/admin/audit?action=test.marker');
    expect(list.status).toBe(200);
    expect(list.text).toContain('監査テスト');
    expect(list.text).not.toContain('auth.login</code>');
    const utf8 = await fetch(`${tp().baseUrl}/admin/audit/export.csv?action=test.marker`, { headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    expect(utf8.status).toBe(200);
    expect(utf8.headers.get('content-type')).toContain('text/csv');
    expect(utf8.headers.get('content-disposition')).toContain("filename*=UTF-8''");
    const bytes = Buffer.from(await utf8.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(bytes);
    expect(rows[0]).toContain('日時');
    expect(rows.slice(1).some((r) => r.includes('監査テスト「カンマ,引用"」'))).toBe(true);
    const sjis = await fetch(`${tp().baseUrl}/admin/audit/export.csv?action=test.marker&encoding=sjis`, { headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    const text = iconv.decode(Buffer.from(await sjis.arrayBuffer()), 'cp932');
    expect(text).toContain('監査テスト「カンマ,引用""」');
    expect((await p.audit.list({ action: 'audit.export' }, { limit: 5 })).total).toBe(2);
  });

  it('an editor cannot export or read the audit trail', async () => {
    const ed = await createStaff(tp().platform, { roles: ['editor'] });
    const client = new HttpClient(tp().baseUrl);
    await client.login(ed.loginId, ed.password);
    expect((await client.get('/admin/audit')).status).toBe(403);
    expect((await client.get('/admin/audit/export.csv')).status).toBe(403);
    const dash = await client.get('/admin');
    expect(dash.text).not.toContain('href="/admin/users"');
    expect(dash.text).not.toContain('href="/admin/audit"');
    expect(dash.text).toContain('href="/admin/account"');
  });

  it("a municipality's site administrator reads only its own organisations' audit entries", async () => {
    const p = tp().platform;
    const { createOrganization } = await import('../../../test/helpers/platform.js');
    const a = await createOrganization(p, { name: '監査A市' });
    const b = await createOrganization(p, { name: '監査B市' });
    await p.audit.record({ action: 'test.scope', summary: 'A市の操作', organizationId: a });
    await p.audit.record({ action: 'test.scope', summary: 'B市の操作', organizationId: b });
    const siteAdmin = await createStaff(p, { roles: ['site_admin'], organizationId: a });
    const client = new HttpClient(tp().baseUrl);
    await client.login(siteAdmin.loginId, siteAdmin.password);
    const list = await client.get('/admin/audit?action=test.scope');
    expect(list.text).toContain('A市の操作');
    expect(list.text).not.toContain('B市の操作');
    const csv = await client.get('/admin/audit/export.csv?action=test.scope');
    expect(csv.text).toContain('A市の操作');
    expect(csv.text).not.toContain('B市の操作');
    const all = await admin.get('/admin/audit?action=test.scope');
    expect(all.text).toContain('B市の操作');
  });

  it('the administrator sees the full menu', async () => {
    const dash = await admin.get('/admin');
    for (const href of ['/admin/users', '/admin/roles', '/admin/organizations', '/admin/audit', '/admin/jobs', '/admin/mail', '/admin/calendar', '/admin/backups']) {
      expect(dash.text).toContain(`href="${href}"`);
    }
  });

  it('shows the outbox without SMTP; reading a mail body is audited', async () => {
    const p = tp().platform;
    const id = await p.mail.send({ to: 'resident@example.jp', subject: '受付のお知らせ', text: '本文です' });
    const list = await admin.get('/admin/mail?status=outbox');
    expect(list.text).toContain('送信箱');
    expect(list.text).toContain('受付のお知らせ');
    const detail = await admin.get(`/admin/mail/${id}`);
    expect(detail.text).toContain('本文です');
    const reads = await p.audit.list({ action: 'mail.read', targetId: String(id) }, { limit: 5 });
    expect(reads.total).toBe(1);
    expect(reads.rows[0]!.actorLogin).toBe('sysadmin');
  });

  it('shows jobs with their last run, runs one on demand and retries a dead one', async () => {
    const p = tp().platform;
    await admin.get('/admin/jobs');
    const run = await admin.post('/admin/jobs/run', { name: 'sessions.purge' });
    expect(run.status).toBe(303);
    await p.jobs.drain();
    const page = await admin.get('/admin/jobs');
    expect(page.text).toContain('期限切れセッションの削除');
    expect(page.text).toMatch(/status--good">done/);
    expect(page.text).toContain('{&quot;deleted&quot;:');
    expect((await p.audit.list({ action: 'job.run' }, { limit: 5 })).total).toBe(1);
    expect((await admin.post('/admin/jobs/run', { name: 'no.such.job' })).status).toBe(404);
  });

  it('takes a backup from the admin screen', async () => {
    const p = tp().platform;
    await admin.get('/admin/backups');
    expect((await admin.post('/admin/backups/run', {})).status).toBe(303);
    await p.jobs.drain();
    const page = await admin.get('/admin/backups');
    expect(page.text).toMatch(/machimado-\d{8}-\d{6}/);
    expect((await p.backup.list()).length).toBeGreaterThan(0);
  });

  it('adds and removes an extra closed day that the calendar then honours', async () => {
    const p = tp().platform;
    await admin.get('/admin/calendar');
    expect((await admin.post('/admin/calendar/closed', { day: '2031-06-10', reason: '庁舎の電気設備点検' })).status).toBe(303);
    await p.calendar.load();
    expect(p.calendar.isBusinessDay(new Date('2031-06-10T03:00:00Z'))).toBe(false);
    const page = await admin.get('/admin/calendar?year=2031');
    expect(page.text).toContain('庁舎の電気設備点検');
    const id = (await p.calendar.listClosedDays({ organizationId: null, year: 2031 }))[0]!.id;
    expect((await admin.post(`/admin/calendar/closed/${id}/delete`, {})).status).toBe(303);
    await p.calendar.load();
    expect(p.calendar.isBusinessDay(new Date('2031-06-10T03:00:00Z'))).toBe(true);
  });

  it("sets an organisation's own office hours (Saturday morning, lunch break) without touching the defaults", async () => {
    const p = tp().platform;
    const { createOrganization } = await import('../../../test/helpers/platform.js');
    const org = await createOrganization(p, { name: '土曜開庁支所' });
    await admin.get(`/admin/calendar?org=${org}`);
    const weekdays: Record<string, string> = {};
    for (const d of [1, 2, 3, 4, 5]) Object.assign(weekdays, { [`opens-${d}-0`]: '08:30', [`closes-${d}-0`]: '12:00', [`opens-${d}-1`]: '13:00', [`closes-${d}-1`]: '17:15' });
    const res = await admin.post('/admin/calendar/hours', { org: String(org), ...weekdays, 'opens-6-0': '09:00', 'closes-6-0': '12:00' });
    expect(res.status).toBe(303);
    // Saturday 2031-06-14 10:00 JST and Monday 2031-06-16 12:30 JST (lunch break).
    const saturday = new Date('2031-06-14T01:00:00Z');
    const lunch = new Date('2031-06-16T03:30:00Z');
    expect(p.calendar.isOpenAt(saturday, org)).toBe(true);
    expect(p.calendar.isOpenAt(lunch, org)).toBe(false);
    expect(p.calendar.isOpenAt(saturday, null)).toBe(false);
    expect(p.calendar.isOpenAt(lunch, null)).toBe(true);
    const page = await admin.get(`/admin/calendar?org=${org}`);
    expect(page.text).toContain('この組織独自の受付時間です');
    expect((await p.audit.list({ action: 'calendar.office_hours' }, { limit: 5 })).total).toBe(1);
    // Back to the defaults.
    expect((await admin.post('/admin/calendar/hours', { org: String(org), reset: '1' })).status).toBe(303);
    expect(p.calendar.isOpenAt(saturday, org)).toBe(false);
  });

  it('refuses impossible office hours with a message on the field and keeps the old hours', async () => {
    const p = tp().platform;
    await admin.get('/admin/calendar');
    const half = await admin.post('/admin/calendar/hours', { org: '', 'opens-2-0': '08:30' });
    expect(half.status).toBe(422);
    expect(half.text).toContain('火曜日の終了時刻を入力してください。');
    expect(half.text).toContain('value="08:30"');
    await admin.get('/admin/calendar');
    const res = await admin.post('/admin/calendar/hours', { org: '', 'opens-1-0': '17:00', 'closes-1-0': '09:00' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('月曜日: 終了時刻は開始時刻より後にしてください');
    expect(res.text).toContain('href="#f-hours-closes-1-0"');
    expect(p.calendar.hasOwnOfficeHours(null)).toBe(false);
  });

  it("a municipality's calendar manager cannot see or change another municipality's calendar", async () => {
    const p = tp().platform;
    const { createOrganization } = await import('../../../test/helpers/platform.js');
    const a = await createOrganization(p, { name: '暦A市' });
    const b = await createOrganization(p, { name: '暦B市' });
    const mgr = await createStaff(p, { roles: ['site_admin'], organizationId: a });
    const client = new HttpClient(tp().baseUrl);
    await client.login(mgr.loginId, mgr.password);
    const own = await client.get('/admin/calendar');
    expect(own.text).toContain('暦A市');
    expect(own.text).not.toContain('全組織共通（標準）</option>');
    expect((await client.get(`/admin/calendar?org=${b}`)).status).toBe(404);
    expect((await client.post('/admin/calendar/closed', { org: String(b), day: '2031-07-01', reason: '越権' })).status).toBe(404);
    expect((await p.calendar.listClosedDays({ organizationId: b })).length).toBe(0);
    // An empty org means "my own" for a scoped manager, never the installation default.
    await client.get('/admin/calendar');
    expect((await client.post('/admin/calendar/closed', { org: '', day: '2031-07-02', reason: 'A市の点検' })).status).toBe(303);
    expect((await p.calendar.listClosedDays({ organizationId: a })).map((d) => d.day)).toEqual(['2031-07-02']);
    expect((await p.calendar.listClosedDays({ organizationId: null, year: 2031 })).map((d) => d.day)).not.toContain('2031-07-02');
  });

  it('deleting a user wipes the personal data it no longer needs (S-01)', async () => {
    const p = tp().platform;
    const u = await createStaff(p, { roles: ['editor'], email: 'leaving@example.lg.jp' });
    await admin.get(`/admin/users/${u.id}`);
    await admin.post(`/admin/users/${u.id}/delete`, { confirm: '1' });
    const row = await p.db.selectFrom('users').selectAll().where('id', '=', u.id).executeTakeFirstOrThrow();
    expect(row.email).toBeNull();
    expect(row.totp_secret).toBeNull();
    expect(row.login_id).not.toBe(u.loginId);
    expect((await new HttpClient(tp().baseUrl).login(u.loginId, u.password)).status).toBe(401);
  });
});
