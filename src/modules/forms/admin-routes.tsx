import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { auditContext } from '../../core/http/app.js';
import { readForm, str, list, type FormValues } from '../../core/http/validate.js';
import { renderError } from '../../core/http/errors.js';
import { InputError, NotFoundError } from '../../core/errors.js';
import { AdminLayout } from '../../core/ui/layout.js';
import { viewOf, formatWhen, type View } from '../../core/ui/view.js';
import { Checkbox, Csrf, ErrorSummary, Notice, SelectField, TextArea, TextField, type FieldErrors } from '../../core/ui/forms.js';
import { actorOf, requirePermission } from '../admin/guards.js';
import { toJstLocal } from '../maintenance/service.js';
import { FORMS_MANAGE, FORMS_POSTAL, FORMS_RESPONSES } from './permissions.js';
import { AUTOCOMPLETE_OPTIONS, FILE_KINDS, MAX_FILE_MB, QUESTION_TYPES, answers, describeCondition, isQuestionType, questionTypeLabel, questionValues, type Question, type QuestionInput } from './questions.js';
import { PATTERN_PRESETS, MAX_CUSTOM_PATTERN } from './patterns.js';
import { FORM_KIND_LABELS, FORM_STATE_LABELS, publicState, type Form, type FormSettingsInput } from './service.js';
import { formsOf } from './services.js';
import { formsAssets } from './views.js';
import { DEFAULT_REPLY_BODY, DEFAULT_REPLY_SUBJECT } from './mail.js';

/** Either permission opens the forms area; each screen then asks for its own. */
function requireAnyFormsPermission(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const actor = c.get('actor');
    if (!actor || !(actor.permissions.has(FORMS_MANAGE) || actor.permissions.has(FORMS_RESPONSES) || actor.permissions.has(FORMS_POSTAL))) return renderError(c, 403, 'error.forbidden');
    return next();
  };
}

const jst = (iso: string | null) => (iso ? toJstLocal(new Date(iso)) : '');

export function period(form: Form, locale: View['locale'] = 'ja'): string {
  if (!form.opensAt && !form.closesAt) return '期間の定めなし';
  return `${form.opensAt ? formatWhen(form.opensAt, locale) : '公開時'}～${form.closesAt ? formatWhen(form.closesAt, locale) : '（終了日時なし）'}`;
}

/** 受付中 / 受付終了… as residents see it now, next to the stored state. */
export function StateBadge(props: { form: Form }) {
  const s = publicState(props.form);
  const label = FORM_STATE_LABELS[props.form.state];
  const live = s === 'open' ? '受付中' : s === 'closed' ? '受付終了' : s === 'upcoming' ? '受付開始前' : '非公開';
  const cls = s === 'open' ? 'status--good' : s === 'closed' ? 'status--bad' : 'status--muted';
  return <span class={`status ${cls}`}>{label}{label !== live ? `（住民から見て: ${live}）` : ''}</span>;
}

const SETTINGS_LABELS: Record<string, string> = {
  title: 'フォームの名前',
  slug: 'URLの名前',
  kind: 'フォームの種類',
  organizationId: '担当の組織',
  description: '説明文（フォームの最初に表示）',
  opensAt: '受付開始日時',
  closesAt: '受付終了日時',
  removesAt: '公開終了（削除）日時',
  responseLimit: '回答数の上限',
  minFillSeconds: '最短の入力時間（秒）',
  completionMessage: '完了画面の文章',
  replyEnabled: '自動返信メール',
  replyQuestionId: '返信先のメールアドレスの質問',
  replySubject: '自動返信メールの件名',
  replyBody: '自動返信メールの本文',
  notifyEmails: '回答を知らせる職員のメールアドレス',
  _form: '',
};

const QUESTION_LABELS: Record<string, string> = {
  type: '質問の種類',
  label: '質問文',
  help: '説明文',
  options: '選択肢',
  minLength: '最小文字数',
  maxLength: '最大文字数',
  pattern: '入力の形式',
  customPattern: '独自のパターン（正規表現）',
  customMessage: '形式が違うときのエラー文',
  min: '最小値',
  max: '最大値',
  minChoices: '最低選択数',
  maxChoices: '最大選択数',
  maxSizeMb: 'ファイルの大きさの上限（MB）',
  accept: '受け付けるファイルの種類',
  autocomplete: '自動入力の種類',
  showIfQuestion: '条件にする質問',
  showIfOp: '条件の種類',
  showIfValue: '条件の値',
};

/**
 * The form builder (C-3-10, C-3-11, C-3-13, C-3-14): list of forms, create, settings
 * (window, limit, mails), questions with up/down reordering that works without JavaScript,
 * and publication. Staff see only forms of their organisations.
 */
