import { z } from 'zod';
import type { Selectable } from 'kysely';
import { parseJson } from '../../core/db/index.js';
import type { FormValues } from '../../core/http/validate.js';
import type { FormQuestionTable } from './schema.js';
import { formatDateAnswer, normalizeEmail, normalizeNumber, normalizePostal, normalizeTel, parseDate, stripControls } from './normalize.js';
import { MAX_CUSTOM_INPUT, compileCustomPattern, presetByKey } from './patterns.js';

/** Every kind of question the builder offers (C-3-14 and more). */
export const QUESTION_TYPES = [
  { type: 'text', label: '短い文章（1行）' },
  { type: 'textarea', label: '長い文章（複数行）' },
  { type: 'radio', label: '択一（ラジオボタン）' },
  { type: 'checkbox', label: '複数選択（チェックボックス）' },
  { type: 'select', label: 'プルダウン' },
  { type: 'number', label: '数値' },
  { type: 'email', label: 'メールアドレス' },
  { type: 'tel', label: '電話番号' },
  { type: 'date', label: '日付（和暦も表示）' },
  { type: 'postal', label: '郵便番号と住所（住所を自動補完）' },
  { type: 'file', label: 'ファイルの添付' },
  { type: 'consent', label: '同意（チェック1つ）' },
  { type: 'heading', label: '見出しと説明文' },
] as const;

export type QuestionType = (typeof QUESTION_TYPES)[number]['type'];

export function isQuestionType(v: string): v is QuestionType {
  return QUESTION_TYPES.some((t) => t.type === v);
}

export function questionTypeLabel(type: string): string {
  return QUESTION_TYPES.find((t) => t.type === type)?.label ?? type;
}

/** Kinds of file a question may accept; the bytes are sniffed, never the name or the browser's word. */
export const FILE_KINDS: Record<string, { label: string; mimes: string[] }> = {
  image: { label: '画像（JPEG・PNG・GIF・WebP）', mimes: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] },
  pdf: { label: 'PDF', mimes: ['application/pdf'] },
  office: {
    label: 'Word・Excel・PowerPoint',
    mimes: [
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    ],
  },
};

/** Largest file a question may allow, in MB (the request limit MAX_UPLOAD_BYTES also applies). */
export const MAX_FILE_MB = 10;

/** Values for the autocomplete attribute staff may pick for a one-line answer. */
export const AUTOCOMPLETE_OPTIONS: Array<{ value: string; label: string }> = [
  { value: '', label: '指定しない' },
  { value: 'name', label: '氏名' },
  { value: 'family-name', label: '姓' },
  { value: 'given-name', label: '名' },
  { value: 'organization', label: '会社・団体名' },
  { value: 'street-address', label: '住所' },
  { value: 'bday', label: '生年月日' },
];

export interface QuestionRules {
  minLength?: number;
  maxLength?: number;
  /** A preset key (patterns.ts). */
  pattern?: string;
  /** A custom regular expression, checked for ReDoS-safety when saved. */
  customPattern?: string;
  customMessage?: string;
  min?: number;
  max?: number;
  integer?: boolean;
  minChoices?: number;
  maxChoices?: number;
  maxSizeMb?: number;
  accept?: string[];
  autocomplete?: string;
}

export interface ShowIf {
  questionId: number;
  /** equals: the answer is exactly the value; includes: one of the choices is, or the text contains it; filled: anything answered. */
  op: 'equals' | 'includes' | 'filled';
  value: string;
}

export interface Question {
  id: number;
  formId: number;
  position: number;
  type: QuestionType;
  label: string;
  help: string;
  required: boolean;
  options: string[];
  rules: QuestionRules;
  showIf: ShowIf | null;
  deletedAt: string | null;
}

