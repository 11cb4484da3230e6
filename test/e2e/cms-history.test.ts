import { afterAll, beforeAll, expect, it } from 'vitest';
import { createStaff, startTestPlatform, systemActor, type TestPlatform } from '../helpers/platform.js';
import { cmsOf } from '../../src/modules/cms/index.js';
import { seedDemoSite } from '../../src/modules/cms/demo.js';
import { checkA11y, describeE2E, loginAs, newPage, submitAndWait, useBrowser, visit } from './helpers.js';

describeE2E('CMS page history, trash, preview links and log in the browser', (engine) => {
  const browser = useBrowser();
  let tp: TestPlatform;
  let admin: { loginId: string; password: string };
  beforeAll(async () => {
    tp = await startTestPlatform(engine);
    await seedDemoSite(tp.platform, cmsOf(tp.platform), systemActor(tp.platform));
    admin = await createStaff(tp.platform, { roles: ['system_admin'], displayName: '広報 花子' });
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('edits a page twice, compares the versions, restores version 1, and shows the hidden page through a preview link to a visitor while its address is 404', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, admin.loginId, admin.password);
    expect(await visit(page, '/admin/cms')).toBe(200);
    await submitAndWait(page, () => page.getByRole('link', { name: '住民票の写しの請求', exact: true }).click());
    const id = Number(/nodes\/(\d+)/.exec(page.url())![1]);
    await page.locator('.ProseMirror').waitFor();

    // First edit: the title, with a note for the history.
    await page.locator('#f-title').fill('住民票の写しの請求（改訂）');
    await page.locator('#f-comment').fill('タイトルを改訂');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '下書き保存' }).click())).toBe(200);
    expect(await page.locator('#f-title').inputValue()).toBe('住民票の写しの請求（改訂）');
    // Second edit: the body, typed in the editor.
    await page.locator('.ProseMirror').waitFor();
    await page.locator('.ProseMirror p').last().click();
    await page.keyboard.press('End');
    await page.keyboard.type('土曜日の午前も開庁します。');
    await page.locator('#f-comment').fill('土曜開庁を追記');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '下書き保存' }).click())).toBe(200);

    await submitAndWait(page, () => page.getByRole('link', { name: '版の一覧と比較・復元' }).click());
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('変更履歴: 住民票の写しの請求（改訂）');
    expect(await page.locator('tbody tr').count()).toBe(3);
    expect(await page.getByTestId('version-3').textContent()).toContain('広報 花子');
    expect(await page.getByTestId('version-3').textContent()).toContain('下書き（編集中の版）');
    expect(await page.getByTestId('version-1').textContent()).toContain('公開中');
    await checkA11y(page, 'cms history');

    // Compare the two edits (the form preselects the newest two versions).
    await submitAndWait(page, () => page.getByRole('button', { name: '比較する' }).click());
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('版の比較: 版 2 → 版 3');
    const inserted = await page.locator('[data-testid="diff-body"] ins').allTextContents();
    expect(inserted.join('')).toContain('土曜日の午前も開庁します');
    expect(inserted.join('')).toContain('［追加: ');
    expect(await page.getByTestId('diff-title').textContent()).toContain('変更なし');
    await checkA11y(page, 'cms diff');
    await visit(page, `/admin/cms/nodes/${id}/diff?from=1&to=3`);
    expect(await page.locator('[data-testid="diff-title"] ins').textContent()).toContain('（改訂）');

    // Restore version 1: it becomes version 4, a new draft; nothing is rewritten.
    await visit(page, `/admin/cms/nodes/${id}/history`);
    await submitAndWait(page, () => page.getByRole('button', { name: '版 1 を復元' }).click());
    expect(await page.getByRole('status').first().textContent()).toContain('版 1 を新しい下書きとして復元しました');
    expect(await page.locator('tbody tr').count()).toBe(4);
    expect(await page.getByTestId('version-4').textContent()).toContain('版 1 を復元');
    await visit(page, `/admin/cms/nodes/${id}`);
    expect(await page.locator('#f-title').inputValue()).toBe('住民票の写しの請求');

    // Withdraw the page for a while, then share a preview link.
    await submitAndWait(page, () => page.getByRole('button', { name: '一時的に非公開にする' }).click());
    await page.getByLabel('有効期間').selectOption({ label: '1日' });
    await submitAndWait(page, () => page.getByRole('button', { name: 'プレビュー用URLを作る' }).click());
    const url = await page.getByTestId('preview-url').inputValue();
    expect(url).toMatch(/\/preview\/[A-Za-z0-9_-]{43}$/);

    const visitor = await newPage(browser(), tp.baseUrl);
    expect(await visit(visitor, new URL(url).pathname)).toBe(200);
    expect(await visitor.getByRole('heading', { level: 1 }).textContent()).toBe('住民票の写しの請求');
    expect(await visitor.getByRole('note').first().textContent()).toContain('これはプレビューです');
    expect(await visitor.locator('meta[name="robots"]').getAttribute('content')).toBe('noindex, nofollow');
    await checkA11y(visitor, 'cms preview');
    expect(await visit(visitor, '/kurashi/juminhyo')).toBe(404);
    await visitor.context().close();

    // Revoking the link ends it at once.
    await visit(page, `/admin/cms/nodes/${id}`);
    await submitAndWait(page, () => page.getByTestId('preview-panel').getByRole('button', { name: /無効にする/ }).click());
    const after = await newPage(browser(), tp.baseUrl);
    expect(await visit(after, new URL(url).pathname)).toBe(404);
    await after.context().close();
    await page.context().close();
  });

  it('moves a folder to the trash and back, and the trash and log screens pass axe', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, admin.loginId, admin.password);
    const cms = cmsOf(tp.platform);
    const site = (await cms.sites.all())[0]!;
    const folder = (await cms.pages.findPublic(site.id, '/kankou/'))!.node;

    await visit(page, `/admin/cms/nodes/${folder.id}/trash`);
    expect(await page.locator('main').textContent()).toContain('その下の');
    await submitAndWait(page, () => page.getByRole('button', { name: 'ごみ箱に移す' }).click());
    expect(await page.getByRole('status').first().textContent()).toContain('ごみ箱に移しました');
    const visitor = await newPage(browser(), tp.baseUrl);
    expect(await visit(visitor, '/kankou/sakura-matsuri')).toBe(404);

    await submitAndWait(page, () => page.getByRole('link', { name: /ごみ箱\s*（あおば市）/ }).click());
    expect(await page.getByTestId(`trash-${folder.id}`).textContent()).toContain('/kankou/');
    await checkA11y(page, 'cms trash');
    await submitAndWait(page, () => page.getByRole('button', { name: /元に戻す\s*:\s*観光・イベント/ }).click());
    expect(await page.getByTestId('trash-notice').textContent()).toContain('/kankou/ に非公開の状態で戻しました');
    expect(await visit(visitor, '/kankou/sakura-matsuri')).toBe(404);
    await visitor.context().close();

    await visit(page, '/admin/cms');
    await submitAndWait(page, () => page.getByRole('main').getByRole('link', { name: '操作ログ' }).click());
    expect(page.url()).toContain('/admin/cms/log');
    expect(await page.getByTestId('cms-log').textContent()).toContain('削除（ごみ箱へ）');
    await checkA11y(page, 'cms log');
    await page.getByLabel('操作', { exact: true }).selectOption('cms.trash_restore');
    await submitAndWait(page, () => page.getByRole('button', { name: '絞り込む' }).click());
    expect(await page.locator('[data-testid="cms-log"] tbody tr').count()).toBe(1);
    await page.context().close();
  });

  it('a second editor finds the page read-only with who edits it since when, until the first ends editing', async () => {
    const cms = cmsOf(tp.platform);
    const site = (await cms.sites.all())[0]!;
    const gomi = (await cms.pages.findPublic(site.id, '/kurashi/gomi'))!.node;
    const colleague = await createStaff(tp.platform, { roles: ['system_admin'], displayName: '防災 次郎' });
    const first = await newPage(browser(), tp.baseUrl);
    await loginAs(first, admin.loginId, admin.password);
    await visit(first, `/admin/cms/nodes/${gomi.id}`);
    await first.locator('.ProseMirror').waitFor();
    const second = await newPage(browser(), tp.baseUrl);
    await loginAs(second, colleague.loginId, colleague.password);
    await visit(second, `/admin/cms/nodes/${gomi.id}`);
    expect(await second.getByTestId('lock-notice').textContent()).toMatch(/広報 花子さんが編集中です（\d{2}:\d{2} から）/);
    expect(await second.locator('#f-title').count()).toBe(0);
    expect(await second.getByTestId('readonly-content').textContent()).toContain('地区別の収集日');
    await checkA11y(second, 'cms editor locked by another');
    await visit(second, '/admin/cms');
    expect(await second.getByRole('row', { name: /ごみの出し方と収集日/ }).textContent()).toContain('編集中（広報 花子）');
    await submitAndWait(first, () => first.getByRole('button', { name: '編集を終了' }).click());
    await visit(second, `/admin/cms/nodes/${gomi.id}`);
    await second.locator('.ProseMirror').waitFor();
    expect(await second.locator('#f-title').inputValue()).toBe('ごみの出し方と収集日');
    await first.context().close();
    await second.context().close();
  });
});
