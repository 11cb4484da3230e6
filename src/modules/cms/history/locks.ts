import type { AuditService } from '../../../core/audit/index.js';
import type { RequestMeta } from '../../../core/auth/service.js';
import { nowIso, type Db } from '../../../core/db/index.js';
import { actorRef } from '../../../core/organizations/index.js';
import type { Actor } from '../../../core/permissions/index.js';
import type { CmsNode } from '../pages.js';
import './schema.js';

/** Minutes without activity after which an edit lock lapses (opening or saving renews it). */
export const LOCK_MINUTES = 20;

export interface EditLock {
  nodeId: number;
  userId: number;
  userName: string;
  acquiredAt: string;
  expiresAt: string;
}

const toLock = (r: { node_id: number; user_id: number; user_name: string; acquired_at: string; expires_at: string }): EditLock => ({
  nodeId: r.node_id,
  userId: r.user_id,
  userName: r.user_name,
  acquiredAt: r.acquired_at,
  expiresAt: r.expires_at,
});

/**
 * Edit locks (排他制御): whoever opens a page's editor holds it for LOCK_MINUTES after their last
 * activity; a second editor sees who edits since when and cannot save. The lock is a row per
 * node, taken with one INSERT … ON CONFLICT DO UPDATE that only succeeds when the row is free,
 * lapsed or already ours, so two editors opening at once cannot both get it.
 */
export class EditLockService {
  constructor(private readonly deps: { db: Db; audit: AuditService; minutes?: number }) {}

  private get ttlMs(): number {
    return (this.deps.minutes ?? LOCK_MINUTES) * 60_000;
  }

  /**
   * Takes or renews the lock for the actor. Returns `held: true` with the lock when the actor has
   * it now, else `held: false` with the other editor's lock.
   */
  async acquire(actor: Actor, nodeId: number, now = new Date()): Promise<{ held: boolean; lock: EditLock }> {
    const at = nowIso(now);
    const expires = nowIso(new Date(now.getTime() + this.ttlMs));
    await this.deps.db
      .insertInto('cms_edit_locks')
      .values({ node_id: nodeId, user_id: actor.id, user_name: actor.displayName, acquired_at: at, expires_at: expires })
      .onConflict((oc) =>
        oc
          .column('node_id')
          .doUpdateSet((eb) => ({
            user_id: actor.id,
            user_name: actor.displayName,
            // Renewing keeps the time the editor started; taking over a lapsed lock starts anew.
            acquired_at: eb.case().when('cms_edit_locks.user_id', '=', actor.id).then(eb.ref('cms_edit_locks.acquired_at')).else(at).end(),
            expires_at: expires,
          }))
          .where((eb) => eb.or([eb('cms_edit_locks.user_id', '=', actor.id), eb('cms_edit_locks.expires_at', '<=', at)])),
      )
      .execute();
    const row = await this.deps.db.selectFrom('cms_edit_locks').selectAll().where('node_id', '=', nodeId).executeTakeFirstOrThrow();
    return { held: row.user_id === actor.id, lock: toLock(row) };
  }

  /** The lock in force on a node, or null when nobody holds it (or it lapsed). */
  async current(nodeId: number, now = new Date()): Promise<EditLock | null> {
    const row = await this.deps.db.selectFrom('cms_edit_locks').selectAll().where('node_id', '=', nodeId).where('expires_at', '>', nowIso(now)).executeTakeFirst();
    return row ? toLock(row) : null;
  }

  /** Locks in force on the given nodes (for the page manager's status column). */
  async activeFor(nodeIds: number[], now = new Date()): Promise<Map<number, EditLock>> {
    if (!nodeIds.length) return new Map();
    const rows = await this.deps.db.selectFrom('cms_edit_locks').selectAll().where('expires_at', '>', nowIso(now)).execute();
    const wanted = new Set(nodeIds);
    return new Map(rows.filter((r) => wanted.has(r.node_id)).map((r) => [r.node_id, toLock(r)]));
  }

  /** Gives up the actor's own lock (save and close, 編集を終了). Someone else's lock stays. */
  async release(actor: Actor, nodeId: number): Promise<void> {
    await this.deps.db.deleteFrom('cms_edit_locks').where('node_id', '=', nodeId).where('user_id', '=', actor.id).execute();
  }

  /**
   * Removes another editor's (or a lapsed) lock so the actor can edit: for holders of cms.publish
   * when a colleague left the editor open. Audited with whose lock it was.
   */
  async breakLock(actor: Actor, node: CmsNode, meta: RequestMeta, now = new Date()): Promise<EditLock | null> {
    return this.deps.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('cms_edit_locks').selectAll().where('node_id', '=', node.id).executeTakeFirst();
      if (!row) return null;
      await tx.deleteFrom('cms_edit_locks').where('node_id', '=', node.id).execute();
      const lapsed = row.expires_at <= nowIso(now);
      await this.deps.audit.record(
        {
          actor: actorRef(actor),
          organizationId: node.organization_id,
          ...meta,
          action: 'cms.lock_break',
          targetType: 'cms_node',
          targetId: node.id,
          summary: `${node.path} の編集ロック（${row.user_name}さん、${row.acquired_at} から${lapsed ? '、期限切れ' : ''}）を解除しました`,
          details: { userId: row.user_id, acquiredAt: row.acquired_at, expiresAt: row.expires_at },
        },
        tx,
      );
      return toLock(row);
    });
  }
}
