import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { requestMeta } from '../../../core/http/app.js';
import { renderError } from '../../../core/http/errors.js';
import { registerAsset } from '../../../core/ui/assets.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { Csrf, Notice, SelectField } from '../../../core/ui/forms.js';
import { formatDateTime, viewOf } from '../../../core/ui/view.js';
import { parseJson } from '../../../core/db/index.js';
import { actorOf } from '../../admin/guards.js';
import { jstClock, mayTouchNode } from '../admin-routes.js';
import type { CmsServices } from '../index.js';
import type { CmsNode, VersionEntry } from '../pages.js';
import { diffVersions, type DiffPart, type TextDiff } from './diff.js';
import { historyOf } from './services.js';

/** The stylesheet of the history and diff screens, served as a hashed asset. */
export const historyCss = registerAsset('cms-history.css', readFileSync(fileURLToPath(new URL('./history.css', import.meta.url)), 'utf8'), 'text/css; charset=utf-8');

/** Rows of unchanged body blocks shown around each change; longer runs are folded into one line. */
const CONTEXT = 1;

/** Word-level changes with their meaning in words: 「［削除: …］」「［追加: …］」, plus strike-through / underline. */
export function DiffText(props: { parts: DiffPart[] }) {
  return (
    <>
      {props.parts.map((part) =>
        part.kind === 'del' ? (
          <del><span class="diff-mark">［削除: </span>{part.text}<span class="diff-mark">］</span></del>
        ) : part.kind === 'ins' ? (
          <ins><span class="diff-mark">［追加: </span>{part.text}<span class="diff-mark">］</span></ins>
        ) : (
          part.text
        ),
      )}
    </>
  );
}

function TextChange(props: { diff: TextDiff; testid: string }) {
  if (!props.diff.changed) return <p data-testid={props.testid}>変更なし{props.diff.parts.length ? <>（{props.diff.parts.map((p) => p.text).join('')}）</> : null}</p>;
  return <p class="diff-text" data-testid={props.testid}><DiffText parts={props.diff.parts} /></p>;
}

const KIND_LABEL = { same: '変更なし', changed: '変更', added: '追加', removed: '削除' } as const;

/**
 * The version list (every saved state, who saved it, which is live and which is the draft),
 * the comparison of any two versions, and restoring an old version as a new draft.
 */
