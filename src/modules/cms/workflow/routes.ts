import { z } from 'zod';
import type { AuditService } from '../../../core/audit/index.js';
import type { RequestMeta } from '../../../core/auth/service.js';
import { isRowId, isUniqueViolation, nowIso, parseJson, type Db } from '../../../core/db/index.js';
import { InputError, NotFoundError } from '../../../core/errors.js';
import { fieldErrors } from '../../../core/http/validate.js';
import { actorRef, type OrganizationService } from '../../../core/organizations/index.js';
import type { Actor, PermissionRegistry } from '../../../core/permissions/index.js';
import type { CmsNode } from '../pages.js';
import type { Site, SiteService } from '../sites.js';
import { activeStaff, orgTree, type OrgTree, type StaffMember } from './directory.js';
import type { ApprovalRule, CmsWorkflowRouteTable } from './schema.js';
import type { Selectable } from 'kysely';

export const MAX_LEVELS = 5;
export const WORKFLOW_ADMIN = 'cms.workflow_admin';
export const A11Y_OVERRIDE = 'cms.a11y_override';

export interface RouteLevel {
  rule: ApprovalRule;
  approverIds: number[];
}

export interface ApprovalRoute {
  id: number;
  siteId: number;
  name: string;
  folderId: number | null;
  organizationId: number | null;
  levels: RouteLevel[];
  updatedAt: string;
}

export const routeInput = z.object({
  siteId: z.number().int().positive(),
  name: z.string({ error: 'ルート名を入力してください。' }).trim().min(1, 'ルート名を入力してください。').max(100, 'ルート名は100文字以内で入力してください。'),
  folderId: z.number().int().positive().nullable().default(null),
  organizationId: z.number().int().positive().nullable().default(null),
  levels: z
    .array(z.object({ rule: z.enum(['any', 'all'], { error: '承認の条件を選んでください。' }), approverIds: z.array(z.number().int().positive()).max(50, '1つの段の承認者は50人までです。') }))
    .max(MAX_LEVELS, `承認の段は${MAX_LEVELS}段までです。`),
});
export type RouteInput = z.input<typeof routeInput>;

/** The form field of a level's approvers (errors are keyed by it). */
export const levelField = (n: number) => `level${n}Approvers`;

function toRoute(r: Selectable<CmsWorkflowRouteTable>): ApprovalRoute {
  return { id: r.id, siteId: r.site_id, name: r.name, folderId: r.folder_id, organizationId: r.organization_id, levels: parseJson<RouteLevel[]>(r.levels, []), updatedAt: r.updated_at };
}

/**
 * 承認ルート: who approves which pages, managed by holders of cms.workflow_admin for the sites of
 * their organisations. A page's route is the most specific one: the deepest folder above it,
 * else its organisation (the nearest one up the tree), else the site's default.
 */
export class ApprovalRouteService {
  constructor(private readonly deps: { db: Db; audit: AuditService; organizations: OrganizationService; permissions: PermissionRegistry; sites: SiteService }) {}

  /** Sites whose routes the actor may manage (those of organisations they reach). */
  async manageableSites(actor: Actor): Promise<Site[]> {
    const tree = await orgTree(this.deps.organizations);
    return (await this.deps.sites.all()).filter((s) => tree.reaches(actor, s.organizationId));
  }

  async list(actor: Actor): Promise<Array<{ site: Site; routes: ApprovalRoute[] }>> {
    const sites = await this.manageableSites(actor);
    if (!sites.length) return [];
    const rows = await this.deps.db.selectFrom('cms_workflow_routes').selectAll().where('site_id', 'in', sites.map((s) => s.id)).orderBy('name').execute();
    return sites.map((site) => ({ site, routes: rows.filter((r) => r.site_id === site.id).map(toRoute) }));
  }

  /** A route the actor may manage; NotFoundError otherwise (guessed ids look like missing ones). */
  async get(actor: Actor, id: number): Promise<{ route: ApprovalRoute; site: Site }> {
    if (!isRowId(id)) throw new NotFoundError();
    const row = await this.deps.db.selectFrom('cms_workflow_routes').selectAll().where('id', '=', id).executeTakeFirst();
    const site = row ? (await this.manageableSites(actor)).find((s) => s.id === row.site_id) : undefined;
    if (!row || !site) throw new NotFoundError();
    return { route: toRoute(row), site };
  }

