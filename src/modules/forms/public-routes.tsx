import type { Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { fileTypeFromBuffer } from 'file-type';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import type { FormValues } from '../../core/http/validate.js';
import { renderError } from '../../core/http/errors.js';
import { Notice, type FieldErrors } from '../../core/ui/forms.js';
import { viewOf } from '../../core/ui/view.js';
import { FORMS_MANAGE } from './permissions.js';
import { FILE_KINDS, MAX_FILE_MB, addressName, checkAnswers, fieldName, fileTokenName, type Question, type UploadedFile } from './questions.js';
import { normalizePostal } from './normalize.js';
import type { Form } from './service.js';
import { publicState } from './service.js';
import { formsOf } from './services.js';
import { newSubmissionKey, signDone, signStart, verifyDone, verifyStart, verifySubmissionKey } from './tokens.js';
import { ClosedView, ConfirmForm, DoneView, InputForm, Steps } from './views.js';
import { FormFrame, frameSite } from './frame.js';

/** Answers older than this on their start token ask the resident to start again. */
const START_MAX_AGE_MS = 24 * 3600_000;

type Body = { values: FormValues; files: Map<string, File> };

/** A urlencoded or multipart body: strings as form values, files by field name. */
async function readBody(c: Context<AppEnv>): Promise<Body> {
  const raw = await c.req.parseBody({ all: true });
  const values: FormValues = {};
  const files = new Map<string, File>();
  for (const [k, v] of Object.entries(raw)) {
    if (k === '_csrf') continue;
    const list = Array.isArray(v) ? v : [v];
    const strings = list.filter((x): x is string => typeof x === 'string');
    const file = list.find((x): x is File => typeof x !== 'string' && x !== null && typeof (x as File).arrayBuffer === 'function');
    if (file && file.size > 0) files.set(k, file);
    if (strings.length) values[k] = strings.length === 1 ? strings[0]! : strings;
  }
  return { values, files };
}

const str = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
const siteParam = (v: string | undefined) => {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 && n < 2_147_483_647 ? n : null;
};

/**
 * The resident-facing flow of a form at its own address: input → 確認画面 → 完了画面 with the
 * reception number, plus the closed and not-yet-open pages. Works without JavaScript. The
 * spam defences are the platform's public-POST rate limit (core), a honeypot field, a signed
 * start time (minimum fill time) and a one-time key per confirmation (no double responses).
 */
export function mountPublicFormRoutes(app: Hono<AppEnv>, p: Platform) {
  const { forms, responses, postal } = formsOf(p);

  const isPreviewer = async (c: Context<AppEnv>, form: Form) => {
    const actor = c.get('actor');
    return Boolean(actor && actor.permissions.has(FORMS_MANAGE) && (await forms.mayAccess(actor, form)));
  };

  /** The form named in the URL as the visitor may see it, or null (404). */
  const load = async (c: Context<AppEnv>) => {
    const form = await forms.bySlug(c.req.param('slug') ?? '');
    if (!form) return null;
    const state = publicState(form);
    const preview = state !== 'open' && (await isPreviewer(c, form));
    if (state === 'hidden' && !preview) return null;
    return { form, state, preview };
  };

  const render = async (c: Context<AppEnv>, o: { form: Form; title: string; siteId: number | null; status?: ContentfulStatusCode; step?: 1 | 2 | 3; preview?: boolean; body: Child }) => {
    const v = viewOf(c);
    const site = await frameSite(c, p, o.siteId);
    c.header('Cache-Control', 'no-store');
    return c.html(
      <FormFrame c={c} v={v} site={site} title={o.title}>
        <h1>{o.form.title}</h1>
        {o.preview ? (
          <p class="notice notice--warning" role="note">
            プレビュー（職員のみ表示）: このフォームは現在、住民には公開されていません。送信はできません。
          </p>
        ) : null}
        {o.step ? <Steps current={o.step} /> : null}
        {o.body}
      </FormFrame>,
      o.status ?? 200,
    );
  };

  const inputPage = async (c: Context<AppEnv>, o: { form: Form; questions: Question[]; values: FormValues; errors?: FieldErrors; files?: Map<string, UploadedFile>; siteId: number | null; status?: ContentfulStatusCode; preview: boolean; notice?: Child; startToken?: string }) => {
    const v = viewOf(c);
    return render(c, {
      form: o.form,
      title: o.errors && Object.keys(o.errors).length ? `入力内容に誤りがあります：${o.form.title}` : o.form.title,
      siteId: o.siteId,
      status: o.status,
      step: 1,
      preview: o.preview,
      body: (
        <>
          {o.form.description ? <p class="forms-description">{o.form.description}</p> : null}
          <InputForm v={v} form={o.form} questions={o.questions} values={o.values} errors={o.errors} files={o.files} csrf={v.csrf} startToken={o.startToken ?? signStart(p.secretKey, o.form.id)} siteId={o.siteId} notice={o.notice} />
        </>
      ),
    });
  };

  const closedPage = (c: Context<AppEnv>, form: Form, state: 'closed' | 'upcoming', siteId: number | null, status: ContentfulStatusCode) =>
    render(c, { form, title: `${state === 'closed' ? '受付終了' : '受付開始前'}：${form.title}`, siteId, status, body: <ClosedView form={form} state={state} v={viewOf(c)} /> });

  /** Uploads of the request, checked (size, sniffed type) and stored until the response is sent. */
  const takeUploads = async (form: Form, questions: Question[], body: Body, errors: FieldErrors) => {
    for (const q of questions) {
      if (q.type !== 'file') continue;
      const file = body.files.get(fieldName(q));
      if (!file) continue;
      const limit = Math.min(q.rules.maxSizeMb ?? 5, MAX_FILE_MB) * 1024 * 1024;
      if (file.size > limit) {
        errors[fieldName(q)] = `${q.label}のファイルが大きすぎます（${q.rules.maxSizeMb ?? 5}MBまで）。`;
        continue;
      }
      const data = Buffer.from(await file.arrayBuffer());
      const sniffed = await fileTypeFromBuffer(data).catch(() => undefined);
      const allowed = (q.rules.accept ?? []).flatMap((k) => FILE_KINDS[k]?.mimes ?? []);
      if (!sniffed || !allowed.includes(sniffed.mime)) {
        errors[fieldName(q)] = `${q.label}には、受け付ける種類のファイル（${(q.rules.accept ?? []).map((k) => FILE_KINDS[k]?.label).filter(Boolean).join('、')}）を選んでください。`;
        continue;
      }
      const stored = await responses.storeUpload(form.id, q.id, { filename: file.name || `file.${sniffed.ext}`, mime: sniffed.mime, data });
      body.values[fileTokenName(q)] = stored.token;
    }
  };

  const uploadsOf = (form: Form, questions: Question[], values: FormValues) =>
    responses.uploads(form.id, questions.filter((q) => q.type === 'file').map((q) => str(values[fileTokenName(q)])).filter(Boolean));

  /** Spam checks shared by both POST steps; a message for the form, or null. */
  const spamCheck = (form: Form, values: FormValues, now: number): { message: string; restart: boolean } | null => {
    if (str(values.website) !== '') return { message: '送信できませんでした。入力内容を確かめて、もう一度お試しください。', restart: false };
    const started = verifyStart(p.secretKey, form.id, str(values._ts));
    if (started === null || now - started > START_MAX_AGE_MS) return { message: 'ページの有効期限が切れました。お手数ですが、内容を確かめてもう一度送信してください。', restart: true };
    if (now - started < form.minFillSeconds * 1000) return { message: '入力を始めてから送信までの時間が短すぎます。内容を確かめて、もう一度「確認画面へ進む」を押してください。', restart: true };
    return null;
  };

  // Address completion for the script (no external service: the site's own KEN_ALL table).
  app.get('/forms/_postal/:code{[0-9]{7}}', async (c) => {
    const found = await postal.lookup(c.req.param('code'));
    c.header('Cache-Control', 'public, max-age=3600');
    return c.json(found ? { found: true, ...found } : { found: false });
  });

  // What an embed on a cached CMS page asks for: this visitor's CSRF token and start time.
  app.get('/forms/:slug/start', async (c) => {
    c.header('Cache-Control', 'no-store');
    const found = await load(c);
    if (!found || found.preview) return c.json({ state: 'hidden', message: 'このフォームは公開されていません。' }, 404);
    const { form, state } = found;
    if (state === 'closed') return c.json({ state, message: 'このフォームの受付は終了しました。' });
    if (state === 'upcoming') return c.json({ state, message: 'このフォームは受付開始前です。' });
    return c.json({ state: 'open', csrf: c.get('csrfToken')(), ts: signStart(p.secretKey, form.id) });
  });

  app.get('/forms/:slug', async (c) => {
    const found = await load(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    const { form, state, preview } = found;
    const siteId = siteParam(c.req.query('site'));
    if ((state === 'closed' || state === 'upcoming') && !preview) return closedPage(c, form, state, siteId, 200);
    return inputPage(c, { form, questions: await forms.questions(form.id), values: {}, siteId, preview });
  });

  app.post('/forms/:slug/confirm', async (c) => {
    const found = await load(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    const { form, state, preview } = found;
    const body = await readBody(c);
    const siteId = siteParam(str(body.values._site));
    if ((state === 'closed' || state === 'upcoming') && !preview) return closedPage(c, form, state, siteId, state === 'closed' ? 410 : 403);
    const questions = await forms.questions(form.id);
    const now = Date.now();
    const spam = spamCheck(form, body.values, now);
    if (spam) {
      const files = await uploadsOf(form, questions, body.values);
      return inputPage(c, { form, questions, values: body.values, files, siteId, preview, status: 422, errors: { _form: spam.message } });
    }
    const errors: FieldErrors = {};
    await takeUploads(form, questions, body, errors);
    // Address completion without JavaScript: a postal code with an empty address fills the address,
    // and the form comes back so the resident can add the block number.
    const completed: string[] = [];
    for (const q of questions) {
      if (q.type !== 'postal' || str(body.values[addressName(q)]).trim() !== '') continue;
      const code = normalizePostal(str(body.values[fieldName(q)]));
      const hit = code ? await postal.lookup(code) : null;
      if (code && hit) {
        body.values[fieldName(q)] = code;
        body.values[addressName(q)] = `${hit.prefecture}${hit.city}${hit.town}`;
        completed.push(q.label);
      }
    }
    const files = await uploadsOf(form, questions, body.values);
    const check = checkAnswers(questions, body.values, files);
    const allErrors = { ...check.errors, ...errors };
    const startToken = str(body.values._ts);
    if (completed.length || Object.keys(allErrors).length) {
      const notice = completed.length ? (
        <Notice kind="info">
          <p>郵便番号から{completed.map((l) => `「${l}」`).join('、')}の住所を入力しました。番地・建物名などを続けて入力し、もう一度「確認画面へ進む」を押してください。</p>
        </Notice>
      ) : undefined;
      return inputPage(c, { form, questions, values: { ...body.values, ...check.values }, files, errors: allErrors, siteId, preview, notice, startToken, status: Object.keys(allErrors).length ? 422 : 200 });
    }
    const v = viewOf(c);
    const replyTo = form.replyEnabled ? (check.answers.find((a) => typeof a.detail.email === 'string' && (form.replyQuestionId === null || a.questionId === form.replyQuestionId))?.detail.email as string | undefined) : undefined;
    return render(c, {
      form,
      title: `入力内容の確認：${form.title}`,
      siteId,
      step: 2,
      preview,
      body: <ConfirmForm v={v} form={form} questions={questions.filter((q) => check.visible.has(q.id))} answers={check.answers} startToken={startToken} submissionKey={newSubmissionKey(p.secretKey, form.id)} siteId={siteId} replyTo={replyTo ?? null} />,
    });
  });

  // "入力画面に戻る": the confirmation screen's hidden fields back into the form.
  app.post('/forms/:slug/edit', async (c) => {
    const found = await load(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    const { form, state, preview } = found;
    const body = await readBody(c);
    const siteId = siteParam(str(body.values._site));
    if ((state === 'closed' || state === 'upcoming') && !preview) return closedPage(c, form, state, siteId, state === 'closed' ? 410 : 403);
    const questions = await forms.questions(form.id);
    const files = await uploadsOf(form, questions, body.values);
    const ts = str(body.values._ts);
    return inputPage(c, { form, questions, values: body.values, files, siteId, preview, startToken: verifyStart(p.secretKey, form.id, ts) !== null ? ts : undefined });
  });

  app.post('/forms/:slug/submit', async (c) => {
    const found = await load(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    const { form, state, preview } = found;
    const body = await readBody(c);
    const siteId = siteParam(str(body.values._site));
    if (preview) return render(c, { form, title: `送信できません：${form.title}`, siteId, status: 403, preview, body: <p>プレビュー中のフォームは送信できません。公開してから、公開ページで試してください。</p> });
    if (state === 'closed' || state === 'upcoming') return closedPage(c, form, state, siteId, state === 'closed' ? 410 : 403);
    const questions = await forms.questions(form.id);
    const files = await uploadsOf(form, questions, body.values);
    const spam = spamCheck(form, body.values, Date.now()) ?? (verifySubmissionKey(p.secretKey, form.id, str(body.values._sid)) ? null : { message: 'ページの有効期限が切れました。お手数ですが、内容を確かめてもう一度送信してください。', restart: true });
    if (spam) return inputPage(c, { form, questions, values: body.values, files, siteId, preview, status: 422, errors: { _form: spam.message } });
    // The hidden fields are checked again: nothing on the confirmation screen is trusted.
    const check = checkAnswers(questions, body.values, files);
    if (Object.keys(check.errors).length) return inputPage(c, { form, questions, values: { ...body.values, ...check.values }, files, siteId, preview, status: 422, errors: check.errors, startToken: str(body.values._ts) });
    const v = viewOf(c);
    try {
      const result = await responses.submit(form, questions, check.answers, {
        submissionKey: str(body.values._sid),
        ip: c.get('clientIp') ?? null,
        userAgent: c.req.header('user-agent') ?? null,
        baseUrl: p.config.BASE_URL,
      });
      if (result.kind === 'closed') return closedPage(c, { ...form, state: 'closed' }, 'closed', siteId, 410);
      if (result.kind === 'files-expired') {
        const errors: FieldErrors = {};
        for (const q of questions) if (q.type === 'file' && str(body.values[fileTokenName(q)])) errors[fieldName(q)] = `${q.label}のファイルの保存期限が過ぎました。もう一度ファイルを選んでください。`;
        return inputPage(c, { form, questions, values: body.values, siteId, preview, status: 422, errors });
      }
      const q = new URLSearchParams({ r: signDone(p.secretKey, form.id, result.responseId) });
      if (siteId) q.set('site', String(siteId));
      return c.redirect(`/forms/${form.slug}/done?${q.toString()}`, 303);
    } catch (err) {
      // Item 8: nothing was stored (one transaction); say so, and keep the answers to send again.
      c.get('log').error({ err, formId: form.id }, 'form response could not be stored');
      return render(c, {
        form,
        title: `送信できませんでした：${form.title}`,
        siteId,
        step: 2,
        status: 500,
        body: (
          <>
            <div class="notice notice--error" role="alert">
              <h2>送信できませんでした</h2>
              <p>システムで問題が起きたため、回答は保存されていません。お手数ですが、少し時間をおいてから、もう一度「送信する」を押してください。</p>
              <p>問い合わせの際はこの番号をお伝えください: <code>{c.get('requestId')}</code></p>
            </div>
            <ConfirmForm v={v} form={form} questions={questions.filter((x) => check.visible.has(x.id))} answers={check.answers} startToken={str(body.values._ts)} submissionKey={str(body.values._sid)} siteId={siteId} />
          </>
        ),
      });
    }
  });

  app.get('/forms/:slug/done', async (c) => {
    const form = await forms.bySlug(c.req.param('slug'));
    if (!form) return renderError(c, 404, 'error.notFound');
    const id = verifyDone(p.secretKey, form.id, c.req.query('r') ?? '');
    const response = id ? await responses.get(form.id, id) : null;
    if (!response) return renderError(c, 404, 'error.notFound');
    return render(c, { form, title: `送信完了：${form.title}`, siteId: siteParam(c.req.query('site')), step: 3, body: <DoneView form={form} receiptNumber={response.receiptNumber} mailed={response.replyMailId !== null} /> });
  });
}

