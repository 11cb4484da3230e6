import type { Context } from 'hono';
import { raw } from 'hono/html';
import type { AppEnv } from '../../../core/http/types.js';
import { viewOf } from '../../../core/ui/view.js';
import { SiteFrame, SearchBox } from '../frame.js';
import type { Site } from '../sites.js';
import type { SearchIndex } from './index.js';

/** C-3-23: search results inside the site's own header and footer. */
export async function searchPage(c: Context<AppEnv>, site: Site, search: SearchIndex): Promise<Response> {
  const q = (c.req.query('q') ?? '').trim().slice(0, 100);
  const pageNo = Math.max(1, Math.min(100, Number.parseInt(c.req.query('page') ?? '1', 10) || 1));
  const limit = 10;
  const result = q ? await search.search({ siteId: site.id, text: q, limit, offset: (pageNo - 1) * limit }) : { total: 0, hits: [] };
  const v = { ...viewOf(c), csrf: '' };
  const prefix = site.pathPrefix;
  const pages = Math.ceil(result.total / limit);
  const link = (n: number) => `${prefix}/search?${new URLSearchParams({ q, page: String(n) }).toString()}`;
  c.header('Cache-Control', 'no-store');
  return c.html(
    <SiteFrame c={c} v={v} site={site} title={q ? `「${q}」の検索結果` : 'サイト内検索'} q={q}>
      <h1>サイト内検索</h1>
      <SearchBox prefix={prefix} q={q} id="search-page-q" landmark="検索条件" />
      {q ? (
        <p role="status" data-testid="search-count">「{q}」の検索結果: {result.total}件</p>
      ) : (
        <p>探したい言葉を入力してください。</p>
      )}
      <ol class="page-list search-results">
        {result.hits.map((h) => (
          <li>
            <a href={`${prefix}${h.url}`}>{raw(h.titleHtml)}</a>
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
