import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';

const KEY = /^[0-9a-f]{32}$/;
const VARIANT = /^(?:original|file|\d{2,5})(?:-webp)?$/;

/**
 * Files on disk under MEDIA_DIR: `<2 hex>/<32 hex key>/<variant>`. Names come only from a random
 * key and a fixed variant vocabulary, never from what the uploader typed, so no path can escape.
 */
export class MediaStorage {
  readonly root: string;

  constructor(dir: string) {
    this.root = resolve(dir);
  }

  newKey(): string {
    return randomBytes(16).toString('hex');
  }

  private dir(key: string): string {
    if (!KEY.test(key)) throw new Error(`bad media storage key: ${key}`);
    return join(this.root, key.slice(0, 2), key);
  }

  path(key: string, variant: string): string {
    if (!VARIANT.test(variant)) throw new Error(`bad media variant: ${variant}`);
    return join(this.dir(key), variant);
  }

  /** Writes every variant of a new file; on any failure nothing of it is left behind. */
  async write(key: string, files: Array<{ key: string; data: Uint8Array }>): Promise<void> {
    const dir = this.dir(key);
    try {
      await mkdir(dir, { recursive: true });
      for (const f of files) await writeFile(this.path(key, f.key), f.data, { flag: 'wx' });
    } catch (e) {
      await this.remove(key);
      throw e;
    }
  }

  async remove(key: string): Promise<void> {
    await rm(this.dir(key), { recursive: true, force: true });
  }

  async size(key: string, variant: string): Promise<number | null> {
    try {
      return (await stat(this.path(key, variant))).size;
    } catch {
      return null;
    }
  }

  /** A byte range (inclusive end) of a stored file as a web stream. */
  stream(key: string, variant: string, range?: { start: number; end: number }): ReadableStream<Uint8Array> {
    return Readable.toWeb(createReadStream(this.path(key, variant), range)) as ReadableStream<Uint8Array>;
  }
}
