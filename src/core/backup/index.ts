import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { z } from 'zod';
import type { DatabaseHandle, Engine } from '../db/index.js';
import type { Logger } from '../log.js';
import { checkSnapshot, renameIfPresent, SnapshotWriter, stageSnapshot, tidyAside, type DirectorySnapshot } from './files.js';
import { sha256File } from './hash.js';

export { sha256File } from './hash.js';
export type { DirectorySnapshot, SnapshotFile } from './files.js';

/** A directory of files backed up with the database (e.g. the media library), by a stable key. */
export interface BackupDirectory {
  key: string;
  path: string;
}

/** What a backup holds of one registered directory. */
export interface SnapshotSummary {
  key: string;
  files: number;
  bytes: number;
  method: 'link' | 'copy';
}

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
  /** Snapshots of the registered directories; absent for a backup of the database only. */
  directories?: SnapshotSummary[];
}

export interface VerifyResult {
  /** True when the database file and every snapshot file match what was recorded. */
  ok: boolean;
  /** The database file's recorded SHA-256 (null when the .sha256 file is missing). */
  expected: string | null;
  actual: string;
  /** Present when the backup has directory snapshots: what was checked and what is wrong. */
  files?: { checked: number; bytes: number; problems: string[] };
}

export interface RestoreResult {
  /** Things the operator should know (a backup without file snapshots, a directory not restored). */
  warnings: string[];
  /** Each directory made to match its snapshot, and where the files it held that the snapshot lacks were moved. */
  directories: Array<{ key: string; path: string; files: number; asideDir: string | null; asideFiles: number }>;
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
  | 'invalid_option'
  | 'files_mismatch'
  | 'files_failed';

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
  /** 1: database only; 2: with `directories`. */
  format: 1 | 2;
  file: string;
  engine: Engine;
  createdAt: string;
  bytes: number;
  sha256: string;
  reason: string | null;
  migrations: string[];
  directories?: DirectorySnapshot[];
}

