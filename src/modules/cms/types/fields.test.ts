import { describe, expect, it } from 'vitest';
import { eventFields, eventFieldsSchema, eventOccurrences, eventSpan, expandDates, pageCategories, spotFieldsSchema, type EventFields } from './fields.js';
import { formatDuration, parseDuration, readEvent, readNews, readSpot, readTags, readVideo, eventValues, spotValues } from './form.js';
import { describeDates, formatDateJa, formatTimeRangeJa } from './format.js';
import { eventCalendar } from './ical.js';
import { jsonForScript } from './public.js';

const baseEvent = { startTime: null, endTime: null, venue: '', address: '', lat: null, lng: null, fee: '', target: '', application: '', contact: '' };
const ev = (e: Partial<EventFields> & Pick<EventFields, 'dates'>): EventFields => eventFieldsSchema.parse({ ...baseEvent, ...e });

/** Unfolds an iCalendar text (RFC 5545 §3.1) into [name;params, value] lines. */
function parseIcs(text: string): Array<{ name: string; params: Record<string, string>; value: string }> {
  expect(text).toMatch(/\r\n/);
  return text
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .filter(Boolean)
    .map((line) => {
      const colon = line.indexOf(':');
      const [name, ...params] = line.slice(0, colon).split(';');
      return { name: name!, params: Object.fromEntries(params.map((p) => p.split('=') as [string, string])), value: line.slice(colon + 1) };
    });
}

