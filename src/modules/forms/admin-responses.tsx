import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { auditContext } from '../../core/http/app.js';
import { readForm, str } from '../../core/http/validate.js';
import { renderError } from '../../core/http/errors.js';
import { contentDisposition, toReadableStream } from '../../core/csv/index.js';
import { AdminLayout } from '../../core/ui/layout.js';
import { formatDateTime, viewOf } from '../../core/ui/view.js';
import { Csrf, ErrorSummary, Notice, Pagination, SelectField, TextArea, TextField, type FieldErrors } from '../../core/ui/forms.js';
import { actorOf, paging, requirePermission } from '../admin/guards.js';
import { FORMS_RESPONSES } from './permissions.js';
import { formatSize, type Question } from './questions.js';
import { RESPONSE_STATUS_LABELS, type ResponseDetail, type ResponseFilter } from './responses.js';
import type { ResponseStatus } from './schema.js';
import type { Form } from './service.js';
import { formsOf } from './services.js';
import { responsesCsv, responsesXlsx } from './export.js';
import { AnswerList, formsAssets } from './views.js';

const MAIL_STATUS: Record<string, string> = { queued: '送信待ち（自動で再送します）', outbox: '未送信（送信サーバ未設定）', sent: '送信済み', failed: '送信失敗（送信メール画面から再送できます）' };
const STATUSES = Object.keys(RESPONSE_STATUS_LABELS) as ResponseStatus[];

/** Filters from the query string; anything malformed is ignored rather than guessed. */
function filterFrom(c: Context<AppEnv>): { filter: ResponseFilter; query: URLSearchParams } {
  const date = (v: string | undefined) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined);
  const status = c.req.query('status');
  const filter: ResponseFilter = {
    from: date(c.req.query('from')),
    to: date(c.req.query('to')),
    status: STATUSES.includes(status as ResponseStatus) ? (status as ResponseStatus) : undefined,
    q: (c.req.query('q') ?? '').trim().slice(0, 100) || undefined,
  };
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v) query.set(k, v);
  return { filter, query };
}

function describeFilter(f: ResponseFilter): string {
  const parts = [f.from ? `${f.from}から` : '', f.to ? `${f.to}まで` : '', f.status ? `状態=${RESPONSE_STATUS_LABELS[f.status]}` : '', f.q ? `語句「${f.q}」` : ''].filter(Boolean);
  return parts.length ? parts.join('、') : '条件なし';
}

/**
 * Responses for staff (C-3-15): list with filters, detail, status and memo, deletion, files,
 * and exports (CSV UTF-8 / Shift_JIS, XLSX). Every list, view, download and export of personal
 * data is recorded in the audit trail.
 */
