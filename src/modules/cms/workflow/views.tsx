import type { Child } from 'hono/jsx';
import { str, type FormValues } from '../../../core/http/validate.js';
import { Csrf, ErrorSummary, Notice, TextArea, TextField, type FieldErrors } from '../../../core/ui/forms.js';
import { formatDateTime, formatWhen, type View } from '../../../core/ui/view.js';
import type { A11yIssue } from '../content/index.js';
import type { CmsNode } from '../pages.js';
import type { StaffMember } from './directory.js';
import type { ApprovalRule, WorkflowStatus } from './schema.js';
import type { RequestDetail, RequestPreparation, WorkflowRequest, WorkflowStep } from './service.js';

/** 'YYYY-MM-DDTHH:MM' as typed in Japan → the instant; '' → none; anything else is a field error. */
export function fromJstInput(value: string, field: string, errors: FieldErrors): Date | null {
  if (!value.trim()) return null;
  const d = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value.trim()) ? new Date(`${value.trim()}:00+09:00`) : new Date(NaN);
  if (Number.isNaN(d.getTime())) {
    errors[field] = '日時を「2026-04-01 09:00」のように入力してください。';
    return null;
  }
  return d;
}

export const RULE_LABEL: Record<ApprovalRule, string> = { any: '承認者のうち1人が承認すれば次へ', all: '承認者全員の承認が必要' };
const RULE_SHORT: Record<ApprovalRule, string> = { any: 'いずれか1人', all: '全員' };

export function statusLabel(r: Pick<WorkflowRequest, 'status' | 'current_level'>, stale: string | null): string {
  if (stale) return '無効（再依頼が必要）';
  const labels: Record<WorkflowStatus, string> = {
    pending: `承認待ち（第${r.current_level}段）`,
    scheduled: '承認済み・公開予約中',
    published: '承認済み・公開',
    sent_back: '差し戻し',
    withdrawn: '取り下げ',
    void: '無効（再依頼が必要）',
  };
  return labels[r.status];
}

export function StatusBadge(props: { request: Pick<WorkflowRequest, 'status' | 'current_level'>; stale: string | null }) {
  const s = props.request.status;
  const tone = props.stale || s === 'sent_back' || s === 'void' ? 'status--bad' : s === 'published' || s === 'scheduled' ? 'status--good' : 'status--muted';
  return <span class={`status ${tone}`} data-testid="workflow-status">{statusLabel(props.request, props.stale)}</span>;
}

const DECISION: Record<string, string> = { approved: '承認', sent_back: '差し戻し' };

