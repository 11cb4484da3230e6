/**
 * How X counts the length of a post (twitter-text v3 rules), so that the platform can refuse or
 * shorten a text before X does. X counts in "weighted" units: Latin letters count 1, kana and
 * kanji count 2, every URL counts 23 (X wraps it in a t.co link), and an emoji counts 2 however
 * many code points it is made of. 280 units fill a post, i.e. 140 Japanese characters.
 */

/** Most weighted units one post may hold. */
export const MAX_WEIGHTED_LENGTH = 280;
/** What any URL counts, whatever its length (the t.co link X replaces it with). */
export const URL_WEIGHT = 23;

// twitter-text works at scale 100: weight 100 is one unit, the default 200 is two.
const SCALE = 100;
const DEFAULT_WEIGHT = 200;
const LIGHT_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0000, 0x10ff], // Latin, Greek, Cyrillic, Hebrew, Arabic, Indic … up to Georgian
  [0x2000, 0x200d], // spaces and zero-width characters
  [0x2010, 0x201f], // dashes and quotation marks (not "…", U+2026, which counts 2)
  [0x2032, 0x2037], // primes
];

// RGI_Emoji needs the `v` flag; built from a string because the project targets ES2022, whose
// regular-expression syntax TypeScript checks, while Node 20 supports the flag at run time.
const EMOJI = new RegExp('\\p{RGI_Emoji}', 'gv');

// --- URLs -----------------------------------------------------------------------------------
// A pragmatic port of twitter-text's URL rules: an over-count only shortens a post a little,
// an under-count makes X refuse it, so where in doubt a match counts as a URL.

/** Characters that may not come right before a URL (it would be part of a word or a mention). */
const NOT_BEFORE_URL = /[A-Za-z0-9@＠$#＃\u202A-\u202E]/;
/** Before a URL without scheme these also rule it out ("foo/example.com", "a.example.com"). */
const NOT_BEFORE_BARE_URL = /[-_./]/;
// A label may hold letters of any script (internationalised domains); Japanese text right after
// a TLD ends the URL because the TLD must be ASCII and followed by a boundary.
const LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}_-]*[\\p{L}\\p{N}])?';
const SCHEME_URL = new RegExp(
  `https?://(?:${LABEL}\\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]+)(?![0-9a-z@+-])(?::\\d{1,5})?` +
    `(?:/[a-z0-9\\u00c0-\\u024f\\u0400-\\u04ff!*';:=+,.$/%#\\[\\]\\-\\u2013_~&|@()]*)?` +
    `(?:\\?[a-z0-9!?*'();:&=+$/%#\\[\\]\\-_.,~|@]*)?`,
  'giu',
);
// Without a scheme X only links known TLDs. Any two-letter TLD stands in for the country codes.
const BARE_TLDS =
  'com|net|org|info|biz|edu|gov|mil|int|name|pro|mobi|asia|jobs|tel|travel|xyz|online|site|' +
  'app|dev|page|blog|news|shop|store|tech|cloud|tokyo|osaka|nagoya|yokohama|kyoto|okinawa|' +
  'ryukyu|kobe|jp|[a-z]{2}';