  /** Staff the actor may name as approvers: active, allowed to edit pages, in organisations the actor reaches. */
  async candidates(actor: Actor): Promise<StaffMember[]> {
    const tree = await orgTree(this.deps.organizations);
    const staff = await activeStaff(this.deps.db, this.deps.permissions);
    return staff.filter((s) => s.permissions.has('cms.edit') && (actor.allOrganizations || (s.organizationId !== null && tree.reaches(actor, s.organizationId))));
  }

  /** Creates (id null) or replaces a route; InputError with Japanese messages per field. */
  async save(actor: Actor, id: number | null, input: RouteInput, meta: RequestMeta): Promise<number> {
    const parsed = routeInput.safeParse(input);
    if (!parsed.success) throw new InputError(fieldErrors(parsed.error));
    const d = parsed.data;
    const before = id === null ? null : (await this.get(actor, id)).route;
    if (before && before.siteId !== d.siteId) throw new NotFoundError();
    const site = (await this.manageableSites(actor)).find((s) => s.id === d.siteId);
    if (!site) throw new NotFoundError();
    const tree = await orgTree(this.deps.organizations);
    const errors: Record<string, string> = {};

    let folder: CmsNode | undefined;
    if (d.folderId !== null) {
      folder = await this.deps.db.selectFrom('cms_nodes').selectAll().where('id', '=', d.folderId).executeTakeFirst();
      if (!folder || folder.site_id !== site.id || folder.kind !== 'folder' || folder.status === 'trashed' || !tree.reaches(actor, folder.organization_id ?? site.organizationId)) {
        errors.folderId = 'このサイトのフォルダを選んでください。';
      } else if (folder.parent_id === null) folder = undefined; // the top folder covers the whole site: that is the site default
    }
    if (d.organizationId !== null) {
      const org = tree.get(d.organizationId);
      if (!org || !tree.reaches(actor, org.id)) errors.organizationId = '管理できる組織を選んでください。';
      else if (site.organizationId !== null && !tree.chain(org.id).includes(site.organizationId)) {
        errors.organizationId = `このサイトの組織（${tree.get(site.organizationId)?.name ?? ''}）か、その下の組織を選んでください。`;
      }
    }

    // Levels: trailing empty ones are ignored; a gap before a filled level is an error.
    const levels = d.levels.map((l) => ({ rule: l.rule, approverIds: [...new Set(l.approverIds)] }));
    while (levels.length && levels[levels.length - 1]!.approverIds.length === 0) levels.pop();
    if (!levels.length) errors[levelField(1)] = '第1段の承認者を1人以上選んでください。';
    const scopeOrg = d.organizationId ?? folder?.organization_id ?? site.organizationId;
    const candidates = new Map((await this.candidates(actor)).map((s) => [s.id, s]));
    levels.forEach((l, i) => {
      const field = levelField(i + 1);
      if (!l.approverIds.length) {
        errors[field] = `第${i + 1}段の承認者を選んでください（第${i + 2}段より前の段は空にできません）。`;
        return;
      }
      for (const uid of l.approverIds) {
        const who = candidates.get(uid);
        if (!who) {
          errors[field] = `第${i + 1}段: 選べない承認者が含まれています。一覧から選び直してください。`;
          return;
        }
        if (!tree.reaches(who, scopeOrg)) {
          errors[field] = `第${i + 1}段: ${who.displayName}さんはこのルートの対象のページを扱えない組織に所属しています。`;
          return;
        }
      }
    });
    if (Object.keys(errors).length) throw new InputError(errors);

    const folderId = folder?.id ?? null;
    const scopeKey = `${folderId ?? ''}:${d.organizationId ?? ''}`;
    const clash = await this.deps.db.selectFrom('cms_workflow_routes').select(['id', 'name']).where('site_id', '=', site.id).where('scope_key', '=', scopeKey).executeTakeFirst();
    const clashMessage = (name: string) => `同じ対象（フォルダと組織の組み合わせ）の承認ルート「${name}」が既にあります。そちらを編集してください。`;
    if (clash && clash.id !== id) throw new InputError({ folderId: clashMessage(clash.name) });

    const at = nowIso();
    const scopeText = `${folder ? `フォルダ ${folder.path}` : 'サイト全体'}${d.organizationId !== null ? `・組織 ${tree.get(d.organizationId)?.name ?? d.organizationId}` : ''}`;
    try {
      return await this.deps.db.transaction().execute(async (tx) => {
        const values = { name: d.name, folder_id: folderId, organization_id: d.organizationId, scope_key: scopeKey, levels: JSON.stringify(levels), updated_by: actor.id || null, updated_at: at };
        let routeId = id;
        if (routeId === null) {
          routeId = (await tx.insertInto('cms_workflow_routes').values({ ...values, site_id: site.id, created_by: actor.id || null, created_at: at }).returning('id').executeTakeFirstOrThrow()).id;
        } else {
          await tx.updateTable('cms_workflow_routes').set(values).where('id', '=', routeId).execute();
        }
        await this.deps.audit.record(
          {
            actor: actorRef(actor),
            organizationId: site.organizationId,
            ...meta,
            action: before ? 'cms.workflow_route_update' : 'cms.workflow_route_create',
            targetType: 'cms_workflow_route',
            targetId: routeId,
            summary: `承認ルート「${d.name}」（${site.name}、${scopeText}、${levels.length}段）を${before ? '変更' : '作成'}しました`,
            details: { before, after: { siteId: site.id, folderId, organizationId: d.organizationId, levels } },
          },
          tx,
        );
        return routeId;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ folderId: clashMessage(d.name) });
      throw e;
    }
  }

