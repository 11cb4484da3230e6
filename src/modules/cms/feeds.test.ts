import { DomUtils, Parser, parseDocument } from 'htmlparser2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { startTestPlatform, systemActor, type TestPlatform } from '../../../test/helpers/platform.js';
import { checkA11y, describeE2E, newPage, useBrowser, visit } from '../../../test/e2e/helpers.js';
import type { Platform } from '../../core/platform.js';
import { cmsOf } from './index.js';

type Document = ReturnType<typeof parseDocument>;
type Element = ReturnType<typeof DomUtils.getElementsByTagName>[number];

const meta = { ip: '127.0.0.1', userAgent: 'test' };
const TRICKY = `比較 <a> & "引用" 'です'`;

/**
 * Fails unless the text is well-formed XML as far as a test needs: one root, every element
 * closed explicitly and in order, no bare `<` or `&` in text or attribute values.
 */
function parseXml(xml: string): Document {
  const stack: string[] = [];
  const problems: string[] = [];
  let roots = 0;
  const rawText = (where: string, t: string) => {
    if (t.includes('<')) problems.push(`bare < in ${where}: ${t}`);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(t)) problems.push(`bare & in ${where}: ${t}`);
  };
  const parser = new Parser(
    {
      onopentag(name) {
        if (!stack.length) roots += 1;
        stack.push(name);
      },
      onattribute(name, value) {
        rawText(`attribute ${name}`, value);
      },
      ontext(t) {
        if (stack.length) rawText(`<${stack.at(-1)}>`, t);
        else if (t.trim()) problems.push(`text outside the root: ${t}`);
      },
      onclosetag(name, implied) {
        const open = stack.pop();
        // htmlparser2 reports `<x/>` as an implied close too; anything else implied was never closed.
        const selfClosing = xml.slice(parser.startIndex, parser.endIndex + 1).endsWith('/>');
        if ((implied && !selfClosing) || open !== name) problems.push(`</${name}> closes <${open}>${implied ? ' (implied)' : ''}`);
      },
    },
    { xmlMode: true, decodeEntities: false },
  );
  parser.write(xml);
  parser.end();
  expect(problems).toEqual([]);
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  expect(xml.startsWith('<?xml version="1.0"')).toBe(true);
  return parseDocument(xml, { xmlMode: true });
}

const all = (doc: Document | Element, name: string) => DomUtils.getElementsByTagName(name, doc, true);
const text = (el: Element | undefined) => (el ? DomUtils.textContent(el) : '');
const child = (el: Element, name: string) => DomUtils.getElementsByTagName(name, el.children, false)[0];

interface SiteIds {
  siteId: number;
  kurashi: number;
  gomi: number;
  zeikin: number;
  hiddenPage: number;
  secret: number;
}

/** A site with folders and pages in a chosen order, a draft, a hidden page and a hidden folder. */
async function buildSite(p: Platform, key: string): Promise<SiteIds> {
  const cms = cmsOf(p);
  const actor = systemActor(p);
  const siteId = await cms.sites.create(actor, { key, name: 'フィード市', pathPrefix: `/sites/${key}` }, meta);
  const root = await cms.pages.root(siteId);
  await cms.pages.publish(actor, root.id, meta);
  const add = async (parentId: number, kind: 'folder' | 'page', slug: string, title: string, sortOrder: number, extra: { summary?: string; body?: string; publish?: boolean } = {}) => {
    const id = await cms.pages.create(actor, { siteId, parentId, kind, slug, title, sortOrder, summary: extra.summary, body: extra.body ?? '' }, meta);
    if (extra.publish !== false) await cms.pages.publish(actor, id, meta);
    return id;
  };
  // Sort order, not creation order, decides the tree: くらし (1) after 観光 (0); 税金 (1) before ごみ (2).
  const kurashi = await add(root.id, 'folder', 'kurashi', 'くらし', 1);
  const kanko = await add(root.id, 'folder', 'kanko', '観光', 0);
  const gomi = await add(kurashi, 'page', 'gomi', 'ごみの出し方', 2, { summary: '収集日の案内' });
  const zeikin = await add(kurashi, 'page', 'zeikin', '税金', 1, { body: '<h2>市民税</h2><p>納期限は&nbsp;6月末です。</p>' });
  await add(kanko, 'page', 'spots', '見どころ', 0);
  await add(kurashi, 'page', 'draft-only', '下書きのページ', 3, { publish: false });
  const hiddenPage = await add(kurashi, 'page', 'hidden-page', '一時非公開のページ', 4);
  await cms.pages.setTemporarilyHidden(actor, hiddenPage, true, meta);
  const secret = await add(root.id, 'folder', 'secret', '非公開フォルダ', 2);
  await add(secret, 'page', 'inner', '非公開フォルダの中', 0);
  await cms.pages.setTemporarilyHidden(actor, secret, true, meta);
  return { siteId, kurashi, gomi, zeikin, hiddenPage, secret };
}

