import type { Context, Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import type { AuditFilter } from '../../../core/audit/index.js';
import { auditContext } from '../../../core/http/app.js';
import { contentDisposition } from '../../../core/csv/index.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { Pagination, SelectField, TextField } from '../../../core/ui/forms.js';
import { formatDateTime, viewOf } from '../../../core/ui/view.js';
import { actorOf, paging, requirePermission } from '../../admin/guards.js';
import type { CmsServices } from '../index.js';

/** What each CMS action means, for the log's readers. Unknown actions show their code. */
export const CMS_ACTIONS: Record<string, string> = {
  'cms.create': '作成',
  'cms.edit': '編集（下書き保存）',
  'cms.publish': '公開',
  'cms.unpublish': '公開終了',
  'cms.hide': '一時非公開',
  'cms.show': '再公開',
  'cms.schedule': '公開・削除の予約',
  'cms.trash': '削除（ごみ箱へ）',
  'cms.trash_restore': 'ごみ箱から戻す',
  'cms.purge': '完全に削除',
  'cms.restore_version': '版の復元',
  'cms.lock_break': '編集ロックの解除',
  'cms.preview_create': 'プレビューURLの作成',
  'cms.preview_revoke': 'プレビューURLの無効化',
  'cms.trash_settings': 'ごみ箱の保存期間の変更',
  'cms.site_create': 'サイトの作成',
  'cms.log_export': '操作ログのCSV出力',
};

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const FILTER_KEYS = ['site', 'action', 'actor', 'from', 'to', 'path'] as const;

/**
 * The CMS log (C-3-17, C-3-18): every cms.* audit entry — publication, edits, deletion, restores,
 * schedules, withdrawals — filtered by site, action, staff member, dates and page path, scoped
 * to the reader's organisations as the system audit screen is.
 */
export function mountLogRoutes(app: Hono<AppEnv>, p: Platform, cms: CmsServices) {
  const filterFrom = async (c: Context<AppEnv>): Promise<{ filter: AuditFilter; query: URLSearchParams }> => {
    const q = (k: string, max = 200) => c.req.query(k)?.trim().slice(0, max) || undefined;
    const query = new URLSearchParams();
    for (const k of FILTER_KEYS) {
      const v = q(k);
      if (v) query.set(k, v);
    }
    const date = (v: string | undefined) => (v && ISO_DATE.test(v) && !Number.isNaN(Date.parse(v)) ? v : undefined);
    const action = q('action');
    const filter: AuditFilter = {
      actionPrefix: 'cms.',
      action: action?.startsWith('cms.') ? action : undefined,
      actorLogin: q('actor'),
      from: date(q('from')),
      to: date(q('to')),
    };
    const siteId = Number(q('site'));
    const path = q('path');
    const site = Number.isSafeInteger(siteId) && siteId > 0 ? await cms.sites.get(siteId) : undefined;
    if (site || path) {
      filter.targetType = 'cms_node';
      filter.targetIds = (await cms.pages.nodeIds({ siteId: site?.id ?? (q('site') ? -1 : undefined), pathPrefix: path })).map(String);
    }
    const actor = actorOf(c);
    if (!actor.allOrganizations) filter.organizationIds = actor.organizationId === null ? [] : [...(await p.organizations.subtree(actor.organizationId))];
    return { filter, query };
  };

  app.get('/admin/cms/log', async (c) => {
    const v = viewOf(c);
    const page = paging(c);
    const { filter, query } = await filterFrom(c);
    const [{ rows, total }, actions, sites] = await Promise.all([p.audit.list(filter, page), p.audit.actions(), cms.sites.all()]);
    const canExport = actorOf(c).permissions.has('cms.publish');
    const label = (a: string) => CMS_ACTIONS[a] ?? a;
    return c.html(
      <AdminLayout v={v} title="ページの操作ログ" menu={p.menu}>
        <p class="inline-actions"><a href="/admin/cms">ページ管理に戻る</a></p>
        <p>ページの作成・編集・公開・削除・復元などの記録です（あなたの組織の分）。記録は書き換えられません。</p>
        <form method="get" action="/admin/cms/log" class="filters" role="search" aria-label="操作ログの絞り込み">
          <SelectField v={v} name="site" label="サイト" value={query.get('site') ?? ''} emptyLabel="すべて" options={sites.map((s) => ({ value: s.id, label: s.name }))} />
          <SelectField v={v} name="action" label="操作" value={filter.action ?? ''} emptyLabel="すべて" options={actions.filter((a) => a.startsWith('cms.')).map((a) => ({ value: a, label: label(a) }))} />
          <TextField v={v} name="actor" label="職員（ログインID）" value={filter.actorLogin ?? ''} spellcheck={false} />
          <TextField v={v} name="from" type="date" label="期間（から）" value={query.get('from') ?? ''} />
          <TextField v={v} name="to" type="date" label="期間（まで）" value={query.get('to') ?? ''} />
          <TextField v={v} name="path" label="ページのURL（前方一致）" value={query.get('path') ?? ''} hint="例: /kurashi/" spellcheck={false} />
          <div class="field"><button type="submit">{v.t('common.filter')}</button></div>
        </form>
        {canExport ? (
          <p class="actions">
            <a href={`/admin/cms/log/export.csv?${query.toString()}`}>{v.t('common.csv')}</a>
            <a href={`/admin/cms/log/export.csv?${new URLSearchParams([...query, ['encoding', 'sjis']]).toString()}`}>{v.t('common.csvSjis')}</a>
          </p>
        ) : null}
        <div class="table-wrap">
          <table data-testid="cms-log">
            <caption>操作ログ（{total}件、新しい順）</caption>
            <thead>
              <tr><th scope="col">日時</th><th scope="col">職員</th><th scope="col">操作</th><th scope="col">内容</th><th scope="col">対象</th></tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td>{formatDateTime(r.at, v.locale)}</td>
                  <td>{r.actorLogin ?? 'システム（予約・自動処理）'}</td>
                  <td>{label(r.action)}<br /><code>{r.action}</code></td>
                  <td>{r.summary}</td>
                  <td>{r.targetType === 'cms_node' && r.targetId ? <a href={`/admin/cms/nodes/${r.targetId}/history`}>履歴<span class="visually-hidden">（ページ #{r.targetId}）</span></a> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pagination v={v} total={total} limit={page.limit} offset={page.offset} baseQuery={query} />
      </AdminLayout>,
    );
  });

  app.get('/admin/cms/log/export.csv', requirePermission('cms.publish'), async (c) => {
    const { filter, query } = await filterFrom(c);
    const encoding = c.req.query('encoding') === 'sjis' ? 'sjis' : 'utf8bom';
    await p.audit.record({ ...auditContext(c), action: 'cms.log_export', targetType: 'audit_log', summary: `ページの操作ログをCSV出力しました（${encoding}、条件: ${query.toString() || 'なし'}）` });
    c.header('Content-Type', `text/csv; charset=${encoding === 'sjis' ? 'Shift_JIS' : 'UTF-8'}`);
    c.header('Content-Disposition', contentDisposition(`ページ操作ログ_${new Date().toISOString().slice(0, 10)}.csv`));
    return stream(c, async (s) => {
      for await (const chunk of p.audit.exportCsv(filter, encoding)) await s.write(chunk);
    });
  });
}
