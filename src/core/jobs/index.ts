import { performance } from 'node:perf_hooks';
import { Cron } from 'croner';
import type { Kysely, Selectable } from 'kysely';
import { parseJson, type Database, type Db, type Engine } from '../db/index.js';
import type { JobStatus, JobTable } from '../db/schema.js';
import type { Logger } from '../log.js';

export type { JobStatus } from '../db/schema.js';
export type JobRow = Selectable<JobTable>;

export interface JobContext {
  log: Logger;
  /** 1 on the first run, 2 on the first retry, … */
  attempt: number;
  jobId: number;
  /** Fired when the job exceeds its timeout or the runner shuts down; long handlers should honour it. */
  signal: AbortSignal;
}

export interface JobDefinition<P = any> {
  /** Stable identifier stored in the jobs table, e.g. 'backup.daily', 'mail.deliver'. */
  name: string;
  /** Japanese label for the admin screen, e.g. '日次バックアップ'. */
  label: string;
  /** Does the work; the resolved value is stored as the job's result JSON. */
  handler(payload: P, ctx: JobContext): Promise<unknown>;
  /** Cron expression (5 or 6 fields, croner syntax) evaluated in the runner's time zone. Scheduled runs receive `{ scheduledAt }`. */
  schedule?: string;
  /** Default 5. */
  maxAttempts?: number;
  /** Seconds to wait before retry number `attempt`; default min(30·2^(attempt-1), 3600). */
  backoffSeconds?(attempt: number): number;
  /** Default 10 minutes; on expiry the signal is aborted and the attempt counts as failed. */
  timeoutMs?: number;
}

export interface JobRunnerOptions {
  db: Db;
  engine: Engine;
  log: Logger;
  /** Identifies this app node in jobs.locked_by (host name + pid is a good choice). */
  nodeId: string;
  /** IANA zone for cron schedules, normally 'Asia/Tokyo'. */
  timeZone: string;
  /** Poll interval of start(); default 5 s. */
  pollMs?: number;
  /** Called after every attempt (metrics hook). */
  onJobFinished?(name: string, status: 'done' | 'failed' | 'dead', durationMs: number): void;
  /** Clock, replaceable in tests. */
  now?: () => Date;
}

export interface JobSummary {
  name: string;
  label: string;
  schedule: string | null;
  /** Next cron occurrence or earliest queued run, whichever comes first. */
  nextRunAt: string | null;
  lastRun: null | { id: number; status: string; finishedAt: string | null; error: string | null; result: unknown; attempts: number };
  queued: number;
  dead: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** Margin on top of a job's timeout before its lock counts as abandoned (the node died mid-run). */
const STALE_GRACE_MS = 60_000;
const RECOVER_EVERY_MS = 60_000;
const MAX_ERROR_LENGTH = 2000;

/** Default retry delay: 30 s, 60 s, 120 s … capped at one hour. */
export function defaultBackoffSeconds(attempt: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempt - 1), 3600);
}

class JobTimeoutError extends Error {
  constructor(ms: number) {
    super(`タイムアウトしました（${ms} ms）`);
    this.name = 'JobTimeoutError';
  }
}

class ShutdownAbort extends Error {
  constructor() {
    super('runner stopped');
    this.name = 'ShutdownAbort';
  }
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Database-backed job queue and cron scheduler. Several app nodes may share one PostgreSQL
 * database: claims use FOR UPDATE SKIP LOCKED and cron slots are deduplicated by unique key.
 * @example
 * const jobs = new JobRunner({ db, engine, log, nodeId: `${hostname()}:${process.pid}`, timeZone: 'Asia/Tokyo' })
 * jobs.register({ name: 'backup.daily', label: '日次バックアップ', schedule: '0 3 * * *', handler: async () => backup() })
 * jobs.start() // … on shutdown: await jobs.stop()
 */
export class JobRunner {
  private readonly defs = new Map<string, JobDefinition>();
  private readonly crons = new Map<string, Cron>();
  private readonly running = new Set<Running>();
  private readonly now: () => Date;
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private started = false;
  private lastRecover = 0;

