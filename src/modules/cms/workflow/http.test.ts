import { beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { meta, workflowFixture } from './test-fixture.js';

type Fixture = Awaited<ReturnType<typeof workflowFixture>>;

describePlatform('CMS approval workflow over HTTP', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await workflowFixture(tp().platform);
  });
  const as = async (who: { loginId: string; password: string }) => {
    const c = new HttpClient(tp().baseUrl);
    await c.login(who.loginId, who.password);
    return c;
  };

  it('the routes screen needs cms.workflow_admin; its form keeps input and answers in Japanese per field; saving is audited', async () => {
    const p = tp().platform;
    const editor = await as(f.editor);
    expect((await editor.get('/admin/cms/workflow/routes')).status).toBe(403);
    expect((await editor.get(`/admin/cms/workflow/routes/new?site=${f.siteId}`)).status).toBe(403);
    expect((await editor.get('/admin/cms')).text).not.toContain('href="/admin/cms/workflow/routes"');
    const admin = await as(f.admin1);
    expect((await admin.get('/admin/cms')).text).toContain('href="/admin/cms/workflow/routes"');
    const list = await admin.get('/admin/cms/workflow/routes');
    expect(list.status).toBe(200);
    expect(list.text).toContain(`承認テスト`);
    expect(list.text).not.toContain(`よその町`); // the other town's site is not theirs
    expect((await admin.get(`/admin/cms/workflow/routes/new?site=${f.otherSiteId}`)).status).toBe(404);
    const form = await admin.get(`/admin/cms/workflow/routes/new?site=${f.siteId}`);
    expect(form.text).toContain(f.ap1.actor.displayName);
    expect(form.text).not.toContain(f.outsider.actor.displayName);
    const bad = await admin.post('/admin/cms/workflow/routes', { siteId: String(f.siteId), name: '標準ルート', folderId: '', organizationId: '', level1Rule: 'any', level2Rule: 'all', level2Approvers: String(f.ap2.id) });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('第1段の承認者を選んでください');
    expect(bad.text).toContain('value="標準ルート"');
    expect(bad.text).toMatch(new RegExp(`value="${f.ap2.id}" checked`));
    await admin.get(`/admin/cms/workflow/routes/new?site=${f.siteId}`);
    const ok = await admin.post('/admin/cms/workflow/routes', { siteId: String(f.siteId), name: '標準ルート', folderId: '', organizationId: '', level1Rule: 'any', level1Approvers: [String(f.ap1.id)] });
    expect(ok.status).toBe(303);
    const route = await p.db.selectFrom('cms_workflow_routes').selectAll().where('site_id', '=', f.siteId).executeTakeFirstOrThrow();
    expect(JSON.parse(route.levels)).toEqual([{ rule: 'any', approverIds: [f.ap1.id] }]);
    expect((await admin.get('/admin/cms/workflow/routes')).text).toContain(f.ap1.actor.displayName);
    // Another town's administrator cannot open or change it by id.
    const townAdmin = await as(await (await import('../../../../test/helpers/platform.js')).createStaff(p, { roles: ['site_admin'], organizationId: f.other }));
    expect((await townAdmin.get(`/admin/cms/workflow/routes/${route.id}`)).status).toBe(404);
    expect((await townAdmin.post(`/admin/cms/workflow/routes/${route.id}/delete`, {})).status).toBe(404);
    expect((await admin.get('/admin/cms/workflow/routes/999999')).status).toBe(404);
    const audit = (await p.audit.list({ action: 'cms.workflow_route_create' }, { limit: 5 })).rows;
    expect(audit[0]?.summary).toContain('承認ルート「標準ルート」');
  });

  it('an editor asks from the page editor\'s panel; the approver approves from the inbox and the page is public at once', async () => {
    const p = tp().platform;
    const id = await f.page(f.rootId, 'kouhou', { title: '広報あおば 4月号', body: '<p>今月の特集です。</p>' });
    const editor = await as(f.editor);
    const edit = await editor.get(`/admin/cms/nodes/${id}`);
    expect(edit.status).toBe(200);
    expect(edit.text).toContain('data-testid="workflow-panel"');
    expect(edit.text).toContain('承認ルート: <strong>標準ルート</strong>');
    expect(edit.text).toContain(f.ap1.actor.displayName);
    const asked = await editor.post(`/admin/cms/workflow/nodes/${id}/request`, { comment: '確認をお願いします', publishAt: '' });
    expect(asked.status).toBe(303);
    const rid = Number(/requests\/(\d+)/.exec(asked.location!)![1]);
    expect((await editor.get(asked.location!)).text).toContain('承認を依頼しました');
    // A bad date is a field error, with the comment kept.
    await editor.get(`/admin/cms/workflow/nodes/${id}/request`);
    const badDate = await editor.post(`/admin/cms/workflow/nodes/${id}/request`, { comment: 'もう一度', publishAt: 'あした' });
    expect(badDate.status).toBe(422);
    expect(badDate.text).toContain('日時を「2026-04-01 09:00」のように入力してください。');
    expect(badDate.text).toContain('もう一度');

    const approver = await as(f.ap1);
    const inbox = await approver.get('/admin/cms/workflow');
    expect(inbox.text).toContain(`href="/admin/cms/workflow/requests/${rid}"`);
    expect(inbox.text).toContain('広報あおば 4月号');
    const detail = await approver.get(`/admin/cms/workflow/requests/${rid}`);
    expect(detail.text).toContain('確認をお願いします');
    expect(detail.text).toContain('>承認</button>');
    expect(detail.text).toContain('data-testid="workflow-a11y"');
    // The page's own editor shows the approver the same decision forms in its workflow panel.
    const panel = await approver.get(`/admin/cms/nodes/${id}`);
    expect(panel.text).toContain(`action="/admin/cms/workflow/requests/${rid}/approve"`);
    expect(panel.text).toContain('依頼された版のアクセシビリティチェック: エラー 0件');
    const preview = await approver.get(`/admin/cms/workflow/requests/${rid}/preview`);
    expect(preview.text).toContain('今月の特集です。');
    // Send-back needs a reason (422, Japanese).
    const noReason = await approver.post(`/admin/cms/workflow/requests/${rid}/send-back`, { sendBackReason: '' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('差し戻す理由を入力してください。');
    await approver.get(`/admin/cms/workflow/requests/${rid}`);
    const approved = await approver.post(`/admin/cms/workflow/requests/${rid}/approve`, { approveComment: '' });
    expect(approved.status).toBe(303);
    expect((await approver.get(approved.location!)).text).toContain('承認し、ページを公開しました。');
    const live = await new HttpClient(tp().baseUrl).get(`${f.prefix}/kouhou`);
    expect(live.status).toBe(200);
    expect(live.text).toContain('今月の特集です。');
    const mine = await editor.get('/admin/cms/workflow?tab=mine');
    expect(mine.text).toContain('承認済み・公開');
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(id) }, { limit: 20 })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.workflow_request', 'cms.workflow_approve', 'cms.publish']));
  });

  it('only the current level\'s approvers act (403); staff of other organisations and guessed ids get 404', async () => {
    const id = await f.page(f.rootId, 'isolated', { title: '隔離テスト' });
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    const outsider = await as(f.outsider);
    expect((await outsider.get('/admin/cms/workflow')).text).not.toContain(`/requests/${rid}"`);
    expect((await outsider.get(`/admin/cms/workflow/requests/${rid}`)).status).toBe(404);
    expect((await outsider.get(`/admin/cms/workflow/requests/${rid}/preview`)).status).toBe(404);
    expect((await outsider.get(`/admin/cms/workflow/nodes/${id}/request`)).status).toBe(404);
    await outsider.get('/admin/cms/workflow');
    expect((await outsider.post(`/admin/cms/workflow/requests/${rid}/approve`, {})).status).toBe(404);
    expect((await outsider.post(`/admin/cms/workflow/requests/${rid}/send-back`, { sendBackReason: 'x' })).status).toBe(404);
    const other = await as(f.ap2); // same city, not on this route
    const seen = await other.get(`/admin/cms/workflow/requests/${rid}`);
    expect(seen.status).toBe(200);
    expect(seen.text).not.toContain('>承認</button>');
    expect((await other.post(`/admin/cms/workflow/requests/${rid}/approve`, {})).status).toBe(403);
    expect((await other.post(`/admin/cms/workflow/requests/${rid}/send-back`, { sendBackReason: 'x' })).status).toBe(403);
    const editor2 = await as(f.editor2);
    expect((await editor2.post(`/admin/cms/workflow/requests/${rid}/withdraw`, {})).status).toBe(403);
    const approver = await as(f.ap1);
    expect((await approver.get('/admin/cms/workflow/requests/999999')).status).toBe(404);
    expect((await approver.post('/admin/cms/workflow/requests/999999/approve', {})).status).toBe(404);
    expect((await approver.get('/admin/cms/workflow/nodes/999999/request')).status).toBe(404);
    expect((await f.wf.service.detail(f.ap1.actor, rid)).request.status).toBe('pending');
    // The requester withdraws it through the screen.
    const editor = await as(f.editor);
    await editor.get(`/admin/cms/workflow/requests/${rid}`);
    const w = await editor.post(`/admin/cms/workflow/requests/${rid}/withdraw`, {});
    expect(w.status).toBe(303);
    expect((await f.wf.service.detail(f.ap1.actor, rid)).request.status).toBe('withdrawn');
  });

  it('for a page already public, the request links to the difference from the live version', async () => {
    const id = await f.page(f.rootId, 'diffed', { body: '<p>古い料金表</p>' });
    await f.cms.pages.publish(f.sys, id, meta);
    await f.cms.pages.saveDraft(f.editor.actor, id, { title: 'diffed', body: '<p>新しい料金表</p>' }, meta);
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    const approver = await as(f.ap1);
    const page = await approver.get(`/admin/cms/workflow/requests/${rid}`);
    const href = /href="([^"]*\/diff\?from=1&amp;to=2)"/.exec(page.text)?.[1];
    expect(href).toBeDefined();
    const diff = await approver.get(href!.replace(/&amp;/g, '&'));
    expect(diff.status).toBe(200);
    expect(diff.text).toContain('<h1>版の比較: 版 1 → 版 2</h1>');
    expect(diff.text).toMatch(/追加: <\/span>新しい/);
  });

  it('the panel shows a stale request and names who to ask when a page has no route', async () => {
    const id = await f.page(f.rootId, 'stale-panel');
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    await f.cms.pages.saveDraft(f.editor.actor, id, { title: 'stale-panel', body: '<p>書き直し</p>' }, meta);
    const editor = await as(f.editor);
    const edit = await editor.get(`/admin/cms/nodes/${id}`);
    expect(edit.text).toContain('data-testid="workflow-stale"');
    expect(edit.text).toContain('内容が変更されたため再依頼が必要です。');
    const approver = await as(f.ap1);
    expect((await approver.get('/admin/cms/workflow')).text).toContain('無効（再依頼が必要）');
    await approver.get(`/admin/cms/workflow/requests/${rid}`);
    // Another town's page, with no route: the panel explains and names the administrators.
    const noRoute = await f.cms.pages.create(f.outsider.actor, { siteId: f.otherSiteId, parentId: f.otherRootId, kind: 'page', slug: 'x', title: 'ルートなし', body: '<p>x</p>', organizationId: f.other }, meta);
    const outsider = await as(f.outsider);
    const panel = await outsider.get(`/admin/cms/nodes/${noRoute}`);
    expect(panel.text).toContain('承認ルートが設定されていないため、承認を依頼できません。');
  });
});
