import { expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import { cmsOf } from '../index.js';
import { jstClock } from '../admin-routes.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

describePlatform('CMS page lifecycle over HTTP', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let orgA = 0;
  let orgB = 0;
  let siteA = 0;
  let rootA = 0;
  let pageA = 0;
  let siteB = 0;
  let pageB = 0;
  const staff: Record<string, { id: number; loginId: string; password: string }> = {};

  const as = async (who: string) => {
    const c = new HttpClient(tp().baseUrl);
    await c.login(staff[who]!.loginId, staff[who]!.password);
    return c;
  };
  const versionCount = async (id: number) => (await cmsOf(tp().platform).pages.versions(id)).length;

  it('sets up two municipalities with their sites and staff', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    orgA = await createOrganization(p, { name: 'ロックA市' });
    orgB = await createOrganization(p, { name: 'ロックB市' });
    staff.editor1 = await createStaff(p, { roles: ['editor'], organizationId: orgA, displayName: '山田 一郎' });
    staff.editor2 = await createStaff(p, { roles: ['editor'], organizationId: orgA, displayName: '田中 二郎' });
    staff.approver = await createStaff(p, { roles: ['approver'], organizationId: orgA, displayName: '高橋 課長' });
    staff.foreign = await createStaff(p, { roles: ['approver'], organizationId: orgB, displayName: '他市 職員' });
    siteA = await cms.sites.create(systemActor(p), { key: 'locka', name: 'A市', pathPrefix: '/s/locka', organizationId: orgA }, meta);
    siteB = await cms.sites.create(systemActor(p), { key: 'lockb', name: 'B市', pathPrefix: '/s/lockb', organizationId: orgB }, meta);
    rootA = (await cms.pages.root(siteA)).id;
    await cms.pages.publish(systemActor(p), rootA, meta);
    pageA = await cms.pages.create(systemActor(p), { siteId: siteA, parentId: rootA, kind: 'page', slug: 'gomi', title: 'ごみの出し方', body: '<p>燃えるごみは月曜日です。</p>' }, meta);
    await cms.pages.publish(systemActor(p), pageA, meta);
    const rootB = (await cms.pages.root(siteB)).id;
    pageB = await cms.pages.create(systemActor(p), { siteId: siteB, parentId: rootB, kind: 'page', slug: 'secret', title: 'B市の下書き', body: '<p>B</p>' }, meta);
    expect(pageB).toBeGreaterThan(0);
  });

  it('a second editor sees 「〇〇さんが編集中です（HH:MM から）」 read-only and gets 409 on save; the holder saves; save-and-close and 編集を終了 release', async () => {
    const p = tp().platform;
    const one = await as('editor1');
    const two = await as('editor2');
    const mine = await one.get(`/admin/cms/nodes/${pageA}`);
    expect(mine.status).toBe(200);
    expect(mine.text).toContain('data-testid="lock-held"');
    expect(mine.text).toContain('name="baseVersionId"');
    expect(mine.text).toContain('編集を終了');
    const lock = await p.db.selectFrom('cms_edit_locks').selectAll().where('node_id', '=', pageA).executeTakeFirstOrThrow();
    const expected = `山田 一郎さんが編集中です（${jstClock(lock.acquired_at)} から）。`;

    const theirs = await two.get(`/admin/cms/nodes/${pageA}`);
    expect(theirs.status).toBe(200);
    expect(theirs.text).toContain(expected);
    expect(theirs.text).toContain('data-testid="readonly-content"');
    expect(theirs.text).not.toContain('name="title"');
    expect(theirs.text).not.toContain('編集ロックを解除'); // editors may not break locks
    const before = await versionCount(pageA);
    const refused = await two.post(`/admin/cms/nodes/${pageA}`, { title: '横から', body: '<p>二郎の変更</p>', intent: 'save' });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain(`${expected}保存できませんでした`);
    expect(refused.text).toContain('二郎の変更'); // the refused input is kept for copying
    expect(await versionCount(pageA)).toBe(before);

    const manager = await two.get('/admin/cms');
    expect(manager.text).toContain('編集中（山田 一郎）');

    const base = /name="baseVersionId" value="(\d+)"/.exec(mine.text)![1]!;
    expect((await one.post(`/admin/cms/nodes/${pageA}`, { title: 'ごみの出し方', body: '<p>燃えるごみは火曜日です。</p>', baseVersionId: base, comment: '曜日の変更', intent: 'save' })).status).toBe(303);
    expect(await versionCount(pageA)).toBe(before + 1);
    const again = await one.get(`/admin/cms/nodes/${pageA}`);
    const base2 = /name="baseVersionId" value="(\d+)"/.exec(again.text)![1]!;
    const closed = await one.post(`/admin/cms/nodes/${pageA}`, { title: 'ごみの出し方', body: '<p>燃えるごみは火曜日です。</p>', baseVersionId: base2, intent: 'close' });
    expect(closed.status).toBe(303);
    expect(closed.location).toBe('/admin/cms?saved=1');
    expect((await two.get('/admin/cms')).text).not.toContain('編集中（山田 一郎）');

    const nowTwo = await two.get(`/admin/cms/nodes/${pageA}`);
    expect(nowTwo.text).toContain('name="title"');
    expect((await one.get(`/admin/cms/nodes/${pageA}`)).text).toContain('田中 二郎さんが編集中です');
    await two.get(`/admin/cms/nodes/${pageA}`);
    expect((await two.post(`/admin/cms/nodes/${pageA}/unlock`, {})).status).toBe(303);
    expect(await p.db.selectFrom('cms_edit_locks').select('node_id').where('node_id', '=', pageA).execute()).toEqual([]);
  });

  it('only holders of cms.publish break a colleague\'s lock, and it is audited', async () => {
    const p = tp().platform;
    const one = await as('editor1');
    const two = await as('editor2');
    const boss = await as('approver');
    await one.get(`/admin/cms/nodes/${pageA}`);
    await two.get('/admin/cms');
    expect((await two.post(`/admin/cms/nodes/${pageA}/lock/break`, {})).status).toBe(403);
    const seen = await boss.get(`/admin/cms/nodes/${pageA}`);
    expect(seen.text).toContain('山田 一郎さんが編集中です');
    expect(seen.text).toContain('編集ロックを解除して編集する');
    const broke = await boss.post(`/admin/cms/nodes/${pageA}/lock/break`, {});
    expect(broke.status).toBe(303);
    expect((await boss.get(`/admin/cms/nodes/${pageA}`)).text).toContain('data-testid="lock-held"');
    expect((await one.get(`/admin/cms/nodes/${pageA}`)).text).toContain('高橋 課長さんが編集中です');
    const audit = (await p.audit.list({ action: 'cms.lock_break', targetId: String(pageA) })).rows;
    expect(audit[0]).toMatchObject({ actorLogin: staff.approver!.loginId });
    await boss.post(`/admin/cms/nodes/${pageA}/unlock`, {});
  });

  it('refuses a save made on an outdated draft with who saved in between, keeps the input, and only then allows a deliberate overwrite', async () => {
    const p = tp().platform;
    const one = await as('editor1');
    const two = await as('editor2');
    const form = await one.get(`/admin/cms/nodes/${pageA}`);
    const base = /name="baseVersionId" value="(\d+)"/.exec(form.text)![1]!;
    // editor1 leaves the form open past the lock's time; editor2 edits and closes meanwhile.
    await p.db.updateTable('cms_edit_locks').set({ expires_at: new Date(Date.now() - 60_000).toISOString() }).where('node_id', '=', pageA).execute();
    const theirs = await two.get(`/admin/cms/nodes/${pageA}`);
    const theirBase = /name="baseVersionId" value="(\d+)"/.exec(theirs.text)![1]!;
    expect((await two.post(`/admin/cms/nodes/${pageA}`, { title: 'ごみの出し方', body: '<p>二郎が直した本文</p>', baseVersionId: theirBase, intent: 'close' })).status).toBe(303);
    const newest = (await cmsOf(p).pages.versions(pageA))[0]!;

    const stale = await one.post(`/admin/cms/nodes/${pageA}`, { title: 'ごみの出し方', body: '<p>一郎の古い下書きから</p>', baseVersionId: base, intent: 'save' });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain(`田中 二郎さんが保存しました（版 ${newest.number}、`);
    expect(stale.text).toContain('上書きを防ぐため、保存しませんでした');
    expect(stale.text).toContain('一郎の古い下書きから');
    expect(stale.text).toContain(`/admin/cms/nodes/${pageA}/diff?to=${newest.number}`);
    expect((await cmsOf(p).pages.versions(pageA))[0]!.id).toBe(newest.id);
    // The re-shown form is based on the newest version: saving now is a deliberate overwrite.
    const nextBase = /name="baseVersionId" value="(\d+)"/.exec(stale.text)![1]!;
    expect(nextBase).toBe(String(newest.id));
    expect((await one.post(`/admin/cms/nodes/${pageA}`, { title: 'ごみの出し方', body: '<p>一郎が確認して上書き</p>', baseVersionId: nextBase, intent: 'close' })).status).toBe(303);
  });

  it('shows the history with authors and live/draft, a diff with <ins>/<del> and text labels, and restores an old version as a new draft', async () => {
    const p = tp().platform;
    const boss = await as('approver');
    const history = await boss.get(`/admin/cms/nodes/${pageA}/history`);
    expect(history.status).toBe(200);
    expect(history.text).toContain('山田 一郎');
    expect(history.text).toContain('田中 二郎');
    expect(history.text).toContain('曜日の変更');
    expect(history.text).toContain('公開中');
    expect(history.text).toContain('下書き（編集中の版）');
    expect(history.text).toMatch(/<caption>版の一覧（\d+件、新しい順）<\/caption>/);
    const diff = await boss.get(`/admin/cms/nodes/${pageA}/diff?from=1&to=2`);
    expect(diff.status).toBe(200);
    expect(diff.text).toContain('<del><span class="diff-mark">［削除: </span>月曜日<span class="diff-mark">］</span></del>');
    expect(diff.text).toContain('<ins><span class="diff-mark">［追加: </span>火曜日<span class="diff-mark">］</span></ins>');
    expect((await boss.get(`/admin/cms/nodes/${pageA}/diff?from=1&to=999`)).status).toBe(404);
    const count = await versionCount(pageA);
    const restored = await boss.post(`/admin/cms/nodes/${pageA}/versions/1/restore`, {});
    expect(restored.status).toBe(303);
    expect(restored.location).toBe(`/admin/cms/nodes/${pageA}/history?restored=1`);
    const versions = await cmsOf(p).pages.versions(pageA);
    expect(versions).toHaveLength(count + 1);
    expect(versions[0]).toMatchObject({ comment: '版 1 を復元', body_html: versions[versions.length - 1]!.body_html });
    expect((await new HttpClient(tp().baseUrl).get('/s/locka/gomi')).text).toContain('燃えるごみは月曜日です。');
    // A restore waits for whoever is editing.
    const one = await as('editor1');
    await one.get(`/admin/cms/nodes/${pageA}`);
    await boss.get(`/admin/cms/nodes/${pageA}/history`);
    const busy = await boss.post(`/admin/cms/nodes/${pageA}/versions/2/restore`, {});
    expect(busy.status).toBe(409);
    expect(busy.text).toContain('山田 一郎さんが編集中です');
    await one.post(`/admin/cms/nodes/${pageA}/unlock`, {});
  });

  it('staff of another organisation get 404 for the history, diff, restore, preview, lock and trash of a foreign page', async () => {
    const other = await as('foreign');
    await other.get('/admin/cms');
    for (const path of [`/admin/cms/nodes/${pageA}/history`, `/admin/cms/nodes/${pageA}/diff?from=1&to=2`, `/admin/cms/nodes/${pageA}/trash`]) expect((await other.get(path)).status, path).toBe(404);
    for (const path of [`/admin/cms/nodes/${pageA}/versions/1/restore`, `/admin/cms/nodes/${pageA}/previews`, `/admin/cms/nodes/${pageA}/trash`, `/admin/cms/nodes/${pageA}/unlock`, `/admin/cms/nodes/${pageA}/lock/break`]) {
      expect((await other.post(path, { hours: '24' })).status, path).toBe(404);
    }
    const p = tp().platform;
    expect(await p.db.selectFrom('cms_preview_links').select('id').where('node_id', '=', pageA).execute()).toEqual([]);
    expect((await cmsOf(p).pages.node(pageA)).status).toBe('published');
    // The foreign trash list does not show A's pages, and A's trashed page cannot be restored or purged from B.
    await cmsOf(p).pages.trash(systemActor(p), pageB, meta);
    const boss = await as('approver');
    await boss.get('/admin/cms');
    expect((await boss.post(`/admin/cms/trash/${pageB}/restore`, {})).status).toBe(404);
    expect((await boss.post(`/admin/cms/trash/${pageB}/purge`, {})).status).toBe(404);
    expect((await boss.get(`/admin/cms/sites/${siteB}/trash`)).text).not.toContain('B市の下書き');
    expect((await other.get(`/admin/cms/sites/${siteB}/trash`)).text).toContain('B市の下書き');
  });

  it('trash over HTTP: editors cannot take a published page down, approvers can; editors restore; only cms.publish purges', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const one = await as('editor1');
    const boss = await as('approver');
    const confirm = await one.get(`/admin/cms/nodes/${pageA}/trash`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('公開中のページが 1 件含まれています');
    const denied = await one.post(`/admin/cms/nodes/${pageA}/trash`, {});
    expect(denied.status).toBe(403);
    expect(denied.text).toContain('公開の権限が必要です');
    expect((await cms.pages.node(pageA)).status).toBe('published');
    // While a colleague edits it, nobody moves it away under them.
    await one.get(`/admin/cms/nodes/${pageA}`);
    await boss.get(`/admin/cms/nodes/${pageA}/trash`);
    const busy = await boss.post(`/admin/cms/nodes/${pageA}/trash`, {});
    expect(busy.status).toBe(409);
    expect(busy.text).toContain('山田 一郎さんが編集中です');
    await one.post(`/admin/cms/nodes/${pageA}/unlock`, {});
    const done = await boss.post(`/admin/cms/nodes/${pageA}/trash`, {});
    expect(done.status).toBe(303);
    expect(done.location).toBe('/admin/cms?trashed=1');
    expect((await new HttpClient(tp().baseUrl).get('/s/locka/gomi')).status).toBe(404);
    const list = await one.get(`/admin/cms/sites/${siteA}/trash`);
    expect(list.status).toBe(200);
    expect(list.text).toContain('data-testid="trash-' + pageA + '"');
    expect(list.text).toContain('<code>/gomi</code>');
    expect(list.text).not.toContain('/purge"'); // editors only restore
    expect((await one.get(`/admin/cms/nodes/${pageA}`)).text).toContain('data-testid="trashed-notice"');
    const restored = await one.post(`/admin/cms/trash/${pageA}/restore`, {});
    expect(restored.status).toBe(303);
    expect((await one.get(restored.location!)).text).toContain('/gomi に非公開の状態で戻しました');
    expect(await cms.pages.node(pageA)).toMatchObject({ status: 'withdrawn', path: '/gomi' });

    // A draft page goes to the trash by an editor; only an approver purges it.
    const draft = await cms.pages.create(systemActor(p), { siteId: siteA, parentId: rootA, kind: 'page', slug: 'draft', title: '下書きページ', body: '' }, meta);
    await one.get(`/admin/cms/nodes/${draft}/trash`);
    expect((await one.post(`/admin/cms/nodes/${draft}/trash`, {})).status).toBe(303);
    await one.get(`/admin/cms/sites/${siteA}/trash`);
    expect((await one.post(`/admin/cms/trash/${draft}/purge`, {})).status).toBe(403);
    const trashPage = await boss.get(`/admin/cms/sites/${siteA}/trash`);
    expect(trashPage.text).toContain(`/admin/cms/trash/${draft}/purge"`);
    const purged = await boss.post(`/admin/cms/trash/${draft}/purge`, {});
    expect(purged.status).toBe(303);
    expect((await boss.get(purged.location!)).text).toContain('完全に削除しました（1 件）');
    await expect(cms.pages.node(draft)).rejects.toThrow();
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(draft) })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.trash', 'cms.purge']));
    // Retention is an installation-wide setting: only installation-wide site administrators see it.
    expect(trashPage.text).not.toContain('保存期間を保存する');
    expect((await boss.post(`/admin/cms/sites/${siteA}/trash/settings`, { days: '7' })).status).toBe(403);
  });

  it('creates preview links from the editor (shown once, listed, revocable) and they work without login while the page is withdrawn', async () => {
    const p = tp().platform;
    const one = await as('editor1');
    const editor = await one.get(`/admin/cms/nodes/${pageA}`);
    expect(editor.text).toContain('data-testid="preview-panel"');
    expect(editor.text).toContain('有効なプレビュー用URLはありません');
    const created = await one.post(`/admin/cms/nodes/${pageA}/previews`, { hours: '24' });
    expect(created.status).toBe(200);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const href = /value="(http:\/\/[^"]+\/s\/locka\/preview\/[A-Za-z0-9_-]{43})"/.exec(created.text)?.[1];
    expect(href).toBeDefined();
    const visitor = new HttpClient(tp().baseUrl);
    expect((await visitor.get('/s/locka/gomi')).status).toBe(404);
    const preview = await visitor.get(new URL(href!).pathname);
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('ごみの出し方');
    const panel = await one.get(`/admin/cms/nodes/${pageA}`);
    expect(panel.text).toContain('有効なプレビュー用URL（1件）');
    const linkId = /previews\/(\d+)\/revoke/.exec(panel.text)![1]!;
    expect((await one.post(`/admin/cms/nodes/${pageA}/previews/${linkId}/revoke`, {})).status).toBe(303);
    expect((await visitor.get(new URL(href!).pathname)).status).toBe(404);
    expect((await one.post(`/admin/cms/nodes/${pageA}/previews/${linkId}/revoke`, {})).status).toBe(404);
    expect((await one.post(`/admin/cms/nodes/${pageA}/previews`, { hours: '5' })).status).toBe(422);
    expect((await p.audit.list({ action: 'cms.preview_create', targetId: String(pageA) })).total).toBe(1);
    await one.post(`/admin/cms/nodes/${pageA}/unlock`, {});
  });

  it('lists the cms.* log of the reader\'s organisations with filters by site, action, staff, date and path, and exports it', async () => {
    const one = await as('editor1');
    const manager = await one.get('/admin/cms');
    expect(manager.text).toContain('href="/admin/cms/log"');
    expect(manager.text).toContain('ページの操作ログ');
    expect(manager.text).toContain(`href="/admin/cms/sites/${siteA}/trash"`);
    expect(manager.text).toContain(`href="/admin/cms/nodes/${pageA}/history"`);

    const log = await one.get('/admin/cms/log');
    expect(log.status).toBe(200);
    expect(log.text).toContain('削除（ごみ箱へ）');
    expect(log.text).toContain('cms.restore_version');
    expect(log.text).not.toContain('B市の下書き'); // another organisation's entries
    expect(log.text).not.toContain('auth.login');
    const onlyTrash = await one.get('/admin/cms/log?action=cms.trash');
    const actions = [...onlyTrash.text.matchAll(/<code>(cms\.[a-z_]+)<\/code>/g)].map((m) => m[1]);
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(['cms.trash']));
    const byStaff = await one.get(`/admin/cms/log?actor=${staff.editor2!.loginId}`);
    expect([...byStaff.text.matchAll(/<td>(staff\d+)<\/td>/g)].map((m) => m[1])).toEqual(expect.arrayContaining([staff.editor2!.loginId]));
    expect(byStaff.text).not.toContain(`<td>${staff.editor1!.loginId}</td>`);
    const byPath = await one.get(`/admin/cms/log?site=${siteA}&path=${encodeURIComponent('/gomi')}`);
    expect(byPath.text).toContain('/gomi');
    expect(byPath.text).not.toContain('/draft');
    const future = await one.get('/admin/cms/log?from=2099-01-01');
    expect(future.text).toContain('操作ログ（0件、新しい順）');
    expect((await one.get('/admin/cms/log/export.csv')).status).toBe(403);
    const boss = await as('approver');
    const csv = await boss.get(`/admin/cms/log/export.csv?site=${siteA}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.text).toContain('cms.trash');
    expect(csv.text).not.toContain('B市');
  });

  it('a folder holding another organisation’s page cannot be trashed or purged by staff who cannot reach that page', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const folder = await cms.pages.create(systemActor(p), { siteId: siteA, parentId: rootA, kind: 'folder', slug: 'mixed', title: '混在フォルダ', organizationId: orgA }, meta);
    const theirs = await cms.pages.create(systemActor(p), { siteId: siteA, parentId: folder, kind: 'page', slug: 'theirs', title: 'B市のページ', body: '<p>B</p>', organizationId: orgB }, meta);
    const approver = await as('approver');
    await approver.get(`/admin/cms/nodes/${folder}/trash`);
    const refused = await approver.post(`/admin/cms/nodes/${folder}/trash`, {});
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('管理できない組織のページが含まれています');
    expect((await cms.pages.node(theirs)).status).not.toBe('trashed');
    // Trashed by someone who reaches both, it still cannot be purged or restored by the approver.
    await cms.pages.trash(systemActor(p), folder, meta);
    await approver.get(`/admin/cms/sites/${siteA}/trash`);
    expect((await approver.post(`/admin/cms/trash/${folder}/purge`, {})).status).toBe(403);
    expect((await cms.pages.node(theirs)).status).toBe('trashed');
  });
});
