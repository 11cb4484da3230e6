import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createStaff, startTestPlatform, systemActor, type TestPlatform } from '../helpers/platform.js';
import { cmsOf } from '../../src/modules/cms/index.js';
import { seedDemoSite } from '../../src/modules/cms/demo.js';
import { listsOf } from '../../src/modules/cms/lists/index.js';
import { seedListsDemo } from '../../src/modules/cms/lists/demo.js';
import { checkA11y, describeE2E, loginAs, newPage, submitAndWait, useBrowser, visit } from './helpers.js';

// A 1×1 transparent PNG stands in for the 地理院タイル (no network in tests).
const TILE = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

/** Serves stub tiles and records every CSP violation the page reports. */
async function withTiles(page: Page): Promise<{ tiles: () => number; cspErrors: string[] }> {
  let tiles = 0;
  const cspErrors: string[] = [];
  await page.route('https://cyberjapandata.gsi.go.jp/**', (route) => {
    tiles++;
    return route.fulfill({ status: 200, contentType: 'image/png', body: TILE });
  });
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspErrors.push(msg.text());
  });
  return { tiles: () => tiles, cspErrors };
}

describeE2E('CMS lists, calendar and map in the browser', (engine) => {
  const browser = useBrowser();
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform(engine);
    const p = tp.platform;
    await seedDemoSite(p, cmsOf(p), systemActor(p));
    await seedListsDemo(p, cmsOf(p), listsOf(p));
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('the spot map shows a marker per spot, the attribution and the text list; a marker opens by keyboard', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    const { tiles, cspErrors } = await withTiles(page);
    expect(await visit(page, '/map/')).toBe(200);
    await page.locator('.leaflet-marker-icon').first().waitFor();
    expect(await page.locator('.leaflet-marker-icon').count()).toBe(3);
    expect(await page.locator('table.spot-list tbody tr').count()).toBe(3);
    const attribution = page.locator('.leaflet-control-attribution a', { hasText: '国土地理院' });
    expect(await attribution.getAttribute('href')).toBe('https://maps.gsi.go.jp/development/ichiran.html');
    expect(await attribution.isVisible()).toBe(true);
    expect(await page.getByRole('region', { name: /スポットの地図/ }).count()).toBe(1);
    expect(await page.getByRole('link', { name: '地図をとばして一覧へ' }).count()).toBe(1);
    await page.waitForFunction(() => document.querySelectorAll('.leaflet-tile-loaded').length > 0);
    expect(tiles()).toBeGreaterThan(0);
    await checkA11y(page, 'spot map');

    // Keyboard: Tab from the map's skip link until a marker has focus, then Enter opens its popup.
    await page.getByRole('link', { name: '地図をとばして一覧へ' }).focus();
    let marker = '';
    for (let i = 0; i < 12 && !marker; i++) {
      await page.keyboard.press('Tab');
      marker = await page.evaluate(() => {
        const el = document.activeElement as HTMLImageElement | null;
        return el?.classList.contains('leaflet-marker-icon') ? el.alt : '';
      });
    }
    expect(['あおば市役所', 'あおば市立図書館', 'あおば川河川敷公園']).toContain(marker);
    await page.keyboard.press('Enter');
    const popupLink = page.locator('.leaflet-popup-content a');
    await popupLink.waitFor();
    expect(await popupLink.textContent()).toBe(marker);
    await checkA11y(page, 'spot map with a popup open');
    expect(cspErrors).toEqual([]);

    // The text list is filtered by an ordinary GET form; the map follows it.
    await page.getByLabel('キーワード').fill('図書館');
    await submitAndWait(page, () => page.getByRole('search', { name: 'スポットの検索' }).getByRole('button', { name: '検索' }).click());
    await page.locator('.leaflet-marker-icon').first().waitFor();
    expect(await page.locator('table.spot-list tbody tr').count()).toBe(1);
    expect(await page.locator('.leaflet-marker-icon').count()).toBe(1);
    await page.context().close();
  });

  it('the map page without JavaScript is the text list alone', async () => {
    const page = await newPage(browser(), tp.baseUrl, { javaScriptEnabled: false });
    expect(await visit(page, '/map/')).toBe(200);
    expect(await page.locator('table.spot-list tbody tr').count()).toBe(3);
    expect(await page.locator('#spot-map-section').isVisible()).toBe(false);
    await page.context().close();
  });

  it('the event calendar: month table and list view, with previous and next months', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    const festival = new Date(Date.now() + (9 * 3600 + 10 * 86400) * 1000).toISOString().slice(0, 7);
    expect(await visit(page, `/events/?month=${festival}`)).toBe(200);
    const caption = await page.locator('table.event-calendar caption').textContent();
    expect(caption).toBe(`${Number(festival.slice(0, 4))}年${Number(festival.slice(5))}月のイベントカレンダー`);
    expect(await page.locator('table.event-calendar').getByRole('link', { name: 'あおば夏まつり' }).count()).toBeGreaterThan(0);
    await checkA11y(page, 'event calendar month');
    await submitAndWait(page, () => page.getByRole('link', { name: '一覧の表示' }).click());
    expect(page.url()).toContain('view=list');
    expect(await page.locator('h3.event-day').count()).toBeGreaterThan(0);
    await checkA11y(page, 'event calendar list');
    await submitAndWait(page, () => page.getByRole('link', { name: /^次の月/ }).click());
    expect(page.url()).toContain('view=list');
    await checkA11y(page, 'event calendar next month');
    await page.context().close();
  });

  it('an administrator pins an item and moves it up; the top page shows the new order at once', async () => {
    const admin = await createStaff(tp.platform, { roles: ['system_admin'] });
    const page = await newPage(browser(), tp.baseUrl);
    const topTitles = async () => {
      await visit(page, '/');
      return page.locator('section.auto-list').first().locator('.list-item__title').allTextContents();
    };
    expect(await topTitles()).toEqual(['年末年始のごみ収集日程', '中央地区の断水のお知らせ', 'マイナンバーカードの休日窓口を開きます', '国民健康保険税の納付書を発送しました']);
    await checkA11y(page, 'top page with lists');
    const menu = page.getByRole('navigation', { name: 'サイトメニュー' });
    expect(await menu.getByRole('link', { name: 'イベントカレンダー' }).getAttribute('href')).toBe('/events/');
    expect(await menu.getByRole('link', { name: 'スポットマップ' }).getAttribute('href')).toBe('/map/');
    await loginAs(page, admin.loginId, admin.password);
    expect(await visit(page, '/admin/cms/lists')).toBe(200);
    await checkA11y(page, 'lists admin index');
    await submitAndWait(page, () => page.getByRole('link', { name: '新着情報' }).click());
    await checkA11y(page, 'list editor');
    await submitAndWait(page, () => page.getByRole('button', { name: /^固定表示にする\s*:\s*マイナンバーカードの休日窓口を開きます$/ }).click());
    await submitAndWait(page, () => page.locator('#pins').getByRole('button', { name: /^上へ\s*:\s*マイナンバーカードの休日窓口を開きます$/ }).click());
    expect(await page.locator('#pins li > a').allTextContents()).toEqual(['マイナンバーカードの休日窓口を開きます', '年末年始のごみ収集日程']);
    await checkA11y(page, 'list editor after pinning');
    expect(await topTitles()).toEqual(['マイナンバーカードの休日窓口を開きます', '年末年始のごみ収集日程', '中央地区の断水のお知らせ', '国民健康保険税の納付書を発送しました']);
    // The badges are words: 緊急 is there as text, not only as a colour.
    expect(await page.locator('section.auto-list').first().locator('.mark--urgent').allTextContents()).toEqual(['緊急']);
    await submitAndWait(page, () => page.getByRole('link', { name: '新着情報をもっと見る' }).click());
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('新着情報');
    expect(await page.locator('.list-item__title').first().textContent()).toBe('マイナンバーカードの休日窓口を開きます');
    await checkA11y(page, 'list page');
    await page.context().close();
  });
});
