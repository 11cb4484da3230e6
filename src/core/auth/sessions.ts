import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/index.js';
import { nowIso } from '../db/index.js';
import type { SessionInfo } from '../http/types.js';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface SessionPolicy {
  idleMinutes: number;
  absoluteHours: number;
  /** How long a half-finished login (password done, second step pending) may wait. */
  pendingMinutes: number;
}

/**
 * Server-side sessions. The browser holds a random token; the database holds only its hash,
 * the stage, and the idle and absolute deadlines.
 */
export class SessionStore {
  constructor(private readonly db: Db, private readonly policy: SessionPolicy) {}

  async create(userId: number, stage: SessionInfo['stage'], meta: { ip: string; userAgent: string | null }, now = new Date()): Promise<SessionInfo> {
    const token = randomBytes(32).toString('base64url');
    const id = hashToken(token);
    const minutes = stage === 'pending_totp' ? this.policy.pendingMinutes : this.policy.absoluteHours * 60;
    const createdAt = nowIso(now);
    await this.db
      .insertInto('sessions')
      .values({
        id,
        user_id: userId,
        stage,
        created_at: createdAt,
        last_seen_at: createdAt,
        expires_at: nowIso(new Date(now.getTime() + minutes * 60_000)),
        ip: meta.ip.slice(0, 64),
        user_agent: meta.userAgent?.slice(0, 400) ?? null,
      })
      .execute();
    return { token, id, userId, stage, createdAt };
  }

  /** The live session for a cookie token, or null when unknown, idle too long or past its end. */
  async load(token: string, now = new Date()): Promise<SessionInfo | null> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
    const id = hashToken(token);
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const idleLimit = new Date(row.last_seen_at).getTime() + this.policy.idleMinutes * 60_000;
    if (new Date(row.expires_at).getTime() <= now.getTime() || idleLimit <= now.getTime()) {
      await this.db.deleteFrom('sessions').where('id', '=', id).execute();
      return null;
    }
    // Writing on every request would serialise the database for nothing; a minute is precise enough.
    if (now.getTime() - new Date(row.last_seen_at).getTime() > 60_000) {
      await this.db.updateTable('sessions').set({ last_seen_at: nowIso(now) }).where('id', '=', id).execute();
    }
    return { token, id, userId: row.user_id, stage: row.stage, createdAt: row.created_at };
  }

  async destroy(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', id).execute();
  }

  /** "Log out everywhere": ends every session of the user, optionally keeping one. */
  async destroyAllForUser(userId: number, exceptId?: string): Promise<number> {
    let q = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (exceptId) q = q.where('id', '!=', exceptId);
    const res = await q.executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async listForUser(userId: number) {
    return this.db
      .selectFrom('sessions')
      .select(['id', 'stage', 'created_at', 'last_seen_at', 'ip', 'user_agent'])
      .where('user_id', '=', userId)
      .where('stage', '=', 'active')
      .orderBy('last_seen_at', 'desc')
      .execute();
  }

  /** Deletes sessions past their absolute end or idle limit (a scheduled job). */
  async purgeExpired(now = new Date()): Promise<number> {
    const idleCutoff = nowIso(new Date(now.getTime() - this.policy.idleMinutes * 60_000));
    const res = await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', nowIso(now)), eb('last_seen_at', '<=', idleCutoff)]))
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
