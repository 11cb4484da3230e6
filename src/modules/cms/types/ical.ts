import ical, { type ICalEventData } from 'ical-generator';
import { addDays, expandDates, type EventFields } from './fields.js';

/**
 * The iCalendar file of one event page (RFC 5545): times in Asia/Tokyo with a VTIMEZONE, all-day
 * dates as DATE values, weekly events as one VEVENT with an RRULE, a list of dates as one VEVENT
 * per date, a span with daily times as a DAILY rule.
 */

/** Japan has had no daylight saving since 1951: one STANDARD rule describes the zone. */
const VTIMEZONE_TOKYO = ['BEGIN:VTIMEZONE', 'TZID:Asia/Tokyo', 'BEGIN:STANDARD', 'DTSTART:19700101T000000', 'TZOFFSETFROM:+0900', 'TZOFFSETTO:+0900', 'TZNAME:JST', 'END:STANDARD', 'END:VTIMEZONE'].join('\r\n');

const BYDAY = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as const;

/**
 * A Date whose UTC fields are the Tokyo wall-clock time: ical-generator writes floating times and
 * dates with UTC getters, so this is exact whatever the server's TZ (its own zone support reads
 * the server's local time instead).
 */
function wall(date: string, time = '00:00'): Date {
  return new Date(`${date}T${time}:00Z`);
}

function compact(date: string): string {
  return date.replace(/-/g, '');
}

export interface IcalInput {
  /** Stable id of the page (UIDs are built from it). */
  uid: string;
  title: string;
  url: string;
  description: string;
  event: EventFields;
  /** When the page was last changed (DTSTAMP, UTC). */
  stamp: Date;
  siteName: string;
}

/** The .ics text of an event page. */
export function eventCalendar(input: IcalInput): string {
  const { event: ev } = input;
  const cal = ical({ name: `${input.title}（${input.siteName}）`, prodId: { company: 'machimado', product: 'cms', language: 'JA' } });
  cal.x([{ key: 'X-WR-TIMEZONE', value: 'Asia/Tokyo' }]);
  const location = [ev.venue, ev.address].filter(Boolean).join(' ');
  const base: Omit<ICalEventData, 'start'> = {
    summary: input.title,
    description: input.description || undefined,
    location: location || undefined,
    url: input.url,
    stamp: input.stamp,
  };
  const timed = ev.startTime !== null;
  const endTime = ev.endTime ?? ev.startTime ?? '00:00';
  const add = (id: string, first: string, lastOfFirst: string, rrule?: string) => {
    if (timed) {
      cal.createEvent({
        ...base,
        id,
        start: wall(first, ev.startTime!),
        end: wall(first, ev.endTime ? endTime : ev.startTime!),
        floating: true,
        repeating: rrule ?? null,
      });
    } else {
      cal.createEvent({ ...base, id, allDay: true, start: wall(first), end: wall(addDays(lastOfFirst, 1)), repeating: rrule ?? null });
    }
  };
  const d = ev.dates;
  // UNTIL: the end of the last day in Tokyo, in UTC for timed events, as a date for all-day ones.
  const until = (last: string) => (timed ? `${compact(last)}T145959Z` : compact(last));
  if (d.kind === 'single') add(input.uid, d.date, d.date);
  else if (d.kind === 'range') {
    if (timed) add(input.uid, d.from, d.from, `FREQ=DAILY;UNTIL=${until(d.to)}`);
    else add(input.uid, d.from, d.to);
  } else if (d.kind === 'weekly') {
    // DTSTART is always an occurrence, so it must be the first chosen weekday on or after `from`.
    const days = expandDates(d, d.from, d.to);
    const first = days[0];
    const last = days[days.length - 1];
    if (first && last) add(input.uid, first, first, `FREQ=WEEKLY;BYDAY=${[...new Set(d.weekdays)].sort().map((w) => BYDAY[w]).join(',')};UNTIL=${until(last)}`);
  } else {
    for (const day of expandDates(d, '0000-01-01', '9999-12-31')) add(`${input.uid}-${compact(day)}`, day, day);
  }
  const text = cal.toString();
  if (!timed) return text;
  // The floating wall-clock times get their zone, and the calendar the zone's definition.
  return text.replace(/^(DTSTART|DTEND):(\d{8}T\d{6})\r$/gm, '$1;TZID=Asia/Tokyo:$2\r').replace('BEGIN:VEVENT', `${VTIMEZONE_TOKYO}\r\nBEGIN:VEVENT`);
}
