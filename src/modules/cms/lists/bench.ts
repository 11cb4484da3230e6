/**
 * List-engine benchmark (C-3-1): fills a PostgreSQL database with one site of 100,000 pages
 * (news, events, spots and standard pages in 500 folders, some drafts, withdrawn and hidden,
 * 重要/緊急 marks, categories) with set-based SQL, then times the queries a list, a list page,
 * the calendar and the map make. Prints p50/p95 per query and the plan of the top-page list.
 * @example
 * node --import tsx -e "import('./src/modules/cms/lists/bench.ts').then(m => m.benchLists({ url: process.env.DATABASE_URL }))"
 */
import { sql } from 'kysely';
import { openDatabase } from '../../../core/db/index.js';
import { migrateToLatest } from '../../../core/db/migrate.js';
import { ListService } from './service.js';
import type { ListConfig } from './config.js';
import { eventDays } from './calendar.js';
import { findSpots } from './map.js';

const FOLDERS = 500;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export interface ListBenchRow {
  query: string;
  p50: number;
  p95: number;
  items: number;
}

/** Fills (unless `fill: false`) and times; returns one row per query kind. */
export async function benchLists(opts: { url: string; pages?: number; runs?: number; fill?: boolean; log?: (s: string) => void }): Promise<ListBenchRow[]> {
  const { url, pages = 100_000, runs = 100 } = opts;
  const log = opts.log ?? ((s: string) => console.log(s));
  const handle = openDatabase(url);
  if (handle.engine !== 'postgres') throw new Error('the list benchmark fills PostgreSQL with set-based SQL; give it a postgres:// URL');
  const db = handle.db;
  try {
    const { allMigrations } = await import('../../index.js');
    await migrateToLatest(handle, allMigrations());
    if (opts.fill !== false) {
      const t0 = performance.now();
      await sql`insert into cms_sites (key, name, path_prefix, settings, created_at, updated_at) values ('bench', 'ベンチ市', '', '{}', now(), now())`.execute(db);
      await sql`insert into cms_categories (site_id, slug, name, created_at, updated_at) select 1, 'c' || g, '分野' || g, now(), now() from generate_series(1, 12) g`.execute(db);
      // Root, folders (five of them not public), pages.
      await sql`insert into cms_nodes (site_id, parent_id, kind, slug, path, sort_order, page_type, status, temporarily_hidden, created_at, updated_at, published_at)
        values (1, null, 'folder', '', '/', 0, 'standard', 'published', 0, now(), now(), now())`.execute(db);
      await sql`insert into cms_nodes (site_id, parent_id, kind, slug, path, sort_order, page_type, status, temporarily_hidden, created_at, updated_at, published_at)
        select 1, 1, 'folder', 'f' || g, '/f' || g || '/', g, 'standard', case when g % 100 = 7 then 'draft' else 'published' end, case when g % 100 = 8 then 1 else 0 end, now(), now(), now() - interval '3 years'
        from generate_series(1, ${sql.lit(FOLDERS)}) g`.execute(db);
      await sql`insert into cms_nodes (site_id, parent_id, kind, slug, path, sort_order, page_type, status, temporarily_hidden, created_at, updated_at, published_at)
        select 1, 1 + (g % ${sql.lit(FOLDERS)}) + 1, 'page', 'p' || g, '/f' || (1 + g % ${sql.lit(FOLDERS)}) || '/p' || g, 0,
          case when g % 10 < 3 then 'news' when g % 10 = 3 then 'event' when g % 50 = 4 then 'spot' else 'standard' end,
          case when g % 100 = 1 then 'draft' when g % 100 = 2 then 'withdrawn' else 'published' end,
          case when g % 200 = 3 then 1 else 0 end,
          now(), now(), now() - (g * interval '13 minutes')
        from generate_series(1, ${sql.lit(pages)}) g`.execute(db);
      // One version per node; fields as the page types store them.
      await sql`insert into cms_versions (node_id, number, title, body_html, fields, summary, created_at)
        select n.id, 1, 'ページ ' || n.id, '<p>本文 ' || n.id || '</p>',
          (case
            when n.page_type = 'news' then jsonb_build_object('news', jsonb_build_object('urgent', n.id % 1999 = 0, 'important', n.id % 97 = 0), 'categories', jsonb_build_array(1 + n.id % 12))
            when n.page_type = 'event' then jsonb_build_object('event', jsonb_build_object('dates', jsonb_build_object('kind', 'range', 'from', to_char(current_date + (n.id % 730 - 365), 'YYYY-MM-DD'), 'to', to_char(current_date + (n.id % 730 - 365) + n.id % 4, 'YYYY-MM-DD'))), 'categories', jsonb_build_array(1 + n.id % 12))
            when n.page_type = 'spot' then jsonb_build_object('spot', jsonb_build_object('address', '中央' || n.id, 'lat', 35 + (n.id % 100) / 1000.0, 'lng', 139 + (n.id % 77) / 1000.0), 'categories', jsonb_build_array(1 + n.id % 12))
            else jsonb_build_object('categories', jsonb_build_array(1 + n.id % 12)) end),
          null, now()
        from cms_nodes n`.execute(db);
      await sql`update cms_nodes n set published_version_id = v.id from cms_versions v where v.node_id = n.id and n.status <> 'draft'`.execute(db);
      await sql`update cms_nodes n set draft_version_id = v.id from cms_versions v where v.node_id = n.id and n.status = 'draft'`.execute(db);
      // What the publish transaction writes: list facts and the category index.
      await sql`insert into cms_list_facts (node_id, important, urgent, event_first, event_last)
        select v.node_id, case when (v.fields->'news'->>'important')::boolean then 1 else 0 end, case when (v.fields->'news'->>'urgent')::boolean then 1 else 0 end,
          v.fields->'event'->'dates'->>'from', v.fields->'event'->'dates'->>'to'
        from cms_versions v join cms_nodes n on n.published_version_id = v.id`.execute(db);
      await sql`insert into cms_node_categories (node_id, category_id, site_id, page_type, published_at)
        select n.id, (v.fields->'categories'->>0)::int, 1, n.page_type, n.published_at from cms_nodes n join cms_versions v on v.id = n.published_version_id
        where n.status = 'published' and n.temporarily_hidden = 0 and n.kind = 'page'`.execute(db);
      await sql`vacuum analyze`.execute(db);
      log(`filled ${pages} pages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }

    const lists = new ListService({ db, audit: { record: async () => 0 } as never, notify: async () => undefined });
    const base: ListConfig = { id: 0, siteId: 1, hostNodeId: 1, heading: '新着情報', position: 0, sourcePath: '/', pageTypes: ['news'], categories: [], marks: 'all', limit: 10, showMore: true, columns: ['date', 'title'], dateFormat: 'ja', sort: 'newest', urgentFirst: true };
    const cases: Array<{ query: string; run: () => Promise<number> }> = [
      { query: 'top page: news, newest 10, 緊急 first', run: async () => (await lists.window(base)).items.length },
      { query: 'news in one category, newest 10', run: async () => (await lists.window({ ...base, categories: [5] })).items.length },
      { query: 'one folder, all types, newest 10', run: async () => (await lists.window({ ...base, sourcePath: '/f42/', pageTypes: [] })).items.length },
      { query: '重要 or 緊急 only, 10', run: async () => (await lists.window({ ...base, marks: 'marked' })).items.length },
      { query: 'title order, 10', run: async () => (await lists.window({ ...base, sort: 'title' })).items.length },
      { query: 'upcoming events by date, 5', run: async () => (await lists.window({ ...base, pageTypes: ['event'], sort: 'event', limit: 5 })).items.length },
      { query: 'list page 1 with total (20)', run: async () => (await lists.window(base, { limit: 20, withTotal: true })).items.length },
      { query: 'list page 500 with total (20)', run: async () => (await lists.window(base, { offset: 499 * 20, limit: 20, withTotal: true })).items.length },
      {
        query: 'calendar month (expanded days)',
        run: async () => {
          const month = new Date().toISOString().slice(0, 7);
          const days = await eventDays(lists, 1, `${month}-01`, `${month}-28`);
          return [...days.values()].reduce((n, d) => n + d.length, 0);
        },
      },
      { query: 'map: spots with a word', run: async () => (await findSpots(lists, 1, { q: '中央1' })).length },
    ];
    const rows: ListBenchRow[] = [];
    for (const c of cases) {
      for (let i = 0; i < 5; i++) await c.run();
      const times: number[] = [];
      let items = 0;
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        items = await c.run();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const row = { query: c.query, p50: percentile(times, 50), p95: percentile(times, 95), items };
      rows.push(row);
      log(`${c.query.padEnd(40)} p50 ${row.p50.toFixed(2).padStart(7)} ms  p95 ${row.p95.toFixed(2).padStart(7)} ms  (${items} items)`);
    }
    const plan = await sql<{ 'QUERY PLAN': string }>`explain analyze
      select n.id from cms_nodes n join cms_versions v on v.id = n.published_version_id left join cms_list_facts f on f.node_id = n.id
      where n.site_id = 1 and n.status = 'published' and n.temporarily_hidden = 0 and n.kind = 'page' and n.page_type in ('news')
        and (n.unpublish_at is null or n.unpublish_at > now()) and (f.urgent is null or f.urgent = 0)
      order by n.published_at desc, n.id desc limit 11`.execute(db);
    log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
    return rows;
  } finally {
    await handle.close();
  }
}
