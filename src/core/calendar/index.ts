import holidayJp from '@holiday-jp/holiday_jp';
import type { Db } from '../db/index.js';
import { isRowId } from '../db/index.js';

/** Opening hours for one weekday (0 = Sunday … 6 = Saturday), 'HH:MM' in JST. */
export interface OfficeHours {
  weekday: number;
  opens: string;
  closes: string;
}

export interface ClosedDay {
  id: number;
  organizationId: number | null;
  /** YYYY-MM-DD (JST). */
  day: string;
  reason: string;
}

/** Invalid calendar input; `fields` maps each bad field to a Japanese message for the form. */
export class CalendarValidationError extends Error {
  constructor(public readonly fields: Record<string, string>) {
    super(`入力内容に誤りがあります / invalid calendar input: ${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    this.name = 'CalendarValidationError';
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;
// Japan has had no daylight saving time since 1951, so JST is always UTC+9 whatever the host TZ.
const JST_OFFSET_MS = 9 * 60 * 60 * 1000;
const SEARCH_LIMIT_DAYS = 366 * 3;

/** Mon–Fri 08:30–17:15, the usual hours of a Japanese municipal office. */
export const DEFAULT_OFFICE_HOURS: readonly OfficeHours[] = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, opens: '08:30', closes: '17:15' }));

const holidays = holidayJp.holidays as unknown as Record<string, { name: string } | undefined>;

/** The JST calendar date of an instant, as YYYY-MM-DD. */
export function jstDateKey(instant: Date): string {
  return new Date(instant.getTime() + JST_OFFSET_MS).toISOString().slice(0, 10);
}

/** Midnight JST of the JST date containing `instant`, as epoch ms. */
function jstMidnight(instant: Date | number): number {
  const t = typeof instant === 'number' ? instant : instant.getTime();
  return Math.floor((t + JST_OFFSET_MS) / DAY_MS) * DAY_MS - JST_OFFSET_MS;
}

function jstWeekday(instant: Date | number): number {
  const t = typeof instant === 'number' ? instant : instant.getTime();
  return new Date(t + JST_OFFSET_MS).getUTCDay();
}

const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function isRealDay(day: string): boolean {
  const m = DAY_RE.exec(day);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === day;
}

function validOrgId(v: unknown): boolean {
  return v === null || (typeof v === 'number' && Number.isInteger(v) && v > 0);
}

interface Interval {
  opens: number;
  closes: number;
}

/**
 * The business calendar behind every "within N business days" rule: Japanese public holidays,
 * the 29 Dec – 3 Jan closure, office hours and extra closed days (global or per organization).
 * All reasoning is on the JST wall clock regardless of the host's TZ.
 * @example
 * const cal = new BusinessCalendar({ db }); await cal.load()
 * const due = cal.addBusinessDays(new Date(), 14, orgId)
 */
export class BusinessCalendar {
  private readonly db: Db;
  private readonly ttl: number;
  private hours = new Map<number | null, OfficeHours[]>();
  private closed = new Map<number | null, Set<string>>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;

  constructor(opts: { db: Db; cacheTtlMs?: number }) {
    this.db = opts.db;
    this.ttl = opts.cacheTtlMs ?? 60_000;
  }

  /**
   * Loads office hours and closed days into memory. Must run once before the synchronous methods.
   * @example await calendar.load()
   */
  load(): Promise<void> {
    if (!this.loading) {
      this.loading = this.readAll().finally(() => {
        this.loading = null;
      });
    }
    return this.loading;
  }

  /**
   * Reloads when the cache is older than the TTL (other nodes may have changed the tables).
   * @example await calendar.refresh()
   */
  async refresh(): Promise<void> {
    if (Date.now() - this.loadedAt >= this.ttl) await this.load();
  }

  private async readAll(): Promise<void> {
    const [hourRows, closedRows] = await Promise.all([
      this.db.selectFrom('office_hours').select(['organization_id', 'weekday', 'opens', 'closes']).orderBy('weekday').orderBy('opens').execute(),
      this.db.selectFrom('closed_days').select(['organization_id', 'day']).execute(),
    ]);
    const hours = new Map<number | null, OfficeHours[]>();
    for (const r of hourRows) {
      const key = r.organization_id ?? null;
      const list = hours.get(key) ?? [];
      list.push({ weekday: Number(r.weekday), opens: r.opens, closes: r.closes });
      hours.set(key, list);
    }
    const closed = new Map<number | null, Set<string>>();
    for (const r of closedRows) {
      const key = r.organization_id ?? null;
      const set = closed.get(key) ?? new Set<string>();
      set.add(r.day);
      closed.set(key, set);
    }
    this.hours = hours;
    this.closed = closed;
    this.loadedAt = Date.now();
  }

  /** Synchronous readers use what is cached and start a background reload once it is stale. */
  private cached(): void {
    if (this.loadedAt === -Infinity) throw new Error('BusinessCalendar.load() must be awaited before use');
    if (Date.now() - this.loadedAt >= this.ttl && !this.loading) {
      this.load().catch(() => {
        // Keep serving the previous data; the next stale read retries.
      });
    }
  }

  /**
   * The Japanese public holiday on the JST date of `date`, or null.
   * @example calendar.holiday(new Date('2027-01-01T00:00:00+09:00')) // '元日'
   */
  holiday(date: Date): string | null {
    return holidays[jstDateKey(date)]?.name ?? null;
  }

  /**
   * True from 29 December to 3 January (JST), when public offices are closed by law.
   * @example calendar.isYearEndClosure(new Date('2026-12-29T09:00:00+09:00')) // true
   */
  isYearEndClosure(date: Date): boolean {
    const key = jstDateKey(date);
    const md = key.slice(5);
    return md >= '12-29' || md <= '01-03';
  }

  /** True when the organization (null: the installation default) has hours of its own. */
  hasOwnOfficeHours(organizationId: number | null): boolean {
    this.cached();
    return Boolean(this.hours.get(organizationId)?.length);
  }

  /**
   * Office hours in force for an organization: its own, else the defaults, else Mon–Fri 08:30–17:15.
   * @example calendar.officeHours(orgId).filter((h) => h.weekday === 6)
   */
  officeHours(organizationId: number | null = null): OfficeHours[] {
    this.cached();
    const own = organizationId !== null ? this.hours.get(organizationId) : undefined;
    const list = own?.length ? own : this.hours.get(null)?.length ? this.hours.get(null)! : DEFAULT_OFFICE_HOURS;
    return list.map((h) => ({ ...h }));
  }

  private intervalsOn(weekday: number, organizationId: number | null): Interval[] {
    return this.officeHours(organizationId)
      .filter((h) => h.weekday === weekday)
      .map((h) => ({ opens: minutesOf(h.opens), closes: minutesOf(h.closes) }))
      .sort((a, b) => a.opens - b.opens);
  }

  private isClosedDay(key: string, organizationId: number | null): boolean {
    if (this.closed.get(null)?.has(key)) return true;
    return organizationId !== null && Boolean(this.closed.get(organizationId)?.has(key));
  }

  /**
   * True when the JST date of `date` is a working day for the organization: it has office hours
   * on that weekday and is not a public holiday, the year-end closure or an extra closed day.
   * @example calendar.isBusinessDay(new Date('2026-07-20T12:00:00+09:00')) // false (海の日)
   */
  isBusinessDay(date: Date, organizationId: number | null = null): boolean {
    this.cached();
    const key = jstDateKey(date);
    if (holidays[key] || this.isYearEndClosure(date) || this.isClosedDay(key, organizationId)) return false;
    return this.intervalsOn(jstWeekday(date), organizationId).length > 0;
  }

  /**
   * True when the office is open at that instant (opening time inclusive, closing time exclusive).
   * @example calendar.isOpenAt(new Date('2026-04-01T08:30:00+09:00')) // true
   */
  isOpenAt(instant: Date, organizationId: number | null = null): boolean {
    if (!this.isBusinessDay(instant, organizationId)) return false;
    const minute = (instant.getTime() - jstMidnight(instant)) / MINUTE_MS;
    return this.intervalsOn(jstWeekday(instant), organizationId).some((i) => minute >= i.opens && minute < i.closes);
  }

  /** Open intervals (epoch ms) from the JST day of `from` onwards, in order. */
  private *openIntervals(from: Date, organizationId: number | null): Generator<{ start: number; end: number }> {
    const first = jstMidnight(from);
    for (let d = 0; d < SEARCH_LIMIT_DAYS; d++) {
      const midnight = first + d * DAY_MS;
      if (!this.isBusinessDay(new Date(midnight), organizationId)) continue;
      for (const i of this.intervalsOn(jstWeekday(midnight), organizationId)) {
        yield { start: midnight + i.opens * MINUTE_MS, end: midnight + i.closes * MINUTE_MS };
      }
    }
    throw new Error(`no office opening within ${SEARCH_LIMIT_DAYS} days of ${from.toISOString()}`);
  }

  /**
   * The instant itself when the office is open, else the next time it opens.
   * @example calendar.nextOpening(new Date('2026-04-03T18:00:00+09:00')) // Mon 2026-04-06 08:30 JST
   */
  nextOpening(instant: Date, organizationId: number | null = null): Date {
    const t = instant.getTime();
    for (const i of this.openIntervals(instant, organizationId)) {
      if (t < i.start) return new Date(i.start);
      if (t < i.end) return new Date(t);
    }
    throw new Error('unreachable');
  }

  /**
   * The same JST time of day on the `days`-th business day after (or, for negative days, before)
   * the JST date of `date`. Zero returns `date` unchanged.
   * @example calendar.addBusinessDays(new Date('2026-12-25T10:00:00+09:00'), 3) // 2027-01-05 10:00 JST
   */
  addBusinessDays(date: Date, days: number, organizationId: number | null = null): Date {
    if (!Number.isInteger(days)) throw new RangeError(`days must be an integer (got ${days})`);
    const step = days < 0 ? -1 : 1;
    let remaining = Math.abs(days);
    let t = date.getTime();
    for (let guard = 0; remaining > 0; guard++) {
      if (guard > SEARCH_LIMIT_DAYS + Math.abs(days) * 7) throw new Error('no business days found; check the calendar settings');
      t += step * DAY_MS;
      if (this.isBusinessDay(new Date(t), organizationId)) remaining--;
    }
    return new Date(t);
  }

  /**
   * Adds minutes of open office time only, e.g. "respond within 2 office hours".
   * Ends at a closing time when the minutes run out exactly then.
   * @example calendar.addOfficeMinutes(new Date('2026-04-03T16:45:00+09:00'), 120) // Mon 10:00 JST
   */
  addOfficeMinutes(instant: Date, minutes: number, organizationId: number | null = null): Date {
    if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError(`minutes must be >= 0 (got ${minutes})`);
    if (minutes === 0) return new Date(instant.getTime());
    let remaining = minutes * MINUTE_MS;
    const t = instant.getTime();
    for (const i of this.openIntervals(instant, organizationId)) {
      const start = Math.max(t, i.start);
      if (start >= i.end) continue;
      if (remaining <= i.end - start) return new Date(start + remaining);
      remaining -= i.end - start;
    }
    throw new Error('unreachable');
  }

  /**
   * Replaces an organization's office hours (null: the defaults). An empty list removes them,
   * so the organization falls back to the defaults (and the defaults to Mon–Fri 08:30–17:15).
   * @example await calendar.setOfficeHours(orgId, [{ weekday: 6, opens: '09:00', closes: '12:00' }, …])
   */
  async setOfficeHours(organizationId: number | null, hours: OfficeHours[]): Promise<void> {
    const fields: Record<string, string> = {};
    if (!validOrgId(organizationId)) fields.organizationId = '組織の指定が正しくありません';
    hours.forEach((h, i) => {
      if (!Number.isInteger(h.weekday) || h.weekday < 0 || h.weekday > 6) fields[`hours.${i}.weekday`] = '曜日は 0（日）〜6（土）で指定してください';
      const opensOk = typeof h.opens === 'string' && TIME_RE.test(h.opens) && h.opens !== '24:00';
      const closesOk = typeof h.closes === 'string' && TIME_RE.test(h.closes);
      if (!opensOk) fields[`hours.${i}.opens`] = '開始時刻は HH:MM の形式（例 08:30）で入力してください';
      if (!closesOk) fields[`hours.${i}.closes`] = '終了時刻は HH:MM の形式（例 17:15）で入力してください';
      if (opensOk && closesOk && minutesOf(h.opens) >= minutesOf(h.closes)) fields[`hours.${i}.closes`] = '終了時刻は開始時刻より後にしてください';
    });
    if (Object.keys(fields).length === 0) {
      const sorted = hours.map((h, i) => ({ ...h, i })).sort((a, b) => a.weekday - b.weekday || minutesOf(a.opens) - minutesOf(b.opens));
      for (let k = 1; k < sorted.length; k++) {
        const prev = sorted[k - 1]!;
        const cur = sorted[k]!;
        if (prev.weekday === cur.weekday && minutesOf(cur.opens) < minutesOf(prev.closes)) {
          fields[`hours.${cur.i}.opens`] = '同じ曜日の時間帯が重なっています';
        }
      }
    }
    if (Object.keys(fields).length) throw new CalendarValidationError(fields);
    await this.db.transaction().execute(async (tx) => {
      let del = tx.deleteFrom('office_hours');
      del = organizationId === null ? del.where('organization_id', 'is', null) : del.where('organization_id', '=', organizationId);
      await del.execute();
      if (hours.length) {
        await tx
          .insertInto('office_hours')
          .values(hours.map((h) => ({ organization_id: organizationId, weekday: h.weekday, opens: h.opens, closes: h.closes })))
          .execute();
      }
    });
    await this.load();
  }

  /**
   * Adds an extra closed day (e.g. 庁舎停電日) for everyone (organizationId null) or one organization.
   * @example const id = await calendar.addClosedDay({ organizationId: null, day: '2026-08-14', reason: '庁舎点検' })
   */
  async addClosedDay(input: { organizationId: number | null; day: string; reason: string }): Promise<number> {
    const fields: Record<string, string> = {};
    const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
    if (!validOrgId(input.organizationId)) fields.organizationId = '組織の指定が正しくありません';
    if (typeof input.day !== 'string' || !isRealDay(input.day)) fields.day = '日付は YYYY-MM-DD の形式（例 2026-08-14）で、実在する日を入力してください';
    if (!reason) fields.reason = '理由を入力してください';
    else if (reason.length > 200) fields.reason = '理由は200文字以内で入力してください';
    if (Object.keys(fields).length) throw new CalendarValidationError(fields);
    let dup = this.db.selectFrom('closed_days').select('id').where('day', '=', input.day);
    dup = input.organizationId === null ? dup.where('organization_id', 'is', null) : dup.where('organization_id', '=', input.organizationId);
    if (await dup.executeTakeFirst()) throw new CalendarValidationError({ day: 'この日はすでに休業日として登録されています' });
    const row = await this.db
      .insertInto('closed_days')
      .values({ organization_id: input.organizationId, day: input.day, reason })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.load();
    return Number(row.id);
  }

  /**
   * Removes an extra closed day by id (no error when it is already gone).
   * @example await calendar.removeClosedDay(id)
   */
  async removeClosedDay(id: number): Promise<void> {
    if (!isRowId(id)) return;
    await this.db.deleteFrom('closed_days').where('id', '=', id).execute();
    await this.load();
  }

  /**
   * Extra closed days in date order. organizationId: undefined = all, null = global only, n = that organization's own.
   * @example await calendar.listClosedDays({ organizationId: null, year: 2026 })
   */
  async listClosedDays(filter: { organizationId?: number | null; year?: number } = {}): Promise<ClosedDay[]> {
    await this.refresh();
    let q = this.db.selectFrom('closed_days').select(['id', 'organization_id', 'day', 'reason']);
    if (filter.organizationId === null) q = q.where('organization_id', 'is', null);
    else if (filter.organizationId !== undefined) q = q.where('organization_id', '=', filter.organizationId);
    if (filter.year !== undefined) {
      const y = String(filter.year).padStart(4, '0');
      q = q.where('day', '>=', `${y}-01-01`).where('day', '<=', `${y}-12-31`);
    }
    const rows = await q.orderBy('day').orderBy('id').execute();
    return rows.map((r) => ({ id: Number(r.id), organizationId: r.organization_id ?? null, day: r.day, reason: r.reason }));
  }
}
