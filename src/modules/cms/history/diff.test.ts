import { describe, expect, it } from 'vitest';
import { bodyBlocks, diffBlocks, diffText, diffVersions } from './diff.js';

describe('version diff', () => {
  it('diffs Japanese text word by word, not as one long word', () => {
    const d = diffText('燃えるごみは月曜日です。', '燃えるごみは火曜日です。');
    expect(d.changed).toBe(true);
    expect(d.parts).toEqual([
      { kind: 'same', text: '燃えるごみは' },
      { kind: 'del', text: '月曜日' },
      { kind: 'ins', text: '火曜日' },
      { kind: 'same', text: 'です。' },
    ]);
    expect(diffText('同じ', '同じ')).toEqual({ changed: false, parts: [{ kind: 'same', text: '同じ' }] });
  });

  it('splits a sanitised body into labelled blocks: headings, paragraphs, list items, table rows, image alt and link targets', () => {
    const blocks = bodyBlocks('<h2>収集日</h2><p>燃えるごみは<strong>月曜日</strong>です。<a href="/kurashi/">詳しく</a></p><ul><li><p>資源</p><ul><li>缶</li></ul></li></ul><table><tr><th>地区</th><th>曜日</th></tr><tr><td><p>北</p></td><td>月</td></tr></table><p><img src="/m/1" alt="収集所の地図"></p>');
    expect(blocks).toEqual([
      { label: '見出し2', text: '収集日' },
      { label: '段落', text: '燃えるごみは月曜日です。詳しく［リンク先: /kurashi/］' },
      { label: '箇条書き', text: '資源' },
      { label: '箇条書き', text: '缶' },
      { label: '表の行', text: '地区 | 曜日' },
      { label: '表の行', text: '北 | 月' },
      { label: '段落', text: '［画像: 収集所の地図］' },
    ]);
  });

  it('pairs a replaced block as one change, and reports added and removed blocks on their own', () => {
    const rows = diffBlocks(
      [{ label: '段落', text: 'A地区は月曜日' }, { label: '段落', text: '変わらない' }, { label: '段落', text: '消える段落' }],
      [{ label: '段落', text: 'A地区は火曜日' }, { label: '段落', text: '変わらない' }, { label: '見出し2', text: '新しい見出し' }, { label: '段落', text: '新しい段落' }],
    );
    expect(rows.map((r) => r.kind)).toEqual(['changed', 'same', 'changed', 'added']);
    expect(rows[0]!.parts.filter((p) => p.kind !== 'same').map((p) => `${p.kind}:${p.text}`)).toEqual(['del:月曜日', 'ins:火曜日']);
    expect(rows[2]!.label).toBe('段落 → 見出し2');
    expect(rows[3]).toEqual({ kind: 'added', label: '段落', parts: [{ kind: 'ins', text: '新しい段落' }] });
    expect(diffBlocks([{ label: '段落', text: 'x' }], [])).toEqual([{ kind: 'removed', label: '段落', parts: [{ kind: 'del', text: 'x' }] }]);
  });

  it('compares title, summary, changed fields and body of two versions', () => {
    const d = diffVersions(
      { title: 'ごみの出し方', summary: null, fields: { important: false, place: '市役所' }, bodyHtml: '<p>月曜日</p>' },
      { title: 'ごみの出し方（改訂）', summary: '収集日の案内', fields: { important: true, place: '市役所' }, bodyHtml: '<p>月曜日</p>' },
    );
    expect(d.same).toBe(false);
    expect(d.title.parts).toEqual([{ kind: 'same', text: 'ごみの出し方' }, { kind: 'ins', text: '（改訂）' }]);
    expect(d.summary.parts).toEqual([{ kind: 'ins', text: '収集日の案内' }]);
    expect(d.fields.map((f) => f.key)).toEqual(['important']);
    expect(d.body.every((r) => r.kind === 'same')).toBe(true);
    const v = { title: 't', summary: 's', fields: {}, bodyHtml: '<p>x</p>' };
    expect(diffVersions(v, { ...v }).same).toBe(true);
  });
});
