/**
 * The event calendar of a site (`<prefix>/events/`): a month as an accessible table (caption,
 * weekday headers with scope, 祝日 named in words) or as a list grouped by day, filtered by
 * category, moved by previous/next month links — plain links and a GET form, no JavaScript.
 * Repeating and multi-day events appear on each of their days. Also `/events/calendar.ics`.
 */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import ical from 'ical-generator';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { publicViewOf } from '../../../core/ui/view.js';
import type { CmsServices } from '../index.js';
import { SiteFrame, requestOrigin } from '../frame.js';
import { FeedLink } from '../feeds.js';
import type { Site } from '../sites.js';
import { categoriesOf, type CategoryRecord } from '../types/categories.js';
import { addDays, eventFields, eventOccurrences, weekdayOf, WEEKDAYS_JA, type EventOccurrence } from '../types/fields.js';
import type { ListItem, ListService } from './service.js';
import { Crumbs, sendWithEtag } from './page-kit.js';

const WEEKDAY_NAMES = ['日曜日', '月曜日', '火曜日', '水曜日', '木曜日', '金曜日', '土曜日'];
/** How far ahead the iCal feed reaches. */
const ICS_DAYS = 366;
const ICS_MAX_EVENTS = 3000;

export interface DayEvent {
  item: ListItem;
  occurrence: EventOccurrence;
}

