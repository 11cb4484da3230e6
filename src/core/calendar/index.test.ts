import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeEngines, type TestDatabase } from '../../../test/helpers/db.js';
import { nowIso, type Db } from '../db/index.js';
import { BusinessCalendar, CalendarValidationError, jstDateKey } from './index.js';

/** An instant given as JST wall-clock time, e.g. jst('2026-04-03 16:45'). */
function jst(wall: string): Date {
  return new Date(`${wall.replace(' ', 'T')}:00+09:00`);
}

/** JST wall-clock rendering of an instant, 'YYYY-MM-DD HH:MM'. */
function wall(d: Date): string {
  return new Date(d.getTime() + 9 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}

async function addOrg(db: Db, code: string): Promise<number> {
  const at = nowIso();
  const row = await db
    .insertInto('organizations')
    .values({ code, name: code, name_en: null, kind: 'department', parent_id: null, created_at: at, updated_at: at })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

describe('business calendar rules (no settings stored)', () => {
  let t: TestDatabase;
  let cal: BusinessCalendar;
  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    cal = new BusinessCalendar({ db: t.handle.db });
    await cal.load();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('names Japanese public holidays on the JST date', () => {
    expect(cal.holiday(jst('2027-01-01 00:00'))).toBe('元日');
    expect(cal.holiday(jst('2026-07-20 23:59'))).toBe('海の日');
    expect(cal.holiday(jst('2026-09-22 12:00'))).toBe('休日');
    expect(cal.holiday(jst('2026-07-21 00:00'))).toBeNull();
    // 2026-07-19 20:00 UTC is already 海の日 in Japan.
    expect(cal.holiday(new Date('2026-07-19T15:00:00Z'))).toBe('海の日');
    expect(cal.holiday(new Date('2026-07-19T14:59:59Z'))).toBeNull();
  });

  it('closes 29 December to 3 January, weekends and holidays', () => {
    expect(cal.isBusinessDay(jst('2026-12-28 12:00'))).toBe(true);
    for (const d of ['2026-12-29', '2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02', '2027-01-03']) {
      expect(cal.isYearEndClosure(jst(`${d} 12:00`)), d).toBe(true);
      expect(cal.isBusinessDay(jst(`${d} 12:00`)), d).toBe(false);
    }
    expect(cal.isYearEndClosure(jst('2027-01-04 00:00'))).toBe(false);
    expect(cal.isBusinessDay(jst('2027-01-04 00:00'))).toBe(true);
    expect(cal.isBusinessDay(jst('2026-04-04 10:00'))).toBe(false); // Saturday
    expect(cal.isBusinessDay(jst('2026-04-05 10:00'))).toBe(false); // Sunday
    expect(cal.isBusinessDay(jst('2026-07-20 10:00'))).toBe(false); // 海の日
    expect(cal.isBusinessDay(jst('2026-05-06 10:00'))).toBe(false); // 振替休日
    expect(cal.isBusinessDay(jst('2026-07-21 10:00'))).toBe(true);
  });

  it('adds business days over the new year closure', () => {
    // Fri 12-25 → Mon 12-28 (1) → closure 12-29..01-03 → Mon 01-04 (2) → Tue 01-05 (3).
    expect(wall(cal.addBusinessDays(jst('2026-12-25 10:30'), 3))).toBe('2027-01-05 10:30');
    expect(wall(cal.addBusinessDays(jst('2026-12-25 10:30'), 1))).toBe('2026-12-28 10:30');
  });

  it('adds business days across a weekend and a holiday, and counts backwards', () => {
    // Thu 07-16 → Fri 07-17 (1) → Sat, Sun, 海の日 Mon 07-20 → Tue 07-21 (2).
    expect(wall(cal.addBusinessDays(jst('2026-07-16 09:00'), 2))).toBe('2026-07-21 09:00');
    expect(wall(cal.addBusinessDays(jst('2026-07-21 09:00'), -2))).toBe('2026-07-16 09:00');
    expect(wall(cal.addBusinessDays(jst('2026-07-18 09:00'), 0))).toBe('2026-07-18 09:00');
    expect(() => cal.addBusinessDays(jst('2026-07-18 09:00'), 1.5)).toThrow(RangeError);
  });

  it('is open from 08:30 until just before 17:15 JST', () => {
    expect(cal.isOpenAt(jst('2026-04-06 08:29'))).toBe(false);
    expect(cal.isOpenAt(jst('2026-04-06 08:30'))).toBe(true);
    expect(cal.isOpenAt(jst('2026-04-06 17:14'))).toBe(true);
    expect(cal.isOpenAt(jst('2026-04-06 17:15'))).toBe(false);
    expect(cal.isOpenAt(jst('2026-07-20 10:00'))).toBe(false); // holiday
  });

  it('finds the next opening after a Friday evening, skipping a holiday Monday', () => {
    expect(wall(cal.nextOpening(jst('2026-04-03 18:00')))).toBe('2026-04-06 08:30');
    expect(wall(cal.nextOpening(jst('2026-07-17 18:00')))).toBe('2026-07-21 08:30');
    expect(wall(cal.nextOpening(jst('2026-04-06 07:00')))).toBe('2026-04-06 08:30');
    // Already open: the instant itself.
    expect(wall(cal.nextOpening(jst('2026-04-06 11:11')))).toBe('2026-04-06 11:11');
    expect(wall(cal.nextOpening(jst('2026-12-28 17:15')))).toBe('2027-01-04 08:30');
  });

  it('counts office minutes only', () => {
    // 30 minutes on Friday (16:45–17:15), the other 90 from Monday 08:30.
    expect(wall(cal.addOfficeMinutes(jst('2026-04-03 16:45'), 120))).toBe('2026-04-06 10:00');
    expect(wall(cal.addOfficeMinutes(jst('2026-04-03 16:45'), 30))).toBe('2026-04-03 17:15');
    expect(wall(cal.addOfficeMinutes(jst('2026-04-04 12:00'), 15))).toBe('2026-04-06 08:45');
    expect(wall(cal.addOfficeMinutes(jst('2026-07-17 17:00'), 60))).toBe('2026-07-21 09:15');
    expect(wall(cal.addOfficeMinutes(jst('2026-04-06 09:00'), 0))).toBe('2026-04-06 09:00');
    expect(() => cal.addOfficeMinutes(jst('2026-04-06 09:00'), -1)).toThrow(RangeError);
  });

  it('gives the same answers whatever the process time zone is', () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ['UTC', 'America/New_York', 'Pacific/Kiritimati', 'Asia/Tokyo']) {
        process.env.TZ = tz;
        expect(jstDateKey(jst('2027-01-01 00:00')), tz).toBe('2027-01-01');
        expect(cal.holiday(jst('2027-01-01 00:30')), tz).toBe('元日');
        expect(cal.isOpenAt(jst('2026-04-06 08:30')), tz).toBe(true);
        expect(wall(cal.addBusinessDays(jst('2026-12-25 23:30'), 3)), tz).toBe('2027-01-05 23:30');
        expect(wall(cal.addOfficeMinutes(jst('2026-04-03 16:45'), 120)), tz).toBe('2026-04-06 10:00');
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('refuses to answer before load()', () => {
    const fresh = new BusinessCalendar({ db: t.handle.db });
    expect(() => fresh.isBusinessDay(new Date())).toThrow(/load\(\)/);
  });
});

describeEngines('business calendar settings', (t) => {
  let cal: BusinessCalendar;
  let orgA: number;
  let orgB: number;
  beforeAll(async () => {
    const { db } = t().handle;
    orgA = await addOrg(db, 'cal-a');
    orgB = await addOrg(db, 'cal-b');
    cal = new BusinessCalendar({ db });
    await cal.load();
  });

  it('starts from the built-in Monday–Friday 08:30–17:15', () => {
    expect(cal.officeHours()).toHaveLength(5);
    expect(cal.officeHours(orgA)[0]).toEqual({ weekday: 1, opens: '08:30', closes: '17:15' });
  });

  it('an organization’s closed day closes that organization only', async () => {
    const id = await cal.addClosedDay({ organizationId: orgA, day: '2026-04-08', reason: '庁舎停電のため' });
    expect(cal.isBusinessDay(jst('2026-04-08 10:00'), orgA)).toBe(false);
    expect(cal.isBusinessDay(jst('2026-04-08 10:00'), orgB)).toBe(true);
    expect(cal.isBusinessDay(jst('2026-04-08 10:00'))).toBe(true);
    expect(wall(cal.addBusinessDays(jst('2026-04-07 10:00'), 1, orgA))).toBe('2026-04-09 10:00');
    expect(wall(cal.addBusinessDays(jst('2026-04-07 10:00'), 1, orgB))).toBe('2026-04-08 10:00');
    await cal.removeClosedDay(id);
    expect(cal.isBusinessDay(jst('2026-04-08 10:00'), orgA)).toBe(true);
  });

  it('a global closed day closes every organization and shifts deadlines', async () => {
    const id = await cal.addClosedDay({ organizationId: null, day: '2026-12-28', reason: '仕事納め前倒し' });
    try {
      expect(cal.isBusinessDay(jst('2026-12-28 10:00'), orgB)).toBe(false);
      expect(wall(cal.addBusinessDays(jst('2026-12-25 10:30'), 3))).toBe('2027-01-06 10:30');
    } finally {
      await cal.removeClosedDay(id);
    }
  });

  it('an organization’s own office hours (Saturday opening) override the defaults', async () => {
    await cal.setOfficeHours(orgA, [
      { weekday: 2, opens: '08:30', closes: '12:00' },
      { weekday: 2, opens: '13:00', closes: '17:15' },
      { weekday: 6, opens: '09:00', closes: '12:00' },
    ]);
    expect(cal.officeHours(orgA).map((h) => h.weekday)).toEqual([2, 2, 6]);
    expect(cal.isBusinessDay(jst('2026-04-04 10:00'), orgA)).toBe(true); // Saturday
    expect(cal.isBusinessDay(jst('2026-04-04 10:00'), orgB)).toBe(false);
    expect(cal.isBusinessDay(jst('2026-04-06 10:00'), orgA)).toBe(false); // Monday: not one of A's days
    expect(cal.isOpenAt(jst('2026-04-04 11:59'), orgA)).toBe(true);
    expect(cal.isOpenAt(jst('2026-04-07 12:30'), orgA)).toBe(false); // lunch break
    expect(wall(cal.nextOpening(jst('2026-04-03 18:00'), orgA))).toBe('2026-04-04 09:00');
    // 30 minutes before lunch, the other 30 after it.
    expect(wall(cal.addOfficeMinutes(jst('2026-04-07 11:30'), 60, orgA))).toBe('2026-04-07 13:30');
    expect(cal.isBusinessDay(jst('2026-07-18 10:00'), orgA)).toBe(true);
    expect(cal.isBusinessDay(jst('2026-01-03 10:00'), orgA)).toBe(false); // Saturday, but year-end closure

    await cal.setOfficeHours(orgA, []);
    expect(cal.officeHours(orgA)).toEqual(cal.officeHours(null));
  });

  it('default rows replace the built-in hours for organizations without their own', async () => {
    await cal.setOfficeHours(null, [1, 2, 3, 4, 5].map((weekday) => ({ weekday, opens: '09:00', closes: '17:00' })));
    try {
      expect(cal.isOpenAt(jst('2026-04-06 08:45'), orgB)).toBe(false);
      expect(cal.isOpenAt(jst('2026-04-06 09:00'), orgB)).toBe(true);
    } finally {
      await cal.setOfficeHours(null, []);
    }
    expect(cal.isOpenAt(jst('2026-04-06 08:45'), orgB)).toBe(true);
  });

  it('validates office hours with Japanese field messages and keeps the old rows', async () => {
    await cal.setOfficeHours(orgB, [{ weekday: 1, opens: '10:00', closes: '16:00' }]);
    const err = await cal
      .setOfficeHours(orgB, [
        { weekday: 7, opens: '8:30', closes: '17:15' },
        { weekday: 1, opens: '17:00', closes: '09:00' },
        { weekday: 2, opens: '09:00', closes: '25:00' },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalendarValidationError);
    const fields = (err as CalendarValidationError).fields;
    expect(Object.keys(fields).sort()).toEqual(['hours.0.opens', 'hours.0.weekday', 'hours.1.closes', 'hours.2.closes']);
    expect(fields['hours.1.closes']).toMatch(/開始時刻より後/);
    await expect(
      cal.setOfficeHours(orgB, [
        { weekday: 1, opens: '09:00', closes: '12:00' },
        { weekday: 1, opens: '11:00', closes: '15:00' },
      ]),
    ).rejects.toBeInstanceOf(CalendarValidationError);
    expect(cal.officeHours(orgB)).toEqual([{ weekday: 1, opens: '10:00', closes: '16:00' }]);
    await cal.setOfficeHours(orgB, []);
  });

  it('validates closed days and refuses duplicates', async () => {
    const bad = await cal.addClosedDay({ organizationId: null, day: '2026-02-30', reason: ' ' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(CalendarValidationError);
    expect(Object.keys((bad as CalendarValidationError).fields).sort()).toEqual(['day', 'reason']);
    await expect(cal.addClosedDay({ organizationId: null, day: '2026/08/14', reason: 'x' })).rejects.toBeInstanceOf(CalendarValidationError);
    const id = await cal.addClosedDay({ organizationId: orgB, day: '2026-08-14', reason: '点検' });
    await expect(cal.addClosedDay({ organizationId: orgB, day: '2026-08-14', reason: '点検' })).rejects.toBeInstanceOf(CalendarValidationError);
    await cal.removeClosedDay(id);
  });

  it('lists closed days by organization and year', async () => {
    const g = await cal.addClosedDay({ organizationId: null, day: '2027-03-01', reason: '全庁' });
    const a1 = await cal.addClosedDay({ organizationId: orgA, day: '2026-11-02', reason: 'A秋' });
    const a2 = await cal.addClosedDay({ organizationId: orgA, day: '2027-02-01', reason: 'A冬' });
    try {
      expect(await cal.listClosedDays({ organizationId: orgA })).toEqual([
        { id: a1, organizationId: orgA, day: '2026-11-02', reason: 'A秋' },
        { id: a2, organizationId: orgA, day: '2027-02-01', reason: 'A冬' },
      ]);
      expect((await cal.listClosedDays({ year: 2027 })).map((d) => d.id)).toEqual([a2, g]);
      expect((await cal.listClosedDays({ organizationId: null })).map((d) => d.id)).toEqual([g]);
    } finally {
      for (const id of [g, a1, a2]) await cal.removeClosedDay(id);
    }
    expect(await cal.listClosedDays()).toEqual([]);
  });

  it('another instance sees changes after its cache expires', async () => {
    const other = new BusinessCalendar({ db: t().handle.db, cacheTtlMs: 0 });
    await other.load();
    const id = await cal.addClosedDay({ organizationId: null, day: '2026-06-01', reason: '臨時休業' });
    try {
      await other.refresh();
      expect(other.isBusinessDay(jst('2026-06-01 10:00'))).toBe(false);
    } finally {
      await cal.removeClosedDay(id);
    }
  });
});
