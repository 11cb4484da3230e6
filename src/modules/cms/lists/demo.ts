import { sql } from 'kysely';
import type { Platform } from '../../../core/platform.js';
import { consoleActor } from '../../../core/permissions/index.js';
import type { CmsServices } from '../index.js';
import { addDays } from '../types/fields.js';
import type { ListService } from './service.js';

const meta = { ip: 'console', userAgent: 'demo content' };

const jstToday = () => new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);

/**
 * On the demo city site: a 新着情報 list (news, 10 items, one pinned) and an イベント list on the
 * top page, and the calendar and map in the header menu. Adds a few news, event and spot pages
 * when the page types' own demo has not. Idempotent: does nothing once the site has a list.
 */
export async function seedListsDemo(p: Platform, cms: CmsServices, lists: ListService): Promise<void> {
  const site = (await cms.sites.all()).find((s) => s.key === 'aoba');
  if (!site || (await lists.bySite(site.id)).length) return;
  const actor = consoleActor(p.permissions);
  const root = await cms.pages.root(site.id);
  const today = jstToday();

  const count = async (type: string) =>
    Number((await p.db.selectFrom('cms_nodes').select((eb) => eb.fn.countAll<number>().as('n')).where('site_id', '=', site.id).where('page_type', '=', type).where('status', '=', 'published').executeTakeFirst())?.n ?? 0);
  const folder = async (slug: string, title: string, body: string) => {
    const found = await lists.nodeAt(site.id, `/${slug}/`);
    if (found) return found.id;
    const id = await cms.pages.create(actor, { siteId: site.id, parentId: root.id, kind: 'folder', slug, title, body, sortOrder: 10 }, meta);
    await cms.pages.publish(actor, id, meta);
    return id;
  };
  const page = async (parentId: number, slug: string, title: string, pageType: string, fields: Record<string, unknown>, body: string, summary?: string) => {
    const id = await cms.pages.create(actor, { siteId: site.id, parentId, kind: 'page', slug, title, pageType, fields, body, summary }, meta);
    await cms.pages.publish(actor, id, meta);
    return id;
  };

  let pinned: number | null = null;
  if ((await count('news')) < 3) {
    const news = await folder('oshirase', 'お知らせ', '<p>市からのお知らせです。</p>');
    const items: Array<[string, string, Record<string, unknown>, string]> = [
      ['kokuho-2026', '国民健康保険税の納付書を発送しました', { news: { important: false, urgent: false } }, '<p>6月中旬に納付書を発送しました。</p>'],
      ['gomi-nenmatsu', '年末年始のごみ収集日程', { news: { important: true, urgent: false } }, '<p>12月31日から1月3日までは収集を休みます。</p>'],
      ['suido-kouji', '中央地区の断水のお知らせ', { news: { important: false, urgent: true } }, '<p>水道管工事のため、断水します。</p>'],
      ['mynumber', 'マイナンバーカードの休日窓口を開きます', { news: { important: false, urgent: false } }, '<p>毎月第2日曜日に開きます。</p>'],
    ];
    for (const [slug, title, fields, body] of items) {
      const id = await page(news, slug, title, 'news', fields, body);
      if (slug === 'gomi-nenmatsu') pinned = id;
    }
  }
  if ((await count('event')) < 2) {
    const kankou = (await lists.nodeAt(site.id, '/kankou/'))?.id ?? (await folder('kankou', '観光・イベント', '<p>季節のイベントです。</p>'));
    const at = (n: number) => addDays(today, n);
    await page(kankou, 'natsu-matsuri', 'あおば夏まつり', 'event', { event: { dates: { kind: 'range', from: at(10), to: at(12) }, startTime: '17:00', endTime: '21:00', venue: 'あおば中央公園', address: 'みどり県あおば市中央1-1' } }, '<p>3日間、夜店と盆踊りでにぎわいます。</p>', '中央公園で3日間開催します。');
    await page(kankou, 'asaichi', 'あおば朝市', 'event', { event: { dates: { kind: 'weekly', from: at(0), to: at(90), weekdays: [0] }, startTime: '07:00', endTime: '10:00', venue: 'あおば駅前広場' } }, '<p>毎週日曜日の朝、地元の野菜が並びます。</p>', '毎週日曜日の朝に開きます。');
    await page(kankou, 'kenko-koza', '健康づくり講座', 'event', { event: { dates: { kind: 'single', date: at(20) }, startTime: '10:00', endTime: '11:30', venue: 'あおば市民センター' } }, '<p>保健師がお話しします。</p>');
  }
  if ((await count('spot')) < 2) {
    const spots = await folder('spots', '施設・スポット', '<p>市内の施設と見どころです。</p>');
    await page(spots, 'shiyakusho', 'あおば市役所', 'spot', { spot: { address: 'みどり県あおば市中央1-1', lat: 38.2682, lng: 140.8694 } }, '<p>市役所の本庁舎です。</p>');
    await page(spots, 'toshokan', 'あおば市立図書館', 'spot', { spot: { address: 'みどり県あおば市本町2-3', lat: 38.2644, lng: 140.8745, hours: '9時～19時' } }, '<p>蔵書30万冊の図書館です。</p>');
    await page(spots, 'kawara-koen', 'あおば川河川敷公園', 'spot', { spot: { address: 'みどり県あおば市川原町', lat: 38.2561, lng: 140.8627 } }, '<p>さくらまつりの会場です。</p>');
  }

  const newsList = await lists.create(
    actor,
    site.id,
    { heading: '新着情報', hostPath: '/', position: 0, sourcePath: '/', pageTypes: ['news'], marks: 'all', limit: 10, showMore: true, columns: ['date', 'marks', 'title', 'category'], dateFormat: 'ja', sort: 'newest', urgentFirst: true },
    meta,
  );
  // Pin one notice (a 重要 one when the page types' demo wrote them) so the demo shows 固定表示.
  pinned ??=
    (
      await p.db
        .selectFrom('cms_nodes')
        .leftJoin('cms_list_facts', 'cms_list_facts.node_id', 'cms_nodes.id')
        .select('cms_nodes.id')
        .where('cms_nodes.site_id', '=', site.id)
        .where('cms_nodes.page_type', '=', 'news')
        .where('cms_nodes.status', '=', 'published')
        .orderBy(sql`coalesce(${sql.ref('cms_list_facts.important')}, 0)`, 'desc')
        .orderBy('cms_nodes.id')
        .executeTakeFirst()
    )?.id ?? null;
  if (pinned !== null) await lists.pin(actor, newsList, pinned, meta);
  await lists.create(
    actor,
    site.id,
    { heading: 'イベント情報', hostPath: '/', position: 1, sourcePath: '/', pageTypes: ['event'], marks: 'all', limit: 5, showMore: true, columns: ['eventDate', 'title', 'summary'], dateFormat: 'ja', sort: 'event', urgentFirst: false },
    meta,
  );

  const menu = site.settings.headerMenu;
  const extra = [
    { label: 'イベントカレンダー', href: '/events/' },
    { label: 'スポットマップ', href: '/map/' },
  ].filter((m) => !menu.some((x) => x.href === m.href));
  if (extra.length && menu.length + extra.length <= 12) {
    await cms.sites.update(actor, site.id, { name: site.name, nameEn: site.nameEn ?? undefined, host: site.host ?? '', pathPrefix: site.pathPrefix, organizationId: site.organizationId, settings: { ...site.settings, headerMenu: [...menu, ...extra] } }, meta);
  }
}
