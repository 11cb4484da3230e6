import type { Context } from 'hono';
import { raw } from 'hono/html';
import type { AppEnv } from '../../../core/http/types.js';
import { publicViewOf } from '../../../core/ui/view.js';
import { SiteFrame } from '../frame.js';
import type { Site } from '../sites.js';
import type { SearchIndex, SearchResult } from './index.js';

/** What the filters offer: page types and a site's categories (given by the page-type feature). */
export interface SearchFilterSource {
  pageTypes(): Array<{ key: string; label: string }>;
  /** Categories of a site as filter keys (the index stores category ids) with labels. */
  categories(siteId: number): Promise<Array<{ key: string; label: string }>>;
}

const filterSources = new WeakMap<SearchIndex, SearchFilterSource>();

/** Lets the search page of this index offer type and category filters (C-3-22/23). */
export function setSearchFilterSource(search: SearchIndex, source: SearchFilterSource): void {
  filterSources.set(search, source);
}

/** Values of a repeated GET parameter, trimmed, unique, at most `max`. */
function queryList(c: Context<AppEnv>, name: string, max = 20): string[] {
  return [...new Set((c.req.queries(name) ?? []).map((s) => s.trim()).filter((s) => s && s.length <= 40))].slice(0, max);
}

/**
 * C-3-23: search results inside the site's own header and footer, filtered by page type and
 * category (GET parameters `type` and `category`, repeatable). Filters without words list the
 * matching pages newest first.
 */
export async function searchPage(c: Context<AppEnv>, site: Site, search: SearchIndex): Promise<Response> {
  const q = (c.req.query('q') ?? '').trim().slice(0, 100);
  const pageNo = Math.max(1, Math.min(100, Number.parseInt(c.req.query('page') ?? '1', 10) || 1));
  const limit = 10;
  const source = filterSources.get(search);
  const typeOptions = source?.pageTypes() ?? [];
  const categoryOptions = source ? await source.categories(site.id) : [];
  // Only offered values count: anything else in the URL is ignored, not searched for.
  const types = queryList(c, 'type').filter((t) => typeOptions.some((o) => o.key === t));
  const categories = queryList(c, 'category').filter((k) => categoryOptions.some((o) => o.key === k));
  const filtered = types.length > 0 || categories.length > 0;
  const offset = (pageNo - 1) * limit;
  const result: SearchResult = q
    ? await search.search({ siteId: site.id, text: q, types, categories, limit, offset })
    : filtered
      ? await search.browse({ siteId: site.id, types, categories, limit, offset })
      : { total: 0, hits: [] };
  const v = publicViewOf(c);
  const prefix = site.pathPrefix;
  const pages = Math.ceil(result.total / limit);
  const params = (n: number) => {
    const u = new URLSearchParams();
    if (q) u.set('q', q);
    for (const t of types) u.append('type', t);
    for (const k of categories) u.append('category', k);
    u.set('page', String(n));
    return u.toString();
  };
  const link = (n: number) => `${prefix}/search?${params(n)}`;
  const typeLabel = new Map(typeOptions.map((o) => [o.key, o.label]));
  const conditions = [q ? `「${q}」` : '', ...types.map((t) => `種類: ${typeLabel.get(t) ?? t}`), ...categories.map((k) => `分野: ${categoryOptions.find((o) => o.key === k)?.label ?? k}`)].filter(Boolean);
  const title = q ? `「${q}」の検索結果` : filtered ? '絞り込みの結果' : 'サイト内検索';
  c.header('Cache-Control', 'no-store');
  return c.html(
    <SiteFrame c={c} v={v} site={site} title={title} q={q}>
      <h1>サイト内検索</h1>
      <form method="get" action={`${prefix}/search`} role="search" class="site-search-page" aria-label="検索条件">
        <div class="field">
          <label for="search-page-q">探したい言葉</label>
          <input type="search" id="search-page-q" name="q" value={q} />
        </div>
        {typeOptions.length ? (
          <fieldset class="search-filters" data-testid="type-filter">
            <legend>ページの種類で絞り込む</legend>
            {typeOptions.map((o, i) => (
              <div class="checkbox">
                <input type="checkbox" id={`search-type-${i}`} name="type" value={o.key} checked={types.includes(o.key)} />
                <label for={`search-type-${i}`}>{o.label}</label>
              </div>
            ))}
          </fieldset>
        ) : null}
        {categoryOptions.length ? (
          <div class="field">
            <label for="search-category">分野で絞り込む</label>
            <select id="search-category" name="category">
              <option value="">すべての分野</option>
              {categoryOptions.map((o) => (
                <option value={o.key} selected={categories.includes(o.key)}>{o.label}</option>
              ))}
            </select>
          </div>
        ) : null}
        <button type="submit">検索</button>
      </form>
      {q || filtered ? (
        <p role="status" data-testid="search-count">{conditions.join('、')}の検索結果: {result.total}件</p>
      ) : (
        <p>探したい言葉を入力するか、種類・分野を選んでください。</p>
      )}
      <ol class="page-list search-results">
        {result.hits.map((h) => (
          <li>
            <a href={`${prefix}${h.url}`}>{raw(h.titleHtml)}</a>
            {typeLabel.has(h.type) && h.type !== 'standard' ? <span class="result-meta">（{typeLabel.get(h.type)}）</span> : null}
            <p>{raw(h.snippetHtml)}</p>
          </li>
        ))}
      </ol>
      {pages > 1 ? (
        <nav class="pagination" aria-label="検索結果のページ">
          {pageNo > 1 ? <a href={link(pageNo - 1)} rel="prev">前へ</a> : null}
          <span>{pageNo} / {pages}</span>
          {pageNo < pages ? <a href={link(pageNo + 1)} rel="next">次へ</a> : null}
        </nav>
      ) : null}
    </SiteFrame>,
  );
}

