import { afterAll, beforeAll, expect, it } from 'vitest';
import { cmsOf } from '../../src/modules/cms/index.js';
import { seedDemoSite } from '../../src/modules/cms/demo.js';
import { seedTypesDemo } from '../../src/modules/cms/types/demo.js';
import { startTestPlatform, systemActor, createStaff, type TestPlatform } from '../helpers/platform.js';
import { checkA11y, describeE2E, loginAs, newPage, submitAndWait, useBrowser, visit } from './helpers.js';

/** A stand-in for the video player, so the check does not depend on the Internet. */
const FAKE_PLAYER = '<!doctype html><html lang="ja"><head><title>動画プレーヤー</title></head><body><p>動画</p></body></html>';

describeE2E('CMS page types in the browser', (engine) => {
  const browser = useBrowser();
  let tp: TestPlatform;
  let admin: { loginId: string; password: string };
  const demoPage = async (path: string) => {
    const site = (await cmsOf(tp.platform).sites.all()).find((s) => s.key === 'aoba')!;
    return (await cmsOf(tp.platform).pages.findPublic(site.id, path))!.node;
  };

  beforeAll(async () => {
    tp = await startTestPlatform(engine);
    // The demo organisations (あおば市 and its departments), then the city site and the page types' demo.
    await tp.platform.modules.find((m) => m.name === 'core')!.seedDemo!(tp.platform);
    await seedDemoSite(tp.platform, cmsOf(tp.platform), systemActor(tp.platform));
    await seedTypesDemo(tp.platform, cmsOf(tp.platform));
    admin = await createStaff(tp.platform, { roles: ['system_admin'] });
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('staff create a weekly event through the editor, publish it, and residents see the dates and download the iCal file', async () => {
    const eventFolder = await demoPage('/event/');
    const page = await newPage(browser(), tp.baseUrl, { acceptDownloads: true });
    await loginAs(page, admin.loginId, admin.password);
    expect(await visit(page, `/admin/cms/nodes/new?parent=${eventFolder.id}`)).toBe(200);
    await page.getByLabel('ページの種類').selectOption('event');
    await page.getByLabel('URLの名前').fill('suiei-kyoshitsu');
    await page.getByLabel('タイトル', { exact: false }).first().fill('冬の水泳教室');
    // The event's inputs appear once the type is chosen and the form is sent.
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '下書き保存' }).click())).toBe(422);
    await page.getByRole('radio', { name: '毎週（期間内の決まった曜日）' }).check();
    await page.getByLabel('開始日（期間・毎週のとき）').fill('2026-12-21');
    await page.getByLabel('終了日（期間・毎週のとき）').fill('2027-01-14');
    await page.getByRole('checkbox', { name: '月曜日' }).check();
    await page.getByRole('checkbox', { name: '木曜日' }).check();
    await page.getByLabel('開始時刻（任意）').fill('10:00');
    await page.getByLabel('終了時刻（任意）').fill('11:30');
    await page.getByLabel('会場名').fill('あおば市民プール');
    await page.getByLabel('会場の緯度（地図表示用・任意）').fill('35.5911');
    await page.getByLabel('会場の経度（地図表示用・任意）').fill('140.1301');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '保存して公開する' }).click())).toBe(200);
    expect(page.url()).toMatch(/\/admin\/cms\/nodes\/\d+\?saved=1$/);
    expect(await page.getByRole('radio', { name: '毎週（期間内の決まった曜日）' }).isChecked()).toBe(true);
    await checkA11y(page, 'event editor with its fields');

    expect(await visit(page, '/event/suiei-kyoshitsu')).toBe(200);
    const when = await page.getByTestId('event-when').textContent();
    expect(when).toBe('2026年12月21日（月）～2027年1月14日（木）の毎週月曜日・木曜日（全8回）　10時～11時30分');
    for (const d of ['2026年12月24日（木）', '2026年12月31日（木）', '2027年1月4日（月）']) await page.getByText(d, { exact: true }).waitFor();
    await checkA11y(page, 'public event page');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ical-link').click()]);
    const chunks: Buffer[] = [];
    for await (const chunk of (await download.createReadStream())!) chunks.push(chunk as Buffer);
    const ics = Buffer.concat(chunks).toString('utf8');
    expect(ics).toContain('BEGIN:VCALENDAR');
    expect(ics).toContain('DTSTART;TZID=Asia/Tokyo:20261221T100000');
    expect(ics).toContain('RRULE:FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270114T145959Z');
    await page.context().close();
  });

  it('every page type, the category pages and the filtered search pass axe', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await page.context().route('https://www.youtube-nocookie.com/**', (r) => r.fulfill({ contentType: 'text/html; charset=utf-8', body: FAKE_PLAYER }));
    for (const path of ['/oshirase/kasen-heisa', '/oshirase/shiminzei-tsuchi', '/event/oyako-yoga', '/event/sangyo-matsuri', '/spot/chuo-toshokan', '/tokushu/nashi-nouka', '/tokushu/rekishi-sanpo', '/douga/gomi-bunbetsu', '/category/', '/category/kurashi/', '/search?q=%E3%81%82%E3%81%8A%E3%81%B0&type=event', '/search?type=spot']) {
      expect(await visit(page, path), path).toBe(200);
      await checkA11y(page, `public ${path}`);
    }
    await visit(page, '/oshirase/kasen-heisa');
    await page.getByText('緊急', { exact: true }).waitFor();
    await page.getByRole('heading', { name: 'このページに関するお問い合わせ' }).waitFor();
    expect(await page.getByRole('link', { name: 'kikikanri@city.aoba.example.lg.jp' }).getAttribute('href')).toBe('mailto:kikikanri@city.aoba.example.lg.jp');
    await page.context().close();
  });

  it('the editor with each type’s fields passes axe', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, admin.loginId, admin.password);
    for (const path of ['/oshirase/kasen-heisa', '/spot/chuo-toshokan', '/tokushu/nashi-nouka', '/tokushu/rekishi-sanpo', '/douga/gomi-bunbetsu']) {
      const node = await demoPage(path);
      expect(await visit(page, `/admin/cms/nodes/${node.id}`)).toBe(200);
      await page.locator('.ProseMirror').waitFor();
      await page.locator('fieldset.page-type-fields').first().waitFor();
      await checkA11y(page, `editor of ${path}`);
    }
    await page.context().close();
  }, 120_000);

  it('an error in a type’s field, the categories and the contacts screens pass axe', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, admin.loginId, admin.password);
    // An error in a type's field: the summary links to it, the input keeps what was typed.
    const spot = await demoPage('/spot/chuo-toshokan');
    await visit(page, `/admin/cms/nodes/${spot.id}`);
    await page.getByLabel('緯度', { exact: false }).first().fill('135.6');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '下書き保存' }).click())).toBe(422);
    await page.getByRole('link', { name: /緯度は日本の範囲/ }).waitFor();
    await checkA11y(page, 'spot editor with an error');
    expect(await visit(page, '/admin/cms/categories')).toBe(200);
    await checkA11y(page, 'categories admin');
    const kurashi = await page.getByRole('link', { name: 'くらし・手続き', exact: true }).getAttribute('href');
    expect(await visit(page, kurashi!)).toBe(200);
    await checkA11y(page, 'category edit');
    expect(await visit(page, '/admin/cms/contacts')).toBe(200);
    await checkA11y(page, 'contacts admin');
    await page.getByRole('link', { name: /あおば市 観光課/ }).click();
    await page.waitForURL('**/admin/cms/contacts/*');
    await checkA11y(page, 'contact edit');
    await page.context().close();
  }, 120_000);
});
