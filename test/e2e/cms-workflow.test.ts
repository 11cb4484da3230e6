import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { workflowFixture } from '../../src/modules/cms/workflow/test-fixture.js';
import { checkA11y, describeE2E, loginAs, newPage, submitAndWait, useBrowser, visit } from './helpers.js';

/** TipTap gives focus back on the next animation frame; typing before it would land in the wrong place. */
const settle = (page: Page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

describeE2E('CMS approval workflow in the browser', (engine) => {
  const browser = useBrowser();
  let tp: TestPlatform;
  let f: Awaited<ReturnType<typeof workflowFixture>>;

  beforeAll(async () => {
    tp = await startTestPlatform(engine, { smtp: true, env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } });
    f = await workflowFixture(tp.platform);
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('a site administrator sets up the approval route on the routes screen (axe, with and without errors)', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, f.admin1.loginId, f.admin1.password);
    expect(await visit(page, '/admin/cms/workflow/routes')).toBe(200);
    await checkA11y(page, 'approval routes');
    await submitAndWait(page, () => page.getByRole('link', { name: /承認ルートを追加\W*承認テスト市1/ }).click());
    await checkA11y(page, 'approval route form');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '保存する' }).click())).toBe(422);
    await checkA11y(page, 'approval route form with errors');
    await page.getByLabel('ルート名').fill('承認テスト市の標準ルート');
    await page.getByRole('group', { name: '第1段の承認者' }).getByLabel(f.ap1.actor.displayName, { exact: false }).check();
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '保存する' }).click())).toBe(200);
    await expect(page.getByRole('link', { name: '承認テスト市の標準ルート' }).count()).resolves.toBe(1);
    await page.context().close();
  }, 90_000);

  it('an editor writes a page and asks for approval; the approver approves from the inbox and the page is public at once', async () => {
    const editor = await newPage(browser(), tp.baseUrl);
    await loginAs(editor, f.editor.loginId, f.editor.password);
    expect(await visit(editor, `/admin/cms/nodes/new?parent=${f.kouhou}`)).toBe(200);
    await editor.getByLabel('URLの名前').fill('suido');
    await editor.getByLabel('タイトル', { exact: false }).first().fill('水道料金の改定');
    await editor.locator('.rich-editor[data-editor-state="ready"]').waitFor();
    await editor.locator('.rich-editor__content').click();
    await settle(editor);
    await editor.keyboard.type('4月から水道料金が変わります。');
    expect(await submitAndWait(editor, () => editor.getByRole('button', { name: '下書き保存' }).click())).toBe(200);
    const panel = editor.getByTestId('workflow-panel');
    await expect(panel.getByTestId('workflow-route').textContent()).resolves.toContain(f.ap1.actor.displayName);
    await checkA11y(editor, 'editor with the workflow panel');
    await panel.getByLabel('承認者へのコメント（任意）').fill('4月1日の公開でお願いします');
    expect(await submitAndWait(editor, () => panel.getByRole('button', { name: '承認を依頼する' }).click())).toBe(200);
    await expect(editor.getByText('承認を依頼しました。').count()).resolves.toBe(1);
    await checkA11y(editor, 'request page for the requester');

    const mail = await tp.platform.jobs.drain().then(() => tp.smtp!.waitFor((m) => m.to.includes(f.ap1.email) && m.subject === '【承認依頼】水道料金の改定'));
    const link = /http:\/\/127\.0\.0\.1:\d+(\/admin\/cms\/workflow\/requests\/\d+)/.exec(mail.text)![1]!;

    const approver = await newPage(browser(), tp.baseUrl);
    await loginAs(approver, f.ap1.loginId, f.ap1.password);
    await submitAndWait(approver, () => approver.getByRole('navigation', { name: '管理メニュー' }).getByRole('link', { name: '承認待ち' }).click());
    await checkA11y(approver, 'inbox');
    await submitAndWait(approver, () => approver.getByTestId('workflow-inbox').getByRole('link', { name: '水道料金の改定' }).click());
    expect(new URL(approver.url()).pathname).toBe(link);
    await expect(approver.getByText('4月1日の公開でお願いします').count()).resolves.toBe(1);
    await checkA11y(approver, 'request page for the approver');
    await submitAndWait(approver, () => approver.getByRole('link', { name: /内容を表示/ }).click());
    await expect(approver.getByText('4月から水道料金が変わります。').count()).resolves.toBe(1);
    await checkA11y(approver, 'preview of the requested version');
    await approver.goBack();
    expect(await submitAndWait(approver, () => approver.getByRole('button', { name: '承認', exact: true }).click())).toBe(200);
    await expect(approver.getByText('承認し、ページを公開しました。').count()).resolves.toBe(1);

    const visitor = await newPage(browser(), tp.baseUrl);
    expect(await visit(visitor, `${f.prefix}/kouhou/suido`)).toBe(200);
    await expect(visitor.getByText('4月から水道料金が変わります。').count()).resolves.toBe(1);
    for (const p of [editor, approver, visitor]) await p.context().close();
  }, 120_000);

  it('the send-back path: the approver gives a reason, the requester sees it on the page\'s panel', async () => {
    const id = await f.page(f.rootId, 'gakkou', { title: '学校給食の献立', body: '<p>5月の献立です。</p>' });
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, { ip: '127.0.0.1', userAgent: 'e2e' });
    const approver = await newPage(browser(), tp.baseUrl);
    await loginAs(approver, f.ap1.loginId, f.ap1.password);
    expect(await visit(approver, `/admin/cms/workflow/requests/${rid}`)).toBe(200);
    expect(await submitAndWait(approver, () => approver.getByRole('button', { name: '差し戻し' }).click())).toBe(422);
    await checkA11y(approver, 'send-back without a reason');
    await approver.getByLabel('差し戻す理由', { exact: false }).fill('アレルギー表示を追加してください');
    expect(await submitAndWait(approver, () => approver.getByRole('button', { name: '差し戻し' }).click())).toBe(200);
    await expect(approver.getByText('差し戻しました。').count()).resolves.toBe(1);

    const editor = await newPage(browser(), tp.baseUrl);
    await loginAs(editor, f.editor.loginId, f.editor.password);
    expect(await visit(editor, `/admin/cms/nodes/${id}`)).toBe(200);
    const panel = editor.getByTestId('workflow-panel');
    await expect(panel.getByTestId('workflow-status').first().textContent()).resolves.toBe('差し戻し');
    await expect(panel.getByText('差し戻しの理由: アレルギー表示を追加してください').count()).resolves.toBe(1);
    expect(await visit(editor, `${f.prefix}/gakkou`)).toBe(404);
    for (const p of [editor, approver]) await p.context().close();
  }, 90_000);
});
