import type { z } from 'zod';
import { list, str, type FormValues } from '../../../core/http/validate.js';
import type { FieldErrors } from '../../../core/ui/forms.js';
import { embedUrl } from '../content/index.js';
import {
  articleFieldsSchema,
  eventFieldsSchema,
  newsFieldsSchema,
  spotFieldsSchema,
  videoFieldsSchema,
  WEEKDAYS_JA,
  type ArticleFields,
  type EventFields,
  type NewsFields,
  type SpotFields,
  type VideoFields,
} from './fields.js';

/**
 * The page types' editor inputs: posted form values → stored fields (with errors keyed by input
 * name, in Japanese), and stored fields → form values. Pure; the editor parts in index.tsx use them.
 */

type Read<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/** Half-width digits and punctuation, so 「３５．６」 and 「２０２６／４／５」 read as typed. */
function half(s: string): string {
  return s.normalize('NFKC').trim();
}

/** 'YYYY-MM-DD' from 2026-04-05, 2026/4/5 or 2026年4月5日; the text as typed otherwise (the schema then refuses it). */
export function normalizeDate(raw: string): string {
  const s = half(raw);
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(s);
  return m ? `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}` : s;
}

/** 'HH:MM' from 9:30, 09:30 or 9時30分; '' for nothing. */
export function normalizeTime(raw: string): string {
  const s = half(raw);
  const m = /^(\d{1,2})\s*[:時]\s*(\d{2})?\s*分?$/.exec(s);
  return m ? `${m[1]!.padStart(2, '0')}:${m[2] ?? '00'}` : s;
}

/** A number from the form, null for blank, NaN for anything else (the schema refuses NaN). */
function num(raw: string): number | null {
  const s = half(raw);
  if (!s) return null;
  return /^[-+]?\d+(\.\d+)?$/.test(s) ? Number(s) : Number.NaN;
}

function toErrors(error: z.ZodError, names: (path: PropertyKey[]) => string): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const name = names(issue.path);
    if (!(name in out)) out[name] = issue.message;
  }
  return out;
}

function run<S extends z.ZodType>(schema: S, input: unknown, names: (path: PropertyKey[]) => string): Read<z.output<S>> {
  const r = schema.safeParse(input);
  return r.success ? { ok: true, data: r.data } : { ok: false, errors: toErrors(r.error, names) };
}

// ---------------------------------------------------------------- news

export function readNews(values: FormValues): Read<NewsFields> {
  const end = str(values.news_end);
  return run(newsFieldsSchema, { important: str(values.news_important) === '1', urgent: str(values.news_urgent) === '1', endHint: end.trim() ? normalizeDate(end) : null }, (p) =>
    p[0] === 'endHint' ? 'news_end' : 'news_important',
  );
}

export function newsValues(f: NewsFields | null): FormValues {
  if (!f) return {};
  return { news_important: f.important ? '1' : '', news_urgent: f.urgent ? '1' : '', news_end: f.endHint ?? '' };
}

// ---------------------------------------------------------------- event

export const EVENT_DATE_KINDS = [
  { value: 'single', label: '1日だけ' },
  { value: 'range', label: '期間（連続した複数日）' },
  { value: 'weekly', label: '毎週（期間内の決まった曜日）' },
  { value: 'list', label: '日付を指定（複数）' },
] as const;

const EVENT_NAMES: Record<string, string> = {
  startTime: 'event_start',
  endTime: 'event_end',
  venue: 'event_venue',
  address: 'event_address',
  lat: 'event_lat',
  lng: 'event_lng',
  fee: 'event_fee',
  target: 'event_target',
  application: 'event_application',
  contact: 'event_contact',
};
const EVENT_DATE_NAMES: Record<string, string> = { date: 'event_date', from: 'event_from', to: 'event_to', weekdays: 'event_weekdays', dates: 'event_dates', kind: 'event_kind' };

