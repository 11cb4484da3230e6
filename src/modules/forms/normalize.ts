/**
 * Input as residents type it — full-width digits, 「ー」 for a hyphen, 〒, 和暦 — turned into one
 * canonical form before checking, so "０９０ー１２３４ー５６７８" and "090-1234-5678" are the same
 * telephone number.
 */

const HYPHENS = /[‐‑‒–—―−ー－ｰ﹣]/g;

/** Full-width ASCII (！…～) and the ideographic space to their half-width forms. */
export function toHalfWidth(s: string): string {
  return s.replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, ' ');
}

/** Control characters other than tab, CR and LF, and lone surrogates, which no answer needs. */
export function stripControls(s: string, keepNewlines: boolean): string {
  const cleaned = s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return keepNewlines ? cleaned.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '') : cleaned.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/**
 * A telephone number with half-width digits and hyphens, or null when it is not one
 * (10 or 11 digits starting with 0, or +81 followed by the number without its 0).
 * @example normalizeTel('（０３）１２３４－５６７８') // '03-1234-5678'
 */
export function normalizeTel(input: string): string | null {
  let s = toHalfWidth(input).replace(HYPHENS, '-').replace(/[\s.]/g, '').trim();
  s = s.replace(/^\((0\d{1,4})\)/, '$1-').replace(/\)/g, '-').replace(/\(/g, '');
  if (/^\+81-?/.test(s)) s = `0${s.replace(/^\+81-?/, '')}`;
  if (!/^0[\d-]+$/.test(s) || /--/.test(s) || s.endsWith('-')) return null;
  const digits = s.replace(/-/g, '');
  if (digits.length < 10 || digits.length > 11) return null;
  return s;
}

/**
 * A postal code as 123-4567, or null.
 * @example normalizePostal('〒１２３ー４５６７') // '123-4567'
 */
export function normalizePostal(input: string): string | null {
  const s = toHalfWidth(input).replace(/〒/g, '').replace(HYPHENS, '-').replace(/\s/g, '');
  const m = /^(\d{3})-?(\d{4})$/.exec(s);
  return m ? `${m[1]}-${m[2]}` : null;
}

/**
 * A number as typed in Japan (full-width digits, thousands separators, 「－」 for minus), or null.
 * @example normalizeNumber('－１，２００．５') // -1200.5
 */
export function normalizeNumber(input: string): number | null {
  const s = toHalfWidth(input).replace(HYPHENS, '-').replace(/[,\s、]/g, '').replace(/。/g, '.');
  if (!/^-?\d+(\.\d+)?$/.test(s) || s.length > 20) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** An e-mail address with full-width characters made half-width and spaces trimmed. */
export function normalizeEmail(input: string): string {
  return toHalfWidth(input).replace(/＠/g, '@').trim();
}

interface Era {
  name: string;
  letter: string;
  /** First day, as YYYY-MM-DD. */
  start: string;
}

/** Eras from 明治 on, newest first. */
const ERAS: Era[] = [
  { name: '令和', letter: 'R', start: '2019-05-01' },
  { name: '平成', letter: 'H', start: '1989-01-08' },
  { name: '昭和', letter: 'S', start: '1926-12-25' },
  { name: '大正', letter: 'T', start: '1912-07-30' },
  { name: '明治', letter: 'M', start: '1868-01-25' },
];

function validDate(y: number, m: number, d: number): string | null {
  if (!Number.isInteger(y) || !Number.isInteger(m) || !Number.isInteger(d) || y < 1868 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) return null;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * A calendar date as YYYY-MM-DD from what a resident types: 2026-04-01, 2026/4/1, 2026年4月1日,
 * 令和8年4月1日, R8.4.1, 昭和50年1月2日, 平成元年… Full-width digits are fine. Null when it is not
 * a real date or the era does not cover it.
 * @example parseDate('令和元年５月１日') // '2019-05-01'
 */
export function parseDate(input: string): string | null {
  const s = toHalfWidth(input).replace(/\s/g, '').replace(/元年/g, '1年');
  let m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(s);
  if (m) return validDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(令和|平成|昭和|大正|明治|[RHSTMrhstm])(\d{1,2})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(s);
  if (!m) return null;
  const key = m[1]!;
  const era = ERAS.find((e) => e.name === key || e.letter === key.toUpperCase());
  if (!era) return null;
  const year = Number(era.start.slice(0, 4)) + Number(m[2]) - 1;
  const iso = validDate(year, Number(m[3]), Number(m[4]));
  if (!iso) return null;
  // The date must fall within the era (平成31年5月1日 does not exist; it is 令和元年5月1日).
  const idx = ERAS.indexOf(era);
  const next = idx > 0 ? ERAS[idx - 1] : undefined;
  if (iso < era.start || (next && iso >= next.start)) return null;
  return iso;
}

/**
 * The Japanese era date for a YYYY-MM-DD date: 「令和8年4月1日」, 「令和元年5月1日」; empty before 明治.
 * @example toWareki('1989-01-08') // '平成元年1月8日'
 */
export function toWareki(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return '';
  const era = ERAS.find((e) => iso >= e.start);
  if (!era) return '';
  const year = Number(m[1]) - Number(era.start.slice(0, 4)) + 1;
  return `${era.name}${year === 1 ? '元' : year}年${Number(m[2])}月${Number(m[3])}日`;
}

/** 「2026年4月1日（令和8年4月1日）」 — how a date answer is shown to people. */
export function formatDateAnswer(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return iso;
  const wareki = toWareki(iso);
  return `${Number(m[1])}年${Number(m[2])}月${Number(m[3])}日${wareki ? `（${wareki}）` : ''}`;
}