export function mountResponsesAdminRoutes(app: Hono<AppEnv>, p: Platform) {
  const { forms, responses } = formsOf(p);
  const guard = requirePermission(FORMS_RESPONSES);

  const loadForm = async (c: Context<AppEnv>): Promise<Form | null> => forms.getFor(actorOf(c), Number(c.req.param('id')));
  const loadResponse = async (c: Context<AppEnv>, form: Form) => responses.get(form.id, Number(c.req.param('rid')));

  app.get('/admin/forms/:id{[0-9]+}/responses', guard, async (c) => {
    const form = await loadForm(c);
    if (!form) return renderError(c, 404, 'error.notFound');
    const v = viewOf(c);
    const { filter, query } = filterFrom(c);
    const page = paging(c, 50);
    const questions = await forms.questions(form.id);
    const { rows, total } = await responses.list(form, questions, filter, page);
    await responses.auditAccess(form, auditContext(c), 'forms.responses.list', `フォーム「${form.title}」の回答一覧を表示しました（${describeFilter(filter)}、${rows.length}件表示／${total}件）`, { filter, offset: page.offset });
    const exportQuery = (extra: Record<string, string>) => new URLSearchParams([...query, ...Object.entries(extra)]).toString();
    return c.html(
      <AdminLayout v={v} title={`回答一覧: ${form.title}`} menu={p.menu}>
        {c.req.query('deleted') ? <Notice kind="success"><p>回答を削除しました。</p></Notice> : null}
        <p><a href="/admin/forms">フォーム一覧へ戻る</a>{actorOf(c).permissions.has('forms.manage') ? <> ／ <a href={`/admin/forms/${form.id}`}>フォームの編集</a></> : null}</p>
        <form method="get" action={`/admin/forms/${form.id}/responses`} class="filters" role="search" aria-label="回答の絞り込み">
          <TextField v={v} name="from" type="date" label="受付日（から）" value={filter.from ?? ''} />
          <TextField v={v} name="to" type="date" label="受付日（まで）" value={filter.to ?? ''} />
          <SelectField v={v} name="status" label="状態" value={filter.status ?? ''} emptyLabel="すべて" options={STATUSES.map((s) => ({ value: s, label: RESPONSE_STATUS_LABELS[s] }))} />
          <TextField v={v} name="q" type="search" label="受付番号・回答・メモの語句" value={filter.q ?? ''} />
          <div class="actions"><button type="submit">{v.t('common.filter')}</button><a href={`/admin/forms/${form.id}/responses`}>{v.t('common.reset')}</a></div>
        </form>
        <p class="actions">
          <a href={`/admin/forms/${form.id}/responses/export.csv?${exportQuery({})}`}>CSVで出力（UTF-8）</a>
          <a href={`/admin/forms/${form.id}/responses/export.csv?${exportQuery({ encoding: 'sjis' })}`}>CSVで出力（Shift_JIS）</a>
          <a href={`/admin/forms/${form.id}/responses/export.xlsx?${exportQuery({})}`}>Excel形式（XLSX）で出力</a>
        </p>
        <p>出力は絞り込み条件に合う回答すべてです。出力した記録は操作ログに残ります。</p>
        <div class="table-wrap">
          <table>
            <caption>回答（{total}件）</caption>
            <thead>
              <tr>
                <th scope="col">受付番号</th>
                <th scope="col">受付日時</th>
                <th scope="col">概要</th>
                <th scope="col">状態</th>
                <th scope="col">メモ</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 ? <tr><td colspan={5}>該当する回答はありません。</td></tr> : null}
              {rows.map((r) => (
                <tr data-testid={`response-${r.id}`}>
                  <td><a href={`/admin/forms/${form.id}/responses/${r.id}`}><code>{r.receiptNumber}</code></a></td>
                  <td>{formatDateTime(r.submittedAt, v.locale)}</td>
                  <td>{Array.from(r.preview).slice(0, 40).join('')}</td>
                  <td>{RESPONSE_STATUS_LABELS[r.status]}</td>
                  <td>{r.memo ? 'あり' : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pagination v={v} total={total} limit={page.limit} offset={page.offset} baseQuery={query} />
      </AdminLayout>,
    );
  });

  const exportRoute = (format: 'csv' | 'xlsx') =>
    app.get(`/admin/forms/:id{[0-9]+}/responses/export.${format}`, guard, async (c) => {
      const form = await loadForm(c);
      if (!form) return renderError(c, 404, 'error.notFound');
      const { filter } = filterFrom(c);
      const questions = await forms.questions(form.id, { includeDeleted: true });
      const encoding = c.req.query('encoding') === 'sjis' ? 'sjis' : 'utf8bom';
      const count = await responses.count(form.id, filter);
      const label = format === 'xlsx' ? 'Excel（XLSX）' : `CSV（${encoding === 'sjis' ? 'Shift_JIS' : 'UTF-8'}）`;
      // Recorded before the first byte leaves, so an interrupted download is still on record.
      await responses.auditAccess(form, auditContext(c), 'forms.responses.export', `フォーム「${form.title}」の回答を${label}で出力しました（${describeFilter(filter)}、${count}件）`, { filter, format, encoding, count });
      const date = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
      const rows = responses.exportRows(form.id, filter);
      c.header('Content-Disposition', contentDisposition(`${form.title}_回答_${date}.${format}`));
      c.header('Cache-Control', 'no-store');
      if (format === 'xlsx') {
        c.header('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
        return c.body(toReadableStream(responsesXlsx(rows, questions)));
      }
      c.header('Content-Type', `text/csv; charset=${encoding === 'sjis' ? 'Shift_JIS' : 'UTF-8'}`);
      return c.body(toReadableStream(responsesCsv(rows, questions, encoding)));
    });
  exportRoute('csv');
  exportRoute('xlsx');

  const detailPage = async (c: Context<AppEnv>, form: Form, r: ResponseDetail, opts: { errors?: FieldErrors; memo?: string; notice?: string } = {}) => {
    const v = viewOf(c);
    const questions: Question[] = await forms.questions(form.id, { includeDeleted: true });
    const filesByQuestion = new Map<number, ResponseDetail['files']>();
    for (const f of r.files) filesByQuestion.set(f.questionId, [...(filesByQuestion.get(f.questionId) ?? []), f]);
    const mails = await Promise.all([r.replyMailId, ...r.notifyMailIds].filter((x): x is number => x !== null).map(async (id) => ({ id, row: await p.mail.get(id), kind: id === r.replyMailId ? '自動返信' : '職員への通知' })));
    const canReadMail = actorOf(c).permissions.has('mail.read');
    const ordered = [...r.answers].sort((a, b) => (questions.find((q) => q.id === a.questionId)?.position ?? 0) - (questions.find((q) => q.id === b.questionId)?.position ?? 0));
    return (
      <AdminLayout v={v} title={`回答 ${r.receiptNumber}`} menu={p.menu}>
        {opts.notice ? <Notice kind="success"><p>{opts.notice}</p></Notice> : null}
        <ErrorSummary v={v} errors={opts.errors} labels={{ memo: '対応メモ', status: '状態', confirm: '削除の確認' }} />
        <p><a href={`/admin/forms/${form.id}/responses`}>回答一覧へ戻る</a></p>
        <dl class="meta">
          <dt>フォーム</dt><dd>{form.title}</dd>
          <dt>受付番号</dt><dd><code data-testid="detail-receipt">{r.receiptNumber}</code></dd>
          <dt>受付日時</dt><dd>{formatDateTime(r.submittedAt, v.locale)}</dd>
          <dt>状態</dt><dd data-testid="detail-status">{RESPONSE_STATUS_LABELS[r.status]}</dd>
        </dl>
        <h2>回答の内容</h2>
        <AnswerList class="forms-answers" answers={ordered.map((a) => ({ label: a.label, display: a.value }))} />
        {r.files.length ? (
          <>
            <h2>添付ファイル</h2>
            <ul>
              {r.files.map((f) => (
                <li><a href={`/admin/forms/${form.id}/responses/${r.id}/files/${f.id}`}>{f.filename}</a>（{formatSize(f.size)}、{f.mime}）</li>
              ))}
            </ul>
          </>
        ) : null}
        <h2>メール</h2>
        {mails.length === 0 ? <p>この回答で送ったメールはありません。</p> : (
          <ul>
            {mails.map((m) => (
              <li>{m.kind}: {m.row ? MAIL_STATUS[m.row.status] ?? m.row.status : '記録がありません'}{m.row?.last_error ? `（${m.row.last_error.slice(0, 120)}）` : ''}{canReadMail ? <> <a href={`/admin/mail/${m.id}`}>送信メールを見る<span class="visually-hidden">: {m.kind}</span></a></> : null}</li>
            ))}
          </ul>
        )}
        <h2>対応</h2>
        <form method="post" action={`/admin/forms/${form.id}/responses/${r.id}/status`} class="form">
          <Csrf v={v} />
          <SelectField v={v} name="status" label="状態" value={r.status} options={STATUSES.map((s) => ({ value: s, label: RESPONSE_STATUS_LABELS[s] }))} errors={opts.errors} />
          <div class="actions"><button type="submit">状態を保存する</button></div>
        </form>
        <form method="post" action={`/admin/forms/${form.id}/responses/${r.id}/memo`} class="form">
          <Csrf v={v} />
          <TextArea v={v} name="memo" label="対応メモ（職員のみ）" value={opts.memo ?? r.memo} rows={4} errors={opts.errors} hint="対応の経過などを記録します。住民には表示されません。" />
          <div class="actions"><button type="submit">メモを保存する</button></div>
        </form>
        <h2>削除</h2>
        <form method="post" action={`/admin/forms/${form.id}/responses/${r.id}/delete`} class="form">
          <Csrf v={v} />
          <div class="checkbox field" id="f-confirm">
            <input type="checkbox" id="f-confirm-box" name="confirm" value="1" aria-describedby={opts.errors?.confirm ? 'f-confirm-error' : undefined} />
            <label for="f-confirm-box">この回答と添付ファイルを削除します（元に戻せません）</label>
          </div>
          {opts.errors?.confirm ? <p class="field__error" id="f-confirm-error">{opts.errors.confirm}</p> : null}
          <div class="actions"><button type="submit" class="button--danger">回答を削除する</button></div>
        </form>
        <link rel="stylesheet" href={formsAssets.css} />
      </AdminLayout>
    );
  };

  app.get('/admin/forms/:id{[0-9]+}/responses/:rid{[0-9]+}', guard, async (c) => {
    const form = await loadForm(c);
    const r = form ? await loadResponse(c, form) : null;
    if (!form || !r) return renderError(c, 404, 'error.notFound');
    await responses.auditAccess(form, auditContext(c), 'forms.response.view', `フォーム「${form.title}」の回答 ${r.receiptNumber} を表示しました`, { formId: form.id }, r.id);
    const notice = c.req.query('status') ? '状態を保存しました。' : c.req.query('memo') ? 'メモを保存しました。' : undefined;
    return c.html(await detailPage(c, form, r, { notice }));
  });

  app.get('/admin/forms/:id{[0-9]+}/responses/:rid{[0-9]+}/files/:fid{[0-9]+}', guard, async (c) => {
    const form = await loadForm(c);
    const r = form ? await loadResponse(c, form) : null;
    const f = r ? await responses.file(r.id, Number(c.req.param('fid'))) : null;
    if (!form || !r || !f) return renderError(c, 404, 'error.notFound');
    await responses.auditAccess(form, auditContext(c), 'forms.response.file', `フォーム「${form.title}」の回答 ${r.receiptNumber} の添付ファイル「${f.filename}」をダウンロードしました`, { formId: form.id, fileId: Number(c.req.param('fid')) }, r.id);
    c.header('Content-Type', f.mime);
    c.header('Content-Disposition', contentDisposition(f.filename));
    c.header('Cache-Control', 'no-store');
    return c.body(new Uint8Array(f.data));
  });

  app.post('/admin/forms/:id{[0-9]+}/responses/:rid{[0-9]+}/status', guard, async (c) => {
    const form = await loadForm(c);
    const r = form ? await loadResponse(c, form) : null;
    if (!form || !r) return renderError(c, 404, 'error.notFound');
    const status = str((await readForm(c)).status) as ResponseStatus;
    if (!STATUSES.includes(status)) return c.html(await detailPage(c, form, r, { errors: { status: '状態を一覧から選んでください。' } }), 422);
    if (status !== r.status) await responses.setStatus(form, r, status, auditContext(c));
    return c.redirect(`/admin/forms/${form.id}/responses/${r.id}?status=1`, 303);
  });

  app.post('/admin/forms/:id{[0-9]+}/responses/:rid{[0-9]+}/memo', guard, async (c) => {
    const form = await loadForm(c);
    const r = form ? await loadResponse(c, form) : null;
    if (!form || !r) return renderError(c, 404, 'error.notFound');
    const memo = str((await readForm(c)).memo).replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').trim();
    if (Array.from(memo).length > 5000) return c.html(await detailPage(c, form, r, { errors: { memo: '対応メモは5000文字以内で入力してください。' }, memo }), 422);
    await responses.setMemo(form, r, memo, auditContext(c));
    return c.redirect(`/admin/forms/${form.id}/responses/${r.id}?memo=1`, 303);
  });

  app.post('/admin/forms/:id{[0-9]+}/responses/:rid{[0-9]+}/delete', guard, async (c) => {
    const form = await loadForm(c);
    const r = form ? await loadResponse(c, form) : null;
    if (!form || !r) return renderError(c, 404, 'error.notFound');
    if (str((await readForm(c)).confirm) !== '1') return c.html(await detailPage(c, form, r, { errors: { confirm: '削除するには、確認のチェックを入れてください。' } }), 422);
    await responses.delete(form, r, auditContext(c));
    return c.redirect(`/admin/forms/${form.id}/responses?deleted=1`, 303);
  });

  // Survey results (H-12): how often each choice was picked.
  app.get('/admin/forms/:id{[0-9]+}/summary', guard, async (c) => {
    const form = await loadForm(c);
    if (!form) return renderError(c, 404, 'error.notFound');
    const v = viewOf(c);
    const questions = (await forms.questions(form.id)).filter((q) => q.type === 'radio' || q.type === 'checkbox' || q.type === 'select');
    const counts = new Map<number, Map<string, number>>(questions.map((q) => [q.id, new Map(q.options.map((o) => [o, 0]))]));
    let total = 0;
    for await (const row of responses.exportRows(form.id, {})) {
      total++;
      for (const q of questions) {
        const a = row.answers.get(q.id);
        if (!a) continue;
        const choices = (JSON.parse(a.detail) as { choices?: string[] }).choices ?? [];
        const m = counts.get(q.id)!;
        for (const ch of choices) m.set(ch, (m.get(ch) ?? 0) + 1);
      }
    }
    return c.html(
      <AdminLayout v={v} title={`集計結果: ${form.title}`} menu={p.menu}>
        <p><a href={`/admin/forms/${form.id}/responses`}>回答一覧へ戻る</a></p>
        <p>回答 {total}件の選択式の質問の集計です。</p>
        {questions.map((q, i) => (
          <div class="table-wrap">
            <table>
              <caption>{i + 1}. {q.label}</caption>
              <thead><tr><th scope="col">選択肢</th><th scope="col">件数</th><th scope="col">割合</th></tr></thead>
              <tbody>
                {[...counts.get(q.id)!].map(([o, n]) => (
                  <tr><th scope="row">{o}</th><td>{n}</td><td>{total ? `${((n / total) * 100).toFixed(1)}%` : '—'}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </AdminLayout>,
    );
  });
}
