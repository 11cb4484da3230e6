import { sql } from 'kysely';
import type { Db } from '../db/index.js';

export interface RateLimitResult {
  allowed: boolean;
  hits: number;
  retryAfterSeconds: number;
}

/**
 * Fixed-window counter kept in the database, so every app node shares one limit.
 * @example const r = await hitRateLimit(db, `login:ip:${ip}`, 10, 60)
 */
export async function hitRateLimit(db: Db, key: string, limit: number, windowSeconds: number, now = new Date()): Promise<RateLimitResult> {
  const windowMs = windowSeconds * 1000;
  const start = new Date(Math.floor(now.getTime() / windowMs) * windowMs).toISOString();
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: start, hits: 1 })
    .onConflict((oc) => oc.columns(['key', 'window_start']).doUpdateSet({ hits: sql<number>`rate_limits.hits + 1` }))
    .returning('hits')
    .executeTakeFirstOrThrow();
  const retry = Math.ceil((new Date(start).getTime() + windowMs - now.getTime()) / 1000);
  return { allowed: row.hits <= limit, hits: row.hits, retryAfterSeconds: Math.max(1, retry) };
}

/** Removes windows older than a day (run by a job). */
export async function pruneRateLimits(db: Db, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - 24 * 3600_000).toISOString();
  const res = await db.deleteFrom('rate_limits').where('window_start', '<', cutoff).executeTakeFirst();
  return Number(res.numDeletedRows);
}
