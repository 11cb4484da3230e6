import { addDays, expandDates, WEEKDAYS_JA, weekdayOf, type EventDates, type EventFields } from './fields.js';

/** Japanese dates and times as public pages write them. Pure. */

function parts(date: string) {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return { y, m, d, wd: WEEKDAYS_JA[weekdayOf(date)]! };
}

/** 「令和8年」 for a calendar date (和暦). */
export function warekiYear(date: string): string {
  const era = new Intl.DateTimeFormat('ja-JP-u-ca-japanese', { era: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
  return era.replace(/^(\D+)1年$/, '$1元年');
}

/**
 * 「2026年4月5日（日）」; `withYear: false` drops the year (a span ending in the same year);
 * `wareki: true` adds the era year: 「2026年（令和8年）4月5日（日）」.
 */
export function formatDateJa(date: string, opts: { withYear?: boolean; wareki?: boolean; weekday?: boolean } = {}): string {
  const p = parts(date);
  const year = opts.withYear === false ? '' : `${p.y}年${opts.wareki ? `（${warekiYear(date)}）` : ''}`;
  return `${year}${p.m}月${p.d}日${opts.weekday === false ? '' : `（${p.wd}）`}`;
}

/** 「2026年4月5日」 of an instant, in Japan time. */
export function formatInstantDateJa(iso: string): string {
  const jst = new Date(Date.parse(iso) + 9 * 3600_000).toISOString().slice(0, 10);
  return formatDateJa(jst, { weekday: false });
}

/** 「10時」「10時30分」. */
export function formatTimeJa(hhmm: string): string {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return `${h}時${m ? `${m}分` : ''}`;
}

/** 「10時～11時30分」, 「10時から」, or '' for an all-day event. */
export function formatTimeRangeJa(start: string | null, end: string | null): string {
  if (!start) return '';
  return end ? `${formatTimeJa(start)}～${formatTimeJa(end)}` : `${formatTimeJa(start)}から`;
}

/** 「月曜日・木曜日」. */
export function weekdayNames(weekdays: number[]): string {
  return [...new Set(weekdays)].sort((a, b) => a - b).map((w) => `${WEEKDAYS_JA[w]}曜日`).join('・');
}

/**
 * One sentence for when an event takes place.
 * @example describeDates({ kind: 'range', from: '2026-04-05', to: '2026-04-07' }) // '2026年4月5日（日）～4月7日（火）'
 */
export function describeDates(d: EventDates, wareki = false): string {
  if (d.kind === 'single') return formatDateJa(d.date, { wareki });
  if (d.kind === 'range') return `${formatDateJa(d.from, { wareki })}～${formatDateJa(d.to, { withYear: d.to.slice(0, 4) !== d.from.slice(0, 4), wareki })}`;
  if (d.kind === 'weekly') {
    const days = expandDates(d, d.from, d.to);
    const first = days[0] ?? d.from;
    const last = days[days.length - 1] ?? d.to;
    return `${formatDateJa(first, { wareki })}～${formatDateJa(last, { withYear: last.slice(0, 4) !== first.slice(0, 4), wareki })}の毎週${weekdayNames(d.weekdays)}（全${days.length}回）`;
  }
  const days = expandDates(d, '0000-01-01', '9999-12-31');
  return `${days.length}日間（${days.map((x, i) => formatDateJa(x, { withYear: i === 0 || x.slice(0, 4) !== days[i - 1]!.slice(0, 4) })).join('、')}）`;
}

/** Every date of an event (for the list under the sentence); a span gives each of its days. */
export function eventDayList(ev: EventFields): string[] {
  return expandDates(ev.dates, '0000-01-01', '9999-12-31');
}

/** The day after the event's last day, for an exclusive end. */
export function dayAfter(date: string): string {
  return addDays(date, 1);
}
