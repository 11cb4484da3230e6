import { DomUtils, parseDocument } from 'htmlparser2';
import { expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createOrganization, systemActor } from '../../../../test/helpers/platform.js';
import type { Platform } from '../../../core/platform.js';
import { cmsOf } from '../index.js';
import { categoriesOf } from '../types/categories.js';
import { listsOf } from './index.js';
import type { ListSettingsInput } from './config.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };
/**
 * One connection per request: these tests seed for seconds between requests, and a kept-alive
 * socket the server closes meanwhile (its 5 s keep-alive) can be reused in that instant (ECONNRESET).
 */
const FRESH = { connection: 'close' };
type Element = ReturnType<typeof DomUtils.getElementsByTagName>[number];

/** A published site with a news folder; returns helpers to add pages. */
async function buildSite(p: Platform, key: string, opts: { organizationId?: number } = {}) {
  const cms = cmsOf(p);
  const actor = systemActor(p);
  const siteId = await cms.sites.create(actor, { key, name: `${key}市`, pathPrefix: `/s/${key}`, organizationId: opts.organizationId ?? null }, meta);
  const root = await cms.pages.root(siteId);
  await cms.pages.publish(actor, root.id, meta);
  const folder = async (parentId: number, slug: string, title: string) => {
    const id = await cms.pages.create(actor, { siteId, parentId, kind: 'folder', slug, title }, meta);
    await cms.pages.publish(actor, id, meta);
    return id;
  };
  const news = await folder(root.id, 'news', 'お知らせ');
  const page = async (parentId: number, slug: string, title: string, o: { type?: string; fields?: Record<string, unknown>; summary?: string; body?: string; publish?: boolean; organizationId?: number } = {}) => {
    const id = await cms.pages.create(actor, { siteId, parentId, kind: 'page', slug, title, pageType: o.type ?? 'news', fields: o.fields ?? {}, summary: o.summary, body: o.body ?? '<p>本文</p>', organizationId: o.organizationId }, meta);
    if (o.publish !== false) await cms.pages.publish(actor, id, meta);
    return id;
  };
  return { siteId, rootId: root.id, news, folder, page, prefix: `/s/${key}` };
}

const settings = (o: Partial<ListSettingsInput> = {}): ListSettingsInput => ({
  heading: '新着情報',
  hostPath: '/',
  sourcePath: '/',
  pageTypes: ['news'],
  limit: 10,
  showMore: true,
  columns: ['date', 'marks', 'title'],
  dateFormat: 'ja',
  sort: 'newest',
  urgentFirst: true,
  ...o,
});

/** Titles of a list's items on a public page, in order. */
function listTitles(html: string, listId: number): string[] {
  const doc = parseDocument(html);
  const section = DomUtils.findOne((el) => el.attribs['data-list-id'] === String(listId), doc.children, true);
  if (!section) return [];
  return DomUtils.findAll((el) => (el.attribs.class ?? '').split(' ').includes('list-item__title'), section.children).map((a) => DomUtils.textContent(a));
}

function listItems(html: string, listId: number): Element[] {
  const doc = parseDocument(html);
  const section = DomUtils.findOne((el) => el.attribs['data-list-id'] === String(listId), doc.children, true);
  return section ? DomUtils.findAll((el) => el.name === 'li' && (el.attribs.class ?? '').split(' ').includes('list-item'), section.children) : [];
}

