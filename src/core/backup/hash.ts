import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** Below this a file is read in one go: a stream per small file costs more than the hashing. */
const SMALL = 4 * 1024 * 1024;

/** Hex SHA-256 of a file, streamed (read whole when `knownSize` says it is small). */
export async function sha256File(path: string, knownSize?: number): Promise<string> {
  const hash = createHash('sha256');
  if (knownSize !== undefined && knownSize <= SMALL) return hash.update(await readFile(path)).digest('hex');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