interface TreeNode {
  text: string;
  href: string;
  children: TreeNode[];
}

/** The nested lists of the HTML sitemap as a tree of link texts and addresses. */
function sitemapTree(html: string): TreeNode[] {
  const doc = parseDocument(html);
  const nav = DomUtils.findOne((el) => el.name === 'nav' && (el.attribs.class ?? '').split(' ').includes('sitemap'), doc.children, true);
  expect(nav).toBeTruthy();
  const list = (ul: Element): TreeNode[] =>
    DomUtils.getChildren(ul)
      .filter((n): n is Element => n.type === 'tag')
      .map((li) => {
        expect(li.name).toBe('li');
        const kids = DomUtils.getChildren(li).filter((n): n is Element => n.type === 'tag');
        const a = kids.find((k) => k.name === 'a')!;
        const sub = kids.find((k) => k.name === 'ul');
        return { text: DomUtils.textContent(a), href: a.attribs.href ?? '', children: sub ? list(sub) : [] };
      });
  const top = DomUtils.findOne((el) => el.name === 'ul', nav!.children, true)!;
  return list(top);
}

describePlatform('CMS sitemaps and feed', {}, (tp) => {
  let ids: SiteIds;
  const prefix = '/sites/feedcity';

  beforeAll(async () => {
    ids = await buildSite(tp().platform, 'feedcity');
  });

  it('lists every public page in sitemap.xml with absolute addresses, and no drafts, hidden pages or pages under a hidden folder', async () => {
    const base = tp().baseUrl;
    const res = await new HttpClient(base).get(`${prefix}/sitemap.xml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    const doc = parseXml(res.text);
    const urlset = all(doc, 'urlset')[0]!;
    expect(urlset.attribs.xmlns).toBe('http://www.sitemaps.org/schemas/sitemap/0.9');
    const urls = all(urlset, 'url');
    const locs = urls.map((u) => text(child(u, 'loc')));
    expect(locs).toEqual(
      ['/', '/kanko/', '/kanko/spots', '/kurashi/', '/kurashi/zeikin', '/kurashi/gomi'].map((path) => `${base}${prefix}${path}`),
    );
    for (const u of urls) {
      const lastmod = text(child(u, 'lastmod'));
      expect(lastmod).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      expect(Date.now() - Date.parse(lastmod)).toBeLessThan(10 * 60_000);
    }
    for (const hidden of ['draft-only', 'hidden-page', 'secret', 'inner']) expect(res.text).not.toContain(hidden);
  });

  it('builds absolute addresses from BASE_URL, never from a forwarded scheme anyone could send', async () => {
    const res = await new HttpClient(tp().baseUrl).get(`${prefix}/sitemap.xml`, { 'x-forwarded-proto': 'https' });
    expect(res.text).toContain(`<loc>${tp().baseUrl}${prefix}/kurashi/gomi</loc>`);
    expect(res.text).not.toContain('https://');
  });

  it('serves a valid Atom feed of pages, newest first, with summaries, and shows a publication at once', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const base = tp().baseUrl;
    const client = new HttpClient(base);
    const before = await client.get(`${prefix}/feed.xml`);
    expect(before.status).toBe(200);
    expect(before.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    // Asked twice: whatever may be kept between requests must not outlive the next publication.
    expect((await client.get(`${prefix}/feed.xml`)).text).toBe(before.text);

    const root = await cms.pages.root(ids.siteId);
    const news = await cms.pages.create(systemActor(p), { siteId: ids.siteId, parentId: root.id, kind: 'page', slug: 'news', title: TRICKY, sortOrder: 5, body: '<p>本文から作る概要。</p>' }, meta);
    await cms.pages.publish(systemActor(p), news, meta);

    const res = await client.get(`${prefix}/feed.xml`);
    const doc = parseXml(res.text);
    const feed = all(doc, 'feed')[0]!;
    expect(feed.attribs.xmlns).toBe('http://www.w3.org/2005/Atom');
    expect(text(child(feed, 'title'))).toBe('フィード市');
    expect(text(child(feed, 'id'))).toBe(`${base}${prefix}/`);
    const self = DomUtils.getElementsByTagName('link', feed.children, false).find((l) => l.attribs.rel === 'self');
    expect(self?.attribs.href).toBe(`${base}${prefix}/feed.xml`);
    expect(text(child(feed, 'author'))).toContain('フィード市');

    const entries = all(feed, 'entry').map((e) => ({
      title: text(child(e, 'title')),
      href: child(e, 'link')?.attribs.href,
      id: text(child(e, 'id')),
      updated: text(child(e, 'updated')),
      published: text(child(e, 'published')),
      summary: text(child(e, 'summary')),
    }));
    // Pages only (folders are categories), newest publication first, hidden and draft pages left out.
    expect(entries.map((e) => e.title)).toEqual([TRICKY, '見どころ', '税金', 'ごみの出し方']);
    expect(entries.map((e) => e.href)).toEqual(['/news', '/kanko/spots', '/kurashi/zeikin', '/kurashi/gomi'].map((path) => `${base}${prefix}${path}`));
    for (const e of entries) {
      expect(e.id).toMatch(/^tag:127\.0\.0\.1,\d{4}-\d{2}-\d{2}:feedcity\/\d+$/);
      expect(Date.parse(e.updated)).not.toBeNaN();
      expect(Date.parse(e.published)).not.toBeNaN();
    }
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    expect(entries[0]!.id.endsWith(`/${news}`)).toBe(true);
    const published = entries.map((e) => Date.parse(e.published));
    expect([...published].sort((a, b) => b - a)).toEqual(published);
    expect(text(child(feed, 'updated'))).toBe(entries.map((e) => e.updated).sort().at(-1));
    // A summary of its own, else the start of the body as plain text.
    expect(entries.find((e) => e.title === 'ごみの出し方')!.summary).toBe('収集日の案内');
    expect(entries.find((e) => e.title === '税金')!.summary).toBe('市民税 納期限は 6月末です。');
    expect(entries[0]!.summary).toBe('本文から作る概要。');
    // Escaped in the document, exact once parsed.
    expect(res.text).toContain('<title type="text">比較 &lt;a&gt; &amp; &quot;引用&quot; &apos;です&apos;</title>');
    expect(res.text).not.toContain('<a>');

    // Withdrawn again: gone from the feed and the sitemap at once.
    await cms.pages.setTemporarilyHidden(systemActor(p), news, true, meta);
    expect((await client.get(`${prefix}/feed.xml`)).text).not.toContain('引用');
    expect((await client.get(`${prefix}/sitemap.xml`)).text).not.toContain('/news<');
    await cms.pages.setTemporarilyHidden(systemActor(p), news, false, meta);
    expect((await client.get(`${prefix}/sitemap.xml`)).text).toContain(`${prefix}/news</loc>`);
  });

  it('answers 304 to a feed reader revalidating with the same ETag', async () => {
    const client = new HttpClient(tp().baseUrl);
    const res = await client.get(`${prefix}/feed.xml`);
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect((await client.get(`${prefix}/feed.xml`, { 'if-none-match': etag! })).status).toBe(304);
    expect((await client.get(`${prefix}/sitemap.xml`, { 'if-none-match': etag! })).status).toBe(200);
  });

  it('shows the HTML sitemap as nested lists in the administrators\' order, in the site\'s frame, without hidden pages', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const client = new HttpClient(tp().baseUrl);
    const res = await client.get(`${prefix}/sitemap`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('<title>サイトマップ | フィード市</title>');
    expect(res.text).toContain('<h1>サイトマップ</h1>');
    expect(res.text).toContain(`action="${prefix}/search"`);
    expect(res.text).toContain(`<link rel="alternate" type="application/atom+xml" title="フィード市 新着情報" href="${prefix}/feed.xml"/>`);
    const leaf = (t: string, path: string): TreeNode => ({ text: t, href: `${prefix}${path}`, children: [] });
    expect(sitemapTree(res.text)).toEqual([
      {
        text: 'フィード市 トップページ',
        href: `${prefix}/`,
        children: [
          { text: '観光', href: `${prefix}/kanko/`, children: [leaf('見どころ', '/kanko/spots')] },
          { text: 'くらし', href: `${prefix}/kurashi/`, children: [leaf('税金', '/kurashi/zeikin'), leaf('ごみの出し方', '/kurashi/gomi')] },
          leaf(TRICKY, '/news'),
        ],
      },
    ]);
    expect(res.text).toContain('比較 &lt;a&gt; &amp;');
    for (const hidden of ['下書きのページ', '一時非公開のページ', '非公開フォルダ']) expect(res.text).not.toContain(hidden);

    // Hiding a folder takes its whole branch out; showing it again brings it back.
    await cms.pages.setTemporarilyHidden(systemActor(p), ids.kurashi, true, meta);
    const without = await client.get(`${prefix}/sitemap`);
    expect(without.text).not.toContain('ごみの出し方');
    expect(without.text).not.toContain(`${prefix}/kurashi/`);
    await cms.pages.setTemporarilyHidden(systemActor(p), ids.kurashi, false, meta);
    expect((await client.get(`${prefix}/sitemap`)).text).toContain('ごみの出し方');
  });

  it('keeps the page render cache out of it: the sitemap reflects a retitled page after publish', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const client = new HttpClient(tp().baseUrl);
    await client.get(`${prefix}/sitemap`);
    await cms.pages.saveDraft(systemActor(p), ids.gomi, { title: 'ごみと資源の出し方', summary: '収集日の案内' }, meta);
    // A draft changes nothing public.
    expect((await client.get(`${prefix}/sitemap`)).text).not.toContain('ごみと資源の出し方');
    await cms.pages.publish(systemActor(p), ids.gomi, meta);
    expect((await client.get(`${prefix}/sitemap`)).text).toContain('ごみと資源の出し方');
    expect((await client.get(`${prefix}/feed.xml`)).text).toContain('ごみと資源の出し方');
  });

  it('leaves other sites\' pages out', async () => {
    const p = tp().platform;
    await buildSite(p, 'othercity');
    const res = await new HttpClient(tp().baseUrl).get(`${prefix}/sitemap.xml`);
    expect(res.text).not.toContain('/sites/othercity');
    expect((await new HttpClient(tp().baseUrl).get('/sites/othercity/sitemap.xml')).text).not.toContain(prefix);
  });
});

const browser = useBrowser();

describeE2E('HTML sitemap accessibility', (engine) => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform(engine);
    await buildSite(tp.platform, 'a11ycity');
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('passes axe (WCAG 2.2 AA) with its nested lists', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    expect(await visit(page, '/sites/a11ycity/sitemap')).toBe(200);
    await checkA11y(page, 'html sitemap');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('サイトマップ');
    await expect(page.getByRole('navigation', { name: 'このサイトのページ一覧' }).getByRole('link', { name: '税金' }).getAttribute('href')).resolves.toBe('/sites/a11ycity/kurashi/zeikin');
    await page.context().close();
  });
});
