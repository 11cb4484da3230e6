import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOrganization, createStaff, startTestPlatform, systemActor, type TestPlatform } from '../helpers/platform.js';
import { startGa4ApiServer, type TestGa4ApiServer } from '../helpers/ga4-api-server.js';
import { cmsOf } from '../../src/modules/cms/index.js';
import { seoOf } from '../../src/modules/cms/seo/services.js';
import { checkA11y, describeE2E, loginAs, newPage, submitAndWait, useBrowser, visit } from './helpers.js';

const meta = { ip: '127.0.0.1', userAgent: 'e2e' };

describeE2E('CMS site settings, sitemap editor, analytics and share links in the browser', (engine) => {
  const browser = useBrowser();
  const prefix = '/sites/e2eseo';
  let tp: TestPlatform;
  let ga: TestGa4ApiServer;
  let siteId = 0;
  let login = { loginId: '', password: '' };

  beforeAll(async () => {
    tp = await startTestPlatform(engine, { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } });
    const p = tp.platform;
    const cms = cmsOf(p);
    const actor = systemActor(p);
    const org = await createOrganization(p, { name: 'ブラウザ市' });
    siteId = await cms.sites.create(actor, { key: 'e2eseo', name: 'ブラウザ市', pathPrefix: prefix, organizationId: org, settings: { description: 'ブラウザ市の公式サイト' } }, meta);
    const root = await cms.pages.root(siteId);
    await cms.pages.saveDraft(actor, root.id, { title: 'ブラウザ市', body: '<p>ようこそ。</p>' }, meta);
    await cms.pages.publish(actor, root.id, meta);
    const add = async (parentId: number, kind: 'folder' | 'page', slug: string, title: string, sortOrder: number) => {
      const id = await cms.pages.create(actor, { siteId, parentId, kind, slug, title, sortOrder, body: '<p>本文です。</p>' }, meta);
      await cms.pages.publish(actor, id, meta);
      return id;
    };
    await add(root.id, 'folder', 'kanko', '観光', 0);
    const kurashi = await add(root.id, 'folder', 'kurashi', 'くらし', 1);
    await add(kurashi, 'page', 'gomi', 'ごみの出し方', 0);
    const user = await createStaff(p, { roles: ['site_admin'], organizationId: org });
    login = { loginId: user.loginId, password: user.password };

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const email = 'e2e@machimado-test.iam.gserviceaccount.com';
    const today = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '');
    ga = await startGa4ApiServer({
      accounts: [{ clientEmail: email, publicKey }],
      properties: { '987654321': { readers: [email], rows: [{ date: today, pagePath: `${prefix}/kurashi/gomi`, pageTitle: 'ごみの出し方 | ブラウザ市', screenPageViews: 42, activeUsers: 17 }] } },
    });
    Object.assign(seoOf(cms)!.endpoints, { googleToken: ga.tokenUrl, ga4Data: ga.url });
    (globalThis as { __e2eGaKey?: string }).__e2eGaKey = JSON.stringify({ type: 'service_account', client_email: email, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  });
  afterAll(async () => {
    await tp?.close();
    await ga?.close();
  });

  it('an administrator sets the theme colour and menus (a too-light colour is refused), and the public site shows them', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, login.loginId, login.password);
    expect(await visit(page, `/admin/cms/sites/${siteId}`)).toBe(200);
    await checkA11y(page, 'site settings');

    await page.getByLabel('テーマ色').fill('#ffdd00');
    const headerRow = page.getByRole('group', { name: 'ヘッダーメニュー 1行目' });
    await headerRow.getByLabel('表示名').fill('くらしの情報');
    await headerRow.getByLabel('リンク先').fill('/kurashi/');
    const second = page.getByRole('group', { name: 'ヘッダーメニュー 2行目' });
    await second.getByLabel('表示名').fill('観光');
    await second.getByLabel('リンク先').fill('/kanko/');
    const footerRow = page.getByRole('group', { name: 'フッターメニュー 1行目' });
    await footerRow.getByLabel('表示名').fill('サイトマップ');
    await footerRow.getByLabel('リンク先').fill('/sitemap');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '保存する' }).click())).toBe(422);
    await expect(page.locator('#error-summary').textContent()).resolves.toContain('コントラスト比');
    // What was typed is still there.
    expect(await page.getByRole('group', { name: 'ヘッダーメニュー 1行目' }).getByLabel('表示名').inputValue()).toBe('くらしの情報');
    await checkA11y(page, 'site settings with errors');

    await page.getByLabel('テーマ色').fill('#0031d8');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '保存する' }).click())).toBe(200);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('保存しました');
    await page.context().close();

    const visitor = await newPage(browser(), tp.baseUrl);
    expect(await visit(visitor, `${prefix}/kurashi/gomi`)).toBe(200);
    const header = visitor.locator('body > header.site-header');
    expect(await header.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(0, 49, 216)');
    const menu = visitor.getByRole('navigation', { name: 'サイトメニュー' });
    expect(await menu.getByRole('link').allTextContents()).toEqual(['くらしの情報', '観光']);
    expect(await menu.getByRole('link', { name: 'くらしの情報' }).evaluate((el) => getComputedStyle(el).color)).toBe('rgb(255, 255, 255)');
    expect(await visitor.getByRole('navigation', { name: 'フッターメニュー' }).getByRole('link', { name: 'サイトマップ' }).getAttribute('href')).toBe(`${prefix}/sitemap`);
    // The page with its share links passes axe, including the contrast of the themed header.
    await checkA11y(visitor, 'public page with share links');
    await visitor.context().close();
  });

  it('share links work without scripts, and the copy button appears only with them', async () => {
    const noJs = await newPage(browser(), tp.baseUrl, { javaScriptEnabled: false });
    await visit(noJs, `${prefix}/kurashi/gomi`);
    const share = noJs.getByRole('region', { name: 'このページを共有する' });
    expect(await share.getByRole('link').count()).toBe(3);
    expect(await share.getByRole('button', { name: 'リンクをコピー' }).isVisible()).toBe(false);
    await noJs.context().close();

    const page = await newPage(browser(), tp.baseUrl, { permissions: ['clipboard-read', 'clipboard-write'] });
    await visit(page, `${prefix}/kurashi/gomi`);
    const button = page.getByRole('button', { name: 'リンクをコピー' });
    await button.waitFor({ state: 'visible' });
    await button.click();
    await expect.poll(() => page.locator('.share-copy-status').textContent()).toBe('このページのアドレスをコピーしました。');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${tp.baseUrl}${prefix}/kurashi/gomi`);
    await page.context().close();
  });

  it('an administrator reorders the sitemap with buttons and the public sitemap follows', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, login.loginId, login.password);
    expect(await visit(page, `/admin/cms/sites/${siteId}/sitemap`)).toBe(200);
    await checkA11y(page, 'sitemap editor');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: /^下へ\s*:\s*観光$/ }).click())).toBe(200);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('保存しました');
    // Rename an entry through its own form.
    await page.getByRole('link', { name: /^編集\s*:\s*ごみの出し方$/ }).click();
    await page.waitForURL('**/sitemap/items/*');
    await checkA11y(page, 'sitemap item');
    await page.getByLabel('表示名').fill('ごみ・リサイクル');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '保存する' }).click())).toBe(200);
    await page.context().close();

    const visitor = await newPage(browser(), tp.baseUrl);
    expect(await visit(visitor, `${prefix}/sitemap`)).toBe(200);
    const tree = visitor.getByRole('navigation', { name: 'このサイトのページ一覧' });
    expect(await tree.getByRole('link').allTextContents()).toEqual(['ブラウザ市 トップページ', 'くらし', 'ごみ・リサイクル', '観光']);
    await checkA11y(visitor, 'edited html sitemap');
    await visitor.context().close();
  });

  it('the analytics screen explains the set-up, then shows GA4 figures, and passes axe both ways', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, login.loginId, login.password);
    expect(await visit(page, `/admin/cms/analytics?site=${siteId}`)).toBe(200);
    await expect(page.getByRole('heading', { name: 'アクセス解析の設定方法' }).isVisible()).resolves.toBe(true);
    await checkA11y(page, 'analytics set-up');

    await visit(page, `/admin/cms/sites/${siteId}`);
    await page.getByLabel('GA4 プロパティID').fill('987654321');
    await page.getByLabel('サービスアカウントのキー（JSON）').fill((globalThis as { __e2eGaKey?: string }).__e2eGaKey!);
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '保存する' }).click())).toBe(200);
    expect(await visit(page, `/admin/cms/analytics?site=${siteId}`)).toBe(200);
    const top = page.getByRole('table', { name: /よく見られたページ/ });
    expect(await top.getByRole('row').nth(1).textContent()).toContain('42');
    await checkA11y(page, 'analytics figures');
    await page.context().close();
  });
});
