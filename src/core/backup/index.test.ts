import { sql } from 'kysely';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENGINES, createTestDatabase, engineAvailable, type TestDatabase } from '../../../test/helpers/db.js';
import { nowIso, openDatabase, type DatabaseHandle, type Engine } from '../db/index.js';
import { silentLogger } from '../log.js';
import { BackupError, BackupService, backupJob } from './index.js';

const at = nowIso(new Date('2026-04-01T00:00:00.000Z'));

async function seed(handle: DatabaseHandle) {
  const { db } = handle;
  await db
    .insertInto('organizations')
    .values([
      { code: 'pref', name: '架空県', name_en: 'Kaku Prefecture', kind: 'prefecture', parent_id: null, created_at: at, updated_at: at },
      { code: 'city', name: 'まちまど市', name_en: null, kind: 'municipality', parent_id: null, created_at: at, updated_at: at },
    ])
    .execute();
  const city = await db.selectFrom('organizations').select('id').where('code', '=', 'city').executeTakeFirstOrThrow();
  await db
    .insertInto('users')
    .values({
      login_id: 'tanaka',
      display_name: '田中 花子',
      email: 'tanaka@example.lg.jp',
      password_hash: 'x',
      organization_id: city.id,
      status: 'active',
      failed_logins: 0,
      locked_at: null,
      totp_secret: null,
      totp_enabled: 0,
      must_change_password: 0,
      locale: 'ja',
      last_login_at: null,
      password_changed_at: null,
      created_at: at,
      updated_at: at,
    })
    .execute();
}

async function snapshot(handle: DatabaseHandle) {
  const orgs = await handle.db.selectFrom('organizations').select(['code', 'name', 'name_en']).orderBy('code').execute();
  const users = await handle.db.selectFrom('users').select(['login_id', 'display_name', 'created_at']).orderBy('login_id').execute();
  return { orgs, users };
}

const original = {
  orgs: [
    { code: 'city', name: 'まちまど市', name_en: null },
    { code: 'pref', name: '架空県', name_en: 'Kaku Prefecture' },
  ],
  users: [{ login_id: 'tanaka', display_name: '田中 花子', created_at: at }],
};

function other(engine: Engine): Engine {
  return engine === 'sqlite' ? 'postgres' : 'sqlite';
}

