import { createHash, randomBytes } from 'node:crypto';
import type { AuditService } from '../../../core/audit/index.js';
import type { RequestMeta } from '../../../core/auth/service.js';
import { nowIso, type Db } from '../../../core/db/index.js';
import { InputError } from '../../../core/errors.js';
import { actorRef } from '../../../core/organizations/index.js';
import type { Actor } from '../../../core/permissions/index.js';
import type { CmsNode } from '../pages.js';
import './schema.js';

/** How long a preview link may live, in hours, as staff choose it (1 hour … 30 days; 7 days by default). */
export const PREVIEW_HOURS = [1, 24, 72, 168, 720] as const;
export const DEFAULT_PREVIEW_HOURS = 168;

/** The shape of a token in a URL: 32 random bytes in base64url (43 characters). */
export const PREVIEW_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface PreviewLink {
  id: number;
  nodeId: number;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Preview links (C-2-7: preview still works while a page is not public): an unguessable token
 * that shows the page's working version — the draft, else the live version of a hidden or
 * withdrawn page — to anyone holding it until it expires or is revoked. Only the token's SHA-256
 * is stored, so the table leaks no working links.
 */
export class PreviewLinkService {
  constructor(private readonly deps: { db: Db; audit: AuditService }) {}

  /** Creates a link; the token is returned once and never again. */
  async create(actor: Actor, node: CmsNode, hours: number, meta: RequestMeta, now = new Date()): Promise<{ id: number; token: string; expiresAt: string }> {
    if (!(PREVIEW_HOURS as readonly number[]).includes(hours)) throw new InputError({ hours: '有効期間を選んでください。' });
    if (node.status === 'trashed') throw new InputError({ _form: 'ごみ箱にあるページのプレビューは作れません。' });
    const token = randomBytes(32).toString('base64url');
    const expiresAt = nowIso(new Date(now.getTime() + hours * 3_600_000));
    return this.deps.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto('cms_preview_links')
        .values({ node_id: node.id, token_hash: hash(token), created_by: actor.id, created_by_name: actor.displayName, created_at: nowIso(now), expires_at: expiresAt, revoked_at: null, revoked_by: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.deps.audit.record(
        { actor: actorRef(actor), organizationId: node.organization_id, ...meta, action: 'cms.preview_create', targetType: 'cms_node', targetId: node.id, summary: `${node.path} のプレビュー用URLを作成しました（有効期限 ${expiresAt}）`, details: { linkId: row.id } },
        tx,
      );
      return { id: row.id, token, expiresAt };
    });
  }

  /** The node a token opens now, or null for an unknown, expired or revoked token. */
  async resolve(token: string, now = new Date()): Promise<number | null> {
    if (!PREVIEW_TOKEN.test(token)) return null;
    const row = await this.deps.db
      .selectFrom('cms_preview_links')
      .select('node_id')
      .where('token_hash', '=', hash(token))
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', nowIso(now))
      .executeTakeFirst();
    return row?.node_id ?? null;
  }

  /** Links of a node that still work, newest first. */
  async active(nodeId: number, now = new Date()): Promise<PreviewLink[]> {
    const rows = await this.deps.db
      .selectFrom('cms_preview_links')
      .selectAll()
      .where('node_id', '=', nodeId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', nowIso(now))
      .orderBy('id', 'desc')
      .execute();
    return rows.map((r) => ({ id: r.id, nodeId: r.node_id, createdBy: r.created_by_name, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at }));
  }

  /** Stops a link at once. False when it is not a working link of this node. */
  async revoke(actor: Actor, node: CmsNode, linkId: number, meta: RequestMeta, now = new Date()): Promise<boolean> {
    return this.deps.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('cms_preview_links')
        .set({ revoked_at: nowIso(now), revoked_by: actor.id })
        .where('id', '=', linkId)
        .where('node_id', '=', node.id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      await this.deps.audit.record(
        { actor: actorRef(actor), organizationId: node.organization_id, ...meta, action: 'cms.preview_revoke', targetType: 'cms_node', targetId: node.id, summary: `${node.path} のプレビュー用URL（#${linkId}）を無効にしました`, details: { linkId } },
        tx,
      );
      return true;
    });
  }
}
