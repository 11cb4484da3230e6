import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import type { DatabaseHandle, Engine } from '../db/index.js';
import type { Logger } from '../log.js';

export interface BackupInfo {
  /** Absolute path of the backup file. */
  file: string;
  createdAt: string;
  engine: Engine;
  bytes: number;
  /** Hex SHA-256 of the file as recorded next to it ('' when the .sha256 file is missing). */
  sha256: string;
  /** Why it was taken ('daily', 'manual', …), from the file name. */
  reason: string | null;
}

export interface BackupServiceOptions {
  handle: DatabaseHandle;
  dir: string;
  /** How many backups prune() keeps. */
  generations: number;
  log: Logger;
  /** Directory holding pg_dump / pg_restore (PostgreSQL only). */
  pgBinDir?: string;
}

export type BackupErrorCode =
  | 'not_found'
  | 'checksum_missing'
  | 'checksum_mismatch'
  | 'engine_mismatch'
  | 'corrupt'
  | 'no_file_database'
  | 'tool_failed'
  | 'invalid_name'
  | 'invalid_option';

/** A backup or restore that could not be done; the message is Japanese / English for operators. */
export class BackupError extends Error {
  constructor(
    message: string,
    public readonly code: BackupErrorCode,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

interface Manifest {
  format: 1;
  file: string;
  engine: Engine;
  createdAt: string;
  bytes: number;
  sha256: string;
  reason: string | null;
  migrations: string[];
}

const EXT: Record<Engine, string> = { sqlite: '.sqlite.gz', postgres: '.pgdump' };
// machimado-YYYYMMDD-HHMMSS[-NN][-reason].ext — the stamp is JST wall-clock time, NN a collision counter.
const NAME_RE = /^machimado-(\d{8})-(\d{6})(?:-(\d{2,}))?(?:-([a-z][a-z0-9_]*))?\.(sqlite\.gz|pgdump)$/;
const JST_OFFSET_MS = 9 * 60 * 60 * 1000;

interface ParsedName {
  stamp: string;
  counter: number;
  reason: string | null;
  engine: Engine;
}

function parseName(name: string): ParsedName | null {
  const m = NAME_RE.exec(name);
  if (!m) return null;
  return {
    stamp: `${m[1]}-${m[2]}`,
    counter: m[3] ? Number(m[3]) : 0,
    reason: m[4] ?? null,
    engine: m[5] === 'pgdump' ? 'postgres' : 'sqlite',
  };
}

function jstStamp(d: Date): string {
  const iso = new Date(d.getTime() + JST_OFFSET_MS).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

function sanitizeReason(reason: string | undefined): string | null {
  if (!reason) return null;
  const s = reason
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^[^a-z]+/, '')
    .replace(/_+$/, '')
    .slice(0, 40);
  return s || null;
}

/** Hex SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Finds a PostgreSQL client tool: `pgBinDir`, else the highest /usr/lib/postgresql/N/bin, else PATH.
 * @example findPgTool('pg_dump') // '/usr/lib/postgresql/16/bin/pg_dump'
 */
export function findPgTool(tool: 'pg_dump' | 'pg_restore' | 'psql', pgBinDir?: string): string {
  if (pgBinDir) return join(pgBinDir, tool);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const p = join(root, v, 'bin', tool);
      if (existsSync(p)) return p;
    }
  }
  return tool;
}

/** Keeps the password out of the process list: it goes to the child through PGPASSWORD. */
function pgConnection(url: string): { url: string; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  try {
    const u = new URL(url);
    if (u.password) {
      env.PGPASSWORD = decodeURIComponent(u.password);
      u.password = '';
      return { url: u.toString(), env };
    }
  } catch {
    // Not a WHATWG-parsable URL; hand it to libpq unchanged.
  }
  return { url, env };
}

function runTool(cmd: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const important: string[] = [];
    const recent: string[] = [];
    let buf = '';
    const take = (line: string) => {
      onLine?.(line);
      if (/error|fatal|could not|warning/i.test(line)) important.push(line);
      recent.push(line);
      if (recent.length > 10) recent.shift();
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        take(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    child.on('error', (e) =>
      reject(new BackupError(`${basename(cmd)} を実行できません / cannot run ${cmd}: ${e.message}`, 'tool_failed')),
    );
    child.on('close', (code) => {
      if (buf) take(buf);
      const detail = (important.length ? important.slice(0, 20) : recent).join('\n');
      if (code === 0) resolvePromise();
      else reject(new BackupError(`${basename(cmd)} が失敗しました / ${basename(cmd)} failed (exit ${code}):\n${detail}`, 'tool_failed'));
    });
  });
}

