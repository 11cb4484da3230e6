import { createHash } from 'node:crypto';
import { nowIso } from '../../core/db/index.js';
import type { Platform } from '../../core/platform.js';
import type { Actor } from '../../core/permissions/index.js';
import { receiptNumber } from './receipt.js';
import type { Form } from './service.js';
import type { Question, QuestionInput } from './questions.js';
import { formsOf } from './services.js';

/**
 * Sample forms and responses for tests and the export benchmark (not used by the running
 * platform). Everything goes through the services except `insertResponses`, which writes many
 * responses in bulk so a benchmark can start from 10,000 of them in seconds.
 */

const meta = (actor: Actor) => ({ actor, ip: '127.0.0.1', userAgent: 'fixtures' });

/** One question of every type, in the order a real application form would use them. */
export const EVERY_TYPE: QuestionInput[] = [
  { type: 'heading', label: '申込者の情報', help: '申し込む方について入力してください。' },
  { type: 'text', label: 'お名前', required: true, autocomplete: 'name', maxLength: '40' },
  { type: 'text', label: 'ふりがな', pattern: 'hiragana' },
  { type: 'email', label: 'メールアドレス', required: true },
  { type: 'tel', label: '電話番号', required: true },
  { type: 'postal', label: '住所', required: true },
  { type: 'date', label: '生年月日', required: true },
  { type: 'number', label: '参加人数', required: true, min: '1', max: '20', integer: true },
  { type: 'radio', label: 'ご用件', required: true, options: '施設の利用\nイベントへの参加\nその他' },
  { type: 'textarea', label: 'その他の内容', required: true, maxLength: '500' },
  { type: 'checkbox', label: '使う設備', options: 'プロジェクター\nマイク\nホワイトボード', maxChoices: '2' },
  { type: 'select', label: '利用する施設', required: true, options: 'あおば中央公民館\n北地区公民館' },
  { type: 'file', label: '申請書の写し', accept: ['image', 'pdf'], maxSizeMb: '2' },
  { type: 'consent', label: '個人情報の取扱い', help: '回答は申込みの連絡にだけ使います。', required: true },
];

/** Creates a form with the given questions (default: every type; "その他の内容" shown for その他). */
export async function createSampleForm(
  p: Platform,
  actor: Actor,
  opts: { slug?: string; title?: string; organizationId?: number | null; questions?: QuestionInput[]; publish?: boolean; settings?: Record<string, string> } = {},
): Promise<{ form: Form; questions: Question[] }> {
  const { forms } = formsOf(p);
  const id = await forms.create(actor, { title: opts.title ?? 'テスト申込みフォーム', slug: opts.slug ?? `test-${Math.random().toString(36).slice(2, 8)}`, organizationId: opts.organizationId === undefined ? '' : opts.organizationId === null ? '' : String(opts.organizationId) }, meta(actor));
  let form = (await forms.get(id))!;
  const ids = new Map<string, number>();
  for (const q of opts.questions ?? EVERY_TYPE) {
    const input = { ...q };
    if (q.label === 'その他の内容' && ids.has('ご用件')) Object.assign(input, { showIfQuestion: String(ids.get('ご用件')), showIfOp: 'equals', showIfValue: 'その他' });
    ids.set(q.label, await forms.addQuestion(actor, form, input, meta(actor)));
  }
  form = (await forms.get(id))!;
  if (opts.settings) {
    await forms.updateSettings(actor, form, { title: form.title, slug: form.slug, ...opts.settings }, meta(actor));
    form = (await forms.get(id))!;
  }
  if (opts.publish !== false) {
    await forms.publish(actor, form, meta(actor));
    form = (await forms.get(id))!;
  }
  return { form, questions: await forms.questions(id) };
}

/**
 * Writes `count` responses straight into the tables in batches (answers for every question,
 * including text that looks like a formula), for export benchmarks and paging tests.
 */
export async function insertResponses(p: Platform, form: Form, questions: Question[], count: number, batch = 500): Promise<void> {
  const year = new Date().getFullYear();
  const counter = await p.db.selectFrom('form_receipt_counters').select('last').where('year', '=', year).executeTakeFirst();
  let seq = Number(counter?.last ?? 0);
  const start = Date.now() - count * 1000;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    await p.db.transaction().execute(async (tx) => {
      const rows = [];
      for (let i = 0; i < n; i++) {
        seq++;
        const at = nowIso(new Date(start + (done + i) * 1000));
        rows.push({ form_id: form.id, receipt_number: receiptNumber(year, seq), submission_key: createHash('sha256').update(`bulk|${form.id}|${seq}`).digest('hex'), status: 'new' as const, memo: '', respondent_email: null, respondent_user_id: null, ip: '127.0.0.1', user_agent: 'fixtures', reply_mail_id: null, notify_mail_ids: '[]', submitted_at: at, updated_at: at, updated_by: null });
      }
      const inserted = await tx.insertInto('form_responses').values(rows).returning('id').execute();
      const answers = [];
      for (const [i, r] of inserted.entries()) {
        const k = done + i;
        for (const q of questions) {
          if (q.type === 'heading' || q.type === 'file') continue;
          const value = q.type === 'number' ? String((k % 20) + 1) : q.options.length ? q.options[k % q.options.length]! : q.type === 'date' ? '2026-04-01' : `${q.label}の回答${k}${k % 97 === 0 ? ' =SUM(A1:A2)' : ''}`;
          const detail = q.type === 'number' ? { number: (k % 20) + 1 } : q.options.length ? { choices: [value] } : q.type === 'date' ? { date: value } : { text: value };
          answers.push({ response_id: r.id, question_id: q.id, question_label: q.label, value, detail: JSON.stringify(detail) });
        }
      }
      for (let i = 0; i < answers.length; i += 500) await tx.insertInto('form_answers').values(answers.slice(i, i + 500)).execute();
      await tx.insertInto('form_receipt_counters').values({ year, last: seq }).onConflict((oc) => oc.column('year').doUpdateSet({ last: seq })).execute();
      await tx.updateTable('forms').set({ response_count: form.responseCount + done + n }).where('id', '=', form.id).execute();
    });
  }
}
