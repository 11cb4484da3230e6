import { DomUtils, parseDocument } from 'htmlparser2';
import { beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import type { Platform } from '../../../core/platform.js';
import { cmsOf } from '../index.js';
import { categoriesOf } from './categories.js';
import { contactsOf } from './contacts.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };
const PREFIX = '/s/types';

type Doc = ReturnType<typeof parseDocument>;
const doc = (html: string): Doc => parseDocument(html);
const byAttr = (d: Doc, attr: string, value: string) => DomUtils.findAll((e) => e.attribs[attr] === value, d.children);
/** The value attribute of the input named `name` (or the text of the textarea). */
function inputValue(d: Doc, name: string): string | undefined {
  const el = byAttr(d, 'name', name)[0];
  if (!el) return undefined;
  return el.name === 'textarea' ? DomUtils.textContent(el) : el.attribs.value;
}
function checkedValues(d: Doc, name: string): string[] {
  return byAttr(d, 'name', name).filter((e) => e.attribs.checked !== undefined).map((e) => e.attribs.value ?? '');
}
function jsonLd(html: string): Array<Record<string, unknown>> {
  const d = doc(html);
  return DomUtils.findAll((e) => e.name === 'script' && e.attribs.type === 'application/ld+json', d.children).map((e) => JSON.parse(DomUtils.textContent(e)) as Record<string, unknown>);
}

interface Fixture {
  siteId: number;
  rootId: number;
  cityId: number;
  deptId: number;
  admin: { loginId: string; password: string };
}

async function buildSite(p: Platform): Promise<Fixture> {
  const cms = cmsOf(p);
  const cityId = await createOrganization(p, { name: '型テスト市' });
  const deptId = await createOrganization(p, { name: '型テスト市 観光課', kind: 'department', parentId: cityId });
  const siteId = await cms.sites.create(systemActor(p), { key: 'typesite', name: '型テスト市', pathPrefix: PREFIX, organizationId: cityId }, meta);
  const root = await cms.pages.root(siteId);
  await cms.pages.publish(systemActor(p), root.id, meta);
  const admin = await createStaff(p, { roles: ['site_admin'], organizationId: cityId });
  return { siteId, rootId: root.id, cityId, deptId, admin };
}

describePlatform('CMS page types, categories and contacts', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let f: Fixture;
  const visitor = () => new HttpClient(tp().baseUrl);
  const staff = async () => {
    const c = new HttpClient(tp().baseUrl);
    await c.login(f.admin.loginId, f.admin.password);
    return c;
  };
  /** Creates a page of a type through the editor form; returns its id. */
  const createThroughEditor = async (c: HttpClient, form: Record<string, string | string[]>, intent = 'publish') => {
    await c.get(`/admin/cms/nodes/new?parent=${f.rootId}`);
    const res = await c.post('/admin/cms/nodes', { parentId: String(f.rootId), kind: 'page', summary: '', body: '<p>本文です。</p>', intent, ...form });
    expect(res.status, res.text.slice(0, 2000)).toBe(303);
    return Number(/nodes\/(\d+)/.exec(res.location!)![1]);
  };

  beforeAll(async () => {
    f = await buildSite(tp().platform);
  });

  it('categories admin: create 大分類 and 小分類, rename, reorder, refuse to delete while used; editors are refused', async () => {
    const p = tp().platform;
    const c = await staff();
    await c.get('/admin/cms/categories');
    expect((await c.post('/admin/cms/categories', { siteId: String(f.siteId), name: '子育て', slug: 'kosodate', parentId: '', description: '' })).status).toBe(303);
    expect((await c.post('/admin/cms/categories', { siteId: String(f.siteId), name: 'くらし', slug: 'kurashi', parentId: '', description: '' })).status).toBe(303);
    const dup = await c.post('/admin/cms/categories', { siteId: String(f.siteId), name: '重複', slug: 'kosodate', parentId: '', description: '' });
    expect(dup.status).toBe(422);
    expect(dup.text).toContain('URLの名前「kosodate」はこのサイトで既に使われています。');
    expect(inputValue(doc(dup.text), 'name')).toBe('重複');
    const bad = await c.post('/admin/cms/categories', { siteId: String(f.siteId), name: '', slug: 'Bad Slug', parentId: '', description: '' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('分野の名前を入力してください。');
    expect(bad.text).toContain('URLの名前は半角英小文字・数字・ハイフンで入力してください');
    const cats = categoriesOf(p);
    const kurashi = (await cats.bySlug(f.siteId, 'kurashi'))!;
    expect((await c.post('/admin/cms/categories', { siteId: String(f.siteId), name: 'ごみ', slug: 'gomi', parentId: String(kurashi.id), description: '' })).status).toBe(303);
    const gomi = (await cats.bySlug(f.siteId, 'gomi'))!;
    // Two levels only.
    const deep = await c.post('/admin/cms/categories', { siteId: String(f.siteId), name: '粗大', slug: 'sodai', parentId: String(gomi.id), description: '' });
    expect(deep.status).toBe(422);
    expect(deep.text).toContain('2階層まで');
    await c.get(`/admin/cms/categories/${kurashi.id}`);
    expect((await c.post(`/admin/cms/categories/${kurashi.id}`, { name: 'くらし・手続き', slug: 'kurashi', parentId: '', description: '暮らしの情報' })).status).toBe(303);
    expect((await cats.get(kurashi.id))!.name).toBe('くらし・手続き');
    await c.get('/admin/cms/categories');
    expect((await c.post(`/admin/cms/categories/${kurashi.id}/move`, { direction: 'up' })).status).toBe(303);
    expect((await cats.list(f.siteId)).map((x) => x.slug)).toEqual(['kurashi', 'gomi', 'kosodate']);
    // A page (even a draft) names the category: deletion is refused, saying why.
    await cmsOf(p).pages.create(systemActor(p), { siteId: f.siteId, parentId: f.rootId, kind: 'page', slug: 'uses-kosodate', title: '下書き', fields: { categories: [(await cats.bySlug(f.siteId, 'kosodate'))!.id] } }, meta);
    const kosodate = (await cats.bySlug(f.siteId, 'kosodate'))!;
    await c.get(`/admin/cms/categories/${kosodate.id}`);
    const refused = await c.post(`/admin/cms/categories/${kosodate.id}/delete`, {});
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('分野「子育て」は1件のページで使われているため削除できません。');
    await c.get(`/admin/cms/categories/${kurashi.id}`);
    const parent = await c.post(`/admin/cms/categories/${kurashi.id}/delete`, {});
    expect(parent.text).toContain('小分類が1個あるため削除できません');
    await c.post('/admin/cms/categories', { siteId: String(f.siteId), name: '消す分野', slug: 'temp', parentId: '', description: '' });
    const temp = (await cats.bySlug(f.siteId, 'temp'))!;
    await c.get(`/admin/cms/categories/${temp.id}`);
    expect((await c.post(`/admin/cms/categories/${temp.id}/delete`, {})).status).toBe(303);
    expect(await cats.get(temp.id)).toBeUndefined();
    const actions = (await p.audit.list({ targetType: 'cms_category' }, { limit: 50 })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.category_create', 'cms.category_update', 'cms.category_reorder', 'cms.category_delete']));

    const editor = await createStaff(p, { roles: ['editor'], organizationId: f.cityId });
    const e = new HttpClient(tp().baseUrl);
    await e.login(editor.loginId, editor.password);
    expect((await e.get('/admin/cms/categories')).status).toBe(403);
    expect((await e.get('/admin/cms/contacts')).status).toBe(403);
    // Another municipality's site administrator does not see this site's categories.
    const other = await createStaff(p, { roles: ['site_admin'], organizationId: await createOrganization(p, { name: '別の市' }) });
    const o = new HttpClient(tp().baseUrl);
    await o.login(other.loginId, other.password);
    expect((await o.get(`/admin/cms/categories/${kurashi.id}`)).status).toBe(404);
  });

  it('news: the editor round-trips 重要/緊急 and the end hint; the public page shows the marks as words and the date', async () => {
    const c = await staff();
    const cats = categoriesOf(tp().platform);
    const kosodate = (await cats.bySlug(f.siteId, 'kosodate'))!;
    const id = await createThroughEditor(c, { pageType: 'news', slug: 'news-1', title: '保育園の申込み', news_urgent: '1', news_important: '1', news_end: '2026-05-31', categories: [String(kosodate.id)], tags: '保育園、申込み' });
    const edit = doc((await c.get(`/admin/cms/nodes/${id}`)).text);
    expect(byAttr(edit, 'data-testid', 'news-fields')).toHaveLength(1);
    expect(byAttr(edit, 'data-testid', 'event-fields')).toHaveLength(0);
    expect(checkedValues(edit, 'news_urgent')).toEqual(['1']);
    expect(inputValue(edit, 'news_end')).toBe('2026-05-31');
    expect(checkedValues(edit, 'categories')).toEqual([String(kosodate.id)]);
    expect(inputValue(edit, 'tags')).toBe('保育園、申込み');
    // A bad date: 422, the message, the other inputs kept, nothing saved.
    const bad = await c.post(`/admin/cms/nodes/${id}`, { title: '保育園の申込み（更新）', body: '<p>x</p>', news_important: '1', news_end: '2026-02-30', intent: 'save' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('存在しない日付です。');
    const kept = doc(bad.text);
    expect(inputValue(kept, 'title')).toBe('保育園の申込み（更新）');
    expect(checkedValues(kept, 'news_important')).toEqual(['1']);
    expect(checkedValues(kept, 'news_urgent')).toEqual([]);
    expect(inputValue(kept, 'news_end')).toBe('2026-02-30');
    const page = await visitor().get(`${PREFIX}/news-1`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<span class="mark-badge mark-badge--urgent">緊急<\/span>/);
    expect(page.text).toMatch(/<span class="mark-badge mark-badge--important">重要<\/span>/);
    expect(page.text).toContain('掲載期間の目安: 2026年5月31日（日）まで');
    expect(page.text).toMatch(/掲載日: <time datetime="[^"]+">\d{4}年\d{1,2}月\d{1,2}日<\/time>/);
    expect(page.text).toContain(`<a href="${PREFIX}/category/kosodate/">子育て</a>`);
  });

  it('event: weekly dates through the editor, public date list with 曜日, iCal at .ics and ?format=ics, JSON-LD Event', async () => {
    const c = await staff();
    const form = {
      pageType: 'event',
      slug: 'yoga',
      title: '親子ヨガ教室',
      summary: '毎週の教室です',
      event_kind: 'weekly',
      event_from: '2026-12-24',
      event_to: '2027-01-12',
      event_weekdays: ['1', '4'],
      event_start: '10:00',
      event_end: '11:30',
      event_venue: '市民センター',
      event_address: 'あおば市緑町4-2-1',
      event_lat: '35.6155',
      event_lng: '140.1008',
      event_fee: '無料',
      event_target: '親子',
      event_application: '電話で予約',
      event_contact: '子育て支援課',
    };
    // The type's inputs are not on the blank form yet: a missing date is asked for with the inputs shown.
    await c.get(`/admin/cms/nodes/new?parent=${f.rootId}`);
    const missing = await c.post('/admin/cms/nodes', { parentId: String(f.rootId), kind: 'page', body: '', ...form, event_from: '', intent: 'publish' });
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('開始日を入力してください。');
    expect(byAttr(doc(missing.text), 'data-testid', 'event-fields')).toHaveLength(1);
    expect(inputValue(doc(missing.text), 'event_venue')).toBe('市民センター');
    const id = await createThroughEditor(c, form);
    const edit = doc((await c.get(`/admin/cms/nodes/${id}`)).text);
    expect(checkedValues(edit, 'event_kind')).toEqual(['weekly']);
    expect(checkedValues(edit, 'event_weekdays')).toEqual(['1', '4']);
    expect(inputValue(edit, 'event_from')).toBe('2026-12-24');
    expect(inputValue(edit, 'event_lat')).toBe('35.6155');
    expect(inputValue(edit, 'event_application')).toBe('電話で予約');
    const badPin = await c.post(`/admin/cms/nodes/${id}`, { ...form, event_lat: '95', intent: 'save' });
    expect(badPin.status).toBe(422);
    expect(badPin.text).toContain('緯度は日本の範囲（20〜46）で入力してください。');
    expect(inputValue(doc(badPin.text), 'event_lat')).toBe('95');

    const page = await visitor().get(`${PREFIX}/yoga`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('2026年12月24日（木）～2027年1月11日（月）の毎週月曜日・木曜日（全6回）　10時～11時30分');
    for (const d of ['2026年12月28日（月）', '2026年12月31日（木）', '2027年1月4日（月）']) expect(page.text).toContain(d);
    expect(page.text).toContain('https://maps.gsi.go.jp/#16/35.6155/140.1008/');
    expect(page.text).toContain(`href="${PREFIX}/yoga.ics"`);
    const ld = jsonLd(page.text).find((x) => x['@type'] === 'Event');
    expect(ld).toMatchObject({ '@context': 'https://schema.org', '@type': 'Event', name: '親子ヨガ教室', startDate: '2026-12-24T10:00:00+09:00', endDate: '2027-01-11T11:30:00+09:00' });
    expect(ld!.location).toMatchObject({ '@type': 'Place', name: '市民センター', geo: { latitude: 35.6155, longitude: 140.1008 } });
    expect(ld!.eventSchedule).toMatchObject({ repeatFrequency: 'P1W', byDay: ['https://schema.org/Monday', 'https://schema.org/Thursday'] });

    for (const path of [`${PREFIX}/yoga.ics`, `${PREFIX}/yoga?format=ics`]) {
      const ics = await visitor().get(path);
      expect(ics.status).toBe(200);
      expect(ics.headers.get('content-type')).toContain('text/calendar');
      expect(ics.headers.get('content-disposition')).toContain('attachment');
      expect(ics.text).toContain('DTSTART;TZID=Asia/Tokyo:20261224T100000');
      expect(ics.text).toMatch(/RRULE:FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270111T145959Z/);
    }
    // Only public event pages have a calendar file.
    expect((await visitor().get(`${PREFIX}/news-1.ics`)).status).toBe(404);
    await cmsOf(tp().platform).pages.setTemporarilyHidden(systemActor(tp().platform), id, true, meta);
    expect((await visitor().get(`${PREFIX}/yoga.ics`)).status).toBe(404);
    await cmsOf(tp().platform).pages.setTemporarilyHidden(systemActor(tp().platform), id, false, meta);
  });

  it('spot: required address and position, details table with 地理院地図; article and interview: lead, byline, JSON-LD Article; video: player and transcript', async () => {
    const c = await staff();
    await c.get(`/admin/cms/nodes/new?parent=${f.rootId}`);
    const noPos = await c.post('/admin/cms/nodes', { parentId: String(f.rootId), kind: 'page', pageType: 'spot', slug: 'library', title: '中央図書館', body: '', spot_address: '本町1-8-3', intent: 'save' });
    expect(noPos.status).toBe(422);
    expect(noPos.text).toContain('緯度を入力してください（例: 35.6074）。');
    expect(inputValue(doc(noPos.text), 'spot_address')).toBe('本町1-8-3');
    const spotId = await createThroughEditor(c, { pageType: 'spot', slug: 'library', title: '中央図書館', spot_address: '本町1-8-3', spot_lat: '35.612', spot_lng: '140.115', spot_hours: '9時～19時', spot_wh_2_open: '09:00', spot_wh_2_close: '19:00', spot_closed: '月曜日', spot_phone: '000-000-2200', spot_url: 'https://lib.example.jp/', spot_accessibility: '車いす用トイレ' });
    const edit = doc((await c.get(`/admin/cms/nodes/${spotId}`)).text);
    expect(inputValue(edit, 'spot_wh_2_close')).toBe('19:00');
    expect(inputValue(edit, 'spot_accessibility')).toBe('車いす用トイレ');
    const spot = await visitor().get(`${PREFIX}/library`);
    expect(spot.text).toContain('<th scope="row">バリアフリー情報</th>');
    expect(spot.text).toContain('火曜日: 9時～19時');
    expect(spot.text).toContain('https://maps.gsi.go.jp/#16/35.612/140.115/');
    expect(spot.text).toContain('href="tel:0000002200"');

    await c.get(`/admin/cms/nodes/new?parent=${f.rootId}`);
    const longLead = await c.post('/admin/cms/nodes', { parentId: String(f.rootId), kind: 'page', pageType: 'article', slug: 'long', title: '長い記事', body: '', article_lead: 'あ'.repeat(501), article_author: '広報課', intent: 'save' });
    expect(longLead.status).toBe(422);
    expect(longLead.text).toContain('リード文は500文字以内で入力してください。');
    expect(inputValue(doc(longLead.text), 'article_author')).toBe('広報課');
    const artId = await createThroughEditor(c, { pageType: 'interview', slug: 'farmer', title: '梨農家に聞く', article_lead: '三代続く梨農家です。', article_interviewee: '山田花子さん', article_author: '広報課', article_credit: 'やまだ農園' });
    const edit2 = doc((await c.get(`/admin/cms/nodes/${artId}`)).text);
    expect(inputValue(edit2, 'article_interviewee')).toBe('山田花子さん');
    const art = await visitor().get(`${PREFIX}/farmer`);
    expect(art.text).toContain('<p class="lead">三代続く梨農家です。</p>');
    expect(art.text).toContain('お話を伺った方: 山田花子さん');
    expect(art.text).toContain('写真: やまだ農園');
    const ld = jsonLd(art.text).find((x) => x['@type'] === 'Article');
    expect(ld).toMatchObject({ '@type': 'Article', headline: '梨農家に聞く', author: { '@type': 'Person', name: '広報課' }, publisher: { '@type': 'Organization', name: '型テスト市' } });
    expect(Date.parse(String(ld!.datePublished))).not.toBeNaN();

    await c.get(`/admin/cms/nodes/new?parent=${f.rootId}`);
    const badVideo = await c.post('/admin/cms/nodes', { parentId: String(f.rootId), kind: 'page', pageType: 'video', slug: 'movie', title: '動画', body: '', video_url: 'https://evil.example/x.mp4', video_transcript: '文字起こし', intent: 'save' });
    expect(badVideo.status).toBe(422);
    expect(inputValue(doc(badVideo.text), 'video_transcript')).toBe('文字起こし');
    const vidId = await createThroughEditor(c, { pageType: 'video', slug: 'movie', title: 'ごみの出し方', video_url: 'https://youtu.be/dQw4w9WgXcQ', video_duration: '3:20', video_transcript: 'こんにちは。\nごみの出し方です。' });
    expect(inputValue(doc((await c.get(`/admin/cms/nodes/${vidId}`)).text), 'video_duration')).toBe('3:20');
    const vid = await visitor().get(`${PREFIX}/movie`);
    expect(vid.text).toContain('src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"');
    expect(vid.text).toContain('title="動画: ごみの出し方"');
    expect(vid.text).toContain('再生時間: 3分20秒');
    expect(vid.text).toContain('動画の内容（文字起こし）');
  });

  it('every text field is escaped on the public page, in JSON-LD too (</script> cannot break out)', async () => {
    const c = await staff();
    const x = `</script><script>alert(1)</script>"><img src=x onerror=alert(2)>`;
    await createThroughEditor(c, { pageType: 'event', slug: 'xss-event', title: `イベント${x}`, summary: `概要${x}`, event_kind: 'single', event_date: '2026-06-01', event_venue: x, event_address: x, event_fee: x, event_target: x, event_application: x, event_contact: x, tags: '</script><b>t' });
    await createThroughEditor(c, { pageType: 'spot', slug: 'xss-spot', title: `施設${x}`, spot_address: x, spot_lat: '35.6', spot_lng: '140.1', spot_hours: x, spot_closed: x, spot_accessibility: x });
    await createThroughEditor(c, { pageType: 'article', slug: 'xss-article', title: `記事${x}`, article_lead: x, article_author: x, article_credit: x });
    await createThroughEditor(c, { pageType: 'interview', slug: 'xss-interview', title: `談${x}`, article_interviewee: x });
    await createThroughEditor(c, { pageType: 'video', slug: 'xss-video', title: `動画${x}`, video_url: 'https://youtu.be/dQw4w9WgXcQ', video_description: x, video_transcript: x });
    await createThroughEditor(c, { pageType: 'news', slug: 'xss-news', title: `お知らせ${x}` });
    for (const slug of ['xss-event', 'xss-spot', 'xss-article', 'xss-interview', 'xss-video', 'xss-news']) {
      const html = (await visitor().get(`${PREFIX}/${slug}`)).text;
      expect(html, slug).not.toContain('<script>alert');
      expect(html, slug).not.toContain('<img src=x');
      expect(html, slug).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
      const scripts = DomUtils.findAll((e) => e.name === 'script', doc(html).children);
      // Nothing executable came from the fields: other scripts are the site's own.
      for (const s of scripts.filter((e) => e.attribs.type !== 'application/ld+json')) expect(DomUtils.textContent(s), slug).not.toContain('alert');
      const own = jsonLd(html).filter((ld) => ld['@type'] === 'Event' || ld['@type'] === 'Article');
      expect(own.length, slug).toBe(slug === 'xss-event' || slug === 'xss-article' || slug === 'xss-interview' ? 1 : 0);
      for (const ld of own) expect(JSON.stringify(ld)).toContain('alert(1)');
    }
    const ev = jsonLd((await visitor().get(`${PREFIX}/xss-event`)).text).find((x) => x['@type'] === 'Event');
    expect(ev).toMatchObject({ '@type': 'Event', name: `イベント${x}`, description: `概要${x}` });
  });

  it('a category page lists its public pages newest first and follows publish, hide and withdrawal at once', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const cats = categoriesOf(p);
    const gomi = (await cats.bySlug(f.siteId, 'gomi'))!;
    const kurashi = (await cats.bySlug(f.siteId, 'kurashi'))!;
    const folder = await cms.pages.create(systemActor(p), { siteId: f.siteId, parentId: f.rootId, kind: 'folder', slug: 'gomi', title: 'ごみ' }, meta);
    await cms.pages.publish(systemActor(p), folder, meta);
    const ids: number[] = [];
    for (let i = 1; i <= 23; i++) {
      const id = await cms.pages.create(systemActor(p), { siteId: f.siteId, parentId: folder, kind: 'page', slug: `g${i}`, title: `ごみのお知らせ${i}`, pageType: 'news', fields: { categories: [gomi.id] } }, meta);
      await cms.pages.publish(systemActor(p), id, meta);
      // Distinct publication times, so "newest first" is observable.
      await p.db.updateTable('cms_nodes').set({ published_at: new Date(Date.UTC(2026, 0, i)).toISOString() }).where('id', '=', id).execute();
      await p.db.updateTable('cms_node_categories').set({ published_at: new Date(Date.UTC(2026, 0, i)).toISOString() }).where('node_id', '=', id).execute();
      ids.push(id);
    }
    const titles = (html: string) => DomUtils.findAll((e) => e.attribs['data-testid'] === 'category-pages', doc(html).children).flatMap((ul) => DomUtils.getElementsByTagName('a', ul).map((a) => DomUtils.textContent(a)));
    const first = await visitor().get(`${PREFIX}/category/gomi/`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-render-cache')).toBeNull();
    expect(first.text).toContain('23件のページ');
    expect(titles(first.text).slice(0, 3)).toEqual(['ごみのお知らせ23', 'ごみのお知らせ22', 'ごみのお知らせ21']);
    expect(titles(first.text)).toHaveLength(20);
    const second = await visitor().get(`${PREFIX}/category/gomi/?page=2`);
    expect(titles(second.text)).toEqual(['ごみのお知らせ3', 'ごみのお知らせ2', 'ごみのお知らせ1']);
    // The 大分類 lists its 小分類' pages.
    expect((await visitor().get(`${PREFIX}/category/kurashi/`)).text).toContain('23件のページ');
    expect((await visitor().get(`${PREFIX}/category/gomi`)).status).toBe(301);
    expect((await visitor().get(`${PREFIX}/category/nothing/`)).status).toBe(404);

    await cms.pages.setTemporarilyHidden(systemActor(p), ids[22]!, true, meta);
    expect(titles((await visitor().get(`${PREFIX}/category/gomi/`)).text)[0]).toBe('ごみのお知らせ22');
    await cms.pages.unpublish(systemActor(p), ids[21]!, meta);
    expect(titles((await visitor().get(`${PREFIX}/category/gomi/`)).text)[0]).toBe('ごみのお知らせ21');
    expect((await cats.nodesIn(gomi.id)).total).toBe(21);
    await cms.pages.setTemporarilyHidden(systemActor(p), ids[22]!, false, meta);
    expect(titles((await visitor().get(`${PREFIX}/category/gomi/`)).text)[0]).toBe('ごみのお知らせ23');
    // A page moved out of the category by a new version leaves the list when that version goes live.
    await cms.pages.saveDraft(systemActor(p), ids[22]!, { title: 'ごみのお知らせ23', fields: { categories: [] } }, meta);
    expect((await cats.nodesIn(gomi.id)).total).toBe(22);
    await cms.pages.publish(systemActor(p), ids[22]!, meta);
    expect((await cats.nodesIn(gomi.id)).total).toBe(21);
    expect((await cats.nodesIn(kurashi.id)).total).toBe(21);
    // A withdrawn folder hides the pages below it.
    await cms.pages.setTemporarilyHidden(systemActor(p), folder, true, meta);
    expect((await visitor().get(`${PREFIX}/category/gomi/`)).text).toContain('0件のページ');
    await cms.pages.setTemporarilyHidden(systemActor(p), folder, false, meta);
    expect((await cats.nodesIn(gomi.id, { pageTypes: ['news'] })).total).toBe(21);
    expect((await cats.nodesIn(gomi.id, { pageTypes: ['event'] })).total).toBe(0);
  });

  it('the top-level name category is kept for the category pages: staff cannot make a page there', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    expect((await visitor().get(`${PREFIX}/category/`)).text).toContain('分野から探す');
    await expect(cms.pages.create(systemActor(p), { siteId: f.siteId, parentId: f.rootId, kind: 'folder', slug: 'category', title: '独自の分類ページ' }, meta)).rejects.toMatchObject({ fields: { slug: expect.stringContaining('サイトの機能') } });
    expect((await visitor().get(`${PREFIX}/category/`)).text).toContain('分野から探す');
  });

  it('search filters by page type and category, with and without words, following publish at once', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const cats = categoriesOf(p);
    const kosodate = (await cats.bySlug(f.siteId, 'kosodate'))!;
    const gomi = (await cats.bySlug(f.siteId, 'gomi'))!;
    const make = async (slug: string, pageType: string, categories: number[], fields: Record<string, unknown> = {}) => {
      const id = await cms.pages.create(systemActor(p), { siteId: f.siteId, parentId: f.rootId, kind: 'page', slug, title: `なしまつり ${slug}`, pageType, body: '<p>なしまつりの案内</p>', fields: { categories, ...fields } }, meta);
      await cms.pages.publish(systemActor(p), id, meta);
      return id;
    };
    await make('nashi-news', 'news', [kosodate.id]);
    await make('nashi-event', 'event', [gomi.id], { event: { dates: { kind: 'single', date: '2026-09-01' } } });
    const std = await make('nashi-page', 'standard', []);
    const hits = async (query: string) => {
      const html = (await visitor().get(`${PREFIX}/search?${query}`)).text;
      return DomUtils.findAll((e) => e.name === 'ol' && (e.attribs.class ?? '').includes('search-results'), doc(html).children).flatMap((ol) => DomUtils.getElementsByTagName('a', ol).map((a) => a.attribs.href));
    };
    const q = 'q=' + encodeURIComponent('なしまつり');
    expect((await hits(q)).sort()).toEqual([`${PREFIX}/nashi-event`, `${PREFIX}/nashi-news`, `${PREFIX}/nashi-page`]);
    expect(await hits(`${q}&type=event`)).toEqual([`${PREFIX}/nashi-event`]);
    expect((await hits(`${q}&type=event&type=news`)).sort()).toEqual([`${PREFIX}/nashi-event`, `${PREFIX}/nashi-news`]);
    expect(await hits(`${q}&category=${kosodate.id}`)).toEqual([`${PREFIX}/nashi-news`]);
    // The 大分類 finds its 小分類' pages.
    const kurashi = (await cats.bySlug(f.siteId, 'kurashi'))!;
    expect(await hits(`${q}&category=${kurashi.id}`)).toEqual([`${PREFIX}/nashi-event`]);
    // Filters alone list pages newest first; unknown values are ignored, not searched for.
    expect(await hits(`type=event`)).toContain(`${PREFIX}/nashi-event`);
    expect((await hits(`type=event`)).every((h) => !h!.includes('nashi-news'))).toBe(true);
    expect((await hits(`${q}&type=bogus`)).length).toBe(3);
    // A new version changing the category moves the page in the filter as it goes live.
    await cms.pages.saveDraft(systemActor(p), std, { title: 'なしまつり nashi-page', body: '<p>なしまつりの案内</p>', fields: { categories: [kosodate.id] } }, meta);
    expect(await hits(`${q}&category=${kosodate.id}`)).toEqual([`${PREFIX}/nashi-news`]);
    await cms.pages.publish(systemActor(p), std, meta);
    expect((await hits(`${q}&category=${kosodate.id}`)).sort()).toEqual([`${PREFIX}/nashi-news`, `${PREFIX}/nashi-page`]);
    await cms.pages.unpublish(systemActor(p), std, meta);
    expect(await hits(`${q}&category=${kosodate.id}`)).toEqual([`${PREFIX}/nashi-news`]);
    const page = await visitor().get(`${PREFIX}/search?${q}&type=event`);
    expect(page.text).toContain('<legend>ページの種類で絞り込む</legend>');
    expect(checkedValues(doc(page.text), 'type')).toEqual(['event']);
  });

  it('the department contact block: the node organisation, or the 担当課 chosen in the editor; e-mail as a mailto link', async () => {
    const p = tp().platform;
    const c = await staff();
    await c.get(`/admin/cms/contacts/${f.deptId}`);
    const bad = await c.post(`/admin/cms/contacts/${f.deptId}`, { displayName: '', phone: 'でんわ', fax: '', email: 'not-mail', address: '', hours: '' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('電話番号は数字とハイフンで入力してください');
    expect(bad.text).toContain('メールアドレスの形式が正しくありません');
    expect(inputValue(doc(bad.text), 'email')).toBe('not-mail');
    await c.get(`/admin/cms/contacts/${f.deptId}`);
    expect((await c.post(`/admin/cms/contacts/${f.deptId}`, { displayName: '', phone: '000-111-2222', fax: '000-111-2223', email: 'kanko@example.lg.jp', address: '本庁舎2階', hours: '平日 8時30分～17時15分' })).status).toBe(303);
    await contactsOf(p).save(systemActor(p), f.cityId, { phone: '000-000-0000' }, meta);
    const id = await createThroughEditor(c, { pageType: 'standard', slug: 'contact-test', title: '問い合わせテスト' });
    expect((await visitor().get(`${PREFIX}/contact-test`)).text).toContain('型テスト市</p>');
    const edit = await c.get(`/admin/cms/nodes/${id}`);
    expect(edit.text).toContain('型テスト市 観光課');
    expect((await c.post(`/admin/cms/nodes/${id}`, { title: '問い合わせテスト', body: '<p>本文</p>', department: String(f.deptId), intent: 'publish' })).status).toBe(303);
    const html = (await visitor().get(`${PREFIX}/contact-test`)).text;
    expect(html).toContain('このページに関するお問い合わせ');
    expect(html).toContain('<p class="contact-name">型テスト市 観光課</p>');
    expect(html).toContain('<a href="mailto:kanko@example.lg.jp">kanko@example.lg.jp</a>');
    expect(html).toContain('<dd>平日 8時30分～17時15分</dd>');
    const bogus = await c.post(`/admin/cms/nodes/${id}`, { title: '問い合わせテスト', body: '<p>本文</p>', department: '99999', intent: 'save' });
    expect(bogus.status).toBe(422);
    expect(bogus.text).toContain('担当課を一覧から選んでください。');
    expect((await p.audit.list({ action: 'cms.contact_update' }, { limit: 5 })).rows.length).toBeGreaterThan(0);
  });
});
