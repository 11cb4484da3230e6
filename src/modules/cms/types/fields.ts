import { z } from 'zod';

/**
 * The stored fields of the CMS's page types (news, event, spot, article/interview, video) and the
 * fields every page may carry (categories, tags, 担当課). A version's `fields` JSON holds one
 * object per type under the type's key (`fields.event`, `fields.spot`…) next to the shared keys,
 * so features never collide. Other features (automatic lists, the event calendar, the spot map)
 * read pages only through the readers below; the names here are kept stable.
 *
 * @example
 * const ev = eventFields(fields);              // null when the page has no valid event data
 * eventOccurrences(fields, '2026-12-01', '2026-12-31'); // [{ date: '2026-12-05', … }, …]
 * spotFields(fields)?.lat;                    // 35.6…
 * pageCategories(fields);                     // [3, 7] (category ids of the site)
 */

/** Page type keys this feature registers. */
export const PAGE_TYPES = {
  news: 'news',
  event: 'event',
  spot: 'spot',
  article: 'article',
  interview: 'interview',
  video: 'video',
} as const;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, '日付は 2026-04-01 の形で入力してください。')
  .refine((s) => isRealDate(s), '存在しない日付です。');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, '時刻は 09:30 の形で入力してください。');
const text = (max: number, label: string) => z.string().trim().max(max, `${label}は${max}文字以内で入力してください。`);

/** Japan's extent, with a margin (南鳥島 to 与那国島, 沖ノ鳥島 to 択捉島). */
export const JAPAN_BOUNDS = { latMin: 20, latMax: 46, lngMin: 122, lngMax: 154 } as const;
export const latitude = z
  .number({ error: '緯度を数値で入力してください。' })
  .min(JAPAN_BOUNDS.latMin, `緯度は日本の範囲（${JAPAN_BOUNDS.latMin}〜${JAPAN_BOUNDS.latMax}）で入力してください。`)
  .max(JAPAN_BOUNDS.latMax, `緯度は日本の範囲（${JAPAN_BOUNDS.latMin}〜${JAPAN_BOUNDS.latMax}）で入力してください。`);
export const longitude = z
  .number({ error: '経度を数値で入力してください。' })
  .min(JAPAN_BOUNDS.lngMin, `経度は日本の範囲（${JAPAN_BOUNDS.lngMin}〜${JAPAN_BOUNDS.lngMax}）で入力してください。`)
  .max(JAPAN_BOUNDS.lngMax, `経度は日本の範囲（${JAPAN_BOUNDS.lngMin}〜${JAPAN_BOUNDS.lngMax}）で入力してください。`);

// ---------------------------------------------------------------- shared by every page type

/** Category ids (of the page's site), tags (free keywords) and the 担当課 override. */
export const commonFieldsSchema = z.object({
  categories: z.array(z.number().int().positive()).max(20, '分野は20個までにしてください。').default([]),
  tags: z.array(text(40, 'タグ').min(1)).max(30, 'タグは30個までにしてください。').default([]),
  /** Organisation id of the department in charge when it differs from the node's organisation. */
  department: z.number().int().positive().nullable().default(null),
});
export type CommonFields = z.output<typeof commonFieldsSchema>;

// ---------------------------------------------------------------- news (お知らせ)

export const newsFieldsSchema = z.object({
  important: z.boolean().default(false),
  urgent: z.boolean().default(false),
  /** 掲載終了日の目安 (a hint shown to staff and readers; the real end is the publish schedule). */
  endHint: isoDate.nullable().default(null),
});
export type NewsFields = z.output<typeof newsFieldsSchema>;

// ---------------------------------------------------------------- event (イベント)

export const WEEKDAYS_JA = ['日', '月', '火', '水', '木', '金', '土'] as const;

/** When an event happens: one day, a span of days, weekly on chosen weekdays, or a list of days. */
export const eventDatesSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('single'), date: isoDate }),
  z.object({ kind: z.literal('range'), from: isoDate, to: isoDate }),
  z.object({
    kind: z.literal('weekly'),
    from: isoDate,
    to: isoDate,
    /** 0 = Sunday … 6 = Saturday. */
    weekdays: z.array(z.number().int().min(0).max(6)).min(1, '曜日を1つ以上選んでください。'),
  }),
  z.object({ kind: z.literal('list'), dates: z.array(isoDate).min(1, '日付を1つ以上入力してください。').max(100, '日付は100個までにしてください。') }),
]);
export type EventDates = z.output<typeof eventDatesSchema>;

