import { AsyncLocalStorage } from 'node:async_hooks';
import { z } from 'zod';
import type { Kysely, Selectable } from 'kysely';
import type { AuditService } from '../../../core/audit/index.js';
import type { RequestMeta } from '../../../core/auth/service.js';
import { isRowId, isUniqueViolation, nowIso, parseJson, type Database, type Db } from '../../../core/db/index.js';
import { ForbiddenError, InputError, NotFoundError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import type { MailService } from '../../../core/mail/index.js';
import { actorRef, type OrganizationService } from '../../../core/organizations/index.js';
import type { Actor, PermissionRegistry } from '../../../core/permissions/index.js';
import { formatWhen } from '../../../core/ui/view.js';
import { checkAccessibility, hasBlockingIssues, type A11yIssue } from '../content/index.js';
import type { CmsServices } from '../index.js';
import type { CmsNode, CmsVersion } from '../pages.js';
import type { PublishHook } from '../parts.js';
import type { Site } from '../sites.js';
import { activeStaff, orgTree, type OrgTree, type StaffMember } from './directory.js';
import { mailApproved, mailApproverTurn, mailPublished, mailSentBack, mailVoid, type MailPage } from './mail.js';
import { A11Y_OVERRIDE, type ApprovalRoute, type ApprovalRouteService } from './routes.js';
import type { ApprovalRule, CmsWorkflowRequestTable, CmsWorkflowStepTable, WorkflowStatus } from './schema.js';

export type WorkflowRequest = Selectable<CmsWorkflowRequestTable>;
export type WorkflowStep = Selectable<CmsWorkflowStepTable>;

export const OPEN_STATUSES: WorkflowStatus[] = ['pending', 'scheduled'];
export const STALE_MESSAGE = '内容が変更されたため再依頼が必要です。';

const reasonText = (label: string, required: boolean) => {
  const base = z.string().trim().max(1000, `${label}は1000文字以内で入力してください。`);
  return required ? base.min(1, `${label}を入力してください。`) : base;
};

export const requestInput = z.object({
  comment: reasonText('コメント', false).default(''),
  publishAt: z.date().nullable().default(null),
  overrideReason: reasonText('エラーがあるまま依頼する理由', false).default(''),
});
export type RequestInput = z.input<typeof requestInput>;

/** Everything the editor panel and the request form need to offer 承認を依頼する. */
export interface RequestPreparation {
  /** Why no request can be made now (no draft, no route, nobody to approve); null when one can. */
  problem: string | null;
  draft: CmsVersion | null;
  route: ApprovalRoute | null;
  /** The approvers each level would get, the requester left out. */
  levels: Array<{ rule: ApprovalRule; approvers: StaffMember[] }>;
  issues: A11yIssue[];
  blocking: boolean;
  /** The actor may ask despite errors (cms.a11y_override), giving a reason. */
  canOverride: boolean;
}

/** A request with what the screens show around it. */
export interface RequestDetail {
  request: WorkflowRequest;
  steps: WorkflowStep[];
  node: CmsNode;
  version: CmsVersion;
  site: Site | undefined;
  /** The number of the version live now (for a diff against the requested one), if any. */
  liveNumber: number | null;
  issues: A11yIssue[];
  /** Why the open request no longer stands, or null. */
  stale: string | null;
  /** The actor is an undecided approver of the current level. */
  isCurrentApprover: boolean;
  /** …who may approve: no blocking errors, or cms.a11y_override (with a reason). */
  mayApprove: boolean;
  mustGiveOverrideReason: boolean;
  mayWithdraw: boolean;
}

export interface ListedRequest {
  request: WorkflowRequest;
  title: string;
  path: string;
  siteName: string;
  stale: string | null;
}

/** The final approval in progress, seen by the publish hook inside PageService.publish's transaction. */
interface FinalApproval {
  requestId: number;
  nodeId: number;
  versionId: number;
  level: number;
  actor: Actor;
  comment: string | null;
  overrideReason: string | null;
  meta: RequestMeta;
}

/** The version being published is not the one approved: nothing is published, the request is void. */
class StaleVersionError extends Error {}
/** Two approvers of an "all" level finished it at the same moment; the later one retries as the final approval. */
class LevelCompletedConcurrently extends Error {}

export interface WorkflowDeps {
  db: Db;
  audit: AuditService;
  mail: MailService;
  organizations: OrganizationService;
  permissions: PermissionRegistry;
  cms: CmsServices;
  routes: ApprovalRouteService;
  /** Read at send time (BASE_URL may be set after start-up). */
  config: { BASE_URL: string };
  log: Logger;
  /** Called after a transaction that queued mail commits, so it goes out promptly. */
  wakeMail?: () => void;
}

/**
 * 承認ワークフロー: a page's exact draft version goes through the levels of its approval route;
 * the last approval publishes it at once (or at the requested time), a send-back returns it to
 * the requester. Every change is audited in its transaction and mailed to whoever acts next.
 */
export class WorkflowService {
  private readonly finalApproval = new AsyncLocalStorage<FinalApproval>();

  constructor(private readonly deps: WorkflowDeps) {}

  // ---- reading -------------------------------------------------------------------------------

  private link(requestId: number): string {
    return `${this.deps.config.BASE_URL}/admin/cms/workflow/requests/${requestId}`;
  }

  private async site(siteId: number): Promise<Site | undefined> {
    return this.deps.cms.sites.get(siteId);
  }

  private publicUrl(site: Site | undefined, path: string): string {
    const base = this.deps.config.BASE_URL;
    if (site?.host) return `${new URL(base).protocol}//${site.host}${path}`;
    return `${base}${site?.pathPrefix ?? ''}${path}`;
  }

  private mailPage(site: Site | undefined, node: CmsNode, title: string): MailPage {
    return { title, path: node.path, siteName: site?.name ?? '' };
  }

  /** Why an open request no longer stands, or null while it does. */
  staleness(node: CmsNode, r: Pick<WorkflowRequest, 'status' | 'version_id'>): string | null {
    if (!OPEN_STATUSES.includes(r.status)) return null;
    if (node.status === 'trashed') return 'ページがごみ箱に移されたため、依頼は無効です。';
    if (node.draft_version_id === r.version_id) return null;
    if (r.status === 'scheduled' && node.published_version_id === r.version_id) return null;
    if (node.draft_version_id === null && node.published_version_id === r.version_id) return 'この版は承認を経ずに公開されたため、依頼は無効です。';
    return STALE_MESSAGE;
  }

  private async load(actor: Actor, id: number, tree?: OrgTree): Promise<{ request: WorkflowRequest; node: CmsNode; tree: OrgTree }> {
    if (!isRowId(id)) throw new NotFoundError();
    const request = await this.deps.db.selectFrom('cms_workflow_requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (!request) throw new NotFoundError();
    const node = await this.deps.cms.pages.node(request.node_id);
    const t = tree ?? (await orgTree(this.deps.organizations));
    // Requests of pages outside the actor's organisations do not exist for them.
    if (!t.reaches(actor, node.organization_id)) throw new NotFoundError();
    return { request, node, tree: t };
  }

  private steps(requestId: number): Promise<WorkflowStep[]> {
    return this.deps.db.selectFrom('cms_workflow_steps').selectAll().where('request_id', '=', requestId).orderBy('level').orderBy('id').execute();
  }

  /** A request as the actor may see it (NotFoundError outside their organisations). */
  async detail(actor: Actor, id: number): Promise<RequestDetail> {
    const { request, node } = await this.load(actor, id);
    const [steps, version, site, live] = await Promise.all([this.steps(id), this.deps.cms.pages.version(request.version_id), this.site(node.site_id), this.deps.cms.pages.version(node.published_version_id)]);
    if (!version) throw new NotFoundError();
    const issues = checkAccessibility(version.body_html);
    const blocking = hasBlockingIssues(issues);
    const isCurrentApprover = request.status === 'pending' && steps.some((s) => s.level === request.current_level && s.approver_id === actor.id && s.decision === null);
    const override = actor.permissions.has(A11Y_OVERRIDE);
    return {
      request,
      steps,
      node,
      version,
      site,
      liveNumber: live?.number ?? null,
      issues,
      stale: this.staleness(node, request),
      isCurrentApprover,
      mayApprove: isCurrentApprover && (!blocking || override),
      mustGiveOverrideReason: blocking && override,
      mayWithdraw: OPEN_STATUSES.includes(request.status) && (request.requester_id === actor.id || actor.permissions.has('cms.publish')),
    };
  }

  /** The open request of a page (pending or scheduled), if any. */
  async openFor(nodeId: number): Promise<WorkflowRequest | undefined> {
    return this.deps.db.selectFrom('cms_workflow_requests').selectAll().where('node_id', '=', nodeId).where('status', 'in', OPEN_STATUSES).executeTakeFirst();
  }

  /** The page's most recent request, open or not. */
  async latestFor(nodeId: number): Promise<WorkflowRequest | undefined> {
    return this.deps.db.selectFrom('cms_workflow_requests').selectAll().where('node_id', '=', nodeId).orderBy('id', 'desc').limit(1).executeTakeFirst();
  }

  private listed() {
    return this.deps.db
      .selectFrom('cms_workflow_requests as r')
      .innerJoin('cms_nodes as n', 'n.id', 'r.node_id')
      .innerJoin('cms_versions as v', 'v.id', 'r.version_id')
      .selectAll('r')
      .select(['v.title as title', 'n.path as path', 'n.organization_id as node_org', 'n.status as node_status', 'n.draft_version_id as node_draft', 'n.published_version_id as node_live']);
  }

  private async present(actor: Actor, rows: Awaited<ReturnType<ReturnType<WorkflowService['listed']>['execute']>>): Promise<ListedRequest[]> {
    const tree = await orgTree(this.deps.organizations);
    const sites = new Map((await this.deps.cms.sites.all()).map((s) => [s.id, s]));
    return rows
      .filter((r) => tree.reaches(actor, r.node_org))
      .map(({ title, path, node_org, node_status, node_draft, node_live, ...request }) => ({
        request,
        title,
        path,
        siteName: sites.get(request.site_id)?.name ?? '',
        stale: this.staleness({ status: node_status, draft_version_id: node_draft, published_version_id: node_live } as CmsNode, request),
      }));
  }

  /** 承認待ち: requests waiting for the actor's decision at their current level. */
  async inbox(actor: Actor): Promise<ListedRequest[]> {
    const rows = await this.listed()
      .innerJoin('cms_workflow_steps as s', (j) => j.onRef('s.request_id', '=', 'r.id').onRef('s.level', '=', 'r.current_level').on('s.approver_id', '=', actor.id).on('s.decision', 'is', null))
      .where('r.status', '=', 'pending')
      .where('n.status', '!=', 'trashed')
      .orderBy('r.created_at')
      .execute();
    return this.present(actor, rows);
  }

  /** 自分の依頼: the actor's own requests, newest first. */
  async mine(actor: Actor, limit = 50): Promise<ListedRequest[]> {
    const rows = await this.listed().where('r.requester_id', '=', actor.id).orderBy('r.id', 'desc').limit(limit).execute();
    return this.present(actor, rows);
  }

  // ---- asking --------------------------------------------------------------------------------

  /** What asking for approval of the page's draft would involve, and whether it can be done now. */
  async prepare(actor: Actor, node: CmsNode): Promise<RequestPreparation> {
    const empty: RequestPreparation = { problem: null, draft: null, route: null, levels: [], issues: [], blocking: false, canOverride: actor.permissions.has(A11Y_OVERRIDE) };
    const draft = (await this.deps.cms.pages.version(node.draft_version_id)) ?? null;
    if (!draft) return { ...empty, problem: '承認を依頼できる下書きがありません。内容を変更して下書き保存すると依頼できます。' };
    const issues = checkAccessibility(draft.body_html);
    const out: RequestPreparation = { ...empty, draft, issues, blocking: hasBlockingIssues(issues) };
    const tree = await orgTree(this.deps.organizations);
    const route = await this.deps.routes.resolve(node, tree);
    if (!route) return { ...out, problem: await this.noRouteMessage(node) };
    const staff = new Map((await activeStaff(this.deps.db, this.deps.permissions, route.levels.flatMap((l) => l.approverIds))).map((s) => [s.id, s]));
    const levels = route.levels.map((l) => ({
      rule: l.rule,
      approvers: l.approverIds.map((id) => staff.get(id)).filter((s): s is StaffMember => !!s && s.id !== actor.id && s.permissions.has('cms.edit') && tree.reaches(s, node.organization_id)),
    }));
    const emptyLevel = levels.findIndex((l) => !l.approvers.length);
    const problem =
      emptyLevel >= 0
        ? `承認ルート「${route.name}」の第${emptyLevel + 1}段に、このページを承認できる人がいません（依頼者本人は承認者になれません）。承認ルートの管理者に確認してください。`
        : null;
    return { ...out, route, levels, problem };
  }

  private async noRouteMessage(node: CmsNode): Promise<string> {
    const site = await this.site(node.site_id);
    const admins = site ? (await this.deps.routes.routeAdministrators(site)).slice(0, 3) : [];
    const who = admins.length ? admins.map((a) => `${a.displayName}さん`).join('、') : 'サイト管理者';
    return `このページには承認ルートが設定されていないため、承認を依頼できません。${who}に承認ルートの設定を依頼してください。`;
  }

  /**
   * 承認を依頼する: pins the node's current draft version and sends it to the first level.
   * Refused when the draft has accessibility errors, unless the actor holds cms.a11y_override and
   * says why. An open request for an older draft is voided on the way.
   */
  async requestApproval(actor: Actor, nodeId: number, input: RequestInput, meta: RequestMeta): Promise<number> {
    const node = await this.deps.cms.pages.node(nodeId);
    const tree = await orgTree(this.deps.organizations);
    if (!tree.reaches(actor, node.organization_id) || node.status === 'trashed') throw new NotFoundError();
    if (!actor.permissions.has('cms.edit')) throw new ForbiddenError();
    const parsed = requestInput.safeParse(input);
    if (!parsed.success) throw new InputError(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0] ?? '_form'), i.message])));
    const d = parsed.data;
    const errors: Record<string, string> = {};
    if (d.publishAt) {
      if (d.publishAt.getTime() <= Date.now()) errors.publishAt = '公開希望日時は、今より後の日時を入力してください。';
      else if (node.unpublish_at && Date.parse(node.unpublish_at) <= d.publishAt.getTime()) errors.publishAt = `公開希望日時は、公開終了日時（${formatWhen(node.unpublish_at)}）より前にしてください。`;
    }
    const prep = await this.prepare(actor, node);
    if (prep.problem) throw new InputError({ _form: prep.problem, ...errors });
    const draft = prep.draft!;
    const errorCount = prep.issues.filter((i) => i.severity === 'error').length;
    if (prep.blocking) {
      if (!prep.canOverride) throw new InputError({ _form: `アクセシビリティのエラーが${errorCount}件あるため、承認を依頼できません。本文を直して下書き保存してから依頼してください。`, ...errors });
      if (!d.overrideReason) errors.overrideReason = 'アクセシビリティのエラーがあるまま依頼する理由を入力してください。';
    }
    if (Object.keys(errors).length) throw new InputError(errors);
    const route = prep.route!;
    const site = await this.site(node.site_id);
    const at = nowIso();
    let requestId = 0;
    try {
      await this.deps.db.transaction().execute(async (tx) => {
        const current = await tx.selectFrom('cms_nodes').selectAll().where('id', '=', node.id).executeTakeFirstOrThrow();
        if (current.draft_version_id !== draft.id) throw new InputError({ _form: 'この間に下書きが保存されました。画面を開き直してから依頼してください。' });
        const open = await tx.selectFrom('cms_workflow_requests').selectAll().where('node_id', '=', node.id).where('status', 'in', OPEN_STATUSES).executeTakeFirst();
        if (open) {
          const stale = this.staleness(current, open);
          if (!stale) {
            throw new InputError({
              _form: open.status === 'scheduled' ? 'この版は承認済みで、公開を予約しています。変更するには依頼を取り下げてください。' : `この版は既に承認を依頼しています（${formatWhen(open.created_at)}、${open.requester_name}さん）。`,
            });
          }
          await this.voidInTx(tx, open, current, site, stale, actor, meta);
        }
        requestId = (
          await tx
            .insertInto('cms_workflow_requests')
            .values({
              node_id: node.id,
              site_id: node.site_id,
              version_id: draft.id,
              version_number: draft.number,
              route_id: route.id,
              route_name: route.name,
              levels: JSON.stringify(prep.levels.map((l) => ({ rule: l.rule }))),
              current_level: 1,
              status: 'pending',
              requester_id: actor.id,
              requester_name: actor.displayName,
              comment: d.comment || null,
              publish_at: d.publishAt ? d.publishAt.toISOString() : null,
              a11y_errors: errorCount,
              a11y_override_reason: prep.blocking ? d.overrideReason : null,
              closed_reason: null,
              closed_by: null,
              created_at: at,
              updated_at: at,
              closed_at: null,
            })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id;
        await tx
          .insertInto('cms_workflow_steps')
          .values(prep.levels.flatMap((l, i) => l.approvers.map((a) => ({ request_id: requestId, level: i + 1, approver_id: a.id, approver_name: a.displayName, decision: null, comment: null, a11y_override_reason: null, decided_at: null }))))
          .execute();
        await this.deps.audit.record(
          {
            actor: actorRef(actor),
            organizationId: node.organization_id,
            ...meta,
            action: 'cms.workflow_request',
            targetType: 'cms_node',
            targetId: node.id,
            summary: `「${draft.title}」（${node.path}、版 ${draft.number}）の承認を依頼しました（ルート「${route.name}」、${prep.levels.length}段）${prep.blocking ? `。アクセシビリティのエラー ${errorCount} 件があるまま依頼（理由: ${d.overrideReason}）` : ''}`,
            details: { requestId, versionId: draft.id, routeId: route.id, levels: prep.levels.map((l) => ({ rule: l.rule, approverIds: l.approvers.map((a) => a.id) })), publishAt: d.publishAt?.toISOString() ?? null, a11yErrors: errorCount, overrideReason: prep.blocking ? d.overrideReason : null },
          },
          tx,
        );
        const reqRow = { comment: d.comment || null, publish_at: d.publishAt?.toISOString() ?? null, a11y_override_reason: prep.blocking ? d.overrideReason : null, a11y_errors: errorCount, requester_name: actor.displayName };
        for (const a of prep.levels[0]!.approvers) await this.mailTurn(tx, a, reqRow, requestId, 1, prep.levels.length, this.mailPage(site, node, draft.title));
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ _form: 'ほかの人がこのページの承認を同時に依頼しました。画面を開き直して確認してください。' });
      throw e;
    }
    this.deps.wakeMail?.();
    return requestId;
  }

  private mailTurn(tx: Kysely<Database>, to: { email: string | null; displayName: string }, r: Pick<WorkflowRequest, 'comment' | 'publish_at' | 'a11y_override_reason' | 'a11y_errors' | 'requester_name'>, requestId: number, level: number, levels: number, page: MailPage) {
    return mailApproverTurn(this.deps.mail, tx, to, {
      page,
      requester: r.requester_name,
      comment: r.comment,
      level,
      levels,
      publishAt: r.publish_at,
      overrideReason: r.a11y_override_reason,
      a11yErrors: r.a11y_errors,
      link: this.link(requestId),
    });
  }

  private async userIn(tx: Kysely<Database>, id: number): Promise<{ email: string | null; displayName: string }> {
    const u = await tx.selectFrom('users').select(['email', 'display_name', 'status']).where('id', '=', id).executeTakeFirst();
    return { email: u && u.status === 'active' ? u.email || null : null, displayName: u?.display_name ?? '' };
  }

  /** Claims the request row for this change; fails when someone else changed it first. */
  private async claim(tx: Kysely<Database>, r: WorkflowRequest, set: Partial<Pick<WorkflowRequest, 'status' | 'current_level' | 'closed_reason' | 'closed_by' | 'closed_at'>>): Promise<void> {
    const res = await tx
      .updateTable('cms_workflow_requests')
      .set({ ...set, updated_at: nowIso() })
      .where('id', '=', r.id)
      .where('status', '=', r.status)
      .where('current_level', '=', r.current_level)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new InputError({ _form: 'この依頼は、ほかの人が先に処理しました。画面を開き直して確認してください。' });
  }

  private async voidInTx(tx: Kysely<Database>, r: WorkflowRequest, node: CmsNode, site: Site | undefined, reason: string, actor: Actor | null, meta: RequestMeta): Promise<void> {
    await this.claim(tx, r, { status: 'void', closed_reason: reason, closed_by: actor?.id || null, closed_at: nowIso() });
    await this.deps.audit.record(
      { actor: actor ? actorRef(actor) : null, organizationId: node.organization_id, ...meta, action: 'cms.workflow_void', targetType: 'cms_node', targetId: node.id, summary: `${node.path} の承認依頼（版 ${r.version_number}）が無効になりました: ${reason}`, details: { requestId: r.id } },
      tx,
    );
    const title = (await tx.selectFrom('cms_versions').select('title').where('id', '=', r.version_id).executeTakeFirst())?.title ?? node.path;
    await mailVoid(this.deps.mail, tx, await this.userIn(tx, r.requester_id), { page: this.mailPage(site, node, title), reason, link: this.link(r.id) });
  }

  private async voidNow(r: WorkflowRequest, node: CmsNode, reason: string, actor: Actor | null, meta: RequestMeta): Promise<void> {
    const site = await this.site(node.site_id);
    await this.deps.db.transaction().execute((tx) => this.voidInTx(tx, r, node, site, reason, actor, meta));
    this.deps.wakeMail?.();
  }

  // ---- deciding ------------------------------------------------------------------------------

  /** The actor's undecided step at the current level; ForbiddenError when it is not their turn. */
  private async myTurn(actor: Actor, r: WorkflowRequest): Promise<WorkflowStep> {
    if (r.status !== 'pending') throw new InputError({ _form: r.status === 'scheduled' ? 'この依頼は承認済みで、公開を予約しています。' : 'この依頼は既に終わっています。' });
    const step = await this.deps.db
      .selectFrom('cms_workflow_steps')
      .selectAll()
      .where('request_id', '=', r.id)
      .where('level', '=', r.current_level)
      .where('approver_id', '=', actor.id)
      .where('decision', 'is', null)
      .executeTakeFirst();
    if (!step) throw new ForbiddenError('not an approver of the current level');
    return step;
  }

  /**
   * 承認. Completes the actor's step; when that completes the level (any one approver, or all of
   * them), the next level's approvers are mailed, or — at the last level — the pinned version is
   * published at once (or scheduled for the requested time). A request whose page changed since
   * is voided instead: 内容が変更されたため再依頼が必要です.
   */
  async approve(actor: Actor, id: number, input: { comment?: string; overrideReason?: string }, meta: RequestMeta): Promise<{ outcome: 'advanced' | 'waiting' | 'published' | 'scheduled' }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.approveOnce(actor, id, input, meta);
      } catch (e) {
        if (e instanceof LevelCompletedConcurrently && attempt < 2) continue;
        throw e;
      }
    }
  }

  private async approveOnce(actor: Actor, id: number, input: { comment?: string; overrideReason?: string }, meta: RequestMeta): Promise<{ outcome: 'advanced' | 'waiting' | 'published' | 'scheduled' }> {
    const { request: r, node } = await this.load(actor, id);
    const step = await this.myTurn(actor, r);
    const comment = (input.comment ?? '').trim();
    const overrideReason = (input.overrideReason ?? '').trim();
    const errors: Record<string, string> = {};
    if (comment.length > 1000) errors.approveComment = 'コメントは1000文字以内で入力してください。';
    if (overrideReason.length > 1000) errors.approveOverride = '理由は1000文字以内で入力してください。';
    const stale = this.staleness(node, r);
    if (stale) {
      await this.voidNow(r, node, stale, actor, meta);
      throw new InputError({ _form: stale });
    }
    const version = (await this.deps.cms.pages.version(r.version_id))!;
    const issues = checkAccessibility(version.body_html);
    if (hasBlockingIssues(issues)) {
      const n = issues.filter((i) => i.severity === 'error').length;
      if (!actor.permissions.has(A11Y_OVERRIDE)) throw new InputError({ _form: `この版にはアクセシビリティのエラーが${n}件あるため、承認できません（承認するには「アクセシビリティ検査の例外承認」の権限が必要です）。差し戻してください。` });
      if (!overrideReason) errors.approveOverride = 'アクセシビリティのエラーがあるまま承認する理由を入力してください。';
    }
    if (Object.keys(errors).length) throw new InputError(errors);

    const levels = parseJson<Array<{ rule: ApprovalRule }>>(r.levels, []);
    const rule = levels[r.current_level - 1]?.rule ?? 'any';
    const others = await this.deps.db.selectFrom('cms_workflow_steps').select(['id']).where('request_id', '=', r.id).where('level', '=', r.current_level).where('decision', 'is', null).where('id', '!=', step.id).execute();
    const completesLevel = rule === 'any' || others.length === 0;
    const isLast = r.current_level >= levels.length;
    const site = await this.site(node.site_id);
    const ctx: FinalApproval = { requestId: r.id, nodeId: node.id, versionId: r.version_id, level: r.current_level, actor, comment: comment || null, overrideReason: overrideReason || null, meta };

    if (completesLevel && isLast) {
      const at = r.publish_at && Date.parse(r.publish_at) > Date.now() ? r.publish_at : null;
      if (at) {
        if (node.unpublish_at && Date.parse(node.unpublish_at) <= Date.parse(at)) throw new InputError({ _form: `公開希望日時（${formatWhen(at)}）が、このページの公開終了日時（${formatWhen(node.unpublish_at)}）より後です。差し戻して日時を直してもらってください。` });
        await this.deps.db.transaction().execute(async (tx) => {
          await this.recordApproval(tx, ctx, r, version, node, 'scheduled', `（最終段。${formatWhen(at)} に公開を予約）`);
          await mailApproved(this.deps.mail, tx, await this.userIn(tx, r.requester_id), { page: this.mailPage(site, node, version.title), approver: actor.displayName, publishedUrl: null, publishAt: at, link: this.link(r.id) });
        });
        await this.deps.cms.pages.schedule(actor, node.id, { publishAt: new Date(at), unpublishAt: node.unpublish_at ? new Date(node.unpublish_at) : null }, meta);
        this.deps.wakeMail?.();
        return { outcome: 'scheduled' };
      }
      try {
        // PageService.publish runs the publish hook in its transaction; the hook records this approval there.
        await this.finalApproval.run(ctx, () => this.deps.cms.pages.publish(actor, node.id, meta));
      } catch (e) {
        if (!(e instanceof StaleVersionError)) throw e;
        await this.voidNow(r, await this.deps.cms.pages.node(node.id), STALE_MESSAGE, actor, meta);
        throw new InputError({ _form: STALE_MESSAGE });
      }
      this.deps.wakeMail?.();
      return { outcome: 'published' };
    }

    let advanced = false;
    await this.deps.db.transaction().execute(async (tx) => {
      // Claim the request row first: on PostgreSQL that locks it, so two approvers of an "all"
      // level count each other's decisions one after the other, never both "still waiting".
      await this.claim(tx, r, {});
      const left = await tx.selectFrom('cms_workflow_steps').select(['id']).where('request_id', '=', r.id).where('level', '=', r.current_level).where('decision', 'is', null).where('id', '!=', step.id).execute();
      advanced = rule === 'any' || left.length === 0;
      if (advanced && isLast) throw new LevelCompletedConcurrently();
      if (advanced) await tx.updateTable('cms_workflow_requests').set({ current_level: r.current_level + 1 }).where('id', '=', r.id).execute();
      await this.recordApproval(tx, ctx, r, version, node, null, advanced ? `（第${r.current_level}段を完了）` : `（第${r.current_level}段、ほかの承認者を待っています）`);
      if (advanced) {
        const next = await tx.selectFrom('cms_workflow_steps').select(['approver_id']).where('request_id', '=', r.id).where('level', '=', r.current_level + 1).execute();
        for (const s of next) await this.mailTurn(tx, await this.userIn(tx, s.approver_id), r, r.id, r.current_level + 1, levels.length, this.mailPage(site, node, version.title));
      }
    });
    this.deps.wakeMail?.();
    return { outcome: advanced ? 'advanced' : 'waiting' };
  }

  /** Claims the request with `close` (null: already claimed), marks the actor's step approved and audits, all in `tx`. */
  private async recordApproval(tx: Kysely<Database>, ctx: FinalApproval, r: WorkflowRequest, version: CmsVersion, node: CmsNode, close: 'published' | 'scheduled' | null, note: string): Promise<void> {
    const at = nowIso();
    if (close) await this.claim(tx, r, { status: close, closed_at: close === 'scheduled' ? null : at, closed_by: ctx.actor.id });
    const res = await tx
      .updateTable('cms_workflow_steps')
      .set({ decision: 'approved', comment: ctx.comment, a11y_override_reason: ctx.overrideReason, decided_at: at })
      .where('request_id', '=', r.id)
      .where('level', '=', ctx.level)
      .where('approver_id', '=', ctx.actor.id)
      .where('decision', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new InputError({ _form: 'この依頼は、ほかの人が先に処理しました。画面を開き直して確認してください。' });
    await this.deps.audit.record(
      {
        actor: actorRef(ctx.actor),
        organizationId: node.organization_id,
        ...ctx.meta,
        action: 'cms.workflow_approve',
        targetType: 'cms_node',
        targetId: node.id,
        summary: `「${version.title}」（${node.path}、版 ${version.number}）を承認しました${note}${ctx.overrideReason ? `。アクセシビリティのエラーがあるまま承認（理由: ${ctx.overrideReason}）` : ''}`,
        details: { requestId: r.id, level: ctx.level, comment: ctx.comment, overrideReason: ctx.overrideReason },
      },
      tx,
    );
  }

  /** 差し戻し: back to the requester with the approver's reason (required). */
  async sendBack(actor: Actor, id: number, input: { reason?: string }, meta: RequestMeta): Promise<void> {
    const { request: r, node } = await this.load(actor, id);
    await this.myTurn(actor, r);
    const reason = (input.reason ?? '').trim();
    if (!reason) throw new InputError({ sendBackReason: '差し戻す理由を入力してください。' });
    if (reason.length > 1000) throw new InputError({ sendBackReason: '差し戻す理由は1000文字以内で入力してください。' });
    const version = (await this.deps.cms.pages.version(r.version_id))!;
    const site = await this.site(node.site_id);
    await this.deps.db.transaction().execute(async (tx) => {
      const at = nowIso();
      await this.claim(tx, r, { status: 'sent_back', closed_reason: reason, closed_by: actor.id, closed_at: at });
      await tx.updateTable('cms_workflow_steps').set({ decision: 'sent_back', comment: reason, decided_at: at }).where('request_id', '=', r.id).where('level', '=', r.current_level).where('approver_id', '=', actor.id).execute();
      await this.deps.audit.record(
        { actor: actorRef(actor), organizationId: node.organization_id, ...meta, action: 'cms.workflow_send_back', targetType: 'cms_node', targetId: node.id, summary: `「${version.title}」（${node.path}、版 ${version.number}）を差し戻しました（第${r.current_level}段）。理由: ${reason}`, details: { requestId: r.id, level: r.current_level, reason } },
        tx,
      );
      await mailSentBack(this.deps.mail, tx, await this.userIn(tx, r.requester_id), { page: this.mailPage(site, node, version.title), approver: actor.displayName, reason, link: this.link(r.id) });
    });
    this.deps.wakeMail?.();
  }

  /** 取り下げ by the requester (or a publisher): a pending request stops; a scheduled one loses its publication time. */
  async withdraw(actor: Actor, id: number, meta: RequestMeta): Promise<void> {
    const { request: r, node } = await this.load(actor, id);
    if (!OPEN_STATUSES.includes(r.status)) throw new InputError({ _form: 'この依頼は既に終わっています。' });
    if (r.requester_id !== actor.id && !actor.permissions.has('cms.publish')) throw new ForbiddenError('only the requester withdraws');
    await this.deps.db.transaction().execute(async (tx) => {
      await this.claim(tx, r, { status: 'withdrawn', closed_by: actor.id, closed_at: nowIso() });
      await this.deps.audit.record(
        { actor: actorRef(actor), organizationId: node.organization_id, ...meta, action: 'cms.workflow_withdraw', targetType: 'cms_node', targetId: node.id, summary: `${node.path} の承認依頼（版 ${r.version_number}）を取り下げました${r.status === 'scheduled' ? '（公開予約も取り消し）' : ''}`, details: { requestId: r.id, status: r.status } },
        tx,
      );
    });
    if (r.status === 'scheduled' && node.publish_at) await this.deps.cms.pages.schedule(actor, node.id, { publishAt: null, unpublishAt: node.unpublish_at ? new Date(node.unpublish_at) : null }, meta);
  }

  // ---- publication ---------------------------------------------------------------------------

  /**
   * Runs inside every publish / trash transaction of PageService:
   * - the final approval in progress is recorded in the same transaction as the publication, and
   *   refused (nothing published) when the version going live is not the one approved;
   * - an approved, scheduled request is closed when its version goes live; publishing any other
   *   version while it waits is refused, so the scheduler never publishes an unapproved draft;
   * - a page moved to the trash voids its open request.
   */
  readonly publishHook: PublishHook = async (tx, event) => {
    const { node, version } = event;
    if (event.kind === 'trash') {
      const open = await tx.selectFrom('cms_workflow_requests').selectAll().where('node_id', '=', node.id).where('status', 'in', OPEN_STATUSES).executeTakeFirst();
      if (open) await this.voidInTx(tx, open, node, await this.siteIn(tx, node.site_id), 'ページがごみ箱に移されたため。', null, { ip: 'cms', userAgent: 'trash' });
      return;
    }
    if (event.kind !== 'publish' || !version) return;
    const ctx = this.finalApproval.getStore();
    if (ctx && ctx.nodeId === node.id) {
      if (version.id !== ctx.versionId) throw new StaleVersionError();
      const r = await tx.selectFrom('cms_workflow_requests').selectAll().where('id', '=', ctx.requestId).executeTakeFirstOrThrow();
      if (r.status !== 'pending' || r.current_level !== ctx.level) throw new InputError({ _form: 'この依頼は、ほかの人が先に処理しました。画面を開き直して確認してください。' });
      const site = await this.siteIn(tx, node.site_id);
      await this.recordApproval(tx, ctx, r, version, node, 'published', '（最終段。公開しました）');
      await mailApproved(this.deps.mail, tx, await this.userIn(tx, r.requester_id), { page: this.mailPage(site, node, version.title), approver: ctx.actor.displayName, publishedUrl: this.publicUrl(site, node.path), publishAt: null, link: this.link(r.id) });
      return;
    }
    const waiting = await tx.selectFrom('cms_workflow_requests').selectAll().where('node_id', '=', node.id).where('status', '=', 'scheduled').executeTakeFirst();
    if (!waiting) return;
    if (version.id !== waiting.version_id) {
      throw new InputError({ _form: `承認済みの版 ${waiting.version_number} の公開を予約しています（${waiting.publish_at ? formatWhen(waiting.publish_at) : '日時未定'}）。ほかの内容を公開するには、先に承認ワークフローでその依頼を取り下げてください。` });
    }
    const site = await this.siteIn(tx, node.site_id);
    await tx.updateTable('cms_workflow_requests').set({ status: 'published', closed_at: nowIso(), updated_at: nowIso() }).where('id', '=', waiting.id).where('status', '=', 'scheduled').execute();
    await mailPublished(this.deps.mail, tx, await this.userIn(tx, waiting.requester_id), { page: this.mailPage(site, node, version.title), publishedUrl: this.publicUrl(site, node.path), link: this.link(waiting.id) });
  };

  /** The site inside a transaction (SiteService reads through another connection, which SQLite would make wait). */
  private async siteIn(tx: Kysely<Database>, siteId: number): Promise<Site | undefined> {
    const s = await tx.selectFrom('cms_sites').select(['id', 'key', 'name', 'name_en', 'host', 'path_prefix', 'organization_id']).where('id', '=', siteId).executeTakeFirst();
    return s ? { id: s.id, key: s.key, name: s.name, nameEn: s.name_en, host: s.host, pathPrefix: s.path_prefix, organizationId: s.organization_id, settings: { headerMenu: [], footerMenu: [] } } : undefined;
  }

  /**
   * Every minute: an approved, scheduled request whose page has a newer draft no longer stands —
   * the publication time is cleared (so the unapproved draft does not go live) and the requester
   * is told. Near the time itself it leaves the request to the publish hook, which refuses.
   */
  async guardScheduled(now = new Date()): Promise<number> {
    const rows = await this.deps.db.selectFrom('cms_workflow_requests').selectAll().where('status', '=', 'scheduled').execute();
    let voided = 0;
    const meta = { ip: 'scheduler', userAgent: 'machimado jobs' };
    for (const r of rows) {
      const node = await this.deps.cms.pages.node(r.node_id).catch(() => null);
      if (!node) continue;
      const stale = this.staleness(node, r);
      if (!stale) continue;
      const at = r.publish_at ? Date.parse(r.publish_at) : 0;
      if (Math.abs(at - now.getTime()) < 2 * 60_000) continue;
      if (node.publish_at) await this.deps.cms.pages.schedule(null, node.id, { publishAt: null, unpublishAt: node.unpublish_at ? new Date(node.unpublish_at) : null }, meta);
      await this.voidNow(r, node, stale, null, meta).catch((err) => this.deps.log.warn({ err, requestId: r.id }, 'workflow request changed while being voided'));
      voided++;
    }
    return voided;
  }
}