export function mountHistoryRoutes(app: Hono<AppEnv>, p: Platform, cms: CmsServices) {
  const { locks } = historyOf(p);

  const loadNode = async (c: Context<AppEnv>): Promise<CmsNode | null> => {
    const node = await cms.pages.node(Number(c.req.param('id'))).catch(() => null);
    return node && (await mayTouchNode(p, actorOf(c), node)) ? node : null;
  };

  const stateOf = (node: CmsNode, v: VersionEntry) =>
    v.id === node.published_version_id ? (node.status === 'published' ? (node.temporarily_hidden ? '公開版（一時非公開中）' : '公開中') : '最後に公開した版（非公開）') : v.id === node.draft_version_id ? '下書き（編集中の版）' : '';

  app.get('/admin/cms/nodes/:id{[0-9]+}/history', async (c) => {
    const node = await loadNode(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    const v = viewOf(c);
    const versions = await cms.pages.versions(node.id);
    const working = versions.find((x) => x.id === (node.draft_version_id ?? node.published_version_id));
    const options = versions.map((x) => ({ value: x.number, label: `版 ${x.number}（${formatDateTime(x.created_at, v.locale)}）${stateOf(node, x) ? ` ${stateOf(node, x)}` : ''}` }));
    const restored = Number(c.req.query('restored'));
    return c.html(
      <AdminLayout v={v} title={`変更履歴: ${working?.title ?? node.path}`} menu={p.menu}>
        <link rel="stylesheet" href={historyCss} />
        {restored ? <Notice kind="success"><p>版 {restored} を新しい下書きとして復元しました。公開するまで、公開中のページは変わりません。</p></Notice> : null}
        <p class="inline-actions">
          <a href={`/admin/cms/nodes/${node.id}`}>ページの編集に戻る</a>
          <a href="/admin/cms">ページ管理</a>
        </p>
        <p>URL: <code>{node.status === 'trashed' ? '（ごみ箱）' : node.path}</code>。保存するたびに新しい版が作られ、過去の版は書き換えられません。復元すると、その内容が新しい下書きになります。</p>
        {versions.length > 1 ? (
          <form method="get" action={`/admin/cms/nodes/${node.id}/diff`} class="filters" aria-labelledby="compare-title">
            <h2 id="compare-title" class="visually-hidden">2つの版を比較する</h2>
            <SelectField v={v} name="from" label="比較元（古い版）" value={versions[1]?.number} options={options} />
            <SelectField v={v} name="to" label="比較先（新しい版）" value={versions[0]?.number} options={options} />
            <div class="field"><button type="submit">比較する</button></div>
          </form>
        ) : null}
        <div class="table-wrap">
          <table>
            <caption>版の一覧（{versions.length}件、新しい順）</caption>
            <thead>
              <tr><th scope="col">版</th><th scope="col">保存日時</th><th scope="col">作成者</th><th scope="col">コメント</th><th scope="col">状態</th><th scope="col">{v.t('common.actions')}</th></tr>
            </thead>
            <tbody>
              {versions.map((x, i) => (
                <tr data-testid={`version-${x.number}`}>
                  <th scope="row">版 {x.number}</th>
                  <td>{formatDateTime(x.created_at, v.locale)}</td>
                  <td>{x.author_name ?? (x.created_by ? `職員 #${x.created_by}` : 'システム（予約・移行）')}</td>
                  <td>{x.comment ?? '—'}</td>
                  <td class="version-state">{stateOf(node, x) || '—'}</td>
                  <td>
                    <div class="inline-actions">
                      {versions[i + 1] ? <a href={`/admin/cms/nodes/${node.id}/diff?from=${versions[i + 1]!.number}&to=${x.number}`}>前の版と比較<span class="visually-hidden">（版 {x.number}）</span></a> : null}
                      {x.id !== working?.id && node.status !== 'trashed' ? (
                        <form method="post" action={`/admin/cms/nodes/${node.id}/versions/${x.number}/restore`}>
                          <Csrf v={v} />
                          <button type="submit" class="button--secondary button--small">版 {x.number} を復元</button>
                        </form>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </AdminLayout>,
    );
  });

  app.get('/admin/cms/nodes/:id{[0-9]+}/diff', async (c) => {
    const node = await loadNode(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    const v = viewOf(c);
    const versions = await cms.pages.versions(node.id);
    const newest = versions[0];
    const to = c.req.query('to') ? await cms.pages.versionByNumber(node.id, Number(c.req.query('to'))) : newest;
    const from = c.req.query('from') ? await cms.pages.versionByNumber(node.id, Number(c.req.query('from'))) : to ? versions.find((x) => x.number < to.number) : undefined;
    if (!to || !from) return renderError(c, 404, 'error.notFound');
    const d = diffVersions(
      { title: from.title, summary: from.summary, fields: parseJson(from.fields, {}), bodyHtml: from.body_html },
      { title: to.title, summary: to.summary, fields: parseJson(to.fields, {}), bodyHtml: to.body_html },
    );
    // Unchanged blocks far from any change are folded, so a long page shows its changes at a glance.
    const near = (i: number) => d.body.slice(Math.max(0, i - CONTEXT), i + CONTEXT + 1).some((r) => r.kind !== 'same');
    const rows: Array<{ fold: number } | { row: (typeof d.body)[number] }> = [];
    d.body.forEach((row, i) => {
      if (row.kind !== 'same' || near(i)) rows.push({ row });
      else {
        const last = rows[rows.length - 1];
        if (last && 'fold' in last) last.fold++;
        else rows.push({ fold: 1 });
      }
    });
    const options = versions.map((x) => ({ value: x.number, label: `版 ${x.number}（${formatDateTime(x.created_at, v.locale)}）` }));
    const describe = (x: VersionEntry) => `版 ${x.number}（${formatDateTime(x.created_at, v.locale)}、${x.author_name ?? 'システム'}）`;
    const working = node.draft_version_id ?? node.published_version_id;
    return c.html(
      <AdminLayout v={v} title={`版の比較: 版 ${from.number} → 版 ${to.number}`} menu={p.menu}>
        <link rel="stylesheet" href={historyCss} />
        <p class="inline-actions">
          <a href={`/admin/cms/nodes/${node.id}/history`}>変更履歴に戻る</a>
          <a href={`/admin/cms/nodes/${node.id}`}>ページの編集に戻る</a>
        </p>
        <form method="get" action={`/admin/cms/nodes/${node.id}/diff`} class="filters" aria-label="比較する版を選ぶ">
          <SelectField v={v} name="from" label="比較元" value={from.number} options={options} />
          <SelectField v={v} name="to" label="比較先" value={to.number} options={options} />
          <div class="field"><button type="submit">比較する</button></div>
        </form>
        <dl class="meta">
          <dt>比較元</dt><dd data-testid="diff-from">{describe(from)}{from.comment ? `「${from.comment}」` : ''}</dd>
          <dt>比較先</dt><dd data-testid="diff-to">{describe(to)}{to.comment ? `「${to.comment}」` : ''}</dd>
        </dl>
        <div class="diff diff-legend" role="note" aria-label="表示の見方">
          <p>削除された部分: <del><span class="diff-mark">［削除: </span>取り消し線<span class="diff-mark">］</span></del></p>
          <p>追加された部分: <ins><span class="diff-mark">［追加: </span>下線<span class="diff-mark">］</span></ins></p>
        </div>
        {d.same ? <Notice kind="info"><p data-testid="diff-same">2つの版の内容は同じです。</p></Notice> : null}
        <div class="diff">
          <h2>タイトル</h2>
          <TextChange diff={d.title} testid="diff-title" />
          <h2>概要</h2>
          <TextChange diff={d.summary} testid="diff-summary" />
          {d.fields.length ? (
            <>
              <h2>ページの種類ごとの項目</h2>
              <dl class="meta">
                {d.fields.map((f) => (
                  <><dt><code>{f.key}</code></dt><dd class="diff-text"><DiffText parts={f.diff.parts} /></dd></>
                ))}
              </dl>
            </>
          ) : null}
          <h2>本文</h2>
          {d.body.length === 0 ? <p>本文はありません。</p> : d.body.every((r) => r.kind === 'same') ? <p data-testid="diff-body-same">本文に変更はありません。</p> : (
            <div class="table-wrap">
              <table data-testid="diff-body">
                <caption>本文の変更（段落・見出し・箇条書き・表の行ごと）</caption>
                <thead><tr><th scope="col">変更</th><th scope="col">種類</th><th scope="col">内容</th></tr></thead>
                <tbody>
                  {rows.map((r) =>
                    'fold' in r ? (
                      <tr class="diff-row--same"><td colspan={3}>（変更のない {r.fold} ブロックを省略）</td></tr>
                    ) : (
                      <tr class={`diff-row--${r.row.kind}`}>
                        <td class="diff-kind">{KIND_LABEL[r.row.kind]}</td>
                        <td>{r.row.label}</td>
                        <td class="diff-text">
                          {r.row.kind === 'added' ? <ins>{r.row.parts[0]?.text}</ins> : r.row.kind === 'removed' ? <del>{r.row.parts[0]?.text}</del> : <DiffText parts={r.row.parts} />}
                        </td>
                      </tr>
                    ),
                  )}
                </tbody>
              </table>
            </div>
          )}
        </div>
        {node.status !== 'trashed' ? (
          <div class="actions">
            {from.id !== working ? (
              <form method="post" action={`/admin/cms/nodes/${node.id}/versions/${from.number}/restore`}>
                <Csrf v={v} />
                <button type="submit" class="button--secondary">版 {from.number} を復元</button>
              </form>
            ) : null}
            {to.id !== working ? (
              <form method="post" action={`/admin/cms/nodes/${node.id}/versions/${to.number}/restore`}>
                <Csrf v={v} />
                <button type="submit" class="button--secondary">版 {to.number} を復元</button>
              </form>
            ) : null}
          </div>
        ) : null}
      </AdminLayout>,
    );
  });

  app.post('/admin/cms/nodes/:id{[0-9]+}/versions/:number{[0-9]+}/restore', async (c) => {
    const node = await loadNode(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    const number = Number(c.req.param('number'));
    const version = await cms.pages.versionByNumber(node.id, number);
    if (!version) return renderError(c, 404, 'error.notFound');
    const v = viewOf(c);
    const refuse = (message: string) =>
      c.html(
        <AdminLayout v={v} title="版を復元できませんでした" menu={p.menu}>
          <Notice kind="error"><p data-testid="restore-refused">{message}</p></Notice>
          <p><a href={`/admin/cms/nodes/${node.id}/history`}>変更履歴に戻る</a></p>
        </AdminLayout>,
        409,
      );
    if (node.status === 'trashed') return refuse('このページはごみ箱にあります。ごみ箱から戻してから復元してください。');
    // A restore replaces the draft, so it waits for whoever is editing the page.
    const lock = await locks.current(node.id);
    if (lock && lock.userId !== actorOf(c).id) return refuse(`${lock.userName}さんが編集中です（${jstClock(lock.acquiredAt)} から）。編集が終わってから復元してください。`);
    await cms.pages.restoreVersion(actorOf(c), node.id, number, requestMeta(c));
    return c.redirect(`/admin/cms/nodes/${node.id}/history?restored=${number}`, 303);
  });
}
