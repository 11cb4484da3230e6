import type { Context, Hono } from 'hono';
import { raw } from 'hono/html';
import { requestMeta } from '../../../core/http/app.js';
import { renderError } from '../../../core/http/errors.js';
import type { AppEnv } from '../../../core/http/types.js';
import { list, readForm, str, type FormValues } from '../../../core/http/validate.js';
import { ForbiddenError, InputError, NotFoundError } from '../../../core/errors.js';
import type { Platform } from '../../../core/platform.js';
import { CheckboxGroup, Csrf, ErrorSummary, Notice, SelectField, TextField, type FieldErrors } from '../../../core/ui/forms.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { formatDateTime, viewOf } from '../../../core/ui/view.js';
import { actorOf, requirePermission } from '../../admin/guards.js';
import type { CmsServices } from '../index.js';
import { orgTree } from './directory.js';
import { MAX_LEVELS, WORKFLOW_ADMIN, levelField, type ApprovalRoute, type ApprovalRouteService } from './routes.js';
import type { ListedRequest, WorkflowService } from './service.js';
import { A11yResult, DecisionErrors, DecisionForms, LevelsTable, RULE_LABEL, RequestFacts, RequestForm, StatusBadge, WithdrawForm, fromJstInput } from './views.js';

const DONE: Record<string, string> = {
  requested: '承認を依頼しました。承認者にメールで知らせました。',
  approved: '承認しました。次の段の承認者にメールで知らせました。',
  waiting: '承認しました。この段のほかの承認者の承認を待っています。',
  published: '承認し、ページを公開しました。',
  scheduled: '承認しました。希望の日時に公開されます。',
  sent_back: '差し戻しました。依頼者にメールで知らせました。',
  withdrawn: '依頼を取り下げました。',
};

/** Answers a service error: field errors re-render the form (422), the rest become 404 / 403. */
async function answer(c: Context<AppEnv>, e: unknown, rerender: (errors: FieldErrors) => Promise<Response>): Promise<Response> {
  if (e instanceof InputError) return rerender(e.fields);
  if (e instanceof NotFoundError) return renderError(c, 404, 'error.notFound');
  if (e instanceof ForbiddenError) return renderError(c, 403, 'error.forbidden');
  throw e;
}

/**
 * The workflow's screens: 承認待ち / 自分の依頼, one request with its preview and decisions, the
 * request form, and the approval routes. Everything under /admin/cms already requires cms.edit
 * (the CMS's own guard); the routes screens also need cms.workflow_admin.
 */
