import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import type { Page } from 'playwright-core';
import { cmsOf } from '../../src/modules/cms/index.js';
import { seedDemoSite } from '../../src/modules/cms/demo.js';
import { formsOf } from '../../src/modules/forms/index.js';
import { parseCsv } from '../../src/core/csv/index.js';
import { createStaff, startTestPlatform, systemActor, type TestPlatform } from '../helpers/platform.js';
import { checkA11y, describeE2E, focused, loginAs, newPage, submitAndWait, useBrowser, visit } from './helpers.js';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');

describeE2E('forms: build, publish on a page, answer, export, close', (engine) => {
  const browser = useBrowser();
  let tp: TestPlatform;
  let admin: { loginId: string; password: string };
  let formId = 0;
  let pagePath = '';
  const slug = 'kouza';
  const closesIn = 48 * 3600_000;

  beforeAll(async () => {
    tp = await startTestPlatform(engine, { smtp: true, env: { RATE_LIMIT_PUBLIC_POST_PER_MINUTE: '1000', RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } });
    await tp.platform.modules.find((m) => m.name === 'core')!.seedDemo!(tp.platform);
    await seedDemoSite(tp.platform, cmsOf(tp.platform), systemActor(tp.platform));
    await formsOf(tp.platform).postal.seedDemo({ actor: systemActor(tp.platform) });
    admin = await createStaff(tp.platform, { roles: ['system_admin'] });
  });
  afterAll(async () => {
    await tp?.close();
  });

  /** Adds a question through the builder: choose the type, fill the editor, save. */
  async function addQuestion(page: Page, type: string, fill: (page: Page) => Promise<void>, a11y = false) {
    await page.getByLabel('質問の種類').selectOption(type);
    expect(await submitAndWait(page, () => page.getByRole('button', { name: 'この種類の質問を追加する' }).click())).toBe(200);
    if (a11y) await checkA11y(page, `question editor (${type})`);
    await fill(page);
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '保存する' }).click())).toBe(200);
    expect(page.url()).toMatch(/\/admin\/forms\/\d+\?question=1/);
  }

  it('an administrator builds a form with every question type, reorders by keyboard, sets the window and mails, and publishes it', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, admin.loginId, admin.password);
    expect(await visit(page, '/admin/forms')).toBe(200);
    await checkA11y(page, 'forms list');
    await submitAndWait(page, () => page.getByRole('link', { name: '新しいフォームを作る' }).click());
    await page.getByLabel('フォームの名前', { exact: false }).fill('市民講座の申込み');
    await page.getByLabel('URLの名前', { exact: false }).fill(slug);
    await page.getByLabel('説明文（フォームの最初に表示）').fill('春の市民講座の申込みです。');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '作成する' }).click())).toBe(200);
    formId = Number(/\/admin\/forms\/(\d+)/.exec(page.url())![1]);
    await checkA11y(page, 'form builder (empty)');

    await addQuestion(page, 'heading', async (pg) => {
      await pg.getByLabel('見出し', { exact: false }).fill('申込者の情報');
    }, true);
    await addQuestion(page, 'text', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('お名前');
      await pg.getByLabel('回答を必須にする').check();
      await pg.getByLabel('自動入力の種類').selectOption('name');
    }, true);
    await addQuestion(page, 'email', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('メールアドレス');
      await pg.getByLabel('回答を必須にする').check();
    });
    await addQuestion(page, 'tel', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('電話番号');
    });
    await addQuestion(page, 'postal', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('住所');
      await pg.getByLabel('回答を必須にする').check();
    });
    await addQuestion(page, 'date', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('生年月日');
    });
    await addQuestion(page, 'number', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('参加人数');
      await pg.getByLabel('最小値').fill('1');
      await pg.getByLabel('最大値').fill('5');
      await pg.getByLabel('整数だけを受け付ける').check();
    });
    await addQuestion(page, 'radio', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('希望の講座');
      await pg.getByLabel('回答を必須にする').check();
      await pg.getByLabel('選択肢（1行に1つ）', { exact: false }).fill('料理\n書道\nその他');
    }, true);
    await addQuestion(page, 'textarea', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('その他の希望');
      await pg.getByLabel('条件にする質問').selectOption({ label: '希望の講座' });
      await pg.getByLabel('条件の値').fill('その他');
    });
    await addQuestion(page, 'checkbox', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('知ったきっかけ');
      await pg.getByLabel('選択肢（1行に1つ）', { exact: false }).fill('広報紙\nホームページ\n友人');
    });
    await addQuestion(page, 'select', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('会場');
      await pg.getByLabel('選択肢（1行に1つ）', { exact: false }).fill('中央公民館\n北公民館');
    });
    await addQuestion(page, 'file', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('資料');
      await pg.getByLabel('PDF').check();
    }, true);
    await addQuestion(page, 'consent', async (pg) => {
      await pg.getByLabel('質問文', { exact: false }).fill('個人情報の取扱い');
      await pg.getByLabel('説明文（任意）').fill('講座の連絡にだけ使います。');
    });
    await checkA11y(page, 'form builder with every question type');

    // Keyboard reordering: the button is a plain form button; after the move, focus comes back to it.
    const down = page.getByRole('button', { name: /^下へ\s*:\s*電話番号$/ });
    await down.focus();
    expect(await submitAndWait(page, () => page.keyboard.press('Enter'))).toBe(200);
    expect((await focused(page)).text).toBe('下へ: 電話番号');
    const labels = (await formsOf(tp.platform).forms.questions(formId)).map((q) => q.label);
    expect(labels.slice(0, 5)).toEqual(['申込者の情報', 'お名前', 'メールアドレス', '住所', '電話番号']);

    await submitAndWait(page, () => page.getByRole('link', { name: '設定を変更する' }).click());
    await checkA11y(page, 'form settings');
    const closes = new Date(Date.now() + closesIn + 9 * 3600_000).toISOString().slice(0, 16);
    await page.getByLabel('受付終了日時').fill(closes);
    await page.getByLabel('最短の入力時間（秒）').fill('0');
    await page.getByLabel('完了画面の文章').fill('後日、受講票をお送りします。');
    await page.getByLabel('回答した人に自動返信メールを送る').check();
    await page.getByLabel('回答を知らせる職員のメールアドレス').fill('kouza@city.example.jp');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '保存する' }).click())).toBe(200);
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '公開する（受付開始）' }).click())).toBe(200);
    expect(await page.getByTestId('form-state').textContent()).toBe('受付中');
    await page.context().close();
  }, 180_000);

  it('an editor puts the form on a CMS page; a resident fills it there, confirms, sends, and receives the automatic reply', async () => {
    const p = tp.platform;
    const cms = cmsOf(p);
    const site = (await cms.sites.all())[0]!;
    const parent = (await cms.pages.findPublic(site.id, '/kurashi/'))!;
    const nodeId = await cms.pages.create(systemActor(p), { siteId: site.id, parentId: parent.node.id, kind: 'page', slug: 'kouza', title: '市民講座', body: '<p>春の市民講座を開きます。</p>' }, { ip: '127.0.0.1', userAgent: 'e2e' });
    const editor = await newPage(browser(), tp.baseUrl);
    await loginAs(editor, admin.loginId, admin.password);
    expect(await visit(editor, `/admin/cms/nodes/${nodeId}`)).toBe(200);
    await editor.locator('.ProseMirror').waitFor();
    await editor.getByLabel('埋め込むフォーム').selectOption({ label: '市民講座の申込み（受付中）' });
    expect(await submitAndWait(editor, () => editor.getByRole('button', { name: '保存して公開する' }).click())).toBe(200);
    await editor.context().close();
    pagePath = '/kurashi/kouza';

    const page = await newPage(browser(), tp.baseUrl);
    expect(await visit(page, pagePath)).toBe(200);
    await page.getByRole('button', { name: '確認画面へ進む' }).waitFor();
    await checkA11y(page, 'CMS page with the embedded form');
    await page.getByLabel('お名前', { exact: false }).fill('山田 花子');
    await page.getByLabel('メールアドレス', { exact: false }).fill('hanako@example.jp');
    await page.getByLabel('電話番号').fill('０９０－１２３４－５６７８');
    await page.getByLabel('郵便番号').fill('0000002');
    const address = page.getByLabel('住所', { exact: true });
    await expect.poll(() => address.inputValue()).toBe('みどり県あおば市桜ケ丘');
    await address.fill('みどり県あおば市桜ケ丘2-3-4');
    await page.getByLabel('生年月日').fill('1985-11-03');
    await expect.poll(() => page.locator('output.forms-wareki').first().textContent()).toBe('和暦: 昭和60年11月3日');
    await page.getByLabel('参加人数').fill('2');
    // The conditional question appears only once "その他" is chosen.
    await expect(page.getByLabel('その他の希望').isVisible()).resolves.toBe(false);
    await page.getByRole('radio', { name: 'その他' }).check();
    await page.getByLabel('その他の希望').fill('陶芸の講座があれば参加したいです。');
    await page.getByRole('checkbox', { name: '広報紙' }).check();
    await page.getByRole('checkbox', { name: 'ホームページ' }).check();
    await page.getByLabel('会場').selectOption('北公民館');
    await page.getByLabel('資料').setInputFiles({ name: '資料.pdf', mimeType: 'application/pdf', buffer: PDF });
    await page.getByRole('checkbox', { name: '同意する' }).check();
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '確認画面へ進む' }).click())).toBe(200);
    expect(new URL(page.url()).pathname).toBe(`/forms/${slug}/confirm`);
    await page.getByText('1985年11月3日（昭和60年11月3日）').waitFor();
    await page.getByText('〒000-0002 みどり県あおば市桜ケ丘2-3-4').waitFor();
    await page.getByText('090-1234-5678').waitFor();
    await checkA11y(page, 'confirmation screen');
    // Back to the form and forward again keeps every answer, the file too.
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '入力画面に戻る' }).click())).toBe(200);
    expect(await page.getByLabel('その他の希望').inputValue()).toBe('陶芸の講座があれば参加したいです。');
    await page.getByText('添付済み: 資料.pdf').waitFor();
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '確認画面へ進む' }).click())).toBe(200);
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '送信する' }).click())).toBe(200);
    expect(new URL(page.url()).pathname).toBe(`/forms/${slug}/done`);
    const receipt = (await page.getByTestId('receipt-number').textContent())!;
    expect(receipt).toMatch(/^\d{4}-\d{6}-[A-Z]$/);
    await page.getByText('後日、受講票をお送りします。').waitFor();
    await checkA11y(page, 'completion screen');
    // A reload of the completion page is only a page view.
    await page.reload();
    expect(Number((await p.db.selectFrom('form_responses').select((eb) => eb.fn.countAll<number>().as('n')).where('form_id', '=', formId).executeTakeFirstOrThrow()).n)).toBe(1);
    await page.context().close();

    await p.jobs.drain();
    const reply = await tp.smtp!.waitFor((m) => m.to.includes('hanako@example.jp'));
    expect(reply.subject).toBe(`【市民講座の申込み】受付完了のお知らせ（受付番号 ${receipt}）`);
    expect(reply.text).toContain(`受付番号: ${receipt}`);
    expect(reply.text).toContain('陶芸の講座があれば参加したいです。');
    await tp.smtp!.waitFor((m) => m.to.includes('kouza@city.example.jp'));
  }, 120_000);

  it('without JavaScript the page links to the form, which works on its own: errors, address completion, confirmation, completion', async () => {
    const page = await newPage(browser(), tp.baseUrl, { javaScriptEnabled: false });
    expect(await visit(page, pagePath)).toBe(200);
    expect(await page.getByRole('button', { name: '確認画面へ進む' }).isVisible()).toBe(false);
    expect(await submitAndWait(page, () => page.getByRole('link', { name: '「市民講座の申込み」の入力ページを開く' }).click())).toBe(200);
    expect(new URL(page.url()).pathname).toBe(`/forms/${slug}`);
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '確認画面へ進む' }).click())).toBe(422);
    await page.getByRole('alert').getByRole('link', { name: 'お名前: お名前を入力してください。' }).waitFor();
    await page.getByLabel('お名前', { exact: false }).fill('佐藤 一郎');
    await page.getByLabel('メールアドレス', { exact: false }).fill('ichiro@example.jp');
    await page.getByLabel('郵便番号').fill('〒000-0003');
    await page.getByRole('radio', { name: '書道' }).check();
    await page.getByRole('checkbox', { name: '同意する' }).check();
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '確認画面へ進む' }).click())).toBe(200);
    expect(await page.getByLabel('住所', { exact: true }).inputValue()).toBe('みどり県あおば市港町');
    await page.getByLabel('住所', { exact: true }).fill('みどり県あおば市港町5-6');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '確認画面へ進む' }).click())).toBe(200);
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '送信する' }).click())).toBe(200);
    expect(await page.getByTestId('receipt-number').textContent()).toMatch(/^\d{4}-\d{6}-[A-Z]$/);
    await page.context().close();

    // The same standalone pages pass axe (axe itself needs JavaScript in the page).
    const checked = await newPage(browser(), tp.baseUrl);
    expect(await visit(checked, `/forms/${slug}`)).toBe(200);
    await checkA11y(checked, 'standalone form');
    expect(await submitAndWait(checked, () => checked.getByRole('button', { name: '確認画面へ進む' }).click())).toBe(422);
    await checkA11y(checked, 'standalone form with errors');
    await checked.context().close();
  }, 120_000);

  it('staff read the responses and export them as CSV (UTF-8 and Shift_JIS) and XLSX that open as written', async () => {
    const page = await newPage(browser(), tp.baseUrl, { acceptDownloads: true });
    await loginAs(page, admin.loginId, admin.password);
    expect(await visit(page, `/admin/forms/${formId}/responses`)).toBe(200);
    await checkA11y(page, 'responses list');
    const download = async (name: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name }).click()]);
      return readFileSync((await d.path())!);
    };
    const utf8 = parseCsv(await download('CSVで出力（UTF-8）'));
    const sjis = parseCsv(iconv.decode(await download('CSVで出力（Shift_JIS）'), 'cp932'));
    expect(sjis).toEqual(utf8);
    const header = utf8[0]!;
    expect(header.slice(0, 4)).toEqual(['受付番号', '受付日時', '状態', 'お名前']);
    const hanako = utf8.find((r) => r[header.indexOf('お名前')] === '山田 花子')!;
    expect(hanako[header.indexOf('知ったきっかけ')]).toBe('広報紙、ホームページ');
    expect(hanako[header.indexOf('資料')]).toMatch(/^資料\.pdf（/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await download('Excel形式（XLSX）で出力')) as unknown as ArrayBuffer);
    const sheet = wb.worksheets[0]!;
    expect(sheet.rowCount).toBe(utf8.length);
    expect(utf8).toHaveLength(3);
    expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual(header);

    await page.getByRole('link', { name: hanako[0]! }).click();
    await page.waitForURL(/\/responses\/\d+$/);
    await checkA11y(page, 'response detail');
    await page.getByLabel('状態').selectOption('in_progress');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '状態を保存する' }).click())).toBe(200);
    expect(await page.getByTestId('detail-status').textContent()).toBe('対応中');
    await page.context().close();
  }, 120_000);

  it('the form closes on its date (the job run with a fixed clock): the page says so and a pending confirmation is refused', async () => {
    const p = tp.platform;
    const resident = await newPage(browser(), tp.baseUrl);
    expect(await visit(resident, `/forms/${slug}`)).toBe(200);
    await resident.getByLabel('お名前', { exact: false }).fill('遅れて 申込');
    await resident.getByLabel('メールアドレス', { exact: false }).fill('late@example.jp');
    await resident.getByLabel('郵便番号').fill('0000001');
    await resident.getByLabel('住所', { exact: true }).fill('みどり県あおば市中央1-1');
    await resident.getByRole('radio', { name: '料理' }).check();
    await resident.getByRole('checkbox', { name: '同意する' }).check();
    expect(await submitAndWait(resident, () => resident.getByRole('button', { name: '確認画面へ進む' }).click())).toBe(200);

    const after = new Date(Date.now() + closesIn + 5 * 60_000);
    await p.jobs.scheduleDue(after);
    await p.jobs.drain(after);
    expect((await formsOf(p).forms.get(formId))!.state).toBe('closed');

    expect(await submitAndWait(resident, () => resident.getByRole('button', { name: '送信する' }).click())).toBe(410);
    await resident.getByTestId('form-closed').waitFor();
    await checkA11y(resident, 'closed form (refused post)');
    expect(await visit(resident, `/forms/${slug}`)).toBe(200);
    await resident.getByText('このフォームの受付は終了しました').waitFor();
    expect(await resident.getByRole('button', { name: '確認画面へ進む' }).count()).toBe(0);
    await checkA11y(resident, 'closed form page');
    // The CMS page was re-rendered when the form closed (its cache cleared).
    expect(await visit(resident, pagePath)).toBe(200);
    await resident.getByTestId('form-closed').waitFor();
    expect(await resident.getByRole('button', { name: '確認画面へ進む' }).count()).toBe(0);
    await resident.context().close();
  }, 120_000);
});