export function toQuestion(row: Selectable<FormQuestionTable>): Question {
  return {
    id: row.id,
    formId: row.form_id,
    position: row.position,
    type: (isQuestionType(row.type) ? row.type : 'text') as QuestionType,
    label: row.label,
    help: row.help,
    required: row.required === 1,
    options: parseJson<string[]>(row.options, []),
    rules: parseJson<QuestionRules>(row.rules, {}),
    showIf: parseJson<ShowIf | null>(row.show_if, null),
    deletedAt: row.deleted_at,
  };
}

/** Field names of a question in the public form. */
export const fieldName = (q: { id: number }) => `q${q.id}`;
export const addressName = (q: { id: number }) => `q${q.id}_address`;
export const fileTokenName = (q: { id: number }) => `q${q.id}_file`;

/** Questions that take an answer (headings do not). */
export function answers(q: Question): boolean {
  return q.type !== 'heading';
}

export function maxLengthOf(q: Question): number {
  const cap = q.type === 'textarea' ? 10_000 : 1000;
  const fallback = q.type === 'textarea' ? 2000 : 200;
  const custom = q.rules.customPattern ? MAX_CUSTOM_INPUT : cap;
  return Math.min(q.rules.maxLength ?? fallback, cap, custom);
}

/** An uploaded file waiting on the confirmation screen, or attached to a response. */
export interface UploadedFile {
  token: string;
  questionId: number;
  filename: string;
  mime: string;
  size: number;
}

/** One answer, ready to show, store and put back into the form. */
export interface Answer {
  questionId: number;
  label: string;
  /** As shown on the confirmation screen, in mails and in exports. */
  display: string;
  /** Stored with the answer (choices, postal parts, file tokens…). */
  detail: Record<string, unknown>;
  /** The canonical form values (hidden fields of the confirmation screen). */
  values: FormValues;
}

