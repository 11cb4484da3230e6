import { Notice } from '../../../core/ui/forms.js';
import { formatDateTime } from '../../../core/ui/view.js';
import type { EditorContext } from '../parts.js';
import type { WorkflowService } from './service.js';
import { DecisionForms, RequestForm, StatusBadge, WithdrawForm } from './views.js';

/**
 * The page editor's workflow panel: the open request (and, for its current approvers, 承認 /
 * 差し戻し), how the last one ended (a send-back reason, why it became void), and 承認を依頼する
 * for the saved draft.
 */
export async function workflowPanel(svc: WorkflowService, ctx: EditorContext) {
  const { v, actor, node } = ctx;
  if (!node) return null;
  const latest = await svc.latestFor(node.id);
  const open = latest && (latest.status === 'pending' || latest.status === 'scheduled') ? latest : undefined;
  const detail = latest ? await svc.detail(actor, latest.id).catch(() => null) : null;
  const showForm = !open || Boolean(detail?.stale);
  const prep = showForm ? await svc.prepare(actor, node) : null;
  return (
    <section aria-labelledby="wf-panel-title" class="workflow-panel" data-testid="workflow-panel">
      <h2 id="wf-panel-title">承認ワークフロー</h2>
      {latest && detail ? (
        <>
          <p>
            {open ? '承認依頼' : '直近の承認依頼'}（版 {latest.version_number}、{latest.requester_name}さん、{formatDateTime(latest.created_at, v.locale)}）:{' '}
            <StatusBadge request={latest} stale={detail.stale} />{' '}
            <a href={`/admin/cms/workflow/requests/${latest.id}`}>依頼の詳細<span class="visually-hidden">（版 {latest.version_number}）</span></a>
          </p>
          {detail.stale ? <Notice kind="warning"><p data-testid="workflow-stale">{detail.stale}</p></Notice> : null}
          {latest.status === 'sent_back' ? <Notice kind="warning"><p>差し戻しの理由: {latest.closed_reason}</p></Notice> : null}
          {latest.status === 'void' ? <p>無効の理由: {latest.closed_reason}</p> : null}
          {latest.a11y_override_reason && open ? <p>アクセシビリティのエラー {latest.a11y_errors}件があるまま依頼されています。理由: {latest.a11y_override_reason}</p> : null}
          {open && detail.isCurrentApprover && !detail.stale ? (
            <>
              <p>
                <a href={`/admin/cms/workflow/requests/${latest.id}/preview`}>依頼された版の内容を見る<span class="visually-hidden">（版 {latest.version_number}）</span></a>
                　依頼された版のアクセシビリティチェック: エラー {detail.issues.filter((i) => i.severity === 'error').length}件、注意 {detail.issues.filter((i) => i.severity === 'warning').length}件
              </p>
              <DecisionForms v={v} detail={detail} idPrefix="wf" headingLevel={3} />
            </>
          ) : null}
          {open && detail.mayWithdraw && !detail.stale ? <WithdrawForm v={v} request={latest} /> : null}
        </>
      ) : (
        <p>このページの承認依頼はまだありません。</p>
      )}
      {prep ? <RequestForm v={v} node={node} prep={prep} idPrefix="wf" headingLevel={3} /> : null}
    </section>
  );
}
