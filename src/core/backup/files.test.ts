/**
 * Backups of registered file directories (the media library) with the database, on both engines:
 * real files, real dumps, real restores.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENGINES, createTestDatabase, engineAvailable, type TestDatabase } from '../../../test/helpers/db.js';
import { nowIso, openDatabase, type DatabaseHandle } from '../db/index.js';
import { silentLogger } from '../log.js';
import { BackupError, BackupService } from './index.js';

const at = nowIso(new Date('2026-04-01T00:00:00.000Z'));

/** Every file under a directory: relative path → SHA-256. */
function tree(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const abs = join(e.parentPath, e.name);
    out[abs.slice(dir.length + 1)] = createHash('sha256').update(readFileSync(abs)).digest('hex');
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

function put(root: string, rel: string, data: Buffer = randomBytes(2000 + Math.floor(Math.random() * 5000))): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), data, { flag: 'wx' });
}

/** Siblings of the media directory a restore leaves behind (before-restore folders, staging). */
const siblings = (media: string) => readdirSync(dirname(media)).filter((n) => n !== basename(media) && n.includes(basename(media)));

const orgNames = async (h: DatabaseHandle) => (await h.db.selectFrom('organizations').select(['code', 'name']).orderBy('code').execute()).map((o) => `${o.code}:${o.name}`);

