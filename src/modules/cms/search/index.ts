import { sql, type Insertable, type Kysely, type RawBuilder } from 'kysely';
import type { Database, Db, Engine } from '../../../core/db/index.js';
import { cleanText, foldWithMap, htmlToText, isWordChar, parseQuery, tokensOfNormalized, type ParsedQuery, type Segment, type TermGroup } from './normalize.js';
import type { CmsSearchDocumentTable } from './types.js';

export { cmsSearchMigrations } from './migrations.js';
export { cleanText, htmlToText, normalizeText, parseQuery, tokens } from './normalize.js';

/** What the CMS hands the index for one published page (or event, FAQ…). */
export interface SearchDocumentInput {
  /** The CMS's key, e.g. 'page:42'. */
  key: string;
  siteId: number;
  url: string;
  title: string;
  /** Page type ('page', 'news', 'event', 'faq'…), for the type filter. */
  type: string;
  /** Category keys, for the category filter. '|' is removed from keys. */
  categories?: string[];
  department?: string | null;
  publishedAt?: string | Date | null;
  /** Page body as (sanitised) HTML. */
  bodyHtml?: string;
  /** Extra plain text to index with the body (summary, attachment names…). */
  bodyText?: string;
}

export interface SearchQuery {
  siteId: number;
  text: string;
  /** Any of these types (none: all types). */
  types?: string[];
  /** Any of these categories (none: all). */
  categories?: string[];
  department?: string;
  /** 1–100, default 10. */
  limit?: number;
  offset?: number;
}

export interface SearchHit {
  key: string;
  url: string;
  title: string;
  /** Escaped title with <mark> around matches. */
  titleHtml: string;
  type: string;
  categories: string[];
  department: string | null;
  publishedAt: string | null;
  /** Escaped body text, about 120 characters around the first match, matches in <mark>. */
  snippetHtml: string;
  score: number;
}

export interface SearchResult {
  total: number;
  hits: SearchHit[];
}

const MAX_TITLE = 1000;
const MAX_BODY = 200_000;
const SNIPPET = 120;
const SNIPPET_BEFORE = 40;
const MAX_OFFSET = 10_000;
const REINDEX_BATCH = 200;
const SQLITE_POSTING_CHUNK = 500;
const PG_POSTING_CHUNK = 20_000;
const TITLE_WEIGHT = 4;
const TF_WEIGHT = 2;
const RECENCY_WEIGHT = 1;
/** Posting lists joined per query at most (PostgreSQL reorders up to join_collapse_limit = 8). */
const MAX_JOINED = 8;

interface PreparedDoc {
  row: Insertable<CmsSearchDocumentTable>;

  body: { body: string; body_norm: string };
  /** term → [tf, in_title] */
  terms: Map<string, [number, 0 | 1]>;
}

function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  const t = s.slice(0, max);
  return /[\ud800-\udbff]$/.test(t) ? t.slice(0, -1) : t;
}

