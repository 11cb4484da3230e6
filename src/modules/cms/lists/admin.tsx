/**
 * The administrators' screen for automatic lists (/admin/cms/lists, permission cms.sites): where a
 * list shows, what it draws from, which columns in which order (C-3-3), the sort rule, pinned
 * pages and their order, and excluded pages (C-3-4). Every control is a plain form: it all works
 * without JavaScript.
 */
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { requestMeta } from '../../../core/http/app.js';
import { list as listOf, readForm, str, type FormValues } from '../../../core/http/validate.js';
import { renderError } from '../../../core/http/errors.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { viewOf, type View } from '../../../core/ui/view.js';
import { Checkbox, CheckboxGroup, Csrf, ErrorSummary, Notice, SelectField, TextField, type FieldErrors } from '../../../core/ui/forms.js';
import { InputError } from '../../../core/errors.js';
import type { Actor } from '../../../core/permissions/index.js';
import { actorOf, requirePermission } from '../../admin/guards.js';
import type { CmsServices } from '../index.js';
import type { Site } from '../sites.js';
import { categoriesOf } from '../types/categories.js';
import { COLUMNS, COLUMN_KEYS, DATE_FORMATS, DEFAULT_COLUMNS, MARK_FILTERS, SORTS, type ColumnKey, type ListConfig, type ListSettingsInput } from './config.js';
import type { ListService } from './service.js';
import { Marks, listPagePath } from './view.js';

const LABELS: Record<string, string> = {
  heading: '見出し',
  hostPath: '一覧を表示するページ',
  position: '同じページでの表示順',
  sourcePath: '対象のフォルダ',
  pageTypes: 'ページの種類',
  categories: '分野',
  marks: '重要・緊急',
  limit: '表示件数',
  columns: '表示する項目',
  dateFormat: '日付の形式',
  sort: '並び順',
  nodeId: 'ページ',
  pinPath: '固定表示するページのURL',
};

const STATUS: Record<string, string> = { draft: '下書き', published: '公開中', withdrawn: '非公開', trashed: 'ごみ箱' };

/** The form's values for a stored list (what the edit screen shows first). */
function formValues(list: ListConfig, hostPath: string): FormValues {
  const out: FormValues = {
    heading: list.heading,
    hostPath,
    position: String(list.position),
    sourcePath: list.sourcePath,
    pageTypes: list.pageTypes,
    categories: list.categories.map(String),
    marks: list.marks,
    limit: String(list.limit),
    showMore: list.showMore ? '1' : '',
    dateFormat: list.dateFormat,
    sort: list.sort,
    urgentFirst: list.urgentFirst ? '1' : '',
  };
  COLUMN_KEYS.forEach((key, i) => {
    const at = list.columns.indexOf(key);
    out[`col_${key}`] = at >= 0 ? '1' : '';
    out[`colOrder_${key}`] = String(at >= 0 ? at + 1 : list.columns.length + i + 1);
  });
  return out;
}

const NEW_LIST_VALUES: FormValues = formValues(
  { id: 0, siteId: 0, hostNodeId: 0, heading: '', position: 0, sourcePath: '/', pageTypes: ['news'], categories: [], marks: 'all', limit: 10, showMore: true, columns: DEFAULT_COLUMNS, dateFormat: 'ja', sort: 'newest', urgentFirst: true },
  '/',
);

/** Reads the posted form into the service's input; column order problems become field errors. */
function readSettings(values: FormValues, errors: FieldErrors): ListSettingsInput {
  const chosen: Array<{ key: ColumnKey; order: number; i: number }> = [];
  COLUMN_KEYS.forEach((key, i) => {
    const raw = str(values[`colOrder_${key}`]).trim();
    const order = raw === '' ? 99 : Number(raw.normalize('NFKC'));
    if (!Number.isInteger(order) || order < 1 || order > 99) errors[`colOrder_${key}`] = `「${COLUMNS[key]}」の順番は1から99の数字で入力してください。`;
    if (str(values[`col_${key}`]) === '1') chosen.push({ key, order: Number.isInteger(order) ? order : 99, i });
  });
  chosen.sort((a, b) => a.order - b.order || a.i - b.i);
  return {
    heading: str(values.heading),
    hostPath: str(values.hostPath).trim(),
    position: str(values.position).trim() || '0',
    sourcePath: str(values.sourcePath).trim() || '/',
    pageTypes: listOf(values.pageTypes),
    categories: listOf(values.categories),
    marks: (str(values.marks) || 'all') as ListSettingsInput['marks'],
    limit: str(values.limit).trim(),
    showMore: str(values.showMore) === '1',
    columns: chosen.map((c) => c.key),
    dateFormat: (str(values.dateFormat) || 'ja') as ListSettingsInput['dateFormat'],
    sort: (str(values.sort) || 'newest') as ListSettingsInput['sort'],
    urgentFirst: str(values.urgentFirst) === '1',
  };
}

