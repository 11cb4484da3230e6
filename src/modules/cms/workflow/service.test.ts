import { beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { ForbiddenError, InputError, NotFoundError } from '../../../core/errors.js';
import { STALE_MESSAGE } from './service.js';
import { meta, workflowFixture } from './test-fixture.js';

type Fixture = Awaited<ReturnType<typeof workflowFixture>>;

/** The field errors of an InputError the promise must reject with. */
async function inputErrors(promise: Promise<unknown>): Promise<Record<string, string>> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof InputError) return e.fields;
    throw e;
  }
  throw new Error('expected an InputError');
}

const levels = (...ls: Array<['any' | 'all', number[]]>) => ls.map(([rule, approverIds]) => ({ rule, approverIds }));

describePlatform('CMS approval workflow (service)', {}, (tp) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await workflowFixture(tp().platform);
  });

  const routeFor = (name: string, ls: ReturnType<typeof levels>, scope: { folderId?: number; organizationId?: number } = {}) =>
    f.wf.routes.save(f.admin1.actor, null, { siteId: f.siteId, name, folderId: scope.folderId ?? null, organizationId: scope.organizationId ?? null, levels: ls }, meta);

  /** A folder of its own with its own route (which beats every other route for the pages in it). */
  const area = async (slug: string, ls: ReturnType<typeof levels>, organizationId?: number) => {
    const folder = await f.cms.pages.create(f.sys, { siteId: f.siteId, parentId: f.rootId, kind: 'folder', slug, title: slug, body: '' }, meta);
    await f.cms.pages.publish(f.sys, folder, meta);
    await routeFor(`${slug}ルート`, ls, { folderId: folder, organizationId });
    return folder;
  };

  it('route resolution: the deepest folder wins, then the nearest organisation, then the site default', async () => {
    const p = tp().platform;
    const def = await routeFor('サイト標準', levels(['any', [f.ap1.id]]));
    const city = await routeFor('市の組織', levels(['any', [f.ap1.id]]), { organizationId: f.city });
    const dept = await routeFor('広報課', levels(['any', [f.ap3.id]]), { organizationId: f.deptA });
    const kurashi = await routeFor('くらしフォルダ', levels(['any', [f.ap2.id]]), { folderId: f.kurashi });
    const kurashiDept = await routeFor('くらし×広報課', levels(['any', [f.ap3.id]]), { folderId: f.kurashi, organizationId: f.deptA });
    const gomi = await routeFor('ごみフォルダ', levels(['any', [f.ap1.id]]), { folderId: f.gomi });
    const resolved = async (parentId: number, slug: string, org: number | null) => {
      const id = await f.cms.pages.create(f.sys, { siteId: f.siteId, parentId, kind: 'page', slug, title: slug, body: '<p>x</p>', organizationId: org }, meta);
      return (await f.wf.routes.resolve(await f.cms.pages.node(id)))?.id ?? null;
    };
    expect(await resolved(f.rootId, 'top-a', f.deptA)).toBe(dept); // nearest organisation beats its parent and the default
    expect(await resolved(f.rootId, 'top-b', f.deptB)).toBe(city); // deptB has no route: its parent city's
    expect(await resolved(f.rootId, 'top-x', f.other)).toBe(def); // no organisation route applies: the site default
    expect(await resolved(f.kurashi, 'k-b', f.deptB)).toBe(kurashi); // a folder beats any organisation
    expect(await resolved(f.kurashi, 'k-a', f.deptA)).toBe(kurashiDept); // same folder, bound to the page's organisation
    expect(await resolved(f.gomi, 'g-a', f.deptA)).toBe(gomi); // the deepest folder wins
    expect((await f.wf.routes.resolve(await f.cms.pages.node(f.kurashi)))?.id).toBe(kurashi); // the folder itself is in its subtree
    const audit = (await p.audit.list({ action: 'cms.workflow_route_create' }, { limit: 20 })).rows;
    expect(audit.map((r) => r.summary).join('\n')).toContain('承認ルート「ごみフォルダ」');
  });

  it('route validation gives Japanese field errors: empty level 1, a gap, an approver out of reach, a second route for the same scope', async () => {
    const save = (input: Partial<Parameters<Fixture['wf']['routes']['save']>[2]>) =>
      inputErrors(f.wf.routes.save(f.admin1.actor, null, { siteId: f.siteId, name: 'テスト', folderId: null, organizationId: f.deptB, levels: levels(['any', [f.ap1.id]]), ...input }, meta));
    expect(await save({ name: ' ' })).toEqual({ name: 'ルート名を入力してください。' });
    expect((await save({ levels: levels(['any', []]) })).level1Approvers).toBe('第1段の承認者を1人以上選んでください。');
    expect((await save({ levels: levels(['any', [f.ap1.id]], ['all', []], ['any', [f.ap2.id]]) })).level2Approvers).toContain('第2段の承認者を選んでください');
    // The other town's approver is not offered to this site's administrator, nor accepted.
    expect((await save({ levels: levels(['any', [f.outsider.id]]) })).level1Approvers).toContain('選べない承認者');
    // An approver of deptA cannot reach deptB's pages.
    expect((await save({ levels: levels(['any', [f.ap3.id]]) })).level1Approvers).toContain(`${f.ap3.actor.displayName}さん`);
    expect((await save({ organizationId: f.other })).organizationId).toBeDefined();
    expect((await save({ organizationId: f.deptA })).folderId).toContain('承認ルート「広報課」');
    // A site of another organisation does not exist for this administrator.
    await expect(f.wf.routes.save(f.admin1.actor, null, { siteId: f.otherSiteId, name: 'x', levels: levels(['any', [f.ap1.id]]) }, meta)).rejects.toBeInstanceOf(NotFoundError);
    expect(await f.wf.routes.save(f.admin1.actor, null, { siteId: f.siteId, name: 'x', organizationId: f.deptB, levels: levels(['all', [f.ap1.id, f.ap2.id]], ['any', [f.admin2.id]], [ 'any', []]) }, meta)).toBeGreaterThan(0);
  });

  it('a page without a route cannot be requested; the message names who sets routes up', async () => {
    const p = tp().platform;
    const cms = f.cms;
    const id = await cms.pages.create(f.sys, { siteId: f.otherSiteId, parentId: f.otherRootId, kind: 'page', slug: 'noroute', title: 'ルートなし', body: '<p>x</p>', organizationId: f.other }, meta);
    const errors = await inputErrors(f.wf.service.requestApproval(f.outsider.actor, id, {}, meta));
    expect(errors._form).toContain('承認ルートが設定されていない');
    expect(errors._form).toContain('サイト管理者'); // nobody of that town holds cms.workflow_admin
    const townAdmin = await (await import('../../../../test/helpers/platform.js')).createStaff(p, { roles: ['site_admin'], organizationId: f.other, displayName: 'よその 管理者' });
    expect(townAdmin.id).toBeGreaterThan(0);
    expect((await inputErrors(f.wf.service.requestApproval(f.outsider.actor, id, {}, meta)))._form).toContain('よその 管理者さん');
  });

  it('two levels: "all" needs both approvers, "any" needs one; only the current level acts; the last approval publishes the pinned version at once', async () => {
    const p = tp().platform;
    // ap3 belongs to deptA, so the route is bound to deptA's pages in the folder.
    const folder = await area('twolevel', levels(['all', [f.ap1.id, f.ap2.id]], ['any', [f.ap3.id, f.admin2.id]]), f.deptA);
    const id = await f.page(folder, 'news', { title: '二段のお知らせ', body: '<p>承認を経て公開します。</p>' });
    const draft = (await f.cms.pages.node(id)).draft_version_id;
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, { comment: 'ご確認ください' }, meta);
    const req = await f.wf.service.detail(f.editor.actor, rid);
    expect(req.request.version_id).toBe(draft);
    expect(req.steps.map((s) => [s.level, s.approver_id])).toEqual([[1, f.ap1.id], [1, f.ap2.id], [2, f.ap3.id], [2, f.admin2.id]]);
    // Level 2 is not their turn yet; the requester is nobody's approver.
    await expect(f.wf.service.approve(f.ap3.actor, rid, {}, meta)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(f.wf.service.sendBack(f.editor.actor, rid, { reason: 'x' }, meta)).rejects.toBeInstanceOf(ForbiddenError);
    expect((await f.wf.service.inbox(f.ap1.actor)).map((r) => r.request.id)).toContain(rid);
    expect((await f.wf.service.inbox(f.ap3.actor)).map((r) => r.request.id)).not.toContain(rid);
    expect(await f.wf.service.approve(f.ap1.actor, rid, { comment: '確認しました' }, meta)).toEqual({ outcome: 'waiting' });
    await expect(f.wf.service.approve(f.ap1.actor, rid, {}, meta)).rejects.toBeInstanceOf(ForbiddenError); // already decided
    expect((await f.wf.service.detail(f.ap1.actor, rid)).request.current_level).toBe(1);
    expect(await f.wf.service.approve(f.ap2.actor, rid, {}, meta)).toEqual({ outcome: 'advanced' });
    expect((await f.wf.service.inbox(f.ap3.actor)).map((r) => r.request.id)).toContain(rid);
    expect((await new HttpClient(tp().baseUrl).get(`${f.prefix}/twolevel/news`)).status).toBe(404);
    expect(await f.wf.service.approve(f.ap3.actor, rid, {}, meta)).toEqual({ outcome: 'published' });
    const node = await f.cms.pages.node(id);
    expect(node.status).toBe('published');
    expect(node.published_version_id).toBe(draft);
    const live = await new HttpClient(tp().baseUrl).get(`${f.prefix}/twolevel/news`);
    expect(live.status).toBe(200);
    expect(live.text).toContain('承認を経て公開します。');
    const done = await f.wf.service.detail(f.editor.actor, rid);
    expect(done.request.status).toBe('published');
    expect(done.steps.find((s) => s.approver_id === f.admin2.id)?.decision).toBeNull(); // "any": one was enough
    await expect(f.wf.service.approve(f.admin2.actor, rid, {}, meta)).rejects.toBeInstanceOf(InputError);
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(id) }, { limit: 20 })).rows.map((r) => r.action);
    expect(actions.filter((a) => a === 'cms.workflow_approve')).toHaveLength(3);
    expect(actions).toEqual(expect.arrayContaining(['cms.workflow_request', 'cms.publish']));
  });

  it('two approvers of an "all" level approving at the same moment publish the page once', async () => {
    const p = tp().platform;
    const id = await f.page(await area('together', levels(['all', [f.ap1.id, f.ap2.id]])), 'page');
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    const outcomes = await Promise.all([f.wf.service.approve(f.ap1.actor, rid, {}, meta), f.wf.service.approve(f.ap2.actor, rid, {}, meta)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['published', 'waiting']);
    const d = await f.wf.service.detail(f.editor.actor, rid);
    expect(d.request.status).toBe('published');
    expect(d.steps.map((s) => s.decision)).toEqual(['approved', 'approved']);
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(id) }, { limit: 20 })).rows.map((r) => r.action);
    expect(actions.filter((a) => a === 'cms.publish')).toHaveLength(1);
  });

  it('saving a new draft while a request is pending makes it stale: it is shown, and approving voids it instead of publishing', async () => {
    const folder = await area('stale', levels(['any', [f.ap1.id]]));
    const id = await f.page(folder, 'page', { body: '<p>第1版</p>' });
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    expect((await f.wf.service.detail(f.ap1.actor, rid)).stale).toBeNull();
    await f.cms.pages.saveDraft(f.editor2.actor, id, { title: 'page', body: '<p>承認されていない第2版</p>' }, meta);
    expect((await f.wf.service.detail(f.ap1.actor, rid)).stale).toBe(STALE_MESSAGE);
    expect((await f.wf.service.inbox(f.ap1.actor)).find((r) => r.request.id === rid)?.stale).toBe(STALE_MESSAGE);
    expect((await inputErrors(f.wf.service.approve(f.ap1.actor, rid, {}, meta)))._form).toBe(STALE_MESSAGE);
    const after = await f.wf.service.detail(f.ap1.actor, rid);
    expect(after.request.status).toBe('void');
    expect(after.request.closed_reason).toBe(STALE_MESSAGE);
    expect((await f.cms.pages.node(id)).status).toBe('draft');
    // Asking again pins the new draft.
    const again = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    expect((await f.wf.service.detail(f.editor.actor, again)).request.version_number).toBe(2);
    // A newer draft while that one waits: asking once more voids the stale request on the way.
    await f.cms.pages.saveDraft(f.editor.actor, id, { title: 'page', body: '<p>第3版</p>' }, meta);
    const third = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    expect((await f.wf.service.detail(f.editor.actor, again)).request.status).toBe('void');
    expect(await f.wf.service.approve(f.ap1.actor, third, {}, meta)).toEqual({ outcome: 'published' });
    expect((await new HttpClient(tp().baseUrl).get(`${f.prefix}/stale/page`)).text).toContain('第3版');
    // A page with an open request that has not changed cannot be asked twice.
    await f.cms.pages.saveDraft(f.editor.actor, id, { title: 'page', body: '<p>第4版</p>' }, meta);
    await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    expect((await inputErrors(f.wf.service.requestApproval(f.editor2.actor, id, {}, meta)))._form).toContain('既に承認を依頼しています');
  });

  it('moving the page to the trash voids its open request in the same transaction', async () => {
    const p = tp().platform;
    const id = await f.page(await area('trashed', levels(['any', [f.ap1.id]])), 'page');
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    await f.cms.pages.trash(f.editor.actor, id, meta);
    const d = await f.wf.service.detail(f.ap1.actor, rid);
    expect(d.request.status).toBe('void');
    expect(d.request.closed_reason).toContain('ごみ箱');
    expect((await f.wf.service.inbox(f.ap1.actor)).map((r) => r.request.id)).not.toContain(rid);
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(id) }, { limit: 20 })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.trash', 'cms.workflow_void']));
  });

  it('accessibility errors block the request unless the requester holds cms.a11y_override and gives a reason; approvers need it too', async () => {
    const p = tp().platform;
    const folder = await area('a11y', levels(['any', [f.ap1.id, f.admin2.id]]));
    const id = await f.page(folder, 'bad', { body: '<p><img src="/media/1.png"></p>' });
    expect((await inputErrors(f.wf.service.requestApproval(f.editor.actor, id, {}, meta)))._form).toContain('アクセシビリティのエラーが1件あるため、承認を依頼できません');
    expect(await inputErrors(f.wf.service.requestApproval(f.admin1.actor, id, {}, meta))).toEqual({ overrideReason: 'アクセシビリティのエラーがあるまま依頼する理由を入力してください。' });
    const rid = await f.wf.service.requestApproval(f.admin1.actor, id, { overrideReason: '画像は公開直前に差し替えるため' }, meta);
    const d = await f.wf.service.detail(f.ap1.actor, rid);
    expect(d.request.a11y_errors).toBe(1);
    expect(d.request.a11y_override_reason).toBe('画像は公開直前に差し替えるため');
    expect(d.isCurrentApprover).toBe(true);
    expect(d.mayApprove).toBe(false); // ap1 lacks cms.a11y_override
    expect((await inputErrors(f.wf.service.approve(f.ap1.actor, rid, {}, meta)))._form).toContain('承認できません');
    expect(await inputErrors(f.wf.service.approve(f.admin2.actor, rid, {}, meta))).toEqual({ approveOverride: 'アクセシビリティのエラーがあるまま承認する理由を入力してください。' });
    expect(await f.wf.service.approve(f.admin2.actor, rid, { overrideReason: '緊急のお知らせのため' }, meta)).toEqual({ outcome: 'published' });
    const done = await f.wf.service.detail(f.admin2.actor, rid);
    expect(done.steps.find((s) => s.approver_id === f.admin2.id)?.a11y_override_reason).toBe('緊急のお知らせのため');
    const summaries = (await p.audit.list({ targetType: 'cms_node', targetId: String(id) }, { limit: 20 })).rows.map((r) => r.summary).join('\n');
    expect(summaries).toContain('理由: 画像は公開直前に差し替えるため');
    expect(summaries).toContain('理由: 緊急のお知らせのため');
  });

  it('send back needs a reason and returns the request to the requester, who asks again', async () => {
    const p = tp().platform;
    const id = await f.page(await area('sendback', levels(['any', [f.ap1.id]])), 'page');
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    expect(await inputErrors(f.wf.service.sendBack(f.ap1.actor, rid, { reason: '  ' }, meta))).toEqual({ sendBackReason: '差し戻す理由を入力してください。' });
    await f.wf.service.sendBack(f.ap1.actor, rid, { reason: '問い合わせ先の電話番号が抜けています' }, meta);
    const d = await f.wf.service.detail(f.editor.actor, rid);
    expect(d.request.status).toBe('sent_back');
    expect(d.request.closed_reason).toBe('問い合わせ先の電話番号が抜けています');
    expect(d.steps[0]?.decision).toBe('sent_back');
    expect((await f.wf.service.inbox(f.ap1.actor)).map((r) => r.request.id)).not.toContain(rid);
    expect((await f.wf.service.mine(f.editor.actor)).find((r) => r.request.id === rid)?.request.status).toBe('sent_back');
    await expect(f.wf.service.approve(f.ap1.actor, rid, {}, meta)).rejects.toBeInstanceOf(InputError);
    expect(await f.wf.service.requestApproval(f.editor.actor, id, {}, meta)).toBeGreaterThan(rid);
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(id) }, { limit: 20 })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.workflow_send_back']));
  });

  it('the requester withdraws a pending request; another editor cannot; nobody acts on it afterwards', async () => {
    const p = tp().platform;
    const id = await f.page(await area('withdraw', levels(['any', [f.ap1.id]])), 'page');
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    await expect(f.wf.service.withdraw(f.editor2.actor, rid, meta)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(f.wf.service.withdraw(f.outsider.actor, rid, meta)).rejects.toBeInstanceOf(NotFoundError);
    await f.wf.service.withdraw(f.editor.actor, rid, meta);
    expect((await f.wf.service.detail(f.editor.actor, rid)).request.status).toBe('withdrawn');
    await expect(f.wf.service.approve(f.ap1.actor, rid, {}, meta)).rejects.toBeInstanceOf(InputError);
    await expect(f.wf.service.withdraw(f.editor.actor, rid, meta)).rejects.toBeInstanceOf(InputError);
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(id) }, { limit: 20 })).rows.map((r) => r.action);
    expect(actions).toContain('cms.workflow_withdraw');
  });

  it('organisation isolation: another town\'s approver sees and decides nothing; guessed ids are not found', async () => {
    const id = await f.page(await area('isolation', levels(['any', [f.ap1.id]])), 'page');
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    await expect(f.wf.service.detail(f.outsider.actor, rid)).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.wf.service.approve(f.outsider.actor, rid, {}, meta)).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.wf.service.sendBack(f.outsider.actor, rid, { reason: 'x' }, meta)).rejects.toBeInstanceOf(NotFoundError);
    expect((await f.wf.service.inbox(f.outsider.actor)).map((r) => r.request.id)).not.toContain(rid);
    await expect(f.wf.service.detail(f.ap1.actor, 999_999)).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.wf.service.detail(f.ap1.actor, 2 ** 40)).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.wf.service.requestApproval(f.outsider.actor, id, {}, meta)).rejects.toBeInstanceOf(NotFoundError);
    await f.wf.service.withdraw(f.editor.actor, rid, meta);
  });

  it('a requested publication time: the last approval schedules it and the scheduler publishes that version; a newer draft never rides on it', async () => {
    const hour = 3600_000;
    const at = new Date(Math.ceil((Date.now() + 2 * hour) / 60_000) * 60_000);
    const folder = await area('sched', levels(['any', [f.ap1.id]]));
    // Past times are refused when asking.
    const id = await f.page(folder, 'scheduled', { body: '<p>予約した版</p>' });
    expect((await inputErrors(f.wf.service.requestApproval(f.editor.actor, id, { publishAt: new Date(Date.now() - hour) }, meta))).publishAt).toContain('今より後');
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, { publishAt: at }, meta);
    expect(await f.wf.service.approve(f.ap1.actor, rid, {}, meta)).toEqual({ outcome: 'scheduled' });
    expect((await f.cms.pages.node(id)).publish_at).toBe(at.toISOString());
    expect((await f.wf.service.detail(f.editor.actor, rid)).request.status).toBe('scheduled');
    const visitor = new HttpClient(tp().baseUrl);
    expect((await visitor.get(`${f.prefix}/sched/scheduled`)).status).toBe(404);
    expect(await f.cms.pages.runSchedule(new Date(at.getTime() + 60_000))).toMatchObject({ published: 1, unpublished: 0 });
    expect((await visitor.get(`${f.prefix}/sched/scheduled`)).text).toContain('予約した版');
    expect((await f.wf.service.detail(f.editor.actor, rid)).request.status).toBe('published');

    // A newer draft after approval: the guard clears the time and voids the request.
    const id2 = await f.page(folder, 'scheduled2', { body: '<p>承認した版</p>' });
    const r2 = await f.wf.service.requestApproval(f.editor.actor, id2, { publishAt: at }, meta);
    await f.wf.service.approve(f.ap1.actor, r2, {}, meta);
    await f.cms.pages.saveDraft(f.editor.actor, id2, { title: 'scheduled2', body: '<p>承認していない版</p>' }, meta);
    expect(await f.wf.service.guardScheduled(new Date())).toBe(1);
    expect((await f.cms.pages.node(id2)).publish_at).toBeNull();
    expect((await f.wf.service.detail(f.editor.actor, r2)).request.status).toBe('void');
    expect(await f.cms.pages.runSchedule(new Date(at.getTime() + 60_000))).toMatchObject({ published: 0, unpublished: 0 });
    expect((await visitor.get(`${f.prefix}/sched/scheduled2`)).status).toBe(404);

    // …and if the time comes before the guard runs, the publication is refused.
    const id3 = await f.page(folder, 'scheduled3', { body: '<p>承認した版</p>' });
    const r3 = await f.wf.service.requestApproval(f.editor.actor, id3, { publishAt: at }, meta);
    await f.wf.service.approve(f.ap1.actor, r3, {}, meta);
    await f.cms.pages.saveDraft(f.editor.actor, id3, { title: 'scheduled3', body: '<p>承認していない版</p>' }, meta);
    expect(await f.wf.service.guardScheduled(at)).toBe(0); // too close to the time: left to the publish hook
    await expect(f.cms.pages.runSchedule(new Date(at.getTime() + 60_000))).rejects.toThrow(/承認済みの版 1 の公開を予約しています/);
    expect((await visitor.get(`${f.prefix}/sched/scheduled3`)).status).toBe(404);
    expect(await f.wf.service.guardScheduled(new Date(at.getTime() + 5 * 60_000))).toBe(1);
    expect((await f.wf.service.detail(f.editor.actor, r3)).request.status).toBe('void');

    // Withdrawing an approved, scheduled request takes the time off the page.
    const id4 = await f.page(folder, 'scheduled4');
    const r4 = await f.wf.service.requestApproval(f.editor.actor, id4, { publishAt: at }, meta);
    await f.wf.service.approve(f.ap1.actor, r4, {}, meta);
    await f.wf.service.withdraw(f.editor.actor, r4, meta);
    expect((await f.cms.pages.node(id4)).publish_at).toBeNull();
  });
});