/** Each level of the request, its rule, its approvers and what they decided. */
export function LevelsTable(props: { v: View; request: WorkflowRequest; steps: WorkflowStep[] }) {
  const levels = JSON.parse(props.request.levels) as Array<{ rule: ApprovalRule }>;
  return (
    <div class="table-wrap">
      <table>
        <caption>承認ルート「{props.request.route_name}」の承認状況</caption>
        <thead>
          <tr><th scope="col">段</th><th scope="col">条件</th><th scope="col">承認者と判断</th></tr>
        </thead>
        <tbody>
          {levels.map((l, i) => (
            <tr>
              <th scope="row">第{i + 1}段{props.request.status === 'pending' && props.request.current_level === i + 1 ? '（現在）' : ''}</th>
              <td>{RULE_SHORT[l.rule]}</td>
              <td>
                <ul>
                  {props.steps.filter((s) => s.level === i + 1).map((s) => (
                    <li>
                      {s.approver_name}: {s.decision ? `${DECISION[s.decision]}（${formatDateTime(s.decided_at, props.v.locale)}）` : '未判断'}
                      {s.comment ? <>　コメント: {s.comment}</> : null}
                      {s.a11y_override_reason ? <>　アクセシビリティのエラーを承知で承認した理由: {s.a11y_override_reason}</> : null}
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The accessibility checker's result for the requested version. */
export function A11yResult(props: { issues: A11yIssue[]; headingLevel: 2 | 3; id: string }) {
  const errors = props.issues.filter((i) => i.severity === 'error').length;
  const H = props.headingLevel === 2 ? 'h2' : 'h3';
  return (
    <section aria-labelledby={props.id} class={`notice ${errors ? 'notice--error' : props.issues.length ? 'notice--warning' : 'notice--success'}`} data-testid="workflow-a11y">
      <H id={props.id}>アクセシビリティチェック（エラー {errors}件、注意 {props.issues.length - errors}件）</H>
      {props.issues.length ? (
        <ul>
          {props.issues.map((i) => (
            <li><strong>{i.severity === 'error' ? 'エラー' : '注意'}</strong>: {i.message}{i.excerpt ? <>（該当箇所: 「{i.excerpt}」）</> : null}</li>
          ))}
        </ul>
      ) : (
        <p>問題は見つかりませんでした。</p>
      )}
    </section>
  );
}

/** 承認 and 差し戻し for an approver of the current level. */
export function DecisionForms(props: { v: View; detail: RequestDetail; errors?: FieldErrors; values?: FormValues; idPrefix: string; headingLevel: 2 | 3 }) {
  const { v, detail } = props;
  const id = detail.request.id;
  const H = props.headingLevel === 2 ? 'h2' : 'h3';
  const errorCount = detail.issues.filter((i) => i.severity === 'error').length;
  return (
    <section aria-labelledby={`${props.idPrefix}-decide-title`}>
      <H id={`${props.idPrefix}-decide-title`}>承認または差し戻し（第{detail.request.current_level}段）</H>
      {detail.mayApprove ? (
        <form method="post" action={`/admin/cms/workflow/requests/${id}/approve`} class="form" novalidate>
          <Csrf v={v} />
          <TextArea v={v} name="approveComment" label="承認のコメント（任意）" value={str(props.values?.approveComment)} rows={2} errors={props.errors} idPrefix={props.idPrefix} />
          {detail.mustGiveOverrideReason ? (
            <TextArea v={v} name="approveOverride" label={`アクセシビリティのエラー（${errorCount}件）があるまま承認する理由`} value={str(props.values?.approveOverride)} rows={2} required errors={props.errors} idPrefix={props.idPrefix} hint="理由は記録され、依頼者と操作ログに残ります。" />
          ) : null}
          <div class="actions"><button type="submit">承認</button></div>
        </form>
      ) : (
        <Notice kind="warning"><p>この版にはアクセシビリティのエラーが{errorCount}件あるため、承認できません。差し戻して直してもらってください。</p></Notice>
      )}
      <form method="post" action={`/admin/cms/workflow/requests/${id}/send-back`} class="form" novalidate>
        <Csrf v={v} />
        <TextArea v={v} name="sendBackReason" label="差し戻す理由" value={str(props.values?.sendBackReason)} rows={3} required errors={props.errors} idPrefix={props.idPrefix} hint="依頼者にメールで伝わります。" />
        <div class="actions"><button type="submit" class="button--danger">差し戻し</button></div>
      </form>
    </section>
  );
}

export function WithdrawForm(props: { v: View; request: WorkflowRequest }) {
  return (
    <form method="post" action={`/admin/cms/workflow/requests/${props.request.id}/withdraw`} class="actions">
      <Csrf v={props.v} />
      <button type="submit" class="button--secondary">{props.request.status === 'scheduled' ? '依頼を取り下げる（公開予約も取り消す）' : '依頼を取り下げる'}</button>
    </form>
  );
}

/** The route a request would take, level by level, with the approvers named. */
export function RoutePreview(props: { prep: RequestPreparation }) {
  if (!props.prep.route) return null;
  return (
    <div data-testid="workflow-route">
      <p>承認ルート: <strong>{props.prep.route.name}</strong></p>
      <ol>
        {props.prep.levels.map((l) => (
          <li>{RULE_SHORT[l.rule]}: {l.approvers.map((a: StaffMember) => a.displayName).join('、')}</li>
        ))}
      </ol>
    </div>
  );
}

/** 承認を依頼する for the saved draft (comment, desired publication time, the a11y override reason). */
export function RequestForm(props: { v: View; node: CmsNode; prep: RequestPreparation; errors?: FieldErrors; values?: FormValues; idPrefix: string; headingLevel: 2 | 3 }) {
  const { v, prep } = props;
  const H = props.headingLevel === 2 ? 'h2' : 'h3';
  const errorCount = prep.issues.filter((i) => i.severity === 'error').length;
  return (
    <section aria-labelledby={`${props.idPrefix}-request-title`}>
      <H id={`${props.idPrefix}-request-title`}>承認を依頼する</H>
      {prep.problem ? (
        <Notice kind="warning"><p data-testid="workflow-problem">{prep.problem}</p></Notice>
      ) : prep.blocking && !prep.canOverride ? (
        <Notice kind="warning">
          <p data-testid="workflow-problem">下書き（版 {prep.draft!.number}）にアクセシビリティのエラーが{errorCount}件あるため、承認を依頼できません。本文を直して下書き保存してから依頼してください。</p>
        </Notice>
      ) : (
        <>
          <p>保存済みの下書き（版 {prep.draft!.number}「{prep.draft!.title}」）の承認を依頼します。依頼後に下書きを保存し直すと、依頼は無効になります。</p>
          <RoutePreview prep={prep} />
          <form method="post" action={`/admin/cms/workflow/nodes/${props.node.id}/request`} class="form" novalidate>
            <Csrf v={v} />
            <TextArea v={v} name="comment" label="承認者へのコメント（任意）" value={str(props.values?.comment)} rows={2} errors={props.errors} idPrefix={props.idPrefix} />
            <TextField v={v} name="publishAt" type="datetime-local" label="公開希望日時（任意、日本時間）" value={str(props.values?.publishAt)} errors={props.errors} idPrefix={props.idPrefix} hint="空欄なら、最後の承認ですぐに公開されます。" />
            {prep.blocking ? (
              <TextArea v={v} name="overrideReason" label={`アクセシビリティのエラー（${errorCount}件）があるまま依頼する理由`} value={str(props.values?.overrideReason)} rows={2} required errors={props.errors} idPrefix={props.idPrefix} hint="理由は承認者に表示され、操作ログに残ります。" />
            ) : null}
            <div class="actions"><button type="submit">承認を依頼する</button></div>
          </form>
        </>
      )}
    </section>
  );
}

export const REQUEST_LABELS = { comment: 'コメント', publishAt: '公開希望日時', overrideReason: 'エラーがあるまま依頼する理由' };
export const DECISION_LABELS = { approveComment: '承認のコメント', approveOverride: 'エラーがあるまま承認する理由', sendBackReason: '差し戻す理由' };

/** The summary of one request: page, version, who asked, what for, and how it ended. */
export function RequestFacts(props: { v: View; detail: RequestDetail; children?: Child }) {
  const { v } = props;
  const r = props.detail.request;
  return (
    <dl class="meta">
      <dt>ページ</dt>
      <dd><a href={`/admin/cms/nodes/${r.node_id}`}>{props.detail.version.title}</a>（<code>{props.detail.node.path}</code>、{props.detail.site?.name}）</dd>
      <dt>依頼した版</dt>
      <dd>
        版 {r.version_number}（<a href={`/admin/cms/workflow/requests/${r.id}/preview`}>内容を表示<span class="visually-hidden">: 版 {r.version_number}</span></a>
        {props.detail.liveNumber !== null && props.detail.liveNumber !== r.version_number ? (
          <>、<a href={`/admin/cms/nodes/${r.node_id}/diff?from=${props.detail.liveNumber}&to=${r.version_number}`}>公開中の版 {props.detail.liveNumber} との差分</a></>
        ) : null}
        、<a href={`/admin/cms/nodes/${r.node_id}/history`}>ページの履歴</a>）
      </dd>
      <dt>状態</dt><dd><StatusBadge request={r} stale={props.detail.stale} /></dd>
      <dt>依頼者</dt><dd>{r.requester_name}（{formatDateTime(r.created_at, v.locale)}）</dd>
      <dt>コメント</dt><dd>{r.comment ?? 'なし'}</dd>
      <dt>公開希望日時</dt><dd>{r.publish_at ? formatWhen(r.publish_at, v.locale) : '承認後すぐ'}</dd>
      {r.a11y_override_reason ? <><dt>エラーがあるまま依頼した理由</dt><dd data-testid="workflow-override-reason">アクセシビリティのエラー {r.a11y_errors}件: {r.a11y_override_reason}</dd></> : null}
      {r.status === 'sent_back' ? <><dt>差し戻しの理由</dt><dd data-testid="workflow-closed-reason">{r.closed_reason}</dd></> : null}
      {r.status === 'void' || props.detail.stale ? <><dt>無効の理由</dt><dd data-testid="workflow-closed-reason">{props.detail.stale ?? r.closed_reason}</dd></> : null}
      {props.children}
    </dl>
  );
}

export function DecisionErrors(props: { v: View; errors?: FieldErrors; idPrefix: string }) {
  return <ErrorSummary v={props.v} errors={props.errors} labels={{ ...REQUEST_LABELS, ...DECISION_LABELS }} idPrefix={props.idPrefix} />;
}
