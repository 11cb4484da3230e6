/**
 * The `machimado` database commands as an operator runs them, on both engines: a real child
 * process per invocation, exit codes and messages checked, the database inspected directly.
 * The steps build on each other (schema → user → backup → restore → audit check).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/core/auth/passwords.js';
import type { Db } from '../../src/core/db/index.js';
import { ENGINES, createEmptyDatabase, engineAvailable } from '../helpers/db.js';
import { explain, runCli, withDb } from './run-cli.js';

for (const engine of ENGINES) {
  const run = engineAvailable(engine) ? describe : describe.skip;
  run(`machimado CLI: database commands [${engine}]`, () => {
    let dataDir: string;
    let url: string;
    let drop: () => Promise<void>;
    let env: Record<string, string>;
    let backupFile = '';

    beforeAll(async () => {
      const empty = await createEmptyDatabase(engine);
      url = empty.url;
      drop = empty.drop;
      dataDir = mkdtempSync(join(tmpdir(), 'machimado-cli-data-'));
      env = { DATABASE_URL: url, DATA_DIR: dataDir, BACKUP_DIR: join(dataDir, 'bk'), DATABASE_POOL_SIZE: '2' };
    });
    afterAll(async () => {
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const tables = (db: Db) =>
      engine === 'sqlite'
        ? sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db).then((r) => r.rows.map((x) => x.name))
        : sql<{ name: string }>`select tablename as name from pg_tables where schemaname = 'public'`.execute(db).then((r) => r.rows.map((x) => x.name));

    it('migrate creates the schema on an empty database, and a second run changes nothing', async () => {
      expect(await withDb(url, tables)).not.toContain('users');
      const first = await runCli(['migrate'], env);
      expect(first.code, explain(first)).toBe(0);
      expect(first.stdout).toContain('database is up to date');
      const applied = await withDb(url, async (db) => {
        const names = await tables(db);
        expect(names).toEqual(expect.arrayContaining(['users', 'audit_log', 'jobs', 'organizations', 'kysely_migration']));
        return (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map((r) => r.name);
      });
      expect(applied.length).toBeGreaterThan(0);
      const second = await runCli(['migrate'], env);
      expect(second.code, explain(second)).toBe(0);
      const again = await withDb(url, async (db) => (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map((r) => r.name));
      expect(again).toEqual(applied);
    });

    it('user:create prints a working one-time password and stores the role', async () => {
      const r = await runCli(['user:create', '--login', 'ops1', '--name', '運用', '--role', 'operator'], env);
      expect(r.code, explain(r)).toBe(0);
      const m = /one-time password: (\S+)/.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      const user = await withDb(url, async (db) => {
        const u = await db.selectFrom('users').selectAll().where('login_id', '=', 'ops1').executeTakeFirstOrThrow();
        const roles = await db.selectFrom('user_roles').select('role').where('user_id', '=', u.id).execute();
        return { ...u, roles: roles.map((x) => x.role) };
      });
      expect(user.display_name).toBe('運用');
      expect(user.roles).toEqual(['operator']);
      expect(user.must_change_password).toBe(1);
      expect(await verifyPassword(m![1]!, user.password_hash)).toBe(true);
      // The password is shown once on the terminal, never stored in the clear.
      expect(user.password_hash).not.toContain(m![1]!);
    });

    it('user:create with invalid input exits 2 with the Japanese field message and creates nothing', async () => {
      const r = await runCli(['user:create', '--login', 'a', '--name', '短い'], env);
      expect(r.code, explain(r)).toBe(2);
      expect(r.stderr).toContain('loginId: ログインIDは3文字以上で入力してください。');
      expect(r.stdout).not.toContain('one-time password');
      const dup = await runCli(['user:create', '--login', 'ops1', '--name', '二人目', '--role', 'operator'], env);
      expect(dup.code, explain(dup)).toBe(2);
      expect(dup.stderr).toContain('このログインIDは既に使われています');
      const logins = await withDb(url, async (db) => (await db.selectFrom('users').select('login_id').execute()).map((u) => u.login_id));
      expect(logins).toEqual(['ops1']);
    });

    it('backup prints the file and its sha256 with progress on stderr; backups lists it', async () => {
      const r = await runCli(['backup', '--reason', 'before upgrade'], env);
      expect(r.code, explain(r)).toBe(0);
      const [file, sumLine] = r.stdout.trim().split('\n');
      backupFile = file!;
      expect(backupFile.startsWith(join(dataDir, 'bk'))).toBe(true);
      expect(basename(backupFile)).toMatch(engine === 'sqlite' ? /^machimado-\d{8}-\d{6}-before_upgrade\.sqlite\.gz$/ : /^machimado-\d{8}-\d{6}-before_upgrade\.pgdump$/);
      expect(existsSync(backupFile)).toBe(true);
      const sha = /^sha256 ([0-9a-f]{64})\s+(\d+) bytes$/.exec(sumLine!);
      expect(sha, sumLine).not.toBeNull();
      expect(readFileSync(`${backupFile}.sha256`, 'utf8')).toBe(`${sha![1]}  ${basename(backupFile)}\n`);
      // Not a terminal: one progress line per ten percent, ending at 100.
      expect(r.stderr).toMatch(/^backup: 0%$/m);
      expect(r.stderr).toMatch(/^backup: 100%$/m);

      const list = await runCli(['backups'], env);
      expect(list.code, explain(list)).toBe(0);
      const lines = list.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(backupFile);
      expect(lines[0]).toContain(sha![1]!.slice(0, 16));
      // The backup itself is in the audit trail.
      const actions = await withDb(url, async (db) => (await db.selectFrom('audit_log').select('action').orderBy('id').execute()).map((a) => a.action));
      expect(actions).toContain('backup.run');
    });

    it('restore brings the data back as it was at the backup', async () => {
      await withDb(url, async (db) => {
        await db.updateTable('users').set({ display_name: '変更後' }).where('login_id', '=', 'ops1').execute();
        const u = await db.selectFrom('users').select('id').where('login_id', '=', 'ops1').executeTakeFirstOrThrow();
        await db.deleteFrom('user_roles').where('user_id', '=', u.id).execute();
      });
      const r = await runCli(['restore', backupFile], env);
      expect(r.code, explain(r)).toBe(0);
      expect(r.stdout).toContain('restored');
      expect(r.stderr).toMatch(/^restore: 100%$/m);
      const after = await withDb(url, async (db) => {
        const u = await db.selectFrom('users').selectAll().where('login_id', '=', 'ops1').executeTakeFirstOrThrow();
        const roles = await db.selectFrom('user_roles').select('role').where('user_id', '=', u.id).execute();
        return { name: u.display_name, roles: roles.map((x) => x.role), users: (await db.selectFrom('users').select('id').execute()).length };
      });
      expect(after).toEqual({ name: '運用', roles: ['operator'], users: 1 });
    });

    it('restore refuses a corrupted backup and leaves the database untouched', async () => {
      await withDb(url, (db) => db.updateTable('users').set({ display_name: '再変更' }).where('login_id', '=', 'ops1').execute());
      const bytes = readFileSync(backupFile);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = bytes[at]! ^ 0xff;
      writeFileSync(backupFile, bytes);
      const r = await runCli(['restore', backupFile], env);
      expect(r.code, explain(r)).toBe(1);
      expect(r.stderr).toContain('checksum mismatch, nothing restored');
      expect(r.stdout).not.toContain('restored');
      const name = await withDb(url, async (db) => (await db.selectFrom('users').select('display_name').where('login_id', '=', 'ops1').executeTakeFirstOrThrow()).display_name);
      expect(name).toBe('再変更');
    });

    it('restore of a file that does not exist fails clearly', async () => {
      const missing = await runCli(['restore', join(dataDir, 'bk', 'machimado-20990101-000000.sqlite.gz')], env);
      expect(missing.code, explain(missing)).toBe(1);
      expect(missing.stderr).toContain('backup file not found');
    });

    it('audit:verify passes on an intact chain and names the altered entry after tampering', async () => {
      const clean = await runCli(['audit:verify'], env);
      expect(clean.code, explain(clean)).toBe(0);
      const n = Number(/OK: (\d+) entries verified/.exec(clean.stdout)?.[1]);
      expect(n).toBeGreaterThanOrEqual(1);

      const id = await withDb(url, async (db) => {
        const row = await db.selectFrom('audit_log').select('id').where('action', '=', 'user.create').executeTakeFirstOrThrow();
        if (engine === 'sqlite') await sql`DROP TRIGGER audit_log_no_update`.execute(db);
        else await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`.execute(db);
        await db.updateTable('audit_log').set({ summary: 'x' }).where('id', '=', row.id).execute();
        return row.id;
      });
      const bad = await runCli(['audit:verify'], env);
      expect(bad.code, explain(bad)).toBe(1);
      expect(bad.stderr).toContain('TAMPERING DETECTED');
      expect(bad.stderr).toContain(`#${id} [altered]`);
      expect(bad.stdout).not.toContain('OK:');
    });
  });
}
