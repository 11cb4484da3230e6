/**
 * The media library as staff use it, in a real Chromium: upload a photo on the library screen,
 * put it into a page through the editor's image dialog with alt text, publish, and see the public
 * page serve it as <picture> with WebP; withdrawing the page takes the file down with it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cmsOf } from '../../src/modules/cms/index.js';
import { photoWithGps, pdf } from '../../src/modules/cms/media/test-files.js';
import { createOrganization, createStaff, startTestPlatform, systemActor, type TestPlatform } from '../helpers/platform.js';
import { checkA11y, describeE2E, focused, loginAs, newPage, submitAndWait, useBrowser, visit } from './helpers.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };
const browser = useBrowser();

describeE2E('CMS media library', (engine) => {
  let tp: TestPlatform;
  let pageId = 0;
  let staff: { loginId: string; password: string };

  beforeAll(async () => {
    tp = await startTestPlatform(engine, { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } });
    const p = tp.platform;
    const cms = cmsOf(p);
    const org = await createOrganization(p, { name: 'あおば市' });
    const siteId = await cms.sites.create(systemActor(p), { key: 'mediae2e', name: 'あおば市', pathPrefix: '/s/aoba', organizationId: org }, meta);
    const root = await cms.pages.root(siteId);
    await cms.pages.publish(systemActor(p), root.id, meta);
    const folder = await cms.pages.create(systemActor(p), { siteId, parentId: root.id, kind: 'folder', slug: 'kankou', title: '観光', organizationId: org }, meta);
    await cms.pages.publish(systemActor(p), folder, meta);
    pageId = await cms.pages.create(systemActor(p), { siteId, parentId: folder, kind: 'page', slug: 'sakura', title: 'さくらまつり', body: '<p>4月上旬に開催します。</p>', organizationId: org }, meta);
    staff = await createStaff(p, { roles: ['approver'], organizationId: org });
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('uploads a photo in the library, inserts it with alt text through the editor dialog, publishes, and the public page serves <picture> with WebP', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, staff.loginId, staff.password);

    // The library screen: refused file first (the reason, the typed alt kept), then a real photo.
    expect(await visit(page, '/admin/cms/media')).toBe(200);
    await checkA11y(page, 'media library (empty)');
    await page.locator('#f-file').setInputFiles({ name: 'shell.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('<?php system($_GET["c"]); ?>') });
    await page.getByLabel('代替テキスト（画像）').fill('あおば川の桜並木');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '登録する' }).click())).toBe(422);
    await expect(page.getByRole('alert').first().textContent()).resolves.toContain('ファイルの中身が拡張子（.jpg）と一致しません');
    expect(await page.getByLabel('代替テキスト（画像）').inputValue()).toBe('あおば川の桜並木');
    await checkA11y(page, 'media library with an upload error');

    await page.locator('#f-file').setInputFiles({ name: '桜並木.jpg', mimeType: 'image/jpeg', buffer: await photoWithGps(2400, 1600) });
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '登録する' }).click())).toBe(200);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('ファイルを登録しました。');
    // EXIF orientation 6 turned it upright: 1600×2400.
    await expect(page.locator('dl.meta').textContent()).resolves.toContain('1600×2400ピクセル');
    await checkA11y(page, 'media detail');
    expect(await visit(page, '/admin/cms/media')).toBe(200);
    await page.locator('#f-file').setInputFiles({ name: '会議録.pdf', mimeType: 'application/pdf', buffer: pdf() });
    await page.getByLabel('タイトル（文書）').fill('実行委員会 会議録');
    await submitAndWait(page, () => page.getByRole('button', { name: '登録する' }).click());
    expect(await visit(page, '/admin/cms/media?kind=image')).toBe(200);
    await expect(page.locator('table caption').textContent()).resolves.toBe('登録済みのファイル（1件）');
    await checkA11y(page, 'media library filtered to images');

    // The page editor: image from the library, by keyboard, alt text required.
    expect(await visit(page, `/admin/cms/nodes/${pageId}`)).toBe(200);
    await page.locator('.rich-editor[data-editor-state="ready"]').waitFor();
    await page.locator('.rich-editor__content').focus();
    await page.keyboard.press('End');
    await page.keyboard.press('Alt+F10');
    await page.keyboard.press('Home');
    for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowRight');
    expect((await focused(page)).text).toBe('画像');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: '画像の挿入' });
    await dialog.waitFor();
    await page.keyboard.press('Enter'); // ライブラリから選ぶ
    const item = dialog.getByRole('button', { name: /桜並木\.jpg/ });
    await item.waitFor();
    await checkA11y(page, 'image dialog with the library');
    await item.focus();
    await page.keyboard.press('Enter');
    const alt = dialog.getByLabel('代替テキスト', { exact: true });
    expect(await alt.inputValue()).toBe('あおば川の桜並木');
    await alt.fill('');
    expect(await dialog.getByRole('button', { name: '挿入する' }).isDisabled()).toBe(true);
    await alt.fill('満開の桜が続くあおば川の土手');
    await alt.press('Enter');
    await dialog.waitFor({ state: 'hidden' });

    // A link to the PDF from the link dialog: 「名前（PDF：サイズ）」, so the checker passes it.
    await page.getByRole('toolbar').getByRole('button', { name: 'リンク', exact: true }).click();
    const linkDialog = page.getByRole('dialog', { name: 'リンクの挿入' });
    await linkDialog.getByRole('button', { name: 'ライブラリの文書から選ぶ' }).click();
    await linkDialog.getByRole('button', { name: /実行委員会 会議録/ }).click();
    expect(await linkDialog.getByLabel('リンクの文字').inputValue()).toMatch(/^実行委員会 会議録（PDF：\d+バイト）$/);
    await linkDialog.getByRole('button', { name: '挿入する' }).click();
    await linkDialog.waitFor({ state: 'hidden' });

    expect(await submitAndWait(page, () => page.getByRole('button', { name: '保存して公開する' }).click())).toBe(200);
    await expect(page.getByTestId('node-status').textContent()).resolves.toContain('公開中');

    // The public page: <picture> with a WebP source, width/height, and the browser chose WebP.
    const visitor = await newPage(browser(), tp.baseUrl);
    expect(await visit(visitor, '/s/aoba/kankou/sakura')).toBe(200);
    const picture = visitor.locator('.page-body picture');
    expect(await picture.locator('source[type="image/webp"]').getAttribute('srcset')).toMatch(/\/s\/aoba\/media\/\d+\/480-webp\/.+\.webp 480w, .+ 960w, .+ 1600w/);
    const img = picture.locator('img');
    expect(await img.getAttribute('alt')).toBe('満開の桜が続くあおば川の土手');
    expect([await img.getAttribute('width'), await img.getAttribute('height')]).toEqual(['1600', '2400']);
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0)).toBe(true);
    expect(await img.evaluate((el: HTMLImageElement) => el.currentSrc)).toMatch(/-webp\/.+\.webp$/);
    const link = visitor.locator('.page-body a', { hasText: '実行委員会 会議録' });
    const href = (await link.getAttribute('href'))!;
    expect(href).toMatch(/^\/s\/aoba\/media\/\d+\/file\//);
    await checkA11y(visitor, 'public page with a library image and document');
    const src = await img.evaluate((el: HTMLImageElement) => el.currentSrc);
    expect((await fetch(src)).status).toBe(200);
    expect((await fetch(`${tp.baseUrl}${href}`)).headers.get('content-type')).toBe('application/pdf');

    // Withdrawn: the files are gone from the public at once.
    await cmsOf(tp.platform).pages.unpublish(systemActor(tp.platform), pageId, meta);
    expect((await fetch(src)).status).toBe(404);
    expect((await fetch(`${tp.baseUrl}${href}`)).status).toBe(404);
    await page.context().close();
    await visitor.context().close();
  }, 120_000);
});
