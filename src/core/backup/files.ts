/**
 * Snapshots of file directories (the media library) next to a database backup: hard links where
 * the backup directory shares the filesystem (the files never change after they are written, so a
 * link is a full copy at no cost), copies elsewhere; and the restore side — staging a directory
 * from a snapshot and swapping it in with renames.
 */
import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { sha256File } from './hash.js';

/** One file of a snapshot as the manifest records it; `path` is relative, with `/` separators. */
export interface SnapshotFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** A directory's snapshot in a backup manifest. */
export interface DirectorySnapshot {
  key: string;
  /** Where the directory was when the backup was taken (restore uses the path registered now). */
  source: string;
  /** 'link' when every file is a hard link to the original, otherwise 'copy'. */
  method: 'link' | 'copy';
  bytes: number;
  files: SnapshotFile[];
}

interface FoundFile {
  rel: string;
  size: number;
  mtimeMs: number;
  dev: bigint;
  ino: bigint;
}

/**
 * Runs `fn` over the items a few at a time: a library is many small files, and one file system
 * call at a time leaves the disk and libuv's threads idle. Waits for every started call before
 * throwing the first error, so a caller cleaning up never races a call still in flight.
 */
export async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>, limit = 8): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

const byRel = (a: { rel: string }, b: { rel: string }) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);

/**
 * Regular files under `root`, sorted by relative path; a missing root has none. Symlinks and other
 * kinds are listed apart; `folders` holds every folder below the root, shallowest first.
 */
export async function listFiles(root: string): Promise<{ files: FoundFile[]; others: string[]; folders: string[] }> {
  const found: Array<{ rel: string; abs: string }> = [];
  const others: string[] = [];
  const folders: string[] = [];
  let level = [{ rel: '', abs: root }];
  while (level.length) {
    if (level[0]!.rel) folders.push(...level.map((d) => d.abs));
    const below: typeof level = [];
    await eachLimited(level, async (dir) => {
      let entries;
      try {
        entries = await readdir(dir.abs, { withFileTypes: true });
      } catch (e) {
        // The root may not exist yet, and a folder may vanish while the application runs.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const entry of entries) {
        const item = { rel: dir.rel ? `${dir.rel}/${entry.name}` : entry.name, abs: join(dir.abs, entry.name) };
        if (entry.isDirectory()) below.push(item);
        else if (entry.isFile()) found.push(item);
        else others.push(item.rel);
      }
    });
    level = below;
  }
  const files: FoundFile[] = [];
  await eachLimited(found, async (f) => {
    const st = await lstat(f.abs, { bigint: true }).catch(() => null);
    if (st?.isFile()) files.push({ rel: f.rel, size: Number(st.size), mtimeMs: Number(st.mtimeMs), dev: st.dev, ino: st.ino });
  });
  files.sort(byRel);
  others.sort();
  return { files, others, folders };
}

/** mkdir -p, once per folder however many files go into it at the same time. */
function folderMaker(): (folder: string) => Promise<void> {
  const made = new Map<string, Promise<unknown>>();
  return async (folder) => {
    let p = made.get(folder);
    if (!p) {
      p = mkdir(folder, { recursive: true });
      made.set(folder, p);
    }
    await p;
  };
}

