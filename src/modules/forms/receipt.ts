import { sql, type Kysely } from 'kysely';
import type { Database } from '../../core/db/index.js';

/**
 * Reception numbers (受付番号) as residents read them out on the phone: 「2026-112648-K」 — the
 * year, six digits and a check letter. The digits are the year's sequence scrambled (a bijection
 * modulo 10^6), so consecutive responses do not get consecutive numbers; the letter catches a
 * mistyped digit or two swapped neighbours when staff search for a number.
 */

/** Letters without I, O and Q, which are read as 1, 0 and 0. */
const CHECK_LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';
const MODULUS = 1_000_000;
// Coprime with 10^6, so seq → (seq·M + C) mod 10^6 is one-to-one.
const MULTIPLIER = 7919;
const OFFSET = 104_729;

function checkLetter(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * ((i % 10) + 2);
  return CHECK_LETTERS[sum % CHECK_LETTERS.length]!;
}

/**
 * The reception number of the year's `seq`-th response (seq from 1).
 * @example receiptNumber(2026, 1) // '2026-112648-?'
 */
export function receiptNumber(year: number, seq: number): string {
  const body = seq < MODULUS ? String((seq * MULTIPLIER + OFFSET) % MODULUS).padStart(6, '0') : String(seq);
  return `${year}-${body}-${checkLetter(`${year}${body}`)}`;
}

/** Whether a typed number is well-formed with the right check letter (case and width forgiven). */
export function isValidReceiptNumber(input: string): boolean {
  const m = /^(\d{4})-(\d{6,})-([A-Z])$/.exec(normalizeReceiptInput(input));
  return Boolean(m && checkLetter(`${m[1]}${m[2]}`) === m[3]);
}

/** Upper case, half-width, hyphens unified: what staff type into the search box. */
export function normalizeReceiptInput(input: string): string {
  return input
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[‐‑‒–—―−ー－ｰ]/g, '-')
    .trim()
    .toUpperCase();
}

/**
 * Takes the next number of the year inside the caller's transaction (one row per year, raised
 * atomically on both engines), so a rolled-back response gives its number back.
 */
export async function nextReceiptNumber(tx: Kysely<Database>, now: Date): Promise<string> {
  const year = Number(new Date(now.getTime() + 9 * 3600_000).toISOString().slice(0, 4));
  const row = await tx
    .insertInto('form_receipt_counters')
    .values({ year, last: 1 })
    .onConflict((oc) => oc.column('year').doUpdateSet({ last: sql<number>`form_receipt_counters.last + 1` }))
    .returning('last')
    .executeTakeFirstOrThrow();
  return receiptNumber(year, Number(row.last));
}
