import { sql } from 'kysely';
import { openDatabase } from '../../../core/db/index.js';
import { migrateToLatest, type PlatformMigration } from '../../../core/db/migrate.js';
import { cmsSearchMigrations } from './migrations.js';
import { SearchIndex, type SearchDocumentInput } from './index.js';

/**
 * Site-search benchmark: fills a PostgreSQL database with generated municipal pages, then times
 * queries of one to three words.
 * @example
 * node --import tsx -e "import('./src/modules/cms/search/bench.ts').then(m => m.benchSearch({ url: process.env.DATABASE_URL }))"
 */

// Municipal vocabulary, most frequent first (drawn with Zipf-like weights). One- and
// two-character words are the hard case for n-gram search, so there are plenty.
export const VOCABULARY = [
  '市', 'ごみ', '税', '申請', '手続き', '子育て', '届出', '住民票', '保険', '年金', '窓口', '相談', '健康', '福祉', '教育',
  '学校', '保育園', '介護', '障害', '防災', '避難所', '地震', '台風', '水道', '下水道', '道路', '公園', '図書館', '市民',
  '市役所', '区', '町', '選挙', '議会', '予算', '補助金', '助成', '給付金', '児童手当', '医療費', '国民健康保険',
  '後期高齢者', '介護保険', 'マイナンバー', 'マイナンバーカード', '印鑑登録', '戸籍', '転入', '転出', '婚姻', '出生',
  '死亡', '粗大ごみ', '資源', 'リサイクル', '分別', '収集日', '燃やすごみ', 'プラスチック', '不燃', '市民税', '固定資産税',
  '軽自動車税', '納付', '口座振替', 'コンビニ', '証明書', '交付', '手数料', '予約', 'オンライン', 'PDF', 'Web', '駐車場',
  '駐輪場', 'バス', '交通', '観光', 'イベント', '祭り', '文化', 'スポーツ', '体育館', 'プール', '施設', '利用', '料金',
  '休館日', '開館', '募集', '職員', '採用', '入札', '契約', '事業者', '商工', '農業', '林業', '環境', '温暖化', '省エネ',
  '太陽光', '空き家', '住宅', '建築', '都市計画', '上水道', '浄化槽', '消防', '救急', '病院', '診療所', '予防接種',
  'ワクチン', '検診', '健診', 'がん', '妊娠', '出産', '乳幼児', '幼稚園', '放課後', '学童', '高齢者', '認知症', '見守り',
  '生活保護', '就労', '支援', '相談窓口', '消費生活', '犯罪', '防犯', '交通安全', '自治会', 'ボランティア', '国際交流',
  '外国人', '多言語', '広報', 'ホームページ', 'アンケート', 'パブリックコメント', '統計', '人口', '世帯', '計画', '条例',
  '規則', '情報公開', '個人情報', '令和', '年度', '月', '日',
];

const TITLE_SUFFIX = ['のお知らせ', 'について', 'の手続き', '一覧', 'のご案内', 'に関するよくある質問', 'の申込み', ''];
const SENTENCES: Array<(w: () => string) => string> = [
  (w) => `${w()}の${w()}について説明します。`,
  (w) => `${w()}は${w()}で${w()}できます。`,
  (w) => `${w()}に関する${w()}を更新しました。`,
  (w) => `詳しくは${w()}の${w()}までお問い合わせください。`,
  (w) => `${w()}や${w()}をお持ちの方は、${w()}の窓口へお越しください。`,
  (w) => `令和8年4月1日から${w()}の${w()}が変わります。`,
  (w) => `${w()}（${w()}）の受付時間は午前8時30分から午後5時15分までです。`,
  (w) => `${w()}・${w()}・${w()}の一覧はこちらです。`,
];
const TYPES = ['page', 'page', 'page', 'page', 'page', 'page', 'page', 'news', 'news', 'event', 'faq'];
const CATEGORIES = ['kurashi', 'kosodate', 'kenko', 'fukushi', 'kyoiku', 'bosai', 'kankyo', 'sangyo', 'kanko', 'shisei', 'zei', 'gomi'];

