import { z } from 'zod';
import type { Selectable } from 'kysely';
import type { Db } from '../../core/db/index.js';
import { nowIso } from '../../core/db/index.js';
import type { AuditService } from '../../core/audit/index.js';
import type { Actor } from '../../core/permissions/index.js';
import type { Platform } from '../../core/platform.js';
import { translator } from '../../core/i18n/index.js';
import { formatPeriod, formatWhen } from '../../core/ui/view.js';
import type { MaintenanceWindowTable } from './migrations.js';
import './messages.js';

/** Planned stops are announced to users at least this many days ahead (H-19 / O-03: one week). */
export const MAINTENANCE_LEAD_DAYS = 7;
/** Every public request consults the windows; they are re-read at most this often per node. */
export const MAINTENANCE_CACHE_MS = 5_000;

const DAY_MS = 86_400_000;

export interface MaintenanceWindow {
  id: number;
  title: string;
  body: string;
  startsAt: string;
  endsAt: string;
  announceFrom: string;
  affectsPublic: boolean;
  createdBy: number | null;
  createdAt: string;
  cancelledAt: string | null;
}

export type MaintenanceStatus = 'scheduled' | 'announced' | 'active' | 'ended' | 'cancelled';

/**
 * Bad input. `keys` holds i18n keys per field (screens translate them); `fields` the same in
 * Japanese, for callers without a translator (CLI, logs).
 */
