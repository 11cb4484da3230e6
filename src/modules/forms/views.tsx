import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Child } from 'hono/jsx';
import type { FormValues } from '../../core/http/validate.js';
import { registerAsset } from '../../core/ui/assets.js';
import { ErrorSummary, type FieldErrors } from '../../core/ui/forms.js';
import type { View } from '../../core/ui/view.js';
import { formatWhen } from '../../core/ui/view.js';
import { toWareki } from './normalize.js';
import { FILE_KINDS, addressName, describeCondition, fieldName, fileTokenName, formatSize, maxLengthOf, type Answer, type Question, type UploadedFile } from './questions.js';
import type { Form } from './service.js';

const read = (name: string) => readFileSync(fileURLToPath(new URL(`./assets/${name}`, import.meta.url)), 'utf8');

/** The module's stylesheet and script, as content-hashed assets (cacheable for a year, no inline code). */
export const formsAssets = {
  css: registerAsset('forms.css', read('forms.css'), 'text/css; charset=utf-8'),
  js: registerAsset('forms.js', read('forms.js'), 'text/javascript; charset=utf-8'),
};

/** What every public form page puts in its head. */
export function FormsHead() {
  return (
    <>
      <link rel="stylesheet" href={formsAssets.css} />
      <script src={formsAssets.js} defer></script>
    </>
  );
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
const all = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Element ids of a question's controls (a prefix keeps an embed's ids apart from the page's). */
const idOf = (name: string, prefix?: string) => `f-${prefix ? `${prefix}-` : ''}${name}`.replace(/[^a-zA-Z0-9_-]/g, '_');

/** Labels for the error summary: each field name → what the resident sees. */
export function errorLabels(questions: Question[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const q of questions) {
    out[fieldName(q)] = q.label;
    if (q.type === 'postal') {
      out[fieldName(q)] = `${q.label}（郵便番号）`;
      out[addressName(q)] = `${q.label}（住所）`;
    }
  }
  return out;
}

export function Steps(props: { current: 1 | 2 | 3 }) {
  const steps = ['入力', '確認', '完了'];
  return (
    <nav class="forms-steps" aria-label="手続きの流れ">
      <ol>
        {steps.map((s, i) => (
          <li aria-current={i + 1 === props.current ? 'step' : undefined}>
            {i + 1}. {s}
            {i + 1 === props.current ? <span class="visually-hidden">（現在の手順）</span> : null}
          </li>
        ))}
      </ol>
    </nav>
  );
}

interface QProps {
  v: View;
  q: Question;
  values: FormValues;
  errors?: FieldErrors;
  prefix?: string;
  files: Map<string, UploadedFile>;
  headingLevel: 2 | 3;
  all: Question[];
}

function Badge(props: { v: View; required: boolean }) {
  return props.required ? <span class="badge-required">{props.v.t('common.required')}</span> : null;
}

function describedBy(ids: Array<string | false | undefined>): string | undefined {
  const s = ids.filter(Boolean).join(' ');
  return s || undefined;
}

function HintError(props: { id: string; help: string; error?: string; extra?: string }) {
  return (
    <>
      {props.help ? <span class="field__hint forms-description" id={`${props.id}-hint`}>{props.help}</span> : null}
      {props.extra ? <span class="field__hint" id={`${props.id}-rule`}>{props.extra}</span> : null}
      {props.error ? <span class="field__error" id={`${props.id}-error`}>{props.error}</span> : null}
    </>
  );
}

/** One question of the public form, in the markup the platform's form components use. */
function QuestionField(p: QProps) {
  const { v, q, values, errors, prefix } = p;
  const name = fieldName(q);
  const id = idOf(name, prefix);
  const err = errors?.[name];
  const invalid = err ? 'true' : undefined;
  const hintIds = (extra?: boolean) => describedBy([q.help && `${id}-hint`, extra && `${id}-rule`, err && `${id}-error`]);
  switch (q.type) {
    case 'heading': {
      const H = p.headingLevel === 2 ? 'h2' : 'h3';
      return (
        <>
          <H>{q.label}</H>
          {q.help ? <p class="forms-description">{q.help}</p> : null}
        </>
      );
    }
    case 'text':
    case 'email':
    case 'tel':
    case 'number': {
      const max = q.type === 'text' ? maxLengthOf(q) : q.type === 'email' ? 254 : 30;
      const rule = q.type === 'number' ? numberRule(q) : q.type === 'text' ? textRule(q) : q.type === 'tel' ? '例: 03-1234-5678（全角数字でも入力できます）' : '例: taro@example.jp';
      return (
        <div class="field">
          <label for={id}>{q.label}<Badge v={v} required={q.required} /></label>
          <HintError id={id} help={q.help} error={err} extra={rule} />
          <input
            id={id}
            name={name}
            type={q.type === 'number' ? 'text' : q.type}
            value={first(values[name])}
            inputmode={q.type === 'number' ? 'decimal' : q.type === 'tel' ? 'tel' : q.type === 'email' ? 'email' : undefined}
            autocomplete={q.type === 'email' ? 'email' : q.type === 'tel' ? 'tel' : q.rules.autocomplete || undefined}
            maxlength={max}
            required={q.required}
            aria-invalid={invalid}
            aria-describedby={hintIds(Boolean(rule))}
          />
        </div>
      );
    }
    case 'textarea':
      return (
        <div class="field">
          <label for={id}>{q.label}<Badge v={v} required={q.required} /></label>
          <HintError id={id} help={q.help} error={err} extra={textRule(q)} />
          <textarea id={id} name={name} rows={6} maxlength={maxLengthOf(q)} required={q.required} aria-invalid={invalid} aria-describedby={hintIds(true)}>
            {first(values[name])}
          </textarea>
        </div>
      );
    case 'radio':
    case 'checkbox': {
      const picked = q.type === 'radio' ? [first(values[name])] : all(values[name]);
      const rule = q.type === 'checkbox' ? choiceRule(q) : '';
      return (
        <fieldset class="forms-choices" id={id} aria-describedby={hintIds(Boolean(rule))}>
          <legend>{q.label}<Badge v={v} required={q.required} /></legend>
          <HintError id={id} help={q.help} error={err} extra={rule || undefined} />
          {q.options.map((o, i) => (
            <div class="checkbox">
              <input type={q.type} id={`${id}-${i}`} name={name} value={o} checked={picked.includes(o)} required={q.type === 'radio' && q.required ? true : undefined} />
              <label for={`${id}-${i}`}>{o}</label>
            </div>
          ))}
        </fieldset>
      );
    }
    case 'select':
      return (
        <div class="field">
          <label for={id}>{q.label}<Badge v={v} required={q.required} /></label>
          <HintError id={id} help={q.help} error={err} />
          <select id={id} name={name} required={q.required} aria-invalid={invalid} aria-describedby={hintIds()}>
            <option value="">選んでください</option>
            {q.options.map((o) => <option value={o} selected={first(values[name]) === o}>{o}</option>)}
          </select>
        </div>
      );
    case 'date': {
      const value = first(values[name]);
      const wareki = /^\d{4}-\d{2}-\d{2}$/.test(value) ? toWareki(value) : '';
      return (
        <div class="field">
          <label for={id}>{q.label}<Badge v={v} required={q.required} /></label>
          <HintError id={id} help={q.help} error={err} extra="カレンダーから選ぶか、「2026-04-01」のように入力してください。和暦も表示します。" />
          <input id={id} name={name} type="date" value={value} required={q.required} data-wareki={`${id}-wareki`} aria-invalid={invalid} aria-describedby={describedBy([q.help && `${id}-hint`, `${id}-rule`, err && `${id}-error`, `${id}-wareki`])} />
          <output id={`${id}-wareki`} class="forms-wareki" for={id} aria-live="polite">{wareki ? `和暦: ${wareki}` : ''}</output>
        </div>
      );
    }
    case 'postal': {
      const addr = addressName(q);
      const addrId = idOf(addr, prefix);
      const addrErr = errors?.[addr];
      return (
        <fieldset class="forms-choices" aria-describedby={describedBy([q.help && `${id}-hint`, `${id}-rule`])}>
          <legend>{q.label}<Badge v={v} required={q.required} /></legend>
          <HintError id={id} help={q.help} extra="郵便番号を入力すると住所の一部を自動で入力します（JavaScriptが無効のときは「確認画面へ進む」を押したときに入力します）。" />
          <div class="field">
            <label for={id}>郵便番号</label>
            {err ? <span class="field__error" id={`${id}-error`}>{err}</span> : null}
            <input id={id} name={name} type="text" inputmode="numeric" autocomplete="postal-code" maxlength={10} value={first(values[name])} required={q.required} data-postal-for={addrId} data-postal-status={`${id}-status`} aria-invalid={invalid} aria-describedby={describedBy([err && `${id}-error`])} />
            <span class="visually-hidden" id={`${id}-status`} role="status" aria-live="polite"></span>
          </div>
          <div class="field">
            <label for={addrId}>住所</label>
            {addrErr ? <span class="field__error" id={`${addrId}-error`}>{addrErr}</span> : null}
            <input id={addrId} name={addr} type="text" autocomplete="street-address" maxlength={200} value={first(values[addr])} required={q.required} aria-invalid={addrErr ? 'true' : undefined} aria-describedby={describedBy([addrErr && `${addrId}-error`])} />
          </div>
        </fieldset>
      );
    }
    case 'file': {
      const token = first(values[fileTokenName(q)]);
      const f = token ? p.files.get(token) : undefined;
      const kinds = (q.rules.accept ?? []).map((k) => FILE_KINDS[k]).filter((k) => k !== undefined);
      const rule = `${kinds.map((k) => k.label).join('、')}。${q.rules.maxSizeMb ?? 5}MBまで。`;
      return (
        <div class="field">
          <label for={id}>{q.label}<Badge v={v} required={q.required && !f} /></label>
          <HintError id={id} help={q.help} error={err} extra={rule} />
          {f ? (
            <span class="forms-attached" id={`${id}-attached`}>
              添付済み: {f.filename}（{formatSize(f.size)}）。別のファイルを選ぶと差し替えます。
              <input type="hidden" name={fileTokenName(q)} value={f.token} />
            </span>
          ) : null}
          <input id={id} name={name} type="file" accept={kinds.flatMap((k) => k.mimes).join(',')} required={q.required && !f} aria-invalid={invalid} aria-describedby={describedBy([q.help && `${id}-hint`, `${id}-rule`, err && `${id}-error`, f && `${id}-attached`])} />
        </div>
      );
    }
    case 'consent':
      return (
        <fieldset class="forms-choices" id={id} aria-describedby={hintIds()}>
          <legend>{q.label}<Badge v={v} required={q.required} /></legend>
          <HintError id={id} help={q.help} error={err} />
          <div class="checkbox">
            <input type="checkbox" id={`${id}-agree`} name={name} value="1" checked={first(values[name]) === '1'} required={q.required} />
            <label for={`${id}-agree`}>同意する</label>
          </div>
        </fieldset>
      );
    default:
      return null;
  }
}

function textRule(q: Question): string {
  const parts: string[] = [];
  const max = maxLengthOf(q);
  if (q.rules.minLength) parts.push(`${q.rules.minLength}～${max}文字`);
  else parts.push(`${max}文字以内`);
  return `${parts.join('')}で入力してください。`;
}

function numberRule(q: Question): string {
  const r = q.rules;
  const range = r.min !== undefined && r.max !== undefined ? `${r.min}から${r.max}まで` : r.min !== undefined ? `${r.min}以上` : r.max !== undefined ? `${r.max}以下` : '';
  return `${r.integer ? '整数' : '数字'}で入力してください${range ? `（${range}）` : ''}。`;
}

function choiceRule(q: Question): string {
  const r = q.rules;
  if (r.minChoices && r.maxChoices) return `${r.minChoices}～${r.maxChoices}個選んでください。`;
  if (r.minChoices) return `${r.minChoices}個以上選んでください。`;
  if (r.maxChoices) return `${r.maxChoices}個まで選べます。`;
  return '当てはまるものをすべて選んでください。';
}

/**
 * Every question in order. A question with a condition carries it as data for the script and as
 * a sentence for everyone else (without the script, all questions show and the server drops the
 * answers whose condition is not met).
 */
export function QuestionFields(props: { v: View; questions: Question[]; values: FormValues; errors?: FieldErrors; prefix?: string; files?: Map<string, UploadedFile>; headingLevel?: 2 | 3 }) {
  const files = props.files ?? new Map<string, UploadedFile>();
  return (
    <>
      {props.questions.map((q) => {
        const dep = q.showIf ? props.questions.find((x) => x.id === q.showIf!.questionId) : undefined;
        const cond = q.showIf && dep ? JSON.stringify({ name: fieldName(dep), op: q.showIf.op, value: q.showIf.value, multi: dep.type === 'checkbox', text: dep.type === 'text' || dep.type === 'textarea' }) : undefined;
        return (
          <div class="forms-q" data-question={fieldName(q)} data-show-if={cond}>
            {q.showIf && dep ? <p class="field__hint forms-cond">※ {describeCondition(q.showIf, props.questions)}に回答してください。</p> : null}
            <QuestionField v={props.v} q={q} values={props.values} errors={props.errors} prefix={props.prefix} files={files} headingLevel={props.headingLevel ?? 2} all={props.questions} />
          </div>
        );
      })}
    </>
  );
}

/** The honeypot: hidden from people (CSS and screen readers), left empty by them, filled by bots. */
export function Honeypot(props: { prefix?: string }) {
  const id = idOf('website', props.prefix);
  return (
    <div class="forms-hp" aria-hidden="true">
      <label for={id}>この欄には何も入力しないでください</label>
      <input id={id} type="text" name="website" value="" tabindex={-1} autocomplete="off" />
    </div>
  );
}

/** The public input form (standalone page, or inside a CMS page with `embed`). */
export function InputForm(props: {
  v: View;
  form: Form;
  questions: Question[];
  values: FormValues;
  errors?: FieldErrors;
  files?: Map<string, UploadedFile>;
  /** Per-visitor values; empty in an embed (the script fills them). */
  csrf: string;
  startToken: string;
  siteId?: number | null;
  prefix?: string;
  headingLevel?: 2 | 3;
  hidden?: boolean;
  notice?: Child;
}) {
  const { form, questions } = props;
  const multipart = questions.some((q) => q.type === 'file');
  return (
    <div data-forms-body="" hidden={props.hidden}>
      <ErrorSummary v={props.v} errors={props.errors} labels={errorLabels(questions)} idPrefix={props.prefix} />
      {props.notice}
      <p>
        <span class="badge-required">{props.v.t('common.required')}</span> の項目は必ず入力してください。
      </p>
      <form method="post" action={`/forms/${form.slug}/confirm`} class="form form--wide" novalidate enctype={multipart ? 'multipart/form-data' : undefined} data-forms-public="">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <input type="hidden" name="_ts" value={props.startToken} />
        {props.siteId ? <input type="hidden" name="_site" value={String(props.siteId)} /> : null}
        <QuestionFields v={props.v} questions={questions} values={props.values} errors={props.errors} prefix={props.prefix} files={props.files} headingLevel={props.headingLevel} />
        <Honeypot prefix={props.prefix} />
        <div class="actions">
          <button type="submit">確認画面へ進む</button>
        </div>
      </form>
    </div>
  );
}

/** The answers as a description list (confirmation screen, staff detail). */
export function AnswerList(props: { answers: Array<{ label: string; display: string }>; class?: string }) {
  return (
    <dl class={props.class ?? 'forms-confirm'}>
      {props.answers.map((a) => (
        <>
          <dt>{a.label}</dt>
          <dd>{a.display || '（未回答）'}</dd>
        </>
      ))}
    </dl>
  );
}

/**
 * The confirmation screen (確認画面): the answers, then one form whose hidden fields carry them
 * to "送信する" or back to "入力画面に戻る" — no JavaScript, no server-side session.
 */
export function ConfirmForm(props: { v: View; form: Form; questions: Question[]; answers: Answer[]; startToken: string; submissionKey: string; siteId?: number | null; replyTo?: string | null }) {
  const { form } = props;
  const shown = props.questions.filter((q) => q.type !== 'heading').map((q) => {
    const a = props.answers.find((x) => x.questionId === q.id);
    return { label: q.label, display: a?.display ?? '' };
  });
  const hidden = props.answers.flatMap((a) => Object.entries(a.values).flatMap(([name, value]) => all(value).map((v) => ({ name, v }))));
  return (
    <>
      <p>入力した内容を確かめてください。よろしければ「送信する」を押してください。直す場合は「入力画面に戻る」を押してください。</p>
      <AnswerList answers={shown} />
      {props.replyTo ? <p>送信すると、{props.replyTo} に受付完了のメールをお送りします。</p> : null}
      <form method="post" action={`/forms/${form.slug}/submit`} class="form" data-testid="confirm-form">
        <input type="hidden" name="_csrf" value={props.v.csrf} />
        <input type="hidden" name="_ts" value={props.startToken} />
        <input type="hidden" name="_sid" value={props.submissionKey} />
        {props.siteId ? <input type="hidden" name="_site" value={String(props.siteId)} /> : null}
        {hidden.map((h) => <input type="hidden" name={h.name} value={h.v} />)}
        <Honeypot />
        <div class="actions">
          <button type="submit">送信する</button>
          <button type="submit" class="button--secondary" formaction={`/forms/${form.slug}/edit`}>入力画面に戻る</button>
        </div>
      </form>
    </>
  );
}

/** The completion screen (完了画面) with the reception number. */
export function DoneView(props: { form: Form; receiptNumber: string; mailed: boolean }) {
  return (
    <>
      <div class="notice notice--success" role="status">
        <h2>送信しました。</h2>
        <p>受付番号</p>
        <p class="forms-receipt" data-testid="receipt-number">{props.receiptNumber}</p>
        <p>お問い合わせの際は、この受付番号をお知らせください。控えとして書き留めるか、この画面を保存してください。</p>
      </div>
      {props.mailed ? <p>ご入力のメールアドレスに受付完了のメールをお送りしました。届かない場合は、迷惑メールの設定をご確認ください。</p> : null}
      {props.form.completionMessage ? <p class="forms-description">{props.form.completionMessage}</p> : null}
    </>
  );
}

/** Why a form takes no answers now: before its opening, after its closing. */
export function ClosedView(props: { form: Form; state: 'closed' | 'upcoming'; v: View }) {
  const { form } = props;
  if (props.state === 'upcoming') {
    return (
      <div class="notice notice--info" role="status" data-testid="form-upcoming">
        <h2>受付開始前です</h2>
        <p>{form.opensAt ? `${formatWhen(form.opensAt, props.v.locale)}から受け付けます。` : '受付開始までお待ちください。'}</p>
      </div>
    );
  }
  return (
    <div class="notice notice--warning" role="status" data-testid="form-closed">
      <h2>このフォームの受付は終了しました</h2>
      <p>{form.closesAt && form.closesAt <= new Date().toISOString() ? `${formatWhen(form.closesAt, props.v.locale)}に受付を終了しました。` : '受付を終了しました。'}ご回答は受け付けられません。</p>
    </div>
  );
}
