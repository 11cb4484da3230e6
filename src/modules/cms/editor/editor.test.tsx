/**
 * The rich-text editor in a real Chromium, under the platform's real HTTP stack and CSP: a demo
 * module serves a form with RichTextField + EditorScripts and echoes what was posted.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineModule } from '../../../core/module.js';
import { PublicLayout } from '../../../core/ui/layout.js';
import { viewOf } from '../../../core/ui/view.js';
import { Csrf } from '../../../core/ui/forms.js';
import { platformModules } from '../../index.js';
import { startTestPlatform, type TestPlatform } from '../../../../test/helpers/platform.js';
import { checkA11y, describeE2E, focused, loginAs, newPage, submitAndWait, useBrowser } from '../../../../test/e2e/helpers.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import { cmsOf } from '../index.js';
import { mediaOf } from '../media/index.js';
import * as testFiles from '../media/test-files.js';
import { buildEditorBundle, EditorScripts, RichTextField } from './bundle.js';

const demoEditorModule = defineModule({
  name: 'editor-test',
  routes(app) {
    app.get('/editor-test', (c) => {
      const v = viewOf(c);
      const initial = c.req.query('initial') ?? '';
      return c.html(
        <PublicLayout v={v} title="エディターの試験" siteName="あおば市" head={<EditorScripts v={v} />}>
          <h1>エディターの試験</h1>
          <form method="post" action="/editor-test">
            <Csrf v={v} />
            <RichTextField v={v} name="body" label="本文" value={initial} hint="見出しや箇条書きを使って、読みやすく書きます。" />
            <button type="submit">送信する</button>
          </form>
        </PublicLayout>,
      );
    });
    // The same field offering a site's media library (the page editor gets this from the media feature).
    app.get('/editor-test-library', (c) => {
      const v = viewOf(c);
      const site = Number(c.req.query('site'));
      return c.html(
        <PublicLayout v={v} title="ライブラリ付きエディターの試験" siteName="あおば市" head={<EditorScripts v={v} />}>
          <h1>ライブラリ付きエディターの試験</h1>
          <form method="post" action="/editor-test">
            <Csrf v={v} />
            <RichTextField v={v} name="body" label="本文" value="<p>本文</p>" media={{ listUrl: `/admin/cms/media/library.json?site=${site}`, uploadUrl: '/admin/cms/media/upload', siteId: site }} />
            <button type="submit">送信する</button>
          </form>
        </PublicLayout>,
      );
    });
    app.post('/editor-test', async (c) => {
      const v = viewOf(c);
      const form = await c.req.parseBody();
      return c.html(
        <PublicLayout v={v} title="送信結果" siteName="あおば市">
          <h1>送信結果</h1>
          <pre id="posted">{typeof form.body === 'string' ? form.body : ''}</pre>
        </PublicLayout>,
      );
    });
  },
});

/** A fragment as Word (Japanese, 2016+) puts it on the clipboard. */
const WORD_HTML = `<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head><meta http-equiv=Content-Type content="text/html; charset=utf-8"><meta name=ProgId content=Word.Document><meta name=Generator content="Microsoft Word 15"><meta name=Originator content="Microsoft Word 15">
<link rel=File-List href="file:///C:/Users/aoba/AppData/Local/Temp/msohtmlclip1/01/clip_filelist.xml">
<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/></o:OfficeDocumentSettings></xml><![endif]-->
<style><!--
 /* Font Definitions */
 @font-face {font-family:"ＭＳ 明朝"; panose-1:2 2 6 9 4 2 5 8 3 4;}
 p.MsoNormal, li.MsoNormal, div.MsoNormal {mso-style-unhide:no; margin:0mm; text-align:justify; font-size:10.5pt; font-family:"ＭＳ 明朝",serif;}
 p.MsoListParagraph {mso-style-priority:34; margin-left:42.0pt;}
@list l0:level1 {mso-level-number-format:bullet; mso-level-text:; mso-level-tab-stop:none;}
--></style>
</head>
<body lang=JA style='tab-interval:42.0pt;word-wrap:break-word;text-justify-trim:punctuation'>
<!--StartFragment-->
<h1><span style='font-family:"ＭＳ ゴシック";mso-ascii-font-family:"Yu Gothic"'>ごみの出し方について<o:p></o:p></span></h1>
<p class=MsoNormal><span style='font-family:"ＭＳ 明朝";mso-bidi-font-family:Arial'>燃えるごみは<b style='mso-bidi-font-weight:normal'>週2回</b>、朝8時までに出してください。<span style='mso-spacerun:yes'>&nbsp;</span><o:p></o:p></span></p>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
<h2><span lang=EN-US style='mso-fareast-font-family:"ＭＳ ゴシック"'>収集日</span><o:p></o:p></h2>
<p class=MsoListParagraphCxSpFirst style='margin-left:21.0pt;mso-para-margin-left:0gd;text-indent:-21.0pt;mso-list:l0 level1 lfo1'><!--[if !supportLists]--><span lang=EN-US style='font-family:Symbol;mso-fareast-font-family:Symbol;mso-bidi-font-family:Symbol'><span style='mso-list:Ignore'>·<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span></span></span><!--[endif]--><span style='font-family:"ＭＳ 明朝"'>燃えるごみ：月曜日・木曜日<o:p></o:p></span></p>
<p class=MsoListParagraphCxSpMiddle style='margin-left:42.0pt;mso-add-space:auto;text-indent:-21.0pt;mso-list:l0 level2 lfo1'><!--[if !supportLists]--><span lang=EN-US style='font-family:"Courier New";mso-fareast-font-family:"Courier New"'><span style='mso-list:Ignore'>o<span style='font:7.0pt "Times New Roman"'>&nbsp; </span></span></span><!--[endif]-->生ごみは水を切ってください<o:p></o:p></p>
<p class=MsoListParagraphCxSpLast style='margin-left:21.0pt;mso-add-space:auto;text-indent:-21.0pt;mso-list:l0 level1 lfo1'><!--[if !supportLists]--><span lang=EN-US style='font-family:Symbol'><span style='mso-list:Ignore'>·<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span></span></span><!--[endif]-->資源ごみ：水曜日<o:p></o:p></p>
<p class=MsoNormal>出し方の手順<o:p></o:p></p>
<p class=MsoListParagraphCxSpFirst style='margin-left:21.0pt;text-indent:-21.0pt;mso-list:l1 level1 lfo2'><!--[if !supportLists]--><span lang=EN-US><span style='mso-list:Ignore'>1.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span></span><!--[endif]-->指定袋に入れる<o:p></o:p></p>
<p class=MsoListParagraphCxSpLast style='margin-left:21.0pt;text-indent:-21.0pt;mso-list:l1 level1 lfo2'><!--[if !supportLists]--><span lang=EN-US><span style='mso-list:Ignore'>2.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span></span><!--[endif]-->集積所に出す<o:p></o:p></p>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 style='border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt;mso-yfti-tbllook:1184;mso-padding-alt:0mm 5.4pt 0mm 5.4pt'>
 <tr style='mso-yfti-irow:0;mso-yfti-firstrow:yes'>
  <td width=283 valign=top style='width:212.35pt;border:solid windowtext 1.0pt;mso-border-alt:solid windowtext .5pt;padding:0mm 5.4pt 0mm 5.4pt'><p class=MsoNormal><b>地区<o:p></o:p></b></p></td>
  <td width=283 valign=top style='width:212.35pt;border:solid windowtext 1.0pt;border-left:none;padding:0mm 5.4pt 0mm 5.4pt'><p class=MsoNormal><b>曜日<o:p></o:p></b></p></td>
 </tr>
 <tr style='mso-yfti-irow:1;mso-yfti-lastrow:yes'>
  <td width=283 valign=top style='width:212.35pt;border:solid windowtext 1.0pt;border-top:none;padding:0mm 5.4pt 0mm 5.4pt'><p class=MsoNormal>北地区<o:p></o:p></p></td>
  <td width=283 valign=top style='width:212.35pt;border-top:none;border-left:none;padding:0mm 5.4pt 0mm 5.4pt'><p class=MsoNormal><font color=red>月・木</font><o:p></o:p></p></td>
 </tr>
</table>
<p class=MsoNormal>詳しくは<a href="https://www.city.example.lg.jp/gomi/"><span style='color:#0563C1'>ごみの分け方（市のサイト）</span></a>をご覧ください。<a name="_Toc1234"></a><!--[if gte vml 1]><v:shape id="図_x0020_1" o:spid="_x0000_i1025" type="#_x0000_t75" style='width:100pt;height:50pt;visibility:visible'><v:imagedata src="file:///C:/Users/aoba/AppData/Local/Temp/msohtmlclip1/01/clip_image001.png" o:title=""/></v:shape><![endif]--><![if !vml]><img width=133 height=67 src="file:///C:/Users/aoba/AppData/Local/Temp/msohtmlclip1/01/clip_image002.png" v:shapes="図_x0020_1"><![endif]><o:p></o:p></p>
<!--EndFragment-->
</body>
</html>`;