for (const engine of ENGINES) {
  describe.skipIf(!engineAvailable(engine))(`backup of file directories [${engine}]`, () => {
    let t: TestDatabase;
    let root: string;
    let dir: string;
    let media: string;
    let reopened: DatabaseHandle[] = [];
    const service = (opts: { generations?: number; backups?: string; withMedia?: boolean } = {}) => {
      const svc = new BackupService({ handle: t.handle, dir: opts.backups ?? dir, generations: opts.generations ?? 3, log: silentLogger() });
      if (opts.withMedia !== false) svc.addDirectory({ key: 'media', path: media });
      return svc;
    };
    const reopen = () => {
      const h = openDatabase(t.url);
      reopened.push(h);
      return h;
    };

    beforeEach(async () => {
      t = await createTestDatabase(engine);
      root = mkdtempSync(join(tmpdir(), 'machimado-backup-files-'));
      dir = join(root, 'backups');
      media = join(root, 'media');
      reopened = [];
      await t.handle.db
        .insertInto('organizations')
        .values({ code: 'city', name: 'まちまど市', name_en: null, kind: 'municipality', parent_id: null, created_at: at, updated_at: at })
        .execute();
      // The media library's layout: <2 hex>/<32 hex>/<variant>.
      put(media, 'ab/ab00000000000000000000000000000a/original');
      put(media, 'ab/ab00000000000000000000000000000a/480-webp');
      put(media, 'cd/cd00000000000000000000000000000c/file', Buffer.from('%PDF-1.4 会議録'));
      put(media, 'ef/ef00000000000000000000000000000e/original', Buffer.alloc(0));
    });
    afterEach(async () => {
      for (const h of reopened) await h.close();
      await t.drop();
      rmSync(root, { recursive: true, force: true });
    });

    it('round trip: the database and the directory come back exactly; a file added later is moved aside', async () => {
      const svc = service();
      const before = tree(media);
      const info = await svc.backup({ reason: 'manual' });
      expect(info.directories).toEqual([{ key: 'media', files: 4, bytes: Object.keys(before).reduce((n, f) => n + statSync(join(media, f)).size, 0), method: 'link' }]);
      // Hard links: the snapshot costs no space for files that never change.
      const snap = `${info.file}.files/media`;
      expect(tree(snap)).toEqual(before);
      expect(statSync(join(snap, 'cd/cd00000000000000000000000000000c/file')).ino).toBe(statSync(join(media, 'cd/cd00000000000000000000000000000c/file')).ino);
      const manifest = JSON.parse(readFileSync(`${info.file}.json`, 'utf8')) as { format: number; directories: Array<{ key: string; files: Array<{ path: string; bytes: number; sha256: string }> }> };
      expect(manifest.format).toBe(2);
      expect(Object.fromEntries(manifest.directories[0]!.files.map((f) => [f.path, f.sha256]))).toEqual(before);
      // sha256sum -c, run in the backup directory, checks the manifest and every snapshot file.
      const sums = readFileSync(`${info.file}.files.sha256`, 'utf8').trim().split('\n');
      expect(sums[0]).toBe(`${createHash('sha256').update(readFileSync(`${info.file}.json`)).digest('hex')}  ${basename(info.file)}.json`);
      expect(sums.slice(1).sort()).toEqual(Object.entries(before).map(([f, h]) => `${h}  ${basename(info.file)}.files/media/${f}`).sort());
      expect(readFileSync(`${info.file}.sha256`, 'utf8')).toBe(`${info.sha256}  ${basename(info.file)}\n`);
      expect((await svc.verify(info.file)).files).toEqual({ checked: 4, bytes: info.directories![0]!.bytes, problems: [] });

      // After the backup: a file deleted, one added, the database changed.
      rmSync(join(media, 'ab'), { recursive: true });
      put(media, '99/9900000000000000000000000000000b/original', Buffer.from('added after the backup'));
      await t.handle.db.updateTable('organizations').set({ name: '改名市' }).where('code', '=', 'city').execute();

      const progress: number[] = [];
      const result = await svc.restore(info.file, { onProgress: (p) => progress.push(p) });
      expect(progress[0]).toBe(0);
      expect(progress.at(-1)).toBe(100);
      expect([...progress].sort((a, b) => a - b)).toEqual(progress);
      expect(result.warnings).toEqual([]);
      expect(tree(media)).toEqual(before);
      expect(await orgNames(reopen())).toEqual(['city:まちまど市']);

      const aside = siblings(media);
      expect(aside).toHaveLength(1);
      expect(aside[0]).toMatch(/^media\.before-restore-\d{8}-\d{6}$/);
      expect(tree(join(root, aside[0]!))).toEqual({ '99/9900000000000000000000000000000b/original': createHash('sha256').update('added after the backup').digest('hex') });
      expect(result.directories).toEqual([{ key: 'media', path: media, files: 4, asideDir: join(root, aside[0]!), asideFiles: 1 }]);
      // The snapshot is untouched by the restore and still verifies.
      expect((await svc.verify(info.file)).ok).toBe(true);
    });

    it('a restore with nothing added leaves no before-restore folder; a missing directory is recreated', async () => {
      const svc = service();
      const before = tree(media);
      const info = await svc.backup();
      rmSync(media, { recursive: true });
      const result = await svc.restore(info.file);
      expect(tree(media)).toEqual(before);
      expect(siblings(media)).toEqual([]);
      expect(result.directories[0]).toMatchObject({ asideDir: null, asideFiles: 0 });
    });

    it('a damaged snapshot file makes verify fail and restore refuse, changing nothing', async () => {
      const svc = service();
      const info = await svc.backup();
      // The damaged copy is a file of its own (a hard-linked file would damage the live one too).
      const victim = join(`${info.file}.files/media`, 'cd/cd00000000000000000000000000000c/file');
      const bytes = readFileSync(victim);
      bytes[3] = bytes[3]! ^ 0xff;
      unlinkSync(victim);
      writeFileSync(victim, bytes);

      put(media, '99/9900000000000000000000000000000b/original');
      rmSync(join(media, 'ef'), { recursive: true });
      await t.handle.db.updateTable('organizations').set({ name: '変更後' }).where('code', '=', 'city').execute();
      const live = tree(media);

      const check = await svc.verify(info.file);
      expect(check.ok).toBe(false);
      expect(check.expected).toBe(check.actual); // the database file itself is fine
      expect(check.files?.problems).toEqual([expect.stringMatching(/^media\/cd\/cd0+c\/file: .*checksum mismatch$/)]);

      const err = await svc.restore(info.file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackupError);
      expect((err as BackupError).code).toBe('files_mismatch');
      expect((err as Error).message).toContain('nothing changed');
      expect((err as Error).message).toContain('media/cd/cd00000000000000000000000000000c/file');
      expect(tree(media)).toEqual(live);
      expect(siblings(media)).toEqual([]);
      expect(await orgNames(t.handle)).toEqual(['city:変更後']);
    });

    it('a missing, an extra or an unlisted snapshot file, or an edited manifest, is refused', async () => {
      const svc = service();
      const info = await svc.backup();
      const snap = `${info.file}.files/media`;
      unlinkSync(join(snap, 'ef/ef00000000000000000000000000000e/original'));
      put(snap, 'zz/extra');
      let problems = (await svc.verify(info.file)).files?.problems ?? [];
      expect(problems).toEqual([expect.stringContaining('media/ef/ef00000000000000000000000000000e/original: ファイルがありません / missing'), expect.stringContaining('media/zz/extra: 一覧にないファイル')]);

      // Someone "fixes" the list by hand: the manifest no longer matches X.files.sha256.
      const manifest = JSON.parse(readFileSync(`${info.file}.json`, 'utf8')) as { directories: Array<{ files: Array<{ path: string }> }> };
      manifest.directories[0]!.files = manifest.directories[0]!.files.filter((f) => !f.path.startsWith('ef/'));
      writeFileSync(`${info.file}.json`, JSON.stringify(manifest, null, 2));
      problems = (await svc.verify(info.file)).files?.problems ?? [];
      expect(problems[0]).toContain('does not match its checksum');
      await expect(svc.restore(info.file)).rejects.toMatchObject({ code: 'files_mismatch' });
    });

    it('a restore that fails in the database step puts the directory back as it was', async () => {
      const svc = service();
      const info = await svc.backup();
      // A truncated dump whose checksum was rewritten to match: verify passes, the restore itself fails.
      const half = readFileSync(info.file).subarray(0, Math.floor(info.bytes / 2));
      writeFileSync(info.file, half);
      writeFileSync(`${info.file}.sha256`, `${createHash('sha256').update(half).digest('hex')}  ${basename(info.file)}\n`);
      put(media, '99/9900000000000000000000000000000b/original');
      rmSync(join(media, 'ab'), { recursive: true });
      await t.handle.db.updateTable('organizations').set({ name: '変更後' }).where('code', '=', 'city').execute();
      const live = tree(media);

      await expect(svc.restore(info.file)).rejects.toBeInstanceOf(BackupError);
      expect(tree(media)).toEqual(live);
      expect(siblings(media)).toEqual([]);
      expect(await orgNames(reopen())).toEqual(['city:変更後']);
    });

    it('a linked file damaged in place is caught by the next backup, not recorded afresh', async () => {
      const svc = service();
      const first = await svc.backup();
      // Bit rot on the shared inode: the live file and the first snapshot change together.
      const rel = 'ab/ab00000000000000000000000000000a/original';
      const bytes = readFileSync(join(media, rel));
      bytes[10] = bytes[10]! ^ 0xff;
      writeFileSync(join(media, rel), bytes);
      const second = await svc.backup();
      // The second backup kept the hash recorded when the file was whole, so both now fail verification.
      for (const b of [first, second]) {
        const check = await svc.verify(b.file);
        expect(check.ok, basename(b.file)).toBe(false);
        expect(check.files?.problems).toEqual([expect.stringContaining(`media/${rel}: チェックサム不一致`)]);
      }
    });

    it('pruning removes each old backup with its snapshot', async () => {
      const svc = service({ generations: 2 });
      const made = [];
      for (let i = 0; i < 3; i++) made.push((await svc.backup()).file);
      const deleted = await svc.prune();
      expect(deleted).toEqual([made[0]]);
      const left = readdirSync(dir).sort();
      expect(left).toEqual(made.slice(1).flatMap((f) => ['', '.files', '.files.sha256', '.json', '.sha256'].map((s) => `${basename(f)}${s}`)).sort());
      // The live files are still there: the snapshot held links, not the only copies.
      expect(Object.keys(tree(media))).toHaveLength(4);
      expect((await svc.verify(made[2]!)).ok).toBe(true);
    });

    it('a backup made before file snapshots existed still restores the database, with a warning', async () => {
      const old = await service({ withMedia: false }).backup();
      expect(old.directories).toBeUndefined();
      expect(existsSync(`${old.file}.files`)).toBe(false);
      put(media, '99/9900000000000000000000000000000b/original');
      const live = tree(media);
      await t.handle.db.updateTable('organizations').set({ name: '変更後' }).where('code', '=', 'city').execute();

      const svc = service();
      expect((await svc.verify(old.file)).files).toBeUndefined();
      const result = await svc.restore(old.file);
      expect(result.directories).toEqual([]);
      expect(result.warnings).toHaveLength(1);
      expect(result.warnings[0]).toContain('this backup has no file snapshot');
      expect(result.warnings[0]).toContain(media);
      expect(tree(media)).toEqual(live);
      expect(await orgNames(reopen())).toEqual(['city:まちまど市']);
    });

    // Another filesystem (a NAS, here tmpfs) cannot hold hard links: the snapshot is copied instead.
    const shm = '/dev/shm';
    const otherFs = existsSync(shm) && statSync(shm).dev !== statSync(tmpdir()).dev;
    it.skipIf(!otherFs)('copies the files when the backups are on another filesystem, and restores from the copies', async () => {
      const backups = mkdtempSync(join(shm, 'machimado-backup-nas-'));
      try {
        const svc = service({ backups });
        const before = tree(media);
        const info = await svc.backup();
        expect(info.directories?.[0]?.method).toBe('copy');
        const doc = 'cd/cd00000000000000000000000000000c/file';
        expect(statSync(join(`${info.file}.files/media`, doc)).ino).not.toBe(statSync(join(media, doc)).ino);
        // The next day's backup copies only what is new; the rest is linked to the previous copy.
        put(media, '99/9900000000000000000000000000000b/original');
        const next = await svc.backup();
        expect(statSync(join(`${next.file}.files/media`, doc)).ino).toBe(statSync(join(`${info.file}.files/media`, doc)).ino);
        expect(tree(`${next.file}.files/media`)).toEqual(tree(media));
        expect((await svc.verify(next.file)).ok).toBe(true);

        rmSync(media, { recursive: true });
        put(media, '77/7700000000000000000000000000000b/original');
        const result = await svc.restore(info.file);
        expect(tree(media)).toEqual(before);
        expect(result.directories[0]).toMatchObject({ asideFiles: 1 });
      } finally {
        rmSync(backups, { recursive: true, force: true });
      }
    });
  });
}

