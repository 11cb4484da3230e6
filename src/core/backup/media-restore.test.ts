/**
 * The whole platform: the media library registers its directory, a backup taken by the running
 * platform holds the uploaded files, and `machimado restore` (a real child process) brings rows
 * and files back together.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, engineAvailable } from '../../../test/helpers/db.js';
import { createOrganization, startTestPlatform, systemActor, type TestPlatform } from '../../../test/helpers/platform.js';
import { explain, runCli, withDb } from '../../../test/cli/run-cli.js';
import { cmsOf } from '../../modules/cms/index.js';
import { mediaOf } from '../../modules/cms/media/index.js';
import * as files from '../../modules/cms/media/test-files.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

function tree(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Array<[string, string]> = [];
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push([join(e.parentPath, e.name).slice(dir.length + 1), createHash('sha256').update(readFileSync(join(e.parentPath, e.name))).digest('hex')]);
  }
  return Object.fromEntries(out.sort(([a], [b]) => a.localeCompare(b)));
}

for (const engine of ENGINES) {
  describe.skipIf(!engineAvailable(engine))(`media library in backups [${engine}]`, () => {
    let tp: TestPlatform;
    beforeAll(async () => {
      tp = await startTestPlatform(engine);
    });
    afterAll(async () => {
      await tp?.close();
    });

    it('`machimado restore` brings back the deleted file with its row and moves the later upload aside', async () => {
      const p = tp.platform;
      const mediaDir = resolve(p.config.MEDIA_DIR);
      expect(p.backup.directories()).toEqual([{ key: 'media', path: mediaDir }]);

      const actor = systemActor(p);
      const org = await createOrganization(p);
      const siteId = await cmsOf(p).sites.create(actor, { key: 'bk', name: 'バックアップ市', pathPrefix: '/bk', organizationId: org }, meta);
      const { service } = mediaOf(p);
      const photo = await service.upload(actor, { siteId, fileName: '庁舎.png', claimedMime: 'image/png', data: await files.png(1200, 800), alt: '市庁舎' }, meta);
      const doc = await service.upload(actor, { siteId, fileName: '会議録.pdf', claimedMime: 'application/pdf', data: files.pdf(), title: '会議録' }, meta);
      const atBackup = tree(mediaDir);
      expect(Object.keys(atBackup).length).toBeGreaterThan(2);

      const info = await p.backup.backup({ reason: 'manual' });
      expect(info.directories?.[0]).toMatchObject({ key: 'media', files: Object.keys(atBackup).length, method: 'link' });

      await service.delete(actor, photo.id, meta);
      const later = await service.upload(actor, { siteId, fileName: '後から.gif', claimedMime: 'image/gif', data: await files.gif() }, meta);
      expect(Object.keys(tree(mediaDir)).some((f) => f.includes(photo.storage_key))).toBe(false);

      await tp.running.shutdown('restore');
      const r = await runCli(['restore', info.file], { DATABASE_URL: tp.databaseUrl, DATA_DIR: tp.dataDir, LOG_LEVEL: 'warn', JOBS_ENABLED: 'false' }, 60_000);
      expect(r.code, explain(r)).toBe(0);
      expect(r.stdout).toContain('restored');
      expect(r.stdout).toContain(`media: ${Object.keys(atBackup).length} files → ${mediaDir}`);
      expect(r.stderr).toMatch(/^restore: 100%$/m);

      expect(tree(mediaDir)).toEqual(atBackup);
      const rows = await withDb(tp.databaseUrl, async (db) => (await db.selectFrom('cms_media').select(['id', 'storage_key']).orderBy('id').execute()).map((m) => m.id));
      expect(rows).toEqual([photo.id, doc.id]);
      const aside = readdirSync(dirname(mediaDir)).filter((n) => n.startsWith(`${basename(mediaDir)}.before-restore-`));
      expect(aside).toHaveLength(1);
      const moved = Object.keys(tree(join(dirname(mediaDir), aside[0]!)));
      expect(moved.length).toBeGreaterThan(0);
      expect(moved.every((f) => f.includes(later.storage_key))).toBe(true);
      expect(r.stdout).toContain(`${moved.length} files added after the backup moved to`);
    });
  });
}
