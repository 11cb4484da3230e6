import { expect, it } from 'vitest';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { systemActor } from '../../../test/helpers/platform.js';
import { cmsOf } from './index.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

describePlatform('CMS pages on the public site', {}, (tp) => {
  let siteId = 0;
  let folderId = 0;
  let pageId = 0;

  it('creates a site reached by path prefix, with a published top page, folder and page', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const actor = systemActor(p);
    siteId = await cms.sites.create(actor, { key: 'testcity', name: 'テスト市', pathPrefix: '/sites/testcity' }, meta);
    const root = await cms.pages.root(siteId);
    await cms.pages.saveDraft(actor, root.id, { title: 'テスト市', body: '<p>ようこそ</p>' }, meta);
    await cms.pages.publish(actor, root.id, meta);
    folderId = await cms.pages.create(actor, { siteId, parentId: root.id, kind: 'folder', slug: 'kurashi', title: 'くらし', body: '' }, meta);
    await cms.pages.publish(actor, folderId, meta);
    pageId = await cms.pages.create(actor, { siteId, parentId: folderId, kind: 'page', slug: 'gomi', title: 'ごみの出し方', summary: '収集日の案内', body: '<h1>収集日</h1><p onclick="x()">月曜日<script>alert(1)</script></p>' }, meta);
    await cms.pages.publish(actor, pageId, meta);

    const client = new HttpClient(tp().baseUrl);
    const page = await client.get('/sites/testcity/kurashi/gomi');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>ごみの出し方 | テスト市</title>');
    expect(page.text).toMatch(/<nav aria-label="現在位置" class="breadcrumbs"><ol><li><a href="\/sites\/testcity\/">テスト市<\/a><\/li><li><a href="\/sites\/testcity\/kurashi\/">くらし<\/a><\/li><li aria-current="page">ごみの出し方<\/li>/);
    // The body was sanitised when saved: no script, no handler, h1 demoted below the page title.
    expect(page.text).not.toContain('<script>alert');
    expect(page.text).not.toContain('onclick');
    expect(page.text).toContain('<h2>収集日</h2>');
    const folder = await client.get('/sites/testcity/kurashi/');
    expect(folder.text).toContain('href="/sites/testcity/kurashi/gomi"');
    expect(folder.text).toContain('収集日の案内');
    const top = await client.get('/sites/testcity/');
    expect(top.text).toContain('<title>テスト市</title>');
    expect(top.text).toContain('href="/sites/testcity/kurashi/"');
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(pageId) }, { limit: 10 })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.create', 'cms.publish']));
  });

  it('keeps the live version while a replacement draft is edited, and shows the change at once on publish', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const client = new HttpClient(tp().baseUrl);
    const first = await client.get('/sites/testcity/kurashi/gomi');
    const again = await client.get('/sites/testcity/kurashi/gomi');
    expect(again.headers.get('x-render-cache')).toBe('hit');
    await cms.pages.saveDraft(systemActor(p), pageId, { title: 'ごみの出し方（改訂）', body: '<p>火曜日に変わりました</p>' }, meta);
    const stillLive = await client.get('/sites/testcity/kurashi/gomi');
    expect(stillLive.text).toBe(first.text);
    await cms.pages.publish(systemActor(p), pageId, meta);
    const updated = await client.get('/sites/testcity/kurashi/gomi');
    expect(updated.headers.get('x-render-cache')).toBe('miss');
    expect(updated.text).toContain('火曜日に変わりました');
    expect((await client.get('/sites/testcity/kurashi/')).text).toContain('ごみの出し方（改訂）');
  });

  it('answers 304 to a revalidation with the same ETag', async () => {
    const client = new HttpClient(tp().baseUrl);
    const res = await client.get('/sites/testcity/kurashi/gomi');
    const etag = res.headers.get('etag')!;
    expect((await client.get('/sites/testcity/kurashi/gomi', { 'if-none-match': etag })).status).toBe(304);
  });

  it('a malformed %-escape in the address is a 404, not a server error', async () => {
    for (const path of ['/%', '/sites/testcity/%E3%81', '/sites/testcity/kurashi/%zz']) expect((await fetch(new URL(path, tp().baseUrl))).status, path).toBe(404);
  });

  it('public pages, search, sitemap and error pages set no cookie (shared caches may keep them; residents are not tracked)', async () => {
    for (const path of ['/sites/testcity/', '/sites/testcity/kurashi/gomi', '/sites/testcity/search?q=ごみ', '/sites/testcity/sitemap', '/sites/testcity/no-such-page']) {
      const res = await fetch(new URL(path, tp().baseUrl));
      expect([200, 404]).toContain(res.status);
      expect(res.headers.get('set-cookie'), path).toBeNull();
    }
  });

  it('withdraws a page temporarily (C-2-7): gone from the page and its folder list, back when shown again', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const client = new HttpClient(tp().baseUrl);
    await cms.pages.setTemporarilyHidden(systemActor(p), pageId, true, meta);
    expect((await client.get('/sites/testcity/kurashi/gomi')).status).toBe(404);
    expect((await client.get('/sites/testcity/kurashi/')).text).not.toContain('kurashi/gomi');
    await cms.pages.setTemporarilyHidden(systemActor(p), pageId, false, meta);
    expect((await client.get('/sites/testcity/kurashi/gomi')).status).toBe(200);
    // A hidden folder hides everything below it.
    await cms.pages.setTemporarilyHidden(systemActor(p), folderId, true, meta);
    expect((await client.get('/sites/testcity/kurashi/gomi')).status).toBe(404);
    await cms.pages.setTemporarilyHidden(systemActor(p), folderId, false, meta);
  });

  it('never shows drafts, and refuses a duplicate URL with a field message', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    await cms.pages.create(systemActor(p), { siteId, parentId: folderId, kind: 'page', slug: 'secret-draft', title: '下書き', body: '<p>未公開</p>' }, meta);
    expect((await new HttpClient(tp().baseUrl).get('/sites/testcity/kurashi/secret-draft')).status).toBe(404);
    await expect(cms.pages.create(systemActor(p), { siteId, parentId: folderId, kind: 'page', slug: 'gomi', title: '重複', body: '' }, meta)).rejects.toMatchObject({ fields: { slug: expect.stringContaining('既に使われています') } });
    const root = await cms.pages.root(siteId);
    await expect(cms.pages.create(systemActor(p), { siteId, parentId: root.id, kind: 'page', slug: 'search', title: '検索', body: '' }, meta)).rejects.toMatchObject({ fields: { slug: expect.stringContaining('サイトの機能') } });
    // Preview links live at /preview/<token> under the site.
    await expect(cms.pages.create(systemActor(p), { siteId, parentId: root.id, kind: 'page', slug: 'preview', title: 'プレビュー', body: '' }, meta)).rejects.toMatchObject({ fields: { slug: expect.stringContaining('サイトの機能') } });
    await expect(cms.pages.create(systemActor(p), { siteId, parentId: folderId, kind: 'page', slug: 'Bad Slug', title: '', body: '' }, meta)).rejects.toMatchObject({
      fields: { slug: expect.stringContaining('半角英小文字'), title: 'タイトルを入力してください。' },
    });
  });

  it('finds a published page in site search at once, with a highlighted snippet, and drops it when withdrawn', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const client = new HttpClient(tp().baseUrl);
    const res = await client.get('/sites/testcity/search?q=' + encodeURIComponent('ゴミ'));
    expect(res.status).toBe(200);
    expect(res.text).toContain('<title>「ゴミ」の検索結果 | テスト市</title>');
    expect(res.text).toContain('href="/sites/testcity/kurashi/gomi"');
    expect(res.text).toContain('<mark>');
    expect(res.text).toContain('role="search"');
    await cms.pages.setTemporarilyHidden(systemActor(p), pageId, true, meta);
    expect((await client.get('/sites/testcity/search?q=' + encodeURIComponent('ごみ'))).text).not.toContain('href="/sites/testcity/kurashi/gomi"');
    await cms.pages.setTemporarilyHidden(systemActor(p), pageId, false, meta);
    expect((await client.get('/sites/testcity/search?q=' + encodeURIComponent('火曜日'))).text).toContain('href="/sites/testcity/kurashi/gomi"');
    // Every public page carries the search box.
    expect((await client.get('/sites/testcity/kurashi/')).text).toContain('action="/sites/testcity/search"');
  });

  it('a trashed page leaves the cached page, its folder list and search at once, frees its address, and is served under no path', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const client = new HttpClient(tp().baseUrl);
    const id = await cms.pages.create(systemActor(p), { siteId, parentId: folderId, kind: 'page', slug: 'sodai', title: '粗大ごみ', summary: '申込みの方法', body: '<p>粗大ごみは電話で申し込みます。</p>' }, meta);
    await cms.pages.publish(systemActor(p), id, meta);
    await client.get('/sites/testcity/kurashi/sodai');
    expect((await client.get('/sites/testcity/kurashi/sodai')).headers.get('x-render-cache')).toBe('hit');
    await cms.pages.trash(systemActor(p), id, meta);
    expect((await client.get('/sites/testcity/kurashi/sodai')).status).toBe(404);
    expect((await client.get('/sites/testcity/kurashi/')).text).not.toContain('kurashi/sodai');
    expect((await client.get('/sites/testcity/search?q=' + encodeURIComponent('粗大ごみ'))).text).not.toContain('kurashi/sodai');
    const moved = (await cms.pages.node(id)).path;
    expect(moved).not.toBe('/kurashi/sodai');
    expect((await client.get(`/sites/testcity${moved}`)).status).toBe(404);
    // The address is free for a new page meanwhile.
    const again = await cms.pages.create(systemActor(p), { siteId, parentId: folderId, kind: 'page', slug: 'sodai', title: '粗大ごみ（新）', body: '<p>新しい案内</p>' }, meta);
    await cms.pages.publish(systemActor(p), again, meta);
    expect((await client.get('/sites/testcity/kurashi/sodai')).text).toContain('新しい案内');
  });

  it('shows an announced maintenance window on cached CMS pages too (C-5)', async () => {
    const p = tp().platform;
    const { maintenanceOf } = await import('../maintenance/index.js');
    const client = new HttpClient(tp().baseUrl);
    await client.get('/sites/testcity/');
    expect((await client.get('/sites/testcity/')).headers.get('x-render-cache')).toBe('hit');
    const HOUR = 3600_000;
    const w = await maintenanceOf(p).schedule(
      { title: 'サーバ機器の更新', body: '', startsAt: new Date(Date.now() + 72 * HOUR), endsAt: new Date(Date.now() + 80 * HOUR), announceFrom: new Date(Date.now() - HOUR), affectsPublic: true },
      { actor: systemActor(p) },
    );
    const top = await client.get('/sites/testcity/');
    expect(top.text).toContain('サーバ機器の更新');
    expect(top.text).toContain('class="banner-maintenance"');
    await maintenanceOf(p).cancel(w.id, { actor: systemActor(p) });
    expect((await client.get('/sites/testcity/')).text).not.toContain('サーバ機器の更新');
  });

  it('answers unknown addresses of a site with a 404 page in the site\'s own frame', async () => {
    const res = await new HttpClient(tp().baseUrl).get('/sites/testcity/no-such-page');
    expect(res.status).toBe(404);
    expect(res.text).toContain('<title>お探しのページが見つかりません | テスト市</title>');
    expect(res.text).toContain('href="/sites/testcity/"');
  });

  it('chooses a site by host name before path prefixes', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const hostSite = await cms.sites.create(systemActor(p), { key: 'bousai', name: '安心ぼうさい', host: 'bousai.example.lg.jp' }, meta);
    const root = await cms.pages.root(hostSite);
    await cms.pages.publish(systemActor(p), root.id, meta);
    const resolved = await cms.sites.resolve('bousai.example.lg.jp', '/');
    expect(resolved?.site.key).toBe('bousai');
    expect((await cms.sites.resolve('localhost:3000', '/sites/testcity/kurashi/'))?.path).toBe('/kurashi/');
    expect(await cms.sites.resolve('localhost:3000', '/sites/other/')).toBeNull();
  });
});
