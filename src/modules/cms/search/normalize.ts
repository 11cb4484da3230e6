import { Parser } from 'htmlparser2';

/**
 * Text normalisation and tokenisation for the site search (C-3-22/23).
 *
 * Two forms of a text exist:
 * - display text (`cleanText`, `htmlToText`): NFKC, no control characters, one space between
 *   words. It is what snippets show.
 * - matching text (`normalizeText`): the display text folded per character — lower case,
 *   katakana → hiragana, long-vowel marks and dashes unified. Documents and queries are both
 *   folded with the same function, so 「ゴミ」 finds 「ごみ」 and ＡＢＣ finds abc.
 *
 * Tokens (`tokens`): inside each run of CJK/kana characters, every character bigram plus the run's
 * last character as a unigram; outside, whole letter/digit words. The trailing unigram makes
 * single-character queries exact without indexing every unigram: each occurrence of a character is
 * either the first half of a bigram or the last character of its run, so a one-character query
 * looks up the unigram and every bigram starting with it (a range scan on the term index).
 */

const MAX_WORD = 64;

/** CJK ideographs, kana (and the long-vowel mark), iteration marks, hangul: text without spaces between words. */
export function isCjk(cp: number): boolean {
  return (
    (cp >= 0x3041 && cp <= 0x309f) || // hiragana
    (cp >= 0x30a1 && cp <= 0x30fa) || // katakana
    (cp >= 0x30fc && cp <= 0x30ff) || // ー ヽ ヾ ヿ (not ・ U+30FB, a separator)
    (cp >= 0x31f0 && cp <= 0x31ff) || // katakana phonetic extensions
    (cp >= 0x3005 && cp <= 0x3007) || // 々 〆 〇
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || // hangul syllables
    (cp >= 0x20000 && cp <= 0x3ffff)
  );
}