export interface AnswerCheck {
  answers: Answer[];
  errors: Record<string, string>;
  /** The submitted values made canonical (for re-rendering the form). */
  values: FormValues;
  /** Questions shown given the answers (conditions met). */
  visible: Set<number>;
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
const all = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const count = (s: string) => Array.from(s).length;

const SINGLE_ADDRESS = /^[^\s,;<>()"\\]+$/;
const emailCheck = z.email();

function matches(cond: ShowIf, answer: Answer | undefined, raw: FormValues, dep: Question | undefined): boolean {
  const texts = answer ? (Array.isArray(answer.detail.choices) ? (answer.detail.choices as string[]) : [answer.display]) : dep ? all(raw[fieldName(dep)]).map((s) => s.trim()) : [];
  const filled = texts.some((t) => t !== '');
  if (cond.op === 'filled') return filled;
  if (cond.op === 'equals') return dep?.type === 'checkbox' ? texts.includes(cond.value) : texts[0] === cond.value;
  return texts.some((t) => t === cond.value || (dep && (dep.type === 'text' || dep.type === 'textarea') && t.includes(cond.value)));
}

/**
 * Checks every visible question's answer in order: normalises (full-width digits, hyphens,
 * 和暦), applies required, length, pattern, range and choice rules, and skips questions whose
 * condition is not met (their answers are dropped). Messages are Japanese, keyed by field name.
 * `files` resolves upload tokens already stored for this form.
 * @example const r = checkAnswers(questions, await readForm(c), files); if (Object.keys(r.errors).length) …
 */
export function checkAnswers(questions: Question[], raw: FormValues, files: Map<string, UploadedFile> = new Map()): AnswerCheck {
  const errors: Record<string, string> = {};
  const out: Answer[] = [];
  const values: FormValues = {};
  const visible = new Set<number>();
  const byId = new Map<number, Answer>();
  const qById = new Map(questions.map((q) => [q.id, q]));
  for (const q of questions) {
    if (q.showIf) {
      const dep = qById.get(q.showIf.questionId);
      const depVisible = !dep || visible.has(dep.id);
      if (!depVisible || !matches(q.showIf, byId.get(q.showIf.questionId), raw, dep)) continue;
    }
    visible.add(q.id);
    if (!answers(q)) continue;
    const a = checkOne(q, raw, files, errors);
    Object.assign(values, a?.values ?? keepRaw(q, raw));
    if (a) {
      out.push(a);
      byId.set(q.id, a);
    }
  }
  return { answers: out, errors, values, visible };
}

function keepRaw(q: Question, raw: FormValues): FormValues {
  const out: FormValues = {};
  for (const name of [fieldName(q), addressName(q), fileTokenName(q)]) if (raw[name] !== undefined) out[name] = raw[name]!;
  return out;
}

/** One question's answer, or null when unanswered or wrong (the error is recorded). */
function checkOne(q: Question, raw: FormValues, files: Map<string, UploadedFile>, errors: Record<string, string>): Answer | null {
  const name = fieldName(q);
  const L = q.label;
  const base = { questionId: q.id, label: q.label };
  const fail = (msg: string, field = name) => {
    errors[field] = msg;
    return null;
  };
  switch (q.type) {
    case 'text':
    case 'textarea': {
      let s = stripControls(first(raw[name]), q.type === 'textarea').trim();
      const preset = q.rules.pattern ? presetByKey(q.rules.pattern) : undefined;
      if (preset?.nfkc) s = s.normalize('NFKC');
      if (!s) return q.required ? fail(`${L}を入力してください。`) : null;
      const max = maxLengthOf(q);
      if (count(s) > max) return fail(`${L}は${max}文字以内で入力してください（今は${count(s)}文字です）。`);
      if (q.rules.minLength && count(s) < q.rules.minLength) return fail(`${L}は${q.rules.minLength}文字以上で入力してください。`);
      if (preset && !preset.regex.test(s)) return fail(`${L}は${preset.message}`);
      if (q.rules.customPattern) {
        let re: RegExp | null = null;
        try {
          re = compileCustomPattern(q.rules.customPattern);
        } catch {
          re = null; // A pattern saved before the rules tightened is ignored rather than trusted.
        }
        if (re && !re.test(s)) return fail(q.rules.customMessage ? `${L}: ${q.rules.customMessage}` : `${L}の形式が正しくありません。`);
      }
      return { ...base, display: s, detail: { text: s }, values: { [name]: s } };
    }
    case 'radio':
    case 'select': {
      const s = first(raw[name]).trim();
      if (!s) return q.required ? fail(`${L}を選んでください。`) : null;
      if (!q.options.includes(s)) return fail(`${L}は一覧の中から選んでください。`);
      return { ...base, display: s, detail: { choices: [s] }, values: { [name]: s } };
    }
    case 'checkbox': {
      const picked = [...new Set(all(raw[name]).map((s) => s.trim()).filter(Boolean))];
      if (picked.some((s) => !q.options.includes(s))) return fail(`${L}は一覧の中から選んでください。`);
      // Keep the builder's order, whatever order the browser sent.
      const ordered = q.options.filter((o) => picked.includes(o));
      if (ordered.length === 0) return q.required ? fail(`${L}を1つ以上選んでください。`) : null;
      if (q.rules.minChoices && ordered.length < q.rules.minChoices) return fail(`${L}は${q.rules.minChoices}つ以上選んでください。`);
      if (q.rules.maxChoices && ordered.length > q.rules.maxChoices) return fail(`${L}は${q.rules.maxChoices}つまで選べます。`);
      return { ...base, display: ordered.join('、'), detail: { choices: ordered }, values: { [name]: ordered } };
    }
    case 'number': {
      const s = first(raw[name]).trim();
      if (!s) return q.required ? fail(`${L}を入力してください。`) : null;
      const n = normalizeNumber(s);
      if (n === null) return fail(`${L}は数字で入力してください。`);
      if (q.rules.integer && !Number.isInteger(n)) return fail(`${L}は整数で入力してください。`);
      if (q.rules.min !== undefined && n < q.rules.min) return fail(`${L}は${q.rules.min}以上で入力してください。`);
      if (q.rules.max !== undefined && n > q.rules.max) return fail(`${L}は${q.rules.max}以下で入力してください。`);
      return { ...base, display: String(n), detail: { number: n }, values: { [name]: String(n) } };
    }
    case 'email': {
      const s = normalizeEmail(stripControls(first(raw[name]), false));
      if (!s) return q.required ? fail(`${L}を入力してください。`) : null;
      if (/[\u0000-\u001f\u007f]/.test(first(raw[name])) || !SINGLE_ADDRESS.test(s) || s.length > 254 || !emailCheck.safeParse(s).success) {
        return fail(`${L}の形式が正しくありません（例: taro@example.jp）。`);
      }
      return { ...base, display: s, detail: { email: s }, values: { [name]: s } };
    }
    case 'tel': {
      const s = first(raw[name]).trim();
      if (!s) return q.required ? fail(`${L}を入力してください。`) : null;
      const tel = normalizeTel(s);
      if (!tel) return fail(`${L}を正しく入力してください（例: 03-1234-5678、090-1234-5678）。`);
      return { ...base, display: tel, detail: { tel }, values: { [name]: tel } };
    }
    case 'date': {
      const s = first(raw[name]).trim();
      if (!s) return q.required ? fail(`${L}を入力してください。`) : null;
      const iso = parseDate(s);
      if (!iso) return fail(`${L}を正しい日付で入力してください（例: 2026-04-01、令和8年4月1日）。`);
      return { ...base, display: formatDateAnswer(iso), detail: { date: iso }, values: { [name]: iso } };
    }
    case 'postal': {
      const codeRaw = first(raw[name]).trim();
      const address = stripControls(first(raw[addressName(q)]), false).trim();
      if (!codeRaw && !address) return q.required ? fail(`${L}の郵便番号を入力してください。`) : null;
      const code = normalizePostal(codeRaw);
      if (!code) return fail(`${L}の郵便番号を7桁の数字で入力してください（例: 123-4567）。`);
      if (!address) return q.required ? fail(`${L}の住所を入力してください。`, addressName(q)) : { ...base, display: `〒${code}`, detail: { postal: code, address: '' }, values: { [name]: code } };
      if (count(address) > 200) return fail(`${L}の住所は200文字以内で入力してください。`, addressName(q));
      return { ...base, display: `〒${code} ${address}`, detail: { postal: code, address }, values: { [name]: code, [addressName(q)]: address } };
    }
    case 'file': {
      const token = first(raw[fileTokenName(q)]).trim();
      const f = token ? files.get(token) : undefined;
      if (!f || f.questionId !== q.id) return q.required ? fail(`${L}のファイルを選んでください。`) : null;
      return { ...base, display: `${f.filename}（${formatSize(f.size)}）`, detail: { token: f.token, filename: f.filename, mime: f.mime, size: f.size }, values: { [fileTokenName(q)]: f.token } };
    }
    case 'consent': {
      const agreed = first(raw[name]) === '1';
      if (!agreed) return q.required ? fail(`${L}への同意が必要です。内容を確認し、チェックを入れてください。`) : null;
      return { ...base, display: '同意する', detail: { consent: true }, values: { [name]: '1' } };
    }
    default:
      return null;
  }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Builder input for a question; messages are Japanese. */
export interface QuestionInput {
  type: string;
  label: string;
  help?: string;
  required?: boolean;
  /** One choice per line. */
  options?: string;
  minLength?: string;
  maxLength?: string;
  pattern?: string;
  customPattern?: string;
  customMessage?: string;
  min?: string;
  max?: string;
  integer?: boolean;
  minChoices?: string;
  maxChoices?: string;
  maxSizeMb?: string;
  accept?: string[];
  autocomplete?: string;
  showIfQuestion?: string;
  showIfOp?: string;
  showIfValue?: string;
}

export interface ParsedQuestion {
  type: QuestionType;
  label: string;
  help: string;
  required: boolean;
  options: string[];
  rules: QuestionRules;
  showIf: ShowIf | null;
}

const optionalInt = (v: string | undefined, min: number, max: number, field: string, label: string, errors: Record<string, string>): number | undefined => {
  const s = (v ?? '').trim();
  if (!s) return undefined;
  const n = normalizeNumber(s);
  if (n === null || !Number.isInteger(n) || n < min || n > max) {
    errors[field] = `${label}は${min}から${max}までの整数で入力してください。`;
    return undefined;
  }
  return n;
};

/**
 * Reads and checks a question from the builder: label, choices (one per line, no duplicates),
 * rules that fit the type, a safe pattern, and a condition on an earlier question.
 * Throws nothing; returns the errors keyed by input name.
 */
export function parseQuestionInput(input: QuestionInput, earlier: Question[]): { question?: ParsedQuestion; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  if (!isQuestionType(input.type)) return { errors: { type: '質問の種類を選んでください。' } };
  const type = input.type;
  const label = stripControls(input.label ?? '', false).trim();
  if (!label) errors.label = type === 'heading' ? '見出しを入力してください。' : '質問文を入力してください。';
  else if (count(label) > 200) errors.label = '質問文は200文字以内で入力してください。';
  const help = stripControls(input.help ?? '', true).trim();
  if (count(help) > 2000) errors.help = '説明文は2000文字以内で入力してください。';
  let options: string[] = [];
  if (type === 'radio' || type === 'checkbox' || type === 'select') {
    options = (input.options ?? '').split('\n').map((s) => stripControls(s, false).trim()).filter(Boolean);
    if (options.length === 0) errors.options = '選択肢を1行に1つずつ入力してください。';
    else if (options.length > 100) errors.options = '選択肢は100個までです。';
    else if (new Set(options).size !== options.length) errors.options = '同じ選択肢が2回入っています。';
    else if (options.some((o) => count(o) > 200)) errors.options = '選択肢はそれぞれ200文字以内にしてください。';
  }
  const rules: QuestionRules = {};
  if (type === 'text' || type === 'textarea') {
    const cap = type === 'textarea' ? 10_000 : 1000;
    rules.minLength = optionalInt(input.minLength, 1, cap, 'minLength', '最小文字数', errors);
    rules.maxLength = optionalInt(input.maxLength, 1, cap, 'maxLength', '最大文字数', errors);
    if (rules.minLength && rules.maxLength && rules.minLength > rules.maxLength) errors.maxLength = '最大文字数は最小文字数以上にしてください。';
    const preset = (input.pattern ?? '').trim();
    if (preset && preset !== 'custom') {
      if (!presetByKey(preset)) errors.pattern = '入力の形式を一覧から選んでください。';
      else rules.pattern = preset;
    }
    if (preset === 'custom') {
      const custom = (input.customPattern ?? '').trim();
      try {
        compileCustomPattern(custom);
        rules.customPattern = custom;
        const msg = stripControls(input.customMessage ?? '', false).trim();
        if (count(msg) > 200) errors.customMessage = 'エラー文は200文字以内で入力してください。';
        else if (msg) rules.customMessage = msg;
      } catch (e) {
        errors.customPattern = (e as Error).message;
      }
    }
  }
  if (type === 'text' || type === 'email' || type === 'tel') {
    const ac = (input.autocomplete ?? '').trim();
    if (ac && !AUTOCOMPLETE_OPTIONS.some((o) => o.value === ac)) errors.autocomplete = '自動入力の種類を一覧から選んでください。';
    else if (ac) rules.autocomplete = ac;
  }
  if (type === 'number') {
    for (const [key, lab] of [['min', '最小値'], ['max', '最大値']] as const) {
      const s = (input[key] ?? '').trim();
      if (!s) continue;
      const n = normalizeNumber(s);
      if (n === null) errors[key] = `${lab}は数字で入力してください。`;
      else rules[key] = n;
    }
    if (rules.min !== undefined && rules.max !== undefined && rules.min > rules.max) errors.max = '最大値は最小値以上にしてください。';
    if (input.integer) rules.integer = true;
  }
  if (type === 'checkbox') {
    rules.minChoices = optionalInt(input.minChoices, 1, 100, 'minChoices', '最低選択数', errors);
    rules.maxChoices = optionalInt(input.maxChoices, 1, 100, 'maxChoices', '最大選択数', errors);
  }
  if (type === 'file') {
    rules.maxSizeMb = optionalInt(input.maxSizeMb, 1, MAX_FILE_MB, 'maxSizeMb', 'ファイルの大きさの上限（MB）', errors) ?? 5;
    const accept = (input.accept ?? []).filter((k) => k in FILE_KINDS);
    if (accept.length === 0) errors.accept = '受け付けるファイルの種類を1つ以上選んでください。';
    rules.accept = accept;
  }
  for (const k of Object.keys(rules) as Array<keyof QuestionRules>) if (rules[k] === undefined) delete rules[k];
  let showIf: ShowIf | null = null;
  const depId = Number((input.showIfQuestion ?? '').trim());
  if (depId) {
    const dep = earlier.find((q) => q.id === depId);
    const op = input.showIfOp === 'includes' || input.showIfOp === 'filled' ? input.showIfOp : 'equals';
    const value = stripControls(input.showIfValue ?? '', false).trim();
    if (!dep) errors.showIfQuestion = '条件には、この質問より前の質問を選んでください。';
    else if (op !== 'filled' && !value) errors.showIfValue = '条件の値を入力してください（選択肢の場合はその文言）。';
    else if (op !== 'filled' && dep.options.length && !dep.options.includes(value)) errors.showIfValue = `「${dep.label}」の選択肢のどれかを、そのまま入力してください。`;
    else showIf = { questionId: depId, op, value: op === 'filled' ? '' : value };
  }
  if (Object.keys(errors).length) return { errors };
  return { question: { type, label, help, required: type === 'heading' ? false : Boolean(input.required), options, rules, showIf }, errors };
}

/** Form values of a stored question, for the builder's edit form. */
export function questionValues(q: Question): FormValues {
  const r = q.rules;
  const s = (n: number | undefined) => (n === undefined ? '' : String(n));
  return {
    type: q.type,
    label: q.label,
    help: q.help,
    required: q.required ? '1' : '',
    options: q.options.join('\n'),
    minLength: s(r.minLength),
    maxLength: s(r.maxLength),
    pattern: r.customPattern ? 'custom' : (r.pattern ?? ''),
    customPattern: r.customPattern ?? '',
    customMessage: r.customMessage ?? '',
    min: s(r.min),
    max: s(r.max),
    integer: r.integer ? '1' : '',
    minChoices: s(r.minChoices),
    maxChoices: s(r.maxChoices),
    maxSizeMb: s(r.maxSizeMb),
    accept: r.accept ?? [],
    autocomplete: r.autocomplete ?? '',
    showIfQuestion: q.showIf ? String(q.showIf.questionId) : '',
    showIfOp: q.showIf?.op ?? 'equals',
    showIfValue: q.showIf?.value ?? '',
  };
}

/** 「「ご用件」が「その他」のとき」 — a condition in words, for the builder and the public form. */
export function describeCondition(cond: ShowIf, questions: Question[]): string {
  const dep = questions.find((q) => q.id === cond.questionId);
  const name = dep ? `「${dep.label}」` : '（削除された質問）';
  if (cond.op === 'filled') return `${name}に回答したとき`;
  if (cond.op === 'includes') return `${name}で「${cond.value}」を${dep?.type === 'text' || dep?.type === 'textarea' ? '含む回答をした' : '選んだ'}とき`;
  return `${name}が「${cond.value}」のとき`;
}