const browser = useBrowser();

interface Watch {
  problems: string[];
}

/**
 * Records CSP violations (from the page's securitypolicyviolation event, registered before any
 * page script runs) and console errors that mention the Content Security Policy, and page errors.
 */
async function watch(page: Page): Promise<Watch> {
  const w: Watch = { problems: [] };
  await page.addInitScript(() => {
    const list: string[] = [];
    (window as unknown as { __csp: string[] }).__csp = list;
    document.addEventListener('securitypolicyviolation', (e) => list.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) w.problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => w.problems.push(`pageerror: ${err.message}`));
  return w;
}

async function cspViolations(page: Page, w: Watch): Promise<string[]> {
  const inPage = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
  return [...w.problems, ...inPage.map((s) => `securitypolicyviolation: ${s}`)];
}

const editorArea = (page: Page) => page.locator('.rich-editor__content');
const source = (page: Page) => page.locator('textarea[name="body"]').inputValue();
const tool = (page: Page, name: string) => page.getByRole('toolbar').getByRole('button', { name, exact: true });

/**
 * TipTap gives focus back to the text on the next animation frame; typing before that frame (a
 * loaded CI machine) would put the caret back behind the first character. Wait two frames.
 */
function settle(page: import('playwright-core').Page): Promise<unknown> {
  return page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

describeE2E('rich-text editor', (engine) => {
  let tp: TestPlatform;

  beforeAll(async () => {
    tp = await startTestPlatform(engine, { modules: [...platformModules(), demoEditorModule], env: { RATE_LIMIT_PUBLIC_POST_PER_MINUTE: '1000' } });
  });
  afterAll(async () => {
    await tp?.close();
  });

  /** Opens the demo page and waits until the editor has started. */
  async function open(options: { initial?: string } = {}): Promise<{ page: Page; w: Watch }> {
    const page = await newPage(browser(), tp.baseUrl);
    const w = await watch(page);
    const res = await page.goto(`/editor-test${options.initial ? `?initial=${encodeURIComponent(options.initial)}` : ''}`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("style-src 'self'");
    await page.locator('.rich-editor[data-editor-state="ready"]').waitFor();
    return { page, w };
  }

  /** Tabs from the top of the page until the editing area has focus (keyboard only). */
  async function tabIntoEditor(page: Page): Promise<void> {
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      if (await editorArea(page).evaluate((el) => el === document.activeElement)) return;
    }
    throw new Error('the editing area could not be reached with Tab');
  }

  it('builds a small, cached bundle served at a content-hashed path', async () => {
    const a = await buildEditorBundle();
    const b = await buildEditorBundle();
    expect(b).toBe(a);
    expect(a.jsPath).toMatch(/^\/assets\/editor\.[0-9a-f]{10}\.js$/);
    expect(a.cssPath).toMatch(/^\/assets\/editor\.[0-9a-f]{10}\.css$/);
    const res = await fetch(`${tp.baseUrl}${a.jsPath}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(res.headers.get('cache-control')).toContain('immutable');
  });

  it('loads under the real CSP with no violations, names the editing area and hides the textarea', async () => {
    const { page, w } = await open({ initial: '<p>既存の本文</p>' });
    const box = page.getByRole('textbox', { name: '本文' });
    await expect(box.getAttribute('aria-multiline')).resolves.toBe('true');
    await expect(box.textContent()).resolves.toBe('既存の本文');
    expect(await page.locator('textarea[name="body"]').isVisible()).toBe(false);
    expect(await source(page)).toBe('<p>既存の本文</p>');
    // The hint still describes the editing area.
    const describedBy = (await box.getAttribute('aria-describedby')) ?? '';
    expect(describedBy.split(' ')).toContain('f-body-hint');
    // One tab stop in the toolbar (roving tabindex), every button labelled with visible text.
    const toolbar = page.getByRole('toolbar');
    await expect(toolbar.locator('button[tabindex="0"]').count()).resolves.toBe(1);
    const labels = await toolbar.locator('button').allTextContents();
    expect(labels).toEqual(['見出し2', '見出し3', '見出し4', '太字', '箇条書き', '番号付きリスト', 'リンク', '画像', '表', '動画埋め込み', '元に戻す', 'やり直し']);
    expect(await cspViolations(page, w)).toEqual([]);
    await page.context().close();
  });

  it('keyboard only: heading, bullet list and bold through the toolbar (Tab, arrows, Enter)', async () => {
    const { page, w } = await open();
    await tabIntoEditor(page);
    await page.keyboard.type('お知らせ');
    // Back into the toolbar: the first button holds the single tab stop.
    await page.keyboard.press('Shift+Tab');
    expect((await focused(page)).text).toBe('見出し2');
    await page.keyboard.press('Enter');
    await expect.poll(() => editorArea(page).evaluate((el) => el === document.activeElement)).toBe(true);
    await expect(tool(page, '見出し2').getAttribute('aria-pressed')).resolves.toBe('true');
    expect(await source(page)).toBe('<h2>お知らせ</h2>');

    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('燃えるごみ');
    await expect(tool(page, '見出し2').getAttribute('aria-pressed')).resolves.toBe('false');
    await page.keyboard.press('Shift+Tab');
    expect((await focused(page)).text).toBe('見出し2');
    // Arrow keys move along the toolbar and wrap around.
    await page.keyboard.press('ArrowLeft');
    expect((await focused(page)).text).toBe('やり直し');
    await page.keyboard.press('Home');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
    expect((await focused(page)).text).toBe('箇条書き');
    await page.keyboard.press('Enter');
    await expect(tool(page, '箇条書き').getAttribute('aria-pressed')).resolves.toBe('true');
    await settle(page);
    await page.keyboard.press('Enter');
    await page.keyboard.type('資源ごみ');

    // Inside a list Shift+Tab outdents, so Alt+F10 is the way to the toolbar (it remembers 箇条書き).
    await page.keyboard.press('Alt+F10');
    expect((await focused(page)).text).toBe('箇条書き');
    await page.keyboard.press('ArrowLeft');
    expect((await focused(page)).text).toBe('太字');
    await page.keyboard.press('Enter');
    await expect(tool(page, '太字').getAttribute('aria-pressed')).resolves.toBe('true');
    await settle(page);
    await page.keyboard.type('（水曜日）');
    expect(await source(page)).toBe('<h2>お知らせ</h2><ul><li><p>燃えるごみ</p></li><li><p>資源ごみ<strong>（水曜日）</strong></p></li></ul>');
    // Esc in the toolbar returns to the text.
    await page.keyboard.press('Alt+F10');
    await page.keyboard.press('Escape');
    await expect.poll(() => editorArea(page).evaluate((el) => el === document.activeElement)).toBe(true);

    // 元に戻す is available by keyboard too.
    await page.keyboard.press('Alt+F10');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    expect((await focused(page)).text).toBe('元に戻す');
    await page.keyboard.press('Enter');
    expect(await source(page)).not.toContain('（水曜日）');
    expect(await cspViolations(page, w)).toEqual([]);
    await page.context().close();
  });

  it('an image cannot be inserted until it has alternative text or is marked decorative', async () => {
    const { page, w } = await open();
    await tabIntoEditor(page);
    await page.keyboard.press('Alt+F10');
    await page.keyboard.press('Home');
    for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowRight');
    expect((await focused(page)).text).toBe('画像');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: '画像の挿入' });
    await dialog.waitFor();
    expect((await focused(page)).id).toBe(await dialog.getByLabel('画像のURLまたはメディア番号').getAttribute('id'));
    const insert = dialog.getByRole('button', { name: '挿入する' });
    await page.keyboard.type('12');
    expect(await insert.isDisabled()).toBe(true);
    // Enter in a field does not get round the rule either.
    await page.keyboard.press('Enter');
    expect(await dialog.isVisible()).toBe(true);
    expect(await source(page)).not.toContain('<img');

    await dialog.getByRole('checkbox', { name: '装飾のための画像（代替テキスト不要）' }).check();
    expect(await insert.isEnabled()).toBe(true);
    await dialog.getByRole('checkbox', { name: '装飾のための画像（代替テキスト不要）' }).uncheck();
    expect(await insert.isDisabled()).toBe(true);
    await dialog.getByLabel('代替テキスト', { exact: true }).fill('市役所本庁舎の外観');
    expect(await insert.isEnabled()).toBe(true);
    await dialog.getByLabel('代替テキスト', { exact: true }).press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    expect(await source(page)).toContain('<img src="/media/12" alt="市役所本庁舎の外観">');
    await expect.poll(() => editorArea(page).evaluate((el) => el === document.activeElement)).toBe(true);

    // Decorative: alt="" on purpose.
    await page.keyboard.press('Alt+F10');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByLabel('画像のURLまたはメディア番号').fill('/media/13');
    await dialog.getByRole('checkbox', { name: '装飾のための画像（代替テキスト不要）' }).check();
    await insert.click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await source(page)).toContain('<img src="/media/13" alt="" data-decorative="true">');
    expect(await cspViolations(page, w)).toEqual([]);
    await page.context().close();
  });

  it('a dialog closes with Esc and gives focus back to its button; a vague link text is warned about', async () => {
    const { page, w } = await open({ initial: '<p>ごみの出し方</p>' });
    await tabIntoEditor(page);
    await page.keyboard.press('Alt+F10');
    await page.keyboard.press('Home');
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'リンクの挿入' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await focused(page)).text).toBe('リンク');

    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByLabel('リンク先のURL').fill('https://www.city.example.lg.jp/gomi/');
    await dialog.getByLabel('リンクの文字').fill('こちら');
    await expect(dialog.getByText('どこへ移動するリンクか分かりません').isVisible()).resolves.toBe(true);
    await checkA11y(page, 'link dialog with a warning');
    await dialog.getByLabel('リンクの文字').fill('ごみの分け方');
    expect(await dialog.getByText('どこへ移動するリンクか分かりません').isVisible()).toBe(false);
    await dialog.getByRole('button', { name: '挿入する' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await source(page)).toContain('<a href="https://www.city.example.lg.jp/gomi/">ごみの分け方</a>');
    expect(await cspViolations(page, w)).toEqual([]);
    await page.context().close();
  });

  it('the table button inserts 3×3 with a header row of th scope="col" and no style attributes', async () => {
    const { page, w } = await open();
    await editorArea(page).focus();
    await tool(page, '表').click();
    const html = await source(page);
    expect(html.match(/<th scope="col">/g)?.length).toBe(3);
    expect(html.match(/<tr>/g)?.length).toBe(3);
    expect(html.match(/<td>/g)?.length).toBe(6);
    expect(html).not.toMatch(/style=|colgroup/);
    expect(await editorArea(page).locator('table [style], table colgroup').count()).toBe(0);
    expect(await cspViolations(page, w)).toEqual([]);
    await page.context().close();
  });

  it('a YouTube address becomes a titled privacy-enhanced embed', async () => {
    const { page, w } = await open();
    await editorArea(page).focus();
    await tool(page, '動画埋め込み').click();
    const dialog = page.getByRole('dialog', { name: '動画の埋め込み' });
    await dialog.getByLabel('YouTubeのURL').fill('https://example.com/not-youtube');
    await dialog.getByRole('button', { name: '埋め込む' }).click();
    await expect(dialog.getByText('YouTubeの動画のURLを入力してください。').isVisible()).resolves.toBe(true);
    await dialog.getByLabel('YouTubeのURL').fill('https://youtu.be/dQw4w9WgXcQ?si=abc');
    await dialog.getByLabel('動画のタイトル').fill('あおば市の紹介');
    await dialog.getByRole('button', { name: '埋め込む' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await source(page)).toContain('<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title="あおば市の紹介"');
    expect(await cspViolations(page, w)).toEqual([]);
    await page.context().close();
  });

  it('pasting from Word gives clean HTML: headings, lists, bold, table headers and links kept; mso, o:p, styles and fonts gone', async () => {
    const { page, w } = await open();
    await editorArea(page).focus();
    await page.evaluate((html) => {
      const dt = new DataTransfer();
      dt.setData('text/html', html);
      dt.setData('text/plain', 'ごみの出し方について');
      const target = document.querySelector('.rich-editor__content')!;
      target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, WORD_HTML);
    const html = await source(page);
    expect(html).not.toMatch(/mso|Mso|o:p|<o:|style=|class=|<font|<span|lang=|file:|v:shape|StartFragment|\u00a0/);
    expect(html).toContain('<h2>ごみの出し方について</h2>');
    expect(html).toContain('<p>燃えるごみは<strong>週2回</strong>、朝8時までに出してください。');
    expect(html).toContain('<h3>収集日</h3>');
    expect(html).toContain('<ul><li><p>燃えるごみ：月曜日・木曜日</p><ul><li><p>生ごみは水を切ってください</p></li></ul></li><li><p>資源ごみ：水曜日</p></li></ul>');
    expect(html).toContain('<ol><li><p>指定袋に入れる</p></li><li><p>集積所に出す</p></li></ol>');
    expect(html).toMatch(/<table><tbody><tr><th scope="col"><p>地区<\/p><\/th><th scope="col"><p>曜日<\/p><\/th><\/tr><tr><td><p>北地区<\/p><\/td><td><p>月・木<\/p><\/td><\/tr><\/tbody><\/table>/);
    expect(html).toContain('<a href="https://www.city.example.lg.jp/gomi/">ごみの分け方（市のサイト）</a>');
    expect(html).not.toContain('<img');
    // No blank paragraph from Word's empty line.
    expect(html).not.toContain('<p></p>');
    // The dropped image is announced.
    await expect(page.getByRole('status').filter({ hasText: '画像1件' }).textContent()).resolves.toContain('「画像」ボタンから追加してください');
    expect(await cspViolations(page, w)).toEqual([]);
    await page.context().close();
  });

  it('submitting the form posts the editor HTML', async () => {
    const { page, w } = await open();
    await editorArea(page).focus();
    await page.keyboard.type('第一段落');
    await tool(page, '太字').click();
    await settle(page);
    await page.keyboard.type('重要');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '送信する' }).click())).toBe(200);
    await expect(page.locator('#posted').textContent()).resolves.toBe('<p>第一段落<strong>重要</strong></p>');
    expect(await cspViolations(page, w)).toEqual([]);
    await page.context().close();
  });

  it('without JavaScript the plain textarea is labelled, visible and posts', async () => {
    const page = await newPage(browser(), tp.baseUrl, { javaScriptEnabled: false });
    await page.goto('/editor-test');
    expect(await page.locator('.rich-editor').count()).toBe(0);
    const ta = page.getByRole('textbox', { name: '本文' });
    expect(await ta.evaluate((el) => el.tagName)).toBe('TEXTAREA');
    expect(await ta.isVisible()).toBe(true);
    await ta.fill('<p>手で書いた本文</p>');
    expect(await submitAndWait(page, () => page.getByRole('button', { name: '送信する' }).click())).toBe(200);
    await expect(page.locator('#posted').textContent()).resolves.toBe('<p>手で書いた本文</p>');
    await page.context().close();
  });

  it('axe (WCAG 2.2 AA) finds nothing on the page with the editor, with content, and with the image dialog open', async () => {
    const { page, w } = await open({ initial: '<h2>見出し</h2><p>本文です。</p><ul><li><p>項目</p></li></ul>' });
    await checkA11y(page, 'editor page');
    await editorArea(page).focus();
    await tool(page, '表').click();
    await checkA11y(page, 'editor with a table');
    await tool(page, '画像').click();
    await page.getByRole('dialog', { name: '画像の挿入' }).waitFor();
    await checkA11y(page, 'image dialog (insert disabled)');
    await page.keyboard.press('Escape');
    await tool(page, '動画埋め込み').click();
    await page.getByRole('dialog', { name: '動画の埋め込み' }).getByRole('button', { name: '埋め込む' }).click();
    await checkA11y(page, 'video dialog with errors');
    expect(await cspViolations(page, w)).toEqual([]);
    await page.context().close();
  });

  describe('with the media library', () => {
    let siteId = 0;
    let imageId = 0;
    let pdfId = 0;
    let staff: { loginId: string; password: string };

    beforeAll(async () => {
      const p = tp.platform;
      const org = await createOrganization(p, { name: 'ライブラリ市' });
      siteId = await cmsOf(p).sites.create(systemActor(p), { key: 'libcity', name: 'ライブラリ市', pathPrefix: '/s/lib', organizationId: org }, { ip: '127.0.0.1', userAgent: 'test' });
      staff = await createStaff(p, { roles: ['editor'], organizationId: org });
      const actor = (await p.auth.actorFor((await p.db.selectFrom('users').select('id').where('login_id', '=', staff.loginId).executeTakeFirstOrThrow()).id))!;
      const media = mediaOf(p).service;
      const meta = { ip: '127.0.0.1', userAgent: 'test' };
      imageId = (await media.upload(actor, { siteId, fileName: 'shiyakusho.jpg', claimedMime: 'image/jpeg', data: await testFiles.photoWithGps(600, 800), alt: '市役所本庁舎の外観' }, meta)).id;
      pdfId = (await media.upload(actor, { siteId, fileName: 'kaigiroku.pdf', claimedMime: 'application/pdf', data: testFiles.pdf(), title: '会議録' }, meta)).id;
    });

    async function openWithLibrary(): Promise<{ page: Page; w: Watch }> {
      const page = await newPage(browser(), tp.baseUrl);
      const w = await watch(page);
      await loginAs(page, staff.loginId, staff.password);
      await page.goto(`/editor-test-library?site=${siteId}`);
      await page.locator('.rich-editor[data-editor-state="ready"]').waitFor();
      return { page, w };
    }

    /** Focus stays inside the open dialog however often Tab or Shift+Tab is pressed. */
    async function expectFocusTrapped(page: Page, dialogName: string): Promise<void> {
      for (const key of ['Tab', 'Shift+Tab']) {
        for (let i = 0; i < 14; i++) {
          await page.keyboard.press(key);
          const inside = await page.evaluate((name) => {
            const d = [...document.querySelectorAll('dialog[open]')].find((x) => x.querySelector('h2')?.textContent === name);
            return Boolean(d && d.contains(document.activeElement));
          }, dialogName);
          expect(inside, `${key} ×${i + 1}`).toBe(true);
        }
      }
    }

    it('picks an image by keyboard (thumbnail, name, alt); alt stays required; it goes in with its size and shows through the staff route', async () => {
      const { page, w } = await openWithLibrary();
      await tabIntoEditor(page);
      await page.keyboard.press('Alt+F10');
      await page.keyboard.press('Home');
      for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: '画像の挿入' });
      await dialog.waitFor();
      const toggle = dialog.getByRole('button', { name: 'ライブラリから選ぶ' });
      expect((await focused(page)).text).toBe('ライブラリから選ぶ');
      expect(await toggle.getAttribute('aria-expanded')).toBe('false');
      await page.keyboard.press('Enter');
      expect(await toggle.getAttribute('aria-expanded')).toBe('true');
      expect((await focused(page)).id).toBe(await dialog.getByLabel('画像を名前で探す').getAttribute('id'));
      const item = dialog.getByRole('button', { name: /shiyakusho\.jpg/ });
      await item.waitFor();
      await expect(item.textContent()).resolves.toContain('代替テキスト: 市役所本庁舎の外観');
      await expect.poll(() => item.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
      await checkA11y(page, 'image dialog with the library open');
      await expectFocusTrapped(page, '画像の挿入');

      await item.focus();
      await page.keyboard.press('Enter');
      expect(await dialog.getByLabel('画像のURLまたはメディア番号').inputValue()).toBe(`/media/${imageId}/original/shiyakusho.jpg`);
      expect(await dialog.getByLabel('代替テキスト', { exact: true }).inputValue()).toBe('市役所本庁舎の外観');
      expect((await focused(page)).id).toBe(await dialog.getByLabel('代替テキスト', { exact: true }).getAttribute('id'));
      const insert = dialog.getByRole('button', { name: '挿入する' });
      await dialog.getByLabel('代替テキスト', { exact: true }).fill('');
      expect(await insert.isDisabled()).toBe(true);
      await dialog.getByLabel('代替テキスト', { exact: true }).fill('市役所の正面玄関');
      await insert.click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await source(page)).toContain(`<img src="/media/${imageId}/original/shiyakusho.jpg" alt="市役所の正面玄関" width="800" height="600">`);
      // Writing goes on below the image; it does not replace it.
      await settle(page);
      await page.keyboard.type('続きの文');
      expect(await source(page)).toContain(`alt="市役所の正面玄関" width="800" height="600"><p>続きの文本文</p>`);
      const shown = editorArea(page).locator('img');
      expect(await shown.getAttribute('src')).toBe(`/admin/cms/media/${imageId}/original/shiyakusho.jpg`);
      // Stored 600×800 with EXIF orientation 6: upright it is 800×600.
      await expect.poll(() => shown.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(800);

      // Esc closes the dialog and gives focus back to the toolbar button.
      await page.keyboard.press('Alt+F10');
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect((await focused(page)).text).toBe('画像');
      expect(await cspViolations(page, w)).toEqual([]);
      await page.context().close();
    });

    it('uploads from the dialog: a disguised file is refused with the reason, a real image is registered, chosen and still needs alt', async () => {
      const { page, w } = await openWithLibrary();
      await editorArea(page).focus();
      await tool(page, '画像').click();
      const dialog = page.getByRole('dialog', { name: '画像の挿入' });
      await dialog.getByRole('button', { name: 'ライブラリから選ぶ' }).click();
      const fileInput = dialog.getByLabel('新しい画像を登録');
      await fileInput.setInputFiles({ name: 'evil.jpg', mimeType: 'image/jpeg', buffer: testFiles.attacks.php });
      await dialog.getByRole('button', { name: '登録して選ぶ' }).click();
      await expect.poll(() => dialog.locator('.field__error:not([hidden])').allTextContents()).toEqual([expect.stringContaining('拡張子（.jpg）と一致しません')]);
      expect(await fileInput.getAttribute('aria-invalid')).toBe('true');
      await checkA11y(page, 'image dialog with an upload error');

      await fileInput.setInputFiles({ name: 'hanabi.png', mimeType: 'image/png', buffer: await testFiles.png(320, 200) });
      await dialog.getByRole('button', { name: '登録して選ぶ' }).click();
      await expect.poll(() => dialog.getByLabel('画像のURLまたはメディア番号').inputValue()).toMatch(/^\/media\/\d+\/original\/hanabi\.png$/);
      const insert = dialog.getByRole('button', { name: '挿入する' });
      expect(await insert.isDisabled()).toBe(true);
      await dialog.getByLabel('代替テキスト', { exact: true }).fill('夜空に広がる花火');
      await insert.click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await source(page)).toMatch(/<img src="\/media\/\d+\/original\/hanabi\.png" alt="夜空に広がる花火" width="320" height="200">/);
      const row = await tp.platform.db.selectFrom('cms_media').select(['file_name', 'site_id']).where('file_name', '=', 'hanabi.png').executeTakeFirst();
      expect(row).toEqual({ file_name: 'hanabi.png', site_id: siteId });
      expect(await tp.platform.db.selectFrom('cms_media').select('id').where('file_name', '=', 'evil.jpg').executeTakeFirst()).toBeUndefined();
      expect(await cspViolations(page, w)).toEqual([]);
      await page.context().close();
    });

    it('the link dialog lists library documents and inserts 「名前（PDF：サイズ）」', async () => {
      const { page, w } = await openWithLibrary();
      await editorArea(page).focus();
      await tool(page, 'リンク').click();
      const dialog = page.getByRole('dialog', { name: 'リンクの挿入' });
      await dialog.getByRole('button', { name: 'ライブラリの文書から選ぶ' }).click();
      const item = dialog.getByRole('button', { name: /会議録/ });
      await item.waitFor();
      await expect(item.textContent()).resolves.toMatch(/PDF・\d+バイト/);
      await checkA11y(page, 'link dialog with the library open');
      await item.click();
      expect(await dialog.getByLabel('リンク先のURL').inputValue()).toBe(`/media/${pdfId}/file/kaigiroku.pdf`);
      const text = await dialog.getByLabel('リンクの文字').inputValue();
      expect(text).toMatch(/^会議録（PDF：\d+バイト）$/);
      await dialog.getByRole('button', { name: '挿入する' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await source(page)).toContain(`<a href="/media/${pdfId}/file/kaigiroku.pdf">${text}</a>`);
      expect(await cspViolations(page, w)).toEqual([]);
      await page.context().close();
    });
  });
});
