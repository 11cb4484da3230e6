import type { Context } from 'hono';
import { z } from 'zod';

// Messages the schemas do not spell out themselves still come out in Japanese.
z.config(z.locales.ja());

export type FormValues = Record<string, string | string[]>;

export type FormResult<T> =
  | { ok: true; data: T; values: FormValues }
  | { ok: false; errors: Record<string, string>; values: FormValues };

/** Reads a urlencoded or multipart body into strings; repeated names become arrays. */
export async function readForm(c: Context): Promise<FormValues> {
  const body = await c.req.parseBody({ all: true });
  const out: FormValues = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === '_csrf') continue;
    if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
    else if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** First message per field, keyed by field name; form-wide problems under `_form`. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? String(issue.path[0]) : '_form';
    if (!(key in errors)) errors[key] = issue.message;
  }
  return errors;
}

/**
 * Validates a submitted form against a zod schema.
 * @example const r = await validateForm(c, schema); if (!r.ok) return render(r.errors, r.values)
 */
export async function validateForm<S extends z.ZodType>(c: Context, schema: S): Promise<FormResult<z.output<S>>> {
  const values = await readForm(c);
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data, values };
  return { ok: false, errors: fieldErrors(parsed.error), values };
}

/** A string from a form value (first of repeated values). */
export function str(v: string | string[] | undefined): string {
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** A list from a form value. */
export function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Trimmed text field with Japanese messages for required and length. */
export function text(label: string, opts: { min?: number; max?: number; optional?: boolean } = {}) {
  const max = opts.max ?? 200;
  const base = z.string({ error: `${label}を入力してください。` }).trim().max(max, `${label}は${max}文字以内で入力してください。`);
  if (opts.optional) return base;
  return base.min(opts.min ?? 1, opts.min && opts.min > 1 ? `${label}は${opts.min}文字以上で入力してください。` : `${label}を入力してください。`);
}
