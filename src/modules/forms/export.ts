import { PassThrough } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import ExcelJS from 'exceljs';
import { csvStream, type CsvColumn, type CsvEncoding } from '../../core/csv/index.js';
import { parseJson } from '../../core/db/index.js';
import type { Question } from './questions.js';
import { RESPONSE_STATUS_LABELS, type ExportRow } from './responses.js';

/**
 * Exports of responses (C-3-15) that open cleanly in Excel: CSV in UTF-8 with BOM or Shift_JIS
 * (core/csv: formula cells neutralised, CP932 look-alikes), and XLSX written as a stream. Both
 * read the responses in batches, so 10,000 responses take no more memory than 500.
 */

type Cell = string | number | Date | null;

interface Column {
  header: string;
  value(row: ExportRow): Cell;
}

/** One column per question (retired ones marked), then the reception data and the memo. */
export function exportColumns(questions: Question[]): Column[] {
  const cols: Column[] = [
    { header: '受付番号', value: (r) => r.receiptNumber },
    { header: '受付日時', value: (r) => new Date(r.submittedAt) },
    { header: '状態', value: (r) => RESPONSE_STATUS_LABELS[r.status] },
  ];
  for (const q of questions) {
    if (q.type === 'heading') continue;
    const header = q.deletedAt ? `${q.label}（削除済みの質問）` : q.label;
    if (q.type === 'number') {
      cols.push({ header, value: (r) => numberOf(r.answers.get(q.id)) });
    } else if (q.type === 'date') {
      // The ISO date, which Excel reads as a date; the era form is on the screens.
      cols.push({ header, value: (r) => (r.answers.has(q.id) ? String(parseJson<{ date?: string }>(r.answers.get(q.id)!.detail, {}).date ?? r.answers.get(q.id)!.value) : '') });
    } else {
      cols.push({ header, value: (r) => r.answers.get(q.id)?.value ?? '' });
    }
  }
  cols.push({ header: '対応メモ', value: (r) => r.memo });
  return cols;
}

/**
 * Bytes of sheet XML waiting for the compressor: ExcelJS's StreamBuf pipes into archiver's
 * (readable-stream) PassThrough; both are internals, so looked up defensively (0 if not found).
 */
function compressorBacklog(sheet: unknown): number {
  const pipes = (sheet as { stream?: { pipes?: unknown } }).stream?.pipes;
  if (!Array.isArray(pipes)) return 0;
  let total = 0;
  for (const w of pipes as Array<{ _writableState?: { length?: number }; _readableState?: { length?: number } }>) {
    total += (w._writableState?.length ?? 0) + (w._readableState?.length ?? 0);
  }
  return total;
}

function drainedOrClosed(w: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
  });
}

function numberOf(a: { value: string; detail: string } | undefined): number | string {
  if (!a) return '';
  const n = parseJson<{ number?: number }>(a.detail, {}).number;
  return typeof n === 'number' && Number.isFinite(n) ? n : a.value;
}

/**
 * The responses as CSV bytes.
 * @example return new Response(toReadableStream(responsesCsv(rows, questions, 'sjis')))
 */
export function responsesCsv(rows: AsyncIterable<ExportRow>, questions: Question[], encoding: CsvEncoding): AsyncIterable<Uint8Array> {
  const columns: CsvColumn<ExportRow>[] = exportColumns(questions).map((c) => ({ header: c.header, value: (r) => c.value(r) }));
  return csvStream(rows, columns, encoding);
}

/**
 * The responses as an XLSX workbook, streamed: ExcelJS's WorkbookWriter commits each row as it
 * is written. Strings stay text cells (never formulas), so an answer starting with 「=」 cannot run.
 */
export async function* responsesXlsx(rows: AsyncIterable<ExportRow>, questions: Question[], sheetName = '回答'): AsyncIterable<Uint8Array> {
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet(sheetName.replace(/[\\/?*[\]:]/g, '_').slice(0, 31) || '回答', { views: [{ state: 'frozen', ySplit: 1 }] });
  const cols = exportColumns(questions);
  sheet.columns = cols.map((c, i) => ({ header: c.header, key: `c${i}`, width: i === 1 ? 20 : Math.min(40, Math.max(12, Array.from(c.header).length * 2 + 2)) }));
  sheet.getRow(1).font = { bold: true };
  sheet.getRow(1).commit();
  const dateCol = sheet.getColumn(2);
  dateCol.numFmt = 'yyyy-mm-dd hh:mm:ss';

  // The writer runs alongside the reader below; a slow download pauses it at the stream's high-water mark.
  let failure: unknown = null;
  let written = 0;
  const writing = (async () => {
    try {
      for await (const r of rows) {
        const values = cols.map((c) => {
          const v = c.value(r);
          // Excel has no time zones: the reception time is written as Japan time.
          return v instanceof Date ? new Date(v.getTime() + 9 * 3600_000) : v;
        });
        sheet.addRow(values).commit();
        if (out.destroyed) return;
        // The zip compressor runs on the event loop's later turns, and ExcelJS hands it the sheet
        // without waiting: give it turns, and let it (and the download) catch up, so what waits
        // in memory stays small whatever the row count.
        if (++written % 50 === 0) {
          await setImmediate();
          for (;;) {
            if (out.destroyed) return;
            // A slow download: sleep until it takes more (no spinning).
            if (out.writableNeedDrain) await drainedOrClosed(out);
            // Otherwise the compressor is working; give it turns until its input is small again.
            else if (compressorBacklog(sheet) > 256 * 1024) await setImmediate();
            else break;
          }
        }
      }
      sheet.commit();
      await workbook.commit();
    } catch (e) {
      failure = e;
      out.destroy(e as Error);
    }
  })();
  try {
    for await (const chunk of out) yield chunk as Uint8Array;
  } finally {
    if (!out.destroyed) out.destroy();
    await writing;
  }
  if (failure) throw failure;
}
