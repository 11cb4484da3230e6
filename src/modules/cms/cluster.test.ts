import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.js';
import { silentLogger } from '../../core/log.js';
import { createPlatform, startServer, type RunningServer } from '../../main.js';
import { engineAvailable } from '../../../test/helpers/db.js';
import { startTestPlatform, systemActor, type TestPlatform } from '../../../test/helpers/platform.js';
import { cmsOf } from './index.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

async function eventually(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${limitMs} ms`);
}

// Several app nodes on one PostgreSQL: a change published on one node reaches every node's cache.
describe.skipIf(!engineAvailable('postgres'))('CMS render cache across app nodes [postgres]', () => {
  let a: TestPlatform;
  let b: RunningServer;
  let bUrl = '';
  let dataDir = '';

  beforeAll(async () => {
    a = await startTestPlatform('postgres');
    dataDir = mkdtempSync(join(tmpdir(), 'machimado-node-b-'));
    const config = loadConfig({ DATABASE_URL: a.databaseUrl, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', JOBS_ENABLED: 'false', DATABASE_POOL_SIZE: '4' });
    b = await startServer(await createPlatform(config, { log: silentLogger() }));
    bUrl = `http://127.0.0.1:${b.port}`;
    // Both nodes cache only once their change listener runs.
    await eventually(async () => cmsOf(a.platform).cache.enabled && cmsOf(b.platform).cache.enabled, 5000);
  });
  afterAll(async () => {
    await b?.shutdown('test end');
    await a?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a page published on node A replaces the cached copy on node B', async () => {
    const p = a.platform;
    const cms = cmsOf(p);
    const siteId = await cms.sites.create(systemActor(p), { key: 'twonodes', name: '二台構成市', pathPrefix: '/s/two' }, meta);
    const root = await cms.pages.root(siteId);
    await cms.pages.publish(systemActor(p), root.id, meta);
    const page = await cms.pages.create(systemActor(p), { siteId, parentId: root.id, kind: 'page', slug: 'notice', title: 'お知らせ', body: '<p>第1版</p>' }, meta);
    await cms.pages.publish(systemActor(p), page, meta);
    const get = async (base: string) => {
      const res = await fetch(`${base}/s/two/notice`);
      return { text: await res.text(), cache: res.headers.get('x-render-cache') };
    };
    expect((await get(bUrl)).text).toContain('第1版');
    expect((await get(bUrl)).cache).toBe('hit');

    await cms.pages.saveDraft(systemActor(p), page, { title: 'お知らせ', body: '<p>第2版</p>' }, meta);
    await cms.pages.publish(systemActor(p), page, meta);
    const ms = await eventually(async () => (await get(bUrl)).text.includes('第2版'), 5000);
    expect((await get(a.baseUrl)).text).toContain('第2版');
    // Measured, not asserted tightly: the notification normally arrives in a few milliseconds.
    console.info(`change visible on node B after ${ms} ms`);
  });
});