  async remove(actor: Actor, id: number, meta: RequestMeta): Promise<void> {
    const { route, site } = await this.get(actor, id);
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('cms_workflow_routes').where('id', '=', id).execute();
      await this.deps.audit.record(
        { actor: actorRef(actor), organizationId: site.organizationId, ...meta, action: 'cms.workflow_route_delete', targetType: 'cms_workflow_route', targetId: id, summary: `承認ルート「${route.name}」（${site.name}）を削除しました`, details: { route } },
        tx,
      );
    });
  }

  /**
   * The route for a page: the deepest folder route above it (one bound to the page's organisation
   * beats one that is not), else the route of the nearest organisation up from the page's, else
   * the site default; null when none applies.
   */
  async resolve(node: CmsNode, tree?: OrgTree): Promise<ApprovalRoute | null> {
    const rows = await this.deps.db.selectFrom('cms_workflow_routes').selectAll().where('site_id', '=', node.site_id).execute();
    if (!rows.length) return null;
    const folderIds = rows.map((r) => r.folder_id).filter((x): x is number => x !== null);
    const folders = folderIds.length ? await this.deps.db.selectFrom('cms_nodes').select(['id', 'path', 'status']).where('id', 'in', folderIds).execute() : [];
    const orgChain = (tree ?? (await orgTree(this.deps.organizations))).chain(node.organization_id);
    let best: { row: (typeof rows)[number]; rank: [number, number] } | null = null;
    for (const row of rows) {
      let folderRank = -1;
      if (row.folder_id !== null) {
        const f = folders.find((x) => x.id === row.folder_id);
        if (!f || f.status === 'trashed' || !node.path.startsWith(f.path)) continue;
        folderRank = f.path.split('/').length;
      }
      let orgRank = -1;
      if (row.organization_id !== null) {
        const at = orgChain.indexOf(row.organization_id);
        if (at < 0) continue;
        orgRank = orgChain.length - at;
      }
      const rank: [number, number] = [folderRank, orgRank];
      if (!best || rank[0] > best.rank[0] || (rank[0] === best.rank[0] && rank[1] > best.rank[1])) best = { row, rank };
    }
    return best ? toRoute(best.row) : null;
  }

  /** Who can set up routes for a site (named in the message when a page has none). */
  async routeAdministrators(site: Site): Promise<StaffMember[]> {
    const tree = await orgTree(this.deps.organizations);
    const staff = await activeStaff(this.deps.db, this.deps.permissions);
    const admins = staff.filter((s) => s.permissions.has(WORKFLOW_ADMIN) && tree.reaches(s, site.organizationId));
    // Nearest first: someone of the site's own organisation before the prefecture-wide administrators.
    return admins.sort((a, b) => Number(a.allOrganizations) - Number(b.allOrganizations));
  }
}
