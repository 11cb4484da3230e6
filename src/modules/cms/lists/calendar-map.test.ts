import { DomUtils, parseDocument } from 'htmlparser2';
import { expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { systemActor } from '../../../../test/helpers/platform.js';
import type { Platform } from '../../../core/platform.js';
import { cmsOf } from '../index.js';
import { categoriesOf } from '../types/categories.js';
import { jsonForScript } from './map.js';
import { monthEnd, shiftMonth } from './calendar.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };
/**
 * One connection per request: these tests seed for seconds between requests, and a kept-alive
 * socket the server closes meanwhile (its 5 s keep-alive) can be reused in that instant (ECONNRESET).
 */
const FRESH = { connection: 'close' };
type Element = ReturnType<typeof DomUtils.getElementsByTagName>[number];
const byClass = (cls: string) => (el: Element) => (el.attribs.class ?? '').split(' ').includes(cls);

async function buildSite(p: Platform, key: string) {
  const cms = cmsOf(p);
  const actor = systemActor(p);
  const siteId = await cms.sites.create(actor, { key, name: `${key}市`, pathPrefix: `/s/${key}` }, meta);
  const root = await cms.pages.root(siteId);
  await cms.pages.publish(actor, root.id, meta);
  const folder = await cms.pages.create(actor, { siteId, parentId: root.id, kind: 'folder', slug: 'info', title: '情報' }, meta);
  await cms.pages.publish(actor, folder, meta);
  const page = async (slug: string, title: string, pageType: string, fields: Record<string, unknown>, publish = true) => {
    const id = await cms.pages.create(actor, { siteId, parentId: folder, kind: 'page', slug, title, pageType, fields, body: '<p>本文</p>' }, meta);
    if (publish) await cms.pages.publish(actor, id, meta);
    return id;
  };
  return { siteId, page, prefix: `/s/${key}` };
}

/** Day → event titles of the month table, and day → holiday text. */
function monthCells(html: string) {
  const doc = parseDocument(html);
  const table = DomUtils.findOne(byClass('event-calendar'), doc.children, true)!;
  const cells = DomUtils.findAll((el) => el.name === 'td' && Boolean(el.attribs['data-day']), table.children);
  const events: Record<string, string[]> = {};
  const holidays: Record<string, string> = {};
  for (const td of cells) {
    const day = td.attribs['data-day']!;
    const links = DomUtils.findAll((el) => el.name === 'a', td.children).map((a) => DomUtils.textContent(a));
    if (links.length) events[day] = links;
    const h = DomUtils.findOne(byClass('holiday-name'), td.children, true);
    if (h) holidays[day] = DomUtils.textContent(h);
  }
  return { table, cells, events, holidays };
}

describePlatform('CMS event calendar and spot map', {}, (tp) => {
  it('month arithmetic for the calendar', () => {
    expect(monthEnd('2027-02')).toBe('2027-02-28');
    expect(monthEnd('2028-02')).toBe('2028-02-29');
    expect(shiftMonth('2027-01', -1)).toBe('2026-12');
    expect(shiftMonth('2027-12', 1)).toBe('2028-01');
  });

  it('expands repeating and multi-day events per day across a month boundary and marks holidays', async () => {
    const p = tp().platform;
    const s = await buildSite(p, 'cal');
    await s.page('golden', 'ゴールデンウィーク市', 'event', { event: { dates: { kind: 'range', from: '2027-04-29', to: '2027-05-02' } } });
    await s.page('yoga', '月曜ヨガ', 'event', { event: { dates: { kind: 'weekly', from: '2027-04-19', to: '2027-05-10', weekdays: [1] }, startTime: '10:00', endTime: '11:00' } });
    await s.page('picked', '指定日の講座', 'event', { event: { dates: { kind: 'list', dates: ['2027-04-03', '2027-05-15'] }, startTime: '13:30' } });
    await s.page('draft', '下書きのイベント', 'event', { event: { dates: { kind: 'single', date: '2027-04-10' } } }, false);
    await s.page('news', 'イベントでないページ', 'news', {});
    const visitor = new HttpClient(tp().baseUrl, FRESH);

    const april = await visitor.get(`${s.prefix}/events/?month=2027-04`);
    expect(april.status).toBe(200);
    const a = monthCells(april.text);
    expect(DomUtils.textContent(DomUtils.getElementsByTagName('caption', a.table, true)[0]!)).toBe('2027年4月のイベントカレンダー');
    const heads = DomUtils.getElementsByTagName('th', a.table, true);
    expect(heads.map((h) => [DomUtils.textContent(h), h.attribs.scope])).toEqual(['日', '月', '火', '水', '木', '金', '土'].map((w) => [w, 'col']));
    expect(a.cells).toHaveLength(30);
    expect(a.events).toEqual({
      '2027-04-03': ['指定日の講座'],
      '2027-04-19': ['月曜ヨガ'],
      '2027-04-26': ['月曜ヨガ'],
      '2027-04-29': ['ゴールデンウィーク市'],
      '2027-04-30': ['ゴールデンウィーク市'],
    });
    expect(a.holidays).toEqual({ '2027-04-29': '祝日 昭和の日' });
    // 1 April 2027 is a Thursday: four blank cells before it.
    const firstRow = DomUtils.getElementsByTagName('tr', DomUtils.getElementsByTagName('tbody', a.table, true)[0]!, true)[0]!;
    expect(DomUtils.getElementsByTagName('td', firstRow, true).map((td) => td.attribs['data-day'] ?? '')).toEqual(['', '', '', '', '2027-04-01', '2027-04-02', '2027-04-03']);
    expect(april.text).toContain(`href="${s.prefix}/events/?month=2027-03" rel="prev"`);
    expect(april.text).toContain(`href="${s.prefix}/events/?month=2027-05" rel="next"`);

    const may = monthCells((await visitor.get(`${s.prefix}/events/?month=2027-05`)).text);
    expect(may.events).toEqual({
      '2027-05-01': ['ゴールデンウィーク市'],
      '2027-05-02': ['ゴールデンウィーク市'],
      '2027-05-03': ['月曜ヨガ'],
      '2027-05-10': ['月曜ヨガ'],
      '2027-05-15': ['指定日の講座'],
    });
    expect(may.holidays).toEqual({ '2027-05-03': '祝日 憲法記念日', '2027-05-04': '祝日 みどりの日', '2027-05-05': '祝日 こどもの日' });

    // The list view: days with events as headings, in order, each listing its events with times.
    const list = parseDocument((await visitor.get(`${s.prefix}/events/?month=2027-05&view=list`)).text);
    const days = DomUtils.findAll(byClass('event-day'), list.children).map((h) => DomUtils.textContent(h));
    expect(days).toEqual(['5月1日（土）', '5月2日（日）', '5月3日（月） 祝日 憲法記念日', '5月10日（月）', '5月15日（土）']);
    const yoga = DomUtils.findAll(byClass('event-list'), list.children)[2]!;
    expect(DomUtils.textContent(yoga).replace(/\s+/g, ' ').trim()).toBe('月曜ヨガ 10:00～11:00');

    // A bad month falls back to the current one; the iCal feed is served.
    expect((await visitor.get(`${s.prefix}/events/?month=2027-13`)).status).toBe(200);
    const ics = await visitor.get(`${s.prefix}/events/calendar.ics`);
    expect(ics.status).toBe(200);
    expect(ics.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    expect(ics.text).toContain('BEGIN:VCALENDAR');
  });

  it('filters the calendar by category', async () => {
    const p = tp().platform;
    const s = await buildSite(p, 'calcat');
    const sports = await categoriesOf(p).create(systemActor(p), { siteId: s.siteId, slug: 'sports', name: 'スポーツ' }, meta);
    await s.page('run', '市民マラソン', 'event', { categories: [sports], event: { dates: { kind: 'single', date: '2027-06-06' } } });
    await s.page('art', '美術展', 'event', { event: { dates: { kind: 'single', date: '2027-06-07' } } });
    const all = monthCells((await new HttpClient(tp().baseUrl, FRESH).get(`${s.prefix}/events/?month=2027-06`)).text);
    expect(Object.values(all.events).flat().sort()).toEqual(['市民マラソン', '美術展']);
    const only = monthCells((await new HttpClient(tp().baseUrl, FRESH).get(`${s.prefix}/events/?month=2027-06&category=${sports}`)).text);
    expect(only.events).toEqual({ '2027-06-06': ['市民マラソン'] });
  });

  it('the map page lists the spots as text, filtered by category and word, and allows the tile host only there', async () => {
    const p = tp().platform;
    const s = await buildSite(p, 'map');
    const culture = await categoriesOf(p).create(systemActor(p), { siteId: s.siteId, slug: 'bunka', name: '文化施設' }, meta);
    await s.page('library', 'みなと図書館', 'spot', { categories: [culture], spot: { address: '港町1-2', lat: 35.1, lng: 139.1 } });
    await s.page('museum', '郷土資料館', 'spot', { categories: [culture], spot: { address: '山手2-3', lat: 35.2, lng: 139.2 } });
    await s.page('park', '中央公園', 'spot', { spot: { address: '港町5-1', lat: 35.3, lng: 139.3 } });
    await s.page('nowhere', '位置のないスポット', 'spot', {});
    const visitor = new HttpClient(tp().baseUrl, FRESH);
    const rows = (html: string) =>
      DomUtils.findAll((el) => el.name === 'tr' && Boolean(el.attribs['data-node-id']), parseDocument(html).children).map((tr) =>
        DomUtils.getChildren(tr)
          .filter((n): n is Element => n.type === 'tag')
          .map((c) => DomUtils.textContent(c)),
      );

    const all = await visitor.get(`${s.prefix}/map/`);
    expect(all.status).toBe(200);
    expect(rows(all.text).sort((a, b) => a[0]!.localeCompare(b[0]!))).toEqual(
      [
        ['みなと図書館', '港町1-2', '文化施設'],
        ['中央公園', '港町5-1', ''],
        ['郷土資料館', '山手2-3', '文化施設'],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
    expect(rows(all.text)).toHaveLength(3);
    expect(all.headers.get('content-security-policy')).toMatch(/img-src [^;]*https:\/\/cyberjapandata\.gsi\.go\.jp/);
    expect((await visitor.get(`${s.prefix}/`)).headers.get('content-security-policy')).not.toContain('cyberjapandata');
    expect(all.text).toMatch(/<script type="module" src="\/assets\/spot-map\.[0-9a-f]+\.js" nonce="/);

    expect(rows((await visitor.get(`${s.prefix}/map/?category=${culture}`)).text).map((r) => r[0]).sort()).toEqual(['みなと図書館', '郷土資料館'].sort());
    expect(rows((await visitor.get(`${s.prefix}/map/?q=${encodeURIComponent('港町')}`)).text).map((r) => r[0]).sort()).toEqual(['みなと図書館', '中央公園'].sort());
    expect(rows((await visitor.get(`${s.prefix}/map/?q=${encodeURIComponent('港町　図書')}&category=${culture}`)).text).map((r) => r[0])).toEqual(['みなと図書館']);
    const none = await visitor.get(`${s.prefix}/map/?q=${encodeURIComponent('存在しない')}`);
    expect(none.text).toContain('条件に合うスポットはありません。');
    expect(none.text).not.toContain('id="spot-map"');
  });

  it('embeds the markers as JSON that a hostile title cannot break out of', async () => {
    const p = tp().platform;
    const s = await buildSite(p, 'mapxss');
    const evil = `</script><script>alert("x")</script><!-- & \u2028 -->終わり`;
    await s.page('evil', evil, 'spot', { spot: { address: '<b>住所</b>', lat: 35.5, lng: 139.5 } });
    const html = (await new HttpClient(tp().baseUrl, FRESH).get(`${s.prefix}/map/`)).text;
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b>住所</b>');
    const doc = parseDocument(html);
    const scripts = DomUtils.getElementsByTagName('script', doc, true);
    const data = scripts.find((el) => el.attribs.id === 'spot-map-data')!;
    expect(scripts.filter((el) => !el.attribs.src && el.attribs.type !== 'application/json')).toEqual([]);
    const spots = JSON.parse(DomUtils.textContent(data)) as Array<{ title: string; address: string; lat: number; url: string }>;
    expect(spots).toEqual([{ id: expect.any(Number), title: evil, url: `${s.prefix}/info/evil`, lat: 35.5, lng: 139.5, address: '<b>住所</b>' }]);
    expect(jsonForScript({ t: '</script>' })).toBe('{"t":"\\u003c/script\\u003e"}');
  });
});
