import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENGINES, createTestDatabase, engineAvailable, type TestDatabase } from '../../../../test/helpers/db.js';
import type { PlatformMigration } from '../../../core/db/migrate.js';
import { allMigrations } from '../../index.js';
import { SearchIndex, cmsSearchMigrations, type SearchDocumentInput } from './index.js';

function migrations(): PlatformMigration[] {
  // Once the CMS module lists the search migrations itself, they must not be applied twice.
  const byName = new Map([...allMigrations(), ...cmsSearchMigrations].map((m) => [m.name, m]));
  return [...byName.values()];
}

const page = (key: string, title: string, bodyHtml: string, extra: Partial<SearchDocumentInput> = {}): SearchDocumentInput => ({
  key,
  siteId: 1,
  url: `/${key.replace(':', '/')}/`,
  title,
  type: 'page',
  bodyHtml,
  publishedAt: '2026-04-01T00:00:00.000Z',
  ...extra,
});

for (const engine of ENGINES) {
  const run = engineAvailable(engine) ? describe : describe.skip;
  run(`cms site search [${engine}]`, () => {
    let t: TestDatabase | undefined;
    const db = () => t!.handle.db;
    const index = () => new SearchIndex({ db: db(), engine });
    const keys = async (text: string, extra: Record<string, unknown> = {}) =>
      (await index().search({ siteId: 1, text, ...extra })).hits.map((h) => h.key);

    beforeAll(async () => {
      t = await createTestDatabase(engine, migrations());
    });
    afterAll(async () => {
      await t?.drop();
    });
    beforeEach(async () => {
      await db().deleteFrom('cms_search_postings').execute();
      await db().deleteFrom('cms_search_bodies').execute();
      await db().deleteFrom('cms_search_documents').execute();
    });

    it('「ごみ」 finds 「ごみの出し方」 and 「ゴミ収集日」, and 「ゴミ」 finds both too', async () => {
      const s = index();
      await s.upsert(page('page:1', 'ごみの出し方', '<p>燃やすごみは月曜日と木曜日です。</p>'));
      await s.upsert(page('page:2', 'ゴミ収集日', '<p>地区ごとの収集カレンダー</p>'));
      await s.upsert(page('page:3', '市民税の申告', '<p>申告の期限は3月15日です。</p>'));
      expect((await keys('ごみ')).sort()).toEqual(['page:1', 'page:2']);
      expect((await keys('ゴミ')).sort()).toEqual(['page:1', 'page:2']);
      expect((await keys('ｺﾞﾐ')).sort()).toEqual(['page:1', 'page:2']);
      expect(await keys('収集日')).toEqual(['page:2']);
      expect(await keys('粗大')).toEqual([]);
    });

    it('a single character 「税」 finds 「市民税」 wherever the character sits in a word', async () => {
      const s = index();
      await s.upsert(page('page:1', '市民税', '<p>住民の皆さまへ</p>'));
      await s.upsert(page('page:2', 'お知らせ', '<p>税金の納め方</p>'));
      await s.upsert(page('page:3', 'お知らせ', '<p>軽自動車税（種別割）について</p>'));
      await s.upsert(page('page:4', '子育て', '<p>児童手当</p>'));
      expect((await keys('税')).sort()).toEqual(['page:1', 'page:2', 'page:3']);
      expect(await keys('税 子')).toEqual([]);
      expect(await keys('児')).toEqual(['page:4']);
    });

    it('full-width ＡＢＣ and half-width abc match each other, as whole words', async () => {
      const s = index();
      await s.upsert(page('page:1', 'ＡＢＣ手続き', '<p>申請書（ＰＤＦ）</p>'));
      await s.upsert(page('page:2', 'abc procedure', '<p>form in pdf</p>'));
      await s.upsert(page('page:3', 'abcd', '<p>pdfx</p>'));
      expect((await keys('abc')).sort()).toEqual(['page:1', 'page:2']);
      expect((await keys('ＡＢＣ')).sort()).toEqual(['page:1', 'page:2']);
      expect((await keys('PDF')).sort()).toEqual(['page:1', 'page:2']);
      expect(await keys('ＡＢＣ 申請書')).toEqual(['page:1']);
    });

    it('multi-character words must occur as written (bigrams adjacent)', async () => {
      const s = index();
      await s.upsert(page('page:1', 'ルール', '<p>ごみ出しのルールを守りましょう。</p>'));
      await s.upsert(page('page:2', 'お願い', '<p>ごみの日。はみ出し駐車は禁止です。</p>'));
      expect(await keys('ごみ出し')).toEqual(['page:1']);
      expect((await keys('ごみ 出し')).sort()).toEqual(['page:1', 'page:2']);
    });

    it('remove() makes a page disappear at once; unknown keys are ignored', async () => {
      const s = index();
      await s.upsert(page('page:1', 'ごみの出し方', '<p>ごみ</p>'));
      await s.upsert(page('page:2', 'ごみカレンダー', '<p>ごみ</p>'));
      await s.remove('page:1');
      await s.remove('page:999');
      expect(await keys('ごみ')).toEqual(['page:2']);
      const left = await db().selectFrom('cms_search_postings').select(sql<number>`count(*)`.as('n')).where('doc_id', 'not in', db().selectFrom('cms_search_documents').select('id')).executeTakeFirstOrThrow();
      expect(Number(left.n)).toBe(0);
    });

    it('an update replaces old terms', async () => {
      const s = index();
      await s.upsert(page('page:1', '健康診断のお知らせ', '<p>特定健診の案内</p>'));
      expect(await keys('健診')).toEqual(['page:1']);
      await s.upsert(page('page:1', '予防接種のお知らせ', '<p>インフルエンザ予防接種</p>'));
      expect(await keys('健診')).toEqual([]);
      expect(await keys('健康')).toEqual([]);
      expect(await keys('予防接種')).toEqual(['page:1']);
      const hits = (await index().search({ siteId: 1, text: '予防接種' })).hits;
      expect(hits[0]!.title).toBe('予防接種のお知らせ');
    });

    it('filters by type, category, department and site', async () => {
      const s = index();
      await s.upsert(page('page:1', '子育て支援', '<p>保育園</p>', { type: 'page', categories: ['kosodate', 'kenko'], department: '子ども課' }));
      await s.upsert(page('news:2', '子育てイベント', '<p>保育園の見学会</p>', { type: 'news', categories: ['kosodate'] }));
      await s.upsert(page('event:3', '保育園の運動会', '<p>見学できます</p>', { type: 'event', categories: ['event'] }));
      await s.upsert(page('page:4', '保育園一覧', '<p>保育園</p>', { siteId: 2 }));
      expect((await keys('保育園')).sort()).toEqual(['event:3', 'news:2', 'page:1']);
      expect(await keys('保育園', { types: ['news'] })).toEqual(['news:2']);
      expect((await keys('保育園', { types: ['news', 'event'] })).sort()).toEqual(['event:3', 'news:2']);
      expect((await keys('保育園', { categories: ['kosodate'] })).sort()).toEqual(['news:2', 'page:1']);
      expect(await keys('保育園', { categories: ['kenko'] })).toEqual(['page:1']);
      expect(await keys('保育園', { categories: ['kosodate'], types: ['event'] })).toEqual([]);
      expect(await keys('保育園', { categories: ['kosod'] })).toEqual([]);
      expect(await keys('保育園', { department: '子ども課' })).toEqual(['page:1']);
      expect((await index().search({ siteId: 2, text: '保育園' })).hits.map((h) => h.key)).toEqual(['page:4']);
      const hit = (await index().search({ siteId: 1, text: '子育て支援' })).hits[0]!;
      expect(hit).toMatchObject({ key: 'page:1', type: 'page', categories: ['kosodate', 'kenko'], department: '子ども課', publishedAt: '2026-04-01T00:00:00.000Z' });
    });

    it('setFacets files a page under categories without touching its text; browse lists by filters alone, newest first', async () => {
      const s = index();
      await s.upsert(page('page:1', '保育園の申込み', '<p>入園</p>', { type: 'news', publishedAt: '2026-04-01T00:00:00.000Z' }));
      await s.upsert(page('page:2', '夏まつり', '<p>花火</p>', { type: 'event', publishedAt: '2026-05-01T00:00:00.000Z' }));
      await s.upsert(page('page:3', '図書館', '<p>開館時間</p>', { type: 'spot', publishedAt: '2026-03-01T00:00:00.000Z' }));
      await s.upsert(page('page:4', '別サイトのまつり', '<p>花火</p>', { type: 'event', siteId: 2 }));
      await s.setFacets('page:1', { categories: ['3', '1'], department: '7' });
      await s.setFacets('page:2', { categories: ['1|x'], department: null });
      await s.setFacets('page:999', { categories: ['1'], department: null });
      expect(await keys('保育園', { categories: ['3'] })).toEqual(['page:1']);
      expect(await keys('保育園', { department: '7' })).toEqual(['page:1']);
      // '|' cannot forge another category: '1|x' is stored as '1x'.
      expect(await keys('まつり', { categories: ['1'] })).toEqual([]);
      const browse = async (q: Record<string, unknown>) => (await index().browse({ siteId: 1, ...q })).hits.map((h) => h.key);
      expect(await browse({ categories: ['1'] })).toEqual(['page:1']);
      expect(await browse({ types: ['event', 'news', 'spot'] })).toEqual(['page:2', 'page:1', 'page:3']);
      expect(await browse({ types: ['event'], categories: ['1x'] })).toEqual(['page:2']);
      expect(await browse({})).toEqual([]);
      const r = await index().browse({ siteId: 1, types: ['event', 'news', 'spot'], limit: 1, offset: 1 });
      expect(r.total).toBe(3);
      expect(r.hits.map((h) => [h.key, h.titleHtml])).toEqual([['page:1', '保育園の申込み']]);
    });

    it('ranks title matches first, then term frequency, then recency; pages with a total', async () => {
      const s = index();
      const many = '<p>' + 'ごみの分別と資源の回収について。'.repeat(8) + '</p>';
      await s.upsert(page('page:body', 'くらしの情報', many, { publishedAt: '2026-05-01T00:00:00.000Z' }));
      await s.upsert(page('page:title', 'ごみの分別', '<p>詳しくは担当課へ。</p>', { publishedAt: '2020-01-01T00:00:00.000Z' }));
      await s.upsert(page('page:once', 'お知らせ', '<p>ごみの日が変わります。</p>', { publishedAt: '2026-05-01T00:00:00.000Z' }));
      await s.upsert(page('page:once-old', 'お知らせ', '<p>ごみの日が変わります。</p>', { publishedAt: '2019-05-01T00:00:00.000Z' }));
      const r = await index().search({ siteId: 1, text: 'ごみ' });
      expect(r.total).toBe(4);
      expect(r.hits.map((h) => h.key)).toEqual(['page:title', 'page:body', 'page:once', 'page:once-old']);
      expect(r.hits[0]!.score).toBeGreaterThan(r.hits[1]!.score);
      const p2 = await index().search({ siteId: 1, text: 'ごみ', limit: 2, offset: 2 });
      expect(p2.total).toBe(4);
      expect(p2.hits.map((h) => h.key)).toEqual(['page:once', 'page:once-old']);
      const beyond = await index().search({ siteId: 1, text: 'ごみ', limit: 2, offset: 10 });
      expect(beyond).toEqual({ total: 4, hits: [] });
    });

    it('snippets mark matches and escape everything (no script gets through)', async () => {
      const s = index();
      const filler = 'この文章は前置きです。'.repeat(10);
      await s.upsert(
        page('page:1', '<b>ゴミ</b>の"出し方"', `<p>${filler}</p><p>燃える<strong>ゴミ</strong>は &lt;script&gt;alert(1)&lt;/script&gt; 朝8時までに。</p><script>alert(2)</script>`),
      );
      const hit = (await index().search({ siteId: 1, text: 'ごみ' })).hits[0]!;
      expect(hit.snippetHtml).toContain('燃える<mark>ゴミ</mark>は &lt;script&gt;alert(1)&lt;/script&gt; 朝8時');
      expect(hit.snippetHtml.startsWith('…')).toBe(true);
      expect(hit.snippetHtml).not.toMatch(/<(?!\/?mark>)/);
      expect(hit.snippetHtml).not.toContain('alert(2)');
      expect(hit.title).toBe('<b>ゴミ</b>の"出し方"');
      expect(hit.titleHtml).toBe('&lt;b&gt;<mark>ゴミ</mark>&lt;/b&gt;の&quot;出し方&quot;');
      expect([...hit.snippetHtml.replace(/<\/?mark>|&[a-z]+;/g, 'x')].length).toBeLessThanOrEqual(125);
    });

    it('a rollback of the caller transaction leaves the index unchanged', async () => {
      const s = index();
      await s.upsert(page('page:1', 'ごみの出し方', '<p>ごみ</p>'));
      await expect(
        db()
          .transaction()
          .execute(async (tx) => {
            await s.upsert(page('page:2', 'ごみカレンダー', '<p>ごみ</p>'), tx);
            await s.upsert(page('page:1', '粗大ごみ', '<p>申込み</p>'), tx);
            await s.remove('page:1', tx);
            expect((await tx.selectFrom('cms_search_documents').select('doc_key').execute()).map((r) => r.doc_key)).toEqual(['page:2']);
            throw new Error('publish failed');
          }),
      ).rejects.toThrow('publish failed');
      expect(await keys('ごみ')).toEqual(['page:1']);
      expect(await keys('粗大')).toEqual([]);
      const committed = await db()
        .transaction()
        .execute(async (tx) => {
          await s.upsert(page('page:3', 'ごみ袋', '<p>販売店</p>'), tx);
          return 'ok';
        });
      expect(committed).toBe('ok');
      expect((await keys('ごみ')).sort()).toEqual(['page:1', 'page:3']);
    });

    it('reindexAll replaces a site index in batches and sweeps pages no longer given', async () => {
      const s = index();
      await s.upsert(page('page:old', '古いごみ情報', '<p>ごみ</p>'));
      await s.upsert(page('page:other', 'ごみ', '<p>ごみ</p>', { siteId: 2 }));
      async function* gen() {
        for (let i = 0; i < 450; i++) yield page(`page:${i}`, `ごみ通知${i}`, `<p>番号${i}のごみ情報 item${i}</p>`);
      }
      expect(await s.reindexAll(gen(), { siteId: 1 })).toBe(450);
      const r = await index().search({ siteId: 1, text: 'ごみ', limit: 5 });
      expect(r.total).toBe(450);
      expect(await keys('古い')).toEqual([]);
      expect(await keys('item321')).toEqual(['page:321']);
      expect((await index().search({ siteId: 2, text: 'ごみ' })).total).toBe(1);
    });
  });
}