/** A manifest path that stays inside its directory: relative, no empty, `.` or `..` segments. */
export function safeRelative(rel: string): boolean {
  return rel.length > 0 && !rel.startsWith('/') && !rel.includes('\0') && rel.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

const at = (root: string, rel: string) => join(root, ...rel.split('/'));

const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Hard-links `src` at `dst`; false when links cannot be made here (`mode.link` then turns false so the rest do not retry). */
async function tryLink(src: string, dst: string, mode: { link: boolean }): Promise<boolean> {
  if (!mode.link) return false;
  try {
    await link(src, dst);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    // EMLINK: this one inode has too many links; the next may not.
    if (LINK_UNSUPPORTED.has(code)) mode.link = false;
    else if (code !== 'EMLINK') throw e;
    return false;
  }
}

/** Puts `src` at `dst` as a hard link, or a copy (reflink where the filesystem can) when a link cannot be made. */
async function place(src: string, dst: string, mode: { link: boolean }): Promise<'link' | 'copy'> {
  if (await tryLink(src, dst, mode)) return 'link';
  await copyFile(src, dst, constants.COPYFILE_FICLONE);
  return 'copy';
}

/**
 * Builds the snapshot of one live directory in `target`. `pass()` runs before and after the
 * database dump: every row in the dump was committed after its files were complete, so the union
 * of the two passes holds every file the dump names (plus perhaps a few it does not, which is harmless).
 * When the backups are on another filesystem, a file the previous snapshot already copied (same
 * name and size, not modified since) is linked from there, so only new files are copied each day.
 */
export class SnapshotWriter {
  private readonly placed = new Map<string, { how: 'link' | 'copy'; size: number }>();
  private readonly mode = { link: true };

  constructor(
    readonly key: string,
    readonly source: string,
    readonly target: string,
    private readonly previousRoot: string | null = null,
  ) {}

  private async linkFromPrevious(f: FoundFile, dst: string): Promise<boolean> {
    if (!this.previousRoot) return false;
    const prev = at(this.previousRoot, f.rel);
    const st = await lstat(prev).catch(() => null);
    if (!st?.isFile() || st.size !== f.size || f.mtimeMs > st.mtimeMs) return false;
    try {
      await link(prev, dst);
      return true;
    } catch {
      return false;
    }
  }

  async pass(): Promise<void> {
    await mkdir(this.target, { recursive: true });
    const { files } = await listFiles(this.source);
    const folder = folderMaker();
    // A copy taken while the file was still being written is shorter; a link always sees the final bytes.
    const notYetPlaced = files.filter((f) => {
      const before = this.placed.get(f.rel);
      return !before || (before.how === 'copy' && before.size !== f.size);
    });
    await eachLimited(notYetPlaced, async (f) => {
      const before = this.placed.get(f.rel);
      const dst = at(this.target, f.rel);
      await folder(dirname(dst));
      try {
        if (before) await rm(dst, { force: true });
        const src = at(this.source, f.rel);
        let how: 'link' | 'copy' = 'link';
        if (!(await tryLink(src, dst, this.mode))) {
          how = 'copy';
          if (before || !(await this.linkFromPrevious(f, dst))) await copyFile(src, dst, constants.COPYFILE_FICLONE);
        }
        this.placed.set(f.rel, { how, size: f.size });
      } catch (e) {
        // Deleted between listing and linking: it is simply not in this backup.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    });
  }

  /**
   * Hashes the snapshot. A file that is the same inode as in the previous backup's snapshot keeps
   * the hash recorded then, so a daily backup of an unchanged library reads almost nothing.
   */
  async finish(previous: { root: string; files: SnapshotFile[] } | null, onBytes: (bytes: number, total: number) => void): Promise<DirectorySnapshot> {
    const { files } = await listFiles(this.target);
    const earlier = new Map((previous?.files ?? []).map((f) => [f.path, f]));
    const total = files.reduce((n, f) => n + f.size, 0);
    let done = 0;
    const hashes = new Map<string, string>();
    await eachLimited(files, async (f) => {
      let sha256: string | null = null;
      const old = earlier.get(f.rel);
      if (previous && old && old.bytes === f.size) {
        const st = await lstat(at(previous.root, f.rel), { bigint: true }).catch(() => null);
        if (st && st.ino === f.ino && st.dev === f.dev) sha256 = old.sha256;
      }
      hashes.set(f.rel, sha256 ?? (await sha256File(at(this.target, f.rel), f.size)));
      done += f.size;
      onBytes(done, total);
    });
    const out: SnapshotFile[] = files.map((f) => ({ path: f.rel, bytes: f.size, sha256: hashes.get(f.rel)! }));
    const method = [...this.placed.values()].every((p) => p.how === 'link') ? 'link' : 'copy';
    return { key: this.key, source: this.source, method, bytes: total, files: out };
  }
}

/**
 * Compares a snapshot on disk with its manifest entry: every file present with its size and
 * SHA-256, nothing else there. Returns the problems found (empty when intact).
 */
export async function checkSnapshot(root: string, snapshot: DirectorySnapshot, onBytes: (bytes: number) => void): Promise<string[]> {
  const { files, others } = await listFiles(root);
  const present = new Map(files.map((f) => [f.rel, f]));
  const expected = new Set(snapshot.files.map((f) => f.path));
  const found: Array<{ rel: string; problem: string }> = [];
  await eachLimited(snapshot.files, async (f) => {
    const here = present.get(f.path);
    if (!safeRelative(f.path)) found.push({ rel: f.path, problem: '不正なパス / invalid path' });
    else if (!here) found.push({ rel: f.path, problem: 'ファイルがありません / missing' });
    else if (here.size !== f.bytes) found.push({ rel: f.path, problem: `サイズ不一致 / size ${here.size}, expected ${f.bytes}` });
    else if ((await sha256File(at(root, f.path), f.bytes)) !== f.sha256) found.push({ rel: f.path, problem: 'チェックサム不一致 / checksum mismatch' });
    onBytes(f.bytes);
  });
  for (const f of files) if (!expected.has(f.rel)) found.push({ rel: f.rel, problem: '一覧にないファイル / not in the manifest' });
  for (const o of others) found.push({ rel: o, problem: '通常のファイルではありません / not a regular file' });
  return found.sort(byRel).map((p) => `${snapshot.key}/${p.rel}: ${p.problem}`);
}

/**
 * Fills `staging` with the snapshot's files. A file the live directory still holds unchanged (the
 * same inode, or the same bytes) is linked from there; only the rest come from the backup.
 */
export async function stageSnapshot(snapshotRoot: string, snapshot: DirectorySnapshot, live: string, staging: string, onFile: () => void): Promise<void> {
  const mode = { link: true };
  await mkdir(staging, { recursive: true });
  const folder = folderMaker();
  await eachLimited(snapshot.files, async (f) => {
    const dst = at(staging, f.path);
    await folder(dirname(dst));
    const fromBackup = at(snapshotRoot, f.path);
    const current = at(live, f.path);
    const [cur, snap] = await Promise.all([lstat(current, { bigint: true }).catch(() => null), lstat(fromBackup, { bigint: true })]);
    let source = fromBackup;
    if (cur?.isFile() && Number(cur.size) === f.bytes) {
      if ((cur.ino === snap.ino && cur.dev === snap.dev) || (await sha256File(current, f.bytes)) === f.sha256) source = current;
    }
    await place(source, dst, source === current ? { link: true } : mode);
    onFile();
  });
}

/**
 * After the swap, removes from the moved-aside directory every file the restored directory holds
 * as the same inode (staging linked it from there), then the empty folders. What stays is what was
 * added or changed after the backup. Returns how many files stayed.
 */
export async function tidyAside(aside: string, restored: string): Promise<number> {
  const { files, others, folders } = await listFiles(aside);
  let kept = others.length;
  await eachLimited(files, async (f) => {
    const now = await lstat(at(restored, f.rel), { bigint: true }).catch(() => null);
    if (now && now.ino === f.ino && now.dev === f.dev) await unlink(at(aside, f.rel));
    else kept++;
  });
  // Deepest first; a folder still holding something refuses (ENOTEMPTY) and stays.
  const ignore = () => undefined;
  const byDepth = new Map<number, string[]>();
  for (const f of folders) {
    const depth = f.split(sep).length;
    const list = byDepth.get(depth);
    if (list) list.push(f);
    else byDepth.set(depth, [f]);
  }
  for (const depth of [...byDepth.keys()].sort((a, b) => b - a)) await eachLimited(byDepth.get(depth)!, (f) => rmdir(f).catch(ignore));
  await rmdir(aside).catch(ignore);
  return kept;
}

/** Moves `from` to `to` when it exists; returns whether it did. */
export async function renameIfPresent(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