export function mountWorkflowRoutes(app: Hono<AppEnv>, p: Platform, cms: CmsServices, svc: WorkflowService, routes: ApprovalRouteService) {
  const idOf = (c: Context<AppEnv>) => Number(c.req.param('id'));

  // ---- 承認待ち / 自分の依頼 -------------------------------------------------------------------

  const RequestsTable = (props: { caption: string; rows: ListedRequest[]; showRequester: boolean; testid: string }) => (
    <div class="table-wrap" data-testid={props.testid}>
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">ページ</th>
            <th scope="col">サイト</th>
            {props.showRequester ? <th scope="col">依頼者</th> : null}
            <th scope="col">依頼日時</th>
            <th scope="col">状態</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? <tr><td colspan={props.showRequester ? 5 : 4}>ありません。</td></tr> : null}
          {props.rows.map((r) => (
            <tr>
              <td><a href={`/admin/cms/workflow/requests/${r.request.id}`}>{r.title}</a>（<code>{r.path}</code>、版 {r.request.version_number}）</td>
              <td>{r.siteName}</td>
              {props.showRequester ? <td>{r.request.requester_name}</td> : null}
              <td>{formatDateTime(r.request.created_at)}</td>
              <td><StatusBadge request={r.request} stale={r.stale} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );

  app.get('/admin/cms/workflow', async (c) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    const tab = c.req.query('tab') === 'mine' ? 'mine' : 'inbox';
    const [inbox, mine] = await Promise.all([svc.inbox(actor), svc.mine(actor)]);
    return c.html(
      <AdminLayout v={v} title="承認ワークフロー" menu={p.menu}>
        <nav aria-label="承認ワークフローの一覧">
          <ul class="filters">
            <li><a href="/admin/cms/workflow" aria-current={tab === 'inbox' ? 'page' : undefined}>承認待ち（{inbox.length}件）</a></li>
            <li><a href="/admin/cms/workflow?tab=mine" aria-current={tab === 'mine' ? 'page' : undefined}>自分の依頼（{mine.length}件）</a></li>
            {actor.permissions.has(WORKFLOW_ADMIN) ? <li><a href="/admin/cms/workflow/routes">承認ルートの管理</a></li> : null}
          </ul>
        </nav>
        {tab === 'inbox' ? (
          <RequestsTable caption="あなたの承認を待っている依頼" rows={inbox} showRequester testid="workflow-inbox" />
        ) : (
          <RequestsTable caption="あなたが依頼したページ（新しい順、50件まで）" rows={mine} showRequester={false} testid="workflow-mine" />
        )}
      </AdminLayout>,
    );
  });

  // ---- one request ---------------------------------------------------------------------------

  const requestPage = async (c: Context<AppEnv>, id: number, opts: { errors?: FieldErrors; values?: FormValues } = {}) => {
    const v = viewOf(c);
    const detail = await svc.detail(actorOf(c), id);
    const done = DONE[c.req.query('done') ?? ''];
    return (
      <AdminLayout v={v} title={`承認依頼: ${detail.version.title}`} menu={p.menu}>
        {done ? <Notice kind="success"><p>{done}</p></Notice> : null}
        <DecisionErrors v={v} errors={opts.errors} idPrefix="wf" />
        {detail.stale ? <Notice kind="warning"><p data-testid="workflow-stale">{detail.stale}</p></Notice> : null}
        <RequestFacts v={v} detail={detail} />
        <h2>承認の状況</h2>
        <LevelsTable v={v} request={detail.request} steps={detail.steps} />
        <A11yResult issues={detail.issues} headingLevel={2} id="wf-a11y-title" />
        {detail.isCurrentApprover && !detail.stale ? <DecisionForms v={v} detail={detail} errors={opts.errors} values={opts.values} idPrefix="wf" headingLevel={2} /> : null}
        {detail.mayWithdraw ? <WithdrawForm v={v} request={detail.request} /> : null}
        <p><a href="/admin/cms/workflow">承認待ちの一覧へ</a>　<a href={`/admin/cms/nodes/${detail.node.id}`}>ページの編集画面へ</a></p>
      </AdminLayout>
    );
  };

  app.get('/admin/cms/workflow/requests/:id{[0-9]+}', async (c) => {
    try {
      return c.html(await requestPage(c, idOf(c)));
    } catch (e) {
      return answer(c, e, async () => renderError(c, 404, 'error.notFound'));
    }
  });

  /** The requested version in a plain admin frame (its body was sanitised when saved). */
  app.get('/admin/cms/workflow/requests/:id{[0-9]+}/preview', async (c) => {
    try {
      const v = viewOf(c);
      const d = await svc.detail(actorOf(c), idOf(c));
      return c.html(
        <AdminLayout v={v} title={d.version.title} menu={p.menu}>
          <Notice kind="info"><p>承認を依頼された版 {d.version.number} の内容です（{formatDateTime(d.version.created_at, v.locale)} 保存）。公開ページのデザインとは異なります。</p></Notice>
          {d.version.summary ? <p class="lead">{d.version.summary}</p> : null}
          <article class="page-body" aria-label={`版 ${d.version.number} の本文`}>{raw(d.version.body_html)}</article>
          <p><a href={`/admin/cms/workflow/requests/${d.request.id}`}>承認依頼に戻る</a></p>
        </AdminLayout>,
      );
    } catch (e) {
      return answer(c, e, async () => renderError(c, 404, 'error.notFound'));
    }
  });

  app.post('/admin/cms/workflow/requests/:id{[0-9]+}/approve', async (c) => {
    const values = await readForm(c);
    try {
      const { outcome } = await svc.approve(actorOf(c), idOf(c), { comment: str(values.approveComment), overrideReason: str(values.approveOverride) }, requestMeta(c));
      return c.redirect(`/admin/cms/workflow/requests/${idOf(c)}?done=${outcome === 'advanced' ? 'approved' : outcome}`, 303);
    } catch (e) {
      return answer(c, e, async (errors) => c.html(await requestPage(c, idOf(c), { errors, values }), 422));
    }
  });

  app.post('/admin/cms/workflow/requests/:id{[0-9]+}/send-back', async (c) => {
    const values = await readForm(c);
    try {
      await svc.sendBack(actorOf(c), idOf(c), { reason: str(values.sendBackReason) }, requestMeta(c));
      return c.redirect(`/admin/cms/workflow/requests/${idOf(c)}?done=sent_back`, 303);
    } catch (e) {
      return answer(c, e, async (errors) => c.html(await requestPage(c, idOf(c), { errors, values }), 422));
    }
  });

  app.post('/admin/cms/workflow/requests/:id{[0-9]+}/withdraw', async (c) => {
    try {
      await svc.withdraw(actorOf(c), idOf(c), requestMeta(c));
      return c.redirect(`/admin/cms/workflow/requests/${idOf(c)}?done=withdrawn`, 303);
    } catch (e) {
      return answer(c, e, async (errors) => c.html(await requestPage(c, idOf(c), { errors }), 422));
    }
  });

  // ---- 承認を依頼する ----------------------------------------------------------------------------

  const requestFormPage = async (c: Context<AppEnv>, nodeId: number, opts: { errors?: FieldErrors; values?: FormValues } = {}) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    const node = await cms.pages.node(nodeId);
    if (!(await orgTree(p.organizations)).reaches(actor, node.organization_id) || node.status === 'trashed') throw new NotFoundError();
    const prep = await svc.prepare(actor, node);
    return (
      <AdminLayout v={v} title={`承認の依頼: ${prep.draft?.title ?? node.path}`} menu={p.menu}>
        <DecisionErrors v={v} errors={opts.errors} idPrefix="wf" />
        <p>ページ: <a href={`/admin/cms/nodes/${node.id}`}><code>{node.path}</code></a></p>
        {prep.draft ? <A11yResult issues={prep.issues} headingLevel={2} id="wf-a11y-title" /> : null}
        <RequestForm v={v} node={node} prep={prep} errors={opts.errors} values={opts.values} idPrefix="wf" headingLevel={2} />
      </AdminLayout>
    );
  };

  app.get('/admin/cms/workflow/nodes/:id{[0-9]+}/request', async (c) => {
    try {
      return c.html(await requestFormPage(c, idOf(c)));
    } catch (e) {
      return answer(c, e, async () => renderError(c, 404, 'error.notFound'));
    }
  });

  app.post('/admin/cms/workflow/nodes/:id{[0-9]+}/request', async (c) => {
    const values = await readForm(c);
    const errors: FieldErrors = {};
    const publishAt = fromJstInput(str(values.publishAt), 'publishAt', errors);
    const rerender = async (errs: FieldErrors) => c.html(await requestFormPage(c, idOf(c), { errors: errs, values }), 422);
    try {
      if (Object.keys(errors).length) {
        await cms.pages.node(idOf(c)); // an unknown page is a 404 before it is a form error
        return await rerender(errors);
      }
      const id = await svc.requestApproval(actorOf(c), idOf(c), { comment: str(values.comment), publishAt, overrideReason: str(values.overrideReason) }, requestMeta(c));
      return c.redirect(`/admin/cms/workflow/requests/${id}?done=requested`, 303);
    } catch (e) {
      return answer(c, e, rerender);
    }
  });

  // ---- 承認ルート ------------------------------------------------------------------------------

  app.use('/admin/cms/workflow/routes', requirePermission(WORKFLOW_ADMIN));
  app.use('/admin/cms/workflow/routes/*', requirePermission(WORKFLOW_ADMIN));

  const describeScope = async (route: ApprovalRoute) => {
    const tree = await orgTree(p.organizations);
    const folder = route.folderId ? await cms.pages.node(route.folderId).catch(() => null) : null;
    const parts = [folder ? `フォルダ ${folder.path} 以下` : 'サイト全体', route.organizationId ? `${tree.get(route.organizationId)?.name ?? '（削除された組織）'}のページ` : null].filter(Boolean);
    return parts.join('・');
  };

  app.get('/admin/cms/workflow/routes', async (c) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    const sites = await routes.list(actor);
    const candidates = new Map((await routes.candidates(actor)).map((s) => [s.id, s.displayName]));
    const rows = await Promise.all(sites.map(async (s) => ({ ...s, scopes: await Promise.all(s.routes.map(describeScope)) })));
    return c.html(
      <AdminLayout v={v} title="承認ルート" menu={p.menu}>
        {c.req.query('saved') ? <Notice kind="success"><p>{v.t('common.saved')}</p></Notice> : null}
        {c.req.query('deleted') ? <Notice kind="success"><p>承認ルートを削除しました。</p></Notice> : null}
        <p>ページの承認を誰が行うかを、サイト全体・フォルダ・組織ごとに設定します。ページには最も限定的なルート（深いフォルダ → 組織 → サイト全体の順）が適用されます。</p>
        {rows.length === 0 ? <p>承認ルートを管理できるサイトがありません。</p> : null}
        {rows.map(({ site, routes: rs, scopes }) => (
          <section aria-labelledby={`wf-site-${site.id}`}>
            <h2 id={`wf-site-${site.id}`}>{site.name}</h2>
            <p><a href={`/admin/cms/workflow/routes/new?site=${site.id}`}>承認ルートを追加<span class="visually-hidden">: {site.name}</span></a></p>
            <div class="table-wrap">
              <table>
                <caption>{site.name}の承認ルート（{rs.length}件）</caption>
                <thead><tr><th scope="col">名前</th><th scope="col">対象</th><th scope="col">段と承認者</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
                <tbody>
                  {rs.length === 0 ? <tr><td colspan={4}>まだありません。承認ルートのないページは承認を依頼できません。</td></tr> : null}
                  {rs.map((r, i) => (
                    <tr>
                      <td><a href={`/admin/cms/workflow/routes/${r.id}`}>{r.name}</a></td>
                      <td>{scopes[i]}</td>
                      <td>
                        <ol>
                          {r.levels.map((l) => <li>{l.rule === 'all' ? '全員' : 'いずれか1人'}: {l.approverIds.map((id) => candidates.get(id) ?? `（ID ${id}）`).join('、')}</li>)}
                        </ol>
                      </td>
                      <td>
                        <form method="post" action={`/admin/cms/workflow/routes/${r.id}/delete`} class="inline-form">
                          <Csrf v={v} />
                          <button type="submit" class="button--small button--danger">削除<span class="visually-hidden">: {r.name}</span></button>
                        </form>
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

  const LABELS: Record<string, string> = { name: 'ルート名', folderId: '対象のフォルダ', organizationId: '対象の組織', ...Object.fromEntries(Array.from({ length: MAX_LEVELS }, (_, i) => [levelField(i + 1), `第${i + 1}段の承認者`])) };

  const routeForm = async (c: Context<AppEnv>, siteId: number, routeId: number | null, values: FormValues, errors?: FieldErrors) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    const site = (await routes.manageableSites(actor)).find((s) => s.id === siteId);
    if (!site) throw new NotFoundError();
    const tree = await orgTree(p.organizations);
    const folders = (await cms.pages.tree(site.id)).filter((n) => n.kind === 'folder' && n.parent_id !== null && tree.reaches(actor, n.organization_id ?? site.organizationId));
    const orgs = tree.all.filter((o) => tree.reaches(actor, o.id) && (site.organizationId === null || tree.chain(o.id).includes(site.organizationId)));
    const candidates = await routes.candidates(actor);
    const orgName = (id: number | null) => tree.get(id)?.name ?? '所属なし';
    return (
      <AdminLayout v={v} title={routeId ? `承認ルートの編集: ${str(values.name)}` : `承認ルートの作成（${site.name}）`} menu={p.menu}>
        <ErrorSummary v={v} errors={errors} labels={LABELS} />
        <form method="post" action={routeId ? `/admin/cms/workflow/routes/${routeId}` : '/admin/cms/workflow/routes'} class="form form--wide" novalidate>
          <Csrf v={v} />
          <input type="hidden" name="siteId" value={String(site.id)} />
          <TextField v={v} name="name" label={LABELS.name!} value={str(values.name)} required maxlength={100} errors={errors} hint="例: 広報課の標準ルート" />
          <SelectField v={v} name="folderId" label={LABELS.folderId!} value={str(values.folderId)} emptyLabel="サイト全体（フォルダを指定しない）" options={folders.map((f) => ({ value: f.id, label: `${'　'.repeat(Math.max(0, f.depth - 1))}${f.title}（${f.path}）` }))} errors={errors} hint="フォルダを選ぶと、そのフォルダと中のページすべてに適用します。" />
          <SelectField v={v} name="organizationId" label={LABELS.organizationId!} value={str(values.organizationId)} emptyLabel="指定しない（すべての組織のページ）" options={orgs.map((o) => ({ value: o.id, label: o.name }))} errors={errors} hint="組織を選ぶと、その組織（とその下の組織）が担当するページだけに適用します。フォルダと両方選ぶと、両方に当てはまるページに適用します。" />
          {Array.from({ length: MAX_LEVELS }, (_, i) => i + 1).map((n) => (
            <fieldset class="workflow-level">
              <legend>第{n}段{n === 1 ? '（必須）' : '（任意。使わない段は承認者を選ばずに空けておきます）'}</legend>
              <SelectField v={v} name={`level${n}Rule`} label={`第${n}段の承認の条件`} value={str(values[`level${n}Rule`]) || 'any'} options={[{ value: 'any', label: RULE_LABEL.any }, { value: 'all', label: RULE_LABEL.all }]} errors={errors} />
              <CheckboxGroup
                v={v}
                name={levelField(n)}
                label={`第${n}段の承認者`}
                values={list(values[levelField(n)])}
                options={candidates.map((s) => ({ value: String(s.id), label: `${s.displayName}（${orgName(s.organizationId)}、${s.loginId}）`, hint: s.email ? undefined : 'メールアドレス未登録（通知メールは届きません）' }))}
                errors={errors}
              />
            </fieldset>
          ))}
          <div class="actions">
            <button type="submit">保存する</button>
            <a href="/admin/cms/workflow/routes">{v.t('common.back')}</a>
          </div>
        </form>
      </AdminLayout>
    );
  };

  const readRoute = (values: FormValues) => {
    const errors: FieldErrors = {};
    const optionalId = (field: string): number | null => {
      const s = str(values[field]).trim();
      if (!s) return null;
      const n = Number(s);
      if (!Number.isSafeInteger(n) || n <= 0) {
        errors[field] = '一覧から選んでください。';
        return null;
      }
      return n;
    };
    const levels = Array.from({ length: MAX_LEVELS }, (_, i) => ({
      rule: str(values[`level${i + 1}Rule`]) === 'all' ? ('all' as const) : ('any' as const),
      approverIds: list(values[levelField(i + 1)]).map(Number).filter((n) => Number.isSafeInteger(n) && n > 0),
    }));
    return { input: { siteId: Number(str(values.siteId)), name: str(values.name), folderId: optionalId('folderId'), organizationId: optionalId('organizationId'), levels }, errors };
  };

  const routeValues = (r: ApprovalRoute): FormValues => ({
    name: r.name,
    folderId: r.folderId ? String(r.folderId) : '',
    organizationId: r.organizationId ? String(r.organizationId) : '',
    ...Object.fromEntries(r.levels.flatMap((l, i) => [[`level${i + 1}Rule`, l.rule], [levelField(i + 1), l.approverIds.map(String)]])),
  });

  app.get('/admin/cms/workflow/routes/new', async (c) => {
    try {
      return c.html(await routeForm(c, Number(c.req.query('site')), null, {}));
    } catch (e) {
      return answer(c, e, async () => renderError(c, 404, 'error.notFound'));
    }
  });

  app.post('/admin/cms/workflow/routes', async (c) => {
    const values = await readForm(c);
    const { input, errors } = readRoute(values);
    const rerender = async (errs: FieldErrors) => c.html(await routeForm(c, input.siteId, null, values, errs), 422);
    try {
      if (Object.keys(errors).length) return await rerender(errors);
      await routes.save(actorOf(c), null, input, requestMeta(c));
      return c.redirect('/admin/cms/workflow/routes?saved=1', 303);
    } catch (e) {
      return answer(c, e, rerender);
    }
  });

  app.get('/admin/cms/workflow/routes/:id{[0-9]+}', async (c) => {
    try {
      const { route } = await routes.get(actorOf(c), idOf(c));
      return c.html(await routeForm(c, route.siteId, route.id, routeValues(route)));
    } catch (e) {
      return answer(c, e, async () => renderError(c, 404, 'error.notFound'));
    }
  });

  app.post('/admin/cms/workflow/routes/:id{[0-9]+}', async (c) => {
    const values = await readForm(c);
    try {
      const { route } = await routes.get(actorOf(c), idOf(c));
      const { input, errors } = readRoute({ ...values, siteId: String(route.siteId) });
      const rerender = async (errs: FieldErrors) => c.html(await routeForm(c, route.siteId, route.id, values, errs), 422);
      if (Object.keys(errors).length) return await rerender(errors);
      try {
        await routes.save(actorOf(c), route.id, input, requestMeta(c));
      } catch (e) {
        return await answer(c, e, rerender);
      }
      return c.redirect('/admin/cms/workflow/routes?saved=1', 303);
    } catch (e) {
      return answer(c, e, async () => renderError(c, 404, 'error.notFound'));
    }
  });

  app.post('/admin/cms/workflow/routes/:id{[0-9]+}/delete', async (c) => {
    try {
      await routes.remove(actorOf(c), idOf(c), requestMeta(c));
      return c.redirect('/admin/cms/workflow/routes?deleted=1', 303);
    } catch (e) {
      return answer(c, e, async () => renderError(c, 404, 'error.notFound'));
    }
  });
}
