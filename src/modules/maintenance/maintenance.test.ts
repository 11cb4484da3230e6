import { describe, expect, it } from 'vitest';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createStaff, systemActor } from '../../../test/helpers/platform.js';
import { formatPeriod, formatWhen } from '../../core/ui/view.js';
import { MAINTENANCE_LEAD_DAYS, maintenanceOf, parseInstant, toJstLocal } from './service.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The browser's datetime-local value, in JST, `ms` from now. */
const local = (ms: number) => toJstLocal(new Date(Date.now() + ms));

describe('maintenance periods in JST', () => {
  it('writes a period as announcements do', () => {
    expect(formatPeriod('2026-12-05T13:00:00Z', '2026-12-05T21:00:00Z')).toBe('2026年12月5日（土）22:00～翌6:00');
    expect(formatPeriod('2026-12-05T01:00:00Z', '2026-12-05T03:30:00Z')).toBe('2026年12月5日（土）10:00～12:30');
    expect(formatPeriod('2026-12-05T13:00:00Z', '2026-12-07T00:00:00Z')).toBe('2026年12月5日（土）22:00～12月7日（月）9:00');
    expect(formatPeriod('2026-12-31T13:00:00Z', '2027-01-02T00:00:00Z')).toBe('2026年12月31日（木）22:00～2027年1月2日（土）9:00');
    expect(formatPeriod('2026-12-05T13:00:00Z', '2026-12-05T21:00:00Z', 'en')).toBe('Sat 5 Dec 2026, 22:00 – 06:00 the next day (JST)');
    expect(formatWhen('2026-12-05T21:00:00Z')).toBe('2026年12月6日（日）6:00');
  });

  it('reads datetime-local values as Japan time', () => {
    expect(parseInstant('2026-12-05T22:00')?.toISOString()).toBe('2026-12-05T13:00:00.000Z');
    expect(parseInstant('2026-12-05T22:00:00Z')?.toISOString()).toBe('2026-12-05T22:00:00.000Z');
    expect(parseInstant('2026/12/05 22:00')).toBeNull();
    expect(toJstLocal(new Date('2026-12-05T13:00:00Z'))).toBe('2026-12-05T22:00');
  });
});

