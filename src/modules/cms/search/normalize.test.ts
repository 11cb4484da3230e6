import { describe, expect, it } from 'vitest';
import { cleanText, foldWithMap, htmlToText, normalizeText, parseQuery, tokens } from './normalize.js';

describe('normalizeText', () => {
  it('folds width, case and katakana to one matching form', () => {
    expect(normalizeText('ＡＢＣ abc Ａｂｃ')).toBe('abc abc abc');
    expect(normalizeText('ゴミ')).toBe(normalizeText('ごみ'));
    expect(normalizeText('ｺﾞﾐ収集')).toBe('ごみ収集');
    expect(normalizeText('霞ヶ関')).toBe(normalizeText('霞ケ関'));
    expect(normalizeText('１２３４５')).toBe('12345');
  });

  it('unifies long-vowel marks and dashes after kana, hyphens elsewhere', () => {
    const want = normalizeText('センター');
    for (const v of ['センタ－', 'センタ-', 'センタ—', 'センタ−', 'ｾﾝﾀｰ', 'センタ‐']) expect(normalizeText(v)).toBe(want);
    expect(normalizeText('0120－123—456')).toBe('0120-123-456');
    expect(normalizeText('9時〜17時')).toBe(normalizeText('9時～17時'));
  });

  it('collapses every kind of space and drops control and zero-width characters', () => {
    expect(normalizeText('  ごみ\u3000の\t\n出し方\u200b ')).toBe('ごみ の 出し方');
    expect(cleanText('a\u0000b')).toBe('ab');
  });

  it('maps folded characters back to the display text', () => {
    const f = foldWithMap('Aゴミ𠮷İ');
    expect(f.text).toBe('aごみ𠮷i\u0307');
    expect(f.from).toEqual([0, 1, 2, 3, 3, 5, 5]);
    expect(f.to).toEqual([1, 2, 3, 5, 5, 6, 6]);
  });
});

describe('htmlToText', () => {
  it('strips tags, decodes entities, drops scripts, keeps alt text, separates blocks only', () => {
    expect(htmlToText('<p>ご<b>み</b>&amp;資源</p><p>回収&nbsp;日</p>')).toBe('ごみ&資源 回収 日');
    expect(htmlToText('<div>a<script>alert("x")</script><style>p{}</style>b</div>')).toBe('ab');
    expect(htmlToText('<p>地図<img src="m.png" alt="市役所の地図"></p>')).toBe('地図 市役所の地図');
    expect(htmlToText('&lt;script&gt;alert(1)&lt;/script&gt;')).toBe('<script>alert(1)</script>');
    expect(htmlToText('<li>一</li><li>二</li>')).toBe('一 二');
  });
});

describe('tokens', () => {
  it('makes CJK bigrams plus the run-final unigram, and whole words', () => {
    expect(tokens('ゴミの出し方 PDF')).toEqual(['ごみ', 'みの', 'の出', '出し', 'し方', '方', 'pdf']);
    expect(tokens('税')).toEqual(['税']);
    expect(tokens('市民税・住民税')).toEqual(['市民', '民税', '税', '住民', '民税', '税']);
    expect(tokens('ＡＢＣ123 abc-def')).toEqual(['abc123', 'abc', 'def']);
  });

  it('parses queries into term lookups and phrases', () => {
    const one = parseQuery('税');
    expect(one.groups).toEqual([{ kind: 'prefix', char: '税', upper: '稏' }]);
    const two = parseQuery('ゴミ');
    expect(two.groups).toEqual([{ kind: 'exact', term: 'ごみ' }]);
    expect(two.phrases).toEqual([]);
    const three = parseQuery('ごみ出し　PDF');
    expect(three.groups.map((g) => (g.kind === 'exact' ? g.term : g.char))).toEqual(['ごみ', 'み出', '出し', 'pdf']);
    expect(three.phrases).toEqual(['ごみ出し']);
    expect(parseQuery(' 、。 ').groups).toEqual([]);
  });
});
