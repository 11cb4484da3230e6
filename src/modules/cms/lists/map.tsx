import { jsonForScript } from '../../../core/ui/json-script.js';
/**
 * The spot map of a site (`<prefix>/map/`, C-2-6): a GET form (category, free word), the matching
 * spots as a text table (name, address, category, link) that works without JavaScript and is the
 * accessible alternative, and a Leaflet map on 地理院タイル added by map-client.ts. The map is
 * labelled, can be skipped, and its markers are reachable by keyboard.
 */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { publicViewOf } from '../../../core/ui/view.js';
import type { CmsServices } from '../index.js';
import { SiteFrame } from '../frame.js';
import { FeedLink } from '../feeds.js';
import type { Site } from '../sites.js';
import { categoriesOf } from '../types/categories.js';
import { pageCategories, spotFields, type SpotFields } from '../types/fields.js';
import type { ListItem, ListService } from './service.js';
import { Crumbs, sendWithEtag } from './page-kit.js';
import { buildMapBundle } from './map-bundle.js';

/** The only image host the map page adds to its Content-Security-Policy. */
export const TILE_HOST = 'https://cyberjapandata.gsi.go.jp';

export interface MapSpot {
  id: number;
  title: string;
  url: string;
  lat: number;
  lng: number;
  address: string;
}


/** NFKC, lower case, no spaces: 全角・半角 and case do not matter in the free-word filter. */
const fold = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, '');

/** Spots of a site with their map fields, filtered by category and free word (every word must match). */
export async function findSpots(lists: ListService, siteId: number, opts: { category?: number; q?: string } = {}): Promise<Array<{ item: ListItem; spot: SpotFields }>> {
  const items = await lists.livePagesOfType(siteId, 'spot', { category: opts.category });
  const words = (opts.q ?? '').normalize('NFKC').split(/\s+/).map(fold).filter(Boolean);
  return items.flatMap((item) => {
    const spot = spotFields(item.fields);
    if (!spot) return [];
    const hay = fold(`${item.title} ${spot.address} ${item.summary ?? ''}`);
    return words.every((w) => hay.includes(w)) ? [{ item, spot }] : [];
  });
}

export async function mapPage(c: Context<AppEnv>, p: Platform, _cms: CmsServices, lists: ListService, site: Site): Promise<Response> {
  const categories = await categoriesOf(p).list(site.id);
  const category = categories.find((x) => String(x.id) === c.req.query('category'));
  const q = (c.req.query('q') ?? '').trim().slice(0, 100);
  const spots = await findSpots(lists, site.id, { category: category?.id, q });
  const names = new Map(categories.map((x) => [x.id, x.name]));
  const prefix = site.pathPrefix;
  const bundle = await buildMapBundle();
  const data: MapSpot[] = spots.map(({ item, spot }) => ({ id: item.nodeId, title: item.title, url: `${prefix}${item.path}`, lat: spot.lat, lng: spot.lng, address: spot.address }));
  const v = publicViewOf(c);
  const filtered = Boolean(category || q);
  const page: Child = (
    <SiteFrame c={c} v={v} site={site} title={filtered ? `スポットマップ（検索結果）` : 'スポットマップ'} head={<><FeedLink site={site} /><link rel="stylesheet" href={bundle.cssPath} /></>}>
      <Crumbs site={site} trail={[{ title: 'スポットマップ' }]} />
      <h1>スポットマップ</h1>
      <form method="get" action={`${prefix}/map/`} class="filters" role="search" aria-label="スポットの検索">
        <div class="field">
          <label for="map-category">分野</label>
          <select id="map-category" name="category">
            <option value="">すべての分野</option>
            {categories.map((x) => <option value={String(x.id)} selected={x.id === category?.id}>{x.depth ? `　${x.name}` : x.name}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="map-q">キーワード</label>
          <input type="search" id="map-q" name="q" value={q} maxlength={100} />
        </div>
        <div class="field"><button type="submit" class="button--small">検索</button></div>
      </form>
      <p role="status">{spots.length ? `${spots.length}件のスポットがあります。` : '条件に合うスポットはありません。'}</p>
      {spots.length ? (
        <section id="spot-map-section" aria-labelledby="spot-map-title" hidden>
          <h2 id="spot-map-title">地図</h2>
          <a href="#spot-list-title" class="map-skip">地図をとばして一覧へ</a>
          <div id="spot-map" class="spot-map" role="region" aria-label="スポットの地図（印はTabキーで選び、Enterキーで名前とリンクを表示）"></div>
          <script type="application/json" id="spot-map-data">{raw(jsonForScript(data))}</script>
        </section>
      ) : null}
      {spots.length ? (
        <section aria-labelledby="spot-list-title">
          <h2 id="spot-list-title" tabindex={-1}>スポットの一覧</h2>
          <div class="table-wrap">
            <table class="spot-list">
              <caption>スポットの一覧（{spots.length}件）</caption>
              <thead><tr><th scope="col">名称</th><th scope="col">住所</th><th scope="col">分野</th></tr></thead>
              <tbody>
                {spots.map(({ item, spot }) => (
                  <tr data-node-id={String(item.nodeId)}>
                    <th scope="row"><a href={`${prefix}${item.path}`}>{item.title}</a></th>
                    <td>{spot.address}</td>
                    <td>{pageCategories(item.fields).flatMap((id) => (names.has(id) ? [names.get(id)!] : [])).join('、')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
      <script type="module" src={bundle.jsPath} nonce={v.nonce}></script>
    </SiteFrame>
  );
  const html = (await page).toString();
  // Tiles are the only outside images this page shows; no other page allows the tile host. Added
  // after rendering, so parts of the frame that set sources of their own keep them.
  const sources = c.get('cspSources') ?? {};
  c.set('cspSources', { ...sources, img: [...(sources.img ?? []), TILE_HOST] });
  return sendWithEtag(c, html, 'text/html; charset=utf-8');
}

export { jsonForScript };