export function readEvent(values: FormValues): Read<EventFields> {
  const kind = str(values.event_kind) || 'single';
  const req = (name: string, label: string): string | { missing: string } => {
    const v = str(values[name]);
    return v.trim() ? normalizeDate(v) : { missing: `${label}を入力してください。` };
  };
  // Blank required dates get their own message instead of the format message.
  const missing: FieldErrors = {};
  const date = (name: string, label: string) => {
    const v = req(name, label);
    if (typeof v === 'string') return v;
    missing[name] = v.missing;
    return '';
  };
  let dates: unknown;
  if (kind === 'range') dates = { kind, from: date('event_from', '開始日'), to: date('event_to', '終了日') };
  else if (kind === 'weekly') dates = { kind, from: date('event_from', '開始日'), to: date('event_to', '終了日'), weekdays: list(values.event_weekdays).map(Number) };
  else if (kind === 'list') {
    const lines = str(values.event_dates).split(/[\n,、]+/).map((l) => l.trim()).filter(Boolean);
    if (!lines.length) missing.event_dates = '開催日を1行に1つずつ入力してください。';
    dates = { kind, dates: lines.map(normalizeDate) };
  } else dates = { kind: 'single', date: date('event_date', '開催日') };
  const start = str(values.event_start);
  const end = str(values.event_end);
  const r = run(
    eventFieldsSchema,
    {
      dates,
      startTime: start.trim() ? normalizeTime(start) : null,
      endTime: end.trim() ? normalizeTime(end) : null,
      venue: str(values.event_venue),
      address: str(values.event_address),
      lat: num(str(values.event_lat)),
      lng: num(str(values.event_lng)),
      fee: str(values.event_fee),
      target: str(values.event_target),
      application: str(values.event_application),
      contact: str(values.event_contact),
    },
    (p) => (p[0] === 'dates' ? EVENT_DATE_NAMES[String(p[1] ?? 'kind')] ?? 'event_kind' : EVENT_NAMES[String(p[0])] ?? 'event_kind'),
  );
  if (Object.keys(missing).length) return { ok: false, errors: { ...(r.ok ? {} : r.errors), ...missing } };
  return r;
}

export function eventValues(f: EventFields | null): FormValues {
  if (!f) return {};
  const d = f.dates;
  const out: FormValues = {
    event_kind: d.kind,
    event_start: f.startTime ?? '',
    event_end: f.endTime ?? '',
    event_venue: f.venue,
    event_address: f.address,
    event_lat: f.lat === null ? '' : String(f.lat),
    event_lng: f.lng === null ? '' : String(f.lng),
    event_fee: f.fee,
    event_target: f.target,
    event_application: f.application,
    event_contact: f.contact,
  };
  if (d.kind === 'single') out.event_date = d.date;
  if (d.kind === 'range' || d.kind === 'weekly') {
    out.event_from = d.from;
    out.event_to = d.to;
  }
  if (d.kind === 'weekly') out.event_weekdays = d.weekdays.map(String);
  if (d.kind === 'list') out.event_dates = d.dates.join('\n');
  return out;
}

// ---------------------------------------------------------------- spot

const SPOT_NAMES: Record<string, string> = {
  address: 'spot_address',
  lat: 'spot_lat',
  lng: 'spot_lng',
  hours: 'spot_hours',
  closedDays: 'spot_closed',
  phone: 'spot_phone',
  url: 'spot_url',
  accessibility: 'spot_accessibility',
};

export function readSpot(values: FormValues): Read<SpotFields> {
  const weeklyHours: Array<{ weekday: number; open: string; close: string }> = [];
  const errors: FieldErrors = {};
  for (let wd = 0; wd < 7; wd++) {
    const open = str(values[`spot_wh_${wd}_open`]).trim();
    const close = str(values[`spot_wh_${wd}_close`]).trim();
    if (!open && !close) continue;
    if (!open || !close) {
      errors[`spot_wh_${wd}_${open ? 'close' : 'open'}`] = `${WEEKDAYS_JA[wd]}曜日の開始と終了の時刻を両方入力してください。`;
      continue;
    }
    weeklyHours.push({ weekday: wd, open: normalizeTime(open), close: normalizeTime(close) });
  }
  const lat = num(str(values.spot_lat));
  const lng = num(str(values.spot_lng));
  const r = run(
    spotFieldsSchema,
    {
      address: str(values.spot_address),
      lat: lat ?? undefined,
      lng: lng ?? undefined,
      hours: str(values.spot_hours),
      weeklyHours,
      closedDays: str(values.spot_closed),
      phone: half(str(values.spot_phone)),
      url: str(values.spot_url),
      accessibility: str(values.spot_accessibility),
    },
    (p) => {
      if (p[0] === 'weeklyHours') {
        const h = weeklyHours[Number(p[1])];
        return h ? `spot_wh_${h.weekday}_${p[2] === 'open' ? 'open' : 'close'}` : 'spot_hours';
      }
      return SPOT_NAMES[String(p[0])] ?? 'spot_address';
    },
  );
  // Missing coordinates: say which, not zod's generic "expected number".
  if (lat === null) errors.spot_lat = '緯度を入力してください（例: 35.6074）。';
  if (lng === null) errors.spot_lng = '経度を入力してください（例: 140.1065）。';
  if (Object.keys(errors).length) return { ok: false, errors: { ...(r.ok ? {} : r.errors), ...errors } };
  return r;
}