function isKana(cp: number): boolean {
  return (cp >= 0x3041 && cp <= 0x30fa) || cp === 0x30fc || cp === 0x30fd || cp === 0x30fe || (cp >= 0x31f0 && cp <= 0x31ff);
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** Letters and digits outside the CJK runs (latin words, numbers). */
export function isWordChar(ch: string, cp: number): boolean {
  return !isCjk(cp) && WORD_CHAR.test(ch);
}

// Dashes and long-vowel marks people (and OCR, and IMEs) use interchangeably: after kana they
// are a long-vowel mark (センタ－ = センター), elsewhere a hyphen.
const DASHES = new Set([0x2d, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2043, 0x2212, 0x2500, 0x2501, 0xfe58, 0xfe63, 0xff0d, 0x30fc, 0xff70]);
const WAVES = new Set([0x301c, 0xff5e, 0x2053, 0x223c]);

const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u00ad\u200b-\u200d\u2060\ufeff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Display text: NFKC (full-width latin → ASCII, half-width kana → full-width), control and
 * zero-width characters removed (PostgreSQL refuses NUL), whitespace collapsed to one space.
 * @example cleanText('ＡＢＣ\u3000ｺﾞﾐ') // 'ABC ゴミ'
 */
export function cleanText(s: string): string {
  return s
    .replace(LONE_SURROGATE, '\ufffd')
    .normalize('NFKC')
    .replace(CONTROL, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Folds display text into matching text, character by character, and remembers where each
 * matching character came from (`from[i]`…`to[i]` in the input), so matches found in the folded
 * text can be highlighted in the display text.
 */
export function foldWithMap(display: string): { text: string; from: number[]; to: number[] } {
  let out = '';
  const from: number[] = [];
  const to: number[] = [];
  let prev = 0;
  let i = 0;
  for (const ch of display) {
    let cp = ch.codePointAt(0)!;
    let o: string;
    if (cp >= 0x30a1 && cp <= 0x30f6) {
      cp -= 0x60; // katakana → hiragana
      if (cp === 0x3095) cp = 0x304b; // ヵ → か
      if (cp === 0x3096) cp = 0x3051; // ヶ → け (霞ヶ関 = 霞ケ関)
      o = String.fromCodePoint(cp);
    } else if (cp === 0x30fd || cp === 0x30fe) {
      cp -= 0x60; // ヽヾ → ゝゞ
      o = String.fromCodePoint(cp);
    } else if (DASHES.has(cp)) {
      cp = isKana(prev) ? 0x30fc : 0x2d;
      o = String.fromCodePoint(cp);
    } else if (WAVES.has(cp)) {
      cp = 0x7e;
      o = '~';
    } else {
      o = ch.toLowerCase();
    }
    out += o;
    for (let k = 0; k < o.length; k++) {
      from.push(i);
      to.push(i + ch.length);
    }
    prev = cp;
    i += ch.length;
  }
  return { text: out, from, to };
}

/**
 * Matching form of plain text (use `htmlToText` first for HTML).
 * @example normalizeText('ゴミ収集日　ＡＢＣ') // 'ごみ収集日 abc'
 */
export function normalizeText(s: string): string {
  return foldWithMap(cleanText(s)).text;
}

const SKIP = new Set(['script', 'style', 'noscript', 'template', 'head', 'title', 'iframe', 'object', 'svg', 'math', 'select', 'button']);
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'caption', 'dd', 'details', 'div', 'dl', 'dt', 'fieldset', 'figcaption',
  'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre',
  'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul', 'option', 'label', 'legend',
]);

/**
 * Display text of page HTML: tags removed (inline tags join, block tags separate words), entities
 * decoded, script/style contents dropped, image alt text kept.
 * @example htmlToText('<p>ご<b>み</b>&amp;資源</p><p>回収</p>') // 'ごみ&資源 回収'
 */
export function htmlToText(html: string): string {
  const parts: string[] = [];
  let skip = 0;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (SKIP.has(name)) skip++;
        else if (skip === 0) {
          if (BLOCK.has(name)) parts.push(' ');
          else if ((name === 'img' || name === 'area') && attribs.alt) parts.push(` ${attribs.alt} `);
        }
      },
      ontext(text) {
        if (skip === 0) parts.push(text);
      },
      onclosetag(name) {
        if (SKIP.has(name)) skip = Math.max(0, skip - 1);
        else if (skip === 0 && BLOCK.has(name)) parts.push(' ');
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  return cleanText(parts.join(''));
}

/** A query or document split into CJK runs and words (matching form). */
export interface Segment {
  kind: 'cjk' | 'word';
  /** Matching-form text of the segment. */
  text: string;
  /** Code points of the segment (CJK runs only). */
  chars: string[];
}

/** Splits matching-form text into CJK runs and letter/digit words; everything else separates. */
export function segments(norm: string): Segment[] {
  const out: Segment[] = [];
  let kind: 'cjk' | 'word' | null = null;
  let chars: string[] = [];
  const flush = () => {
    if (kind && chars.length) out.push({ kind, text: chars.join(''), chars: kind === 'cjk' ? chars : [] });
    kind = null;
    chars = [];
  };
  for (const ch of norm) {
    const cp = ch.codePointAt(0)!;
    const k = isCjk(cp) ? 'cjk' : isWordChar(ch, cp) ? 'word' : null;
    if (k !== kind) flush();
    if (k) {
      kind = k;
      chars.push(ch);
    }
  }
  flush();
  return out;
}

function wordTerm(text: string): string {
  return text.length > MAX_WORD ? Array.from(text).slice(0, MAX_WORD).join('') : text;
}

/** Tokens of matching-form text, with repeats, in order. */
export function tokensOfNormalized(norm: string): string[] {
  const out: string[] = [];
  for (const seg of segments(norm)) {
    if (seg.kind === 'word') {
      out.push(wordTerm(seg.text));
      continue;
    }
    const c = seg.chars;
    for (let i = 0; i + 1 < c.length; i++) out.push(c[i]! + c[i + 1]!);
    out.push(c[c.length - 1]!);
  }
  return out;
}

/**
 * Index tokens of plain text: CJK bigrams, each CJK run's last character, whole words.
 * @example tokens('ゴミの出し方 PDF') // ['ごみ','みの','の出','出し','し方','方','pdf']
 */
export function tokens(s: string): string[] {
  return tokensOfNormalized(normalizeText(s));
}

/** How one query term group is looked up in the postings. */
export type TermGroup = { kind: 'exact'; term: string } | { kind: 'prefix'; char: string; upper: string };

export interface ParsedQuery {
  /** Matching-form segments of the query (used for phrase checks, title scoring and highlighting). */
  segments: Segment[];
  /** Distinct term lookups; a document must match every one. */
  groups: TermGroup[];
  /** CJK segments of three or more characters: their bigrams must be adjacent in the document. */
  phrases: string[];
}

const MAX_GROUPS = 32;
const MAX_QUERY = 200;

/**
 * Turns what a resident typed into term lookups. A one-character CJK segment (「税」) becomes a
 * prefix lookup (its unigram and every bigram starting with it); longer CJK segments their
 * bigrams; words themselves.
 */
export function parseQuery(text: string): ParsedQuery {
  const norm = normalizeText(Array.from(text).slice(0, MAX_QUERY).join(''));
  const segs = segments(norm);
  const groups: TermGroup[] = [];
  const seen = new Set<string>();
  const phrases: string[] = [];
  const add = (g: TermGroup) => {
    const key = g.kind === 'exact' ? `=${g.term}` : `^${g.char}`;
    if (seen.has(key) || groups.length >= MAX_GROUPS) return;
    seen.add(key);
    groups.push(g);
  };
  for (const seg of segs) {
    if (seg.kind === 'word') add({ kind: 'exact', term: wordTerm(seg.text) });
    else if (seg.chars.length === 1) {
      const ch = seg.chars[0]!;
      add({ kind: 'prefix', char: ch, upper: String.fromCodePoint(ch.codePointAt(0)! + 1) });
    } else {
      for (let i = 0; i + 1 < seg.chars.length; i++) add({ kind: 'exact', term: seg.chars[i]! + seg.chars[i + 1]! });
      if (seg.chars.length >= 3 && !phrases.includes(seg.text)) phrases.push(seg.text);
    }
  }
  return { segments: segs, groups, phrases };
}