function isoOrNull(v: string | Date | null | undefined): string | null {
  if (v == null || v === '') return null;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid publishedAt: ${String(v)}`);
  return d.toISOString();
}

function categoryText(keys: string[] | undefined): string {
  const clean = [...new Set((keys ?? []).map((k) => cleanText(k).replace(/\|/g, '')).filter(Boolean))];
  return clean.length ? `|${clean.join('|')}|` : '';
}

/** Turns CMS input into the stored row and its postings (pure; no database). */
export function prepareDocument(doc: SearchDocumentInput, now: Date = new Date()): PreparedDoc {
  if (!doc.key) throw new Error('search document needs a key');
  if (!Number.isSafeInteger(doc.siteId)) throw new Error('search document needs an integer siteId');
  const title = cut(cleanText(doc.title ?? ''), MAX_TITLE);
  const bodyParts = [doc.bodyHtml ? htmlToText(doc.bodyHtml) : '', doc.bodyText ? cleanText(doc.bodyText) : ''].filter(Boolean);
  const body = cut(bodyParts.join(' '), MAX_BODY);
  const titleNorm = foldWithMap(title).text;
  const bodyNorm = foldWithMap(body).text;
  const terms = new Map<string, [number, 0 | 1]>();
  for (const t of tokensOfNormalized(titleNorm)) {
    const e = terms.get(t);
    if (e) e[0]++;
    else terms.set(t, [1, 1]);
  }
  for (const t of tokensOfNormalized(bodyNorm)) {
    const e = terms.get(t);
    if (e) e[0]++;
    else terms.set(t, [1, 0]);
  }
  return {
    row: {
      doc_key: cut(cleanText(doc.key), 200),
      site_id: doc.siteId,
      url: cleanText(doc.url ?? ''),
      title,
      type: cleanText(doc.type ?? ''),
      categories: categoryText(doc.categories),
      department: doc.department ? cleanText(doc.department) : null,
      published_at: isoOrNull(doc.publishedAt),
      title_norm: titleNorm,
      indexed_at: now.toISOString(),
    },
    body: { body, body_norm: bodyNorm },
    terms,
  };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Ranges [start, end) of the display text where a query segment matches (merged, sorted). */
export function matchRanges(display: string, segs: Segment[], maxMatches = 500): Array<[number, number]> {
  const folded = foldWithMap(display);
  const text = folded.text;
  const found: Array<[number, number]> = [];
  const texts = [...new Map(segs.map((s) => [s.text, s])).values()];
  for (const seg of texts) {
    let at = text.indexOf(seg.text);
    let n = 0;
    while (at >= 0 && n < maxMatches) {
      const end = at + seg.text.length;
      let ok = true;
      if (seg.kind === 'word') {
        // Whole words only: 'tax' is not marked inside 'taxi'.
        const before = at > 0 ? Array.from(text.slice(Math.max(0, at - 2), at)).pop() : undefined;
        const after = end < text.length ? String.fromCodePoint(text.codePointAt(end)!) : undefined;
        if (before && isWordChar(before, before.codePointAt(0)!)) ok = false;
        if (after && isWordChar(after, after.codePointAt(0)!)) ok = false;
      }
      if (ok) {
        found.push([folded.from[at]!, folded.to[end - 1]!]);
        n++;
      }
      at = text.indexOf(seg.text, at + 1);
    }
  }
  found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: Array<[number, number]> = [];
  for (const r of found) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

function markRange(display: string, ranges: Array<[number, number]>, start: number, end: number): string {
  let out = '';
  let pos = start;
  for (const [a0, b0] of ranges) {
    const a = Math.max(a0, start);
    const b = Math.min(b0, end);
    if (b <= a) continue;
    out += escapeHtml(display.slice(pos, a)) + '<mark>' + escapeHtml(display.slice(a, b)) + '</mark>';
    pos = b;
  }
  return out + escapeHtml(display.slice(pos, end));
}

function boundary(s: string, i: number): number {
  // Never cut a surrogate pair in half.
  if (i > 0 && i < s.length && /[\udc00-\udfff]/.test(s[i]!)) return i - 1;
  return i;
}

/** Escaped text with every match in <mark>. */
export function highlightAll(display: string, segs: Segment[]): string {
  return markRange(display, matchRanges(display, segs), 0, display.length);
}

/** Escaped window of about `size` characters around the first match, matches in <mark>. */
export function snippet(display: string, segs: Segment[], size = SNIPPET): string {
  const ranges = matchRanges(display, segs);
  const first = ranges[0]?.[0] ?? 0;
  let start = Math.max(0, first - SNIPPET_BEFORE);
  let end = Math.min(display.length, start + size);
  if (end - start < size) start = Math.max(0, end - size);
  start = boundary(display, start);
  end = boundary(display, end);
  return (start > 0 ? '…' : '') + markRange(display, ranges, start, end) + (end < display.length ? '…' : '');
}

type Executor = Kysely<Database>;

/**
 * The CMS's site search: a bigram inverted index in the database, identical on SQLite and
 * PostgreSQL. `upsert`/`remove` take the caller's transaction so the index follows publish and
 * unpublish atomically.
 * @example
 * const search = new SearchIndex({ db, engine })
 * await db.transaction().execute(async (tx) => { …publish…; await search.upsert(doc, tx) })
 * const { total, hits } = await search.search({ siteId: 1, text: 'ごみ 出し方' })
 */
export class SearchIndex {
  private readonly db: Db;
  private readonly engine: Engine;

  constructor(opts: { db: Db; engine: Engine }) {
    this.db = opts.db;
    this.engine = opts.engine;
  }

  private inTx<T>(tx: Executor | undefined, fn: (t: Executor) => Promise<T>): Promise<T> {
    if (tx) return fn(tx);
    return this.db.transaction().execute(fn);
  }

  /** Adds or replaces a document (inside `tx` when given). */
  async upsert(doc: SearchDocumentInput, tx?: Executor): Promise<void> {
    const prepared = prepareDocument(doc);
    await this.inTx(tx, async (t) => {
      const ids = await this.writeDocs(t, [prepared]);
      const id = ids.get(prepared.row.doc_key)!;
      await t.deleteFrom('cms_search_postings').where('doc_id', '=', id).execute();
      await this.insertPostings(t, [{ id, terms: prepared.terms }]);
    });
  }

  /** Removes a document (inside `tx` when given); unknown keys are ignored. */
  async remove(key: string, tx?: Executor): Promise<void> {
    await this.inTx(tx, async (t) => {
      const doc = await t.selectFrom('cms_search_documents').select('id').where('doc_key', '=', cleanText(key)).executeTakeFirst();
      if (!doc) return;
      await t.deleteFrom('cms_search_postings').where('doc_id', '=', doc.id).execute();
      await t.deleteFrom('cms_search_bodies').where('doc_id', '=', doc.id).execute();
      await t.deleteFrom('cms_search_documents').where('id', '=', doc.id).execute();
    });
  }

  /**
   * Sets a document's categories and department (inside `tx` when given), leaving its text as it
   * is: the CMS's publish hook files the page under its categories in the same transaction.
   * Unknown keys are ignored.
   */
  async setFacets(key: string, facets: { categories: string[]; department: string | null }, tx?: Executor): Promise<void> {
    await (tx ?? this.db)
      .updateTable('cms_search_documents')
      .set({ categories: categoryText(facets.categories), department: facets.department ? cleanText(facets.department) : null })
      .where('doc_key', '=', cleanText(key))
      .execute();
  }

  /**
   * Documents of a site matching only filters (type, category, department), newest first: the
   * search page without words. Types use the (site_id, type, published_at) index; a category is
   * checked per document of the site (as in `search`).
   */
  async browse(q: Omit<SearchQuery, 'text'>): Promise<SearchResult> {
    const limit = Math.min(100, Math.max(1, Math.floor(q.limit ?? 10)));
    const offset = Math.min(MAX_OFFSET, Math.max(0, Math.floor(q.offset ?? 0)));
    const types = (q.types ?? []).filter(Boolean);
    const cats = [...new Set((q.categories ?? []).map((c) => c.replace(/\|/g, '')).filter(Boolean))];
    if (!types.length && !cats.length && !q.department) return { total: 0, hits: [] };
    const pg = this.engine === 'postgres';
    const pos = (needle: string) => (pg ? sql<number>`strpos(d.categories, ${needle})` : sql<number>`instr(d.categories, ${needle})`);
    let base = this.db.selectFrom('cms_search_documents as d').where('d.site_id', '=', q.siteId);
    if (types.length) base = base.where('d.type', 'in', types);
    if (cats.length) base = base.where((eb) => eb.or(cats.map((c) => eb(pos(`|${c}|`), '>', 0))));
    if (q.department) base = base.where('d.department', '=', q.department);
    const [count, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
      base
        .innerJoin('cms_search_bodies as b', 'b.doc_id', 'd.id')
        .select(['d.doc_key', 'd.url', 'd.title', 'd.type', 'd.categories', 'd.department', 'd.published_at', 'b.body'])
        // Plain DESC so PostgreSQL can read the type index backwards (CMS documents always have a date).
        .orderBy('d.published_at', 'desc')
        .orderBy('d.id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
    ]);
    return {
      total: Number(count?.n ?? 0),
      hits: rows.map((d) => ({
        key: d.doc_key,
        url: d.url,
        title: d.title,
        titleHtml: escapeHtml(d.title),
        type: d.type,
        categories: d.categories ? d.categories.split('|').filter(Boolean) : [],
        department: d.department,
        publishedAt: d.published_at,
        snippetHtml: snippet(d.body, []),
        score: 0,
      })),
    };
  }

  /**
   * Replaces the index (of one site, or all) with the given documents, in batches: memory stays
   * flat, the old index answers until the batch holding each document commits, and documents
   * not seen in this run are swept at the end. Returns the number of documents indexed.
   */
  async reindexAll(docs: AsyncIterable<SearchDocumentInput> | Iterable<SearchDocumentInput>, opts: { siteId?: number } = {}): Promise<number> {
    const stamp = new Date().toISOString();
    let count = 0;
    let batch: PreparedDoc[] = [];
    const flush = async () => {
      if (!batch.length) return;
      const unique = [...new Map(batch.map((p) => [p.row.doc_key, p])).values()];
      batch = [];
      await this.db.transaction().execute(async (t) => {
        const ids = await this.writeDocs(t, unique);
        await t.deleteFrom('cms_search_postings').where('doc_id', 'in', [...ids.values()]).execute();
        await this.insertPostings(
          t,
          unique.map((p) => ({ id: ids.get(p.row.doc_key)!, terms: p.terms })),
        );
      });
      count += unique.length;
    };
    for await (const doc of docs) {
      if (opts.siteId !== undefined && doc.siteId !== opts.siteId) throw new Error(`document ${doc.key} is not of site ${opts.siteId}`);
      batch.push(prepareDocument(doc));
      if (batch.length >= REINDEX_BATCH) await flush();
    }
    await flush();
    await this.db.transaction().execute(async (t) => {
      let stale = t.selectFrom('cms_search_documents').select('id').where('indexed_at', '<', stamp);
      if (opts.siteId !== undefined) stale = stale.where('site_id', '=', opts.siteId);
      await t.deleteFrom('cms_search_postings').where('doc_id', 'in', stale).execute();
      await t.deleteFrom('cms_search_bodies').where('doc_id', 'in', stale).execute();
      let del = t.deleteFrom('cms_search_documents').where('indexed_at', '<', stamp);
      if (opts.siteId !== undefined) del = del.where('site_id', '=', opts.siteId);
      await del.execute();
    });
    return count;
  }

  /** Inserts or updates document rows; returns doc_key → id. */
  private async writeDocs(t: Executor, docs: PreparedDoc[]): Promise<Map<string, number>> {
    const rows = await t
      .insertInto('cms_search_documents')
      .values(docs.map((d) => d.row))
      .onConflict((oc) =>
        oc.column('doc_key').doUpdateSet((eb) => ({
          site_id: eb.ref('excluded.site_id'),
          url: eb.ref('excluded.url'),
          title: eb.ref('excluded.title'),
          type: eb.ref('excluded.type'),
          categories: eb.ref('excluded.categories'),
          department: eb.ref('excluded.department'),
          published_at: eb.ref('excluded.published_at'),
          title_norm: eb.ref('excluded.title_norm'),
          indexed_at: eb.ref('excluded.indexed_at'),
        })),
      )
      .returning(['id', 'doc_key'])
      .execute();
    const ids = new Map(rows.map((r) => [r.doc_key, r.id]));
    await t
      .insertInto('cms_search_bodies')
      .values(docs.map((d) => ({ doc_id: ids.get(d.row.doc_key)!, ...d.body })))
      .onConflict((oc) => oc.column('doc_id').doUpdateSet((eb) => ({ body: eb.ref('excluded.body'), body_norm: eb.ref('excluded.body_norm') })))
      .execute();
    return ids;
  }

  private async insertPostings(t: Executor, docs: Array<{ id: number; terms: Map<string, [number, 0 | 1]> }>) {
    if (this.engine === 'postgres') {
      // One statement per 20,000 postings: four array parameters, unnested by the server.
      let terms: string[] = [];
      let ids: number[] = [];
      let tfs: number[] = [];
      let titles: number[] = [];
      const send = async () => {
        if (!terms.length) return;
        await sql`insert into cms_search_postings (term, doc_id, tf, in_title)
          select * from unnest(${terms}::text[], ${ids}::int4[], ${tfs}::int4[], ${titles}::int4[])`.execute(t);
        terms = [];
        ids = [];
        tfs = [];
        titles = [];
      };
      // Sorted by term, a batch lands on neighbouring index pages instead of all over the b-tree.
      const all: Array<[string, number, number, number]> = [];
      for (const d of docs) for (const [term, [tf, inTitle]] of d.terms) all.push([term, d.id, tf, inTitle]);
      all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
      for (const [term, id, tf, inTitle] of all) {
        terms.push(term);
        ids.push(id);
        tfs.push(tf);
        titles.push(inTitle);
        if (terms.length >= PG_POSTING_CHUNK) await send();
      }
      await send();
      return;
    }
    let rows: Array<{ term: string; doc_id: number; tf: number; in_title: number }> = [];
    const send = async () => {
      if (!rows.length) return;
      await t.insertInto('cms_search_postings').values(rows).execute();
      rows = [];
    };
    for (const d of docs) {
      for (const [term, [tf, inTitle]] of d.terms) {
        rows.push({ term, doc_id: d.id, tf, in_title: inTitle });
        if (rows.length >= SQLITE_POSTING_CHUNK) await send();
      }
    }
    await send();
  }

  /**
   * Finds documents of a site containing every query term (AND); CJK words of three or more
   * characters must occur as written (bigrams adjacent). Ranked by title match, term frequency
   * and recency.
   */
  async search(q: SearchQuery): Promise<SearchResult> {
    const limit = Math.min(100, Math.max(1, Math.floor(q.limit ?? 10)));
    const offset = Math.min(MAX_OFFSET, Math.max(0, Math.floor(q.offset ?? 0)));
    const parsed = parseQuery(q.text ?? '');
    if (!parsed.groups.length) return { total: 0, hits: [] };
    if (this.engine !== 'postgres') return this.runSearch(this.db, q, parsed, limit, offset);
    // Per query: enough memory for the hash of a broad query, no parallel workers (each would
    // build the same hash), no JIT compilation (tens of milliseconds, never repaid here).
    return this.db.transaction().execute(async (tx) => {
      await sql`set local work_mem = '32MB'`.execute(tx);
      await sql`set local max_parallel_workers_per_gather = 0`.execute(tx);
      await sql`set local jit = off`.execute(tx);
      return this.runSearch(tx, q, parsed, limit, offset);
    });
  }

  private async runSearch(db: Executor, q: SearchQuery, parsed: ParsedQuery, limit: number, offset: number): Promise<SearchResult> {
    const pg = this.engine === 'postgres';
    const pos = (hay: string, needle: string) => (pg ? sql`strpos(${sql.ref(hay)}, ${needle})` : sql`instr(${sql.ref(hay)}, ${needle})`);

    // Candidates: the posting lists of the exact terms joined on doc_id (sorted by doc_id in the
    // (term, doc_id) key, so PostgreSQL merge-joins them and probes the rest by index), one-character
    // terms checked per candidate through the (doc_id, term) index. Bigrams inside a phrase beyond
    // the first few are left to the phrase check, which is exact anyway.
    const phraseTerms = new Set<string>();
    for (const p of parsed.phrases) {
      const chars = Array.from(p);
      for (let i = 0; i + 1 < chars.length; i++) phraseTerms.add(chars[i]! + chars[i + 1]!);
    }
    const must = parsed.groups.filter((g) => g.kind === 'prefix' || !phraseTerms.has(g.term));
    const optional = parsed.groups.filter((g) => g.kind === 'exact' && phraseTerms.has(g.term));
    const groups = [...must, ...optional.slice(0, Math.max(2, MAX_JOINED - must.length))];
    const exact = groups.filter((g): g is Extract<TermGroup, { kind: 'exact' }> => g.kind === 'exact');
    const prefix = groups.filter((g): g is Extract<TermGroup, { kind: 'prefix' }> => g.kind === 'prefix');

    let driver: RawBuilder<unknown>;
    let probes = prefix;
    if (exact.length) {
      const alias = (i: number) => sql.raw(`p${i}`);
      const joins = exact.slice(1).map((g, i) => sql`join cms_search_postings ${alias(i + 1)} on ${alias(i + 1)}.doc_id = p0.doc_id and ${alias(i + 1)}.term = ${g.term}`);
      const tf = sql.join(exact.map((_, i) => sql`${alias(i)}.tf`), sql` + `);
      const th = sql.join(exact.map((_, i) => sql`${alias(i)}.in_title`), sql` + `);
      driver = sql`select p0.doc_id, ${tf} as tf, ${th} as th from cms_search_postings p0 ${sql.join(joins, sql` `)} where p0.term = ${exact[0]!.term}`;
    } else {
      const g = prefix[0]!;
      probes = prefix.slice(1);
      driver = sql`select doc_id, sum(tf) as tf, max(in_title) as th from cms_search_postings where term >= ${g.char} and term < ${g.upper} group by doc_id`;
    }
    // One-character terms as a semi-join: PostgreSQL hashes the term range for a broad query or
    // probes (doc_id, term) per candidate for a narrow one.
    let candidates = driver;
    if (probes.length) {
      const exists = probes.map(
        (g) => sql`exists (select 1 from cms_search_postings x where x.doc_id = k.doc_id and x.term >= ${g.char} and x.term < ${g.upper})`,
      );
      candidates = sql`select k.doc_id, k.tf + ${sql.lit(probes.length)} as tf, k.th from (${driver}) k where ${sql.join(exists, sql` and `)}`;
    }

    const where: RawBuilder<unknown>[] = [sql`d.site_id = ${q.siteId}`];
    const types = (q.types ?? []).filter(Boolean);
    if (types.length) where.push(sql`d.type in (${sql.join(types)})`);
    const cats = [...new Set((q.categories ?? []).map((c) => c.replace(/\|/g, '')).filter(Boolean))];
    if (cats.length) where.push(sql`(${sql.join(cats.map((c) => sql`${pos('d.categories', `|${c}|`)} > 0`), sql` or `)})`);
    if (q.department) where.push(sql`d.department = ${q.department}`);
    for (const p of parsed.phrases) {
      where.push(sql`(${pos('d.title_norm', p)} > 0 or exists (select 1 from cms_search_bodies b where b.doc_id = d.id and ${pos('b.body_norm', p)} > 0))`);
    }

    const n = groups.length;
    const probeTitles = probes.map((g) => sql` + case when ${pos('d.title_norm', g.char)} > 0 then 1 else 0 end`);
    // Floating-point arithmetic throughout: PostgreSQL's numeric (integer / 3.0, extract()) costs
    // tens of milliseconds over a broad query's candidates.
    const f = (e: RawBuilder<unknown>) => sql`cast(${e} as double precision)`;
    const titleScore = sql`${sql.raw(TITLE_WEIGHT.toFixed(1))} * ${f(sql`c.th${sql.join(probeTitles, sql``)}`)} / ${sql.raw(n.toFixed(1))}`;
    const tfScore = sql`${sql.raw(TF_WEIGHT.toFixed(1))} * ${f(sql`c.tf`)} / (${f(sql`c.tf`)} + 3.0)`;
    const nowSec = Math.floor(Date.now() / 1000);
    const ageDays = pg
      ? sql`greatest(0.0, (${f(sql.raw(String(nowSec)))} - date_part('epoch', d.published_at)) / 86400.0)`
      : sql`max(0.0, (${nowSec} - (julianday(d.published_at) - 2440587.5) * 86400.0) / 86400.0)`;
    const recency = sql`case when d.published_at is null then 0.0 else ${sql.raw(RECENCY_WEIGHT.toFixed(1))} / (1.0 + ${ageDays} / 365.0) end`;

    const ranked = sql`with c as (${candidates}),
      r as (
        select d.id, d.published_at, ${titleScore} + ${tfScore} + ${recency} as score
        from c join cms_search_documents d on d.id = c.doc_id
        where ${sql.join(where, sql` and `)}
      )`;
    const page = await sql<{ id: number; score: number; total: number }>`${ranked}
      select id, score, count(*) over () as total from r
      order by score desc, published_at desc nulls last, id desc
      limit ${sql.lit(limit)} offset ${sql.lit(offset)}`.execute(db);
    let total = Number(page.rows[0]?.total ?? 0);
    if (!page.rows.length && offset > 0) {
      const c = await sql<{ n: number }>`${ranked} select count(*) as n from r`.execute(db);
      total = Number(c.rows[0]?.n ?? 0);
    }
    if (!page.rows.length) return { total, hits: [] };

    const docs = await db
      .selectFrom('cms_search_documents as d')
      .innerJoin('cms_search_bodies as b', 'b.doc_id', 'd.id')
      .select(['d.id', 'd.doc_key', 'd.url', 'd.title', 'd.type', 'd.categories', 'd.department', 'd.published_at', 'b.body'])
      .where(
        'd.id',
        'in',
        page.rows.map((r) => Number(r.id)),
      )
      .execute();
    const byId = new Map(docs.map((d) => [d.id, d]));
    const hits: SearchHit[] = [];
    for (const r of page.rows) {
      const d = byId.get(Number(r.id));
      if (!d) continue;
      hits.push({
        key: d.doc_key,
        url: d.url,
        title: d.title,
        titleHtml: highlightAll(d.title, parsed.segments),
        type: d.type,
        categories: d.categories ? d.categories.split('|').filter(Boolean) : [],
        department: d.department,
        publishedAt: d.published_at,
        snippetHtml: snippet(d.body, parsed.segments),
        score: Math.round(Number(r.score) * 1e6) / 1e6,
      });
    }
    return { total, hits };
  }
}