export function spotValues(f: SpotFields | null): FormValues {
  if (!f) return {};
  const out: FormValues = {
    spot_address: f.address,
    spot_lat: String(f.lat),
    spot_lng: String(f.lng),
    spot_hours: f.hours,
    spot_closed: f.closedDays,
    spot_phone: f.phone,
    spot_url: f.url,
    spot_accessibility: f.accessibility,
  };
  for (const h of f.weeklyHours) {
    out[`spot_wh_${h.weekday}_open`] = h.open;
    out[`spot_wh_${h.weekday}_close`] = h.close;
  }
  return out;
}

// ---------------------------------------------------------------- article / interview

const ARTICLE_NAMES: Record<string, string> = { lead: 'article_lead', author: 'article_author', interviewee: 'article_interviewee', photoCredit: 'article_credit' };

export function readArticle(values: FormValues): Read<ArticleFields> {
  return run(
    articleFieldsSchema,
    { lead: str(values.article_lead), author: str(values.article_author), interviewee: str(values.article_interviewee), photoCredit: str(values.article_credit) },
    (p) => ARTICLE_NAMES[String(p[0])] ?? 'article_lead',
  );
}

export function articleValues(f: ArticleFields | null): FormValues {
  if (!f) return {};
  return { article_lead: f.lead, article_author: f.author, article_interviewee: f.interviewee, article_credit: f.photoCredit };
}

// ---------------------------------------------------------------- video

/** Seconds from 「3:20」「1:02:03」「3分20秒」「1時間2分」「200」; NaN when unreadable, null for blank. */
export function parseDuration(raw: string): number | null {
  const s = half(raw).replace(/\s+/g, '');
  if (!s) return null;
  let m = /^(?:(\d+):)?(\d{1,2}):(\d{2})$/.exec(s);
  if (m) return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  m = /^(?:(\d+)時間)?(?:(\d+)分)?(?:(\d+)秒)?$/.exec(s);
  if (m && (m[1] || m[2] || m[3])) return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  if (/^\d+$/.test(s)) return Number(s);
  return Number.NaN;
}

/** 「1時間2分3秒」「3分20秒」. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}時間` : ''}${m ? `${m}分` : ''}${s || (!h && !m) ? `${s}秒` : ''}`;
}

/** 'm:ss' or 'h:mm:ss' for the form. */
function durationInput(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function readVideo(values: FormValues): Read<VideoFields> {
  const url = str(values.video_url).trim();
  const seconds = parseDuration(str(values.video_duration));
  const errors: FieldErrors = {};
  if (url && embedUrl(url) === null) errors.video_url = 'YouTube か Vimeo の動画のURLを入力してください（例: https://www.youtube.com/watch?v=…）。';
  if (seconds !== null && Number.isNaN(seconds)) errors.video_duration = '再生時間は「3:20」や「3分20秒」の形で入力してください。';
  const r = run(
    videoFieldsSchema,
    { url, durationSeconds: seconds === null || Number.isNaN(seconds) ? null : seconds, description: str(values.video_description), transcript: str(values.video_transcript) },
    (p) => ({ url: 'video_url', durationSeconds: 'video_duration', description: 'video_description', transcript: 'video_transcript' })[String(p[0])] ?? 'video_url',
  );
  if (Object.keys(errors).length) return { ok: false, errors: { ...(r.ok ? {} : r.errors), ...errors } };
  return r;
}

export function videoValues(f: VideoFields | null): FormValues {
  if (!f) return {};
  return { video_url: f.url, video_duration: f.durationSeconds === null ? '' : durationInput(f.durationSeconds), video_description: f.description, video_transcript: f.transcript };
}

// ---------------------------------------------------------------- categories, tags, 担当課

/** Tags from 「子育て、健診 , 予防接種」: split on commas (both widths), 読点 and new lines; unique. */
export function readTags(raw: string): string[] {
  return [...new Set(raw.split(/[,，、\n]+/).map((t) => t.normalize('NFKC').trim()).filter(Boolean))];
}
