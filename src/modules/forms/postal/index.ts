import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AuditService } from '../../../core/audit/index.js';
import { detectCsvEncoding, parseCsv, CsvParseError } from '../../../core/csv/index.js';
import type { Db } from '../../../core/db/index.js';
import { InputError } from '../../../core/errors.js';
import { actorRef } from '../../../core/organizations/index.js';
import type { FormsMeta } from '../service.js';

/**
 * Address completion from postal codes without any outside service at runtime: Japan Post's
 * KEN_ALL (the UTF-8 "utf_ken_all.csv" or the classic Shift_JIS "KEN_ALL.CSV") is imported by
 * an administrator on the admin screen or with `machimado forms:postal-import FILE`.
 * A small demo file for the demo prefecture ships with the module.
 */

export interface PostalRecord {
  code: string;
  prefecture: string;
  city: string;
  town: string;
}

export const DEMO_POSTAL_FILE = fileURLToPath(new URL('./demo-ken-all.csv', import.meta.url));

/**
 * The town part as an address starts with it: notes such as 「以下に掲載がない場合」 or
 * 「（次のビルを除く）」 removed, 「○○一円」 (the whole area) left empty.
 */
export function cleanTown(town: string): string {
  let t = town.trim();
  if (t === '以下に掲載がない場合' || /の次に番地がくる場合$/.test(t) || /^.+一円$/.test(t)) return '';
  const paren = t.indexOf('（');
  if (paren >= 0) t = t.slice(0, paren);
  return t.trim();
}

/**
 * Reads KEN_ALL rows: joins a town name that Japan Post split over several lines (an opening
 * 「（」 without its 「）」), cleans the town, drops duplicates of the same code and town.
 * Throws InputError naming the first bad line.
 */
export function parseKenAll(input: Buffer | string): PostalRecord[] {
  let rows: string[][];
  try {
    rows = typeof input === 'string' ? parseCsv(input) : parseCsv(input, detectCsvEncoding(input));
  } catch (e) {
    if (e instanceof CsvParseError) throw new InputError({ file: `CSVファイルの${e.row}行目の形式が正しくありません。` });
    throw e;
  }
  const out: PostalRecord[] = [];
  const seen = new Set<string>();
  let pending: { code: string; prefecture: string; city: string; town: string } | null = null;
  const emit = (r: { code: string; prefecture: string; city: string; town: string }) => {
    const town = cleanTown(r.town);
    const key = `${r.code}|${r.city}|${town}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ code: r.code, prefecture: r.prefecture, city: r.city, town });
  };
  for (const [i, row] of rows.entries()) {
    if (row.length === 1 && row[0] === '') continue;
    const code = (row[2] ?? '').trim();
    if (row.length < 9 || !/^\d{7}$/.test(code)) throw new InputError({ file: `${i + 1}行目が郵便番号データ（KEN_ALL）の形式ではありません。日本郵便の「住所の郵便番号（CSV形式）」を選んでください。` });
    const rec = { code, prefecture: row[6]!.trim(), city: row[7]!.trim(), town: row[8]!.trim() };
    if (pending && pending.code === code) {
      pending.town += rec.town;
      if (pending.town.includes('）')) {
        emit(pending);
        pending = null;
      }
      continue;
    }
    if (pending) emit(pending);
    pending = null;
    if (rec.town.includes('（') && !rec.town.includes('）')) pending = rec;
    else emit(rec);
  }
  if (pending) emit(pending);
  return out;
}

const BATCH = 500;

/** Looks postal codes up, and replaces the whole table from a KEN_ALL file (one transaction). */
export class PostalService {
  constructor(private readonly deps: { db: Db; audit: AuditService }) {}

  /**
   * The address of a postal code: prefecture, city and, when the code names one town, the town.
   * @example await postal.lookup('100-0001') // { prefecture: '東京都', city: '千代田区', town: '千代田' }
   */
  async lookup(code: string): Promise<{ prefecture: string; city: string; town: string } | null> {
    const digits = code.replace(/-/g, '');
    if (!/^\d{7}$/.test(digits)) return null;
    const rows = await this.deps.db.selectFrom('postal_codes').select(['prefecture', 'city', 'town']).where('code', '=', digits).limit(50).execute();
    const first = rows[0];
    if (!first) return null;
    const sameCity = rows.every((r) => r.prefecture === first.prefecture && r.city === first.city);
    const towns = new Set(rows.map((r) => r.town));
    return { prefecture: first.prefecture, city: sameCity ? first.city : '', town: sameCity && towns.size === 1 ? first.town : '' };
  }

  /** How many postal codes are loaded. */
  async count(): Promise<number> {
    return Number((await this.deps.db.selectFrom('postal_codes').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  }

  /**
   * Replaces the postal code table with the file's rows (audited). Nothing changes if the file is
   * not KEN_ALL.
   */
  async importKenAll(input: Buffer | string, meta: FormsMeta, source = 'KEN_ALL'): Promise<number> {
    const records = parseKenAll(input);
    if (records.length === 0) throw new InputError({ file: '郵便番号が1件もありません。' });
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('postal_codes').execute();
      for (let i = 0; i < records.length; i += BATCH) {
        await tx.insertInto('postal_codes').values(records.slice(i, i + BATCH)).execute();
      }
      await this.deps.audit.record(
        { actor: meta.actor ? actorRef(meta.actor) : null, ip: meta.ip ?? null, userAgent: meta.userAgent ?? null, action: 'forms.postal.import', targetType: 'postal_codes', summary: `郵便番号データを取り込みました（${records.length}件、${source.slice(0, 100)}）`, details: { count: records.length } },
        tx,
      );
    });
    return records.length;
  }

  /** Loads the shipped demo subset when the table is empty (demo content). */
  async seedDemo(meta: FormsMeta): Promise<void> {
    if ((await this.count()) > 0) return;
    await this.importKenAll(readFileSync(DEMO_POSTAL_FILE), meta, 'デモ用データ（みどり県）');
  }
}
