import type { HttpClient } from '../../../test/helpers/http-client.js';
import type { Question } from './questions.js';

/** Shared steps of the forms tests: fill a public form over HTTP as a browser would. */

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The value of a hidden input in a page (first match). */
export function hiddenValue(html: string, name: string): string {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html);
  return m ? unescape(m[1]!) : '';
}

/** Every hidden input of the confirmation form, repeated names as arrays (what "送信する" posts). */
export function confirmFields(html: string): Record<string, string | string[]> {
  const form = /<form[^>]*data-testid="confirm-form"[^>]*>([\s\S]*?)<\/form>/.exec(html)?.[1] ?? '';
  const out: Record<string, string | string[]> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)) {
    const name = unescape(m[1]!);
    const value = unescape(m[2]!);
    if (name === '_csrf') continue;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  out.website = '';
  return out;
}

/** Form field names by question label. */
export function fieldsByLabel(questions: Question[]): Record<string, string> {
  return Object.fromEntries(questions.map((q) => [q.label, `q${q.id}`]));
}

/** Valid answers to every question of fixtures' EVERY_TYPE, with overrides by label. */
export function validAnswers(questions: Question[], overrides: Record<string, string | string[] | null> = {}): Record<string, string | string[]> {
  const base: Record<string, string | string[]> = {
    お名前: '山田 太郎',
    ふりがな: 'やまだ たろう',
    メールアドレス: 'taro@example.jp',
    電話番号: '090-1234-5678',
    住所: '000-0001',
    '住所:address': 'みどり県あおば市中央1-2-3',
    生年月日: '1980-05-05',
    参加人数: '3',
    ご用件: '施設の利用',
    使う設備: ['マイク'],
    利用する施設: '北地区公民館',
    個人情報の取扱い: '1',
  };
  const merged: Record<string, string | string[] | null> = { ...base, ...overrides };
  const out: Record<string, string | string[]> = {};
  for (const q of questions) {
    const v = merged[q.label];
    if (v !== undefined && v !== null) out[`q${q.id}`] = v;
    const addr = merged[`${q.label}:address`];
    if (q.type === 'postal' && addr !== undefined && addr !== null) out[`q${q.id}_address`] = addr;
  }
  return out;
}

/** Opens the form page and posts the answers to the confirmation step. */
export async function openAndConfirm(client: HttpClient, slug: string, answers: Record<string, string | string[]>, extra: Record<string, string> = {}) {
  const page = await client.get(`/forms/${slug}`);
  if (page.status !== 200) throw new Error(`form page answered ${page.status}`);
  return client.post(`/forms/${slug}/confirm`, { _ts: hiddenValue(page.text, '_ts'), website: '', ...answers, ...extra });
}

/** Fills, confirms and sends; returns the final responses of each step. */
export async function submitForm(client: HttpClient, slug: string, answers: Record<string, string | string[]>) {
  const confirm = await openAndConfirm(client, slug, answers);
  if (confirm.status !== 200 || !confirm.text.includes('data-testid="confirm-form"')) throw new Error(`confirmation answered ${confirm.status}: ${/field__error[^>]*>([^<]*)/.exec(confirm.text)?.[1] ?? /role="alert"[\s\S]{0,400}/.exec(confirm.text)?.[0] ?? ''}`);
  const fields = confirmFields(confirm.text);
  const submit = await client.post(`/forms/${slug}/submit`, fields);
  return { confirm, fields, submit };
}

/** The cookie header a HttpClient would send (for fetches of binary downloads). */
export function cookieOf(client: HttpClient): string {
  return [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}
