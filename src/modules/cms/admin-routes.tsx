import type { Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { requestMeta } from '../../core/http/app.js';
import { readForm, str, type FormValues } from '../../core/http/validate.js';
import { renderError } from '../../core/http/errors.js';
import { AdminLayout } from '../../core/ui/layout.js';
import { viewOf, formatDateTime, visibleMenu, type View } from '../../core/ui/view.js';
import { Csrf, ErrorSummary, Notice, TextField, TextArea, SelectField, type FieldErrors } from '../../core/ui/forms.js';
import { InputError } from '../../core/errors.js';
import type { Actor } from '../../core/permissions/index.js';
import { actorOf, requirePermission } from '../admin/guards.js';
import { checkAccessibility, hasBlockingIssues, type A11yIssue } from './content/index.js';
import { EditorScripts, RichTextField } from './editor/bundle.js';
import { cmsToolLinks, type CmsServices } from './index.js';
import { StaleDraftError, type CmsNode } from './pages.js';
import type { EditorContext } from './parts.js';
import { parseJson } from '../../core/db/index.js';
import { historyOf } from './history/services.js';
import type { EditLock } from './history/locks.js';

/** 'YYYY-MM-DDTHH:MM' as typed in Japan → the instant; '' → no time; anything else is an error. */
function fromJstInput(value: string, field: string, errors: FieldErrors): Date | null {
  if (!value.trim()) return null;
  const d = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? new Date(`${value}:00+09:00`) : new Date(NaN);
  if (Number.isNaN(d.getTime())) {
    errors[field] = '日時を「2026-04-01 09:00」のように入力してください。';
    return null;
  }
  return d;
}

function toJstInput(iso: string | null): string {
  if (!iso) return '';
  return new Date(new Date(iso).getTime() + 9 * 3600_000).toISOString().slice(0, 16);
}

/** 'HH:MM' in Japan, for 「〇〇さんが編集中です（10:05 から）」. */
export function jstClock(iso: string): string {
  return new Date(new Date(iso).getTime() + 9 * 3600_000).toISOString().slice(11, 16);
}

/** Whether staff may work on a node: nodes of their organisations (or any, for installation-wide roles). */
export async function mayTouchNode(p: Platform, actor: Actor, node: CmsNode): Promise<boolean> {
  return node.organization_id === null ? actor.allOrganizations : p.organizations.canAccess(actor, node.organization_id);
}

const lockMessage = (lock: EditLock) => `${lock.userName}さんが編集中です（${jstClock(lock.acquiredAt)} から）。`;

const STATUS: Record<string, string> = { draft: '下書き', published: '公開中', withdrawn: '非公開', trashed: 'ごみ箱' };
const LABELS = { kind: '種類', pageType: 'ページの種類', slug: 'URLの名前', title: 'タイトル', summary: '概要（一覧に表示）', body: '本文', parentId: '親フォルダ', comment: '変更内容のメモ' };

function A11yPanel(props: { issues: A11yIssue[] }) {
  if (!props.issues.length) return <Notice kind="success"><p>アクセシビリティチェック: 問題は見つかりませんでした。</p></Notice>;
  const errors = props.issues.filter((i) => i.severity === 'error');
  return (
    <section aria-labelledby="a11y-title" class={`notice ${errors.length ? 'notice--error' : 'notice--warning'}`} data-testid="a11y-panel">
      <h2 id="a11y-title">アクセシビリティチェック（エラー {errors.length}件、注意 {props.issues.length - errors.length}件）</h2>
      {errors.length ? <p>エラーがあるページは公開できません。本文を直してから保存してください。</p> : null}
      <ul>
        {props.issues.map((i) => (
          <li>
            <strong>{i.severity === 'error' ? 'エラー' : '注意'}</strong>: {i.message}
            {i.excerpt ? <>（該当箇所: 「{i.excerpt}」）</> : null}
            {i.fix ? <>　修正案: {i.fix}</> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * Page management for staff: the tree of each site, create and edit pages in the rich-text
 * editor with the accessibility checker beside it, publish and withdraw.
 */
export function mountCmsAdminRoutes(app: Hono<AppEnv>, p: Platform, cms: CmsServices) {
  app.use('/admin/cms', requirePermission('cms.edit'));
  app.use('/admin/cms/*', requirePermission('cms.edit'));

  const mayTouch = (actor: Actor, node: CmsNode) => mayTouchNode(p, actor, node);
  const { locks } = historyOf(p);

  /** The node named in the URL, or null when it does not exist or lies outside the actor's reach. */
  const loadNode = async (c: Context<AppEnv>): Promise<CmsNode | null> => {
    const node = await cms.pages.node(Number(c.req.param('id'))).catch(() => null);
    return node && (await mayTouch(actorOf(c), node)) ? node : null;
  };

  /** The form values of what is being worked on: the draft, else the live version, with every editor part's fields. */
  const workingValues = async (node: CmsNode): Promise<FormValues> => {
    const version = await cms.pages.version(node.draft_version_id ?? node.published_version_id);
    const fields = parseJson<Record<string, unknown>>(version?.fields ?? '{}', {});
    // baseVersionId: the version this form starts from, so a save made after someone else's is caught.
    return { ...cms.parts.fieldValues(fields), title: version?.title ?? '', summary: version?.summary ?? '', body: version?.body_html ?? '', baseVersionId: version ? String(version.id) : '' };
  };

  /** The working version's stored fields (what editor parts show next to the form values). */
  const workingFields = async (node: CmsNode | undefined): Promise<Record<string, unknown>> => {
    if (!node) return {};
    const version = await cms.pages.version(node.draft_version_id ?? node.published_version_id);
    return parseJson<Record<string, unknown>>(version?.fields ?? '{}', {});
  };

  app.get('/admin/cms', async (c) => {
    const v = viewOf(c);
    const sites = await cms.sites.all();
    const trees = await Promise.all(sites.map(async (s) => ({ site: s, nodes: await cms.pages.tree(s.id) })));
    const editing = await locks.activeFor(trees.flatMap((t) => t.nodes.map((n) => n.id)));
    return c.html(
      <AdminLayout v={v} title="ページ管理" menu={p.menu}>
        {c.req.query('saved') ? <Notice kind="success"><p>{v.t('common.saved')}</p></Notice> : null}
        {c.req.query('trashed') ? <Notice kind="success"><p>ごみ箱に移しました。ごみ箱から元に戻せます。</p></Notice> : null}
        <nav aria-labelledby="cms-tools-title" class="cms-tools">
          <h2 id="cms-tools-title">サイトの管理</h2>
          <ul class="actions">
            {visibleMenu(cmsToolLinks(), v.actor).map((m) => (
              <li><a href={m.href}>{v.t(m.label)}</a></li>
            ))}
          </ul>
        </nav>
        {trees.map(({ site, nodes }) => (
          <section aria-labelledby={`site-${site.id}`}>
            <h2 id={`site-${site.id}`}>{site.name}</h2>
            <p class="actions"><a href={`/admin/cms/sites/${site.id}/trash`}>ごみ箱<span class="visually-hidden">（{site.name}）</span></a></p>
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">{site.name}のページ一覧</caption>
                <thead><tr><th scope="col">タイトル</th><th scope="col">URL</th><th scope="col">状態</th><th scope="col">更新</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
                <tbody>
                  {nodes.map((n) => (
                    <tr>
                      <td>{'　'.repeat(n.depth)}{n.kind === 'folder' ? '📁 ' : ''}<a href={`/admin/cms/nodes/${n.id}`} id={`node-title-${n.id}`}>{n.title}</a></td>
                      <td><code>{n.path}</code></td>
                      <td>
                        {STATUS[n.status] ?? n.status}{n.temporarily_hidden ? '（一時非公開）' : ''}{n.draft_version_id && n.status === 'published' ? '（差し替え下書きあり）' : ''}
                        {editing.has(n.id) ? <span data-testid="lock-status">　編集中（{editing.get(n.id)!.userName}）</span> : null}
                      </td>
                      <td>{formatDateTime(n.updated_at, v.locale)}</td>
                      <td>
                        <a href={`/admin/cms/nodes/${n.id}/history`} aria-describedby={`node-title-${n.id}`}>履歴</a>
                        {n.kind === 'folder' ? <>{' '}<a href={`/admin/cms/nodes/new?parent=${n.id}`}>ここにページを作成<span class="visually-hidden">: {n.title}</span></a></> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        ))}
      </AdminLayout>,
    );
  });

  /** The working content of a page, shown read-only while someone else edits it (or it is in the trash). */
  const ReadOnlyContent = async (props: { node: CmsNode; posted?: FormValues }) => {
    const version = await cms.pages.version(props.node.draft_version_id ?? props.node.published_version_id);
    const posted = props.posted && str(props.posted.body) ? props.posted : undefined;
    return (
      <section aria-labelledby="readonly-title" class="readonly-content" data-testid="readonly-content">
        <h2 id="readonly-title">現在の内容（閲覧のみ）</h2>
        <dl class="meta">
          <dt>タイトル</dt><dd>{version?.title}</dd>
          <dt>概要</dt><dd>{version?.summary || '—'}</dd>
          <dt>版</dt><dd>版 {version?.number}</dd>
        </dl>
        {version?.body_html ? <div class="page-body">{raw(version.body_html)}</div> : null}
        {posted ? (
          <div class="field">
            <label for="f-posted-body">保存できなかった本文（HTML。必要ならコピーしてください）</label>
            <textarea id="f-posted-body" rows={8} readonly>{str(posted.body)}</textarea>
          </div>
        ) : null}
      </section>
    );
  };

  const editPage = async (c: Context<AppEnv>, opts: { node?: CmsNode; parent?: CmsNode; values: FormValues; errors?: FieldErrors; scheduleErrors?: FieldErrors; issues?: A11yIssue[]; notice?: string; warning?: Child }) => {
    const v: View = viewOf(c);
    const actor = actorOf(c);
    const node = opts.node;
    const site = await cms.sites.get((node ?? opts.parent)!.site_id);
    const issues = opts.issues ?? checkAccessibility(str(opts.values.body));
    const canPublish = actor.permissions.has('cms.publish');
    const previewHref = node && node.status === 'published' ? `${site?.pathPrefix ?? ''}${node.path}` : null;
    const pageType = node?.page_type ?? (str(opts.values.pageType) || 'standard');
    const partCtx: EditorContext = { v, actor, site: site!, node, parent: opts.parent, pageType, values: opts.values, fields: await workingFields(node), errors: opts.errors };
    const parts = cms.parts.editorParts();
    const partFields = await Promise.all(parts.map((part) => part.fields?.(partCtx)));
    const partPanels = await Promise.all(parts.map((part) => part.panel?.(partCtx)));
    const typeDef = cms.parts.pageType(pageType);
    const trashed = node?.status === 'trashed';
    // Opening (or re-showing) the editor takes the lock, or renews it for its holder.
    const lock = node && !trashed ? await locks.acquire(actor, node.id) : null;
    const editable = !node || (!trashed && lock?.held === true);
    return (
      <AdminLayout v={v} title={node ? `ページの編集: ${str(opts.values.title)}` : 'ページの作成'} menu={p.menu}>
        {opts.notice ? <Notice kind="success"><p>{opts.notice}</p></Notice> : null}
        <ErrorSummary v={v} errors={opts.errors} labels={LABELS} />
        {opts.warning}
        {trashed ? (
          <Notice kind="warning"><p data-testid="trashed-notice">このページはごみ箱にあります。編集するには<a href={`/admin/cms/sites/${node!.site_id}/trash`}>ごみ箱</a>から元に戻してください。</p></Notice>
        ) : null}
        {lock && !lock.held ? (
          <div class="notice notice--warning" role="status" data-testid="lock-notice">
            <p><strong>{lockMessage(lock.lock)}</strong>編集が終わるまで、このページは閲覧のみです（{jstClock(lock.lock.expiresAt)} まで操作がなければ自動で解除されます）。</p>
            {canPublish ? (
              <form method="post" action={`/admin/cms/nodes/${node!.id}/lock/break`} class="actions">
                <Csrf v={v} />
                <button type="submit" class="button--secondary">編集ロックを解除して編集する</button>
              </form>
            ) : null}
          </div>
        ) : null}
        {lock?.held ? <p class="field__hint" data-testid="lock-held">このページはあなたが編集中です。ほかの人は閲覧のみになります（{jstClock(lock.lock.expiresAt)} まで。保存すると延長されます）。</p> : null}
        {node ? (
          <dl class="meta">
            <dt>サイト</dt><dd>{site?.name}</dd>
            <dt>URL</dt><dd><code>{node.path}</code></dd>
            <dt>ページの種類</dt><dd>{typeDef ? (v.locale === 'en' ? typeDef.labelEn : typeDef.label) : node.page_type}</dd>
            <dt>状態</dt><dd data-testid="node-status">{STATUS[node.status]}{node.temporarily_hidden ? '（一時非公開）' : ''}{node.draft_version_id && node.status === 'published' ? '（公開中の内容とは別に下書きがあります）' : ''}</dd>
            {previewHref ? <><dt>公開ページ</dt><dd><a href={previewHref}>{previewHref}</a></dd></> : null}
            <dt>履歴</dt><dd><a href={`/admin/cms/nodes/${node.id}/history`}>版の一覧と比較・復元</a></dd>
          </dl>
        ) : null}
        {node && !editable ? await ReadOnlyContent({ node, posted: lock && !lock.held && opts.errors?._form ? opts.values : undefined }) : null}
        {editable ? <A11yPanel issues={issues} /> : null}
        {editable ? (
        <form method="post" action={node ? `/admin/cms/nodes/${node.id}` : '/admin/cms/nodes'} class="form form--wide" novalidate>
          <Csrf v={v} />
          {node ? <input type="hidden" name="baseVersionId" value={str(opts.values.baseVersionId)} /> : null}
          {node ? null : (
            <>
              <input type="hidden" name="parentId" value={String(opts.parent!.id)} />
              <p>親フォルダ: <code>{opts.parent!.path}</code></p>
              <SelectField v={v} name="kind" label={LABELS.kind} value={str(opts.values.kind) || 'page'} options={[{ value: 'page', label: 'ページ' }, { value: 'folder', label: 'フォルダ' }]} errors={opts.errors} />
              <SelectField v={v} name="pageType" label={LABELS.pageType} value={pageType} options={cms.parts.pageTypes().map((t) => ({ value: t.key, label: v.locale === 'en' ? t.labelEn : t.label }))} errors={opts.errors} hint="お知らせ・イベント・スポットなどを選ぶと、その種類の入力欄が表示されます（保存後）。" />
              <TextField v={v} name="slug" label={LABELS.slug} value={str(opts.values.slug)} required errors={opts.errors} hint="半角英小文字・数字・ハイフン（例: gomi-schedule）。ページのURLになります。" spellcheck={false} />
            </>
          )}
          <TextField v={v} name="title" label={LABELS.title} value={str(opts.values.title)} required errors={opts.errors} />
          <TextArea v={v} name="summary" label={LABELS.summary} value={str(opts.values.summary)} rows={2} errors={opts.errors} />
          <RichTextField v={v} name="body" label={LABELS.body} value={str(opts.values.body)} errors={opts.errors} hint="見出し・箇条書き・表・リンク・画像（代替テキスト必須）が使えます。" />
          {partFields}
          {node ? <TextField v={v} name="comment" label={LABELS.comment} value={str(opts.values.comment)} errors={opts.errors} hint="履歴に表示されます（例: 収集日の変更を反映）。任意。" maxlength={300} /> : null}
          <div class="actions">
            <button type="submit" name="intent" value="save">下書き保存</button>
            {node ? <button type="submit" name="intent" value="close" class="button--secondary">保存して閉じる</button> : null}
            {canPublish ? <button type="submit" name="intent" value="publish" class="button--secondary">保存して公開する</button> : null}
            <a href="/admin/cms">{v.t('common.back')}</a>
          </div>
        </form>
        ) : null}
        {node && lock?.held ? (
          <form method="post" action={`/admin/cms/nodes/${node.id}/unlock`} class="actions">
            <Csrf v={v} />
            <button type="submit" class="button--secondary">編集を終了</button>
            <a href={`/admin/cms/nodes/${node.id}/trash`}>このページを削除（ごみ箱へ）</a>
          </form>
        ) : null}
        {node && canPublish && !trashed ? (
          <section aria-labelledby="schedule-title">
            <h2 id="schedule-title">公開の予約（日本時間）</h2>
            <p>指定した日時に自動で公開・公開終了・削除します（C-3-12）。空欄にすると予約を取り消します。</p>
            <ErrorSummary v={v} errors={opts.scheduleErrors} labels={{ publishAt: '公開開始日時', unpublishAt: '公開終了日時', deleteAt: '削除日時' }} idPrefix="schedule" />
            <form method="post" action={`/admin/cms/nodes/${node.id}/schedule`} class="form" novalidate>
              <Csrf v={v} />
              <TextField v={v} name="publishAt" type="datetime-local" label="公開開始日時" value={toJstInput(node.publish_at)} errors={opts.scheduleErrors} idPrefix="schedule" />
              <TextField v={v} name="unpublishAt" type="datetime-local" label="公開終了日時" value={toJstInput(node.unpublish_at)} errors={opts.scheduleErrors} idPrefix="schedule" hint="公開を終えたあとも、ページは非公開のまま残ります。" />
              {node.parent_id !== null ? <TextField v={v} name="deleteAt" type="datetime-local" label="削除日時（ごみ箱へ移動）" value={toJstInput(node.delete_at)} errors={opts.scheduleErrors} idPrefix="schedule" hint="指定すると、その日時にページ（フォルダなら配下も）をごみ箱に移します。ごみ箱から元に戻せます。" /> : null}
              <div class="actions"><button type="submit" class="button--secondary">予約を保存する</button></div>
            </form>
          </section>
        ) : null}
        {partPanels}
        {node && canPublish && node.status === 'published' && !trashed ? (
          <form method="post" action={`/admin/cms/nodes/${node.id}/visibility`} class="actions">
            <Csrf v={v} />
            <input type="hidden" name="hidden" value={node.temporarily_hidden ? '0' : '1'} />
            <button type="submit" class="button--secondary">{node.temporarily_hidden ? '再公開する' : '一時的に非公開にする'}</button>
          </form>
        ) : null}
        <EditorScripts v={v} />
      </AdminLayout>
    );
  };

  app.get('/admin/cms/nodes/new', async (c) => {
    const parent = await cms.pages.node(Number(c.req.query('parent'))).catch(() => null);
    if (!parent || parent.kind !== 'folder' || !(await mayTouch(actorOf(c), parent))) return renderError(c, 404, 'error.notFound');
    return c.html(await editPage(c, { parent, values: {} }));
  });

  app.post('/admin/cms/nodes', async (c) => {
    const values = await readForm(c);
    const parent = await cms.pages.node(Number(str(values.parentId))).catch(() => null);
    if (!parent || !(await mayTouch(actorOf(c), parent))) return renderError(c, 404, 'error.notFound');
    const publish = str(values.intent) === 'publish' && actorOf(c).permissions.has('cms.publish');
    const issues = checkAccessibility(str(values.body));
    if (publish && hasBlockingIssues(issues)) return c.html(await editPage(c, { parent, values, issues, errors: { body: 'アクセシビリティのエラーを直すまで公開できません。' } }), 422);
    const pageType = cms.parts.pageType(str(values.pageType)) ? str(values.pageType) : 'standard';
    const read = await cms.parts.readFields(values, { pageType, siteId: parent.site_id, actor: actorOf(c) });
    if (Object.keys(read.errors).length) return c.html(await editPage(c, { parent, values, errors: read.errors, issues }), 422);
    try {
      const id = await cms.pages.create(
        actorOf(c),
        { siteId: parent.site_id, parentId: parent.id, kind: str(values.kind) === 'folder' ? 'folder' : 'page', pageType, fields: read.fields, slug: str(values.slug), title: str(values.title), summary: str(values.summary) || undefined, body: str(values.body) },
        requestMeta(c),
      );
      if (publish) await cms.pages.publish(actorOf(c), id, requestMeta(c));
      return c.redirect(`/admin/cms/nodes/${id}?saved=1`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await editPage(c, { parent, values, errors: e.fields, issues }), 422);
      throw e;
    }
  });

  app.get('/admin/cms/nodes/:id{[0-9]+}', async (c) => {
    const node = await loadNode(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    return c.html(await editPage(c, { node, values: await workingValues(node), notice: c.req.query('saved') ? viewOf(c).t('common.saved') : undefined }));
  });

  app.post('/admin/cms/nodes/:id{[0-9]+}', async (c) => {
    const node = await loadNode(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    const actor = actorOf(c);
    if (node.status === 'trashed') return c.html(await editPage(c, { node, values, errors: { _form: 'このページはごみ箱にあるため保存できません。ごみ箱から戻してから編集してください。' } }), 409);
    // A second editor's save is refused while the lock holder edits (the form they see is read-only anyway).
    const lock = await locks.acquire(actor, node.id);
    if (!lock.held) return c.html(await editPage(c, { node, values, errors: { _form: `${lockMessage(lock.lock)}保存できませんでした。入力した内容は下に残っています。` } }), 409);
    const publish = str(values.intent) === 'publish' && actor.permissions.has('cms.publish');
    const issues = checkAccessibility(str(values.body));
    if (publish && hasBlockingIssues(issues)) return c.html(await editPage(c, { node, values, issues, errors: { body: 'アクセシビリティのエラーを直すまで公開できません。' } }), 422);
    const read = await cms.parts.readFields(values, { pageType: node.page_type, siteId: node.site_id, actor: actorOf(c) });
    if (Object.keys(read.errors).length) return c.html(await editPage(c, { node, values, errors: read.errors, issues }), 422);
    const base = Number(str(values.baseVersionId));
    try {
      await cms.pages.saveDraft(
        actor,
        node.id,
        { title: str(values.title), summary: str(values.summary) || undefined, body: str(values.body), fields: read.fields, comment: str(values.comment) || undefined },
        requestMeta(c),
        { baseVersionId: Number.isSafeInteger(base) && base > 0 ? base : undefined },
      );
      if (publish) await cms.pages.publish(actor, node.id, requestMeta(c));
      if (str(values.intent) === 'close') {
        await locks.release(actor, node.id);
        return c.redirect('/admin/cms?saved=1', 303);
      }
      return c.redirect(`/admin/cms/nodes/${node.id}?saved=1`, 303);
    } catch (e) {
      if (e instanceof StaleDraftError) {
        // Shown with the newer version as the base: saving again is a deliberate overwrite, never a silent one.
        const cur = e.current;
        const who = cur.authorName ? `${cur.authorName}さん` : '別の操作';
        const warning = (
          <div class="notice notice--error" role="alert" data-testid="stale-draft">
            <p><strong>このページは、編集を始めた後に{who}が保存しました（版 {cur.number}、{jstClock(cur.createdAt)}）。上書きを防ぐため、保存しませんでした。</strong></p>
            <p>入力した内容は下に残っています。<a href={`/admin/cms/nodes/${node.id}/diff?to=${cur.number}`}>最新の版での変更を確かめて</a>から反映してください。このまま保存すると、版 {cur.number} の変更を上書きします。</p>
          </div>
        );
        return c.html(await editPage(c, { node, values: { ...values, baseVersionId: String(cur.id) }, issues, warning }), 409);
      }
      if (e instanceof InputError) return c.html(await editPage(c, { node, values, errors: e.fields, issues }), 422);
      throw e;
    }
  });

  // 編集を終了: gives the page back to colleagues without saving.
  app.post('/admin/cms/nodes/:id{[0-9]+}/unlock', async (c) => {
    const node = await loadNode(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    await locks.release(actorOf(c), node.id);
    return c.redirect('/admin/cms', 303);
  });

  // Someone left the editor open: holders of cms.publish take the page over (audited).
  app.post('/admin/cms/nodes/:id{[0-9]+}/lock/break', requirePermission('cms.publish'), async (c) => {
    const node = await loadNode(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    await locks.breakLock(actorOf(c), node, requestMeta(c));
    return c.redirect(`/admin/cms/nodes/${node.id}`, 303);
  });

  app.post('/admin/cms/nodes/:id{[0-9]+}/schedule', requirePermission('cms.publish'), async (c) => {
    const node = await loadNode(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    const errors: FieldErrors = {};
    const publishAt = fromJstInput(str(values.publishAt), 'publishAt', errors);
    const unpublishAt = fromJstInput(str(values.unpublishAt), 'unpublishAt', errors);
    const deleteAt = fromJstInput(str(values.deleteAt), 'deleteAt', errors);
    if (Object.keys(errors).length) return c.html(await editPage(c, { node, values: await workingValues(node), scheduleErrors: errors }), 422);
    try {
      await cms.pages.schedule(actorOf(c), node.id, { publishAt, unpublishAt, deleteAt }, requestMeta(c));
    } catch (e) {
      if (e instanceof InputError) return c.html(await editPage(c, { node, values: await workingValues(node), scheduleErrors: e.fields }), 422);
      throw e;
    }
    return c.redirect(`/admin/cms/nodes/${node.id}?saved=1`, 303);
  });

  app.post('/admin/cms/nodes/:id{[0-9]+}/visibility', requirePermission('cms.publish'), async (c) => {
    const node = await loadNode(c);
    if (!node) return renderError(c, 404, 'error.notFound');
    const hidden = str((await readForm(c)).hidden) === '1';
    await cms.pages.setTemporarilyHidden(actorOf(c), node.id, hidden, requestMeta(c));
    return c.redirect(`/admin/cms/nodes/${node.id}?saved=1`, 303);
  });
}