  constructor(private readonly opts: JobRunnerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.pollMs = opts.pollMs ?? 5000;
  }

  /**
   * Adds a job type. Throws on a duplicate name or an invalid cron expression.
   * @example jobs.register({ name: 'report.weekly', label: '週次レポート', schedule: '0 8 * * 1', handler: async () => ({ ok: true }) })
   */
  register(def: JobDefinition): void {
    if (!def.name) throw new Error('job name is required');
    if (this.defs.has(def.name)) throw new Error(`job already registered: ${def.name}`);
    if (def.schedule !== undefined) {
      // croner treats a string containing ':' as a one-off date, not a pattern.
      if (def.schedule.includes(':')) throw new Error(`invalid cron expression for ${def.name}: ${def.schedule}`);
      this.crons.set(def.name, new Cron(def.schedule, { timezone: this.opts.timeZone, paused: true }));
    }
    this.defs.set(def.name, def);
  }

  /** Registered job types in registration order. @example jobs.definitions().map((d) => d.label) */
  definitions(): JobDefinition[] {
    return [...this.defs.values()];
  }

  /**
   * Queues a job; pass `tx` to make it part of a surrounding transaction. Returns the id, or null
   * when a job with the same uniqueKey exists. Throws for an unregistered name.
   * @example await jobs.enqueue('mail.deliver', { id: 3 }, { maxAttempts: 8 }, trx)
   */
  async enqueue(
    name: string,
    payload?: unknown,
    opts: { runAt?: Date; uniqueKey?: string; maxAttempts?: number } = {},
    tx?: Kysely<Database>,
  ): Promise<number | null> {
    const def = this.defs.get(name);
    if (!def) throw new Error(`unknown job: ${name}`);
    const now = this.now();
    const json = payload === undefined ? null : JSON.stringify(payload);
    const row = await (tx ?? this.opts.db)
      .insertInto('jobs')
      .values({
        name,
        payload: json ?? null,
        status: 'queued',
        run_at: (opts.runAt ?? now).toISOString(),
        attempts: 0,
        max_attempts: opts.maxAttempts ?? def.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        unique_key: opts.uniqueKey ?? null,
        locked_by: null,
        locked_at: null,
        started_at: null,
        finished_at: null,
        result: null,
        last_error: null,
        created_at: now.toISOString(),
      })
      .onConflict((oc) => oc.column('unique_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row && !tx && (opts.runAt ?? now) <= now) this.wake();
    return row ? row.id : null;
  }

  /**
   * Queues the latest due cron occurrence of every scheduled job. Safe to call often and from
   * every node: each slot has the unique key `cron:<name>:<iso>`. Missed older slots are skipped.
   * @example await jobs.scheduleDue(new Date('2026-04-01T00:00:00Z')) // → number of jobs queued
   */
  async scheduleDue(now: Date = this.now()): Promise<number> {
    let queued = 0;
    for (const [name, cron] of this.crons) {
      const slot = latestOccurrence(cron, now);
      if (!slot) continue;
      const iso = slot.toISOString();
      const id = await this.enqueue(name, { scheduledAt: iso }, { runAt: slot, uniqueKey: `cron:${name}:${iso}` });
      if (id !== null) queued++;
    }
    return queued;
  }

  /**
   * Claims one due job and runs it to completion. Returns true when a job ran.
   * @example while (await jobs.runOnce()) {}
   */
  async runOnce(now: Date = this.now()): Promise<boolean> {
    const row = await this.claim(now);
    if (!row) return false;
    const controller = new AbortController();
    const entry: Running = { controller, done: Promise.resolve() };
    entry.done = this.execute(row, now, controller).finally(() => this.running.delete(entry));
    this.running.add(entry);
    await entry.done;
    return true;
  }

  /**
   * Runs due jobs one after another until none is left; returns how many ran.
   * @example await jobs.drain(new Date('2026-04-01T01:00:00Z'))
   */
  async drain(now: Date = this.now()): Promise<number> {
    let n = 0;
    while (await this.runOnce(now)) n++;
    return n;
  }

  /**
   * Starts the poll loop (stale recovery, cron scheduling, due jobs). Timers are unref'd.
   * @example jobs.start()
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /**
   * Stops polling and waits for the running job; after `graceMs` it is aborted and re-queued
   * without using up an attempt.
   * @example process.on('SIGTERM', () => void jobs.stop())
   */
  async stop(graceMs = 30_000): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const pending = Promise.all([this.tick, ...[...this.running].map((r) => r.done)]).then(() => undefined);
    let graceTimer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      graceTimer = setTimeout(() => resolve('expired'), graceMs);
    });
    const outcome = await Promise.race([pending, expired]);
    clearTimeout(graceTimer);
    if (outcome === 'expired') {
      for (const r of this.running) r.controller.abort(new ShutdownAbort());
      await Promise.all([this.tick, ...[...this.running].map((r) => r.done)]);
    }
  }

