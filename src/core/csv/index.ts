import iconv from 'iconv-lite';

/** Output encodings Excel opens without an import wizard. */
export type CsvEncoding = 'utf8bom' | 'sjis';

export interface CsvColumn<T> {
  header: string;
  value(row: T): string | number | null | undefined | Date;
}

/** A malformed CSV file; `row` is the 1-based record number (as Excel shows it). */
export class CsvParseError extends Error {
  constructor(
    message: string,
    readonly row: number,
  ) {
    super(`${message} (row ${row})`);
    this.name = 'CsvParseError';
  }
}

const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);
const CRLF = '\r\n';
/** Bytes-ish per chunk handed to the consumer; bounds memory whatever the row count. */
const CHUNK_CHARS = 64 * 1024;
const JST_OFFSET_MS = 9 * 60 * 60 * 1000;

// Characters that JIS-minded input methods (notably macOS) produce but CP932 cannot encode;
// their CP932 look-alikes keep "〜" or "−" from turning into "?" in an Excel export.
const CP932_SUBSTITUTES: Record<string, string> = {
  '\u301c': '\uff5e', // 〜 WAVE DASH → ～
  '\u2212': '\uff0d', // − MINUS SIGN → －
  '\u2016': '\u2225', // ‖ → ∥
  '\u2014': '\u2015', // — EM DASH → ―
  '\u00a2': '\uffe0', // ¢ → ￠
  '\u00a3': '\uffe1', // £ → ￡
  '\u00ac': '\uffe2', // ¬ → ￢
};
const CP932_SUBSTITUTE_RE = /[\u301c\u2212\u2016\u2014\u00a2\u00a3\u00ac]/g;

/**
 * Formats a cell: Dates as JST `YYYY-MM-DD HH:mm:ss` (Excel reads it as a date), numbers as
 * written, strings guarded against formula injection.
 */
function cellText(v: string | number | null | undefined | Date): string {
  if (v == null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : formatJst(v);
  // A JS number cannot spell a formula, so only strings need the guard (keeps -5 numeric).
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

function quote(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function formatJst(d: Date): string {
  return new Date(d.getTime() + JST_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

function encodeChunk(text: string, encoding: CsvEncoding): Uint8Array {
  if (encoding === 'sjis') return iconv.encode(text.replace(CP932_SUBSTITUTE_RE, (c) => CP932_SUBSTITUTES[c] ?? c), 'cp932');
  return Buffer.from(text, 'utf8');
}

/**
 * Streams rows as CSV bytes that open cleanly in Excel: header row first, CRLF line ends,
 * RFC 4180 quoting, UTF-8 with BOM (default) or Shift_JIS (CP932). Cells starting with
 * `= + - @ TAB CR` get a leading `'` so a spreadsheet never runs them as formulas. Output is
 * produced in ~64 KiB chunks as the source is consumed, so memory stays flat.
 * @example
 * const bytes = csvStream(users, [{ header: '氏名', value: (u) => u.name }], 'sjis')
 * return c.body(toReadableStream(bytes), 200, { 'content-type': 'text/csv; charset=Shift_JIS' })
 */
export async function* csvStream<T>(
  rows: AsyncIterable<T> | Iterable<T>,
  columns: CsvColumn<T>[],
  encoding: CsvEncoding = 'utf8bom',
): AsyncIterable<Uint8Array> {
  let buf = columns.map((c) => quote(cellText(c.header))).join(',') + CRLF;
  if (encoding === 'utf8bom') yield BOM;
  for await (const row of rows) {
    buf += columns.map((c) => quote(cellText(c.value(row)))).join(',') + CRLF;
    if (buf.length >= CHUNK_CHARS) {
      yield encodeChunk(buf, encoding);
      buf = '';
    }
  }
  if (buf.length > 0) yield encodeChunk(buf, encoding);
}

/**
 * Wraps a byte iterable as a web ReadableStream (pull-based, so a slow client slows the
 * database reads instead of filling memory; cancelling stops the source).
 * @example return new Response(toReadableStream(csvStream(rows, cols)), { headers })
 */
export function toReadableStream(it: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = it[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await iterator.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      } catch (e) {
        controller.error(e);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/**
 * Guesses the encoding of an uploaded CSV: valid UTF-8 (with or without BOM) is 'utf8',
 * anything else is taken as Shift_JIS, which is what Excel saves as "CSV (カンマ区切り)".
 * @example parseCsv(buf, detectCsvEncoding(buf))
 */
export function detectCsvEncoding(input: Uint8Array): 'utf8' | 'sjis' {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(input);
    return 'utf8';
  } catch {
    return 'sjis';
  }
}

/**
 * Parses CSV text into rows of cells: strips a BOM, handles quoted cells with commas, `""`
 * and line breaks, and CRLF/LF/CR line ends. Blank lines are kept as `['']` so that
 * `rows[i]` is record `i + 1` — the row number Excel shows — for import error messages.
 * Throws CsvParseError on an unterminated quoted cell.
 * @example const [header, ...records] = parseCsv(buffer, 'sjis')
 */
export function parseCsv(input: Buffer | string, encoding: 'utf8' | 'sjis' = 'utf8'): string[][] {
  let text = typeof input === 'string' ? input : encoding === 'sjis' ? iconv.decode(input, 'cp932') : input.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  const n = text.length;
  // True once the current row has content to emit (so a final newline adds no empty row).
  let pending = false;
  while (i < n) {
    const ch = text[i]!;
    if (ch === '"' && cell === '') {
      const startRow = rows.length + 1;
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) throw new CsvParseError('unterminated quoted cell', startRow);
        cell += text.slice(i, q);
        if (text[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      pending = true;
      continue;
    }
    if (ch === ',') {
      row.push(cell);
      cell = '';
      pending = true;
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      pending = false;
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    // Unquoted text (a stray quote inside it is taken literally, as Excel does).
    let j = i + 1;
    while (j < n) {
      const c = text[j];
      if (c === ',' || c === '\r' || c === '\n') break;
      j++;
    }
    cell += text.slice(i, j);
    pending = true;
    i = j;
  }
  if (pending) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/**
 * A Content-Disposition header value for a download, with an ASCII fallback and the real
 * (e.g. Japanese) name as RFC 5987 `filename*`.
 * @example contentDisposition('監査ログ_2026-01.csv') // attachment; filename="download_2026-01.csv"; filename*=UTF-8''%E7%9B%A3…
 */
export function contentDisposition(filename: string): string {
  // Never let a name break the header or smuggle a path.
  const clean = filename.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim() || 'download';
  const dot = clean.lastIndexOf('.');
  const ext = dot > 0 ? clean.slice(dot).replace(/[^A-Za-z0-9.]/g, '') : '';
  let ascii = clean.replace(/[^\x20-\x7e]+/g, '_').replace(/["%;]/g, '_');
  // A name that was all Japanese would become "___.csv"; give it a readable stem instead.
  const stem = ascii.slice(0, ascii.length - ext.length);
  if (!/[A-Za-z0-9]/.test(stem)) ascii = `download${ext}`;
  else if (stem.startsWith('_')) ascii = `download${ascii.replace(/^_+/, '_')}`;
  const encoded = encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
