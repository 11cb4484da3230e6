import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed values the public form carries between its steps: when the visitor opened the form (the
 * minimum-fill-time check), the confirmation screen's one-time key, and the completion link.
 * Signed with the installation's secret, so none can be forged or moved to another form.
 */

const mac = (secret: string, data: string) => createHmac('sha256', secret).update(`forms|${data}`).digest('base64url').slice(0, 32);

function same(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** `<ms>.<mac>`: the moment the form was handed out. */
export function signStart(secret: string, formId: number, now = new Date()): string {
  const ts = String(now.getTime());
  return `${ts}.${mac(secret, `start|${formId}|${ts}`)}`;
}

/** The moment in a start token, or null when it is forged, for another form, or malformed. */
export function verifyStart(secret: string, formId: number, token: string): number | null {
  const m = /^(\d{10,15})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m || !same(m[2]!, mac(secret, `start|${formId}|${m[1]}`))) return null;
  return Number(m[1]);
}

/** A fresh one-time key for a confirmation screen (`<random>.<mac>`). */
export function newSubmissionKey(secret: string, formId: number): string {
  const r = randomBytes(18).toString('base64url');
  return `${r}.${mac(secret, `submit|${formId}|${r}`)}`;
}

export function verifySubmissionKey(secret: string, formId: number, key: string): boolean {
  const m = /^([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{32})$/.exec(key);
  return Boolean(m && same(m[2]!, mac(secret, `submit|${formId}|${m[1]}`)));
}

/** The completion link's token: the response, when it was made, and a signature. */
export function signDone(secret: string, formId: number, responseId: number, now = new Date()): string {
  const ts = String(now.getTime());
  return `${responseId}.${ts}.${mac(secret, `done|${formId}|${responseId}|${ts}`)}`;
}

/** The response named by a completion token, or null. Tokens last a day (a reload, a back button). */
export function verifyDone(secret: string, formId: number, token: string, now = new Date()): number | null {
  const m = /^(\d{1,10})\.(\d{10,15})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m || !same(m[3]!, mac(secret, `done|${formId}|${m[1]}|${m[2]}`))) return null;
  if (now.getTime() - Number(m[2]) > 24 * 3600_000) return null;
  return Number(m[1]);
}
