import { expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import { cmsOf } from '../index.js';
import { listsOf } from './index.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };
/**
 * One connection per request: these tests seed for seconds between requests, and a kept-alive
 * socket the server closes meanwhile (its 5 s keep-alive) can be reused in that instant (ECONNRESET).
 */
const FRESH = { connection: 'close' };

/** The settings form as a browser posts it (columns as checkboxes with order numbers). */
function form(o: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    heading: 'お知らせ一覧',
    hostPath: '/',
    position: '0',
    sourcePath: '/',
    pageTypes: 'news',
    marks: 'all',
    limit: '5',
    showMore: '1',
    col_title: '1',
    colOrder_title: '2',
    col_date: '1',
    colOrder_date: '1',
    dateFormat: 'ja',
    sort: 'newest',
    urgentFirst: '1',
    ...o,
  };
}

describePlatform('CMS automatic lists: the administrators’ screen', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let siteId = 0;
  let cityId = 0;

  it('editors without cms.sites get 403; a site administrator sees the screen and the menu entry', async () => {
    const p = tp().platform;
    cityId = await createOrganization(p, { name: '一覧テスト市' });
    siteId = await cmsOf(p).sites.create(systemActor(p), { key: 'listadmin', name: '一覧テスト市', pathPrefix: '/s/listadmin', organizationId: cityId }, meta);
    const root = await cmsOf(p).pages.root(siteId);
    await cmsOf(p).pages.publish(systemActor(p), root.id, meta);
    const editor = await createStaff(p, { roles: ['editor'], organizationId: cityId });
    const client = new HttpClient(tp().baseUrl, FRESH);
    await client.login(editor.loginId, editor.password);
    expect((await client.get('/admin/cms/lists')).status).toBe(403);
    expect((await client.get(`/admin/cms/lists/new?site=${siteId}`)).status).toBe(403);
    await client.get('/admin/cms');
    expect((await client.post('/admin/cms/lists', { ...form(), siteId: String(siteId) })).status).toBe(403);
    expect(await p.db.selectFrom('cms_lists').select('id').execute()).toEqual([]);
    expect((await client.get('/admin/cms')).text).not.toContain('href="/admin/cms/lists"');

    const admin = await createStaff(p, { roles: ['site_admin'], organizationId: cityId });
    const ok = new HttpClient(tp().baseUrl, FRESH);
    await ok.login(admin.loginId, admin.password);
    const index = await ok.get('/admin/cms/lists');
    expect(index.status).toBe(200);
    expect((await ok.get('/admin/cms')).text).toContain('href="/admin/cms/lists"');
    expect(index.text).toContain(`href="/admin/cms/lists/new?site=${siteId}"`);
  });

  it('validation errors re-render the form with Japanese messages, the input kept and nothing written', async () => {
    const p = tp().platform;
    const admin = await createStaff(p, { roles: ['site_admin'], organizationId: cityId });
    const client = new HttpClient(tp().baseUrl, FRESH);
    await client.login(admin.loginId, admin.password);
    expect((await client.get(`/admin/cms/lists/new?site=${siteId}`)).status).toBe(200);
    const bad = await client.post('/admin/cms/lists', form({ siteId: String(siteId), heading: '', limit: '101', hostPath: '/no-such-page', col_title: '', colOrder_date: 'abc', pageTypes: 'bogus' }));
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('id="error-summary"');
    expect(bad.text).toContain('見出しを入力してください。');
    expect(bad.text).toContain('表示件数は1から100の間で入力してください。');
    expect(bad.text).toContain('タイトルは必ず表示してください');
    expect(bad.text).toContain('「掲載日」の順番は1から99の数字で入力してください。');
    expect(bad.text).toContain('ページの種類は一覧から選んでください。');
    expect(bad.text).toContain('value="101"');
    expect(await p.db.selectFrom('cms_lists').select('id').execute()).toEqual([]);

    const missing = await client.post('/admin/cms/lists', form({ siteId: String(siteId), hostPath: '/no-such-page', sourcePath: '/nothing/' }));
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('このサイトに「/no-such-page」のページはありません。');
    expect(missing.text).toContain('このサイトに「/nothing/」のフォルダはありません。');
    expect(missing.text).toContain('value="/no-such-page"');
    expect(await p.db.selectFrom('cms_lists').select('id').execute()).toEqual([]);

    const created = await client.post('/admin/cms/lists', form({ siteId: String(siteId) }));
    expect(created.status).toBe(303);
    const id = Number(/lists\/(\d+)/.exec(created.location!)![1]);
    const list = await listsOf(p).get(id);
    expect(list).toMatchObject({ heading: 'お知らせ一覧', limit: 5, columns: ['date', 'title'], pageTypes: ['news'], showMore: true, urgentFirst: true });
    const audit = (await p.audit.list({ targetType: 'cms_list', targetId: String(id) }, { limit: 5 })).rows.map((r) => r.action);
    expect(audit).toEqual(['cms.list_create']);
  });

  it('pins, moves and excludes through forms; bad page ids are refused; other municipalities’ lists are 404', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const actor = systemActor(p);
    const root = await cms.pages.root(siteId);
    const ids: number[] = [];
    for (const [i, title] of ['一つ目', '二つ目', '三つ目'].entries()) {
      const id = await cms.pages.create(actor, { siteId, parentId: root.id, kind: 'page', slug: `p${i}`, title, pageType: 'news' }, meta);
      await cms.pages.publish(actor, id, meta);
      ids.push(id);
    }
    const listId = (await listsOf(p).bySite(siteId))[0]!.id;
    const admin = await createStaff(p, { roles: ['site_admin'], organizationId: cityId });
    const client = new HttpClient(tp().baseUrl, FRESH);
    await client.login(admin.loginId, admin.password);
    const edit = await client.get(`/admin/cms/lists/${listId}`);
    expect(edit.status).toBe(200);
    expect(edit.text).toContain('固定表示にする<span class="visually-hidden">: 一つ目</span>');
    expect((await client.post(`/admin/cms/lists/${listId}/items`, { action: 'pin', nodeId: String(ids[0]) })).status).toBe(303);
    await client.get(`/admin/cms/lists/${listId}`);
    expect((await client.post(`/admin/cms/lists/${listId}/items`, { action: 'pin-path', pinPath: '/p1' })).status).toBe(303);
    await client.get(`/admin/cms/lists/${listId}`);
    expect((await client.post(`/admin/cms/lists/${listId}/items`, { action: 'pin-up', nodeId: String(ids[1]) })).status).toBe(303);
    expect(await listsOf(p).itemIds(listId, 'pin')).toEqual([ids[1], ids[0]]);
    await client.get(`/admin/cms/lists/${listId}`);
    expect((await client.post(`/admin/cms/lists/${listId}/items`, { action: 'exclude', nodeId: String(ids[2]) })).status).toBe(303);
    expect(await listsOf(p).itemIds(listId, 'exclude')).toEqual([ids[2]]);
    const top = (await new HttpClient(tp().baseUrl, FRESH).get('/s/listadmin/')).text;
    const section = new RegExp(`<section class="auto-list"[^>]*data-list-id="${listId}"[^>]*>([\\s\\S]*?)</section>`).exec(top)?.[1] ?? '';
    expect([...section.matchAll(/class="list-item__title"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual(['二つ目', '一つ目']);

    await client.get(`/admin/cms/lists/${listId}`);
    const bad = await client.post(`/admin/cms/lists/${listId}/items`, { action: 'pin-path', pinPath: '/missing' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('このサイトに「/missing」のページはありません。');
    await client.get(`/admin/cms/lists/${listId}`);
    expect((await client.post(`/admin/cms/lists/${listId}/items`, { action: 'pin', nodeId: '999999' })).status).toBe(422);
    await client.get(`/admin/cms/lists/${listId}`);
    expect((await client.post(`/admin/cms/lists/${listId}`, form({ limit: '0' }))).status).toBe(422);

    const other = await createOrganization(p, { name: '別の市' });
    const stranger = await createStaff(p, { roles: ['site_admin'], organizationId: other });
    const outsider = new HttpClient(tp().baseUrl, FRESH);
    await outsider.login(stranger.loginId, stranger.password);
    expect((await outsider.get(`/admin/cms/lists/${listId}`)).status).toBe(404);
    expect((await outsider.get(`/admin/cms/lists/new?site=${siteId}`)).status).toBe(404);
    await outsider.get('/admin/cms/lists');
    expect((await outsider.post(`/admin/cms/lists/${listId}/delete`, {})).status).toBe(404);
    expect((await outsider.get('/admin/cms/lists')).text).not.toContain('お知らせ一覧');

    await client.get(`/admin/cms/lists/${listId}`);
    expect((await client.post(`/admin/cms/lists/${listId}/delete`, {})).status).toBe(303);
    expect(await p.db.selectFrom('cms_lists').select('id').where('id', '=', listId).execute()).toEqual([]);
    expect((await new HttpClient(tp().baseUrl, FRESH).get('/s/listadmin/')).text).not.toContain('data-list-id');
  });
});