const BARE_URL = new RegExp(
  `(?:[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?\\.)+(${BARE_TLDS})(?![0-9a-z@+-])(?::\\d{1,5})?` +
    `(/[a-z0-9\\u00c0-\\u024f\\u0400-\\u04ff!*';:=+,.$/%#\\[\\]\\-\\u2013_~&|@()]*)?` +
    `(?:\\?[a-z0-9!?*'();:&=+$/%#\\[\\]\\-_.,~|@]*)?`,
  'giu',
);
/** A path or query may not end in these; "…/news/1." ends the URL before the full stop. */
const URL_ENDING = /[a-z0-9\u00c0-\u024f\u0400-\u04ff=_#/+\-&)]/i;

/** Drops trailing punctuation that belongs to the sentence, not the URL. */
function trimUrlEnd(url: string, minLength: number): string {
  let end = url.length;
  for (;;) {
    const last = url[end - 1];
    if (end <= minLength || last === undefined) break;
    if (!URL_ENDING.test(last)) {
      end--;
      continue;
    }
    if (last === ')') {
      const part = url.slice(0, end);
      const opens = part.split('(').length - 1;
      const closes = part.split(')').length - 1;
      if (closes > opens) {
        end--;
        continue;
      }
    }
    break;
  }
  return url.slice(0, end);
}

interface Span {
  start: number;
  end: number;
}

/** Where X would see URLs in `text` (UTF-16 offsets, end exclusive). */
export function findUrls(text: string): Span[] {
  const spans: Span[] = [];
  const taken = (i: number) => spans.some((s) => i >= s.start && i < s.end);
  for (const m of text.matchAll(SCHEME_URL)) {
    const start = m.index;
    const before = text[start - 1];
    if (before !== undefined && NOT_BEFORE_URL.test(before)) continue;
    const host = /^https?:\/\/[^/?:]+/i.exec(m[0])?.[0].length ?? m[0].length;
    spans.push({ start, end: start + trimUrlEnd(m[0], host).length });
  }
  for (const m of text.matchAll(BARE_URL)) {
    const start = m.index;
    if (taken(start)) continue;
    const before = text[start - 1];
    if (before !== undefined && (NOT_BEFORE_URL.test(before) || NOT_BEFORE_BARE_URL.test(before))) continue;
    const path = m[2];
    const tld = m[1] ?? '';
    const labels = m[0].slice(0, m[0].length - (path?.length ?? 0)).split('.').length;
    // "example.jp" alone is not linked (too many false hits such as "file.js"); with a path it is.
    if (!path && labels === 2 && tld.length === 2) continue;
    const hostLength = m[0].length - (path?.length ?? 0);
    const url = trimUrlEnd(m[0], Math.min(hostLength, m[0].length));
    if (spans.some((s) => start < s.end && start + url.length > s.start)) continue;
    spans.push({ start, end: start + url.length });
  }
  return spans.sort((a, b) => a.start - b.start);
}

// --- weights --------------------------------------------------------------------------------

function codePointWeight(cp: number): number {
  for (const [lo, hi] of LIGHT_RANGES) if (cp >= lo && cp <= hi) return SCALE;
  return DEFAULT_WEIGHT;
}

/** Weight (at scale 100) of a piece of text that holds no URL. */
function plainWeight(text: string): number {
  let weight = 0;
  let last = 0;
  for (const m of text.matchAll(EMOJI)) {
    for (const ch of text.slice(last, m.index)) weight += codePointWeight(ch.codePointAt(0)!);
    weight += DEFAULT_WEIGHT;
    last = m.index + m[0].length;
  }
  for (const ch of text.slice(last)) weight += codePointWeight(ch.codePointAt(0)!);
  return weight;
}

interface Unit {
  text: string;
  /** At scale 100. */
  weight: number;
}

const graphemes = new Intl.Segmenter('ja', { granularity: 'grapheme' });

/** Splits NFC text into the pieces a cut may fall between: whole URLs and grapheme clusters. */
function units(text: string): Unit[] {
  const out: Unit[] = [];
  let pos = 0;
  const pushPlain = (piece: string) => {
    for (const { segment } of graphemes.segment(piece)) out.push({ text: segment, weight: plainWeight(segment) });
  };
  for (const { start, end } of findUrls(text)) {
    pushPlain(text.slice(pos, start));
    out.push({ text: text.slice(start, end), weight: URL_WEIGHT * SCALE });
    pos = end;
  }
  pushPlain(text.slice(pos));
  return out;
}

/**
 * The length X gives `text`: 1 for most Latin characters, 2 for Japanese and other scripts,
 * 2 per emoji (even a ZWJ family), 23 per URL. Text is NFC-normalised first, as X does.
 * @example
 * weightedLength('お知らせ https://city.example.jp/news/123') // 8 + 1 + 23 = 32
 */
export function weightedLength(text: string): number {
  const normalized = text.normalize('NFC');
  let weight = 0;
  let pos = 0;
  for (const { start, end } of findUrls(normalized)) {
    weight += plainWeight(normalized.slice(pos, start)) + URL_WEIGHT * SCALE;
    pos = end;
  }
  weight += plainWeight(normalized.slice(pos));
  return weight / SCALE;
}

/**
 * Whether X would accept `text` as a post: not blank and at most 280 weighted units.
 * @example
 * fitsInPost('あ'.repeat(140)) // true
 * fitsInPost('あ'.repeat(141)) // false
 */
export function fitsInPost(text: string): boolean {
  return text.trim() !== '' && weightedLength(text) <= MAX_WEIGHTED_LENGTH;
}

export interface TruncateOptions {
  /** Appended after the text, always kept whole (it counts 23 whatever its length). */
  url?: string;
  /** Marks a cut; default 「…」 (which itself counts 2). Not added when nothing was cut. */
  suffix?: string;
  /** Between the text and the URL; default one space. */
  separator?: string;
}

/**
 * Shortens `text` so that it, the cut marker and the URL fit in one post. Cuts only between
 * grapheme clusters (never inside an emoji, a surrogate pair or a kana with its sound mark) and
 * never inside a URL in the text. The result is NFC-normalised.
 * @example
 * truncateForPost('あ'.repeat(300), { url: 'https://city.example.jp/bousai/1' })
 * // → 'あ' × 127 + '… https://city.example.jp/bousai/1' (weighted exactly 280)
 */
export function truncateForPost(text: string, options: TruncateOptions = {}): string {
  const { url, suffix = '…', separator = ' ' } = options;
  const body = text.normalize('NFC');
  const tail = url ? (body.trim() === '' ? url : separator + url) : '';
  if (weightedLength(body + tail) <= MAX_WEIGHTED_LENGTH) return body + tail;

  const end = suffix + (url ? separator + url : '');
  const budget = MAX_WEIGHTED_LENGTH * SCALE - weightedLength(end) * SCALE;
  if (budget < 0) throw new RangeError('URL と省略記号だけで X の文字数上限（280）を超えます。');
  const pieces = units(body);
  let k = 0;
  let used = 0;
  while (k < pieces.length && used + pieces[k]!.weight <= budget) used += pieces[k++]!.weight;
  // Joining pieces can change what looks like a URL ("example.comment" cut to "example.com"),
  // so the candidate is measured whole and shortened further until it really fits.
  for (; k >= 0; k--) {
    const head = pieces.slice(0, k).map((p) => p.text).join('').trimEnd();
    const candidate = head + end;
    if (weightedLength(candidate) <= MAX_WEIGHTED_LENGTH) return candidate;
  }
  throw new RangeError('X の文字数上限（280）に収まるように切り詰められません。');
}