describe('registering directories', () => {
  const handle = { engine: 'sqlite' } as DatabaseHandle;
  it('refuses bad keys, a second path for a key, and directories overlapping the backups or each other', () => {
    const svc = new BackupService({ handle, dir: '/srv/m/backups', generations: 1, log: silentLogger() });
    svc.addDirectory({ key: 'media', path: '/srv/m/media' });
    svc.addDirectory({ key: 'media', path: '/srv/m/media/' }); // the same again is fine
    const code = (fn: () => void) => {
      try {
        fn();
        return null;
      } catch (e) {
        return (e as BackupError).code;
      }
    };
    expect(code(() => svc.addDirectory({ key: '../x', path: '/srv/m/x' }))).toBe('invalid_option');
    expect(code(() => svc.addDirectory({ key: 'media', path: '/srv/m/other' }))).toBe('invalid_option');
    expect(code(() => svc.addDirectory({ key: 'all', path: '/srv/m' }))).toBe('invalid_option');
    expect(code(() => svc.addDirectory({ key: 'inside', path: '/srv/m/backups/x' }))).toBe('invalid_option');
    expect(code(() => svc.addDirectory({ key: 'thumbs', path: '/srv/m/media/thumbs' }))).toBe('invalid_option');
    svc.addDirectory({ key: 'exports', path: '/srv/m/media-exports' });
    expect(svc.directories()).toEqual([
      { key: 'media', path: '/srv/m/media' },
      { key: 'exports', path: '/srv/m/media-exports' },
    ]);
  });
});