const KEY_RE = /^[a-z][a-z0-9_-]{0,39}$/;
const snapshotsSchema = z.array(
  z.object({
    key: z.string().regex(KEY_RE),
    source: z.string(),
    method: z.enum(['link', 'copy']),
    bytes: z.number().int().nonnegative(),
    files: z.array(z.object({ path: z.string().min(1), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
  }),
);
/** Problems listed in an error or a verify result; the rest are counted. */
const MAX_PROBLEMS = 50;

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

/** Maps 0–100 of a step onto [from, to] of the whole. */
function scaled(report: (pct: number) => void, from: number, to: number): (pct: number) => void {
  return (pct) => report(from + ((to - from) * Math.max(0, Math.min(100, pct))) / 100);
}

function capProblems(problems: string[]): string[] {
  return problems.length > MAX_PROBLEMS ? [...problems.slice(0, MAX_PROBLEMS), `… ほか ${problems.length - MAX_PROBLEMS} 件 / and ${problems.length - MAX_PROBLEMS} more`] : problems;
}

const within = (inner: string, outer: string) => inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

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
 * Daily, multi-generation backups and one-command restore for SQLite and PostgreSQL, with the
 * file directories features register (the media library). Each backup `X` has `X.sha256`
 * (sha256sum format) and `X.json` (manifest) next to it; when directories are registered, also
 * `X.files/<key>/` (hard links, or copies on another filesystem), each file listed in the manifest
 * with its size and SHA-256, and `X.files.sha256` covering the manifest and every snapshot file.
 * @example
 * const svc = new BackupService({ handle, dir: './data/backups', generations: 7, log })
 * svc.addDirectory({ key: 'media', path: './data/media' })
 * const info = await svc.backup({ reason: 'manual' })
 * await svc.restore(info.file) // SQLite: the handle is closed afterwards; reopen the database
 */
export class BackupService {
  readonly dir: string;
  private readonly handle: DatabaseHandle;
  private readonly generations: number;
  private readonly log: Logger;
  private readonly pgBinDir?: string;
  private readonly dirs: BackupDirectory[] = [];
  private readonly manifests = new Map<string, { stamp: string; manifest: Partial<Manifest> | null }>();
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

  /**
   * Registers a directory every backup takes a snapshot of and every restore makes match it.
   * The files in it must never change once written (new names for new content), as the
   * snapshot is made of hard links where it can.
   * @example backup.addDirectory({ key: 'media', path: config.MEDIA_DIR })
   */
  addDirectory(dir: BackupDirectory): void {
    if (!KEY_RE.test(dir.key)) throw new BackupError(`ディレクトリのキーが不正です / invalid directory key: ${dir.key}`, 'invalid_option');
    const path = resolve(dir.path);
    const same = this.dirs.find((d) => d.key === dir.key);
    if (same) {
      if (same.path === path) return;
      throw new BackupError(`キー ${dir.key} は登録済みです / directory key ${dir.key} is already registered for ${same.path}`, 'invalid_option');
    }
    if (within(path, this.dir) || within(this.dir, path)) {
      throw new BackupError(`バックアップ先と重なるディレクトリは登録できません / ${path} overlaps the backup directory ${this.dir}`, 'invalid_option');
    }
    const overlap = this.dirs.find((d) => within(path, d.path) || within(d.path, path));
    if (overlap) throw new BackupError(`${path} は ${overlap.key} (${overlap.path}) と重なります / overlaps directory ${overlap.key}`, 'invalid_option');
    this.dirs.push({ key: dir.key, path });
  }

  /** The registered directories, in registration order. */
  directories(): readonly BackupDirectory[] {
    return this.dirs.map((d) => ({ ...d }));
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
    const filesRoot = `${path}.files`;
    try {
      const previous = this.dirs.length ? await this.previousSnapshots() : new Map<string, { root: string; files: DirectorySnapshot['files'] }>();
      const writers = this.dirs.map((d) => new SnapshotWriter(d.key, d.path, join(filesRoot, d.key), previous.get(d.key)?.root ?? null));
      // Files are linked before and after the dump (see SnapshotWriter): the dump never names a missing file.
      for (const w of writers) await w.pass();
      const dumpReport = writers.length ? scaled(report, 5, 85) : report;
      if (engine === 'sqlite') await this.dumpSqlite(partial, dumpReport);
      else await this.dumpPostgres(partial, dumpReport);
      const [sha256, st, migrations] = await Promise.all([sha256File(partial), stat(partial), this.appliedMigrations()]);
      let directories: DirectorySnapshot[] | undefined;
      if (writers.length) {
        for (const w of writers) await w.pass();
        report(88);
        directories = [];
        for (const [i, w] of writers.entries()) {
          const part = scaled(report, 88 + (11 * i) / writers.length, 88 + (11 * (i + 1)) / writers.length);
          directories.push(await w.finish(previous.get(w.key) ?? null, (done, total) => part(total ? (100 * done) / total : 100)));
        }
      }
      const name = basename(path);
      const manifest: Manifest = {
        format: directories ? 2 : 1,
        file: name,
        engine,
        createdAt: created.toISOString(),
        bytes: st.size,
        sha256,
        reason,
        migrations,
        ...(directories ? { directories } : {}),
      };
      const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
      await writeFile(manifestPath, manifestText);
      if (directories) {
        // X.files.sha256 covers the manifest (the list of files) and, for `sha256sum -c`, every snapshot file.
        const lines = [`${createHash('sha256').update(manifestText).digest('hex')}  ${name}.json`];
        for (const d of directories) for (const f of d.files) lines.push(`${f.sha256}  ${name}.files/${d.key}/${f.path}`);
        await writeFile(`${path}.files.sha256`, `${lines.join('\n')}\n`);
      }
      await writeFile(`${path}.sha256`, `${sha256}  ${name}\n`);
      // The data file appears under its final name last, so a listed backup is always complete.
      await rename(partial, path);
      report(100);
      const summary = directories?.map(summarize);
      this.log.info({ file: path, bytes: st.size, sha256, engine, directories: summary }, 'backup written');
      return { file: path, createdAt: manifest.createdAt, engine, bytes: st.size, sha256, reason, ...(summary ? { directories: summary } : {}) };
    } catch (e) {
      await Promise.all([partial, `${path}.sha256`, manifestPath, `${filesRoot}.sha256`].map((p) => rm(p, { force: true })));
      await rm(filesRoot, { recursive: true, force: true });
      this.log.error({ err: e, file: path }, 'backup failed');
      throw e;
    }
  }

  /** The newest earlier snapshot of each key, whose recorded hashes a new snapshot may reuse. */
  private async previousSnapshots(): Promise<Map<string, { root: string; files: DirectorySnapshot['files'] }>> {
    const found = new Map<string, { root: string; files: DirectorySnapshot['files'] }>();
    for (const b of await this.list()) {
      const parsed = snapshotsSchema.safeParse((await this.readManifest(b.file))?.directories);
      if (!parsed.success) continue;
      for (const d of parsed.data) if (!found.has(d.key)) found.set(d.key, { root: join(`${b.file}.files`, d.key), files: d.files });
      if (this.dirs.every((d) => found.has(d.key))) break;
    }
    return found;
  }

  /** Picks a name no existing backup uses (counter within the same second) and claims it. */
  private async reserveName(created: Date, reason: string | null, engine: Engine) {
    const stamp = jstStamp(created);
    const names = await readdir(this.dir);
    let counter = 0;
    for (const n of names) {
      const p = parseName(n.replace(/(\.(sha256|json|partial|files))+$/, ''));
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
        ...(manifest?.directories ? { directories: manifest.directories.map(summarize) } : {}),
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

  /** A manifest, parsed once per version of the file (a list of many snapshot files is large). */
  private async readManifest(file: string): Promise<Partial<Manifest> | null> {
    const path = `${file}.json`;
    const st = await stat(path).catch(() => null);
    if (!st) return null;
    const stamp = `${st.mtimeMs}:${st.size}`;
    const cached = this.manifests.get(path);
    if (cached?.stamp === stamp) return cached.manifest;
    let manifest: Partial<Manifest> | null;
    try {
      manifest = JSON.parse(await readFile(path, 'utf8')) as Partial<Manifest>;
    } catch {
      manifest = null;
    }
    this.manifests.set(path, { stamp, manifest });
    return manifest;
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

  /** The manifest's hash as recorded in `X.files.sha256`, if there is one. */
  private async readManifestChecksum(file: string): Promise<string | null> {
    const text = await readFile(`${file}.files.sha256`, 'utf8').catch(() => '');
    const name = `${basename(file)}.json`;
    for (const line of text.split('\n')) {
      const m = /^([0-9a-f]{64}) [ *](.+)$/i.exec(line);
      if (m && m[2] === name) return m[1]!.toLowerCase();
    }
    return null;
  }

  /**
   * Recomputes a backup's SHA-256 and compares it with the recorded `<file>.sha256`; for a backup
   * with directory snapshots, also the manifest's own checksum and every snapshot file (present,
   * same size and SHA-256, nothing extra).
   * @example const { ok, files } = await svc.verify('machimado-20260401-030000-daily.sqlite.gz')
   */
  async verify(file: string, opts: { onProgress?: (pct: number) => void } = {}): Promise<VerifyResult> {
    const path = this.resolveFile(file);
    // Only machimado backup files are read, so "../../etc/passwd" or any other file is never opened.
    if (!parseName(basename(path))) {
      throw new BackupError(`バックアップファイル名の形式が違います / not a machimado backup file name: ${basename(path)}`, 'invalid_name');
    }
    if (!existsSync(path)) throw new BackupError(`バックアップファイルが見つかりません / backup file not found: ${path}`, 'not_found');
    const report = progressReporter(opts.onProgress);
    const [expected, manifestExpected, manifestText, { size }] = await Promise.all([
      this.readChecksum(path),
      this.readManifestChecksum(path),
      readFile(`${path}.json`, 'utf8').catch(() => null),
      stat(path),
    ]);
    let raw: unknown = null;
    try {
      raw = manifestText === null ? null : (JSON.parse(manifestText) as { directories?: unknown }).directories;
    } catch {
      raw = null;
    }
    const snapshots = raw === undefined || raw === null ? null : snapshotsSchema.safeParse(raw);
    const total = size + (snapshots?.success ? snapshots.data.reduce((n, d) => n + d.bytes, 0) : 0);
    let done = 0;
    const progress = (bytes: number) => {
      done += bytes;
      report(total ? (100 * done) / total : 100);
    };
    const actual = await sha256File(path);
    progress(size);
    if (!snapshots && manifestExpected === null) return { ok: expected !== null && expected === actual, expected, actual };

    const problems: string[] = [];
    const name = `${basename(path)}.json`;
    if (manifestExpected === null) problems.push(`${basename(path)}.files.sha256 に ${name} の行がありません / ${basename(path)}.files.sha256 does not cover ${name}`);
    else if (manifestText === null || createHash('sha256').update(manifestText).digest('hex') !== manifestExpected) {
      problems.push(`${name} がチェックサムと一致しません / ${name} does not match its checksum`);
    }
    let checked = 0;
    let bytes = 0;
    if (!snapshots?.success) problems.push(`${name} のファイル一覧を読めません / the file list in ${name} is unreadable`);
    else {
      const root = `${path}.files`;
      for (const d of snapshots.data) {
        problems.push(...(await checkSnapshot(join(root, d.key), d, progress)));
        checked += d.files.length;
        bytes += d.bytes;
      }
      const keys = new Set(snapshots.data.map((d) => d.key));
      const extra = await readdir(root).catch(() => [] as string[]);
      for (const k of extra) if (!keys.has(k)) problems.push(`${k}: 一覧にないディレクトリ / not in the manifest`);
    }
    report(100);
    return { ok: expected !== null && expected === actual && problems.length === 0, expected, actual, files: { checked, bytes, problems: capProblems(problems) } };
  }

  /**
   * Restores a backup over the database and makes every registered directory match its snapshot.
   * Refuses, changing nothing, a backup whose database file or any snapshot file does not match its
   * checksum, or that was taken from the other engine. Files a directory holds that the snapshot
   * lacks are moved to `<dir>.before-restore-<stamp>/`, never deleted. A backup without snapshots
   * (made before they existed) restores the database only, with a warning.
   * SQLite: stop the application first; the handle is closed and the caller reopens the database.
   * PostgreSQL: runs in one transaction, so a failure changes nothing.
   * @example const { warnings } = await svc.restore(latest.file, { onProgress: (p) => process.stdout.write(`\r${p}%`) })
   */
  restore(file: string, opts: { onProgress?: (pct: number) => void } = {}): Promise<RestoreResult> {
    return this.serial(() => this.doRestore(file, opts));
  }

  private async doRestore(file: string, opts: { onProgress?: (pct: number) => void }): Promise<RestoreResult> {
    const report = progressReporter(opts.onProgress);
    const path = this.resolveFile(file);
    const parsed = parseName(basename(path));
    if (!parsed) {
      throw new BackupError(`バックアップファイル名の形式が違います / not a machimado backup file name: ${basename(path)}`, 'invalid_name');
    }
    report(0);
    const withFiles = this.dirs.length > 0 || Boolean((await this.readManifest(path))?.directories);
    // Reading every snapshot file is most of a restore's work when the library is large.
    const verified = withFiles ? 30 : 5;
    const check = await this.verify(path, { onProgress: scaled(report, 0, verified) });
    if (check.expected === null) {
      throw new BackupError(
        `チェックサムファイル ${basename(path)}.sha256 がないため復元しません / refusing to restore: ${basename(path)}.sha256 is missing`,
        'checksum_missing',
      );
    }
    if (check.expected !== check.actual) {
      throw new BackupError(
        `バックアップファイルが壊れているため復元しません（チェックサム不一致） / refusing to restore: checksum mismatch for ${basename(path)} (expected ${check.expected}, got ${check.actual})`,
        'checksum_mismatch',
      );
    }
    if (check.files?.problems.length) {
      throw new BackupError(
        `バックアップのファイルの控えが壊れているため復元しません（何も変更していません） / refusing to restore, nothing changed: the file snapshot of ${basename(path)} does not match its manifest:\n  ${check.files.problems.join('\n  ')}`,
        'files_mismatch',
      );
    }
    // Read again rather than from the cache: this is the file verify just checked.
    this.manifests.delete(`${path}.json`);
    const manifest = await this.readManifest(path);
    const fileEngine = manifest?.engine ?? parsed.engine;
    if (fileEngine !== this.handle.engine || parsed.engine !== this.handle.engine) {
      throw new BackupError(
        `このバックアップは ${fileEngine} 用のため ${this.handle.engine} には復元できません / refusing to restore a ${fileEngine} backup into a ${this.handle.engine} database`,
        'engine_mismatch',
      );
    }
    report(verified);
    const { plans, warnings } = this.restorePlan(path, manifest);
    for (const w of warnings) this.log.warn({ file: path }, w);
    this.log.warn({ file: path, engine: this.handle.engine, directories: plans.map((p) => p.key) }, 'restore started');

    // Directories are staged beside themselves (same filesystem, so the swap is a rename) before anything changes.
    const staged = plans.length ? verified + 5 : verified;
    const fileCount = plans.reduce((n, p) => n + p.snapshot.files.length, 0);
    let placed = 0;
    const stageReport = scaled(report, verified, staged);
    try {
      for (const plan of plans) {
        await mkdir(dirname(plan.live), { recursive: true });
        await stageSnapshot(plan.snapshotRoot, plan.snapshot, plan.live, plan.staging, () => stageReport((100 * ++placed) / fileCount));
      }
    } catch (e) {
      await Promise.all(plans.map((p) => rm(p.staging, { recursive: true, force: true })));
      throw new BackupError(`ファイルを準備できないため復元を中止しました（何も変更していません） / restore aborted, nothing changed: cannot stage the files: ${(e as Error).message}`, 'files_failed');
    }
    const swapped: typeof plans = [];
    try {
      for (const plan of plans) {
        plan.aside = this.asideName(plan.live);
        if (!(await renameIfPresent(plan.live, plan.aside))) plan.aside = null;
        swapped.push(plan);
        await rename(plan.staging, plan.live);
        plan.swappedIn = true;
      }
      const dbReport = plans.length ? scaled(report, staged, 100) : report;
      if (this.handle.engine === 'sqlite') await this.restoreSqlite(path, dbReport);
      else await this.restorePostgres(path, dbReport);
    } catch (e) {
      await this.undoSwaps(swapped.reverse());
      await Promise.all(plans.map((p) => rm(p.staging, { recursive: true, force: true })));
      throw e;
    }

    const directories: RestoreResult['directories'] = [];
    for (const plan of plans) {
      let asideFiles = 0;
      if (plan.aside) {
        try {
          asideFiles = await tidyAside(plan.aside, plan.live);
          if (asideFiles === 0) plan.aside = null;
        } catch (err) {
          // The restore itself is done; only the leftovers folder is bigger than it needs to be.
          this.log.warn({ err, dir: plan.aside }, 'could not tidy the moved-aside directory');
          warnings.push(`${plan.aside} を整理できませんでした（中身は復元前の ${plan.key} 全体です） / could not tidy ${plan.aside}: it holds the whole ${plan.key} directory as it was before the restore`);
        }
      }
      directories.push({ key: plan.key, path: plan.live, files: plan.snapshot.files.length, asideDir: plan.aside, asideFiles });
    }
    report(100);
    this.log.warn({ file: path, engine: this.handle.engine, directories }, 'restore finished');
    return { warnings, directories };
  }

  /** Which registered directories this backup restores, and what the operator should be told about the rest. */
  private restorePlan(path: string, manifest: Partial<Manifest> | null) {
    const warnings: string[] = [];
    const parsed = manifest?.directories === undefined ? null : snapshotsSchema.safeParse(manifest.directories);
    const snapshots = parsed?.success ? parsed.data : null;
    const plans: Array<{ key: string; live: string; snapshot: DirectorySnapshot; snapshotRoot: string; staging: string; aside: string | null; swappedIn: boolean }> = [];
    if (!snapshots) {
      if (this.dirs.length) {
        warnings.push(
          `このバックアップにはファイルの控えがありません（旧形式）。データベースだけを復元し、${this.dirs.map((d) => `${d.key} (${d.path})`).join('、')} はそのままです / ` +
            `this backup has no file snapshot (made before they existed): the database is restored, ${this.dirs.map((d) => d.key).join(', ')} left as they are`,
        );
      }
      return { plans, warnings };
    }
    for (const d of this.dirs) {
      const snapshot = snapshots.find((s) => s.key === d.key);
      if (!snapshot) {
        warnings.push(`このバックアップには ${d.key} の控えがないため ${d.path} はそのままです / this backup has no snapshot of ${d.key}: ${d.path} left as it is`);
        continue;
      }
      const staging = join(dirname(d.path), `.${basename(d.path)}.restore-${randomBytes(6).toString('hex')}.tmp`);
      plans.push({ key: d.key, live: d.path, snapshot, snapshotRoot: join(`${path}.files`, d.key), staging, aside: null, swappedIn: false });
    }
    for (const s of snapshots) {
      if (!this.dirs.some((d) => d.key === s.key)) {
        warnings.push(`${s.key} の控えは復元していません（この環境に登録がありません） / the snapshot of ${s.key} was not restored: no such directory is registered here`);
      }
    }
    return { plans, warnings };
  }

  /** `<dir>.before-restore-<JST stamp>`, with a counter if a restore in the same second made one. */
  private asideName(live: string): string {
    const base = `${live}.before-restore-${jstStamp(new Date())}`;
    let name = base;
    for (let i = 1; existsSync(name); i++) name = `${base}-${String(i).padStart(2, '0')}`;
    return name;
  }

  /** Puts directories back as they were before a restore that failed (renames only). */
  private async undoSwaps(plans: Array<{ live: string; staging: string; aside: string | null; swappedIn: boolean }>): Promise<void> {
    for (const plan of plans) {
      try {
        if (plan.swappedIn) await rename(plan.live, plan.staging);
        if (plan.aside) await rename(plan.aside, plan.live);
      } catch (err) {
        this.log.error({ err, dir: plan.live, aside: plan.aside }, 'could not put the directory back after a failed restore');
      }
    }
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
   * Deletes all but the newest `generations` backups (with their .sha256 and .json files and
   * their directory snapshots).
   * @example const deleted = await svc.prune()
   */
  prune(): Promise<string[]> {
    return this.serial(async () => {
      const all = await this.list();
      const doomed = all.slice(this.generations).map((b) => b.file);
      for (const file of doomed) {
        // The data file goes first: a prune cut short leaves no listed backup without its snapshot.
        await rm(file, { force: true });
        await rm(`${file}.files`, { recursive: true, force: true });
        await Promise.all([`${file}.sha256`, `${file}.json`, `${file}.files.sha256`].map((p) => rm(p, { force: true })));
        this.manifests.delete(`${file}.json`);
      }
      if (doomed.length) this.log.info({ deleted: doomed.map((f) => basename(f)), kept: this.generations }, 'old backups pruned');
      return doomed;
    });
  }
}

function summarize(d: DirectorySnapshot): SnapshotSummary {
  return { key: d.key, files: d.files.length, bytes: d.bytes, method: d.method };
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
      return { file: basename(info.file), bytes: info.bytes, sha256: info.sha256, directories: info.directories, pruned: pruned.map((f) => basename(f)) };
    },
  };
}
