import { describe, expect, it } from 'vitest';
import { MAX_WEIGHTED_LENGTH, fitsInPost, truncateForPost, weightedLength } from './x-text.js';

const URL = 'https://city.example.jp/bousai/2025/typhoon-10/evacuation-order.html';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const graphemes = (s: string) => [...new Intl.Segmenter('ja', { granularity: 'grapheme' }).segment(s)].map((g) => g.segment);

describe('weightedLength', () => {
  it('counts Latin as 1 and Japanese as 2 per character', () => {
    expect(weightedLength('hello')).toBe(5);
    expect(weightedLength('あ')).toBe(2);
    expect(weightedLength('漢字カナ')).toBe(8);
    expect(weightedLength('まちまど市 Machimado')).toBe(10 + 1 + 9);
  });

  it('puts the limit at exactly 280: 140 Japanese characters fit, 141 do not', () => {
    expect(weightedLength('あ'.repeat(140))).toBe(280);
    expect(fitsInPost('あ'.repeat(140))).toBe(true);
    expect(weightedLength('あ'.repeat(141))).toBe(282);
    expect(fitsInPost('あ'.repeat(141))).toBe(false);
  });

  it('fits 280 Latin letters and refuses 281', () => {
    expect(fitsInPost('a'.repeat(280))).toBe(true);
    expect(fitsInPost('a'.repeat(281))).toBe(false);
    expect(weightedLength('a'.repeat(278) + 'あ')).toBe(280);
    expect(fitsInPost('a'.repeat(278) + 'あ')).toBe(true);
    expect(weightedLength('a'.repeat(279) + 'あ')).toBe(281);
    expect(fitsInPost('a'.repeat(279) + 'あ')).toBe(false);
  });

  it('weights exactly the twitter-text v3 ranges as 1, everything else as 2', () => {
    const w = (cp: number) => weightedLength(String.fromCodePoint(cp));
    expect([0x41, 0xe9, 0x0416, 0x10ff].map(w)).toEqual([1, 1, 1, 1]); // A, é, Ж, last of range
    expect(w(0x1100)).toBe(2); // Hangul Jamo, just past U+10FF
    expect([0x2000, 0x200d].map(w)).toEqual([1, 1]);
    expect([0x200e, 0x200f].map(w)).toEqual([2, 2]);
    expect([0x2010, 0x2014, 0x201c, 0x201f].map(w)).toEqual([1, 1, 1, 1]);
    expect([0x2020, 0x2026].map(w)).toEqual([2, 2]); // †, … (the ellipsis counts 2)
    expect([0x2032, 0x2037].map(w)).toEqual([1, 1]);
    expect([0x2031, 0x2038].map(w)).toEqual([2, 2]);
    expect(w(0x3000)).toBe(2); // ideographic space
    expect(w(0xff71)).toBe(2); // half-width katakana still counts 2
    expect(w(0xff01)).toBe(2); // full-width "！"
  });

  it('counts a surrogate pair as one character (2), not two', () => {
    expect('𠮷'.length).toBe(2);
    expect(weightedLength('𠮷')).toBe(2);
    expect(fitsInPost('𠮷'.repeat(140))).toBe(true);
    expect(fitsInPost('𠮷'.repeat(141))).toBe(false);
  });

  it('normalises to NFC before counting, as X does', () => {
    expect(weightedLength('か\u3099')).toBe(2); // か + combining dakuten = が
    expect(weightedLength('e\u0301')).toBe(1); // e + combining acute = é
  });

  it('counts each emoji as 2, however many code points it has', () => {
    expect(weightedLength('😀')).toBe(2);
    expect(weightedLength('👍🏽')).toBe(2); // with skin tone
    expect(weightedLength('👨‍👩‍👧‍👦')).toBe(2); // 7 code points joined by ZWJ
    expect(weightedLength('🏳️‍🌈')).toBe(2);
    expect(weightedLength('🇯🇵')).toBe(2); // flag: two regional indicators
    expect(weightedLength('1️⃣')).toBe(2); // keycap
    expect(weightedLength('❤️')).toBe(2);
    expect(weightedLength('©')).toBe(1); // text-style ©: an ordinary Latin-1 character
    expect(weightedLength('©️')).toBe(2); // emoji-style ©
    expect(weightedLength('避難所👨‍👩‍👧‍👦OK')).toBe(6 + 2 + 2);
    expect(fitsInPost('👨‍👩‍👧‍👦'.repeat(140))).toBe(true);
    expect(fitsInPost('👨‍👩‍👧‍👦'.repeat(141))).toBe(false);
  });

  it('counts every URL as 23 whatever its length', () => {
    expect(weightedLength('https://t.co')).toBe(23);
    expect(weightedLength(`https://city.example.jp/${'a'.repeat(200)}`)).toBe(23);
    expect(weightedLength(`お知らせ ${URL}`)).toBe(8 + 1 + 23);
    expect(weightedLength('https://a.example.jp https://b.example.jp/x')).toBe(23 + 1 + 23);
    expect(weightedLength('http://example.com:8080/path?q=1&r=2')).toBe(23);
  });

  it('ends a URL where Japanese text or sentence punctuation starts', () => {
    expect(weightedLength('https://city.example.jp/news/1のお知らせ')).toBe(23 + 10);
    expect(weightedLength('https://example.jpのお知らせ')).toBe(23 + 10);
    expect(weightedLength('see https://example.com/a.')).toBe(4 + 23 + 1);
    expect(weightedLength('(https://example.com/a_(b))')).toBe(1 + 23 + 1);
  });

  it('recognises URLs without a scheme the way X does', () => {
    expect(weightedLength('city.example.jp')).toBe(23);
    expect(weightedLength('詳しくはcity.example.jpへ')).toBe(8 + 23 + 2);
    expect(weightedLength('example.com')).toBe(23);
    expect(weightedLength('example.jp')).toBe(10); // a lone ccTLD domain is not linked…
    expect(weightedLength('example.jp/news')).toBe(23); // …unless a path follows
    expect(weightedLength('file.js')).toBe(7);
    expect(weightedLength('version 1.2.3')).toBe(13);
    expect(weightedLength('user@example.com')).toBe(5 + 11); // e-mail: not a link after "@"
  });

  it('accepts 280 exactly with a URL in the text', () => {
    expect(weightedLength(`${'あ'.repeat(128)} ${URL}`)).toBe(280);
    expect(fitsInPost(`${'あ'.repeat(128)} ${URL}`)).toBe(true);
    expect(fitsInPost(`${'あ'.repeat(128)}a ${URL}`)).toBe(false);
  });

  it('does not call blank text a post', () => {
    expect(fitsInPost('')).toBe(false);
    expect(fitsInPost(' \n')).toBe(false);
  });
});