function progressReporter(onProgress?: (pct: number) => void): (pct: number) => void {
  let last = -1;
  return (pct: number) => {
    const p = Math.max(0, Math.min(100, Math.floor(pct)));
    if (p > last) {
      last = p;
      onProgress?.(p);
    }
  };
}

/** Counts bytes passing through, for progress on streamed copies. */
function counter(total: number, report: (fraction: number) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (total > 0) report(seen / total);
      cb(null, chunk);
    },
  });
}

/**
 * Daily, multi-generation backups and one-command restore for SQLite and PostgreSQL.
 * Each backup `X` has `X.sha256` (sha256sum format) and `X.json` (manifest) next to it.
 * @example
 * const svc = new BackupService({ handle, dir: './data/backups', generations: 7, log })
 * const info = await svc.backup({ reason: 'manual' })
 * await svc.restore(info.file) // SQLite: the handle is closed afterwards; reopen the database
 */
export class BackupService {
  readonly dir: string;
  private readonly handle: DatabaseHandle;
  private readonly generations: number;
  private readonly log: Logger;
  private readonly pgBinDir?: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: BackupServiceOptions) {
    if (!Number.isInteger(opts.generations) || opts.generations < 1) {
      throw new BackupError(`保持世代数は 1 以上の整数です / generations must be an integer >= 1 (got ${opts.generations})`, 'invalid_option');
    }
    this.handle = opts.handle;
    this.dir = resolve(opts.dir);
    this.generations = opts.generations;
    this.log = opts.log;
    this.pgBinDir = opts.pgBinDir;
  }

  /** Runs operations one at a time so two backups never pick the same name or race a prune. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Takes a backup of the live database without stopping the application.
   * @example await svc.backup({ reason: 'daily', onProgress: (p) => console.log(p) })
   */
  backup(opts: { reason?: string; onProgress?: (pct: number) => void } = {}): Promise<BackupInfo> {
    return this.serial(() => this.doBackup(opts));
  }

  private async doBackup(opts: { reason?: string; onProgress?: (pct: number) => void }): Promise<BackupInfo> {
    const report = progressReporter(opts.onProgress);
    report(0);
    await mkdir(this.dir, { recursive: true });
    const created = new Date();
    const reason = sanitizeReason(opts.reason);
    const engine = this.handle.engine;
    const { path, manifestPath } = await this.reserveName(created, reason, engine);
    const partial = `${path}.partial`;
    try {
      if (engine === 'sqlite') await this.dumpSqlite(partial, report);
      else await this.dumpPostgres(partial, report);
      const [sha256, st, migrations] = await Promise.all([sha256File(partial), stat(partial), this.appliedMigrations()]);
      const name = basename(path);
      const manifest: Manifest = {
        format: 1,
        file: name,
        engine,
        createdAt: created.toISOString(),
        bytes: st.size,
        sha256,
        reason,
        migrations,
      };
      await writeFile(`${path}.sha256`, `${sha256}  ${name}\n`);
      await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
      // The data file appears under its final name last, so a listed backup is always complete.
      await rename(partial, path);
      report(100);
      this.log.info({ file: path, bytes: st.size, sha256, engine }, 'backup written');
      return { file: path, createdAt: manifest.createdAt, engine, bytes: st.size, sha256, reason };
    } catch (e) {
      await Promise.all([partial, `${path}.sha256`, manifestPath].map((p) => rm(p, { force: true })));
      this.log.error({ err: e, file: path }, 'backup failed');
      throw e;
    }
  }

  /** Picks a name no existing backup uses (counter within the same second) and claims it. */
  private async reserveName(created: Date, reason: string | null, engine: Engine) {
    const stamp = jstStamp(created);
    const names = await readdir(this.dir);
    let counter = 0;
    for (const n of names) {
      const p = parseName(n.replace(/\.(sha256|json|partial)$/, ''));
      if (p && p.stamp === stamp) counter = Math.max(counter, p.counter + 1);
    }
    for (;; counter++) {
      const name = `machimado-${stamp}${counter ? `-${String(counter).padStart(2, '0')}` : ''}${reason ? `-${reason}` : ''}${EXT[engine]}`;
      const path = join(this.dir, name);
      const manifestPath = `${path}.json`;
      if (existsSync(path)) continue;
      try {
        // 'wx' fails if another process claimed the name first.
        const fh = await open(manifestPath, 'wx');
        await fh.close();
        return { path, manifestPath };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  }

  private async dumpSqlite(target: string, report: (pct: number) => void): Promise<void> {
    const sqlite = this.handle.sqlite;
    if (!sqlite || !sqlite.open) throw new BackupError('SQLite の接続が開いていません / the SQLite connection is not open', 'no_file_database');
    const raw = join(this.dir, `.machimado-${randomBytes(6).toString('hex')}.sqlite.tmp`);
    try {
      // The online backup copies pages in steps between the app's own queries instead of locking it out.
      await sqlite.backup(raw, {
        progress({ totalPages, remainingPages }) {
          if (totalPages > 0) report((70 * (totalPages - remainingPages)) / totalPages);
          return 256;
        },
      });
      report(70);
      const { size } = await stat(raw);
      await pipeline(
        createReadStream(raw),
        counter(size, (f) => report(70 + 28 * f)),
        createGzip({ level: 6 }),
        createWriteStream(target, { flags: 'wx' }),
      );
    } finally {
      await rm(raw, { force: true });
    }
  }

  private async dumpPostgres(target: string, report: (pct: number) => void): Promise<void> {
    const { url, env } = pgConnection(this.handle.url);
    const tables = await sql<{ n: number | string }>`select count(*) as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')`
      .execute(this.handle.db)
      .then((r) => Number(r.rows[0]?.n ?? 0))
      .catch(() => 0);
    let done = 0;
    report(2);
    await runTool(findPgTool('pg_dump', this.pgBinDir), ['-Fc', '--no-owner', '--verbose', '-f', target, '--dbname', url], env, (line) => {
      if (line.includes('dumping contents of table') && tables > 0) report(2 + (96 * ++done) / tables);
    });
  }

  private async appliedMigrations(): Promise<string[]> {
    try {
      const r = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(this.handle.db);
      return r.rows.map((row) => row.name);
    } catch {
      return [];
    }
  }

  /**
   * Backups in the directory, newest first.
   * @example const [latest] = await svc.list()
   */
  async list(): Promise<BackupInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: Array<BackupInfo & { key: ParsedName }> = [];
    for (const name of names) {
      const parsed = parseName(name);
      if (!parsed) continue;
      const file = join(this.dir, name);
      const st = await stat(file).catch(() => null);
      if (!st?.isFile()) continue;
      const manifest = await this.readManifest(file);
      const recorded = await this.readChecksum(file);
      out.push({
        file,
        createdAt: manifest?.createdAt ?? st.mtime.toISOString(),
        engine: parsed.engine,
        bytes: st.size,
        sha256: recorded ?? '',
        reason: parsed.reason,
        key: parsed,
      });
    }
    out.sort(
      (a, b) =>
        b.key.stamp.localeCompare(a.key.stamp) ||
        b.key.counter - a.key.counter ||
        b.createdAt.localeCompare(a.createdAt) ||
        b.file.localeCompare(a.file),
    );
    return out.map(({ key: _key, ...info }) => info);
  }

  private resolveFile(file: string): string {
    return resolve(this.dir, file);
  }

  private async readManifest(file: string): Promise<Partial<Manifest> | null> {
    try {
      return JSON.parse(await readFile(`${file}.json`, 'utf8')) as Partial<Manifest>;
    } catch {
      return null;
    }
  }

  private async readChecksum(file: string): Promise<string | null> {
    try {
      const text = await readFile(`${file}.sha256`, 'utf8');
      const m = /^([0-9a-f]{64})\s/i.exec(text);
      return m ? m[1]!.toLowerCase() : null;
    } catch {
      return null;
    }
  }

  /**
   * Recomputes a backup's SHA-256 and compares it with the recorded `<file>.sha256`.
   * @example const { ok } = await svc.verify('machimado-20260401-030000-daily.sqlite.gz')
   */
  async verify(file: string): Promise<{ ok: boolean; expected: string | null; actual: string }> {
    const path = this.resolveFile(file);
    // Only machimado backup files are read, so "../../etc/passwd" or any other file is never opened.
    if (!parseName(basename(path))) {
      throw new BackupError(`バックアップファイル名の形式が違います / not a machimado backup file name: ${basename(path)}`, 'invalid_name');
    }
    if (!existsSync(path)) throw new BackupError(`バックアップファイルが見つかりません / backup file not found: ${path}`, 'not_found');
    const [expected, actual] = await Promise.all([this.readChecksum(path), sha256File(path)]);
    return { ok: expected !== null && expected === actual, expected, actual };
  }

  /**
   * Restores a backup over the database. Refuses a file whose checksum does not match or that was
   * taken from the other engine. SQLite: stop the application first; the handle is closed and the
   * caller reopens the database. PostgreSQL: runs in one transaction, so a failure changes nothing.
   * @example await svc.restore(latest.file, { onProgress: (p) => process.stdout.write(`\r${p}%`) })
   */
  restore(file: string, opts: { onProgress?: (pct: number) => void } = {}): Promise<void> {
    return this.serial(() => this.doRestore(file, opts));
  }

  private async doRestore(file: string, opts: { onProgress?: (pct: number) => void }): Promise<void> {
    const report = progressReporter(opts.onProgress);
    const path = this.resolveFile(file);
    const parsed = parseName(basename(path));
    if (!parsed) {
      throw new BackupError(`バックアップファイル名の形式が違います / not a machimado backup file name: ${basename(path)}`, 'invalid_name');
    }
    report(0);
    const check = await this.verify(path);
    if (check.expected === null) {
      throw new BackupError(
        `チェックサムファイル ${basename(path)}.sha256 がないため復元しません / refusing to restore: ${basename(path)}.sha256 is missing`,
        'checksum_missing',
      );
    }
    if (!check.ok) {
      throw new BackupError(
        `バックアップファイルが壊れているため復元しません（チェックサム不一致） / refusing to restore: checksum mismatch for ${basename(path)} (expected ${check.expected}, got ${check.actual})`,
        'checksum_mismatch',
      );
    }
    const manifest = await this.readManifest(path);
    const fileEngine = manifest?.engine ?? parsed.engine;
    if (fileEngine !== this.handle.engine || parsed.engine !== this.handle.engine) {
      throw new BackupError(
        `このバックアップは ${fileEngine} 用のため ${this.handle.engine} には復元できません / refusing to restore a ${fileEngine} backup into a ${this.handle.engine} database`,
        'engine_mismatch',
      );
    }
    report(5);
    this.log.warn({ file: path, engine: this.handle.engine }, 'restore started');
    if (this.handle.engine === 'sqlite') await this.restoreSqlite(path, report);
    else await this.restorePostgres(path, report);
    report(100);
    this.log.warn({ file: path, engine: this.handle.engine }, 'restore finished');
  }

  private async restoreSqlite(path: string, report: (pct: number) => void): Promise<void> {
    const target = this.handle.sqlitePath;
    if (!target) {
      throw new BackupError('メモリ上の SQLite には復元できません / cannot restore into an in-memory SQLite database', 'no_file_database');
    }
    const tmp = join(dirname(target), `.${basename(target)}.restore-${randomBytes(6).toString('hex')}.tmp`);
    const removeTmp = () => Promise.all([tmp, `${tmp}-wal`, `${tmp}-shm`, `${tmp}-journal`].map((p) => rm(p, { force: true })));
    try {
      const { size } = await stat(path);
      try {
        await pipeline(createReadStream(path), counter(size, (f) => report(5 + 75 * f)), createGunzip(), createWriteStream(tmp, { flags: 'wx' }));
      } catch (e) {
        throw new BackupError(`バックアップを展開できません / cannot decompress the backup: ${(e as Error).message}`, 'corrupt');
      }
      report(80);
      let problems: string[];
      try {
        const check = new SQLite(tmp, { fileMustExist: true });
        try {
          problems = (check.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
        } finally {
          check.close();
        }
      } catch (e) {
        problems = [(e as Error).message];
      }
      if (problems.length !== 1 || problems[0] !== 'ok') {
        throw new BackupError(
          `バックアップの内容が壊れているため復元しません / refusing to restore: the backup failed PRAGMA integrity_check: ${problems.slice(0, 5).join('; ')}`,
          'corrupt',
        );
      }
      report(90);
      await this.handle.close();
      if (this.handle.sqlite?.open) this.handle.sqlite.close();
      // A leftover WAL belongs to the old file; replayed onto the restored one it would corrupt it.
      await Promise.all([`${target}-wal`, `${target}-shm`, `${target}-journal`].map((p) => rm(p, { force: true })));
      await rename(tmp, target);
      await Promise.all([`${target}-wal`, `${target}-shm`].map((p) => rm(p, { force: true })));
    } finally {
      await removeTmp();
    }
  }

  private async restorePostgres(path: string, report: (pct: number) => void): Promise<void> {
    const { url, env } = pgConnection(this.handle.url);
    const restore = findPgTool('pg_restore', this.pgBinDir);
    // The table count from the archive's table of contents turns verbose output into a percentage.
    const listing: string[] = [];
    await new Promise<void>((res) => {
      const child = spawn(restore, ['--list', path], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (c: string) => listing.push(c));
      child.on('error', () => res());
      child.on('close', () => res());
    });
    const tables = listing.join('').split('\n').filter((l) => l.includes(' TABLE DATA ')).length;
    let done = 0;
    report(10);
    // The whole public schema is replaced in one transaction, not just the objects in the dump:
    // tables created after the backup (a later migration) would otherwise survive while the
    // restored migration list forgets them. If anything fails, psql rolls everything back.
    const psql = findPgTool('psql', this.pgBinDir);
    await new Promise<void>((resolvePromise, reject) => {
      const dump = spawn(restore, ['--no-owner', '--no-privileges', '--verbose', '--file=-', path], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const apply = spawn(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-d', url, '-f', '-'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
      const errors: string[] = [];
      let pending = 2;
      let failed = false;
      const finish = (who: string, code: number | null) => {
        if (code !== 0 && !failed) {
          failed = true;
          dump.kill();
          apply.kill();
          reject(new BackupError(`復元に失敗しました（データベースは変更されていません） / restore failed, nothing changed: ${who} exited ${code}: ${errors.slice(-5).join(' | ')}`, 'tool_failed'));
        }
        if (--pending === 0 && !failed) resolvePromise();
      };
      dump.stderr.setEncoding('utf8');
      dump.stderr.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) {
          if (line.includes('processing data for table') && tables > 0) report(10 + (88 * ++done) / tables);
          else if (/error|fatal/i.test(line)) errors.push(line);
        }
      });
      apply.stderr.setEncoding('utf8');
      apply.stderr.on('data', (chunk: string) => errors.push(chunk.trim()));
      dump.on('error', (e) => reject(new BackupError(`cannot run ${restore}: ${e.message}`, 'tool_failed')));
      apply.on('error', (e) => reject(new BackupError(`cannot run ${psql}: ${e.message}`, 'tool_failed')));
      apply.stdin.on('error', () => undefined);
      apply.stdin.write('DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n');
      dump.stdout.pipe(apply.stdin);
      dump.on('close', (code) => finish('pg_restore', code));
      apply.on('close', (code) => finish('psql', code));
    });
  }

  /**
   * Deletes all but the newest `generations` backups (with their .sha256 and .json files).
   * @example const deleted = await svc.prune()
   */
  prune(): Promise<string[]> {
    return this.serial(async () => {
      const all = await this.list();
      const doomed = all.slice(this.generations).map((b) => b.file);
      for (const file of doomed) {
        await Promise.all([file, `${file}.sha256`, `${file}.json`].map((p) => rm(p, { force: true })));
      }
      if (doomed.length) this.log.info({ deleted: doomed.map((f) => basename(f)), kept: this.generations }, 'old backups pruned');
      return doomed;
    });
  }
}

/**
 * The daily backup job for the job runner: backup, then prune to the configured generations.
 * @example jobs.register(backupJob(backupService, config.BACKUP_SCHEDULE))
 */
export function backupJob(
  service: BackupService,
  schedule: string,
): { name: 'backup.daily'; label: '日次バックアップ'; schedule: string; maxAttempts: 3; handler: () => Promise<unknown> } {
  return {
    name: 'backup.daily',
    label: '日次バックアップ',
    schedule,
    maxAttempts: 3,
    async handler() {
      const info = await service.backup({ reason: 'daily' });
      const pruned = await service.prune();
      return { file: basename(info.file), bytes: info.bytes, sha256: info.sha256, pruned: pruned.map((f) => basename(f)) };
    },
  };
}
