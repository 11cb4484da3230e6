/**
 * What an administrator sets on a list: the columns an item shows, the date format, the sort
 * rule and the source, with the Japanese labels the admin screen and the public list share.
 */
import { z } from 'zod';
import type { Selectable } from 'kysely';
import { parseJson } from '../../../core/db/index.js';
import type { CmsListTable } from './schema.js';

/** The columns an item can show (C-3-3), in their default order. */
export const COLUMNS = {
  date: '掲載日',
  marks: '重要・緊急',
  title: 'タイトル',
  category: '分野',
  department: '担当課',
  summary: '概要',
  thumbnail: '画像',
  pageType: 'ページの種類',
  eventDate: '開催日',
} as const;
export type ColumnKey = keyof typeof COLUMNS;
export const COLUMN_KEYS = Object.keys(COLUMNS) as ColumnKey[];
export const DEFAULT_COLUMNS: ColumnKey[] = ['date', 'marks', 'title', 'category'];

export const DATE_FORMATS = { ja: '2026年4月1日', dot: '2026.04.01', wareki: '令和8年4月1日' } as const;
export type DateFormat = keyof typeof DATE_FORMATS;

export const SORTS = {
  newest: '新しい順（公開日）',
  oldest: '古い順（公開日）',
  event: '開催日順（これから開催のイベント）',
  title: 'タイトル順',
  manual: '手動で並べた順',
} as const;
export type SortRule = keyof typeof SORTS;

export const MARK_FILTERS = { all: 'すべて', marked: '重要または緊急のもの', important: '重要のもの', urgent: '緊急のもの' } as const;
export type MarkFilter = keyof typeof MARK_FILTERS;

/** A list as the engine and the views use it. */
export interface ListConfig {
  id: number;
  siteId: number;
  hostNodeId: number;
  heading: string;
  position: number;
  sourcePath: string;
  pageTypes: string[];
  categories: number[];
  marks: MarkFilter;
  limit: number;
  showMore: boolean;
  columns: ColumnKey[];
  dateFormat: DateFormat;
  sort: SortRule;
  urgentFirst: boolean;
}

const oneOf = <T extends string>(value: string, keys: readonly T[], fallback: T): T => (keys.includes(value as T) ? (value as T) : fallback);

export function toListConfig(r: Selectable<CmsListTable>): ListConfig {
  const columns = parseJson<unknown[]>(r.columns, []).filter((c): c is ColumnKey => typeof c === 'string' && c in COLUMNS);
  return {
    id: r.id,
    siteId: r.site_id,
    hostNodeId: r.host_node_id,
    heading: r.heading,
    position: r.position,
    sourcePath: r.source_path,
    pageTypes: parseJson<unknown[]>(r.page_types, []).filter((t): t is string => typeof t === 'string'),
    categories: parseJson<unknown[]>(r.categories, []).filter((c): c is number => Number.isInteger(c)),
    marks: oneOf(r.marks, Object.keys(MARK_FILTERS) as MarkFilter[], 'all'),
    limit: r.item_limit,
    showMore: r.show_more === 1,
    columns: columns.length ? columns : DEFAULT_COLUMNS,
    dateFormat: oneOf(r.date_format, Object.keys(DATE_FORMATS) as DateFormat[], 'ja'),
    sort: oneOf(r.sort, Object.keys(SORTS) as SortRule[], 'newest'),
    urgentFirst: r.urgent_first === 1,
  };
}

const folderPath = z
  .string()
  .trim()
  .regex(/^\/([a-z0-9][a-z0-9-]*\/)*$/, 'フォルダのURLを「/」や「/kurashi/」のように、/ で始めて / で終わる形で入力してください。');

/** The settings form, as the admin screen posts it (zod, Japanese messages per field). */
export const listSettingsInput = z.object({
  heading: z.string().trim().min(1, '見出しを入力してください。').max(100, '見出しは100文字以内で入力してください。'),
  hostPath: z
    .string()
    .trim()
    .min(1, '一覧を表示するページのURLを入力してください。')
    .regex(/^\/([a-z0-9][a-z0-9-]*\/?)*$/, 'ページのURLを「/」や「/kurashi/gomi」のように、/ で始まる形で入力してください。'),
  position: z.coerce.number({ error: '表示順は数字で入力してください。' }).int('表示順は整数で入力してください。').min(0, '表示順は0以上で入力してください。').max(999, '表示順は999以下で入力してください。').default(0),
  sourcePath: folderPath.default('/'),
  pageTypes: z.array(z.string().regex(/^[a-z_]{1,30}$/, 'ページの種類が正しくありません。')).max(20).default([]),
  categories: z.array(z.coerce.number().int().positive('分野が正しくありません。')).max(50).default([]),
  marks: z.enum(Object.keys(MARK_FILTERS) as [MarkFilter, ...MarkFilter[]], { error: '重要・緊急の絞り込みを選んでください。' }).default('all'),
  limit: z.coerce.number({ error: '表示件数は数字で入力してください。' }).int('表示件数は整数で入力してください。').min(1, '表示件数は1から100の間で入力してください。').max(100, '表示件数は1から100の間で入力してください。'),
  showMore: z.boolean().default(false),
  columns: z
    .array(z.enum(COLUMN_KEYS as [ColumnKey, ...ColumnKey[]]))
    .min(1, '表示する項目を選んでください。')
    .refine((c) => c.includes('title'), 'タイトルは必ず表示してください（項目のリンクになります）。'),
  dateFormat: z.enum(Object.keys(DATE_FORMATS) as [DateFormat, ...DateFormat[]], { error: '日付の形式を選んでください。' }).default('ja'),
  sort: z.enum(Object.keys(SORTS) as [SortRule, ...SortRule[]], { error: '並び順を選んでください。' }).default('newest'),
  urgentFirst: z.boolean().default(false),
});
export type ListSettings = z.output<typeof listSettingsInput>;
export type ListSettingsInput = z.input<typeof listSettingsInput>;

// ---------------------------------------------------------------- dates

const WAREKI = new Intl.DateTimeFormat('ja-JP-u-ca-japanese', { era: 'long', year: 'numeric', month: 'long', day: 'numeric', timeZone: 'Asia/Tokyo' });

/** The Japan date of an instant or of a 'YYYY-MM-DD' day, as 'YYYY-MM-DD'. */
export function jstDay(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  return new Date(new Date(value).getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

/**
 * A date in the list's format.
 * @example formatListDate('2026-04-01', 'wareki') // '令和8年4月1日'
 */
export function formatListDate(value: string, format: DateFormat): string {
  const day = jstDay(value);
  const [y, m, d] = day.split('-');
  if (format === 'dot') return `${y}.${m}.${d}`;
  if (format === 'wareki') return WAREKI.format(new Date(`${day}T12:00:00+09:00`));
  return `${Number(y)}年${Number(m)}月${Number(d)}日`;
}
