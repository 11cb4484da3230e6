import { beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { systemActor } from '../../../test/helpers/platform.js';
import { cmsOf } from './index.js';
import { LIST_TAG, RenderCache, childrenTag, nodeTag, parentPath } from './render-cache.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

describePlatform('CMS render cache: a change clears the pages it shows on, and only those', {}, (tp) => {
  let siteId = 0;
  const ids: Record<string, number> = {};
  const PATHS = ['/', '/kurashi/', '/kurashi/gomi', '/kurashi/juminhyo', '/bousai/', '/bousai/hinanjo'];

  beforeAll(async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const actor = systemActor(p);
    siteId = await cms.sites.create(actor, { key: 'precise', name: 'きめ細か市', pathPrefix: '/s/precise' }, meta);
    const root = await cms.pages.root(siteId);
    await cms.pages.publish(actor, root.id, meta);
    ids['/'] = root.id;
    const add = async (parent: string, slug: string, kind: 'folder' | 'page', title: string) => {
      const id = await cms.pages.create(actor, { siteId, parentId: ids[parent]!, kind, slug, title, body: `<p>${title}の本文</p>` }, meta);
      await cms.pages.publish(actor, id, meta);
      ids[`${parent}${slug}${kind === 'folder' ? '/' : ''}`] = id;
    };
    await add('/', 'kurashi', 'folder', 'くらし');
    await add('/kurashi/', 'gomi', 'page', 'ごみ');
    await add('/kurashi/', 'juminhyo', 'page', '住民票');
    await add('/', 'bousai', 'folder', '防災');
    await add('/bousai/', 'hinanjo', 'page', '避難所');
  });

  /** A fresh cache holding every page of the site, tagged as the public renderer tags them. */
  async function filledCache(): Promise<RenderCache> {
    const cms = cmsOf(tp().platform);
    const cache = new RenderCache();
    for (const path of PATHS) {
      const found = await cms.pages.findPublic(siteId, path);
      expect(found, path).not.toBeNull();
      cache.set(siteId, path, 'ja', `<p>${path}</p>`, `"${path}"`, cache.tagsFor({}, found!));
    }
    return cache;
  }
  const cached = (cache: RenderCache) => PATHS.filter((p) => cache.has(siteId, p, 'ja'));

  it('tags a page with itself and its ancestors; a folder also with its children and the automatic lists', async () => {
    const cms = cmsOf(tp().platform);
    const cache = new RenderCache();
    const page = cache.tagsFor({}, (await cms.pages.findPublic(siteId, '/kurashi/gomi'))!);
    expect(page.sort()).toEqual([nodeTag(ids['/']!), nodeTag(ids['/kurashi/']!), nodeTag(ids['/kurashi/gomi']!)].sort());
    const folder = cache.tagsFor({}, (await cms.pages.findPublic(siteId, '/kurashi/'))!);
    expect(folder).toEqual(expect.arrayContaining([nodeTag(ids['/kurashi/']!), childrenTag('/kurashi/'), LIST_TAG]));
    expect(cache.tagsFor({}, (await cms.pages.findPublic(siteId, '/'))!)).toEqual(expect.arrayContaining([childrenTag('/'), LIST_TAG]));
    expect([parentPath('/kurashi/gomi'), parentPath('/kurashi/'), parentPath('/')]).toEqual(['/kurashi/', '/', null]);
  });

  it('publishing page A clears A, the folder listing it and the top page, and keeps page B that does not show A', async () => {
    const cache = await filledCache();
    cache.invalidate({ siteId, nodeId: ids['/kurashi/gomi']!, path: '/kurashi/gomi', kind: 'publish' });
    expect(cached(cache)).toEqual(['/kurashi/juminhyo', '/bousai/hinanjo']);
  });

  it('hiding a folder clears every page below it (they disappear with it, their breadcrumbs show it)', async () => {
    const cache = await filledCache();
    cache.invalidate({ siteId, nodeId: ids['/bousai/']!, path: '/bousai/', kind: 'hide' });
    expect(cached(cache)).toEqual(['/kurashi/gomi', '/kurashi/juminhyo']);
  });

  it('clears the whole site for moves, settings and entries stored without tags; other sites keep theirs', async () => {
    for (const kind of ['move', 'settings'] as const) {
      const cache = await filledCache();
      cache.set(siteId + 1000, '/', 'ja', 'other site', '"o"', ['node:1']);
      cache.invalidate({ siteId, nodeId: ids['/kurashi/gomi']!, path: '/kurashi/gomi', kind });
      expect(cached(cache), kind).toEqual([]);
      expect(cache.has(siteId + 1000, '/', 'ja')).toBe(true);
    }
    const cache = await filledCache();
    cache.set(siteId, '/legacy', 'ja', 'x', '"x"');
    cache.invalidate({ siteId, nodeId: ids['/bousai/hinanjo']!, path: '/bousai/hinanjo', kind: 'publish' });
    expect(cache.has(siteId, '/legacy', 'ja')).toBe(false);
    expect(cache.has(siteId, '/kurashi/gomi', 'ja')).toBe(true);
  });

  it('a part that declares a dependency (dependOn) makes its page clear when that tag changes', async () => {
    const cms = cmsOf(tp().platform);
    const cache = new RenderCache();
    const request = {};
    cache.dependOn(request, LIST_TAG);
    const found = (await cms.pages.findPublic(siteId, '/kurashi/juminhyo'))!;
    cache.set(siteId, '/kurashi/juminhyo', 'ja', 'with a list', '"l"', cache.tagsFor(request, found));
    cache.invalidate({ siteId, nodeId: ids['/bousai/hinanjo']!, path: '/bousai/hinanjo', kind: 'publish' });
    expect(cache.has(siteId, '/kurashi/juminhyo', 'ja')).toBe(false);
  });

  it('does not store a page whose render began before a change touching it (no stale page after the race)', async () => {
    const cms = cmsOf(tp().platform);
    const cache = new RenderCache();
    const found = (await cms.pages.findPublic(siteId, '/kurashi/gomi'))!;
    const tags = cache.tagsFor({}, found);
    expect(cache.get(siteId, '/kurashi/gomi', 'ja')).toBeUndefined(); // the render starts
    cache.invalidate({ siteId, nodeId: ids['/kurashi/gomi']!, path: '/kurashi/gomi', kind: 'publish' }); // a publish lands meanwhile
    cache.set(siteId, '/kurashi/gomi', 'ja', 'old content', '"old"', tags);
    expect(cache.has(siteId, '/kurashi/gomi', 'ja')).toBe(false);
    // The next render starts after the change and is kept.
    expect(cache.get(siteId, '/kurashi/gomi', 'ja')).toBeUndefined();
    cache.set(siteId, '/kurashi/gomi', 'ja', 'new content', '"new"', tags);
    expect(cache.get(siteId, '/kurashi/gomi', 'ja')?.html).toBe('new content');
    // A change elsewhere during a render does not hold that render back.
    expect(cache.get(siteId, '/kurashi/juminhyo', 'ja')).toBeUndefined();
    cache.invalidate({ siteId, nodeId: ids['/bousai/hinanjo']!, path: '/bousai/hinanjo', kind: 'publish' });
    cache.set(siteId, '/kurashi/juminhyo', 'ja', 'b', '"b"', cache.tagsFor({}, (await cms.pages.findPublic(siteId, '/kurashi/juminhyo'))!));
    expect(cache.has(siteId, '/kurashi/juminhyo', 'ja')).toBe(true);
  });

  it('over HTTP: publishing a page under the top page refreshes the top page and keeps an unrelated page cached', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const client = new HttpClient(tp().baseUrl);
    const warm = async (path: string) => {
      await client.get(`/s/precise${path}`);
      return (await client.get(`/s/precise${path}`)).headers.get('x-render-cache');
    };
    expect(await warm('/')).toBe('hit');
    expect(await warm('/kurashi/juminhyo')).toBe('hit');
    const notice = await cms.pages.create(systemActor(p), { siteId, parentId: ids['/']!, kind: 'page', slug: 'oshirase', title: '新しいお知らせ', body: '<p>お知らせ</p>' }, meta);
    await cms.pages.publish(systemActor(p), notice, meta);
    const top = await client.get('/s/precise/');
    expect(top.text).toContain('新しいお知らせ');
    expect(top.headers.get('x-render-cache')).toBe('miss');
    const unrelated = await client.get('/s/precise/kurashi/juminhyo');
    expect(
      unrelated.headers.get('x-render-cache'),
      'page B was cleared too: public-routes.tsx must store pages with cms.cache.tagsFor(c, found), and cms/index.ts must call cache.invalidate(change) instead of clearSite',
    ).toBe('hit');
  });
});