describePlatform('CMS automatic lists', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  it('a page published appears at once on the top-page list; withdrawn, hidden, trashed and expired pages disappear', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const actor = systemActor(p);
    const s = await buildSite(p, 'live');
    await s.page(s.news, 'first', '最初のお知らせ');
    const listId = await listsOf(p).create(actor, s.siteId, settings(), meta);
    const visitor = new HttpClient(tp().baseUrl, FRESH);
    const top = async () => (await visitor.get(`${s.prefix}/`)).text;
    expect(listTitles(await top(), listId)).toEqual(['最初のお知らせ']);
    // The second read comes from the render cache (SQLite) — and must still change at once below.
    await top();

    const second = await s.page(s.news, 'second', '二番目のお知らせ');
    expect(listTitles(await top(), listId)).toEqual(['二番目のお知らせ', '最初のお知らせ']);

    await cms.pages.setTemporarilyHidden(actor, second, true, meta);
    expect(listTitles(await top(), listId)).toEqual(['最初のお知らせ']);
    await cms.pages.setTemporarilyHidden(actor, second, false, meta);
    expect(listTitles(await top(), listId)).toEqual(['二番目のお知らせ', '最初のお知らせ']);

    await cms.pages.unpublish(actor, second, meta);
    expect(listTitles(await top(), listId)).toEqual(['最初のお知らせ']);
    await cms.pages.publish(actor, second, meta);
    expect(listTitles(await top(), listId)).toEqual(['二番目のお知らせ', '最初のお知らせ']);

    await cms.pages.trash(actor, second, meta);
    expect(listTitles(await top(), listId)).toEqual(['最初のお知らせ']);

    // A page inside a folder the public cannot see is out, too.
    const hiddenFolder = await s.folder(s.rootId, 'closed', '準備中');
    await s.page(hiddenFolder, 'inside', '準備中フォルダのお知らせ');
    expect(listTitles(await top(), listId)).toEqual(['準備中フォルダのお知らせ', '最初のお知らせ']);
    await cms.pages.setTemporarilyHidden(actor, hiddenFolder, true, meta);
    expect(listTitles(await top(), listId)).toEqual(['最初のお知らせ']);

    // Scheduled end: out of the list from the end time on, and the minute job takes it down.
    const timed = await s.page(s.news, 'timed', '期間限定のお知らせ');
    const end = new Date(Date.now() + 3600_000);
    await cms.pages.schedule(actor, timed, { publishAt: null, unpublishAt: end }, meta);
    const list = await listsOf(p).get(listId);
    expect((await listsOf(p).window(list, { now: new Date(end.getTime() - 60_000) })).items.map((i) => i.title)).toContain('期間限定のお知らせ');
    expect((await listsOf(p).window(list, { now: new Date(end.getTime() + 1000) })).items.map((i) => i.title)).not.toContain('期間限定のお知らせ');
    expect(listTitles(await top(), listId)).toEqual(['期間限定のお知らせ', '最初のお知らせ']);
    await cms.pages.runSchedule(new Date(end.getTime() + 60_000));
    expect(listTitles(await top(), listId)).toEqual(['最初のお知らせ']);
  });

  it('pinned pages come first in the order set, then 緊急; excluded pages are left out; manual order moves items', async () => {
    const p = tp().platform;
    const lists = listsOf(p);
    const actor = systemActor(p);
    const s = await buildSite(p, 'order');
    const ids: Record<string, number> = {};
    for (const [slug, title, fields] of [
      ['a', 'Aのお知らせ', {}],
      ['b', 'Bのお知らせ', { news: { urgent: true } }],
      ['c', 'Cのお知らせ', { news: { important: true } }],
      ['d', 'Dのお知らせ', {}],
      ['e', 'Eのお知らせ', {}],
    ] as const) {
      ids[slug] = await s.page(s.news, slug, title, { fields });
    }
    const listId = await lists.create(actor, s.siteId, settings({ limit: 4 }), meta);
    const titles = async () => (await lists.window(await lists.get(listId))).items.map((i) => i.title[0]);
    // Newest first, 緊急 (B) lifted to the top.
    expect(await titles()).toEqual(['B', 'E', 'D', 'C']);
    await lists.pin(actor, listId, ids.a!, meta);
    await lists.pin(actor, listId, ids.d!, meta);
    expect(await titles()).toEqual(['A', 'D', 'B', 'E']);
    await lists.movePin(actor, listId, ids.d!, 'up', meta);
    expect(await titles()).toEqual(['D', 'A', 'B', 'E']);
    await lists.exclude(actor, listId, ids.e!, meta);
    expect(await titles()).toEqual(['D', 'A', 'B', 'C']);
    await lists.include(actor, listId, ids.e!, meta);
    await lists.unpin(actor, listId, ids.a!, meta);
    expect(await titles()).toEqual(['D', 'B', 'E', 'C']);

    // 緊急 not lifted when the administrators say so.
    await lists.update(actor, listId, settings({ limit: 4, urgentFirst: false }), meta);
    expect(await titles()).toEqual(['D', 'E', 'C', 'B']);
    await lists.update(actor, listId, settings({ limit: 4, urgentFirst: false, sort: 'oldest' }), meta);
    expect(await titles()).toEqual(['D', 'A', 'B', 'C']);
    await lists.update(actor, listId, settings({ limit: 4, urgentFirst: false, sort: 'manual' }), meta);
    expect(await titles()).toEqual(['D', 'E', 'C', 'B']);
    await lists.moveItem(actor, listId, ids.b!, 'up', meta);
    expect(await titles()).toEqual(['D', 'E', 'B', 'C']);
    await lists.moveItem(actor, listId, ids.b!, 'up', meta);
    expect(await titles()).toEqual(['D', 'B', 'E', 'C']);
    // A page published later goes after the placed ones.
    await s.page(s.news, 'f', 'Fのお知らせ');
    await lists.update(actor, listId, settings({ limit: 6, urgentFirst: false, sort: 'manual' }), meta);
    expect(await titles()).toEqual(['D', 'B', 'E', 'C', 'F', 'A']);

    // Marks filter and a folder source.
    await lists.update(actor, listId, settings({ marks: 'marked', urgentFirst: false }), meta);
    expect(await titles()).toEqual(['D', 'C', 'B']);
    const other = await s.folder(s.rootId, 'other', '別のフォルダ');
    await s.page(other, 'x', 'Xのお知らせ');
    await lists.update(actor, listId, settings({ sourcePath: '/other/' }), meta);
    expect(await titles()).toEqual(['D', 'X']);
    const audit = (await p.audit.list({ targetType: 'cms_list', targetId: String(listId) }, { limit: 50 })).rows.map((r) => r.action);
    expect(audit).toEqual(expect.arrayContaining(['cms.list_create', 'cms.list_update', 'cms.list_pin', 'cms.list_unpin', 'cms.list_reorder', 'cms.list_exclude', 'cms.list_include']));
  });

  it('filters by category (pages of a 小分類 count for its 大分類)', async () => {
    const p = tp().platform;
    const actor = systemActor(p);
    const s = await buildSite(p, 'cats');
    const cats = categoriesOf(p);
    const kosodate = await cats.create(actor, { siteId: s.siteId, slug: 'kosodate', name: '子育て' }, meta);
    const hoiku = await cats.create(actor, { siteId: s.siteId, parentId: kosodate, slug: 'hoiku', name: '保育' }, meta);
    const bosai = await cats.create(actor, { siteId: s.siteId, slug: 'bosai', name: '防災' }, meta);
    await s.page(s.news, 'hoikuen', '保育園の入園案内', { fields: { categories: [hoiku] } });
    await s.page(s.news, 'hinan', '避難所の開設', { fields: { categories: [bosai] } });
    await s.page(s.news, 'none', '分類なし');
    const listId = await listsOf(p).create(actor, s.siteId, settings({ categories: [kosodate], columns: ['title', 'category'] }), meta);
    const html = (await new HttpClient(tp().baseUrl, FRESH).get(`${s.prefix}/`)).text;
    expect(listTitles(html, listId)).toEqual(['保育園の入園案内']);
    expect(listItems(html, listId).map((li) => DomUtils.textContent(li))).toEqual(['保育園の入園案内分野: 保育']);
  });

  it('shows the chosen columns in the chosen order, marks as text badges, the date in the chosen format', async () => {
    const p = tp().platform;
    const actor = systemActor(p);
    const dept = await createOrganization(p, { name: '市民課', kind: 'department' });
    const s = await buildSite(p, 'cols');
    const id = await s.page(s.news, 'suido', '断水のお知らせ', { fields: { news: { urgent: true, important: true } }, summary: '中央地区で断水します。', body: '<p><img src="/media/1/photo.jpg" alt="工事の様子"></p><p>本文</p>', organizationId: dept });
    await s.page(s.news, 'plain', 'ふつうのお知らせ', { body: '<p>市の<strong>お知らせ</strong>です。</p>' });
    const listId = await listsOf(p).create(actor, s.siteId, settings({ columns: ['title', 'marks', 'date', 'department', 'summary', 'thumbnail', 'pageType'], dateFormat: 'wareki' }), meta);
    const html = (await new HttpClient(tp().baseUrl, FRESH).get(`${s.prefix}/`)).text;
    const [urgent, plain] = listItems(html, listId);
    const parts = (li: Element) => DomUtils.getChildren(li).filter((n): n is Element => n.type === 'tag').map((el) => `${el.name}.${(el.attribs.class ?? '').split(' ')[0]}`);
    expect(parts(urgent!)).toEqual(['a.list-item__title', 'span.list-marks', 'time.list-item__date', 'span.list-item__department', 'p.list-item__summary', 'img.list-item__thumb', 'span.list-item__type']);
    const marks = DomUtils.findAll((el) => (el.attribs.class ?? '').split(' ').includes('mark'), urgent!.children);
    expect(marks.map((m) => [DomUtils.textContent(m), m.attribs.class])).toEqual([
      ['緊急', 'mark mark--urgent'],
      ['重要', 'mark mark--important'],
    ]);
    const published = (await cmsOf(p).pages.node(id)).published_at!;
    const jst = new Date(new Date(published).getTime() + 9 * 3600_000);
    const time = DomUtils.findOne((el) => el.name === 'time', urgent!.children)!;
    expect(DomUtils.textContent(time)).toBe(`令和${jst.getUTCFullYear() - 2018}年${jst.getUTCMonth() + 1}月${jst.getUTCDate()}日`);
    expect(time.attribs.datetime).toBe(jst.toISOString().slice(0, 10));
    expect(DomUtils.textContent(urgent!)).toContain('担当: 市民課');
    expect(DomUtils.findOne((el) => el.name === 'img', urgent!.children)!.attribs).toMatchObject({ src: '/media/1/photo.jpg', alt: '' });
    // Without a summary, the start of the body stands in; no marks, no badge.
    expect(parts(plain!)).toEqual(['a.list-item__title', 'time.list-item__date', 'p.list-item__summary', 'span.list-item__type']);
    expect(DomUtils.textContent(plain!)).toContain('市のお知らせです。');

    await listsOf(p).update(actor, listId, settings({ columns: ['date', 'title'], dateFormat: 'dot' }), meta);
    const again = listItems((await new HttpClient(tp().baseUrl, FRESH).get(`${s.prefix}/`)).text, listId);
    const ymd = jst.toISOString().slice(0, 10).replace(/-/g, '.');
    expect(DomUtils.textContent(again[0]!)).toBe(`${ymd}断水のお知らせ`);
  });

  it('shows up to 100 items on the page and pages through the rest on the list page', async () => {
    const p = tp().platform;
    const actor = systemActor(p);
    const s = await buildSite(p, 'many');
    for (let i = 1; i <= 105; i++) await s.page(s.news, `n${i}`, `お知らせ${String(i).padStart(3, '0')}`);
    const listId = await listsOf(p).create(actor, s.siteId, settings({ limit: 100 }), meta);
    const visitor = new HttpClient(tp().baseUrl, FRESH);
    const top = listTitles((await visitor.get(`${s.prefix}/`)).text, listId);
    expect(top).toHaveLength(100);
    expect(top[0]).toBe('お知らせ105');
    expect(top[99]).toBe('お知らせ006');
    const seen: string[] = [];
    for (let page = 1; page <= 6; page++) {
      const res = await visitor.get(`${s.prefix}/lists/${listId}/?page=${page}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain(`${page} / 6 ページ`);
      seen.push(...listTitles(res.text, listId));
    }
    expect(seen).toHaveLength(105);
    expect(new Set(seen).size).toBe(105);
    expect(seen.at(-1)).toBe('お知らせ001');
    expect((await visitor.get(`${s.prefix}/lists/${listId}/?page=7`)).status).toBe(404);
    expect((await visitor.get(`${s.prefix}/lists/999999/`)).status).toBe(404);
    expect((await listsOf(p).window(await listsOf(p).get(listId), { withTotal: true })).total).toBe(105);
  });

  it('serves each list as RSS 2.0 with the same items, escaped', async () => {
    const p = tp().platform;
    const actor = systemActor(p);
    const s = await buildSite(p, 'rss');
    await s.page(s.news, 'a', '普通のお知らせ', { summary: '概要です' });
    await s.page(s.news, 'b', `比較 <a> & "引用" 'です'`, { fields: { news: { urgent: true } } });
    const pinned = await s.page(s.news, 'c', '固定のお知らせ');
    const listId = await listsOf(p).create(actor, s.siteId, settings({ limit: 5 }), meta);
    await listsOf(p).pin(actor, listId, pinned, meta);
    const visitor = new HttpClient(tp().baseUrl, FRESH);
    const top = await visitor.get(`${s.prefix}/`);
    expect(top.text).toContain(`<link rel="alternate" type="application/rss+xml" title="rss市 新着情報" href="${s.prefix}/lists/${listId}/feed.xml"/>`);
    const res = await visitor.get(`${s.prefix}/lists/${listId}/feed.xml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    expect(res.text).not.toMatch(/<a>|& "/);
    const doc = parseDocument(res.text, { xmlMode: true });
    const rss = DomUtils.getElementsByTagName('rss', doc, true)[0]!;
    expect(rss.attribs.version).toBe('2.0');
    const items = DomUtils.getElementsByTagName('item', doc, true);
    const field = (el: Element, name: string) => DomUtils.textContent(DomUtils.getElementsByTagName(name, el.children, false)[0] ?? []).trim();
    const decoded = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    expect(items.map((i) => decoded(field(i, 'title')))).toEqual(['固定のお知らせ', `【緊急】比較 <a> & "引用" 'です'`, '普通のお知らせ']);
    expect(items.map((i) => field(i, 'link'))).toEqual([`${tp().baseUrl}${s.prefix}/news/c`, `${tp().baseUrl}${s.prefix}/news/b`, `${tp().baseUrl}${s.prefix}/news/a`]);
    expect(items.every((i) => !Number.isNaN(Date.parse(field(i, 'pubDate'))))).toBe(true);
    expect(decoded(field(items[2]!, 'description'))).toBe('概要です');
    // Same items, same order as the page.
    expect(listTitles(top.text, listId)).toEqual(['固定のお知らせ', `比較 <a> & "引用" 'です'`, '普通のお知らせ']);
  });
});