describePlatform('maintenance windows', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let admin: HttpClient;
  const count = async () => Number((await tp().platform.db.selectFrom('maintenance_windows').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  it('signs in; the administrator sees the screen in the menu', async () => {
    const a = await createStaff(tp().platform, { roles: ['system_admin'], loginId: 'mt-admin', password: 'Maint-Admin-Pass1' });
    admin = new HttpClient(tp().baseUrl);
    expect((await admin.login(a.loginId, a.password)).status).toBe(303);
    const dash = await admin.get('/admin');
    expect(dash.text).toContain('href="/admin/maintenance"');
    const screen = await admin.get('/admin/maintenance');
    expect(screen.status).toBe(200);
    expect(screen.text).toContain('メンテナンスを登録する');
  });

  it('refuses bad input with Japanese field errors and stores nothing', async () => {
    const empty = await admin.post('/admin/maintenance', { title: '', startsAt: '', endsAt: '' });
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('件名を入力してください。');
    expect(empty.text).toContain('開始日時を入力してください。');
    expect(empty.text).toContain('終了日時を入力してください。');

    const past = await admin.post('/admin/maintenance', { title: '点検', startsAt: local(-HOUR), endsAt: local(HOUR), affectsPublic: '1' });
    expect(past.status).toBe(422);
    expect(past.text).toContain('開始日時は現在より後の日時にしてください。');
    expect(past.text).toContain('aria-invalid="true"');

    const order = await admin.post('/admin/maintenance', { title: '点検', startsAt: local(3 * DAY), endsAt: local(3 * DAY - HOUR), announceFrom: local(4 * DAY), affectsPublic: '1' });
    expect(order.status).toBe(422);
    expect(order.text).toContain('終了日時は開始日時より後の日時にしてください。');
    expect(order.text).toContain('告知開始日時は開始日時より前の日時にしてください。');
    // The form keeps what was entered.
    expect(order.text).toContain(`value="${local(3 * DAY).slice(0, 13)}`);

    const garbage = await admin.post('/admin/maintenance', { title: 'x'.repeat(101), startsAt: 'tomorrow', endsAt: local(DAY) });
    expect(garbage.status).toBe(422);
    expect(garbage.text).toContain('件名は100文字以内で入力してください。');
    expect(garbage.text).toContain('日時を「2026-12-05T22:00」の形式で入力してください。');

    expect(await count()).toBe(0);
    expect((await tp().platform.audit.list({ action: 'maintenance.create' }, { limit: 5 })).total).toBe(0);
  });

  it('a window announced from an hour ago puts the banner on every public page; one not yet announced does not', async () => {
    const p = tp().platform;
    const before = await admin.get('/');
    expect(before.status).toBe(200);
    expect(before.text).not.toContain('banner-maintenance');

    // No announcement time: announced from MAINTENANCE_LEAD_DAYS before the start, i.e. not yet.
    await admin.get('/admin/maintenance');
    const later = await admin.post('/admin/maintenance', { title: '年末の設備更新', startsAt: local(10 * DAY), endsAt: local(10 * DAY + 8 * HOUR), affectsPublic: '1' });
    expect(later.status).toBe(303);
    expect(later.location).toBe('/admin/maintenance?saved=1');
    const stored = (await maintenanceOf(p).list()).rows[0]!;
    expect(Date.parse(stored.startsAt) - Date.parse(stored.announceFrom)).toBe(MAINTENANCE_LEAD_DAYS * DAY);
    expect(stored.createdBy).not.toBeNull();
    expect((await admin.get('/')).text).not.toContain('年末の設備更新');

    await admin.get('/admin/maintenance');
    const soon = await admin.post('/admin/maintenance', {
      title: 'システムメンテナンスのお知らせ',
      body: 'サーバ機器の更新のため、ホームページを停止します。',
      startsAt: local(3 * DAY),
      endsAt: local(3 * DAY + 8 * HOUR),
      announceFrom: local(-HOUR),
      affectsPublic: '1',
    });
    expect(soon.status).toBe(303);
    expect(soon.location).toBe('/admin/maintenance?saved=1&short=1');
    const w = (await maintenanceOf(p).list()).rows.find((r) => r.title === 'システムメンテナンスのお知らせ')!;

    const resident = new HttpClient(tp().baseUrl);
    const top = await resident.get('/');
    expect(top.status).toBe(200);
    expect(top.text).toMatch(/<div class="banner-maintenance" role="region" aria-label="メンテナンスのお知らせ">/);
    expect(top.text).toContain('システムメンテナンスのお知らせ');
    expect(top.text).toContain('サーバ機器の更新のため');
    expect(top.text).toContain(formatPeriod(w.startsAt, w.endsAt));
    expect(formatPeriod(w.startsAt, w.endsAt)).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日（[日月火水木金土]）\d{1,2}:\d{2}～/);
    // Every public page, the 404 page too; never the staff screens.
    expect((await resident.get('/no-such-page')).text).toContain('banner-maintenance');
    expect((await admin.get('/admin/maintenance')).text).not.toContain('banner-maintenance');

    const screen = await admin.get(soon.location!);
    expect(screen.text).toContain('告知中');
    expect(screen.text).toContain('予定（告知前）');
    expect(screen.text).toContain('開始まで7日ありません');
    const audits = await p.audit.list({ action: 'maintenance.create' }, { limit: 5 });
    expect(audits.total).toBe(2);
    expect(audits.rows[0]!.actorLogin).toBe('mt-admin');
    expect(audits.rows.map((r) => r.summary).join()).toContain('システムメンテナンスのお知らせ');
  });

  it('during a window that stops the public site: 503 with Retry-After in the public frame; staff, probes and assets still answer', async () => {
    const p = tp().platform;
    const svc = maintenanceOf(p);
    const active = await svc.schedule(
      { title: '緊急メンテナンス', body: '', startsAt: new Date(Date.now() - MIN), endsAt: new Date(Date.now() + HOUR), announceFrom: new Date(Date.now() - 2 * MIN), affectsPublic: true },
      { actor: systemActor(p) },
    );
    const resident = new HttpClient(tp().baseUrl);
    const top = await resident.get('/');
    expect(top.status).toBe(503);
    const retry = Number(top.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(HOUR / 1000 - 120);
    expect(retry).toBeLessThanOrEqual(HOUR / 1000);
    expect(top.headers.get('cache-control')).toBe('no-store');
    expect(top.text).toContain('<html lang="ja"');
    expect(top.text).toContain('<main id="main"');
    expect(top.text).toContain('メンテナンス中');
    expect(top.text).toContain('ただいまシステムメンテナンスのため');
    expect(top.text).toContain(`${formatWhen(active.endsAt)}に再開する予定です。`);
    expect(top.text).toContain('緊急メンテナンス');

    expect((await resident.get('/some/page/')).status).toBe(503);
    const json = await resident.get('/', { accept: 'application/json' });
    expect(json.status).toBe(503);
    expect(JSON.parse(json.text).endsAt).toBe(active.endsAt);

    expect((await resident.get('/admin/login')).status).toBe(200);
    expect((await resident.get('/healthz')).status).toBe(200);
    expect((await resident.get('/readyz')).status).toBe(200);
    const css = /href="(\/assets\/[^"]+\.css)"/.exec(top.text)![1]!;
    expect((await resident.get(css)).status).toBe(200);
    expect((await admin.get('/admin/maintenance')).status).toBe(200);
  });

  it('cancelling the window from the admin screen ends the stop at once, audited', async () => {
    const p = tp().platform;
    const active = (await maintenanceOf(p).active())!;
    const screen = await admin.get('/admin/maintenance');
    expect(screen.text).toContain('今すぐ終了する');
    const res = await admin.post(`/admin/maintenance/${active.id}/cancel`, {});
    expect(res.status).toBe(303);
    expect(res.location).toBe('/admin/maintenance?cancelled=1');
    const top = await new HttpClient(tp().baseUrl).get('/');
    expect(top.status).toBe(200);
    // The other window is still announced.
    expect(top.text).toContain('システムメンテナンスのお知らせ');
    expect(top.text).not.toContain('緊急メンテナンス');
    expect((await admin.post(`/admin/maintenance/${active.id}/cancel`, {})).status).toBe(404);
    expect((await admin.post('/admin/maintenance/999999/cancel', {})).status).toBe(404);
    const audit = await p.audit.list({ action: 'maintenance.cancel' }, { limit: 5 });
    expect(audit.total).toBe(1);
    expect(audit.rows[0]!.targetId).toBe(String(active.id));
    expect(audit.rows[0]!.actorLogin).toBe('mt-admin');
    expect(audit.rows[0]!.summary).toContain('緊急メンテナンス');

    // Cancelling the announced one removes the banner.
    const announced = (await maintenanceOf(p).announced())!;
    await admin.get('/admin/maintenance');
    expect((await admin.post(`/admin/maintenance/${announced.id}/cancel`, {})).status).toBe(303);
    expect((await new HttpClient(tp().baseUrl).get('/')).text).not.toContain('banner-maintenance');
  });

  it('a window that does not stop the public site is only announced, also while in progress', async () => {
    const p = tp().platform;
    const w = await maintenanceOf(p).schedule(
      { title: '管理画面の定期保守', startsAt: new Date(Date.now() - MIN), endsAt: new Date(Date.now() + HOUR), affectsPublic: false },
      { actor: systemActor(p) },
    );
    const top = await new HttpClient(tp().baseUrl).get('/');
    expect(top.status).toBe(200);
    expect(top.text).toContain('管理画面の定期保守');
    await maintenanceOf(p).cancel(w.id, { actor: systemActor(p) });
    expect((await new HttpClient(tp().baseUrl).get('/')).text).not.toContain('banner-maintenance');
  });

  it('operators and site administrators may manage windows; editors and signed-out visitors may not', async () => {
    const p = tp().platform;
    for (const role of ['operator', 'site_admin']) {
      const u = await createStaff(p, { roles: [role] });
      const c = new HttpClient(tp().baseUrl);
      await c.login(u.loginId, u.password);
      expect((await c.get('/admin/maintenance')).status, role).toBe(200);
      expect((await c.get('/admin')).text).toContain('href="/admin/maintenance"');
    }
    const ed = await createStaff(p, { roles: ['editor'] });
    const editor = new HttpClient(tp().baseUrl);
    await editor.login(ed.loginId, ed.password);
    expect((await editor.get('/admin/maintenance')).status).toBe(403);
    expect((await editor.get('/admin')).text).not.toContain('href="/admin/maintenance"');
    await editor.get('/admin/account');
    expect((await editor.post('/admin/maintenance', { title: 'x', startsAt: local(DAY), endsAt: local(2 * DAY) })).status).toBe(403);

    const anon = await new HttpClient(tp().baseUrl).get('/admin/maintenance');
    expect(anon.status).toBe(303);
    expect(anon.location).toBe('/admin/login?next=%2Fadmin%2Fmaintenance');
  });

  it('speaks English on the admin screen and the public pages', async () => {
    const p = tp().platform;
    await admin.get('/lang/en?next=/admin/maintenance');
    const screen = await admin.get('/admin/maintenance');
    expect(screen.text).toContain('Add a maintenance window');
    const bad = await admin.post('/admin/maintenance', { title: '', startsAt: local(-HOUR), endsAt: local(-2 * HOUR) });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Enter a title.');
    expect(bad.text).toContain('The start must be in the future.');
    expect(bad.text).toContain('The end must be after the start.');
    const w = await maintenanceOf(p).schedule({ title: 'Planned stop', startsAt: new Date(Date.now() - MIN), endsAt: new Date(Date.now() + HOUR), affectsPublic: true }, { actor: systemActor(p) });
    const en = new HttpClient(tp().baseUrl, { 'accept-language': 'en' });
    // The browser's language alone does not switch; the visitor's choice does.
    expect((await en.get('/')).text).toContain('<html lang="ja"');
    await en.get('/lang/en?next=/');
    const page = await en.get('/');
    expect(page.status).toBe(503);
    expect(page.text).toContain('Under maintenance');
    expect(page.text).toContain('Service is expected to resume at');
    await maintenanceOf(p).cancel(w.id, { actor: systemActor(p) });
    await admin.get('/lang/ja?next=/admin');
  });
});
