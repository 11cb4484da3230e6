import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { contentDisposition, csvStream, CsvParseError, detectCsvEncoding, parseCsv, toReadableStream, type CsvColumn } from './index.js';

interface Person {
  name: string;
  note: string | null;
  age: number | null;
  at?: Date;
}

const cols: CsvColumn<Person>[] = [
  { header: '氏名', value: (p) => p.name },
  { header: '備考', value: (p) => p.note },
  { header: '年齢', value: (p) => p.age },
];

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of it) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

const tricky: Person[] = [
  { name: '山田 太郎', note: '東京都千代田区霞が関1-2-3, 4階', age: 42 },
  { name: '佐藤 "花子"', note: '一行目\r\n二行目\n三行目', age: null },
  { name: '髙橋①', note: null, age: 0 },
  { name: 'ｶﾀｶﾅ', note: '', age: -5 },
];

describe('csvStream', () => {
  it('round-trips Japanese text, commas, quotes and line breaks through UTF-8 with BOM', async () => {
    const bytes = await collect(csvStream(tricky, cols));
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(bytes);
    expect(rows).toEqual([
      ['氏名', '備考', '年齢'],
      ['山田 太郎', '東京都千代田区霞が関1-2-3, 4階', '42'],
      ['佐藤 "花子"', '一行目\r\n二行目\n三行目', ''],
      ['髙橋①', '', '0'],
      ['ｶﾀｶﾅ', '', '-5'],
    ]);
  });

  it('ends every record with CRLF and quotes per RFC 4180', async () => {
    const text = (await collect(csvStream([{ name: 'a,b', note: 'say "hi"', age: 1 }], cols))).subarray(3).toString('utf8');
    expect(text).toBe('氏名,備考,年齢\r\n"a,b","say ""hi""",1\r\n');
  });

  it('writes Shift_JIS (CP932) bytes that decode back, mapping JIS-only look-alikes', async () => {
    const bytes = await collect(csvStream([...tricky, { name: '波〜ダッシュ', note: '−1', age: 1 }], cols, 'sjis'));
    expect([...bytes.subarray(0, 2)]).toEqual([...iconv.encode('氏', 'cp932')]);
    expect(bytes.includes(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    // 髙 and ① exist only in CP932, not plain JIS X 0208.
    expect(bytes.includes(iconv.encode('髙橋①', 'cp932'))).toBe(true);
    const rows = parseCsv(bytes, 'sjis');
    expect(rows[1]).toEqual(['山田 太郎', '東京都千代田区霞が関1-2-3, 4階', '42']);
    expect(rows[3]).toEqual(['髙橋①', '', '0']);
    expect(rows[5]).toEqual(['波～ダッシュ', '－1', '1']);
    expect(detectCsvEncoding(bytes)).toBe('sjis');
    expect(detectCsvEncoding(await collect(csvStream(tricky, cols)))).toBe('utf8');
  });

  it('neutralises formula injection in string cells', async () => {
    const evil = ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\tTAB', '\rCR', 'safe=1'];
    const bytes = await collect(csvStream(evil.map((name) => ({ name, note: null, age: -7 })), cols));
    const rows = parseCsv(bytes).slice(1);
    expect(rows.map((r) => r[0])).toEqual(["'=HYPERLINK(\"http://x\",\"y\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tTAB", "'\rCR", 'safe=1']);
    // Real numbers stay numbers.
    expect(rows.every((r) => r[2] === '-7')).toBe(true);
  });

  it('formats Dates in JST and accepts async sources', async () => {
    async function* src(): AsyncIterable<Person> {
      yield { name: 'x', note: null, age: null, at: new Date('2026-03-31T15:30:00.000Z') };
    }
    const bytes = await collect(csvStream(src(), [{ header: '日時', value: (p: Person) => p.at }]));
    expect(parseCsv(bytes)).toEqual([['日時'], ['2026-04-01 00:30:00']]);
  });

  it('streams 100k rows in bounded chunks while consuming the source lazily', async () => {
    const total = 100_000;
    let produced = 0;
    function* src(): Iterable<{ i: number }> {
      for (let i = 0; i < total; i++) {
        produced++;
        yield { i };
      }
    }
    const columns: CsvColumn<{ i: number }>[] = [
      { header: '番号', value: (r) => r.i },
      { header: '名前', value: (r) => `住民${r.i}` },
    ];
    let chunks = 0;
    let bytes = 0;
    let maxChunk = 0;
    let producedAtFirstChunk = -1;
    let newlines = 0;
    for await (const chunk of csvStream(src(), columns)) {
      if (producedAtFirstChunk < 0 && chunk.length > 3) producedAtFirstChunk = produced;
      chunks++;
      bytes += chunk.length;
      maxChunk = Math.max(maxChunk, chunk.length);
      for (const b of chunk) if (b === 0x0a) newlines++;
    }
    expect(newlines).toBe(total + 1);
    expect(chunks).toBeGreaterThan(10);
    expect(maxChunk).toBeLessThan(512 * 1024);
    expect(bytes).toBeGreaterThan(maxChunk * 10);
    expect(producedAtFirstChunk).toBeGreaterThan(0);
    expect(producedAtFirstChunk).toBeLessThan(total / 10);
  });
});

describe('toReadableStream', () => {
  it('delivers the same bytes and cancels the source', async () => {
    const bytes = await collect(csvStream(tricky, cols));
    const res = new Response(toReadableStream(csvStream(tricky, cols)));
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);

    let finished = false;
    async function* endless(): AsyncIterable<Uint8Array> {
      try {
        for (;;) yield new Uint8Array([0x41]);
      } finally {
        finished = true;
      }
    }
    const reader = toReadableStream(endless()).getReader();
    await reader.read();
    await reader.cancel();
    expect(finished).toBe(true);
  });
});

describe('parseCsv', () => {
  it('handles BOM, CRLF, LF, lone CR, empty cells and keeps blank lines for row numbering', () => {
    expect(parseCsv('\ufeffa,b\r\n1,\n\r"x""y",""\r')).toEqual([['a', 'b'], ['1', ''], [''], ['x"y', '']]);
    expect(parseCsv('a,b')).toEqual([['a', 'b']]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('a,\r\n')).toEqual([['a', '']]);
  });

  it('reports the row of an unterminated quote', () => {
    expect(() => parseCsv('a\r\nb\r\n"open,\r\nmore')).toThrow(CsvParseError);
    try {
      parseCsv('a\r\nb\r\n"open,\r\nmore');
    } catch (e) {
      expect((e as CsvParseError).row).toBe(3);
    }
  });
});

describe('contentDisposition', () => {
  it('gives an ASCII fallback and an RFC 5987 UTF-8 name', () => {
    expect(contentDisposition('監査ログ_2026-01.csv')).toBe(
      `attachment; filename="download_2026-01.csv"; filename*=UTF-8''${encodeURIComponent('監査ログ_2026-01.csv')}`,
    );
    expect(contentDisposition('住民一覧.csv')).toBe(`attachment; filename="download.csv"; filename*=UTF-8''${encodeURIComponent('住民一覧.csv')}`);
    expect(contentDisposition('report.csv')).toBe(`attachment; filename="report.csv"; filename*=UTF-8''report.csv`);
  });

  it('cannot be used to break the header or smuggle quotes and paths', () => {
    const v = contentDisposition('a"b\r\nSet-Cookie: x=1/../(c)\'.csv');
    expect(v).not.toMatch(/[\r\n]/);
    const fallback = /filename="([^"]*)"/.exec(v)?.[1];
    expect(fallback).toBeDefined();
    expect(fallback).not.toMatch(/[/\\"]/);
    const star = v.split("filename*=UTF-8''")[1]!;
    expect(star).toMatch(/^[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
  });
});