/** One small POST form with a single button (pin, move, exclude…), named for the page it acts on. */
function ItemAction(props: { v: View; listId: number; nodeId: number; action: string; label: string; title: string; secondary?: boolean }) {
  return (
    <form method="post" action={`/admin/cms/lists/${props.listId}/items`} class="inline-form">
      <Csrf v={props.v} />
      <input type="hidden" name="nodeId" value={String(props.nodeId)} />
      <input type="hidden" name="action" value={props.action} />
      <button type="submit" class={`button--small${props.secondary === false ? '' : ' button--secondary'}`}>
        {props.label}
        <span class="visually-hidden">: {props.title}</span>
      </button>
    </form>
  );
}

/** Mounts /admin/cms/lists. */
export function mountListsAdminRoutes(app: Hono<AppEnv>, p: Platform, cms: CmsServices, lists: ListService): void {
  app.use('/admin/cms/lists', requirePermission('cms.sites'));
  app.use('/admin/cms/lists/*', requirePermission('cms.sites'));

  const maySite = (actor: Actor, site: Site) => (site.organizationId === null ? actor.allOrganizations : p.organizations.canAccess(actor, site.organizationId));

  const sitesOf = async (actor: Actor) => {
    const out: Site[] = [];
    for (const s of await cms.sites.all()) if (await maySite(actor, s)) out.push(s);
    return out;
  };

  /** The list named in the URL with its site, or null when it does not exist or is out of reach. */
  const loadList = async (c: Context<AppEnv>) => {
    const list = await lists.get(Number(c.req.param('id'))).catch(() => null);
    const site = list ? await cms.sites.get(list.siteId) : undefined;
    return list && site && (await maySite(actorOf(c), site)) ? { list, site } : null;
  };

  const hostPathOf = async (list: ListConfig) => (await cms.pages.node(list.hostNodeId).catch(() => null))?.path ?? '/';

  /** Page types and categories the form offers; posted values outside them are errors. */
  const choices = async (site: Site) => ({
    types: cms.parts.pageTypes().map((t) => ({ value: t.key, label: t.label })),
    categories: (await categoriesOf(p).list(site.id)).map((x) => ({ value: String(x.id), label: x.depth ? `${x.name}（小分類）` : x.name })),
  });

  const checkChoices = async (site: Site, input: ListSettingsInput, errors: FieldErrors) => {
    const ch = await choices(site);
    if ((input.pageTypes ?? []).some((t) => !ch.types.some((x) => x.value === t))) errors.pageTypes = 'ページの種類は一覧から選んでください。';
    if ((input.categories ?? []).some((x) => !ch.categories.some((y) => y.value === String(x)))) errors.categories = '分野はこのサイトの分野から選んでください。';
  };

  app.get('/admin/cms/lists', async (c) => {
    const v = viewOf(c);
    const sites = await sitesOf(actorOf(c));
    const bySite = await Promise.all(sites.map(async (site) => ({ site, lists: await lists.bySite(site.id) })));
    return c.html(
      <AdminLayout v={v} title="自動一覧（新着情報など）" menu={p.menu}>
        {c.req.query('deleted') ? <Notice kind="success"><p>一覧を削除しました。</p></Notice> : null}
        <p>公開・非公開・公開終了のたびに、指定したページの一覧が自動で入れ替わります。イベントカレンダーは各サイトの <code>/events/</code>、スポットマップは <code>/map/</code> にあります。</p>
        {bySite.map(({ site, lists: ls }) => (
          <section aria-labelledby={`lists-site-${site.id}`}>
            <h2 id={`lists-site-${site.id}`}>{site.name}</h2>
            {ls.length ? (
              <div class="table-wrap">
                <table>
                  <caption class="visually-hidden">{site.name}の自動一覧</caption>
                  <thead><tr><th scope="col">見出し</th><th scope="col">表示するページ</th><th scope="col">対象</th><th scope="col">件数</th><th scope="col">並び順</th></tr></thead>
                  <tbody>
                    {ls.map((l) => (
                      <tr>
                        <td><a href={`/admin/cms/lists/${l.id}`}>{l.heading}</a></td>
                        <td><code>{l.hostPath}</code></td>
                        <td>{l.sourcePath === '/' ? 'サイト全体' : <code>{l.sourcePath}</code>}{l.pageTypes.length ? `（${l.pageTypes.map((t) => cms.parts.pageType(t)?.label ?? t).join('・')}）` : ''}</td>
                        <td>{l.limit}件</td>
                        <td>{SORTS[l.sort]}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p>このサイトにはまだ自動一覧がありません。</p>
            )}
            <p><a class="button button--secondary" href={`/admin/cms/lists/new?site=${site.id}`}>{site.name}に一覧を作る</a></p>
          </section>
        ))}
      </AdminLayout>,
    );
  });

  /** The settings form (create and edit). */
  const SettingsForm = async (props: { v: View; site: Site; list?: ListConfig; values: FormValues; errors?: FieldErrors }) => {
    const { v, site, values, errors } = props;
    const ch = await choices(site);
    return (
      <form method="post" action={props.list ? `/admin/cms/lists/${props.list.id}` : '/admin/cms/lists'} class="form form--wide" novalidate>
        <Csrf v={v} />
        {props.list ? null : <input type="hidden" name="siteId" value={String(site.id)} />}
        <TextField v={v} name="heading" label={LABELS.heading!} value={str(values.heading)} required errors={errors} maxlength={100} hint="例: 新着情報、イベント情報" />
        <TextField v={v} name="hostPath" label={LABELS.hostPath!} value={str(values.hostPath)} required errors={errors} spellcheck={false} hint="サイト内のURL。トップページは「/」、フォルダは「/kurashi/」、ページは「/kurashi/gomi」。本文の後に表示されます。" />
        <TextField v={v} name="position" type="number" inputmode="numeric" label={LABELS.position!} value={str(values.position)} errors={errors} hint="同じページに一覧が複数あるとき、小さい順に表示します。" />
        <fieldset class="field">
          <legend>表示する内容</legend>
          <TextField v={v} name="sourcePath" label={LABELS.sourcePath!} value={str(values.sourcePath)} errors={errors} spellcheck={false} hint="「/」でサイト全体、「/kurashi/」でそのフォルダの中だけ。" />
          <CheckboxGroup v={v} name="pageTypes" label={LABELS.pageTypes!} values={listOf(values.pageTypes)} options={ch.types} errors={errors} hint="選ばなければ、すべての種類のページを載せます。" />
          {ch.categories.length ? <CheckboxGroup v={v} name="categories" label={LABELS.categories!} values={listOf(values.categories)} options={ch.categories} errors={errors} hint="選んだ分野のどれかに属するページだけを載せます。選ばなければすべて。" /> : null}
          <SelectField v={v} name="marks" label={LABELS.marks!} value={str(values.marks)} options={Object.entries(MARK_FILTERS).map(([value, label]) => ({ value, label }))} errors={errors} />
        </fieldset>
        <TextField v={v} name="limit" type="number" inputmode="numeric" label={LABELS.limit!} value={str(values.limit)} required errors={errors} hint="1～100件。固定表示のページも数に含みます。" />
        <Checkbox name="showMore" label="「もっと見る」のリンクを出す（全件をページ分けした一覧へ）" checked={str(values.showMore) === '1'} />
        <fieldset class="field" id="f-columns" aria-describedby={errors?.columns ? 'f-columns-error' : 'f-columns-hint'}>
          <legend>{LABELS.columns}</legend>
          <span class="field__hint" id="f-columns-hint">表示する項目にチェックを入れ、左から並べる順番を数字で入れてください。タイトルは必ず表示します。</span>
          {errors?.columns ? <span class="field__error" id="f-columns-error">{errors.columns}</span> : null}
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">表示する項目と順番</caption>
              <thead><tr><th scope="col">項目</th><th scope="col">表示する</th><th scope="col">順番</th></tr></thead>
              <tbody>
                {COLUMN_KEYS.map((key) => (
                  <tr>
                    <th scope="row" id={`col-${key}-name`}>{COLUMNS[key]}</th>
                    <td><input type="checkbox" id={`f-col_${key}`} name={`col_${key}`} value="1" checked={str(values[`col_${key}`]) === '1'} aria-labelledby={`col-${key}-name col-${key}-show`} /><span id={`col-${key}-show`} class="visually-hidden">を表示する</span></td>
                    <td>
                      <label for={`f-colOrder_${key}`} class="visually-hidden">{COLUMNS[key]}の順番</label>
                      {errors?.[`colOrder_${key}`] ? <span class="field__error" id={`f-colOrder_${key}-error`}>{errors[`colOrder_${key}`]}</span> : null}
                      <input type="number" id={`f-colOrder_${key}`} name={`colOrder_${key}`} value={str(values[`colOrder_${key}`])} min="1" max="99" inputmode="numeric" class="input--narrow" aria-invalid={errors?.[`colOrder_${key}`] ? 'true' : undefined} aria-describedby={errors?.[`colOrder_${key}`] ? `f-colOrder_${key}-error` : undefined} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </fieldset>
        <SelectField v={v} name="dateFormat" label={LABELS.dateFormat!} value={str(values.dateFormat)} options={Object.entries(DATE_FORMATS).map(([value, label]) => ({ value, label: `${label}` }))} errors={errors} />
        <SelectField v={v} name="sort" label={LABELS.sort!} value={str(values.sort)} options={Object.entries(SORTS).map(([value, label]) => ({ value, label }))} errors={errors} hint="固定表示のページは、並び順にかかわらずいちばん上に出ます。" />
        <Checkbox name="urgentFirst" label="緊急のお知らせを常に上に出す（固定表示の次）" checked={str(values.urgentFirst) === '1'} />
        <div class="actions">
          <button type="submit">{props.list ? '設定を保存する' : '一覧を作る'}</button>
          <a href="/admin/cms/lists">{v.t('common.back')}</a>
        </div>
      </form>
    );
  };

  const newPage = async (c: Context<AppEnv>, site: Site, values: FormValues, errors?: FieldErrors) => {
    const v = viewOf(c);
    return (
      <AdminLayout v={v} title={`自動一覧を作る（${site.name}）`} menu={p.menu}>
        <ErrorSummary v={v} errors={errors} labels={LABELS} />
        {await SettingsForm({ v, site, values, errors })}
      </AdminLayout>
    );
  };

  app.get('/admin/cms/lists/new', async (c) => {
    const site = await cms.sites.get(Number(c.req.query('site')));
    if (!site || !(await maySite(actorOf(c), site))) return renderError(c, 404, 'error.notFound');
    return c.html(await newPage(c, site, NEW_LIST_VALUES));
  });

  app.post('/admin/cms/lists', async (c) => {
    const values = await readForm(c);
    const site = await cms.sites.get(Number(str(values.siteId)));
    if (!site || !(await maySite(actorOf(c), site))) return renderError(c, 404, 'error.notFound');
    const errors: FieldErrors = {};
    const input = readSettings(values, errors);
    await checkChoices(site, input, errors);
    Object.assign(errors, { ...(await lists.checkSettings(site.id, input)), ...errors });
    if (Object.keys(errors).length) return c.html(await newPage(c, site, values, errors), 422);
    try {
      const id = await lists.create(actorOf(c), site.id, input, requestMeta(c));
      return c.redirect(`/admin/cms/lists/${id}?saved=1`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await newPage(c, site, values, e.fields), 422);
      throw e;
    }
  });

  const editPage = async (c: Context<AppEnv>, list: ListConfig, site: Site, opts: { values?: FormValues; errors?: FieldErrors; itemErrors?: FieldErrors; notice?: string } = {}) => {
    const v = viewOf(c);
    const hostPath = await hostPathOf(list);
    const values = opts.values ?? formValues(list, hostPath);
    const shown = await lists.window(list, { limit: list.limit });
    const pins = await lists.describeNodes(await lists.itemIds(list.id, 'pin'));
    const excluded = await lists.describeNodes(await lists.itemIds(list.id, 'exclude'));
    const manual = list.sort === 'manual';
    const publicHref = `${site.pathPrefix}${hostPath}`;
    return (
      <AdminLayout v={v} title={`自動一覧の編集: ${list.heading}`} menu={p.menu}>
        {opts.notice ? <Notice kind="success"><p>{opts.notice}</p></Notice> : null}
        <dl class="meta">
          <dt>サイト</dt><dd>{site.name}</dd>
          <dt>表示しているページ</dt><dd><a href={publicHref}>{publicHref}</a></dd>
          <dt>全件の一覧</dt><dd><a href={`${site.pathPrefix}${listPagePath(list.id)}`}>{`${site.pathPrefix}${listPagePath(list.id)}`}</a></dd>
        </dl>
        <ErrorSummary v={v} errors={opts.errors} labels={LABELS} />
        {await SettingsForm({ v, site, list, values, errors: opts.errors })}

        <section aria-labelledby="items-title" id="items">
          <h2 id="items-title">いま表示している項目（{shown.items.length}件）</h2>
          <p>{manual ? '「上へ」「下へ」で並べ替えられます。' : '並び順を「手動で並べた順」にすると、ここで並べ替えられます。'}「固定表示」にしたページは常に先頭に出ます。「除外」したページは載りません。</p>
          <ErrorSummary v={v} errors={opts.itemErrors} labels={LABELS} idPrefix="items" />
          {shown.items.length ? (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">いま表示している項目</caption>
                <thead><tr><th scope="col">順</th><th scope="col">タイトル</th><th scope="col">印</th><th scope="col">操作</th></tr></thead>
                <tbody>
                  {shown.items.map((item, i) => {
                    const unpinned = shown.items.filter((x) => !x.pinned);
                    const at = unpinned.indexOf(item);
                    return (
                      <tr data-node-id={String(item.nodeId)}>
                        <td>{i + 1}</td>
                        <td><a href={`/admin/cms/nodes/${item.nodeId}`}>{item.title}</a> <code>{item.path}</code></td>
                        <td>{item.pinned ? <span class="status">固定表示</span> : null} <Marks urgent={item.urgent} important={item.important} /></td>
                        <td>
                          <div class="actions actions--tight">
                            {item.pinned ? null : <ItemAction v={v} listId={list.id} nodeId={item.nodeId} action="pin" label="固定表示にする" title={item.title} />}
                            {manual && !item.pinned && at > 0 ? <ItemAction v={v} listId={list.id} nodeId={item.nodeId} action="up" label="上へ" title={item.title} /> : null}
                            {manual && !item.pinned && at < unpinned.length - 1 ? <ItemAction v={v} listId={list.id} nodeId={item.nodeId} action="down" label="下へ" title={item.title} /> : null}
                            <ItemAction v={v} listId={list.id} nodeId={item.nodeId} action="exclude" label="除外する" title={item.title} />
                          </div>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          ) : (
            <p>条件に合う公開中のページはありません。</p>
          )}
        </section>

        <section aria-labelledby="pins-title" id="pins">
          <h2 id="pins-title">固定表示（{pins.length}件）</h2>
          {pins.length ? (
            <ol class="pin-list">
              {pins.map((n, i) => (
                <li data-node-id={String(n.id)}>
                  <a href={`/admin/cms/nodes/${n.id}`}>{n.title}</a> <code>{n.path}</code>
                  {n.status !== 'published' || n.hidden ? <>（{STATUS[n.status] ?? n.status}{n.hidden ? '・一時非公開' : ''}のため、いまは表示されません）</> : null}
                  <div class="actions actions--tight">
                    {i > 0 ? <ItemAction v={v} listId={list.id} nodeId={n.id} action="pin-up" label="上へ" title={n.title} /> : null}
                    {i < pins.length - 1 ? <ItemAction v={v} listId={list.id} nodeId={n.id} action="pin-down" label="下へ" title={n.title} /> : null}
                    <ItemAction v={v} listId={list.id} nodeId={n.id} action="unpin" label="固定表示をやめる" title={n.title} />
                  </div>
                </li>
              ))}
            </ol>
          ) : (
            <p>固定表示のページはありません。</p>
          )}
          <form method="post" action={`/admin/cms/lists/${list.id}/items`} class="form" novalidate>
            <Csrf v={v} />
            <input type="hidden" name="action" value="pin-path" />
            <TextField v={v} name="pinPath" label={LABELS.pinPath!} errors={opts.itemErrors} idPrefix="items" spellcheck={false} hint="一覧に出ていないページも、URL（例: /kurashi/gomi）で固定表示にできます。" />
            <div class="actions"><button type="submit" class="button--secondary">固定表示に追加する</button></div>
          </form>
        </section>

        <section aria-labelledby="excluded-title" id="excluded">
          <h2 id="excluded-title">除外したページ（{excluded.length}件）</h2>
          {excluded.length ? (
            <ul>
              {excluded.map((n) => (
                <li data-node-id={String(n.id)}>
                  <a href={`/admin/cms/nodes/${n.id}`}>{n.title}</a> <code>{n.path}</code>
                  <ItemAction v={v} listId={list.id} nodeId={n.id} action="include" label="除外をやめる" title={n.title} />
                </li>
              ))}
            </ul>
          ) : (
            <p>除外したページはありません。</p>
          )}
        </section>

        <section aria-labelledby="delete-title">
          <h2 id="delete-title">一覧の削除</h2>
          <form method="post" action={`/admin/cms/lists/${list.id}/delete`} class="actions">
            <Csrf v={v} />
            <button type="submit" class="button--danger">この一覧を削除する</button>
          </form>
        </section>
      </AdminLayout>
    );
  };

  app.get('/admin/cms/lists/:id{[0-9]+}', async (c) => {
    const found = await loadList(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    return c.html(await editPage(c, found.list, found.site, { notice: c.req.query('saved') ? viewOf(c).t('common.saved') : undefined }));
  });

  app.post('/admin/cms/lists/:id{[0-9]+}', async (c) => {
    const found = await loadList(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    const errors: FieldErrors = {};
    const input = readSettings(values, errors);
    await checkChoices(found.site, input, errors);
    Object.assign(errors, { ...(await lists.checkSettings(found.site.id, input)), ...errors });
    if (Object.keys(errors).length) return c.html(await editPage(c, found.list, found.site, { values, errors }), 422);
    try {
      await lists.update(actorOf(c), found.list.id, input, requestMeta(c));
      return c.redirect(`/admin/cms/lists/${found.list.id}?saved=1`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await editPage(c, found.list, found.site, { values, errors: e.fields }), 422);
      throw e;
    }
  });

  app.post('/admin/cms/lists/:id{[0-9]+}/items', async (c) => {
    const found = await loadList(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    const { list, site } = found;
    const values = await readForm(c);
    const actor = actorOf(c);
    const meta = requestMeta(c);
    const nodeId = Number(str(values.nodeId));
    try {
      switch (str(values.action)) {
        case 'pin':
          await lists.pin(actor, list.id, nodeId, meta);
          break;
        case 'pin-path': {
          const path = str(values.pinPath).trim();
          const node = /^\/[a-z0-9/-]*$/.test(path) ? await lists.nodeAt(site.id, path) : undefined;
          if (!node || node.kind !== 'page') throw new InputError({ pinPath: path ? `このサイトに「${path}」のページはありません。` : '固定表示するページのURLを入力してください。' });
          await lists.pin(actor, list.id, node.id, meta);
          break;
        }
        case 'unpin':
          await lists.unpin(actor, list.id, nodeId, meta);
          break;
        case 'pin-up':
        case 'pin-down':
          await lists.movePin(actor, list.id, nodeId, str(values.action) === 'pin-up' ? 'up' : 'down', meta);
          break;
        case 'exclude':
          await lists.exclude(actor, list.id, nodeId, meta);
          break;
        case 'include':
          await lists.include(actor, list.id, nodeId, meta);
          break;
        case 'up':
        case 'down':
          await lists.moveItem(actor, list.id, nodeId, str(values.action) as 'up' | 'down', meta);
          break;
        default:
          throw new InputError({ _form: '操作が正しくありません。' });
      }
    } catch (e) {
      if (e instanceof InputError) {
        const { nodeId: onNode, ...rest } = e.fields;
        return c.html(await editPage(c, list, site, { itemErrors: onNode ? { _form: onNode, ...rest } : rest }), 422);
      }
      throw e;
    }
    return c.redirect(`/admin/cms/lists/${list.id}?saved=1#items`, 303);
  });

  app.post('/admin/cms/lists/:id{[0-9]+}/delete', async (c) => {
    const found = await loadList(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    await lists.remove(actorOf(c), found.list.id, requestMeta(c));
    return c.redirect('/admin/cms/lists?deleted=1', 303);
  });
}
