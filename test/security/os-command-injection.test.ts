/**
 * IPA 2. OSコマンド・インジェクション — the only programs the platform runs are pg_dump and
 * pg_restore (backup on PostgreSQL), started with spawn() and an argument array, never a shell.
 * Backup reasons are reduced to [a-z0-9_] before they become part of a file name.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { BackupError } from '../../src/core/backup/index.js';
import { signedIn, tableCounts } from './helpers.js';

const markers: string[] = [];
function marker(): string {
  const m = `/tmp/pwned-${randomBytes(6).toString('hex')}`;
  markers.push(m);
  return m;
}
afterAll(() => {
  for (const m of markers) expect(existsSync(m), `${m} must never be created`).toBe(false);
});

const SAFE_NAME = /^machimado-\d{8}-\d{6}(?:-\d{2,})?(?:-[a-z][a-z0-9_]*)?\.(?:sqlite\.gz|pgdump)$/;

describePlatform('security: OS command injection', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000' } }, (tp, engine) => {
  it('a hostile backup reason runs nothing and is sanitised in the file name', async () => {
    const p = tp().platform;
    const reasons = [
      () => `x; touch ${marker()}`,
      () => `$(touch ${marker()})`,
      () => `\`touch ${marker()}\``,
      () => `a | touch ${marker()}`,
      () => `a && touch ${marker()} #`,
      () => `a\ntouch ${marker()}`,
      () => `../../../tmp/${basename(marker())}`,
      () => `'; touch ${marker()}; '`,
    ];
    for (const make of reasons) {
      const reason = make();
      const info = await p.backup.backup({ reason });
      const name = basename(info.file);
      expect(name, reason).toMatch(SAFE_NAME);
      expect(name).not.toMatch(/[;$`|&'"\s/\\()]/);
      expect(info.file.startsWith(`${resolve(p.config.BACKUP_DIR)}/`), info.file).toBe(true);
      expect(statSync(info.file).size).toBeGreaterThan(0);
    }
    for (const m of markers) expect(existsSync(m), m).toBe(false);
    // Nothing but backups and their .sha256 / .json companions landed in the folder.
    for (const f of readdirSync(p.config.BACKUP_DIR)) expect(f).toMatch(/^machimado-[0-9a-z_.-]+$/);
  });

  it('a restore "file" made of shell syntax is refused before any program runs', async () => {
    const p = tp().platform;
    const before = await tableCounts(p);
    for (const file of ['; rm -rf /', `$(touch ${marker()})`, `x.pgdump; touch ${marker()}`, `\`touch ${marker()}\`.sqlite.gz`, `| touch ${marker()}`, '-Fc --help', '--dbname=postgres://evil.example/x']) {
      const err = await p.backup.restore(file).catch((e: unknown) => e);
      expect(err, file).toBeInstanceOf(BackupError);
      expect((err as BackupError).code, file).toBe('invalid_name');
    }
    for (const m of markers) expect(existsSync(m), m).toBe(false);
    // The database is still open and untouched.
    expect(await tableCounts(p)).toEqual(before);
  });

  it('the manual backup button takes no user input into the file name', async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    await client.get('/admin/backups');
    const m = marker();
    const res = await client.post('/admin/backups/run', { reason: `x; touch ${m}`, name: `$(touch ${m})` });
    expect(res.status).toBe(303);
    await p.jobs.drain();
    const latest = (await p.backup.list())[0]!;
    expect(basename(latest.file)).toMatch(SAFE_NAME);
    expect(latest.reason).toBe('daily');
    expect(existsSync(m)).toBe(false);
  });

  if (engine === 'postgres') {
    it('pg_dump received the connection password through the environment, not the command line', async () => {
      // The URL handed to pg_dump is built without the password (pgConnection); a backup that works proves the path.
      const info = await tp().platform.backup.backup({ reason: 'pwcheck' });
      expect(readFileSync(info.file).subarray(0, 5).toString('latin1')).toBe('PGDMP');
    });
  }
});

it('source: child processes are started without a shell (no exec/execSync, no shell: true)', () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(ts|tsx)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)) files.push(full);
    }
  };
  walk(join(import.meta.dirname, '../../src'));
  expect(files.length).toBeGreaterThan(20);
  const users: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (!/from ['"](node:)?child_process['"]/.test(text)) continue;
    users.push(f);
    const imported = /import\s*\{([^}]*)\}\s*from ['"](?:node:)?child_process['"]/.exec(text)?.[1] ?? '';
    expect(imported, f).not.toMatch(/\bexec(Sync)?\b/);
    expect(text, f).not.toMatch(/shell\s*:\s*true/);
    expect(text, f).not.toMatch(/\bexecSync\s*\(/);
    // Every spawn takes a command and an argument array.
    for (const call of text.matchAll(/\bspawn\(([^,]+),\s*([^,]+),/g)) expect(call[2]!.trim(), `${f}: ${call[0]}`).toMatch(/^(\[|args\b)/);
  }
  expect(users.some((f) => f.endsWith('backup/index.ts'))).toBe(true);
});