describe('truncateForPost', () => {
  it('leaves text that fits alone, adding the URL without a cut marker', () => {
    expect(truncateForPost('開庁時間のお知らせ')).toBe('開庁時間のお知らせ');
    expect(truncateForPost('開庁時間のお知らせ', { url: URL })).toBe(`開庁時間のお知らせ ${URL}`);
    expect(truncateForPost('', { url: URL })).toBe(URL);
  });

  it('cuts long Japanese text and fills the post exactly to 280 with 「…」 and the URL', () => {
    const out = truncateForPost('あ'.repeat(300), { url: URL });
    // 280 − URL 23 − space 1 − 「…」 2 = 254, i.e. 127 characters of text
    expect(out).toBe(`${'あ'.repeat(127)}… ${URL}`);
    expect(weightedLength(out)).toBe(MAX_WEIGHTED_LENGTH);
  });

  it('stays within the limit when the budget is odd for two-unit characters', () => {
    const out = truncateForPost('a' + 'あ'.repeat(300));
    expect(out).toBe(`a${'あ'.repeat(138)}…`);
    expect(weightedLength(out)).toBe(279);
  });

  it('never cuts inside an emoji ZWJ sequence or a surrogate pair', () => {
    const family = '👨‍👩‍👧‍👦';
    const out = truncateForPost(`避難${family.repeat(200)}`, { url: URL });
    expect(fitsInPost(out)).toBe(true);
    const body = out.slice(0, out.indexOf('…'));
    expect(graphemes(body.slice(2)).every((g) => g === family)).toBe(true);
    expect(LONE_SURROGATE.test(out)).toBe(false);

    const kanji = truncateForPost('𠮷'.repeat(200));
    expect(LONE_SURROGATE.test(kanji)).toBe(false);
    expect(kanji).toBe(`${'𠮷'.repeat(139)}…`);
  });

  it('keeps a URL inside the text whole or drops it, never half of it', () => {
    const link = `https://example.com/${'x'.repeat(50)}`;
    const kept = truncateForPost(`${'あ'.repeat(120)} ${link} ${'い'.repeat(100)}`);
    expect(kept).toContain(link);
    expect(fitsInPost(kept)).toBe(true);

    const dropped = truncateForPost(`${'あ'.repeat(130)} ${link} ${'い'.repeat(100)}`);
    expect(dropped).toBe(`${'あ'.repeat(130)}…`); // trailing space trimmed before the marker
    expect(dropped).not.toContain('http');
  });

  it('measures the joined result: a cut that turns "example.commentary" into a link is shortened further', () => {
    // By characters "example.com" ends at 278, but followed by 「…」 it would become a URL (23).
    const out = truncateForPost(`${'a'.repeat(266)} example.commentary ${'b'.repeat(50)}`);
    expect(out).toBe(`${'a'.repeat(266)} example.co…`);
    expect(weightedLength(out)).toBe(279);
  });

  it('uses a custom cut marker and separator', () => {
    const out = truncateForPost('お'.repeat(200), { url: URL, suffix: '（続く）', separator: '\n' });
    expect(out.endsWith(`（続く）\n${URL}`)).toBe(true);
    expect(weightedLength(out)).toBe(280);
  });

  it('returns NFC text', () => {
    const out = truncateForPost('か\u3099'.repeat(200));
    expect(out).toBe(`${'が'.repeat(139)}…`);
  });

  it('refuses when the URL and marker alone are too long', () => {
    expect(() => truncateForPost('あ'.repeat(200), { url: URL, suffix: 'あ'.repeat(130) })).toThrow(RangeError);
  });
});
