import { expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import type { Actor } from '../../../core/permissions/index.js';
import type { Platform } from '../../../core/platform.js';
import { parseJson } from '../../../core/db/index.js';
import { cmsOf } from '../index.js';
import { StaleDraftError } from '../pages.js';
import { diffVersions } from './diff.js';
import { historyOf } from './services.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };
const MIN = 60_000;

async function staffActor(p: Platform, opts: { roles: string[]; organizationId: number; displayName: string }): Promise<Actor> {
  const s = await createStaff(p, opts);
  return (await p.auth.actorFor(s.id))!;
}

describePlatform('CMS page lifecycle services', {}, (tp) => {
  let siteId = 0;
  let rootId = 0;
  let orgId = 0;
  let hanako: Actor;
  let taro: Actor;

  it('keeps every version with its author; a diff shows what changed; restoring makes a new draft and rewrites nothing', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    orgId = await createOrganization(p, { name: '履歴テスト市' });
    hanako = await staffActor(p, { roles: ['approver'], organizationId: orgId, displayName: '佐藤 花子' });
    taro = await staffActor(p, { roles: ['editor'], organizationId: orgId, displayName: '鈴木 太郎' });
    siteId = await cms.sites.create(systemActor(p), { key: 'histcity', name: '履歴市', pathPrefix: '/s/hist', organizationId: orgId }, meta);
    const root = await cms.pages.root(siteId);
    rootId = root.id;
    await cms.pages.publish(systemActor(p), root.id, meta);
    const id = await cms.pages.create(hanako, { siteId, parentId: root.id, kind: 'page', slug: 'gomi', title: 'ごみの出し方', body: '<p>燃えるごみは月曜日です。</p>' }, meta);
    await cms.pages.publish(hanako, id, meta);
    await cms.pages.saveDraft(taro, id, { title: 'ごみの出し方', body: '<p>燃えるごみは火曜日です。</p><p>資源ごみは水曜日です。</p>', comment: '収集日の変更' }, meta);
    await cms.pages.saveDraft(hanako, id, { title: 'ごみの出し方（改訂）', body: '<p>燃えるごみは火曜日です。</p><p>資源ごみは水曜日です。</p>' }, meta);

    const versions = await cms.pages.versions(id);
    expect(versions.map((v) => [v.number, v.author_name, v.comment])).toEqual([
      [3, '佐藤 花子', null],
      [2, '鈴木 太郎', '収集日の変更'],
      [1, '佐藤 花子', null],
    ]);
    const node = await cms.pages.node(id);
    expect(node.published_version_id).toBe(versions[2]!.id);
    expect(node.draft_version_id).toBe(versions[0]!.id);

    const v1 = versions[2]!;
    const v3 = versions[0]!;
    const d = diffVersions({ title: v1.title, summary: v1.summary, fields: parseJson(v1.fields, {}), bodyHtml: v1.body_html }, { title: v3.title, summary: v3.summary, fields: parseJson(v3.fields, {}), bodyHtml: v3.body_html });
    expect(d.title.parts).toContainEqual({ kind: 'ins', text: '（改訂）' });
    expect(d.body.map((r) => r.kind)).toEqual(['changed', 'added']);
    expect(d.body[0]!.parts).toContainEqual({ kind: 'del', text: '月曜日' });

    const before = await p.db.selectFrom('cms_versions').selectAll().where('node_id', '=', id).orderBy('number').execute();
    const restored = await cms.pages.restoreVersion(taro, id, 1, meta);
    expect(restored.number).toBe(4);
    const v4 = await cms.pages.versionByNumber(id, 4);
    expect(v4).toMatchObject({ title: 'ごみの出し方', body_html: v1.body_html, comment: '版 1 を復元', author_name: '鈴木 太郎' });
    expect((await cms.pages.node(id)).draft_version_id).toBe(v4!.id);
    // History is never rewritten: versions 1–3 are exactly as they were.
    expect(await p.db.selectFrom('cms_versions').selectAll().where('node_id', '=', id).where('number', '<=', 3).orderBy('number').execute()).toEqual(before);
    // The live page did not change: a restore is a draft until published.
    expect((await new HttpClient(tp().baseUrl).get('/s/hist/gomi')).text).toContain('燃えるごみは月曜日です。');
    const audit = (await p.audit.list({ targetType: 'cms_node', targetId: String(id), action: 'cms.restore_version' })).rows;
    expect(audit).toHaveLength(1);
    expect(audit[0]!.summary).toContain('版 1 を復元');
  });

  it('refuses a save based on an outdated draft, and lets exactly one of two concurrent saves through', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const id = await cms.pages.create(hanako, { siteId, parentId: rootId, kind: 'page', slug: 'kosodate', title: '子育て', body: '<p>初版</p>' }, meta);
    const base = (await cms.pages.node(id)).draft_version_id!;
    const second = await cms.pages.saveDraft(taro, id, { title: '子育て', body: '<p>太郎の変更</p>' }, meta, { baseVersionId: base });
    const err = await cms.pages.saveDraft(hanako, id, { title: '子育て', body: '<p>花子の古い下書きから</p>' }, meta, { baseVersionId: base }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleDraftError);
    expect((err as StaleDraftError).current).toMatchObject({ id: second, number: 2, authorName: '鈴木 太郎' });
    expect((await cms.pages.versions(id)).map((v) => v.number)).toEqual([2, 1]);
    // Saving on the current draft works.
    await cms.pages.saveDraft(hanako, id, { title: '子育て', body: '<p>花子の変更</p>' }, meta, { baseVersionId: second });

    const now = (await cms.pages.node(id)).draft_version_id!;
    const results = await Promise.allSettled([
      cms.pages.saveDraft(hanako, id, { title: '子育て', body: '<p>同時A</p>' }, meta, { baseVersionId: now }),
      cms.pages.saveDraft(taro, id, { title: '子育て', body: '<p>同時B</p>' }, meta, { baseVersionId: now }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(StaleDraftError);
    expect((await cms.pages.versions(id)).map((v) => v.number)).toEqual([4, 3, 2, 1]);
  });

  it('gives the edit lock to one editor at a time until it lapses or is released; breaking it is audited', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const { locks } = historyOf(p);
    const id = await cms.pages.create(hanako, { siteId, parentId: rootId, kind: 'page', slug: 'lock-test', title: 'ロック', body: '' }, meta);
    const t0 = new Date('2026-05-01T01:00:00Z');
    const first = await locks.acquire(hanako, id, t0);
    expect(first).toMatchObject({ held: true, lock: { userId: hanako.id, userName: '佐藤 花子', acquiredAt: t0.toISOString() } });
    const second = await locks.acquire(taro, id, new Date(t0.getTime() + 5 * MIN));
    expect(second).toMatchObject({ held: false, lock: { userId: hanako.id, userName: '佐藤 花子' } });
    // Activity renews the holder's lock but keeps when they started.
    const renewed = await locks.acquire(hanako, id, new Date(t0.getTime() + 15 * MIN));
    expect(renewed.lock).toMatchObject({ acquiredAt: t0.toISOString(), expiresAt: new Date(t0.getTime() + 35 * MIN).toISOString() });
    expect((await locks.acquire(taro, id, new Date(t0.getTime() + 34 * MIN))).held).toBe(false);
    // Twenty minutes without activity and the lock lapses: the next editor gets it.
    const lapsed = await locks.acquire(taro, id, new Date(t0.getTime() + 36 * MIN));
    expect(lapsed).toMatchObject({ held: true, lock: { userId: taro.id, acquiredAt: new Date(t0.getTime() + 36 * MIN).toISOString() } });
    // Only the holder's release frees it.
    await locks.release(hanako, id);
    expect((await locks.current(id, new Date(t0.getTime() + 37 * MIN)))?.userId).toBe(taro.id);
    await locks.release(taro, id);
    expect(await locks.current(id, new Date(t0.getTime() + 37 * MIN))).toBeNull();

    await locks.acquire(taro, id);
    const broken = await locks.breakLock(hanako, await cms.pages.node(id), meta);
    expect(broken?.userName).toBe('鈴木 太郎');
    expect((await locks.acquire(hanako, id)).held).toBe(true);
    const audit = (await p.audit.list({ action: 'cms.lock_break', targetId: String(id) })).rows;
    expect(audit[0]).toMatchObject({ actorLogin: hanako.loginId });
    expect(audit[0]!.summary).toContain('鈴木 太郎さん');
  });

  it('trash takes a folder and its pages off the site, search, lists, feed and sitemap at once; restore brings them back unpublished', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const visitor = new HttpClient(tp().baseUrl);
    const hookKinds: string[] = [];
    cms.parts.onPublishTx(async (_tx, e) => void hookKinds.push(`${e.kind}:${e.node.slug}`));
    const folder = await cms.pages.create(hanako, { siteId, parentId: rootId, kind: 'folder', slug: 'bousai', title: '防災', body: '' }, meta);
    await cms.pages.publish(hanako, folder, meta);
    const page = await cms.pages.create(hanako, { siteId, parentId: folder, kind: 'page', slug: 'hinanjo', title: '避難所一覧', summary: '市内の避難所', body: '<p>避難所はサクラ小学校です。</p>' }, meta);
    await cms.pages.publish(hanako, page, meta);
    expect((await visitor.get('/s/hist/bousai/hinanjo')).status).toBe(200);
    expect((await visitor.get('/s/hist/')).text).toContain('/s/hist/bousai/');
    expect((await visitor.get('/s/hist/search?q=' + encodeURIComponent('サクラ小学校'))).text).toContain('/s/hist/bousai/hinanjo');
    expect((await visitor.get('/s/hist/feed.xml')).text).toContain('避難所一覧');
    expect((await visitor.get('/s/hist/sitemap.xml')).text).toContain('/s/hist/bousai/hinanjo');

    hookKinds.length = 0;
    expect(await cms.pages.trash(hanako, folder, meta)).toEqual({ count: 2 });
    expect(hookKinds.sort()).toEqual(['trash:bousai', 'trash:hinanjo']);
    expect((await visitor.get('/s/hist/bousai/hinanjo')).status).toBe(404);
    expect((await visitor.get('/s/hist/bousai/')).status).toBe(404);
    expect((await visitor.get('/s/hist/')).text).not.toContain('/s/hist/bousai/');
    expect((await visitor.get('/s/hist/search?q=' + encodeURIComponent('サクラ小学校'))).text).not.toContain('/s/hist/bousai/hinanjo');
    expect((await visitor.get('/s/hist/feed.xml')).text).not.toContain('避難所一覧');
    expect((await visitor.get('/s/hist/sitemap.xml')).text).not.toContain('/s/hist/bousai');
    expect((await cms.pages.tree(siteId)).some((n) => n.id === folder || n.id === page)).toBe(false);
    const trash = await cms.pages.trashList(siteId);
    expect(trash.map((e) => [e.node.id, e.title, e.originalPath, e.count, e.trashedBy])).toEqual([[folder, '防災', '/bousai/', 2, '佐藤 花子']]);
    await expect(cms.pages.saveDraft(hanako, page, { title: 'x', body: '' }, meta)).rejects.toMatchObject({ fields: { _form: expect.stringContaining('ごみ箱') } });
    await expect(cms.pages.restoreFromTrash(hanako, page, meta)).rejects.toMatchObject({ fields: { _form: expect.stringContaining('/bousai/') } });

    // Meanwhile the address is free: someone makes a new /bousai/ folder, so restoring reports the clash.
    const blocker = await cms.pages.create(taro, { siteId, parentId: rootId, kind: 'folder', slug: 'bousai', title: '新しい防災ページ', body: '' }, meta);
    await expect(cms.pages.restoreFromTrash(hanako, folder, meta)).rejects.toMatchObject({ fields: { _form: expect.stringMatching(/\/bousai\/（新しい防災ページ）.*元に戻せません|元に戻せません.*\/bousai\/（新しい防災ページ）/) } });
    expect((await cms.pages.node(folder)).status).toBe('trashed');
    await cms.pages.trash(taro, blocker, meta);

    hookKinds.length = 0;
    expect(await cms.pages.restoreFromTrash(hanako, folder, meta)).toEqual({ count: 2, path: '/bousai/' });
    expect(hookKinds.sort()).toEqual(['restore:bousai', 'restore:hinanjo']);
    expect(await cms.pages.node(folder)).toMatchObject({ path: '/bousai/', status: 'withdrawn' });
    expect(await cms.pages.node(page)).toMatchObject({ path: '/bousai/hinanjo', status: 'withdrawn' });
    expect((await visitor.get('/s/hist/bousai/hinanjo')).status).toBe(404);
    expect((await cms.pages.trashList(siteId)).map((e) => e.node.id)).toEqual([blocker]);
    await cms.pages.publish(hanako, folder, meta);
    await cms.pages.publish(hanako, page, meta);
    expect((await visitor.get('/s/hist/bousai/hinanjo')).text).toContain('サクラ小学校');
    expect((await visitor.get('/s/hist/search?q=' + encodeURIComponent('サクラ小学校'))).text).toContain('/s/hist/bousai/hinanjo');
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(folder) })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.trash', 'cms.trash_restore']));
    await expect(cms.pages.trash(hanako, rootId, meta)).rejects.toMatchObject({ fields: { _form: expect.stringContaining('トップページ') } });
  });

  it('purges for good what stayed in the trash longer than the retention days, through the daily job', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const folder = await cms.pages.create(hanako, { siteId, parentId: rootId, kind: 'folder', slug: 'old', title: '古いフォルダ', body: '' }, meta);
    const page = await cms.pages.create(hanako, { siteId, parentId: folder, kind: 'page', slug: 'event-2019', title: '2019年のイベント', body: '' }, meta);
    const recent = await cms.pages.create(hanako, { siteId, parentId: rootId, kind: 'page', slug: 'recent', title: '最近消したページ', body: '' }, meta);
    await cms.pages.trash(hanako, folder, meta);
    await cms.pages.trash(hanako, recent, meta);
    expect(await cms.pages.purgeTrash(new Date(), 30)).toBe(0);
    const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await p.db.updateTable('cms_trash').set({ trashed_at: longAgo }).where('root_id', '=', folder).execute();

    expect(await historyOf(p).trash.retentionDays()).toBe(30);
    expect(p.jobs.definitions().some((d) => d.name === 'cms.trash_purge' && d.schedule === '30 3 * * *')).toBe(true);
    await p.jobs.enqueue('cms.trash_purge');
    await p.jobs.drain();
    expect(await p.db.selectFrom('cms_nodes').select('id').where('id', 'in', [folder, page]).execute()).toEqual([]);
    expect(await p.db.selectFrom('cms_versions').select('id').where('node_id', 'in', [folder, page]).execute()).toEqual([]);
    expect((await cms.pages.node(recent)).status).toBe('trashed');
    const purged = (await p.audit.list({ action: 'cms.purge', targetId: String(folder) })).rows;
    expect(purged[0]!.summary).toContain('保存期間 30 日');

    // A shorter retention applies from the next run; an editor's own purge is immediate.
    await historyOf(p).trash.setRetentionDays(hanako, 1, meta);
    await p.db.updateTable('cms_trash').set({ trashed_at: new Date(Date.now() - 2 * 86_400_000).toISOString() }).where('root_id', '=', recent).execute();
    await p.jobs.enqueue('cms.trash_purge');
    await p.jobs.drain();
    await expect(cms.pages.node(recent)).rejects.toThrow();
    await historyOf(p).trash.setRetentionDays(hanako, 30, meta);
    await expect(historyOf(p).trash.setRetentionDays(hanako, 0, meta)).rejects.toMatchObject({ fields: { days: expect.any(String) } });
  });

  it('moves a page to the trash at its deletion time (C-3-12), run by runSchedule', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const visitor = new HttpClient(tp().baseUrl);
    const id = await cms.pages.create(hanako, { siteId, parentId: rootId, kind: 'page', slug: 'campaign', title: '期間限定', body: '<p>キャンペーン</p>' }, meta);
    await cms.pages.publish(hanako, id, meta);
    const start = new Date(Date.now() - 60 * MIN);
    const end = new Date(Date.now() + 60 * MIN);
    const del = new Date(Date.now() + 120 * MIN);
    await expect(cms.pages.schedule(hanako, id, { publishAt: del, unpublishAt: null, deleteAt: end }, meta)).rejects.toMatchObject({ fields: { deleteAt: expect.stringContaining('公開開始日時より後') } });
    await cms.pages.schedule(hanako, id, { publishAt: null, unpublishAt: end, deleteAt: del }, meta);
    expect((await cms.pages.node(id)).delete_at).toBe(del.toISOString());
    // Leaving deleteAt out keeps it.
    await cms.pages.schedule(hanako, id, { publishAt: null, unpublishAt: end }, meta);
    expect((await cms.pages.node(id)).delete_at).toBe(del.toISOString());
    expect(start < end).toBe(true);

    expect(await cms.pages.runSchedule(new Date())).toEqual({ published: 0, unpublished: 0, trashed: 0 });
    expect(await cms.pages.runSchedule(new Date(end.getTime() + MIN))).toEqual({ published: 0, unpublished: 1, trashed: 0 });
    expect(await cms.pages.runSchedule(new Date(del.getTime() + MIN))).toEqual({ published: 0, unpublished: 0, trashed: 1 });
    expect(await cms.pages.node(id)).toMatchObject({ status: 'trashed', delete_at: null });
    expect((await visitor.get('/s/hist/campaign')).status).toBe(404);
    const entry = (await cms.pages.trashList(siteId)).find((e) => e.node.id === id);
    expect(entry).toMatchObject({ originalPath: '/campaign', reason: '予約による自動削除', trashedBy: null });
    expect(await cms.pages.runSchedule(new Date(del.getTime() + 2 * MIN))).toEqual({ published: 0, unpublished: 0, trashed: 0 });
  });

  it('preview links: unguessable, only the hash stored, expire and can be revoked; unknown tokens are 404', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const { previews } = historyOf(p);
    const visitor = new HttpClient(tp().baseUrl);
    // A draft under a folder that is not public yet: no public page, but a preview with breadcrumbs.
    const folder = await cms.pages.create(hanako, { siteId, parentId: rootId, kind: 'folder', slug: 'kanko', title: '観光（準備中）', body: '' }, meta);
    const page = await cms.pages.create(hanako, { siteId, parentId: folder, kind: 'page', slug: 'sakura', title: '桜まつり', body: '<p>4月に開催予定</p>' }, meta);
    const t0 = new Date();
    const link = await previews.create(hanako, await cms.pages.node(page), 168, meta, t0);
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(link.expiresAt).toBe(new Date(t0.getTime() + 7 * 86_400_000).toISOString());
    const stored = await p.db.selectFrom('cms_preview_links').selectAll().where('id', '=', link.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(link.token);
    const other = await previews.create(hanako, await cms.pages.node(page), 1, meta, t0);
    expect(other.token).not.toBe(link.token);

    expect((await visitor.get('/s/hist/kanko/sakura')).status).toBe(404);
    const res = await visitor.get(`/s/hist/preview/${link.token}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('4月に開催予定');
    expect(res.text).toContain('<meta name="robots" content="noindex, nofollow"/>');
    expect(res.text).toContain('<meta name="referrer" content="no-referrer"/>');
    expect(res.text).toContain('これはプレビューです');
    expect(res.text).toMatch(/<li><a href="\/s\/hist\/kanko\/">観光（準備中）<\/a><\/li><li aria-current="page">桜まつり<\/li>/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-robots-tag')).toContain('noindex');
    expect(res.headers.get('x-render-cache')).toBeNull();
    // The bare /preview/<token> works too; the token, not the address, picks the page.
    expect((await visitor.get(`/preview/${link.token}`)).text).toContain('4月に開催予定');
    // Later edits show in the same link (it shows the working version).
    await cms.pages.saveDraft(hanako, page, { title: '桜まつり', body: '<p>4月10日に開催</p>' }, meta);
    expect((await visitor.get(`/s/hist/preview/${link.token}`)).text).toContain('4月10日に開催');

    expect(await previews.resolve(link.token, new Date(t0.getTime() + 7 * 86_400_000 - MIN))).toBe(page);
    expect(await previews.resolve(link.token, new Date(t0.getTime() + 7 * 86_400_000 + MIN))).toBeNull();
    expect(await previews.resolve(other.token, new Date(t0.getTime() + 61 * MIN))).toBeNull();
    await p.db.updateTable('cms_preview_links').set({ expires_at: new Date(Date.now() - MIN).toISOString() }).where('id', '=', other.id).execute();
    const expired = await visitor.get(`/s/hist/preview/${other.token}`);
    expect(expired.status).toBe(404);
    expect(expired.text).toContain('<title>お探しのページが見つかりません | 履歴市</title>');

    expect((await previews.active(page)).map((l) => l.id)).toEqual([link.id]);
    expect(await previews.revoke(hanako, await cms.pages.node(page), link.id, meta)).toBe(true);
    expect(await previews.revoke(hanako, await cms.pages.node(page), link.id, meta)).toBe(false);
    expect((await visitor.get(`/s/hist/preview/${link.token}`)).status).toBe(404);
    expect((await visitor.get(`/s/hist/preview/${'A'.repeat(43)}`)).status).toBe(404);
    expect((await visitor.get('/s/hist/preview/short')).status).toBe(404);
    await expect(previews.create(hanako, await cms.pages.node(page), 5, meta)).rejects.toMatchObject({ fields: { hours: expect.any(String) } });
    const actions = (await p.audit.list({ targetType: 'cms_node', targetId: String(page) })).rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['cms.preview_create', 'cms.preview_revoke']));
  });
});