for (const engine of ENGINES) {
  describe.skipIf(!engineAvailable(engine))(`backup and restore [${engine}]`, () => {
    let t: TestDatabase;
    let dir: string;
    let reopened: DatabaseHandle[] = [];
    const service = (handle: DatabaseHandle = t.handle, generations = 3) =>
      new BackupService({ handle, dir, generations, log: silentLogger() });

    beforeEach(async () => {
      t = await createTestDatabase(engine);
      dir = mkdtempSync(join(tmpdir(), 'machimado-backup-test-'));
      reopened = [];
      await seed(t.handle);
    });
    afterEach(async () => {
      for (const h of reopened) await h.close();
      await t.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('round trip: restoring brings back the data as it was and drops later changes', async () => {
      const svc = service();
      const progress: number[] = [];
      const info = await svc.backup({ reason: 'manual', onProgress: (p) => progress.push(p) });
      expect(info.engine).toBe(engine);
      expect(basename(info.file)).toMatch(engine === 'sqlite' ? /^machimado-\d{8}-\d{6}-manual\.sqlite\.gz$/ : /^machimado-\d{8}-\d{6}-manual\.pgdump$/);
      expect(info.bytes).toBe(statSync(info.file).size);
      expect(progress[0]).toBe(0);
      expect(progress.at(-1)).toBe(100);
      expect([...progress].sort((a, b) => a - b)).toEqual(progress);

      // Later changes that the restore must undo.
      await t.handle.db.updateTable('organizations').set({ name: '改名市' }).where('code', '=', 'city').execute();
      await t.handle.db.deleteFrom('users').where('login_id', '=', 'tanaka').execute();
      await t.handle.db
        .insertInto('organizations')
        .values({ code: 'later', name: '後から', name_en: null, kind: 'department', parent_id: null, created_at: at, updated_at: at })
        .execute();
      expect((await snapshot(t.handle)).users).toEqual([]);

      const restoreProgress: number[] = [];
      await svc.restore(info.file, { onProgress: (p) => restoreProgress.push(p) });
      expect(restoreProgress.at(-1)).toBe(100);

      const again = openDatabase(t.url);
      reopened.push(again);
      expect(await snapshot(again)).toEqual(original);
      // The schema's migrations history came back too, so the next start does not re-run them.
      const manifest = JSON.parse(readFileSync(`${info.file}.json`, 'utf8')) as { migrations: string[]; engine: string; sha256: string };
      expect(manifest.engine).toBe(engine);
      expect(manifest.sha256).toBe(info.sha256);
      expect(manifest.migrations.length).toBeGreaterThan(0);
      const names = await again.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
      expect(names.length).toBe(manifest.migrations.length);
      if (engine === 'sqlite') {
        expect(again.sqlite!.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(readdirSync(join(t.url.slice('sqlite:'.length), '..')).filter((n) => n.includes('.restore-'))).toEqual([]);
      }
    });

    it('restores a backup taken before a later migration: tables created afterwards are gone too', async () => {
      const svc = service();
      const info = await svc.backup({ reason: 'before_upgrade' });
      await sql`create table later_feature (id integer primary key, note text)`.execute(t.handle.db);
      await sql`insert into kysely_migration (name, timestamp) values ('29991231_00_later_feature', '2999-12-31T00:00:00.000Z')`.execute(t.handle.db);
      await svc.restore(info.file);
      const again = openDatabase(t.url);
      reopened.push(again);
      await expect(sql`select count(*) from later_feature`.execute(again.db)).rejects.toThrow();
      const names = await again.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
      expect(names.map((n) => (n as { name: string }).name)).not.toContain('29991231_00_later_feature');
      expect(await snapshot(again)).toEqual(original);
    });

    it('refuses a corrupted backup (one flipped byte) and leaves the database untouched', async () => {
      const svc = service();
      const info = await svc.backup();
      const bytes = readFileSync(info.file);
      const i = Math.floor(bytes.length / 2);
      bytes[i] = bytes[i]! ^ 0xff;
      writeFileSync(info.file, bytes);
      await t.handle.db.updateTable('organizations').set({ name: '変更後' }).where('code', '=', 'pref').execute();

      expect((await svc.verify(info.file)).ok).toBe(false);
      const err = await svc.restore(info.file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackupError);
      expect((err as BackupError).code).toBe('checksum_mismatch');
      expect((err as Error).message).toMatch(/チェックサム/);
      expect((err as Error).message).toMatch(/checksum mismatch/);
      // Same handle still works (nothing was closed) and still has the later change.
      const pref = await t.handle.db.selectFrom('organizations').select('name').where('code', '=', 'pref').executeTakeFirstOrThrow();
      expect(pref.name).toBe('変更後');
    });

    it('refuses a truncated backup even when its checksum file was rewritten to match', async () => {
      const svc = service();
      const info = await svc.backup();
      const half = readFileSync(info.file).subarray(0, Math.floor(info.bytes / 2));
      writeFileSync(info.file, half);
      writeFileSync(`${info.file}.sha256`, `${createHash('sha256').update(half).digest('hex')}  ${basename(info.file)}\n`);
      expect((await svc.verify(info.file)).ok).toBe(true);
      await t.handle.db.updateTable('organizations').set({ name: '変更後' }).where('code', '=', 'pref').execute();

      await expect(svc.restore(info.file)).rejects.toBeInstanceOf(BackupError);
      const check = openDatabase(t.url);
      reopened.push(check);
      const pref = await check.db.selectFrom('organizations').select('name').where('code', '=', 'pref').executeTakeFirstOrThrow();
      expect(pref.name).toBe('変更後');
      expect(await check.db.selectFrom('users').select('login_id').execute()).toEqual([{ login_id: 'tanaka' }]);
    });

    it('refuses a backup without its checksum file, and one taken from the other engine', async () => {
      const svc = service();
      const info = await svc.backup();
      rmSync(`${info.file}.sha256`);
      await expect(svc.restore(info.file)).rejects.toMatchObject({ code: 'checksum_missing' });

      const foreign = join(dir, `machimado-20260101-030000${other(engine) === 'sqlite' ? '.sqlite.gz' : '.pgdump'}`);
      writeFileSync(foreign, 'not really a backup');
      writeFileSync(`${foreign}.sha256`, `${createHash('sha256').update('not really a backup').digest('hex')}  ${basename(foreign)}\n`);
      const err = await svc.restore(foreign).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'engine_mismatch' });
      expect((err as Error).message).toContain(other(engine));
    });

    it('keeps the newest N generations, never overwrites, and lists newest first', async () => {
      const svc = service(t.handle, 3);
      const made: string[] = [];
      // All five in the same second (JST 2026-04-01 12:00:00), so names must get collision counters.
      vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-04-01T03:00:00.000Z') });
      try {
        for (let i = 0; i < 5; i++) made.push((await svc.backup({ reason: i % 2 ? 'daily' : undefined })).file);
      } finally {
        vi.useRealTimers();
      }
      const ext = engine === 'sqlite' ? '.sqlite.gz' : '.pgdump';
      expect(made.map((f) => basename(f))).toEqual([
        `machimado-20260401-120000${ext}`,
        `machimado-20260401-120000-01-daily${ext}`,
        `machimado-20260401-120000-02${ext}`,
        `machimado-20260401-120000-03-daily${ext}`,
        `machimado-20260401-120000-04${ext}`,
      ]);
      const listed = await svc.list();
      expect(listed.map((b) => b.file)).toEqual([...made].reverse());
      expect(listed.map((b) => b.reason)).toEqual([null, 'daily', null, 'daily', null]);

      const deleted = await svc.prune();
      expect(deleted.sort()).toEqual(made.slice(0, 2).sort());
      expect((await svc.list()).map((b) => b.file)).toEqual(made.slice(2).reverse());
      const leftovers = readdirSync(dir).sort();
      expect(leftovers).toEqual(made.slice(2).flatMap((f) => [basename(f), `${basename(f)}.json`, `${basename(f)}.sha256`]).sort());
      expect(await svc.prune()).toEqual([]);
    });

    it('writes a sha256sum-compatible checksum file', async () => {
      const info = await service().backup({ reason: 'Before Upgrade!' });
      expect(basename(info.file)).toContain('-before_upgrade.');
      const text = readFileSync(`${info.file}.sha256`, 'utf8');
      const actual = createHash('sha256').update(readFileSync(info.file)).digest('hex');
      expect(text).toBe(`${actual}  ${basename(info.file)}\n`);
      expect(info.sha256).toBe(actual);
      expect(await service().verify(basename(info.file))).toEqual({ ok: true, expected: actual, actual });
    });

    it('the daily job backs up and prunes', async () => {
      const svc = service(t.handle, 1);
      const first = await svc.backup();
      const job = backupJob(svc, '0 3 * * *');
      expect(job).toMatchObject({ name: 'backup.daily', label: '日次バックアップ', schedule: '0 3 * * *', maxAttempts: 3 });
      const result = (await job.handler()) as { file: string; bytes: number; sha256: string; pruned: string[] };
      expect(result.file).toMatch(/-daily\./);
      expect(result.pruned).toEqual([basename(first.file)]);
      expect((await svc.list()).map((b) => basename(b.file))).toEqual([result.file]);
    });
  });
}

describe('backup service options', () => {
  it('rejects zero generations', () => {
    expect(() => new BackupService({ handle: {} as DatabaseHandle, dir: tmpdir(), generations: 0, log: silentLogger() })).toThrow(BackupError);
  });
});
