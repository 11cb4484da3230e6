/**
 * The maintenance notice in a real browser, checked with axe: the banner on the public top page,
 * the 503 page during a stop, and the admin screen with and without validation errors.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createStaff, startTestPlatform, systemActor, type TestPlatform } from '../../../test/helpers/platform.js';
import { checkA11y, describeE2E, loginAs, newPage, submitAndWait, useBrowser, visit } from '../../../test/e2e/helpers.js';
import { maintenanceOf } from './service.js';

const browser = useBrowser();
const HOUR = 3_600_000;

describeE2E('maintenance notice accessibility', (engine) => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform(engine, { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } });
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('the banner on the public top page, in Japanese and English', async () => {
    const p = tp.platform;
    const w = await maintenanceOf(p).schedule(
      { title: 'システムメンテナンスのお知らせ', body: 'サーバ機器の更新のため、ホームページを停止します。', startsAt: new Date(Date.now() + 72 * HOUR), endsAt: new Date(Date.now() + 80 * HOUR), announceFrom: new Date(Date.now() - HOUR), affectsPublic: true },
      { actor: systemActor(p) },
    );
    const pg = await newPage(browser(), tp.baseUrl);
    expect(await visit(pg, '/')).toBe(200);
    const banner = pg.getByRole('region', { name: 'メンテナンスのお知らせ' });
    await expect(banner.textContent()).resolves.toContain('システムメンテナンスのお知らせ');
    await checkA11y(pg, 'public top page with the maintenance banner');
    expect(await visit(pg, `/lang/en?next=${encodeURIComponent('/')}`)).toBe(200);
    await expect(pg.getByRole('region', { name: 'Maintenance notice' }).textContent()).resolves.toContain('(JST)');
    await checkA11y(pg, 'public top page with the maintenance banner (English)');
    await maintenanceOf(p).cancel(w.id, { actor: systemActor(p) });
  });

  it('the 503 page during a stop', async () => {
    const p = tp.platform;
    const w = await maintenanceOf(p).schedule(
      { title: '緊急メンテナンス', startsAt: new Date(Date.now() - 60_000), endsAt: new Date(Date.now() + HOUR), affectsPublic: true },
      { actor: systemActor(p) },
    );
    const pg = await newPage(browser(), tp.baseUrl);
    expect(await visit(pg, '/')).toBe(503);
    await expect(pg.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('メンテナンス中');
    await checkA11y(pg, 'maintenance 503 page');
    await maintenanceOf(p).cancel(w.id, { actor: systemActor(p) });
    expect(await visit(pg, '/')).toBe(200);
  });

  it('the admin screen, with validation errors', async () => {
    const a = await createStaff(tp.platform, { roles: ['system_admin'] });
    const pg = await newPage(browser(), tp.baseUrl);
    await loginAs(pg, a.loginId, a.password);
    expect(await visit(pg, '/admin/maintenance')).toBe(200);
    await checkA11y(pg, 'maintenance admin screen');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '登録する' }).click())).toBe(422);
    await expect(pg.getByRole('alert').textContent()).resolves.toContain('件名を入力してください。');
    await checkA11y(pg, 'maintenance admin screen with errors');
  });
});