export const eventFieldsSchema = z
  .object({
    dates: eventDatesSchema,
    startTime: hhmm.nullable().default(null),
    endTime: hhmm.nullable().default(null),
    venue: text(100, '会場名').default(''),
    address: text(200, '会場の住所').default(''),
    lat: latitude.nullable().default(null),
    lng: longitude.nullable().default(null),
    fee: text(200, '費用').default(''),
    target: text(200, '対象').default(''),
    application: text(1000, '申込み').default(''),
    contact: text(500, '問合せ先').default(''),
  })
  .superRefine((v, ctx) => {
    const d = v.dates;
    // zod runs this even when a date above failed; only real dates are compared.
    const real = d.kind === 'range' || d.kind === 'weekly' ? isRealDate(d.from) && isRealDate(d.to) : true;
    if (!real) return;
    if ((d.kind === 'range' || d.kind === 'weekly') && d.to < d.from) ctx.addIssue({ code: 'custom', path: ['dates', 'to'], message: '終了日は開始日と同じか後の日にしてください。' });
    if ((d.kind === 'range' || d.kind === 'weekly') && daysBetween(d.from, d.to) > 366 * 2) ctx.addIssue({ code: 'custom', path: ['dates', 'to'], message: '期間は2年以内にしてください。' });
    if (d.kind === 'weekly' && d.to >= d.from && expandDates(d, d.from, d.to).length === 0) ctx.addIssue({ code: 'custom', path: ['dates', 'weekdays'], message: '期間内に選んだ曜日がありません。' });
    if (v.startTime && v.endTime && v.endTime <= v.startTime) ctx.addIssue({ code: 'custom', path: ['endTime'], message: '終了時刻は開始時刻より後にしてください。' });
    if (v.endTime && !v.startTime) ctx.addIssue({ code: 'custom', path: ['startTime'], message: '終了時刻を入れるときは開始時刻も入力してください。' });
    if ((v.lat === null) !== (v.lng === null)) ctx.addIssue({ code: 'custom', path: [v.lat === null ? 'lat' : 'lng'], message: '地図の位置は緯度と経度の両方を入力してください。' });
  });
export type EventFields = z.output<typeof eventFieldsSchema>;

/** One day an event takes place. */
export interface EventOccurrence {
  /** 'YYYY-MM-DD' (Japan time). */
  date: string;
  /** 'HH:MM' or null for all day. */
  startTime: string | null;
  endTime: string | null;
}

// ---------------------------------------------------------------- spot (スポット)

export const weekdayHoursSchema = z
  .object({ weekday: z.number().int().min(0).max(6), open: hhmm, close: hhmm })
  .refine((h) => h.close > h.open, { message: '閉館時刻は開館時刻より後にしてください。', path: ['close'] });

export const spotFieldsSchema = z.object({
  address: text(200, '住所').min(1, '住所を入力してください。'),
  lat: latitude,
  lng: longitude,
  hours: text(500, '開館時間・営業時間').default(''),
  /** Structured hours by weekday (optional; absent weekdays are not stated). */
  weeklyHours: z.array(weekdayHoursSchema).max(14).default([]),
  closedDays: text(300, '休館日').default(''),
  phone: z
    .string()
    .trim()
    .regex(/^$|^[0-9０-９()（）\-‐－ ]{6,20}$/, '電話番号は数字とハイフンで入力してください（例: 043-123-4567）。')
    .default(''),
  url: z
    .string()
    .trim()
    .max(500)
    .regex(/^$|^https?:\/\/[^\s<>"]+$/, 'URLは http:// か https:// で始めてください。')
    .default(''),
  accessibility: text(1000, 'バリアフリー情報').default(''),
});
export type SpotFields = z.output<typeof spotFieldsSchema>;

// ---------------------------------------------------------------- article / interview (記事・インタビュー)

export const articleFieldsSchema = z.object({
  lead: text(500, 'リード文').default(''),
  author: text(100, '執筆者').default(''),
  interviewee: text(200, 'インタビューの相手').default(''),
  photoCredit: text(200, '写真提供').default(''),
});
export type ArticleFields = z.output<typeof articleFieldsSchema>;

// ---------------------------------------------------------------- video (動画)

export const videoFieldsSchema = z.object({
  /** The URL staff pasted (YouTube or Vimeo); the player address is derived with embedUrl. */
  url: z.string().trim().min(1, '動画のURLを入力してください。').max(500),
  /** Length in seconds, or null when not stated. */
  durationSeconds: z.number().int().min(1).max(24 * 3600).nullable().default(null),
  description: text(2000, '動画の説明').default(''),
  /** Transcript or caption text (accessibility: content of the audio for those who cannot hear it). */
  transcript: text(50_000, '文字起こし').default(''),
});
export type VideoFields = z.output<typeof videoFieldsSchema>;

// ---------------------------------------------------------------- readers (never throw)

function readPart<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | null {
  if (value === undefined || value === null) return null;
  const r = schema.safeParse(value);
  return r.success ? r.data : null;
}

/** Category ids a page is filed under (any page type). */
export function pageCategories(fields: Record<string, unknown>): number[] {
  const v = fields.categories;
  return Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x) && (x as number) > 0) : [];
}