describe('page type fields', () => {
  it('weekly repeating dates expand across a month end and a year end, only on the chosen weekdays', () => {
    const d = { kind: 'weekly' as const, from: '2026-12-24', to: '2027-01-12', weekdays: [1, 4] };
    expect(expandDates(d, '2026-01-01', '2027-12-31')).toEqual(['2026-12-24', '2026-12-28', '2026-12-31', '2027-01-04', '2027-01-07', '2027-01-11']);
    // A window cuts the rule without shifting it.
    expect(expandDates(d, '2026-12-29', '2027-01-05')).toEqual(['2026-12-31', '2027-01-04']);
    expect(eventOccurrences({ event: { ...baseEvent, dates: d, startTime: '10:00', endTime: '11:30' } }, '2027-01-01', '2027-01-31')).toEqual([
      { date: '2027-01-04', startTime: '10:00', endTime: '11:30' },
      { date: '2027-01-07', startTime: '10:00', endTime: '11:30' },
      { date: '2027-01-11', startTime: '10:00', endTime: '11:30' },
    ]);
    expect(eventSpan({ event: { ...baseEvent, dates: d } })).toEqual({ first: '2026-12-24', last: '2027-01-11' });
  });

  it('a multi-day range gives each day, across 28 February in a leap year, and a list is sorted and unique', () => {
    expect(expandDates({ kind: 'range', from: '2028-02-27', to: '2028-03-01' }, '0000-01-01', '9999-12-31')).toEqual(['2028-02-27', '2028-02-28', '2028-02-29', '2028-03-01']);
    expect(expandDates({ kind: 'range', from: '2027-02-27', to: '2027-03-01' }, '0000-01-01', '9999-12-31')).toEqual(['2027-02-27', '2027-02-28', '2027-03-01']);
    expect(expandDates({ kind: 'list', dates: ['2026-05-10', '2026-04-01', '2026-05-10'] }, '0000-01-01', '9999-12-31')).toEqual(['2026-04-01', '2026-05-10']);
  });

  it('refuses impossible dates, an end before the start, an end time before the start and a half map pin, in Japanese', () => {
    const bad = (e: unknown) => {
      const r = eventFieldsSchema.safeParse(e);
      expect(r.success).toBe(false);
      return r.error!.issues.map((i) => i.message).join(' / ');
    };
    expect(bad({ dates: { kind: 'single', date: '2026-02-30' } })).toContain('存在しない日付です。');
    expect(bad({ dates: { kind: 'range', from: '2026-05-02', to: '2026-05-01' } })).toContain('終了日は開始日と同じか後の日にしてください。');
    expect(bad({ dates: { kind: 'weekly', from: '2026-05-04', to: '2026-05-05', weekdays: [0] } })).toContain('期間内に選んだ曜日がありません。');
    expect(bad({ dates: { kind: 'single', date: '2026-05-01' }, startTime: '11:00', endTime: '10:00' })).toContain('終了時刻は開始時刻より後にしてください。');
    expect(bad({ dates: { kind: 'single', date: '2026-05-01' }, lat: 35.6 })).toContain('緯度と経度の両方');
    expect(eventFields({ event: { dates: { kind: 'single', date: 'x' } } })).toBeNull();
  });

  it('latitude and longitude must lie in Japan', () => {
    const spot = { address: 'あおば市中央1-1' };
    expect(spotFieldsSchema.safeParse({ ...spot, lat: 35.6074, lng: 140.1065 }).success).toBe(true);
    expect(spotFieldsSchema.safeParse({ ...spot, lat: 24.45, lng: 122.93 }).success).toBe(true); // 与那国島
    const far = spotFieldsSchema.safeParse({ ...spot, lat: 51.5, lng: -0.12 });
    expect(far.error?.issues.map((i) => i.message)).toEqual(['緯度は日本の範囲（20〜46）で入力してください。', '経度は日本の範囲（122〜154）で入力してください。']);
    // Swapped by mistake: caught too.
    expect(spotFieldsSchema.safeParse({ ...spot, lat: 140.1, lng: 35.6 }).success).toBe(false);
  });

  it('reads the editor form: full-width digits and 2026/4/5 are accepted, errors are keyed by input name', () => {
    const ok = readEvent({ event_kind: 'weekly', event_from: '２０２６/４/６', event_to: '2026年6月29日', event_weekdays: ['1', '4'], event_start: '10時', event_end: '11:30', event_lat: '３５．６０４７', event_lng: '140.0975' });
    expect(ok.ok).toBe(true);
    if (ok.ok) {
      expect(ok.data.dates).toEqual({ kind: 'weekly', from: '2026-04-06', to: '2026-06-29', weekdays: [1, 4] });
      expect(ok.data.startTime).toBe('10:00');
      expect(ok.data.lat).toBe(35.6047);
      // Back to the form and read again: the same fields.
      const again = readEvent(eventValues(ok.data));
      expect(again.ok && again.data).toEqual(ok.data);
    }
    const bad = readEvent({ event_kind: 'range', event_from: '2026-04-06', event_to: '', event_lat: '北緯35度', event_lng: '140' });
    expect(bad).toEqual({ ok: false, errors: expect.objectContaining({ event_to: '終了日を入力してください。', event_lat: '緯度を数値で入力してください。' }) });
    expect(readEvent({ event_kind: 'single' })).toEqual({ ok: false, errors: { event_date: '開催日を入力してください。' } });
    expect(readEvent({ event_kind: 'weekly', event_from: '', event_to: '2027-01-12', event_weekdays: ['1'] })).toEqual({ ok: false, errors: { event_from: '開始日を入力してください。' } });
    expect(readEvent({ event_kind: 'weekly', event_from: '2026-02-31', event_to: '2026-03-10' })).toEqual({ ok: false, errors: { event_from: '存在しない日付です。', event_weekdays: '曜日を1つ以上選んでください。' } });
    expect(readEvent({ event_kind: 'list', event_dates: '2026-05-10\n2026-13-01' })).toEqual({ ok: false, errors: { event_dates: '存在しない日付です。' } });
    const spot = readSpot({ spot_address: '', spot_lat: '', spot_lng: '200', spot_wh_1_open: '09:00', spot_wh_2_open: '18:00', spot_wh_2_close: '09:00', spot_url: 'javascript:alert(1)' });
    expect(spot.ok ? {} : spot.errors).toEqual({
      spot_address: '住所を入力してください。',
      spot_lat: '緯度を入力してください（例: 35.6074）。',
      spot_lng: '経度は日本の範囲（122〜154）で入力してください。',
      spot_wh_1_close: '月曜日の開始と終了の時刻を両方入力してください。',
      spot_wh_2_close: '閉館時刻は開館時刻より後にしてください。',
      spot_url: 'URLは http:// か https:// で始めてください。',
    });
    const spotOk = readSpot({ spot_address: 'あおば市中央1-1', spot_lat: '35.6073', spot_lng: '140.1063', spot_wh_0_open: '9:00', spot_wh_0_close: '17:00' });
    expect(spotOk.ok && spotValues(spotOk.data)).toMatchObject({ spot_lat: '35.6073', spot_wh_0_open: '09:00', spot_wh_0_close: '17:00' });
    expect(readNews({ news_end: '2026-13-40' })).toEqual({ ok: false, errors: { news_end: '存在しない日付です。' } });
    expect(readNews({ news_end: '来月末' })).toEqual({ ok: false, errors: { news_end: '日付は 2026-04-01 の形で入力してください。' } });
    expect(readNews({ news_urgent: '1' })).toEqual({ ok: true, data: { important: false, urgent: true, endHint: null } });
  });

  it('videos: only YouTube or Vimeo addresses, durations in several spellings', () => {
    expect(readVideo({ video_url: 'https://evil.example/v.mp4' })).toEqual({ ok: false, errors: { video_url: expect.stringContaining('YouTube か Vimeo') } });
    expect(readVideo({ video_url: '' })).toEqual({ ok: false, errors: { video_url: '動画のURLを入力してください。' } });
    expect(readVideo({ video_url: 'https://youtu.be/dQw4w9WgXcQ', video_duration: 'そこそこ' })).toEqual({ ok: false, errors: { video_duration: expect.stringContaining('3:20') } });
    expect(parseDuration('3:20')).toBe(200);
    expect(parseDuration('1:02:03')).toBe(3723);
    expect(parseDuration('３分２０秒')).toBe(200);
    expect(parseDuration('1時間')).toBe(3600);
    expect(formatDuration(3723)).toBe('1時間2分3秒');
    expect(formatDuration(180)).toBe('3分');
  });

  it('tags split on 読点 and commas of both widths; categories ignore junk', () => {
    expect(readTags('子育て、健診 , 予防接種，子育て\nワクチン')).toEqual(['子育て', '健診', '予防接種', 'ワクチン']);
    expect(pageCategories({ categories: [3, '4', -1, 2.5, 7] })).toEqual([3, 7]);
  });

  it('writes dates in Japanese with 曜日 and 和暦 on request', () => {
    expect(formatDateJa('2026-04-05')).toBe('2026年4月5日（日）');
    expect(formatDateJa('2019-05-01', { wareki: true })).toBe('2019年（令和元年）5月1日（水）');
    expect(describeDates({ kind: 'range', from: '2026-12-31', to: '2027-01-02' })).toBe('2026年12月31日（木）～2027年1月2日（土）');
    expect(describeDates({ kind: 'weekly', from: '2026-04-01', to: '2026-04-30', weekdays: [4, 1] })).toBe('2026年4月2日（木）～4月30日（木）の毎週月曜日・木曜日（全9回）');
    expect(formatTimeRangeJa('10:00', '11:30')).toBe('10時～11時30分');
  });
});

