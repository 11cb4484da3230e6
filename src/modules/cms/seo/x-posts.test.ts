import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import { startXApiServer, type TestXApiServer } from '../../../../test/helpers/x-api-server.js';
import type { Platform } from '../../../core/platform.js';
import { XClient } from '../../sns/x-client.js';
import { weightedLength } from '../../sns/x-text.js';
import { cmsOf } from '../index.js';
import { seoOf } from './services.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };
const KEYS = { consumerKey: 'cms-consumer-key', consumerSecret: 'cms-consumer-secret', accessToken: '42-cms-access-token', accessTokenSecret: 'cms-access-secret' };

describePlatform('posting newly published pages to X', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  const prefix = '/sites/xcity';
  let x: TestXApiServer;
  let siteId = 0;
  let rootId = 0;
  let editor: HttpClient;

  const seo = () => seoOf(cmsOf(tp().platform))!;
  const row = (p: Platform, nodeId: number) => p.db.selectFrom('cms_x_posts').selectAll().where('node_id', '=', nodeId).executeTakeFirst();
  /** Creates and publishes a page through the page manager, as staff do; returns its id. */
  const publishPage = async (slug: string, title: string, kind: 'page' | 'folder' = 'page') => {
    await editor.get(`/admin/cms/nodes/new?parent=${rootId}`);
    const res = await editor.post('/admin/cms/nodes', { parentId: String(rootId), kind, slug, title, summary: '', body: '<p>本文です。</p>', intent: 'publish' });
    expect(res.status).toBe(303);
    return Number(/nodes\/(\d+)/.exec(res.location!)![1]);
  };
  const urlOf = (slug: string) => `${tp().baseUrl}${prefix}/${slug}`;

  beforeAll(async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    x = await startXApiServer({ oauth1: KEYS });
    seo().endpoints.x = x.url;
    const org = await createOrganization(p, { name: 'エックス市' });
    siteId = await cms.sites.create(systemActor(p), { key: 'xcity', name: 'エックス市', pathPrefix: prefix, organizationId: org }, meta);
    rootId = (await cms.pages.root(siteId)).id;
    await cms.pages.publish(systemActor(p), rootId, meta);
    const site = (await cms.sites.get(siteId))!;
    await cms.sites.update(systemActor(p), siteId, { name: site.name, pathPrefix: prefix, organizationId: org, settings: { ...site.settings, xPostEnabled: true } }, meta, { inTx: (tx) => seo().secrets.set(tx, siteId, 'x', KEYS) });
    const user = await createStaff(p, { roles: ['site_admin'], organizationId: org });
    editor = new HttpClient(tp().baseUrl);
    await editor.login(user.loginId, user.password);
  });

  afterAll(async () => {
    await x?.close();
  });

  it('publishing a page for the first time queues 「title URL」; the job posts it, signed with OAuth 1.0a, and records the post id', async () => {
    const p = tp().platform;
    const id = await publishPage('sakura', 'さくらまつりを開催します');
    // Publishing did not wait for X.
    expect(x.posts).toHaveLength(0);
    expect(await row(p, id)).toMatchObject({ status: 'queued', text: `さくらまつりを開催します ${urlOf('sakura')}`, url: urlOf('sakura'), attempts: 0 });
    expect(await p.jobs.drain()).toBeGreaterThanOrEqual(1);
    expect(x.posts).toEqual([{ id: expect.any(String), text: `さくらまつりを開催します ${urlOf('sakura')}`, auth: 'oauth1' }]);
    const r = (await row(p, id))!;
    expect(r).toMatchObject({ status: 'posted', post_id: x.posts[0]!.id, attempts: 1, last_error: null });
    expect(r.posted_at).toBeTruthy();

    const list = await editor.get(`/admin/cms/sites/${siteId}/sns`);
    expect(list.status).toBe(200);
    expect(list.text).toContain('さくらまつりを開催します');
    expect(list.text).toContain('投稿済み');
    expect(list.text).toContain(`https://x.com/i/web/status/${x.posts[0]!.id}`);

    // Editing and publishing again does not announce it twice.
    await editor.get(`/admin/cms/nodes/${id}`);
    expect((await editor.post(`/admin/cms/nodes/${id}`, { title: 'さくらまつり（雨天決行）', summary: '', body: '<p>変更</p>', intent: 'publish' })).status).toBe(303);
    await p.jobs.drain();
    expect(x.posts).toHaveLength(1);
  });

  it('trims a long title to X\'s weighted 280 with the URL whole', async () => {
    const p = tp().platform;
    const title = `【重要】${'市民のみなさまへのお知らせ'.repeat(15)}`.slice(0, 200);
    const id = await publishPage('long', title);
    await p.jobs.drain();
    const sent = x.posts.at(-1)!.text;
    expect(weightedLength(sent)).toBeLessThanOrEqual(280);
    expect(weightedLength(sent)).toBeGreaterThan(270);
    expect(sent.endsWith(`… ${urlOf('long')}`)).toBe(true);
    expect(sent.startsWith('【重要】市民のみなさまへ')).toBe(true);
    expect((await row(p, id))!.status).toBe('posted');
  });

  it('does not post folders, pages first published long ago, or pages of a site with X posting off', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const before = x.posts.length;
    await publishPage('kurashi', 'くらし', 'folder');
    // A page first published before X posting was on, withdrawn and published again.
    const old = await cms.pages.create(systemActor(p), { siteId, parentId: rootId, kind: 'page', slug: 'old', title: '昔のページ', body: '<p>昔</p>' }, meta);
    await p.db.updateTable('cms_nodes').set({ status: 'withdrawn', published_at: new Date(Date.now() - 86_400_000).toISOString() }).where('id', '=', old).execute();
    await cms.pages.publish(systemActor(p), old, meta);
    const offSite = await cms.sites.create(systemActor(p), { key: 'xoff', name: 'オフ町', pathPrefix: '/sites/xoff' }, meta);
    const offRoot = await cms.pages.root(offSite);
    await cms.pages.publish(systemActor(p), offRoot.id, meta);
    const offPage = await cms.pages.create(systemActor(p), { siteId: offSite, parentId: offRoot.id, kind: 'page', slug: 'p', title: 'オフ町のお知らせ', body: '<p>x</p>' }, meta);
    await cms.pages.publish(systemActor(p), offPage, meta);
    await p.jobs.drain();
    expect(x.posts.length).toBe(before);
    expect(await row(p, old)).toBeUndefined();
    expect(await row(p, offPage)).toBeUndefined();
  });

  it('retries with back-off when X is down (5xx), then posts', async () => {
    const p = tp().platform;
    x.failNext(1, 503);
    const id = await publishPage('teiden', '停電のお知らせ');
    await p.jobs.drain();
    expect(x.posts.some((post) => post.text.startsWith('停電のお知らせ'))).toBe(false);
    const waiting = (await row(p, id))!;
    expect(waiting).toMatchObject({ status: 'queued', attempts: 1 });
    expect(waiting.last_error).toContain('503');
    const job = await p.db.selectFrom('jobs').selectAll().where('name', '=', 'cms.seo.x_post').where('status', '=', 'queued').executeTakeFirstOrThrow();
    // Back-off: the retry is a minute away, not now.
    expect(Date.parse(job.run_at) - Date.now()).toBeGreaterThan(50_000);
    expect(await p.jobs.drain()).toBe(0);
    await p.jobs.drain(new Date(Date.now() + 61_000));
    expect(x.posts.at(-1)!.text).toBe(`停電のお知らせ ${urlOf('teiden')}`);
    expect(await row(p, id)).toMatchObject({ status: 'posted', attempts: 2, last_error: null });
  });

  it('waits for X\'s rate-limit reset on 429, then posts', async () => {
    const p = tp().platform;
    let shift = 0;
    const limited = await startXApiServer({ oauth1: KEYS, rateLimit: { limit: 1, windowMs: 120_000 }, now: () => new Date(Date.now() + shift) });
    seo().endpoints.x = limited.url;
    try {
      const first = await publishPage('ame1', '大雨の情報（第1報）');
      await p.jobs.drain();
      expect((await row(p, first))!.status).toBe('posted');
      const second = await publishPage('ame2', '大雨の情報（第2報）');
      await p.jobs.drain();
      expect(limited.posts.map((post) => post.text)).toEqual([`大雨の情報（第1報） ${urlOf('ame1')}`]);
      const waiting = (await row(p, second))!;
      expect(waiting).toMatchObject({ status: 'queued', attempts: 1 });
      expect(waiting.last_error).toContain('X の投稿回数の上限に達しました');
      // The next try is set for the reset X announced (about two minutes away).
      const job = await p.db.selectFrom('jobs').selectAll().where('name', '=', 'cms.seo.x_post').where('status', '=', 'queued').executeTakeFirstOrThrow();
      const wait = Date.parse(job.run_at) - Date.now();
      expect(wait).toBeGreaterThan(100_000);
      expect(wait).toBeLessThanOrEqual(121_000);
      expect(await p.jobs.drain(new Date(Date.now() + 60_000))).toBe(0);
      shift = 125_000;
      await p.jobs.drain(new Date(Date.now() + 125_000));
      expect(limited.posts.map((post) => post.text)).toEqual([`大雨の情報（第1報） ${urlOf('ame1')}`, `大雨の情報（第2報） ${urlOf('ame2')}`]);
      expect(await row(p, second)).toMatchObject({ status: 'posted', attempts: 2 });
    } finally {
      seo().endpoints.x = x.url;
      await limited.close();
    }
  });

  it('records a duplicate-content refusal as done but not posted', async () => {
    const p = tp().platform;
    // As if an earlier attempt had reached X and timed out: the same text is already there.
    await new XClient({ baseUrl: x.url, credentials: { kind: 'oauth1', ...KEYS } }).post(`同じ内容のお知らせ ${urlOf('dup')}`);
    const before = x.posts.length;
    const id = await publishPage('dup', '同じ内容のお知らせ');
    await p.jobs.drain();
    expect(x.posts.length).toBe(before);
    const r = (await row(p, id))!;
    expect(r).toMatchObject({ status: 'duplicate', post_id: null, attempts: 1 });
    expect(r.last_error).toContain('同じ内容の投稿が既に X にあります');
    const job = await p.db.selectFrom('jobs').select(['status', 'result']).where('name', '=', 'cms.seo.x_post').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(job.status).toBe('done');
    expect((await editor.get(`/admin/cms/sites/${siteId}/sns`)).text).toContain('投稿済みとみなす');
  });

  it('marks a post failed on wrong credentials, and an administrator sends it again once they are fixed', async () => {
    const p = tp().platform;
    await p.db.transaction().execute((tx) => seo().secrets.set(tx, siteId, 'x', { ...KEYS, consumerSecret: 'wrong' }));
    const id = await publishPage('kagi', '鍵のテスト');
    await p.jobs.drain();
    const failed = (await row(p, id))!;
    expect(failed.status).toBe('failed');
    expect(failed.last_error).toContain('X の認証に失敗しました（401）');
    const list = await editor.get(`/admin/cms/sites/${siteId}/sns`);
    expect(list.text).toContain('失敗');
    expect(list.text).toContain('もう一度送る');

    await p.db.transaction().execute((tx) => seo().secrets.set(tx, siteId, 'x', KEYS));
    const retried = await editor.post(`/admin/cms/sites/${siteId}/sns/${failed.id}/retry`, {});
    expect(retried.status).toBe(303);
    await p.jobs.drain();
    expect(await row(p, id)).toMatchObject({ status: 'posted' });
    expect(x.posts.at(-1)!.text).toBe(`鍵のテスト ${urlOf('kagi')}`);
    const audit = await p.db.selectFrom('audit_log').select('action').where('action', '=', 'cms.x_post_retry').execute();
    expect(audit).toHaveLength(1);
    // Only failed posts can be sent again.
    expect((await editor.post(`/admin/cms/sites/${siteId}/sns/${failed.id}/retry`, {})).status).toBe(404);
  });
});