  /**
   * Puts running jobs whose lock is older than their timeout (plus a minute) back in the queue —
   * their node died mid-run. A job that already used its last attempt becomes dead.
   * @example await jobs.recoverStale() // → number recovered
   */
  async recoverStale(olderThanMs?: number): Promise<number> {
    const now = this.now();
    const rows = await this.opts.db
      .selectFrom('jobs')
      .select(['id', 'name', 'locked_at', 'locked_by', 'attempts', 'max_attempts'])
      .where('status', '=', 'running')
      .execute();
    let recovered = 0;
    for (const row of rows) {
      const limit = olderThanMs ?? (this.defs.get(row.name)?.timeoutMs ?? DEFAULT_TIMEOUT_MS) + STALE_GRACE_MS;
      if (!row.locked_at || now.getTime() - Date.parse(row.locked_at) < limit) continue;
      const dead = row.attempts >= row.max_attempts;
      const res = await this.opts.db
        .updateTable('jobs')
        .set({
          status: dead ? 'dead' : 'queued',
          run_at: now.toISOString(),
          locked_by: null,
          locked_at: null,
          finished_at: dead ? now.toISOString() : null,
          last_error: `実行中のまま応答がなくなりました（ノード ${row.locked_by ?? '?'}）`,
        })
        .where('id', '=', row.id)
        .where('status', '=', 'running')
        .where('locked_at', '=', row.locked_at)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) > 0) {
        recovered++;
        this.opts.log.warn({ jobId: row.id, job: row.name, lockedBy: row.locked_by }, 'recovered stale job');
      }
    }
    return recovered;
  }

  /**
   * Sends a dead, failed or waiting job back to the queue to run now, with a fresh set of attempts.
   * @example await jobs.retry(42)
   */
  async retry(id: number): Promise<void> {
    const res = await this.opts.db
      .updateTable('jobs')
      .set({ status: 'queued', run_at: this.now().toISOString(), attempts: 0, locked_by: null, locked_at: null, finished_at: null })
      .where('id', '=', id)
      .where('status', 'in', ['dead', 'failed', 'queued'])
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new Error(`job ${id} does not exist or cannot be retried`);
    this.wake();
  }

  /**
   * One line per registered job type for the admin screen.
   * @example const rows = await jobs.summary()
   */
  async summary(): Promise<JobSummary[]> {
    const db = this.opts.db;
    const now = this.now();
    const counts = await db
      .selectFrom('jobs')
      .select((eb) => ['name', 'status', eb.fn.countAll<number>().as('n'), eb.fn.min('run_at').as('first_run_at')])
      .where('status', 'in', ['queued', 'dead'])
      .groupBy(['name', 'status'])
      .execute();
    const out: JobSummary[] = [];
    for (const def of this.defs.values()) {
      const last = await db
        .selectFrom('jobs')
        .selectAll()
        .where('name', '=', def.name)
        .where('started_at', 'is not', null)
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      const queuedRow = counts.find((c) => c.name === def.name && c.status === 'queued');
      const deadRow = counts.find((c) => c.name === def.name && c.status === 'dead');
      const candidates = [this.crons.get(def.name)?.nextRun(now)?.toISOString(), queuedRow?.first_run_at ?? undefined]
        .filter((v): v is string => typeof v === 'string')
        .sort((a, b) => Date.parse(a) - Date.parse(b));
      out.push({
        name: def.name,
        label: def.label,
        schedule: def.schedule ?? null,
        nextRunAt: candidates[0] ?? null,
        lastRun: last
          ? {
              id: last.id,
              status: last.status,
              finishedAt: last.finished_at,
              error: last.last_error,
              result: parseJson<unknown>(last.result, null),
              attempts: last.attempts,
            }
          : null,
        queued: Number(queuedRow?.n ?? 0),
        dead: Number(deadRow?.n ?? 0),
      });
    }
    return out;
  }

  /**
   * Jobs, newest first, optionally filtered.
   * @example const { rows, total } = await jobs.list({ status: 'dead', limit: 20 })
   */
  async list(filter: { name?: string; status?: JobStatus; limit?: number; offset?: number } = {}): Promise<{ rows: JobRow[]; total: number }> {
    let q = this.opts.db.selectFrom('jobs');
    if (filter.name) q = q.where('name', '=', filter.name);
    if (filter.status) q = q.where('status', '=', filter.status);
    const limit = Math.min(Math.max(1, filter.limit ?? 50), 500);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('id', 'desc').limit(limit).offset(Math.max(0, filter.offset ?? 0)).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  private async claim(now: Date): Promise<JobRow | undefined> {
    const iso = now.toISOString();
    const update = (db: Kysely<Database>, skipLocked: boolean) =>
      db
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running' as const,
          locked_by: this.opts.nodeId,
          locked_at: iso,
          started_at: iso,
          attempts: eb('attempts', '+', 1),
        }))
        .where((eb) =>
          eb(
            'id',
            '=',
            eb
              .selectFrom('jobs')
              .select('id')
              .where('status', '=', 'queued')
              .where('run_at', '<=', iso)
              .orderBy('run_at')
              .orderBy('id')
              .limit(1)
              .$if(skipLocked, (s) => s.forUpdate().skipLocked()),
          ),
        )
        .where('status', '=', 'queued')
        .returningAll()
        .executeTakeFirst();
    if (this.opts.engine === 'postgres') return update(this.opts.db, true);
    return this.opts.db.transaction().execute((trx) => update(trx, false));
  }

  private async execute(row: JobRow, startedAt: Date, controller: AbortController): Promise<void> {
    const db = this.opts.db;
    const t0 = performance.now();
    const finishedAt = () => new Date(startedAt.getTime() + Math.round(performance.now() - t0)).toISOString();
    // Only the claim that is still ours may be closed: a stale-recovered job may run elsewhere now.
    const mine = <Q extends { where: (...args: any[]) => Q }>(q: Q): Q =>
      q.where('id', '=', row.id).where('status', '=', 'running').where('locked_by', '=', this.opts.nodeId).where('locked_at', '=', row.locked_at);
    const def = this.defs.get(row.name);
    if (!def) {
      const error = `未登録のジョブです: ${row.name}（このノードに登録されていません）`;
      await mine(db.updateTable('jobs').set({ status: 'dead', finished_at: finishedAt(), locked_by: null, locked_at: null, last_error: error })).execute();
      this.opts.log.error({ jobId: row.id, job: row.name }, 'unknown job name; marked dead');
      this.opts.onJobFinished?.(row.name, 'dead', 0);
      return;
    }
    const log = this.opts.log.child({ job: row.name, jobId: row.id, attempt: row.attempts });
    const timeoutMs = def.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => controller.abort(new JobTimeoutError(timeoutMs)), timeoutMs);
    timer.unref();
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      const ctx: JobContext = { log, attempt: row.attempts, jobId: row.id, signal: controller.signal };
      const value = await Promise.race([Promise.resolve().then(() => def.handler(parseJson<unknown>(row.payload, null), ctx)), aborted]);
      outcome = { ok: true, value };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      clearTimeout(timer);
    }
    const durationMs = performance.now() - t0;
    const end = finishedAt();
    const release = { locked_by: null, locked_at: null, finished_at: end };

    if (outcome.ok) {
      await mine(db.updateTable('jobs').set({ ...release, status: 'done', result: toJson(outcome.value), last_error: null })).execute();
      log.info({ durationMs: Math.round(durationMs) }, 'job done');
      this.opts.onJobFinished?.(row.name, 'done', durationMs);
      return;
    }

    const error = outcome.error;
    if (error instanceof ShutdownAbort) {
      // Interrupted by our own shutdown, not by the job: give the attempt back.
      await mine(
        db.updateTable('jobs').set((eb) => ({ ...release, status: 'queued', run_at: end, attempts: eb('attempts', '-', 1), last_error: 'シャットダウンのため中断しました' })),
      ).execute();
      log.warn('job interrupted by shutdown; re-queued');
      return;
    }
    const message = errorMessage(error);
    if (row.attempts < row.max_attempts) {
      const delay = (def.backoffSeconds ?? defaultBackoffSeconds)(row.attempts);
      const runAt = new Date(Date.parse(end) + Math.max(0, delay) * 1000).toISOString();
      await mine(db.updateTable('jobs').set({ ...release, status: 'queued', run_at: runAt, last_error: message })).execute();
      log.warn({ err: error, retryAt: runAt }, 'job failed; will retry');
      this.opts.onJobFinished?.(row.name, 'failed', durationMs);
    } else {
      await mine(db.updateTable('jobs').set({ ...release, status: 'dead', last_error: message })).execute();
      log.error({ err: error }, 'job failed for the last time');
      this.opts.onJobFinished?.(row.name, 'dead', durationMs);
    }
  }

  private schedule(delayMs: number): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.tick) return;
      this.tick = this.poll().finally(() => {
        this.tick = undefined;
        this.schedule(this.pollMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Runs the poll loop soon instead of after a full interval; call after committing a transaction
   * that queued work. No-op when the runner is not started.
   * @example await db.transaction().execute((trx) => jobs.enqueue('x', {}, {}, trx)); jobs.wake()
   */
  wake(): void {
    if (this.started && !this.tick) this.schedule(0);
  }

  private async poll(): Promise<void> {
    try {
      if (Date.now() - this.lastRecover >= RECOVER_EVERY_MS) {
        this.lastRecover = Date.now();
        await this.recoverStale();
      }
      await this.scheduleDue();
      while (this.started && (await this.runOnce())) {
        // keep going while work is due
      }
    } catch (e) {
      this.opts.log.error({ err: e }, 'job poll failed');
    }
  }
}

/** The latest occurrence of `cron` at or before `now`, or null (croner only looks forward). */
function latestOccurrence(cron: Cron, now: Date): Date | null {
  const lookbacks = [60_000, 3_600_000, 86_400_000, 32 * 86_400_000, 367 * 86_400_000, 5 * 367 * 86_400_000];
  for (const back of lookbacks) {
    let t = cron.nextRun(new Date(now.getTime() - back));
    if (!t || t > now) continue;
    for (let next = cron.nextRun(t); next && next <= now; next = cron.nextRun(t)) t = next;
    return t;
  }
  return null;
}

function errorMessage(e: unknown): string {
  const m = e instanceof Error ? e.message || e.name : String(e);
  return m.length > MAX_ERROR_LENGTH ? `${m.slice(0, MAX_ERROR_LENGTH)}…` : m;
}

function toJson(value: unknown): string | null {
  if (value === undefined) return null;
  try {
    // jsonb rejects \u0000 in strings; strip it so both engines store the same result.
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? v.replace(/\u0000/g, '') : v)) ?? null;
  } catch {
    return JSON.stringify({ unserializable: String(value) });
  }
}
