/**
 * The CMS as a city uses it, end to end in a real Chromium (issue 3, "Tests that must exist"):
 * an editor writes a news page with a library image (alt text required) and asks for approval;
 * the approver approves and the page is at once on the top-page list, its category page, search,
 * the feed and both sitemaps; a scheduled page goes live when the job clock reaches its time; a
 * temporarily withdrawn page leaves every public index but still opens through a preview link; an
 * administrator reorders the sitemap; the spot map shows a marker per spot next to the text list.
 * Public pages are always fetched from fresh, logged-out contexts, and none may report a CSP
 * violation.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Actor } from '../../src/core/permissions/index.js';
import { cmsOf } from '../../src/modules/cms/index.js';
import { listsOf } from '../../src/modules/cms/lists/index.js';
import { photoWithGps } from '../../src/modules/cms/media/test-files.js';
import { categoriesOf } from '../../src/modules/cms/types/fields.js';
import { workflowOf } from '../../src/modules/cms/workflow/index.js';
import { createOrganization, createStaff, startTestPlatform, systemActor, type TestPlatform } from '../helpers/platform.js';
import { checkA11y, describeE2E, loginAs, newPage, submitAndWait, useBrowser, visit } from './helpers.js';

const meta = { ip: '127.0.0.1', userAgent: 'e2e journey' };
const STEP = 120_000;

// A 1×1 transparent PNG stands in for the 地理院タイル (no network in tests).
const TILE = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

/** TipTap gives focus back on the next animation frame; typing before it would land in the wrong place. */
const settle = (page: Page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

/** A Date as the value of a datetime-local input in Japan time ('2026-04-01T09:30'). */
const jstInput = (d: Date) => new Date(d.getTime() + 9 * 3600_000).toISOString().slice(0, 16);

const NEWS_TITLE = '台風接近に伴い避難所を開設しました';
const NEWS_PATH = '/oshirase/hinanjo';
const NEWS_TEXT = '市民センターと中央小学校の体育館に避難所を開設しました。';
const IMAGE_ALT = '段ボールベッドが並ぶ市民センターの避難所';
const SCHEDULED_TITLE = '総合防災訓練の参加者を募集します';
const SPOTS = ['ジャーニー市役所', 'ジャーニー市立中央図書館', 'みなと公園'];

describeE2E('CMS journey: write, approve, publish everywhere, schedule, withdraw, sitemap and map', (engine) => {
  const browser = useBrowser();
  let tp: TestPlatform;
  let siteId = 0;
  let oshirase = 0;
  let newsId = 0;
  let scheduledId = 0;
  let previewPath = '';
  let editor = { loginId: '', password: '', actor: null as unknown as Actor };
  let approver = { loginId: '', password: '', name: '' };
  let admin = { loginId: '', password: '' };
  const cspErrors: string[] = [];
  const publicUrls: string[] = [];

  /** A staff page in a fresh context, with a generous default timeout for a loaded machine. */
  const staffPage = async () => {
    const page = await newPage(browser(), tp.baseUrl);
    page.context().setDefaultTimeout(30_000);
    return page;
  };

  /** A logged-out visitor: fresh context, stub map tiles, and every CSP violation it reports recorded. */
  const visitor = async () => {
    const page = await staffPage();
    await page.route('https://cyberjapandata.gsi.go.jp/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: TILE }));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) cspErrors.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('load', () => publicUrls.push(page.url()));
    return page;
  };

  /** The body of a public machine-readable address (feed, sitemap.xml), fetched from the visitor's context. */
  const fetchText = async (page: Page, path: string) => {
    const res = await page.context().request.get(path);
    expect(res.status(), path).toBe(200);
    return res.text();
  };

  /** Where a title shows up for a logged-out visitor: top-page list, category page, search, feed, sitemaps. */
  const whereShown = async (page: Page, title: string, path: string, query: string) => {
    expect(await visit(page, '/')).toBe(200);
    const topList = (await page.locator('section.auto-list').first().locator('.list-item__title').allTextContents()).includes(title);
    expect(await visit(page, '/category/bousai/')).toBe(200);
    const category = (await page.getByTestId('category-pages').getByRole('link').allTextContents().catch(() => [] as string[])).includes(title);
    expect(await visit(page, `/search?q=${encodeURIComponent(query)}`)).toBe(200);
    const search = (await page.locator('.search-results').getByRole('link').allTextContents().catch(() => [] as string[])).includes(title);
    const feed = (await fetchText(page, '/feed.xml')).includes(title);
    const xml = (await fetchText(page, '/sitemap.xml')).includes(`${path}</loc>`);
    expect(await visit(page, '/sitemap')).toBe(200);
    const html = (await page.getByRole('navigation', { name: 'このサイトのページ一覧' }).getByRole('link').allTextContents()).includes(title);
    return { topList, category, search, feed, xml, html };
  };

  beforeAll(async () => {
    tp = await startTestPlatform(engine, { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } });
    const p = tp.platform;
    const cms = cmsOf(p);
    const sys = systemActor(p);
    const city = await createOrganization(p, { name: 'ジャーニー市' });
    siteId = await cms.sites.create(sys, { key: 'journey', name: 'ジャーニー市', pathPrefix: '', organizationId: city }, meta);
    const root = await cms.pages.root(siteId);
    await cms.pages.saveDraft(sys, root.id, { title: 'ジャーニー市', body: '<p>ジャーニー市の公式サイトです。</p>' }, meta);
    await cms.pages.publish(sys, root.id, meta);
    const bousai = await categoriesOf(p).create(sys, { siteId, slug: 'bousai', name: '防災' }, meta);
    const add = async (parentId: number, kind: 'folder' | 'page', slug: string, title: string, extra: { sortOrder?: number; pageType?: string; fields?: Record<string, unknown>; body?: string } = {}) => {
      const id = await cms.pages.create(sys, { siteId, parentId, kind, slug, title, organizationId: city, body: extra.body ?? `<p>${title}のページです。</p>`, sortOrder: extra.sortOrder, pageType: extra.pageType, fields: extra.fields }, meta);
      await cms.pages.publish(sys, id, meta);
      return id;
    };
    oshirase = await add(root.id, 'folder', 'oshirase', 'お知らせ', { sortOrder: 0 });
    const kurashi = await add(root.id, 'folder', 'kurashi', 'くらし', { sortOrder: 1 });
    const shisetsu = await add(root.id, 'folder', 'shisetsu', '施設案内', { sortOrder: 2 });
    await add(oshirase, 'page', 'gomi-nenmatsu', '年末年始のごみ収集', { pageType: 'news', fields: { news: { important: false, urgent: false }, categories: [] } });
    await add(kurashi, 'page', 'juminhyo', '住民票の写しの請求');
    const spots: Array<[string, string, number, number]> = [
      ['shiyakusho', SPOTS[0]!, 35.6074, 140.1065],
      ['toshokan', SPOTS[1]!, 35.6112, 140.1123],
      ['minato-koen', SPOTS[2]!, 35.5981, 140.1204],
    ];
    for (const [slug, title, lat, lng] of spots) {
      await add(shisetsu, 'page', slug, title, { pageType: 'spot', fields: { spot: { address: `みどり県ジャーニー市${title}前1-1`, lat, lng }, categories: [bousai] } });
    }
    // The top page's 新着情報: news of the whole site, newest first, with the marks and categories.
    await listsOf(p).create(sys, siteId, { heading: '新着情報', hostPath: '/', sourcePath: '/', pageTypes: ['news'], limit: 10, columns: ['date', 'marks', 'title', 'category'], sort: 'newest' }, meta);

    const e = await createStaff(p, { roles: ['editor'], organizationId: city, displayName: '広報 花子' });
    const a = await createStaff(p, { roles: ['approver'], organizationId: city, displayName: '課長 一郎' });
    const s = await createStaff(p, { roles: ['site_admin'], organizationId: city, displayName: '管理 次郎' });
    editor = { ...e, actor: (await p.auth.actorFor(e.id))! as Actor };
    approver = { ...a, name: '課長 一郎' };
    admin = s;
    // One approval route for the whole site, with one approver.
    await workflowOf(p).routes.save((await p.auth.actorFor(s.id))! as Actor, null, { siteId, name: 'ジャーニー市 標準ルート', folderId: null, organizationId: null, levels: [{ rule: 'any', approverIds: [a.id] }] }, meta);
  }, STEP);
  afterAll(async () => {
    await tp?.close();
  });

  it('1. the editor writes a news page (お知らせ, 防災, 重要) with a library image — refused without alt text, inserted with it — and asks for approval', async () => {
    const page = await staffPage();
    await loginAs(page, editor.loginId, editor.password);
    expect(await visit(page, `/admin/cms/nodes/new?parent=${oshirase}`)).toBe(200);
    await checkA11y(page, 'new page form');
    await page.getByLabel('ページの種類').selectOption({ label: 'お知らせ' });
    await page.getByLabel('URLの名前').fill('hinanjo');
    await page.getByLabel('タイトル', { exact: false }).first().fill(NEWS_TITLE);
    await page.locator('.rich-editor[data-editor-state="ready"]').waitFor();
    await page.locator('.rich-editor__content').click();
    await settle(page);
    await page.keyboard.type(NEWS_TEXT);
    await page.getByRole('group', { name: '分野' }).getByRole('checkbox', { name: '防災' }).check();
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '下書き保存' }).click())).toBe(200);
    const m = /\/admin\/cms\/nodes\/(\d+)\?saved=1$/.exec(page.url());
    expect(m, page.url()).not.toBeNull();
    newsId = Number(m![1]);

    // The news inputs are there now that the type is saved: mark it 重要.
    await page.getByTestId('news-fields').getByRole('checkbox', { name: '重要', exact: true }).check();
    expect(await page.getByRole('group', { name: '分野' }).getByRole('checkbox', { name: '防災' }).isChecked()).toBe(true);

    // The image dialog: upload a photo into the library from inside it; without alt text it refuses.
    await page.locator('.rich-editor[data-editor-state="ready"]').waitFor();
    await page.locator('.rich-editor__content').click();
    await settle(page);
    await page.keyboard.press('Control+End');
    await page.getByRole('toolbar').getByRole('button', { name: '画像', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: '画像の挿入' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'ライブラリから選ぶ' }).click();
    await dialog.getByLabel('新しい画像を登録').setInputFiles({ name: '避難所.jpg', mimeType: 'image/jpeg', buffer: await photoWithGps(1200, 800) });
    await dialog.getByRole('button', { name: '登録して選ぶ' }).click();
    const src = dialog.getByLabel('画像のURLまたはメディア番号');
    await expect.poll(() => src.inputValue(), { timeout: 30_000 }).toMatch(/^\/media\/\d+\//);
    const alt = dialog.getByLabel('代替テキスト', { exact: true });
    expect(await alt.inputValue()).toBe('');
    const insert = dialog.getByRole('button', { name: '挿入する' });
    expect(await insert.isDisabled()).toBe(true);
    expect(await dialog.getByText('代替テキストを入力するか、「装飾のための画像」を選ぶと挿入できます。').isVisible()).toBe(true);
    await checkA11y(page, 'image dialog refusing an image without alt text');
    // Enter in the empty alt field does not insert either: the dialog stays open, nothing enters the body.
    await alt.press('Enter');
    expect(await dialog.isVisible()).toBe(true);
    expect(await page.locator('.rich-editor__content img').count()).toBe(0);
    await alt.fill(IMAGE_ALT);
    expect(await insert.isDisabled()).toBe(false);
    await insert.click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.locator('.rich-editor__content img').getAttribute('alt')).toBe(IMAGE_ALT);

    expect(await submitAndWait(page, () => page.getByRole('button', { name: '下書き保存' }).click())).toBe(200);
    expect(await page.getByTestId('news-fields').getByRole('checkbox', { name: '重要', exact: true }).isChecked()).toBe(true);
    await checkA11y(page, 'news editor with the workflow panel');

    const panel = page.getByTestId('workflow-panel');
    expect(await panel.getByTestId('workflow-route').textContent()).toContain(approver.name);
    await panel.getByLabel('承認者へのコメント（任意）').fill('至急の公開をお願いします');
    expect(await submitAndWait(page, () => panel.getByRole('button', { name: '承認を依頼する' }).click())).toBe(200);
    expect(await page.getByText('承認を依頼しました。').count()).toBe(1);
    await checkA11y(page, 'request page for the requester');
    // Not public before approval.
    const anon = await visitor();
    expect(await visit(anon, NEWS_PATH)).toBe(404);
    // The editor gives the page back to colleagues.
    await visit(page, `/admin/cms/nodes/${newsId}`);
    await submitAndWait(page, () => page.getByRole('button', { name: '編集を終了' }).click());
    await anon.context().close();
    await page.context().close();
  }, STEP);

  it('2. the approver approves from the inbox; the next request shows the page on the top-page list (重要 as text), its category page, search, the feed and both sitemaps', async () => {
    expect(newsId).toBeGreaterThan(0);
    const anon = await visitor();
    // Before: nowhere (and the top page is in the render cache now).
    expect(await whereShown(anon, NEWS_TITLE, NEWS_PATH, '避難所')).toEqual({ topList: false, category: false, search: false, feed: false, xml: false, html: false });

    const page = await staffPage();
    await loginAs(page, approver.loginId, approver.password);
    await submitAndWait(page, () => page.getByRole('navigation', { name: '管理メニュー' }).getByRole('link', { name: '承認待ち' }).click());
    await checkA11y(page, 'approver inbox');
    await submitAndWait(page, () => page.getByTestId('workflow-inbox').getByRole('link', { name: NEWS_TITLE }).click());
    expect(await page.getByText('至急の公開をお願いします').count()).toBe(1);
    await checkA11y(page, 'request page for the approver');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '承認', exact: true }).click())).toBe(200);
    expect(await page.getByText('承認し、ページを公開しました。').count()).toBe(1);
    await page.context().close();

    // After: everywhere, on the very next requests.
    expect(await whereShown(anon, NEWS_TITLE, NEWS_PATH, '避難所')).toEqual({ topList: true, category: true, search: true, feed: true, xml: true, html: true });

    expect(await visit(anon, '/')).toBe(200);
    const item = anon.locator(`section.auto-list li.list-item[data-node-id="${newsId}"]`);
    expect(await item.locator('.mark--important').textContent()).toBe('重要');
    expect(await item.locator('.mark--category').allTextContents()).toEqual(['防災']);
    expect(await anon.locator('section.auto-list').first().locator('.list-item__title').first().textContent()).toBe(NEWS_TITLE);
    await checkA11y(anon, 'public top page with the new arrivals list');
    expect(await visit(anon, '/category/bousai/')).toBe(200);
    await checkA11y(anon, 'public category page');
    expect(await visit(anon, `/search?q=${encodeURIComponent('避難所')}`)).toBe(200);
    await checkA11y(anon, 'public search results');

    // The page itself: the 重要 badge in words and the library image with its alt text, served as WebP.
    expect(await visit(anon, NEWS_PATH)).toBe(200);
    expect(await anon.getByRole('heading', { level: 1 }).textContent()).toBe(NEWS_TITLE);
    expect(await anon.getByText('重要', { exact: true }).count()).toBeGreaterThan(0);
    const img = anon.locator('.page-body picture img');
    expect(await img.getAttribute('alt')).toBe(IMAGE_ALT);
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0)).toBe(true);
    expect(await img.evaluate((el: HTMLImageElement) => el.currentSrc)).toMatch(/-webp\/.+\.webp$/);
    await checkA11y(anon, 'public news page');
    await anon.context().close();
  }, STEP);

  it('3. a page scheduled in the editor\'s schedule form goes live when the job clock reaches its time, not before', async () => {
    const cms = cmsOf(tp.platform);
    const bousai = (await categoriesOf(tp.platform).bySlug(siteId, 'bousai'))!.id;
    scheduledId = await cms.pages.create(
      editor.actor,
      { siteId, parentId: oshirase, kind: 'page', slug: 'kunren', title: SCHEDULED_TITLE, pageType: 'news', fields: { news: { important: false, urgent: false }, categories: [bousai] }, body: '<p>11月に総合防災訓練を行います。参加者を募集します。</p>' },
      meta,
    );
    // A publish time at least a minute ahead (datetime-local has minutes).
    const at = new Date(Math.ceil((Date.now() + 60_000) / 60_000) * 60_000);

    const page = await staffPage();
    await loginAs(page, approver.loginId, approver.password);
    expect(await visit(page, `/admin/cms/nodes/${scheduledId}`)).toBe(200);
    const schedule = page.locator('section[aria-labelledby="schedule-title"]');
    await schedule.getByLabel('公開開始日時').fill(jstInput(at));
    expect(await submitAndWait(page, () => schedule.getByRole('button', { name: '予約を保存する' }).click())).toBe(200);
    expect(await page.locator('section[aria-labelledby="schedule-title"]').getByLabel('公開開始日時').inputValue()).toBe(jstInput(at));
    await checkA11y(page, 'editor with a publish time');
    await page.context().close();

    const anon = await visitor();
    const shown = async () => {
      const w = await whereShown(anon, SCHEDULED_TITLE, '/oshirase/kunren', '防災訓練');
      return { topList: w.topList, search: w.search };
    };
    // The job runs a second before the time: nothing goes live.
    expect(await cms.pages.runSchedule(new Date(at.getTime() - 1000))).toMatchObject({ published: 0 });
    expect(await shown()).toEqual({ topList: false, search: false });
    expect(await visit(anon, '/oshirase/kunren')).toBe(404);
    // The job runs at the time: live on the next request.
    expect(await cms.pages.runSchedule(new Date(at.getTime() + 1000))).toMatchObject({ published: 1 });
    expect(await shown()).toEqual({ topList: true, search: true });
    expect(await visit(anon, '/oshirase/kunren')).toBe(200);
    await anon.context().close();
  }, STEP);

  it('4. a page withdrawn temporarily from the editor disappears from its URL, the list, category page, search, feed and sitemaps, but its preview link opens logged out', async () => {
    expect(newsId).toBeGreaterThan(0);
    const page = await staffPage();
    await loginAs(page, approver.loginId, approver.password);
    expect(await visit(page, `/admin/cms/nodes/${newsId}`)).toBe(200);
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '一時的に非公開にする' }).click())).toBe(200);
    expect(await page.getByTestId('node-status').textContent()).toContain('（一時非公開）');

    const anon = await visitor();
    expect(await visit(anon, NEWS_PATH)).toBe(404);
    expect(await whereShown(anon, NEWS_TITLE, NEWS_PATH, '避難所')).toEqual({ topList: false, category: false, search: false, feed: false, xml: false, html: false });
    // The other pages are still there (the indexes are not simply empty).
    expect(await whereShown(anon, SCHEDULED_TITLE, '/oshirase/kunren', '防災訓練')).toEqual({ topList: true, category: true, search: true, feed: true, xml: true, html: true });

    // A preview link made on the editor screen shows the withdrawn page to someone logged out.
    await page.getByTestId('preview-panel').getByLabel('有効期間').selectOption({ label: '1日' });
    expect(await submitAndWait(page, () => page.getByRole('button', { name: 'プレビュー用URLを作る' }).click())).toBe(200);
    const url = await page.getByTestId('preview-url').inputValue();
    expect(url).toMatch(/\/preview\/[A-Za-z0-9_-]{43}$/);
    previewPath = new URL(url).pathname;
    await page.context().close();

    const fresh = await visitor();
    expect(await visit(fresh, previewPath)).toBe(200);
    expect(await fresh.getByRole('heading', { level: 1 }).textContent()).toBe(NEWS_TITLE);
    expect(await fresh.getByRole('note').first().textContent()).toContain('これはプレビューです');
    expect(await fresh.getByText(NEWS_TEXT).count()).toBe(1);
    const img = fresh.locator('.page-body img');
    expect(await img.getAttribute('alt')).toBe(IMAGE_ALT);
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0)).toBe(true);
    await checkA11y(fresh, 'preview of a withdrawn page');
    expect(await visit(fresh, NEWS_PATH)).toBe(404);
    await fresh.context().close();
    await anon.context().close();
  }, STEP);

  it('5. an administrator moves an entry up in the sitemap editor and /sitemap and sitemap.xml show the new order', async () => {
    const anon = await visitor();
    const folders = async () => {
      expect(await visit(anon, '/sitemap')).toBe(200);
      return anon.locator('nav.sitemap > ul > li > ul > li > a').allTextContents();
    };
    expect(await folders()).toEqual(['お知らせ', 'くらし', '施設案内']);

    const page = await staffPage();
    await loginAs(page, admin.loginId, admin.password);
    expect(await visit(page, `/admin/cms/sites/${siteId}/sitemap`)).toBe(200);
    await checkA11y(page, 'sitemap editor');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: /^上へ\s*:\s*施設案内$/ }).click())).toBe(200);
    expect(await page.getByRole('status').first().textContent()).toContain('保存しました');
    await page.context().close();

    expect(await folders()).toEqual(['お知らせ', '施設案内', 'くらし']);
    await checkA11y(anon, 'public html sitemap');
    const xml = await fetchText(anon, '/sitemap.xml');
    const locs = [...xml.matchAll(/<loc>[^<]*?(\/[a-z]+\/)<\/loc>/g)].map((m) => m[1]);
    expect(locs).toEqual(['/oshirase/', '/shisetsu/', '/kurashi/']);
    await anon.context().close();
  }, STEP);

  it('6. the spot map shows a Leaflet marker per spot and the text list with the same spots', async () => {
    const anon = await visitor();
    expect(await visit(anon, '/map/')).toBe(200);
    const markers = anon.locator('.leaflet-marker-icon');
    await markers.first().waitFor();
    await expect.poll(() => markers.count()).toBe(SPOTS.length);
    const rows = anon.locator('table.spot-list tbody tr');
    expect(await rows.count()).toBe(SPOTS.length);
    const listed = await rows.locator('th a').allTextContents();
    const marked = await markers.evaluateAll((els) => els.map((el) => (el as HTMLImageElement).alt));
    expect([...listed].sort()).toEqual([...SPOTS].sort());
    expect([...marked].sort()).toEqual([...SPOTS].sort());
    await anon.waitForFunction(() => document.querySelectorAll('.leaflet-tile-loaded').length > 0);
    await checkA11y(anon, 'spot map');
    await anon.context().close();
  }, STEP);

  it('7. no public page reported a Content Security Policy violation', () => {
    // The journey visited the top page, category page, search, page, preview, sitemap and map.
    for (const path of ['/', '/category/bousai/', '/search', NEWS_PATH, '/sitemap', '/map/']) expect(publicUrls.some((u) => new URL(u).pathname === path), path).toBe(true);
    expect(publicUrls.some((u) => u.includes('/preview/'))).toBe(true);
    expect(cspErrors).toEqual([]);
  });
});