/** Small deterministic PRNG (mulberry32), so every run indexes the same pages. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function zipfPicker(random: () => number, words: string[], shift = 10) {
  const cum: number[] = [];
  let total = 0;
  for (let i = 0; i < words.length; i++) cum.push((total += 1 / (i + shift)));
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return words[lo]!;
  };
}

/** Generated municipal pages: title of one or two words, 6–14 sentences (about 250–550 characters). */
export function* generatePages(count: number, siteId = 1, seed = 42): Generator<SearchDocumentInput> {
  const random = rng(seed);
  const word = zipfPicker(random, VOCABULARY);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const start = Date.parse('2021-04-01T00:00:00Z');
  const span = Date.parse('2026-04-01T00:00:00Z') - start;
  for (let i = 1; i <= count; i++) {
    const title = (random() < 0.4 ? `${word()}・${word()}` : word()) + pick(TITLE_SUFFIX);
    const paragraphs: string[] = [];
    const sentences = 6 + Math.floor(random() * 9);
    let p: string[] = [];
    for (let s = 0; s < sentences; s++) {
      p.push(pick(SENTENCES)(word));
      if (p.length >= 3 || s === sentences - 1) {
        paragraphs.push(`<p>${p.join('')}</p>`);
        p = [];
      }
    }
    const cats = [pick(CATEGORIES)];
    if (random() < 0.3) cats.push(pick(CATEGORIES));
    yield {
      key: `page:${i}`,
      siteId,
      url: `/page/${i}.html`,
      title,
      type: pick(TYPES),
      categories: cats,
      publishedAt: new Date(start + Math.floor(random() * span)).toISOString(),
      bodyHtml: `<h2>${title}</h2>${paragraphs.join('')}`,
    };
  }
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface BenchResult {
  docs: number;
  postings: number;
  indexSeconds: number;
  vacuumSeconds: number;
  sizeMb: number;
  queries: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  meanHits: number;
  slowest: Array<{ q: string; ms: number; total: number }>;
  /** The same kind of queries narrowed by page type and by category, and filters alone (C-3-22/23). */
  filtered: Array<{ kind: string; p50: number; p95: number; max: number; meanHits: number }>;
}

/**
 * Fills the database (migrated here; pass `migrations` when the caller's set differs) with `docs`
 * generated pages through `SearchIndex.reindexAll`, then times 200 queries of 1–3 words
 * (20 untimed warm-up queries first) and prints p50/p99.
 */
export async function benchSearch(opts: { url: string; docs?: number; queries?: number; migrations?: PlatformMigration[]; log?: (s: string) => void; /** false: query an index filled earlier. */ fill?: boolean }): Promise<BenchResult> {
  const { url, docs = 100_000, queries = 200 } = opts;
  const log = opts.log ?? ((s: string) => console.log(s));
  const handle = openDatabase(url);
  try {
    let migrations = opts.migrations;
    if (!migrations) {
      const { allMigrations } = await import('../../index.js');
      migrations = [...new Map([...allMigrations(), ...cmsSearchMigrations].map((m) => [m.name, m])).values()];
    }
    await migrateToLatest(handle, migrations);
    const index = new SearchIndex({ db: handle.db, engine: handle.engine });

    let t0 = performance.now();
    let n = docs;
    let indexSeconds = 0;
    if (opts.fill !== false) {
      n = await index.reindexAll(generatePages(docs));
      indexSeconds = (performance.now() - t0) / 1000;
      log(`indexed ${n} pages in ${indexSeconds.toFixed(1)} s (${Math.round(n / indexSeconds)} pages/s)`);
    }

    t0 = performance.now();
    if (handle.engine === 'postgres') {
      // What autovacuum does after a bulk load: statistics and the visibility map (index-only scans).
      await sql`vacuum analyze cms_search_postings`.execute(handle.db);
      await sql`vacuum analyze cms_search_documents`.execute(handle.db);
      await sql`vacuum analyze cms_search_bodies`.execute(handle.db);
    } else {
      await sql`analyze`.execute(handle.db);
    }
    const vacuumSeconds = (performance.now() - t0) / 1000;
    const postings = Number((await sql<{ n: number }>`select count(*) as n from cms_search_postings`.execute(handle.db)).rows[0]!.n);
    let sizeMb = 0;
    if (handle.engine === 'postgres') {
      const r = await sql<{ b: number }>`select (pg_total_relation_size('cms_search_postings') + pg_total_relation_size('cms_search_documents') + pg_total_relation_size('cms_search_bodies'))::int8 as b`.execute(handle.db);
      sizeMb = Number(r.rows[0]!.b) / 1024 / 1024;
    }
    log(`${postings} postings, ${sizeMb.toFixed(0)} MB on disk; vacuum/analyze ${vacuumSeconds.toFixed(1)} s`);

    const random = rng(7);
    const word = zipfPicker(random, VOCABULARY, 5);
    const makeQuery = () => {
      const k = 1 + Math.floor(random() * 3);
      return Array.from({ length: k }, word).join(' ');
    };
    for (let i = 0; i < 20; i++) await index.search({ siteId: 1, text: makeQuery() });
    const times: Array<{ q: string; ms: number; total: number }> = [];
    for (let i = 0; i < queries; i++) {
      const q = makeQuery();
      const s = performance.now();
      const r = await index.search({ siteId: 1, text: q, limit: 10 });
      times.push({ q, ms: performance.now() - s, total: r.total });
    }
    const sorted = times.map((t) => t.ms).sort((a, b) => a - b);
    const result: BenchResult = {
      docs: n,
      postings,
      indexSeconds,
      vacuumSeconds,
      sizeMb,
      queries,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? 0,
      meanHits: times.reduce((a, t) => a + t.total, 0) / Math.max(1, times.length),
      slowest: [...times].sort((a, b) => b.ms - a.ms).slice(0, 5),
      filtered: [],
    };
    log(`${queries} queries: p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, max ${result.max.toFixed(1)} ms; mean total hits ${Math.round(result.meanHits)}`);
    log(`slowest: ${result.slowest.map((t) => `「${t.q}」 ${t.ms.toFixed(0)} ms (${t.total} hits)`).join(', ')}`);

    // Filters: words plus a type or a category (one or two), and filters alone (newest first).
    const kinds: Array<{ kind: string; run: () => Promise<{ total: number }> }> = [
      { kind: 'words + type', run: () => index.search({ siteId: 1, text: makeQuery(), types: [TYPES[Math.floor(random() * TYPES.length)]!], limit: 10 }) },
      { kind: 'words + category', run: () => index.search({ siteId: 1, text: makeQuery(), categories: [CATEGORIES[Math.floor(random() * CATEGORIES.length)]!], limit: 10 }) },
      { kind: 'words + type + 2 categories', run: () => index.search({ siteId: 1, text: makeQuery(), types: ['news', 'event'], categories: [CATEGORIES[Math.floor(random() * CATEGORIES.length)]!, CATEGORIES[Math.floor(random() * CATEGORIES.length)]!], limit: 10 }) },
      { kind: 'type only', run: () => index.browse({ siteId: 1, types: [TYPES[Math.floor(random() * TYPES.length)]!], limit: 10, offset: Math.floor(random() * 5) * 10 }) },
      { kind: 'category only', run: () => index.browse({ siteId: 1, categories: [CATEGORIES[Math.floor(random() * CATEGORIES.length)]!], limit: 10, offset: Math.floor(random() * 5) * 10 }) },
      { kind: 'type + category only', run: () => index.browse({ siteId: 1, types: ['event'], categories: [CATEGORIES[Math.floor(random() * CATEGORIES.length)]!], limit: 10 }) },
    ];
    for (const k of kinds) {
      for (let i = 0; i < 5; i++) await k.run();
      const ms: number[] = [];
      let hits = 0;
      const n = Math.max(20, Math.floor(queries / 4));
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        hits += (await k.run()).total;
        ms.push(performance.now() - s);
      }
      ms.sort((a, b) => a - b);
      const row = { kind: k.kind, p50: percentile(ms, 50), p95: percentile(ms, 95), max: ms[ms.length - 1] ?? 0, meanHits: hits / n };
      result.filtered.push(row);
      log(`${k.kind}: p50 ${row.p50.toFixed(1)} ms, p95 ${row.p95.toFixed(1)} ms, max ${row.max.toFixed(1)} ms; mean total hits ${Math.round(row.meanHits)}`);
    }
    return result;
  } finally {
    await handle.close();
  }
}
