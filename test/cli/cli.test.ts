/**
 * The `machimado` command as an operator runs it: a real child process per invocation, settings
 * in the environment, exit codes and messages checked, the database inspected directly.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db, type Engine } from '../../src/core/db/index.js';
import { verifyPassword } from '../../src/core/auth/passwords.js';
import { ENGINES, createEmptyDatabase, engineAvailable } from '../helpers/db.js';
import { HttpClient } from '../helpers/http-client.js';
import { freePort, runCli, spawnCli, type CliResult } from './run-cli.js';

const COMMANDS = ['start', 'migrate', 'user:create', 'backup', 'backups', 'restore', 'audit:verify'];

/** Opens the database for one look and closes it again (the CLI must find it unlocked). */
async function withDb<T>(url: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const handle = openDatabase(url, { poolSize: 1 });
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

function explain(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

describe('machimado CLI: help and settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'machimado-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = { DATABASE_URL: `sqlite:${join(dir, 'unused.db')}`, DATA_DIR: dir };

  it('--help lists every command and exits 0', async () => {
    const r = await runCli(['--help'], env);
    expect(r.code, explain(r)).toBe(0);
    for (const name of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${name.replace(':', '\\:')}\\s`, 'm'));
    expect(r.stdout).toContain('usage: machimado');
    // Help alone must not create a database.
    expect(existsSync(join(dir, 'unused.db'))).toBe(false);
  });

  it('an unknown command exits 2 and shows the help', async () => {
    const r = await runCli(['frobnicate'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command: frobnicate');
    expect(r.stderr).toContain('audit:verify');
  });

  it('refuses bad settings with EX_CONFIG, naming each setting and what it expects', async () => {
    const cases: Array<[Record<string, string>, RegExp[]]> = [
      [{ PORT: 'abc' }, [/PORT: /, /"abc"/]],
      [{ DATABASE_URL: 'mysql://x' }, [/DATABASE_URL: /, /sqlite:PATH または postgres:\/\//]],
      [{ LOGIN_MAX_FAILURES: '2' }, [/LOGIN_MAX_FAILURES: .*3/]],
      [{ SMTP_URL: 'http://mailer:pw-secret@x' }, [/SMTP_URL: /, /smtp:\/\/ユーザ:パスワード@ホスト:ポート/]],
    ];
    const results = await Promise.all(cases.map(([bad]) => runCli(['migrate'], { ...env, ...bad })));
    results.forEach((r, i) => {
      expect(r.code, explain(r)).toBe(78);
      expect(r.stderr).toContain('設定に誤りがあります / invalid configuration');
      for (const re of cases[i]![1]) expect(r.stderr).toMatch(re);
      expect(r.stdout).toBe('');
    });
    // The password in a mistyped URL is not echoed to the terminal.
    expect(results[3]!.stderr).not.toContain('pw-secret');
    expect(existsSync(join(dir, 'unused.db'))).toBe(false);
  });

  it('reads MACHIMADO_CONFIG, validates it, and reports a broken file', async () => {
    const good = join(dir, 'good.json');
    const dbFile = join(dir, 'from-file.db');
    writeFileSync(good, JSON.stringify({ DATABASE_URL: `sqlite:${dbFile}`, DATA_DIR: dir }));
    const bad = join(dir, 'bad-value.json');
    writeFileSync(bad, JSON.stringify({ LOGIN_MAX_FAILURES: 2 }));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "PORT": 3000, ');
    const [ok, badValue, brokenFile, missing] = await Promise.all([
      runCli(['migrate'], { MACHIMADO_CONFIG: good }),
      runCli(['migrate'], { ...env, MACHIMADO_CONFIG: bad }),
      runCli(['migrate'], { ...env, MACHIMADO_CONFIG: broken }),
      runCli(['migrate'], { ...env, MACHIMADO_CONFIG: join(dir, 'absent.json') }),
    ]);
    expect(ok.code, explain(ok)).toBe(0);
    expect(existsSync(dbFile)).toBe(true); // the DATABASE_URL came from the file
    expect(badValue.code).toBe(78);
    expect(badValue.stderr).toMatch(/LOGIN_MAX_FAILURES: /);
    expect(brokenFile.code).toBe(78);
    expect(brokenFile.stderr).toContain(`MACHIMADO_CONFIG: ${broken} is not valid JSON`);
    expect(missing.code).toBe(78);
    expect(missing.stderr).toContain('MACHIMADO_CONFIG: file not found');
  });
});

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

    it('restore without a file, or of a file that does not exist, fails clearly', async () => {
      const [none, missing] = await Promise.all([runCli(['restore'], env), runCli(['restore', join(dataDir, 'bk', 'machimado-20990101-000000.sqlite.gz')], env)]);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('usage: machimado restore FILE');
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

describe('machimado start [sqlite]', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'machimado-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  /** Starts the server, waits until it serves, runs `body`, then stops it with SIGTERM. */
  async function withServer(body: (baseUrl: string, stdout: () => string) => Promise<void>): Promise<CliResult> {
    const port = await freePort();
    const child = spawnCli(['start'], {
      DATABASE_URL: `sqlite:${join(dataDir, 'machimado.db')}`,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      DEMO_CONTENT: 'false',
      JOBS_POLL_MS: '200',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
    try {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes(`http://localhost:${port}/`)) {
        if (child.exitCode !== null) throw new Error(`start exited early\n${stdout}\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`start did not report serving\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await body(`http://127.0.0.1:${port}`, () => stdout);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    return exited;
  }

  it('creates the first administrator once, serves, and stops cleanly on SIGTERM', async () => {
    let password = '';
    const first = await withServer(async (baseUrl, stdout) => {
      const banner = stdout();
      expect(banner.split('初期パスワード（一度だけ表示）').length - 1).toBe(1);
      expect(banner).toContain('ログインID: admin');
      password = /初期パスワード（一度だけ表示）: (\S+)/.exec(banner)![1]!;
      const health = await fetch(`${baseUrl}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      // The printed password really opens the admin (first step of sign-in succeeds).
      const client = new HttpClient(baseUrl);
      const login = await client.login('admin', password);
      expect(login.status).toBe(303);
    });
    expect(first.signal).toBeNull();
    expect(first.code, explain(first)).toBe(0);

    const second = await withServer(async (baseUrl, stdout) => {
      expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
      expect(stdout()).not.toContain('初期パスワード');
      expect(stdout()).not.toContain(password);
    });
    expect(second.code, explain(second)).toBe(0);
    expect(second.stdout).not.toContain('初期パスワード');
  });
});
