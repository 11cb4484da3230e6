import { expect, it } from 'vitest';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createStaff, systemActor } from '../../../test/helpers/platform.js';
import { cmsOf } from './index.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

describePlatform('CMS page management by staff', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let rootId = 0;
  let cityId = 0;

  it('an editor writes a page as a draft; it is not public and the editor cannot publish', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const { createOrganization } = await import('../../../test/helpers/platform.js');
    cityId = await createOrganization(p, { name: '職員テスト市' });
    const siteId = await cms.sites.create(systemActor(p), { key: 'staffsite', name: '職員テスト市', pathPrefix: '/s/staff', organizationId: cityId }, meta);
    const root = await cms.pages.root(siteId);
    rootId = root.id;
    await cms.pages.publish(systemActor(p), root.id, meta);
    const editor = await createStaff(p, { roles: ['editor'], organizationId: cityId });
    const client = new HttpClient(tp().baseUrl);
    await client.login(editor.loginId, editor.password);
    const menu = await client.get('/admin');
    expect(menu.text).toContain('href="/admin/cms"');
    const form = await client.get(`/admin/cms/nodes/new?parent=${root.id}`);
    expect(form.status).toBe(200);
    expect(form.text).toContain('data-editor="rich"');
    expect(form.text).not.toContain('保存して公開する');
    const res = await client.post('/admin/cms/nodes', { parentId: String(root.id), kind: 'page', slug: 'kosodate', title: '子育て支援', summary: '', body: '<p>保育園の申込み</p>', intent: 'publish' });
    expect(res.status).toBe(303);
    const id = Number(/nodes\/(\d+)/.exec(res.location!)![1]);
    expect((await cms.pages.node(id)).status).toBe('draft');
    expect((await new HttpClient(tp().baseUrl).get('/s/staff/kosodate')).status).toBe(404);
  });

  it('shows the accessibility checker and refuses to publish a page with errors', async () => {
    const p = tp().platform;
    const approver = await createStaff(p, { roles: ['approver'], organizationId: cityId });
    const client = new HttpClient(tp().baseUrl);
    await client.login(approver.loginId, approver.password);
    await client.get(`/admin/cms/nodes/new?parent=${rootId}`);
    const bad = await client.post('/admin/cms/nodes', { parentId: String(rootId), kind: 'page', slug: 'event', title: 'イベント', body: '<p><img src="/media/1"></p><p><a href="/x">こちら</a></p>', intent: 'publish' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('data-testid="a11y-panel"');
    expect(bad.text).toContain('アクセシビリティのエラーを直すまで公開できません。');
    expect(await p.db.selectFrom('cms_nodes').select('id').where('slug', '=', 'event').execute()).toEqual([]);
    await client.get(`/admin/cms/nodes/new?parent=${rootId}`);
    const ok = await client.post('/admin/cms/nodes', { parentId: String(rootId), kind: 'page', slug: 'event', title: 'イベント', summary: '春のまつり', body: '<p>4月に開催します。</p>', intent: 'publish' });
    expect(ok.status).toBe(303);
    const page = await new HttpClient(tp().baseUrl).get('/s/staff/event');
    expect(page.status).toBe(200);
    expect(page.text).toContain('4月に開催します。');
    expect((await new HttpClient(tp().baseUrl).get('/s/staff/')).text).toContain('春のまつり');
  });

  it('edits a published page through a replacement draft, then withdraws it temporarily', async () => {
    const p = tp().platform;
    const approver = await createStaff(p, { roles: ['approver'], organizationId: cityId });
    const client = new HttpClient(tp().baseUrl);
    await client.login(approver.loginId, approver.password);
    const node = (await p.db.selectFrom('cms_nodes').select('id').where('slug', '=', 'event').executeTakeFirstOrThrow()).id;
    await client.get(`/admin/cms/nodes/${node}`);
    expect((await client.post(`/admin/cms/nodes/${node}`, { title: 'イベント', body: '<p>5月に延期しました。</p>', intent: 'save' })).status).toBe(303);
    const edit = await client.get(`/admin/cms/nodes/${node}`);
    expect(edit.text).toContain('公開中の内容とは別に下書きがあります');
    expect((await new HttpClient(tp().baseUrl).get('/s/staff/event')).text).toContain('4月に開催します。');
    await client.post(`/admin/cms/nodes/${node}`, { title: 'イベント', body: '<p>5月に延期しました。</p>', intent: 'publish' });
    expect((await new HttpClient(tp().baseUrl).get('/s/staff/event')).text).toContain('5月に延期しました。');
    await client.get(`/admin/cms/nodes/${node}`);
    expect((await client.post(`/admin/cms/nodes/${node}/visibility`, { hidden: '1' })).status).toBe(303);
    expect((await new HttpClient(tp().baseUrl).get('/s/staff/event')).status).toBe(404);
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(node) }, { limit: 20 })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.create', 'cms.edit', 'cms.publish', 'cms.hide']));
  });

  it('publishes and takes down a page at the scheduled times (C-3-12), driven by the job clock', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const approver = await createStaff(p, { roles: ['approver'], organizationId: cityId });
    const client = new HttpClient(tp().baseUrl);
    await client.login(approver.loginId, approver.password);
    const id = await cms.pages.create(systemActor(p), { siteId: (await cms.pages.node(rootId)).site_id, parentId: rootId, kind: 'page', slug: 'campaign', title: 'キャンペーン', body: '<p>期間限定</p>' }, meta);
    const jst = (d: Date) => new Date(d.getTime() + 9 * 3600_000).toISOString().slice(0, 16);
    const start = new Date(Date.now() + 3600_000);
    const end = new Date(Date.now() + 3 * 3600_000);
    await client.get(`/admin/cms/nodes/${id}`);
    const bad = await client.post(`/admin/cms/nodes/${id}/schedule`, { publishAt: jst(end), unpublishAt: jst(start) });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('公開終了日時は公開開始日時より後にしてください。');
    await client.get(`/admin/cms/nodes/${id}`);
    const nonsense = await client.post(`/admin/cms/nodes/${id}/schedule`, { publishAt: 'tomorrow', unpublishAt: '' });
    expect(nonsense.status).toBe(422);
    expect((await cms.pages.node(id)).publish_at).toBeNull();
    await client.get(`/admin/cms/nodes/${id}`);
    expect((await client.post(`/admin/cms/nodes/${id}/schedule`, { publishAt: jst(start), unpublishAt: jst(end) })).status).toBe(303);

    const visitor = new HttpClient(tp().baseUrl);
    expect(await cms.pages.runSchedule(new Date())).toEqual({ published: 0, unpublished: 0, trashed: 0 });
    expect((await visitor.get('/s/staff/campaign')).status).toBe(404);
    expect(await cms.pages.runSchedule(new Date(start.getTime() + 60_000))).toEqual({ published: 1, unpublished: 0, trashed: 0 });
    expect((await visitor.get('/s/staff/campaign')).text).toContain('期間限定');
    expect((await visitor.get('/s/staff/')).text).toContain('/s/staff/campaign');
    expect(await cms.pages.runSchedule(new Date(end.getTime() + 60_000))).toEqual({ published: 0, unpublished: 1, trashed: 0 });
    expect((await visitor.get('/s/staff/campaign')).status).toBe(404);
    expect((await visitor.get('/s/staff/')).text).not.toContain('/s/staff/campaign');
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(id) }, { limit: 20 })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.schedule', 'cms.publish', 'cms.unpublish']));
    expect(p.jobs.definitions().some((d) => d.name === 'cms.schedule' && d.schedule === '* * * * *')).toBe(true);
  });

  it('moves a page to the trash at the 削除日時 set in the schedule form (C-3-12), and keeps it out of the public site', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const approver = await createStaff(p, { roles: ['approver'], organizationId: cityId });
    const client = new HttpClient(tp().baseUrl);
    await client.login(approver.loginId, approver.password);
    const id = await cms.pages.create(systemActor(p), { siteId: (await cms.pages.node(rootId)).site_id, parentId: rootId, kind: 'page', slug: 'bosyu', title: '職員募集', body: '<p>締切は5月末</p>' }, meta);
    await cms.pages.publish(systemActor(p), id, meta);
    const jst = (d: Date) => new Date(d.getTime() + 9 * 3600_000).toISOString().slice(0, 16);
    const end = new Date(Date.now() + 3600_000);
    const del = new Date(Date.now() + 2 * 3600_000);
    const form = await client.get(`/admin/cms/nodes/${id}`);
    expect(form.text).toContain('削除日時（ごみ箱へ移動）');
    const bad = await client.post(`/admin/cms/nodes/${id}/schedule`, { publishAt: '', unpublishAt: '', deleteAt: 'someday' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('日時を「2026-04-01 09:00」のように入力してください。');
    await client.get(`/admin/cms/nodes/${id}`);
    expect((await client.post(`/admin/cms/nodes/${id}/schedule`, { publishAt: '', unpublishAt: jst(end), deleteAt: jst(del) })).status).toBe(303);
    expect((await cms.pages.node(id)).delete_at).toBe(new Date(`${jst(del)}:00+09:00`).toISOString());
    expect((await client.get(`/admin/cms/nodes/${id}`)).text).toContain(`value="${jst(del)}"`);

    const visitor = new HttpClient(tp().baseUrl);
    expect(await cms.pages.runSchedule(new Date(end.getTime() + 60_000))).toEqual({ published: 0, unpublished: 1, trashed: 0 });
    expect(await cms.pages.runSchedule(new Date(del.getTime() + 60_000))).toEqual({ published: 0, unpublished: 0, trashed: 1 });
    expect((await visitor.get('/s/staff/bosyu')).status).toBe(404);
    const manager = await client.get('/admin/cms');
    expect(manager.text).not.toContain('/s/staff/bosyu');
    expect(manager.text).not.toContain('<code>/bosyu</code>');
    const trash = await client.get(`/admin/cms/sites/${(await cms.pages.node(rootId)).site_id}/trash`);
    expect(trash.text).toContain('<code>/bosyu</code>');
    expect(trash.text).toContain('予約による自動削除');
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(id) }, { limit: 20 })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.schedule', 'cms.unpublish', 'cms.trash']));
  });

  it('staff of another municipality cannot open pages of a site they do not own', async () => {
    const p = tp().platform;
    const { createOrganization } = await import('../../../test/helpers/platform.js');
    const a = await createOrganization(p, { name: 'ページA市' });
    const b = await createOrganization(p, { name: 'ページB市' });
    const cms = cmsOf(p);
    const siteB = await cms.sites.create(systemActor(p), { key: 'bcity', name: 'B市', pathPrefix: '/s/bcity', organizationId: b }, meta);
    const rootB = await cms.pages.root(siteB);
    const editorA = await createStaff(p, { roles: ['editor'], organizationId: a });
    const client = new HttpClient(tp().baseUrl);
    await client.login(editorA.loginId, editorA.password);
    expect((await client.get(`/admin/cms/nodes/${rootB.id}`)).status).toBe(404);
    expect((await client.get(`/admin/cms/nodes/new?parent=${rootB.id}`)).status).toBe(404);
  });
});