export function mountFormsAdminRoutes(app: Hono<AppEnv>, p: Platform) {
  const { forms } = formsOf(p);
  app.use('/admin/forms', requireAnyFormsPermission());
  app.use('/admin/forms/*', requireAnyFormsPermission());
  const manage = requirePermission(FORMS_MANAGE);

  const loadForm = async (c: Context<AppEnv>): Promise<Form | null> => forms.getFor(actorOf(c), Number(c.req.param('id')));

  app.get('/admin/forms', async (c) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    const rows = await forms.listFor(actor);
    const canManage = actor.permissions.has(FORMS_MANAGE);
    const canRespond = actor.permissions.has(FORMS_RESPONSES);
    return c.html(
      <AdminLayout v={v} title="フォーム" menu={p.menu}>
        <p>申込み・届出・アンケートのフォームを作り、ページに埋め込んだり単独のページとして公開したりします。回答は一覧で確認し、CSV・Excel形式で出力できます。</p>
        <div class="actions">
          {canManage ? <a class="button" href="/admin/forms/new">新しいフォームを作る</a> : null}
          {actor.permissions.has(FORMS_POSTAL) ? <a href="/admin/forms/postal">郵便番号データ（住所の自動入力）</a> : null}
        </div>
        <div class="table-wrap">
          <table>
            <caption>フォーム一覧（{rows.length}件）</caption>
            <thead>
              <tr>
                <th scope="col">フォームの名前</th>
                <th scope="col">種類</th>
                <th scope="col">状態</th>
                <th scope="col">受付期間</th>
                <th scope="col">回答数</th>
                <th scope="col">{v.t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 ? <tr><td colspan={6}>まだフォームがありません。</td></tr> : null}
              {rows.map((f) => (
                <tr data-testid={`form-${f.id}`}>
                  <td>{canManage ? <a href={`/admin/forms/${f.id}`}>{f.title}</a> : f.title}<br /><code>/forms/{f.slug}</code></td>
                  <td>{FORM_KIND_LABELS[f.kind]}</td>
                  <td><StateBadge form={f} /></td>
                  <td>{period(f, v.locale)}</td>
                  <td>{f.responseCount}{f.responseLimit !== null ? ` / ${f.responseLimit}` : ''}</td>
                  <td>{canRespond ? <a href={`/admin/forms/${f.id}/responses`}>回答一覧<span class="visually-hidden">: {f.title}</span></a> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </AdminLayout>,
    );
  });

  const orgOptions = async (c: Context<AppEnv>) => {
    const actor = actorOf(c);
    const orgs = await p.organizations.visibleTo(actor);
    return [...(actor.allOrganizations ? [{ value: '', label: '（組織を指定しない・全庁）' }] : []), ...orgs.map((o) => ({ value: String(o.id), label: o.name }))];
  };

  const newPage = async (c: Context<AppEnv>, values: FormValues, errors?: FieldErrors) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    return (
      <AdminLayout v={v} title="新しいフォームを作る" menu={p.menu}>
        <p>まず名前とURLを決めます。質問・受付期間・自動返信メールは、作成した後の画面で設定します。</p>
        <ErrorSummary v={v} errors={errors} labels={SETTINGS_LABELS} />
        <form method="post" action="/admin/forms" class="form" novalidate>
          <Csrf v={v} />
          <TextField v={v} name="title" label={SETTINGS_LABELS.title!} value={str(values.title)} required maxlength={100} errors={errors} hint="例: 公民館の利用申込み" />
          <TextField v={v} name="slug" label={SETTINGS_LABELS.slug!} value={str(values.slug)} required maxlength={60} errors={errors} hint="半角英小文字・数字・ハイフン。フォームのURL（/forms/URLの名前）になります。例: kominkan" spellcheck={false} />
          <SelectField v={v} name="kind" label={SETTINGS_LABELS.kind!} value={str(values.kind) || 'form'} options={[{ value: 'form', label: FORM_KIND_LABELS.form }, { value: 'survey', label: FORM_KIND_LABELS.survey }]} errors={errors} />
          <SelectField v={v} name="organizationId" label={SETTINGS_LABELS.organizationId!} value={values.organizationId !== undefined ? str(values.organizationId) : String(actor.organizationId ?? '')} options={await orgOptions(c)} errors={errors} hint="この組織の職員がフォームと回答を扱えます。" />
          <TextArea v={v} name="description" label={SETTINGS_LABELS.description!} value={str(values.description)} rows={4} errors={errors} />
          <div class="actions">
            <button type="submit">作成する</button>
            <a href="/admin/forms">{v.t('common.back')}</a>
          </div>
        </form>
      </AdminLayout>
    );
  };

  app.get('/admin/forms/new', manage, async (c) => c.html(await newPage(c, {})));

  app.post('/admin/forms', manage, async (c) => {
    const values = await readForm(c);
    try {
      const id = await forms.create(actorOf(c), { title: str(values.title), slug: str(values.slug), kind: str(values.kind), organizationId: str(values.organizationId), description: str(values.description) }, auditContext(c));
      return c.redirect(`/admin/forms/${id}?created=1`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await newPage(c, values, e.fields), 422);
      throw e;
    }
  });

  const FLASH: Record<string, string> = {
    created: 'フォームを作成しました。次に質問を追加してください。',
    saved: '保存しました。',
    published: 'フォームを公開しました。',
    scheduled: '公開を予約しました。受付開始日時になると自動で受付を始めます。',
    closed: '受付を終了しました。',
    reopened: '受付を再開しました。',
    unpublished: '非公開（下書き）に戻しました。',
    removed: '公開を終了しました。回答は引き続き確認できます。',
    question: '質問を保存しました。',
    deleted: '質問を削除しました。',
  };

  const builder = async (c: Context<AppEnv>, form: Form, opts: { errors?: FieldErrors; status?: number } = {}) => {
    const v = viewOf(c);
    const questions = await forms.questions(form.id);
    const embeds = await forms.embeds(form.id);
    const flash = Object.keys(FLASH).find((k) => c.req.query(k));
    const movedId = Number(c.req.query('moved'));
    const movedDir = c.req.query('dir');
    const pub = publicState(form);
    const canRespond = actorOf(c).permissions.has(FORMS_RESPONSES);
    const action = (path: string, label: string, cls = 'button--secondary') => (
      <form method="post" action={`/admin/forms/${form.id}/${path}`} class="inline-form">
        <Csrf v={v} />
        <button type="submit" class={cls}>{label}</button>
      </form>
    );
    return (
      <AdminLayout v={v} title={`フォームの編集: ${form.title}`} menu={p.menu}>
        {flash ? <Notice kind="success"><p>{FLASH[flash]}</p></Notice> : null}
        <ErrorSummary v={v} errors={opts.errors} />
        <dl class="meta">
          <dt>公開ページ</dt>
          <dd><a href={`/forms/${form.slug}`}>/forms/{form.slug}</a>{pub === 'open' ? null : '（公開前はプレビューとして職員だけが見られます）'}</dd>
          <dt>種類</dt><dd>{FORM_KIND_LABELS[form.kind]}</dd>
          <dt>状態</dt><dd data-testid="form-state"><StateBadge form={form} /></dd>
          <dt>受付期間</dt><dd>{period(form, v.locale)}</dd>
          {form.removesAt ? <><dt>公開終了（削除）</dt><dd>{formatWhen(form.removesAt, v.locale)}</dd></> : null}
          <dt>回答数</dt><dd>{form.responseCount}件{form.responseLimit !== null ? `（上限 ${form.responseLimit}件）` : ''}</dd>
          <dt>自動返信メール</dt><dd>{form.replyEnabled ? '送る' : '送らない'}</dd>
          <dt>埋め込み先のページ</dt>
          <dd>{embeds.length ? embeds.map((e) => <><code>{e.path}</code> </>) : 'なし（ページ管理で「埋め込むフォーム」に選ぶと、そのページに表示されます）'}</dd>
        </dl>
        <div class="actions">
          <a class="button" href={`/admin/forms/${form.id}/settings`}>設定を変更する<span class="visually-hidden">（受付期間・自動返信メールなど）</span></a>
          {canRespond ? <a href={`/admin/forms/${form.id}/responses`}>回答一覧</a> : null}
          {canRespond && form.kind === 'survey' ? <a href={`/admin/forms/${form.id}/summary`}>集計結果</a> : null}
        </div>
        <section aria-labelledby="publish-title">
          <h2 id="publish-title">公開</h2>
          <div class="actions">
            {form.state === 'draft' || form.state === 'removed' ? action('publish', form.opensAt && form.opensAt > new Date().toISOString() ? '公開を予約する' : '公開する（受付開始）', '') : null}
            {form.state === 'open' || form.state === 'scheduled' ? action('close', '受付を終了する') : null}
            {form.state === 'closed' ? action('reopen', '受付を再開する') : null}
            {form.state !== 'draft' && form.state !== 'removed' ? action('unpublish', '非公開（下書き）に戻す') : null}
            {form.state !== 'removed' && form.state !== 'draft' ? action('remove', '公開を終了する（削除）', 'button--danger') : null}
          </div>
        </section>
        <section aria-labelledby="questions-title">
          <h2 id="questions-title">質問（{questions.filter(answers).length}問）</h2>
          <p>「上へ」「下へ」で順番を変えられます。条件付きの質問は、条件にした質問より後ろに置きます。</p>
          {questions.length === 0 ? <p>まだ質問がありません。下の「質問を追加する」から追加してください。</p> : null}
          <ol class="forms-builder-list">
            {questions.map((q, i) => (
              <li id={`q-${q.id}`} data-testid={`question-${q.id}`}>
                <span class="forms-type">{questionTypeLabel(q.type)}</span>
                <strong>{q.label}</strong>
                {q.required ? <span class="badge-required">必須</span> : null}
                {q.type === 'radio' || q.type === 'checkbox' || q.type === 'select' ? <p>選択肢: {q.options.join('／')}</p> : null}
                {q.showIf ? <p>表示する条件: {describeCondition(q.showIf, questions)}</p> : null}
                <div class="actions">
                  <a href={`/admin/forms/${form.id}/questions/${q.id}`}>編集<span class="visually-hidden">: {q.label}</span></a>
                  <form method="post" action={`/admin/forms/${form.id}/questions/${q.id}/move`} class="inline-form">
                    <Csrf v={v} />
                    <button type="submit" name="direction" value="up" class="button--secondary button--small" disabled={i === 0} autofocus={movedId === q.id && movedDir === 'up' && i > 0 ? true : undefined}>上へ<span class="visually-hidden">: {q.label}</span></button>
                    <button type="submit" name="direction" value="down" class="button--secondary button--small" disabled={i === questions.length - 1} autofocus={movedId === q.id && movedDir === 'down' && i < questions.length - 1 ? true : undefined}>下へ<span class="visually-hidden">: {q.label}</span></button>
                  </form>
                  <a href={`/admin/forms/${form.id}/questions/${q.id}/delete`}>削除<span class="visually-hidden">: {q.label}</span></a>
                </div>
              </li>
            ))}
          </ol>
          <h3 id="add-title">質問を追加する</h3>
          <form method="get" action={`/admin/forms/${form.id}/questions/new`} class="form" aria-labelledby="add-title">
            <SelectField v={v} name="type" label="質問の種類" value="text" options={QUESTION_TYPES.map((t) => ({ value: t.type, label: t.label }))} />
            <div class="actions"><button type="submit">この種類の質問を追加する</button></div>
          </form>
        </section>
        <link rel="stylesheet" href={formsAssets.css} />
      </AdminLayout>
    );
  };

  app.get('/admin/forms/:id{[0-9]+}', manage, async (c) => {
    const form = await loadForm(c);
    if (!form) return renderError(c, 404, 'error.notFound');
    return c.html(await builder(c, form));
  });

  const stateAction = (path: string, run: (form: Form, c: Context<AppEnv>) => Promise<string>) =>
    app.post(`/admin/forms/:id{[0-9]+}/${path}`, manage, async (c) => {
      const form = await loadForm(c);
      if (!form) return renderError(c, 404, 'error.notFound');
      try {
        const flash = await run(form, c);
        return c.redirect(`/admin/forms/${form.id}?${flash}=1`, 303);
      } catch (e) {
        if (e instanceof InputError) return c.html(await builder(c, form, { errors: e.fields }), 422);
        throw e;
      }
    });
  stateAction('publish', async (f, c) => ((await forms.publish(actorOf(c), f, auditContext(c))) === 'scheduled' ? 'scheduled' : 'published'));
  stateAction('close', async (f, c) => (await forms.close(actorOf(c), f, auditContext(c)), 'closed'));
  stateAction('reopen', async (f, c) => (await forms.reopen(actorOf(c), f, auditContext(c)), 'reopened'));
  stateAction('unpublish', async (f, c) => (await forms.unpublish(actorOf(c), f, auditContext(c)), 'unpublished'));
  stateAction('remove', async (f, c) => (await forms.remove(actorOf(c), f, auditContext(c)), 'removed'));

  const settingsValues = (form: Form): FormValues => ({
    title: form.title,
    slug: form.slug,
    kind: form.kind,
    organizationId: form.organizationId === null ? '' : String(form.organizationId),
    description: form.description,
    opensAt: jst(form.opensAt),
    closesAt: jst(form.closesAt),
    removesAt: jst(form.removesAt),
    responseLimit: form.responseLimit === null ? '' : String(form.responseLimit),
    minFillSeconds: String(form.minFillSeconds),
    completionMessage: form.completionMessage,
    replyEnabled: form.replyEnabled ? '1' : '',
    replyQuestionId: form.replyQuestionId === null ? '' : String(form.replyQuestionId),
    replySubject: form.replySubject || DEFAULT_REPLY_SUBJECT,
    replyBody: form.replyBody || DEFAULT_REPLY_BODY,
    notifyEmails: form.notifyEmails.join('\n'),
  });

  const settingsPage = async (c: Context<AppEnv>, form: Form, values: FormValues, errors?: FieldErrors) => {
    const v = viewOf(c);
    const questions = await forms.questions(form.id);
    const emailQs = questions.filter((q) => q.type === 'email');
    const L = SETTINGS_LABELS;
    return (
      <AdminLayout v={v} title={`フォームの設定: ${form.title}`} menu={p.menu}>
        <ErrorSummary v={v} errors={errors} labels={L} />
        <form method="post" action={`/admin/forms/${form.id}/settings`} class="form form--wide" novalidate>
          <Csrf v={v} />
          <h2>基本</h2>
          <TextField v={v} name="title" label={L.title!} value={str(values.title)} required maxlength={100} errors={errors} />
          <TextField v={v} name="slug" label={L.slug!} value={str(values.slug)} required maxlength={60} errors={errors} hint="半角英小文字・数字・ハイフン。変えると、以前のURLでは開けなくなります。" spellcheck={false} />
          <SelectField v={v} name="kind" label={L.kind!} value={str(values.kind)} options={[{ value: 'form', label: FORM_KIND_LABELS.form }, { value: 'survey', label: FORM_KIND_LABELS.survey }]} errors={errors} />
          <SelectField v={v} name="organizationId" label={L.organizationId!} value={str(values.organizationId)} options={await orgOptions(c)} errors={errors} />
          <TextArea v={v} name="description" label={L.description!} value={str(values.description)} rows={4} errors={errors} />
          <h2>受付期間と上限（日本時間）</h2>
          <p>日時を入れると、その日時に自動で受付開始・受付終了・公開終了（削除）します。空欄なら期限はありません。</p>
          <TextField v={v} name="opensAt" type="datetime-local" label={L.opensAt!} value={str(values.opensAt)} errors={errors} />
          <TextField v={v} name="closesAt" type="datetime-local" label={L.closesAt!} value={str(values.closesAt)} errors={errors} />
          <TextField v={v} name="removesAt" type="datetime-local" label={L.removesAt!} value={str(values.removesAt)} errors={errors} hint="この日時を過ぎるとフォームのページは表示されなくなります（回答は残ります）。" />
          <TextField v={v} name="responseLimit" label={L.responseLimit!} value={str(values.responseLimit)} inputmode="numeric" errors={errors} hint="先着順の申込みなど。上限に達すると自動で受付を終了します。空欄なら上限なし。" />
          <TextField v={v} name="minFillSeconds" label={L.minFillSeconds!} value={str(values.minFillSeconds)} inputmode="numeric" errors={errors} hint="迷惑な自動送信を防ぐため、フォームを開いてからこの秒数より早い送信は受け付けません（標準3秒）。" />
          <TextArea v={v} name="completionMessage" label={L.completionMessage!} value={str(values.completionMessage)} rows={3} errors={errors} hint="送信後の画面に、受付番号と一緒に表示します。例: 3開庁日以内に担当からご連絡します。" />
          <h2>メール</h2>
          <Checkbox name="replyEnabled" label="回答した人に自動返信メールを送る" checked={str(values.replyEnabled) === '1'} />
          {errors?.replyEnabled ? <p class="field__error" id="f-replyEnabled">{errors.replyEnabled}</p> : null}
          <SelectField v={v} name="replyQuestionId" label={L.replyQuestionId!} value={str(values.replyQuestionId)} emptyLabel="最初のメールアドレスの質問" options={emailQs.map((q) => ({ value: q.id, label: q.label }))} errors={errors} />
          <p id="placeholders">件名と本文には次の差し込み文字が使えます: <code>{'{{受付番号}}'}</code> <code>{'{{フォーム名}}'}</code> <code>{'{{受付日時}}'}</code> <code>{'{{回答一覧}}'}</code> <code>{'{{回答:質問文}}'}</code>（例: <code>{'{{回答:お名前}}'}</code>）。</p>
          <TextField v={v} name="replySubject" label={L.replySubject!} value={str(values.replySubject)} maxlength={150} errors={errors} />
          <TextArea v={v} name="replyBody" label={L.replyBody!} value={str(values.replyBody)} rows={12} errors={errors} hint="回答には個人情報が含まれるため、このメールは送信後に本文をサーバから消去します。" />
          <TextArea v={v} name="notifyEmails" label={L.notifyEmails!} value={str(values.notifyEmails)} rows={3} errors={errors} hint="1行に1件。回答があるたびに、受付番号と回答の内容をお知らせします（10件まで）。" />
          <div class="actions">
            <button type="submit">保存する</button>
            <a href={`/admin/forms/${form.id}`}>{v.t('common.back')}</a>
          </div>
        </form>
      </AdminLayout>
    );
  };

  app.get('/admin/forms/:id{[0-9]+}/settings', manage, async (c) => {
    const form = await loadForm(c);
    if (!form) return renderError(c, 404, 'error.notFound');
    return c.html(await settingsPage(c, form, settingsValues(form)));
  });

  app.post('/admin/forms/:id{[0-9]+}/settings', manage, async (c) => {
    const form = await loadForm(c);
    if (!form) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    const input: FormSettingsInput = {
      title: str(values.title),
      slug: str(values.slug),
      kind: str(values.kind),
      organizationId: str(values.organizationId),
      description: str(values.description),
      opensAt: str(values.opensAt),
      closesAt: str(values.closesAt),
      removesAt: str(values.removesAt),
      responseLimit: str(values.responseLimit),
      minFillSeconds: str(values.minFillSeconds),
      completionMessage: str(values.completionMessage),
      replyEnabled: str(values.replyEnabled) === '1' ? '1' : '0',
      replyQuestionId: str(values.replyQuestionId),
      replySubject: str(values.replySubject),
      replyBody: str(values.replyBody),
      notifyEmails: str(values.notifyEmails),
    };
    try {
      await forms.updateSettings(actorOf(c), form, input, auditContext(c));
      return c.redirect(`/admin/forms/${form.id}?saved=1`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await settingsPage(c, form, values, e.fields), 422);
      throw e;
    }
  });

  const questionPage = async (c: Context<AppEnv>, form: Form, o: { question?: Question; type: string; values: FormValues; errors?: FieldErrors }) => {
    const v = viewOf(c);
    const all = await forms.questions(form.id);
    const earlier = o.question ? all.filter((q) => q.position < o.question!.position) : all;
    const type = o.type;
    const values = o.values;
    const errors = o.errors;
    const L = QUESTION_LABELS;
    const choice = type === 'radio' || type === 'checkbox' || type === 'select';
    const title = `${o.question ? '質問の編集' : '質問の追加'}（${questionTypeLabel(type)}）`;
    return (
      <AdminLayout v={v} title={title} menu={p.menu}>
        <p>フォーム: <a href={`/admin/forms/${form.id}`}>{form.title}</a></p>
        <ErrorSummary v={v} errors={errors} labels={L} />
        <form method="post" action={o.question ? `/admin/forms/${form.id}/questions/${o.question.id}` : `/admin/forms/${form.id}/questions`} class="form form--wide" novalidate>
          <Csrf v={v} />
          <input type="hidden" name="type" value={type} />
          <TextField v={v} name="label" label={type === 'heading' ? '見出し' : L.label!} value={str(values.label)} required maxlength={200} errors={errors} hint={type === 'consent' ? '例: 個人情報の取扱いについて' : type === 'heading' ? '例: 申込者の情報' : '例: お名前'} />
          <TextArea v={v} name="help" label={type === 'heading' ? '説明文' : '説明文（任意）'} value={str(values.help)} rows={3} errors={errors} hint={type === 'consent' ? '同意していただく内容を書きます。' : '入力のしかたや例を、質問の下に表示します。'} />
          {type !== 'heading' ? <Checkbox name="required" label="回答を必須にする" checked={str(values.required) === '1'} /> : null}
          {choice ? <TextArea v={v} name="options" label="選択肢（1行に1つ）" value={str(values.options)} rows={6} required errors={errors} /> : null}
          {type === 'text' || type === 'textarea' ? (
            <fieldset class="field">
              <legend>文字数と形式（任意）</legend>
              <TextField v={v} name="minLength" label={L.minLength!} value={str(values.minLength)} inputmode="numeric" errors={errors} />
              <TextField v={v} name="maxLength" label={L.maxLength!} value={str(values.maxLength)} inputmode="numeric" errors={errors} hint={type === 'text' ? '空欄なら200文字。' : '空欄なら2000文字。'} />
              {type === 'text' ? (
                <>
                  <SelectField v={v} name="pattern" label={L.pattern!} value={str(values.pattern)} emptyLabel="指定しない" options={[...PATTERN_PRESETS.map((x) => ({ value: x.key, label: x.label })), { value: 'custom', label: '独自のパターン（上級者向け）' }]} errors={errors} />
                  <TextField v={v} name="customPattern" label={L.customPattern!} value={str(values.customPattern)} maxlength={MAX_CUSTOM_PATTERN} errors={errors} spellcheck={false} hint="「独自のパターン」を選んだときだけ使います。JavaScriptの正規表現。処理が止まるおそれのある形は保存できません。回答は200文字までになります。" />
                  <TextField v={v} name="customMessage" label={L.customMessage!} value={str(values.customMessage)} maxlength={200} errors={errors} hint="例: 「A-1234」のように入力してください。" />
                  <SelectField v={v} name="autocomplete" label={L.autocomplete!} value={str(values.autocomplete)} options={AUTOCOMPLETE_OPTIONS} errors={errors} hint="ブラウザが氏名などを自動入力できるようにします。" />
                </>
              ) : null}
            </fieldset>
          ) : null}
          {type === 'number' ? (
            <fieldset class="field">
              <legend>範囲（任意）</legend>
              <TextField v={v} name="min" label={L.min!} value={str(values.min)} errors={errors} />
              <TextField v={v} name="max" label={L.max!} value={str(values.max)} errors={errors} />
              <Checkbox name="integer" label="整数だけを受け付ける" checked={str(values.integer) === '1'} />
            </fieldset>
          ) : null}
          {type === 'checkbox' ? (
            <fieldset class="field">
              <legend>選べる数（任意）</legend>
              <TextField v={v} name="minChoices" label={L.minChoices!} value={str(values.minChoices)} inputmode="numeric" errors={errors} />
              <TextField v={v} name="maxChoices" label={L.maxChoices!} value={str(values.maxChoices)} inputmode="numeric" errors={errors} />
            </fieldset>
          ) : null}
          {type === 'file' ? (
            <fieldset class="field" id="f-accept">
              <legend>受け付けるファイル</legend>
              {errors?.accept ? <span class="field__error">{errors.accept}</span> : null}
              {Object.entries(FILE_KINDS).map(([key, k]) => (
                <Checkbox name="accept" value={key} idPrefix={key} label={k.label} checked={list(values.accept).includes(key)} />
              ))}
              <TextField v={v} name="maxSizeMb" label={L.maxSizeMb!} value={str(values.maxSizeMb) || '5'} inputmode="numeric" errors={errors} hint={`1～${MAX_FILE_MB}。ファイルの中身を調べて種類を確かめます。`} />
            </fieldset>
          ) : null}
          <fieldset class="field">
            <legend>表示する条件（任意）</legend>
            <p class="field__hint">前の質問の回答によって、この質問を表示するかどうかを決めます。条件を使わないときは「常に表示する」のままにします。</p>
            <SelectField v={v} name="showIfQuestion" label={L.showIfQuestion!} value={str(values.showIfQuestion)} emptyLabel="常に表示する" options={earlier.filter(answers).map((q) => ({ value: q.id, label: q.label }))} errors={errors} />
            <SelectField v={v} name="showIfOp" label={L.showIfOp!} value={str(values.showIfOp) || 'equals'} options={[{ value: 'equals', label: 'の回答が次の値のとき' }, { value: 'includes', label: 'の回答に次の値を含むとき（複数選択・文章）' }, { value: 'filled', label: 'に何か回答したとき' }]} errors={errors} />
            <TextField v={v} name="showIfValue" label={L.showIfValue!} value={str(values.showIfValue)} errors={errors} hint="選択肢の場合は、その選択肢の文言をそのまま入力します。" />
          </fieldset>
          <div class="actions">
            <button type="submit">保存する</button>
            <a href={`/admin/forms/${form.id}`}>{v.t('common.back')}</a>
          </div>
        </form>
      </AdminLayout>
    );
  };

  const questionInput = (values: FormValues, type: string): QuestionInput => ({
    type,
    label: str(values.label),
    help: str(values.help),
    required: str(values.required) === '1',
    options: str(values.options),
    minLength: str(values.minLength),
    maxLength: str(values.maxLength),
    pattern: str(values.pattern),
    customPattern: str(values.customPattern),
    customMessage: str(values.customMessage),
    min: str(values.min),
    max: str(values.max),
    integer: str(values.integer) === '1',
    minChoices: str(values.minChoices),
    maxChoices: str(values.maxChoices),
    maxSizeMb: str(values.maxSizeMb),
    accept: list(values.accept),
    autocomplete: str(values.autocomplete),
    showIfQuestion: str(values.showIfQuestion),
    showIfOp: str(values.showIfOp),
    showIfValue: str(values.showIfValue),
  });

  app.get('/admin/forms/:id{[0-9]+}/questions/new', manage, async (c) => {
    const form = await loadForm(c);
    if (!form) return renderError(c, 404, 'error.notFound');
    const type = c.req.query('type') ?? '';
    if (!isQuestionType(type)) return renderError(c, 404, 'error.notFound');
    return c.html(await questionPage(c, form, { type, values: { accept: type === 'file' ? ['image', 'pdf'] : [], required: type === 'consent' ? '1' : '' } }));
  });

  app.post('/admin/forms/:id{[0-9]+}/questions', manage, async (c) => {
    const form = await loadForm(c);
    if (!form) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    const type = str(values.type);
    if (!isQuestionType(type)) return renderError(c, 404, 'error.notFound');
    try {
      const qid = await forms.addQuestion(actorOf(c), form, questionInput(values, type), auditContext(c));
      return c.redirect(`/admin/forms/${form.id}?question=1#q-${qid}`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await questionPage(c, form, { type, values, errors: e.fields }), 422);
      throw e;
    }
  });

  const loadQuestion = async (c: Context<AppEnv>, form: Form) => (await forms.questions(form.id)).find((q) => q.id === Number(c.req.param('qid'))) ?? null;

  app.get('/admin/forms/:id{[0-9]+}/questions/:qid{[0-9]+}', manage, async (c) => {
    const form = await loadForm(c);
    const q = form ? await loadQuestion(c, form) : null;
    if (!form || !q) return renderError(c, 404, 'error.notFound');
    return c.html(await questionPage(c, form, { question: q, type: q.type, values: questionValues(q) }));
  });

  app.post('/admin/forms/:id{[0-9]+}/questions/:qid{[0-9]+}', manage, async (c) => {
    const form = await loadForm(c);
    const q = form ? await loadQuestion(c, form) : null;
    if (!form || !q) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    try {
      await forms.updateQuestion(actorOf(c), form, q.id, questionInput(values, q.type), auditContext(c));
      return c.redirect(`/admin/forms/${form.id}?question=1#q-${q.id}`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await questionPage(c, form, { question: q, type: q.type, values, errors: e.fields }), 422);
      throw e;
    }
  });

  app.post('/admin/forms/:id{[0-9]+}/questions/:qid{[0-9]+}/move', manage, async (c) => {
    const form = await loadForm(c);
    const q = form ? await loadQuestion(c, form) : null;
    if (!form || !q) return renderError(c, 404, 'error.notFound');
    const direction = str((await readForm(c)).direction) === 'up' ? 'up' : 'down';
    try {
      await forms.moveQuestion(actorOf(c), form, q.id, direction, auditContext(c));
    } catch (e) {
      if (e instanceof InputError) return c.html(await builder(c, form, { errors: e.fields }), 422);
      if (e instanceof NotFoundError) return renderError(c, 404, 'error.notFound');
      throw e;
    }
    // No #fragment: a page with a target element skips autofocus, and the focus must come back to the button.
    return c.redirect(`/admin/forms/${form.id}?moved=${q.id}&dir=${direction}`, 303);
  });

  app.get('/admin/forms/:id{[0-9]+}/questions/:qid{[0-9]+}/delete', manage, async (c) => {
    const form = await loadForm(c);
    const q = form ? await loadQuestion(c, form) : null;
    if (!form || !q) return renderError(c, 404, 'error.notFound');
    const v = viewOf(c);
    return c.html(
      <AdminLayout v={v} title={`質問の削除: ${q.label}`} menu={p.menu}>
        <p>フォーム「{form.title}」から質問「{q.label}」を削除します。すでに回答がある質問は、過去の回答と出力には残ります。</p>
        <form method="post" action={`/admin/forms/${form.id}/questions/${q.id}/delete`} class="actions">
          <Csrf v={v} />
          <button type="submit" class="button--danger">削除する</button>
          <a href={`/admin/forms/${form.id}`}>{v.t('common.cancel')}</a>
        </form>
      </AdminLayout>,
    );
  });

  app.post('/admin/forms/:id{[0-9]+}/questions/:qid{[0-9]+}/delete', manage, async (c) => {
    const form = await loadForm(c);
    const q = form ? await loadQuestion(c, form) : null;
    if (!form || !q) return renderError(c, 404, 'error.notFound');
    await forms.deleteQuestion(actorOf(c), form, q.id, auditContext(c));
    return c.redirect(`/admin/forms/${form.id}?deleted=1`, 303);
  });
}