/** Free keywords a page carries (any page type). */
export function pageTags(fields: Record<string, unknown>): string[] {
  const v = fields.tags;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : [];
}

/** The 担当課 chosen in the editor, when it overrides the node's organisation. */
export function pageDepartment(fields: Record<string, unknown>): number | null {
  const v = fields.department;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

export function newsFields(fields: Record<string, unknown>): NewsFields | null {
  return readPart(newsFieldsSchema, fields.news);
}

export function eventFields(fields: Record<string, unknown>): EventFields | null {
  return readPart(eventFieldsSchema, fields.event);
}

export function spotFields(fields: Record<string, unknown>): SpotFields | null {
  return readPart(spotFieldsSchema, fields.spot);
}

/** Article and interview pages share these fields. */
export function articleFields(fields: Record<string, unknown>): ArticleFields | null {
  return readPart(articleFieldsSchema, fields.article);
}

export function videoFields(fields: Record<string, unknown>): VideoFields | null {
  return readPart(videoFieldsSchema, fields.video);
}

/**
 * The days an event takes place between `from` and `to` (inclusive, 'YYYY-MM-DD', Japan dates),
 * in order. A span (range) gives one occurrence per day; weekly rules expand to each chosen weekday.
 *
 * @example
 * eventOccurrences({ event: { dates: { kind: 'weekly', from: '2026-12-28', to: '2027-01-08', weekdays: [1] } } }, '2026-01-01', '2027-12-31')
 * // [{ date: '2026-12-28', … }, { date: '2027-01-04', … }]
 */
export function eventOccurrences(fields: Record<string, unknown>, from: string, to: string): EventOccurrence[] {
  const ev = eventFields(fields);
  if (!ev) return [];
  return expandDates(ev.dates, from, to).map((date) => ({ date, startTime: ev.startTime, endTime: ev.endTime }));
}

/** First and last day of an event (for "upcoming" lists and sorting), or null. */
export function eventSpan(fields: Record<string, unknown>): { first: string; last: string } | null {
  const ev = eventFields(fields);
  if (!ev) return null;
  const d = ev.dates;
  if (d.kind === 'single') return { first: d.date, last: d.date };
  if (d.kind === 'range') return { first: d.from, last: d.to };
  const all = expandDates(d, '0000-01-01', '9999-12-31');
  const first = all[0];
  const last = all[all.length - 1];
  return first && last ? { first, last } : null;
}

/** Every date of a rule inside [from, to] ('YYYY-MM-DD' strings, inclusive), sorted, unique. */
export function expandDates(d: EventDates, from: string, to: string): string[] {
  if (d.kind === 'single') return d.date >= from && d.date <= to ? [d.date] : [];
  if (d.kind === 'list') return [...new Set(d.dates)].filter((x) => x >= from && x <= to).sort();
  const start = d.from > from ? d.from : from;
  const end = d.to < to ? d.to : to;
  const out: string[] = [];
  if (!isRealDate(start) || !isRealDate(end)) return out;
  for (let day = start; day <= end; day = addDays(day, 1)) {
    if (d.kind === 'range' || d.weekdays.includes(weekdayOf(day))) out.push(day);
  }
  return out;
}

// ---------------------------------------------------------------- calendar arithmetic on 'YYYY-MM-DD'

function toUtc(s: string): Date {
  return new Date(`${s}T00:00:00Z`);
}

function isRealDate(s: string): boolean {
  const d = toUtc(s);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** 0 = Sunday … 6 = Saturday, for a calendar date. */
export function weekdayOf(s: string): number {
  return toUtc(s).getUTCDay();
}

export function addDays(s: string, n: number): string {
  const d = toUtc(s);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function daysBetween(a: string, b: string): number {
  return Math.round((toUtc(b).getTime() - toUtc(a).getTime()) / 86_400_000);
}

export type { CategoryRecord, CategoryService } from './categories.js';
export { categoriesOf } from './categories.js';