/** Today in Japan, 'YYYY-MM-DD'. */
export function jstToday(now = new Date()): string {
  return new Date(now.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

/** The last day of a 'YYYY-MM' month. */
export function monthEnd(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** The month before or after a 'YYYY-MM' month. */
export function shiftMonth(month: string, by: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 + by, 1)).toISOString().slice(0, 7);
}

const monthLabel = (month: string) => `${Number(month.slice(0, 4))}年${Number(month.slice(5, 7))}月`;
const dayLabel = (day: string) => `${Number(day.slice(5, 7))}月${Number(day.slice(8, 10))}日（${WEEKDAYS_JA[weekdayOf(day)]}）`;

/**
 * Every event day between `from` and `to`, by date: the occurrences of each live event page
 * (ranges and weekly or listed days expanded), all-day ones first, then by start time.
 */
export async function eventDays(lists: ListService, siteId: number, from: string, to: string, opts: { category?: number; now?: Date } = {}): Promise<Map<string, DayEvent[]>> {
  const items = await lists.eventsBetween(siteId, from, to, opts);
  const days = new Map<string, DayEvent[]>();
  for (const item of items) {
    for (const occurrence of eventOccurrences(item.fields, from, to)) days.set(occurrence.date, [...(days.get(occurrence.date) ?? []), { item, occurrence }]);
  }
  for (const list of days.values()) list.sort((a, b) => (a.occurrence.startTime ?? '').localeCompare(b.occurrence.startTime ?? '') || a.item.title.localeCompare(b.item.title, 'ja'));
  return days;
}

function timeText(o: EventOccurrence): string {
  if (!o.startTime) return '';
  return o.endTime ? `${o.startTime}～${o.endTime}` : `${o.startTime}～`;
}

function EventLink(props: { e: DayEvent; prefix: string }) {
  const time = timeText(props.e.occurrence);
  return (
    <li>
      <a href={`${props.prefix}${props.e.item.path}`}>{props.e.item.title}</a>
      {time ? <> <span class="event-time">{time}</span></> : null}
    </li>
  );
}

/** One month as a table: weeks are rows, Sunday first; each day lists its events and names its holiday. */
export function MonthTable(props: { month: string; days: Map<string, DayEvent[]>; holiday: (day: string) => string | null; today: string; prefix: string; caption: string }) {
  const first = `${props.month}-01`;
  const last = monthEnd(props.month);
  const cells: Array<string | null> = [...Array(weekdayOf(first)).fill(null)];
  for (let d = first; d <= last; d = addDays(d, 1)) cells.push(d);
  while (cells.length % 7) cells.push(null);
  const weeks: Array<Array<string | null>> = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return (
    <div class="table-wrap">
      <table class="event-calendar">
        <caption>{props.caption}</caption>
        <thead>
          <tr>{WEEKDAYS_JA.map((w, i) => <th scope="col" abbr={WEEKDAY_NAMES[i]}>{w}</th>)}</tr>
        </thead>
        <tbody>
          {weeks.map((week) => (
            <tr>
              {week.map((day, i) => {
                if (!day) return <td class="event-calendar__blank"></td>;
                const holiday = props.holiday(day);
                const events = props.days.get(day) ?? [];
                const cls = [i === 0 ? 'event-calendar__sun' : i === 6 ? 'event-calendar__sat' : '', holiday ? 'event-calendar__holiday' : '', day === props.today ? 'event-calendar__today' : ''].filter(Boolean).join(' ');
                return (
                  <td class={cls || undefined} data-day={day} aria-current={day === props.today ? 'date' : undefined}>
                    <span class="event-calendar__day"><time datetime={day}>{Number(day.slice(8))}<span class="visually-hidden">日</span></time></span>
                    {day === props.today ? <span class="visually-hidden">（今日）</span> : null}
                    {holiday ? <span class="holiday-name">祝日 {holiday}</span> : null}
                    {events.length ? <ul>{events.map((e) => <EventLink e={e} prefix={props.prefix} />)}</ul> : null}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Days that have events, as headed groups (the list view). */
export function DayList(props: { days: Map<string, DayEvent[]>; from: string; holiday: (day: string) => string | null; prefix: string }) {
  const days = [...props.days.keys()].filter((d) => d >= props.from).sort();
  if (!days.length) return <p>この期間に予定されているイベントはありません。</p>;
  return (
    <>
      {days.map((day) => {
        const holiday = props.holiday(day);
        return (
          <section aria-labelledby={`day-${day}`}>
            <h3 class="event-day" id={`day-${day}`}>
              <time datetime={day}>{dayLabel(day)}</time>
              {holiday ? <> <span class="holiday-name">祝日 {holiday}</span></> : null}
            </h3>
            <ul class="event-list">{(props.days.get(day) ?? []).map((e) => <EventLink e={e} prefix={props.prefix} />)}</ul>
          </section>
        );
      })}
    </>
  );
}

function query(base: { month: string; view: string; category?: CategoryRecord }, change: Partial<{ month: string; view: string }>): string {
  const q = new URLSearchParams({ month: change.month ?? base.month });
  const view = change.view ?? base.view;
  if (view === 'list') q.set('view', 'list');
  if (base.category) q.set('category', String(base.category.id));
  return `?${q.toString()}`;
}

/** The calendar page: month table or day list, category filter, month links. */
export async function eventsPage(c: Context<AppEnv>, p: Platform, _cms: CmsServices, lists: ListService, site: Site): Promise<Response> {
  const today = jstToday();
  const asked = c.req.query('month') ?? '';
  const month = /^(19|20|21)\d{2}-(0[1-9]|1[0-2])$/.test(asked) ? asked : today.slice(0, 7);
  const view = c.req.query('view') === 'list' ? 'list' : 'month';
  const categories = await categoriesOf(p).list(site.id);
  const category = categories.find((x) => String(x.id) === c.req.query('category'));
  const from = `${month}-01`;
  const to = monthEnd(month);
  const days = await eventDays(lists, site.id, from, to, { category: category?.id });
  const holiday = (day: string) => p.calendar.holiday(new Date(`${day}T12:00:00+09:00`));
  const prefix = site.pathPrefix;
  const self = `${prefix}/events/`;
  const state = { month, view, category };
  const count = [...days.values()].reduce((n, d) => n + d.length, 0);
  const v = publicViewOf(c);
  const title = `イベントカレンダー（${monthLabel(month)}${category ? `・${category.name}` : ''}）`;
  const page: Child = (
    <SiteFrame c={c} v={v} site={site} title={title} head={<><FeedLink site={site} /><link rel="alternate" type="text/calendar" title={`${site.name} イベント`} href={`${self}calendar.ics`} /></>}>
      <Crumbs site={site} trail={[{ title: 'イベントカレンダー' }]} />
      <h1>イベントカレンダー</h1>
      <form method="get" action={self} class="filters" role="search" aria-label="イベントの絞り込み">
        <input type="hidden" name="month" value={month} />
        {view === 'list' ? <input type="hidden" name="view" value="list" /> : null}
        <div class="field">
          <label for="events-category">分野</label>
          <select id="events-category" name="category">
            <option value="">すべての分野</option>
            {categories.map((x) => <option value={String(x.id)} selected={x.id === category?.id}>{x.depth ? `　${x.name}` : x.name}</option>)}
          </select>
        </div>
        <div class="field"><button type="submit" class="button--small">絞り込む</button></div>
      </form>
      <nav class="event-views" aria-label="表示の切り替え">
        <a href={`${self}${query(state, { view: 'month' })}`} aria-current={view === 'month' ? 'page' : undefined}>月の表示</a>
        <a href={`${self}${query(state, { view: 'list' })}`} aria-current={view === 'list' ? 'page' : undefined}>一覧の表示</a>
      </nav>
      <h2 id="events-month">{monthLabel(month)}のイベント{category ? `（${category.name}）` : ''}</h2>
      <p role="status">{count ? `${monthLabel(month)}は延べ${count}件のイベントがあります。` : `${monthLabel(month)}に予定されているイベントはありません。`}</p>
      <nav class="month-nav" aria-label="月の移動">
        <a href={`${self}${query(state, { month: shiftMonth(month, -1) })}`} rel="prev">前の月（{monthLabel(shiftMonth(month, -1))}）</a>
        {month !== today.slice(0, 7) ? <a href={`${self}${query(state, { month: today.slice(0, 7) })}`}>今月</a> : null}
        <a href={`${self}${query(state, { month: shiftMonth(month, 1) })}`} rel="next">次の月（{monthLabel(shiftMonth(month, 1))}）</a>
      </nav>
      {view === 'month' ? (
        <MonthTable month={month} days={days} holiday={holiday} today={today} prefix={prefix} caption={`${monthLabel(month)}のイベントカレンダー${category ? `（${category.name}）` : ''}`} />
      ) : (
        <DayList days={days} from={month === today.slice(0, 7) ? today : from} holiday={holiday} prefix={prefix} />
      )}
      <p><a href={`${self}calendar.ics`} type="text/calendar">これからのイベントをカレンダーアプリに登録する（iCal形式）</a></p>
    </SiteFrame>
  );
  return sendWithEtag(c, (await page).toString(), 'text/html; charset=utf-8');
}

/** iCalendar of the site's upcoming events (a year ahead), one VEVENT per event day. */
export async function calendarIcs(c: Context<AppEnv>, _p: Platform, lists: ListService, site: Site): Promise<Response> {
  const today = jstToday();
  const until = addDays(today, ICS_DAYS);
  const days = await eventDays(lists, site.id, today, until);
  const origin = requestOrigin(c);
  const host = new URL(origin).hostname;
  const cal = ical({ name: `${site.name} イベント`, prodId: { company: 'machimado', product: 'cms', language: 'JA' } });
  let n = 0;
  for (const [day, events] of [...days].sort(([a], [b]) => a.localeCompare(b))) {
    for (const { item, occurrence: o } of events) {
      if (++n > ICS_MAX_EVENTS) break;
      const ev = eventFields(item.fields);
      const timed = o.startTime !== null;
      cal.createEvent({
        id: `${site.key}-${item.nodeId}-${day}@${host}`,
        // All-day events are dates; timed ones are instants in Japan time.
        start: timed ? new Date(`${day}T${o.startTime}:00+09:00`) : new Date(`${day}T00:00:00Z`),
        end: timed ? new Date(`${day}T${o.endTime ?? o.startTime}:00+09:00`) : new Date(`${addDays(day, 1)}T00:00:00Z`),
        allDay: !timed,
        stamp: new Date(item.publishedAt ?? item.createdAt),
        summary: item.title,
        url: `${origin}${site.pathPrefix}${item.path}`,
        location: ev ? [ev.venue, ev.address].filter(Boolean).join(' ') || undefined : undefined,
        description: item.summary ?? undefined,
      });
    }
  }
  c.header('Content-Disposition', `inline; filename="${site.key}-events.ics"`);
  return sendWithEtag(c, cal.toString(), 'text/calendar; charset=utf-8');
}
