import { z } from 'zod';
import type { AuditService } from '../audit/index.js';
import type { Db } from '../db/index.js';
import { isUniqueViolation, nowIso } from '../db/index.js';
import type { OrganizationKind } from '../db/schema.js';
import { InputError, NotFoundError } from '../errors.js';
import type { Actor } from '../permissions/index.js';
import { fieldErrors } from '../http/validate.js';
import type { RequestMeta } from '../auth/service.js';

export const ORGANIZATION_KINDS: Array<{ value: OrganizationKind; label: string }> = [
  { value: 'prefecture', label: '都道府県' },
  { value: 'municipality', label: '市区町村' },
  { value: 'department', label: '部署' },
  { value: 'operator', label: '運用事業者' },
  { value: 'store', label: '協賛店' },
];

export const organizationInput = z.object({
  code: z.string().trim().min(1, '組織コードを入力してください。').max(40, '組織コードは40文字以内で入力してください。').regex(/^[A-Za-z0-9_.-]+$/, '組織コードは半角英数字と - _ . で入力してください。'),
  name: z.string().trim().min(1, '組織名を入力してください。').max(100, '組織名は100文字以内で入力してください。'),
  nameEn: z.string().trim().max(100, '英語名は100文字以内で入力してください。').optional().default(''),
  kind: z.enum(['prefecture', 'municipality', 'department', 'operator', 'store'], { error: '種別を選んでください。' }),
  parentId: z.union([z.literal(''), z.coerce.number().int().positive()]).optional().default(''),
});
export type OrganizationInput = z.input<typeof organizationInput>;

export interface OrganizationNode {
  id: number;
  code: string;
  name: string;
  nameEn: string | null;
  kind: OrganizationKind;
  parentId: number | null;
}

/**
 * Organisations (prefecture, municipalities, departments) that scope data. Staff of an
 * organisation see it and everything below it; prefecture-wide roles see all.
 */
export class OrganizationService {
  constructor(private readonly deps: { db: Db; audit: AuditService }) {}

  async all(): Promise<OrganizationNode[]> {
    const rows = await this.deps.db.selectFrom('organizations').selectAll().orderBy('code').execute();
    return rows.map((r) => ({ id: r.id, code: r.code, name: r.name, nameEn: r.name_en, kind: r.kind, parentId: r.parent_id }));
  }

  async get(id: number): Promise<OrganizationNode | undefined> {
    return (await this.all()).find((o) => o.id === id);
  }

  /** Ids of the organisation and every organisation below it. */
  async subtree(rootId: number): Promise<Set<number>> {
    const all = await this.all();
    const out = new Set<number>([rootId]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const o of all) {
        if (o.parentId !== null && out.has(o.parentId) && !out.has(o.id)) {
          out.add(o.id);
          grew = true;
        }
      }
    }
    return out;
  }

  /** The organisations an actor may see and act on. */
  async visibleTo(actor: Actor): Promise<OrganizationNode[]> {
    const all = await this.all();
    if (actor.allOrganizations) return all;
    if (actor.organizationId === null) return [];
    const ids = await this.subtree(actor.organizationId);
    return all.filter((o) => ids.has(o.id));
  }

  async canAccess(actor: Actor, organizationId: number | null): Promise<boolean> {
    if (actor.allOrganizations) return true;
    if (organizationId === null || actor.organizationId === null) return false;
    return (await this.subtree(actor.organizationId)).has(organizationId);
  }

  async create(actor: Actor, input: OrganizationInput, meta: RequestMeta): Promise<number> {
    const data = this.parse(input);
    if (data.parentId !== null && !(await this.get(data.parentId))) throw new InputError({ parentId: '上位組織が見つかりません。' });
    // A scoped administrator adds organisations only inside its own tree.
    if (!(await this.canAccess(actor, data.parentId))) throw new InputError({ parentId: '管理できる組織を上位組織に選んでください。' });
    try {
      return await this.deps.db.transaction().execute(async (tx) => {
        const at = nowIso();
        const row = await tx
          .insertInto('organizations')
          .values({ code: data.code, name: data.name, name_en: data.nameEn || null, kind: data.kind, parent_id: data.parentId, created_at: at, updated_at: at })
          .returning('id')
          .executeTakeFirstOrThrow();
        await this.deps.audit.record(
          { actor: actorRef(actor), organizationId: row.id, ip: meta.ip, userAgent: meta.userAgent, action: 'organization.create', targetType: 'organization', targetId: row.id, summary: `組織「${data.name}」（${data.code}）を作成しました` },
          tx,
        );
        return row.id;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ code: 'この組織コードは既に使われています。' });
      throw e;
    }
  }

  async update(actor: Actor, id: number, input: OrganizationInput, meta: RequestMeta): Promise<void> {
    const before = await this.get(id);
    if (!before) throw new NotFoundError();
    const data = this.parse(input);
    if (data.parentId !== null) {
      if ((await this.subtree(id)).has(data.parentId)) throw new InputError({ parentId: '自分自身や下位の組織を上位組織にはできません。' });
    }
    // Moving an organisation is allowed only into the actor's own tree (keeping the parent is always fine).
    if (data.parentId !== before.parentId && !(await this.canAccess(actor, data.parentId))) {
      throw new InputError({ parentId: '管理できる組織を上位組織に選んでください。' });
    }
    try {
      await this.deps.db.transaction().execute(async (tx) => {
        await tx
          .updateTable('organizations')
          .set({ code: data.code, name: data.name, name_en: data.nameEn || null, kind: data.kind, parent_id: data.parentId, updated_at: nowIso() })
          .where('id', '=', id)
          .execute();
        await this.deps.audit.record(
          { actor: actorRef(actor), organizationId: id, ip: meta.ip, userAgent: meta.userAgent, action: 'organization.update', targetType: 'organization', targetId: id, summary: `組織「${before.name}」を更新しました`, details: { before, after: data } },
          tx,
        );
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ code: 'この組織コードは既に使われています。' });
      throw e;
    }
  }

  private parse(input: OrganizationInput) {
    const r = organizationInput.safeParse(input);
    if (!r.success) throw new InputError(fieldErrors(r.error));
    return { ...r.data, parentId: r.data.parentId === '' ? null : r.data.parentId };
  }
}

export function actorRef(actor: Actor) {
  return { id: actor.id, loginId: actor.loginId, organizationId: actor.organizationId };
}