describe('iCal of an event page', () => {
  const stamp = new Date('2026-03-01T00:00:00Z');
  const base = { uid: 'cms-aoba-7@example.jp', url: 'https://www.city.aoba.example.lg.jp/event/yoga', description: '説明', stamp, siteName: 'あおば市' };

  it('a weekly event: DTSTART in Asia/Tokyo on the first chosen weekday, a VTIMEZONE, RRULE with BYDAY and a UTC UNTIL', () => {
    const text = eventCalendar({ ...base, title: 'ヨガ教室; 初心者, 親子', event: ev({ dates: { kind: 'weekly', from: '2026-12-24', to: '2027-01-12', weekdays: [4, 1] }, startTime: '10:00', endTime: '11:30', venue: '市民センター' }) });
    const lines = parseIcs(text);
    const events = lines.filter((l) => l.name === 'BEGIN' && l.value === 'VEVENT');
    expect(events).toHaveLength(1);
    const get = (n: string) => lines.filter((l) => l.name === n);
    const start = get('DTSTART').find((l) => l.params.TZID);
    expect(start).toEqual({ name: 'DTSTART', params: { TZID: 'Asia/Tokyo' }, value: '20261224T100000' });
    expect(get('DTEND').find((l) => l.params.TZID)?.value).toBe('20261224T113000');
    expect(get('TZID')[0]?.value).toBe('Asia/Tokyo');
    expect(get('TZOFFSETTO')[0]?.value).toBe('+0900');
    const rrule = Object.fromEntries(get('RRULE')[0]!.value.split(';').map((x) => x.split('=') as [string, string]));
    expect(rrule).toEqual({ FREQ: 'WEEKLY', BYDAY: 'MO,TH', UNTIL: '20270111T145959Z' });
    expect(get('DTSTAMP')[0]?.value).toBe('20260301T000000Z');
    expect(get('SUMMARY')[0]?.value).toBe('ヨガ教室\\; 初心者\\, 親子');
    expect(get('UID')[0]?.value).toBe('cms-aoba-7@example.jp');
  });

  it('the same times whatever the server time zone (the wall clock is not shifted)', async () => {
    const text = eventCalendar({ ...base, title: 'x', event: ev({ dates: { kind: 'single', date: '2026-08-08' }, startTime: '19:00', endTime: '20:30' }) });
    expect(text).toContain('DTSTART;TZID=Asia/Tokyo:20260808T190000');
    expect(text).toContain('DTEND;TZID=Asia/Tokyo:20260808T203000');
  });

  it('all-day spans are DATE values with an exclusive end; a list of dates is one event per date', () => {
    const span = parseIcs(eventCalendar({ ...base, title: 'まつり', event: ev({ dates: { kind: 'range', from: '2026-12-31', to: '2027-01-02' } }) }));
    expect(span.find((l) => l.name === 'DTSTART')).toEqual({ name: 'DTSTART', params: { VALUE: 'DATE' }, value: '20261231' });
    expect(span.find((l) => l.name === 'DTEND')?.value).toBe('20270103');
    expect(span.some((l) => l.name === 'RRULE')).toBe(false);
    const list = parseIcs(eventCalendar({ ...base, title: 'おはなし会', event: ev({ dates: { kind: 'list', dates: ['2026-05-10', '2026-06-14'] }, startTime: '14:00' }) }));
    expect(list.filter((l) => l.name === 'DTSTART' && l.params.TZID).map((l) => l.value)).toEqual(['20260510T140000', '20260614T140000']);
    expect(new Set(list.filter((l) => l.name === 'UID').map((l) => l.value)).size).toBe(2);
    const daily = parseIcs(eventCalendar({ ...base, title: '展示', event: ev({ dates: { kind: 'range', from: '2026-11-03', to: '2026-11-04' }, startTime: '10:00', endTime: '16:00' }) }));
    expect(daily.find((l) => l.name === 'RRULE')?.value).toBe('FREQ=DAILY;UNTIL=20261104T145959Z');
  });
});

describe('JSON-LD text', () => {
  it('no string can close the script element, and it parses back to the same data', () => {
    const data = { name: '</script><script>alert(1)</script> & <!-- \u2028', n: 1 };
    const text = jsonForScript(data);
    expect(text).not.toMatch(/<|>|&/);
    expect(JSON.parse(text)).toEqual(data);
  });
});