export class MaintenanceValidationError extends Error {
  readonly fields: Record<string, string>;
  constructor(public readonly keys: Record<string, string>) {
    const ja = translator('ja');
    const fields = Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, ja(v)]));
    super(`入力内容に誤りがあります / invalid maintenance window: ${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    this.name = 'MaintenanceValidationError';
    this.fields = fields;
  }
}

/** Who acted, for the audit entry. */
export interface MaintenanceMeta {
  actor: Actor | null;
  organizationId?: number | null;
  ip?: string | null;
  userAgent?: string | null;
}

/**
 * A point in time from a form or the API: full ISO-8601 with an offset, or the browser's
 * datetime-local value (YYYY-MM-DDTHH:MM[:SS]) read as Japan time.
 */
export function parseInstant(value: string): Date | null {
  const s = value.trim();
  let iso: string;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(s)) iso = `${s.length === 16 ? `${s}:00` : s}+09:00`;
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(s)) iso = s;
  else return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The browser's datetime-local value (JST) for an instant. */
export function toJstLocal(d: Date): string {
  return new Date(d.getTime() + 9 * 3600 * 1000).toISOString().slice(0, 16);
}

const instant = (requiredKey: string) =>
  z.union([z.string(), z.date()], { error: requiredKey }).transform((v, ctx) => {
    if (v instanceof Date) {
      if (Number.isNaN(v.getTime())) ctx.addIssue({ code: 'custom', message: 'maintenance.error.dateInvalid' });
      return v;
    }
    if (!v.trim()) {
      ctx.addIssue({ code: 'custom', message: requiredKey });
      return z.NEVER;
    }
    const d = parseInstant(v);
    if (!d) {
      ctx.addIssue({ code: 'custom', message: 'maintenance.error.dateInvalid' });
      return z.NEVER;
    }
    return d;
  });

const optionalInstant = z
  .union([z.string(), z.date(), z.undefined(), z.null()])
  .transform((v, ctx) => {
    if (v === undefined || v === null || (typeof v === 'string' && !v.trim())) return null;
    const d = v instanceof Date ? v : parseInstant(v);
    if (!d || Number.isNaN(d.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'maintenance.error.dateInvalid' });
      return z.NEVER;
    }
    return d;
  });

/** Input of a new window; messages are i18n keys (maintenance.error.*). */
export const maintenanceInput = z.object({
  title: z.string({ error: 'maintenance.error.titleRequired' }).trim().min(1, 'maintenance.error.titleRequired').max(100, 'maintenance.error.titleTooLong'),
  body: z.string().trim().max(1000, 'maintenance.error.bodyTooLong').optional().default(''),
  startsAt: instant('maintenance.error.startsRequired'),
  endsAt: instant('maintenance.error.endsRequired'),
  announceFrom: optionalInstant,
  affectsPublic: z.union([z.boolean(), z.string(), z.undefined()]).transform((v) => v === true || v === '1' || v === 'on'),
});

/** A new window: times as Dates, ISO-8601 strings or datetime-local values (JST). */
export interface MaintenanceInput {
  title: string;
  body?: string;
  startsAt: string | Date;
  endsAt: string | Date;
  /** Empty: MAINTENANCE_LEAD_DAYS before the start. */
  announceFrom?: string | Date | null;
  /** Whether the public site answers 503 during the window (form: '1'). */
  affectsPublic?: boolean | string;
}

function toWindow(r: Selectable<MaintenanceWindowTable>): MaintenanceWindow {
  return {
    id: r.id,
    title: r.title,
    body: r.body,
    startsAt: new Date(r.starts_at).toISOString(),
    endsAt: new Date(r.ends_at).toISOString(),
    announceFrom: new Date(r.announce_from).toISOString(),
    affectsPublic: r.affects_public === 1,
    createdBy: r.created_by,
    createdAt: r.created_at,
    cancelledAt: r.cancelled_at,
  };
}

/**
 * Planned maintenance windows (C-5, H-19, O-03): while one is in progress and affects the
 * public, public pages answer 503; from its announcement until its end every public page
 * carries a banner. The windows still to come are cached for a few seconds per node.
 */
export class MaintenanceService {
  private readonly db: Db;
  private readonly audit: AuditService;
  private cache: { at: number; windows: MaintenanceWindow[] } | null = null;
  private loading: Promise<MaintenanceWindow[]> | null = null;
  /** Bumped by every change, so a read that started before it is not cached. */
  private generation = 0;

  constructor(opts: { db: Db; audit: AuditService }) {
    this.db = opts.db;
    this.audit = opts.audit;
  }

  /**
   * Validates and stores a window, audited in the same transaction. The start must be in the
   * future, the end after the start, and the announcement before the start.
   * @throws MaintenanceValidationError with i18n keys per field
   */
  async create(input: MaintenanceInput, meta: MaintenanceMeta, now = new Date()): Promise<MaintenanceWindow> {
    const w = this.validate(input, now, { allowPastStart: false });
    return this.insert(w, meta, now);
  }

  /**
   * Stores a window without the "start in the future" rule: for the console and tests that
   * need a window already in progress. The other rules still apply.
   */
  async schedule(input: MaintenanceInput, meta: MaintenanceMeta, now = new Date()): Promise<MaintenanceWindow> {
    const w = this.validate(input, now, { allowPastStart: true });
    return this.insert(w, meta, now);
  }

  private validate(input: MaintenanceInput, now: Date, opts: { allowPastStart: boolean }) {
    // Each field on its own, so one bad field does not hide the others' problems.
    const keys: Record<string, string> = {};
    const shape = maintenanceInput.shape;
    const field = <K extends keyof typeof shape>(name: K): z.output<(typeof shape)[K]> | undefined => {
      const r = shape[name].safeParse(input[name]);
      if (r.success) return r.data as z.output<(typeof shape)[K]>;
      const msg = r.error.issues[0]?.message ?? '';
      keys[name] = msg.startsWith('maintenance.') ? msg : 'maintenance.error.invalid';
      return undefined;
    };
    const d = { title: field('title'), body: field('body'), startsAt: field('startsAt'), endsAt: field('endsAt'), announceFrom: field('announceFrom'), affectsPublic: field('affectsPublic') };
    const { startsAt, endsAt } = d;
    if (startsAt && !opts.allowPastStart && startsAt.getTime() <= now.getTime()) keys.startsAt = 'maintenance.error.startsInPast';
    if (startsAt && endsAt && endsAt.getTime() <= startsAt.getTime()) keys.endsAt = 'maintenance.error.endsBeforeStart';
    if (startsAt && d.announceFrom && d.announceFrom.getTime() >= startsAt.getTime()) keys.announceFrom = 'maintenance.error.announceAfterStart';
    if (Object.keys(keys).length || !startsAt || !endsAt || d.title === undefined) throw new MaintenanceValidationError(keys);
    const announceFrom = d.announceFrom ?? new Date(startsAt.getTime() - MAINTENANCE_LEAD_DAYS * DAY_MS);
    return { title: d.title, body: d.body ?? '', startsAt, endsAt, announceFrom, affectsPublic: d.affectsPublic ?? false };
  }

  private async insert(w: { title: string; body: string; startsAt: Date; endsAt: Date; announceFrom: Date; affectsPublic: boolean }, meta: MaintenanceMeta, now: Date): Promise<MaintenanceWindow> {
    const created = await this.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto('maintenance_windows')
        .values({
          title: w.title,
          body: w.body,
          starts_at: nowIso(w.startsAt),
          ends_at: nowIso(w.endsAt),
          announce_from: nowIso(w.announceFrom),
          affects_public: w.affectsPublic ? 1 : 0,
          created_by: meta.actor && meta.actor.id > 0 ? meta.actor.id : null,
          created_at: nowIso(now),
          cancelled_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const win = toWindow(row);
      await this.audit.record(
        {
          actor: meta.actor,
          organizationId: meta.organizationId ?? null,
          ip: meta.ip ?? null,
          userAgent: meta.userAgent ?? null,
          action: 'maintenance.create',
          targetType: 'maintenance_window',
          targetId: win.id,
          summary: `メンテナンス「${win.title}」を登録しました（${formatPeriod(win.startsAt, win.endsAt, 'ja')}、${win.affectsPublic ? '公開サイト停止' : '告知のみ'}、告知開始 ${formatWhen(win.announceFrom, 'ja')}）`,
        },
        tx,
      );
      return win;
    });
    this.invalidate();
    return created;
  }

  /** Windows, newest start first. */
  async list(opts: { limit?: number; offset?: number } = {}): Promise<{ rows: MaintenanceWindow[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.db.selectFrom('maintenance_windows').selectAll().orderBy('starts_at', 'desc').orderBy('id', 'desc').limit(opts.limit ?? 50).offset(opts.offset ?? 0).execute(),
      this.db.selectFrom('maintenance_windows').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows: rows.map(toWindow), total: Number(count.n) };
  }

  async get(id: number): Promise<MaintenanceWindow | null> {
    const row = await this.db.selectFrom('maintenance_windows').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toWindow(row) : null;
  }

  /**
   * Cancels a window that has not ended; a window in progress ends at once.
   * @returns the cancelled window, or null when there is none to cancel (unknown, ended, already cancelled)
   */
  async cancel(id: number, meta: MaintenanceMeta, now = new Date()): Promise<MaintenanceWindow | null> {
    const done = await this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('maintenance_windows').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      const win = toWindow(row);
      if (win.cancelledAt || Date.parse(win.endsAt) <= now.getTime()) return null;
      const res = await tx.updateTable('maintenance_windows').set({ cancelled_at: nowIso(now) }).where('id', '=', id).where('cancelled_at', 'is', null).executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return null;
      const wasActive = Date.parse(win.startsAt) <= now.getTime();
      await this.audit.record(
        {
          actor: meta.actor,
          organizationId: meta.organizationId ?? null,
          ip: meta.ip ?? null,
          userAgent: meta.userAgent ?? null,
          action: 'maintenance.cancel',
          targetType: 'maintenance_window',
          targetId: id,
          summary: `メンテナンス「${win.title}」（${formatPeriod(win.startsAt, win.endsAt, 'ja')}）を${wasActive ? '終了' : '中止'}しました`,
        },
        tx,
      );
      return { ...win, cancelledAt: nowIso(now) };
    });
    this.invalidate();
    return done;
  }

  /** The window in progress at `now` (not cancelled), the one affecting the public first. */
  async active(now = new Date()): Promise<MaintenanceWindow | null> {
    const t = now.getTime();
    const found = (await this.upcoming(now)).filter((w) => Date.parse(w.startsAt) <= t && t < Date.parse(w.endsAt));
    return found.find((w) => w.affectsPublic) ?? found[0] ?? null;
  }

  /** The window to announce at `now`: announce_from <= now < ends_at, not cancelled; the soonest first. */
  async announced(now = new Date()): Promise<MaintenanceWindow | null> {
    const t = now.getTime();
    return (await this.upcoming(now)).find((w) => Date.parse(w.announceFrom) <= t && t < Date.parse(w.endsAt)) ?? null;
  }

  /** A window's state at `now`. */
  status(w: MaintenanceWindow, now = new Date()): MaintenanceStatus {
    const t = now.getTime();
    if (w.cancelledAt) return 'cancelled';
    if (Date.parse(w.endsAt) <= t) return 'ended';
    if (Date.parse(w.startsAt) <= t) return 'active';
    if (Date.parse(w.announceFrom) <= t) return 'announced';
    return 'scheduled';
  }

  /** Forgets the cached windows (after a change on this node). */
  invalidate(): void {
    this.cache = null;
    this.loading = null;
    this.generation++;
  }

  /** Windows not cancelled that had not ended when read, soonest start first; cached briefly. */
  private async upcoming(now: Date): Promise<MaintenanceWindow[]> {
    const wall = Date.now();
    if (this.cache && wall - this.cache.at < MAINTENANCE_CACHE_MS) return this.cache.windows;
    if (!this.loading) {
      const at = wall;
      const generation = this.generation;
      const loading: Promise<MaintenanceWindow[]> = this.db
        .selectFrom('maintenance_windows')
        .selectAll()
        .where('cancelled_at', 'is', null)
        .where('ends_at', '>', nowIso(new Date(Math.min(at, now.getTime()))))
        .orderBy('starts_at')
        .execute()
        .then((rows) => {
          const windows = rows.map(toWindow);
          if (generation === this.generation) this.cache = { at, windows };
          return windows;
        })
        .finally(() => {
          if (this.loading === loading) this.loading = null;
        });
      this.loading = loading;
    }
    return this.loading;
  }
}

const services = new WeakMap<Platform, MaintenanceService>();

/** The maintenance service of a platform (created once, on first use). */
export function maintenanceOf(p: Platform): MaintenanceService {
  let s = services.get(p);
  if (!s) {
    s = new MaintenanceService({ db: p.db, audit: p.audit });
    services.set(p, s);
  }
  return s;
}
