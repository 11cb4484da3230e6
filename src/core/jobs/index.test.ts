import { beforeEach, expect, it } from 'vitest';
import { describeEngines } from '../../../test/helpers/db.js';
import { openDatabase, parseJson, type DatabaseHandle } from '../db/index.js';
import { silentLogger } from '../log.js';
import { JobRunner, type JobDefinition, type JobRunnerOptions } from './index.js';

const T0 = new Date('2030-04-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const MIN = 60_000;

/** Resolves on the next turn of the event loop, letting other promises progress. */
const tick = () => new Promise<void>((r) => setImmediate(r));

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describeEngines('job runner', (t, engine) => {
  let clock: Date;
  const runner = (over: Partial<JobRunnerOptions> = {}, handle: DatabaseHandle = t().handle) =>
    new JobRunner({ db: handle.db, engine, log: silentLogger(), nodeId: 'node-a', timeZone: 'Asia/Tokyo', now: () => clock, ...over });
  const job = async (id: number) => t().handle.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  beforeEach(async () => {
    clock = T0;
    await t().handle.db.deleteFrom('jobs').execute();
  });

  it('runs a one-off job and records its result', async () => {
    const r = runner();
    const seen: Array<{ payload: unknown; attempt: number }> = [];
    r.register({
      name: 'demo.echo',
      label: 'エコー',
      handler: async (payload, ctx) => {
        seen.push({ payload, attempt: ctx.attempt });
        return { ok: true, 件数: 3 };
      },
    });
    const id = await r.enqueue('demo.echo', { name: '山田' });
    expect(id).toBeTypeOf('number');
    expect(await r.drain()).toBe(1);
    expect(seen).toEqual([{ payload: { name: '山田' }, attempt: 1 }]);
    const row = await job(id!);
    expect(row.status).toBe('done');
    expect(parseJson(row.result, null)).toEqual({ ok: true, 件数: 3 });
    expect(row.attempts).toBe(1);
    expect(row.started_at).toBe(T0.toISOString());
    expect(row.finished_at).not.toBeNull();
    expect(row.locked_by).toBeNull();
    expect(await r.runOnce()).toBe(false);
  });

  it('does not run a job before its run_at, and honours uniqueKey', async () => {
    const r = runner();
    let calls = 0;
    r.register({ name: 'demo.later', label: '後で', handler: async () => ++calls });
    const id = await r.enqueue('demo.later', null, { runAt: at(10 * MIN), uniqueKey: 'later-1' });
    expect(await r.enqueue('demo.later', null, { uniqueKey: 'later-1' })).toBeNull();
    expect(await r.drain(at(9 * MIN))).toBe(0);
    expect(await r.drain(at(10 * MIN))).toBe(1);
    expect(calls).toBe(1);
    expect((await job(id!)).status).toBe('done');
    await expect(r.enqueue('no.such.job')).rejects.toThrow(/unknown job/);
    expect(() => r.register({ name: 'demo.later', label: '重複', handler: async () => null })).toThrow(/already registered/);
  });

  it('enqueues inside a caller transaction: a rollback leaves no job', async () => {
    const r = runner();
    r.register({ name: 'demo.tx', label: 'tx', handler: async () => null });
    await expect(
      t().handle.db.transaction().execute(async (trx) => {
        await r.enqueue('demo.tx', { a: 1 }, {}, trx);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect((await r.list()).total).toBe(0);
  });

  it('retries a failing job with back-off, then marks it dead with its error', async () => {
    const finished: string[] = [];
    const r = runner({ onJobFinished: (_n, status) => finished.push(status) });
    let calls = 0;
    r.register({
      name: 'demo.fail',
      label: '失敗',
      maxAttempts: 3,
      handler: async () => {
        calls++;
        throw new Error(`接続できません (${calls})`);
      },
    });
    const id = (await r.enqueue('demo.fail'))!;

    expect(await r.drain(T0)).toBe(1);
    let row = await job(id);
    expect(row.status).toBe('queued');
    expect(row.attempts).toBe(1);
    expect(row.last_error).toBe('接続できません (1)');
    const firstRetry = Date.parse(row.run_at) - Date.parse(row.finished_at!);
    expect(firstRetry).toBe(30_000);

    // Not due yet just before the back-off expires.
    expect(await r.drain(new Date(Date.parse(row.run_at) - 1))).toBe(0);
    expect(await r.drain(new Date(row.run_at))).toBe(1);
    row = await job(id);
    expect(row.status).toBe('queued');
    expect(Date.parse(row.run_at) - Date.parse(row.finished_at!)).toBe(60_000);

    expect(await r.drain(new Date(row.run_at))).toBe(1);
    row = await job(id);
    expect(row.status).toBe('dead');
    expect(row.attempts).toBe(3);
    expect(row.last_error).toBe('接続できません (3)');
    expect(calls).toBe(3);
    expect(finished).toEqual(['failed', 'failed', 'dead']);
    expect(await r.drain(at(24 * 60 * MIN))).toBe(0);

    const summary = (await r.summary()).find((s) => s.name === 'demo.fail')!;
    expect(summary).toMatchObject({ label: '失敗', dead: 1, queued: 0, lastRun: { id, status: 'dead', error: '接続できません (3)', attempts: 3 } });
    expect((await r.list({ status: 'dead' })).rows.map((x) => x.id)).toEqual([id]);
  });

  it('retry() puts a dead job back in the queue with fresh attempts', async () => {
    const r = runner();
    let fail = true;
    r.register({
      name: 'demo.flaky',
      label: '不安定',
      maxAttempts: 1,
      handler: async () => {
        if (fail) throw new Error('一時的な障害');
        return 'ok';
      },
    });
    const id = (await r.enqueue('demo.flaky'))!;
    await r.drain();
    expect((await job(id)).status).toBe('dead');
    await expect(r.retry(id + 1000)).rejects.toThrow();

    fail = false;
    clock = at(5 * MIN);
    await r.retry(id);
    const queued = await job(id);
    expect(queued).toMatchObject({ status: 'queued', attempts: 0, run_at: at(5 * MIN).toISOString() });
    expect(await r.drain()).toBe(1);
    expect(await job(id)).toMatchObject({ status: 'done', attempts: 1, result: '"ok"' });
    await expect(r.retry(id)).rejects.toThrow(/cannot be retried/);
  });

  it('marks a job whose name no node knows as dead with a clear error', async () => {
    const r = runner();
    r.register({ name: 'demo.known', label: '既知', handler: async () => null });
    const id = (await r.enqueue('demo.known'))!;
    // Another runner (e.g. an older node) without that definition claims it.
    const other = runner({ nodeId: 'node-old' });
    expect(await other.runOnce()).toBe(true);
    const row = await job(id);
    expect(row.status).toBe('dead');
    expect(row.last_error).toContain('未登録のジョブです: demo.known');
  });

  it('fails an attempt that exceeds its timeout and aborts its signal', async () => {
    const r = runner();
    let signalled = false;
    r.register({
      name: 'demo.slow',
      label: '遅い',
      maxAttempts: 2,
      timeoutMs: 20,
      handler: (_p, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            signalled = true;
            resolve('too late');
          });
        }),
    });
    const id = (await r.enqueue('demo.slow'))!;
    await r.runOnce();
    const row = await job(id);
    expect(signalled).toBe(true);
    expect(row.status).toBe('queued');
    expect(row.last_error).toMatch(/タイムアウト/);
  });

  it('queues exactly one job per cron slot, however often and from however many nodes scheduleDue runs', async () => {
    const second = engine === 'postgres' ? openDatabase(t().url) : t().handle;
    try {
      const defs: JobDefinition[] = [
        { name: 'demo.hourly', label: '毎時', schedule: '0 * * * *', handler: async (p: { scheduledAt: string }) => p.scheduledAt },
        // 03:00 in Tokyo is 18:00 UTC the previous day.
        { name: 'demo.daily', label: '日次', schedule: '0 3 * * *', handler: async () => null },
      ];
      const a = runner();
      const b = runner({ nodeId: 'node-b' }, second);
      for (const d of defs) {
        a.register(d);
        b.register(d);
      }
      clock = new Date('2030-04-01T10:20:00.000Z');
      const counts = await Promise.all([a.scheduleDue(), b.scheduleDue(), a.scheduleDue(), b.scheduleDue()]);
      expect(counts.reduce((x, y) => x + y, 0)).toBe(2);
      expect(await a.scheduleDue()).toBe(0);

      clock = new Date('2030-04-01T10:59:59.999Z');
      expect(await Promise.all([a.scheduleDue(), b.scheduleDue()])).toEqual([0, 0]);
      clock = new Date('2030-04-01T11:00:00.000Z');
      expect((await Promise.all([a.scheduleDue(), b.scheduleDue()])).reduce((x, y) => x + y, 0)).toBe(1);

      const rows = await t().handle.db.selectFrom('jobs').select(['name', 'run_at', 'unique_key']).orderBy('name').orderBy('run_at').execute();
      expect(rows).toEqual([
        { name: 'demo.daily', run_at: '2030-03-31T18:00:00.000Z', unique_key: 'cron:demo.daily:2030-03-31T18:00:00.000Z' },
        { name: 'demo.hourly', run_at: '2030-04-01T10:00:00.000Z', unique_key: 'cron:demo.hourly:2030-04-01T10:00:00.000Z' },
        { name: 'demo.hourly', run_at: '2030-04-01T11:00:00.000Z', unique_key: 'cron:demo.hourly:2030-04-01T11:00:00.000Z' },
      ]);
      expect(await a.drain()).toBe(3);
      const hourly = await a.list({ name: 'demo.hourly' });
      expect(hourly.rows.map((x) => parseJson(x.result, null))).toEqual(['2030-04-01T11:00:00.000Z', '2030-04-01T10:00:00.000Z']);
      const s = (await a.summary()).find((x) => x.name === 'demo.daily')!;
      expect(s.schedule).toBe('0 3 * * *');
      expect(s.nextRunAt).toBe('2030-04-01T18:00:00.000Z');
    } finally {
      if (second !== t().handle) await second.close();
    }
  });

  it('two nodes draining the same 20 jobs concurrently run each exactly once', async () => {
    const second = engine === 'postgres' ? openDatabase(t().url) : t().handle;
    try {
      const calls = new Map<number, number>();
      const def: JobDefinition = {
        name: 'demo.count',
        label: '計数',
        handler: async (_p, ctx) => {
          calls.set(ctx.jobId, (calls.get(ctx.jobId) ?? 0) + 1);
          await tick();
          return null;
        },
      };
      const a = runner();
      const b = runner({ nodeId: 'node-b' }, second);
      a.register(def);
      b.register(def);
      const ids: number[] = [];
      for (let i = 0; i < 20; i++) ids.push((await a.enqueue('demo.count', { i }))!);
      const [na, nb] = await Promise.all([a.drain(), b.drain()]);
      expect(na + nb).toBe(20);
      expect([...calls.keys()].sort((x, y) => x - y)).toEqual(ids);
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
      const done = await a.list({ status: 'done', limit: 100 });
      expect(done.total).toBe(20);
    } finally {
      if (second !== t().handle) await second.close();
    }
  });

  if (engine === 'postgres') {
    it('skips a job row another node holds locked instead of waiting for it', async () => {
      const r = runner();
      const ran: number[] = [];
      r.register({ name: 'demo.skip', label: 'スキップ', handler: async (_p, ctx) => ran.push(ctx.jobId) });
      const first = (await r.enqueue('demo.skip'))!;
      const second = (await r.enqueue('demo.skip'))!;
      await t().handle.db.transaction().execute(async (trx) => {
        // Another node is in the middle of claiming the first job.
        await trx.selectFrom('jobs').select('id').where('id', '=', first).forUpdate().execute();
        expect(await r.runOnce()).toBe(true);
      });
      expect(ran).toEqual([second]);
      expect(await r.drain()).toBe(1);
      expect(ran).toEqual([second, first]);
    });
  }

  it('recovers jobs left running by a node that died', async () => {
    const r = runner();
    let calls = 0;
    r.register({ name: 'demo.stale', label: '中断', timeoutMs: 5 * MIN, handler: async () => ++calls });
    const staleId = (await r.enqueue('demo.stale'))!;
    const freshId = (await r.enqueue('demo.stale'))!;
    const db = t().handle.db;
    // Simulate claims by a node that crashed 7 minutes ago, and one still legitimately running.
    await db.updateTable('jobs').set({ status: 'running', attempts: 1, locked_by: 'node-dead', locked_at: at(-7 * MIN).toISOString() }).where('id', '=', staleId).execute();
    await db.updateTable('jobs').set({ status: 'running', attempts: 1, locked_by: 'node-live', locked_at: at(-2 * MIN).toISOString() }).where('id', '=', freshId).execute();

    expect(await r.recoverStale()).toBe(1);
    expect(await job(staleId)).toMatchObject({ status: 'queued', locked_by: null, attempts: 1 });
    expect((await job(staleId)).last_error).toContain('node-dead');
    expect((await job(freshId)).status).toBe('running');
    expect(await r.drain()).toBe(1);
    expect(await job(staleId)).toMatchObject({ status: 'done', attempts: 2 });
    expect(await r.recoverStale(60_000)).toBe(1);
    expect((await job(freshId)).status).toBe('queued');
  });

  it('stop() waits for the in-flight job to finish', async () => {
    const r = runner({ pollMs: 60_000 });
    const started = deferred();
    const release = deferred();
    r.register({
      name: 'demo.inflight',
      label: '実行中',
      handler: async () => {
        started.resolve();
        await release.promise;
        return 'finished';
      },
    });
    const id = (await r.enqueue('demo.inflight'))!;
    r.start();
    await started.promise;
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    for (let i = 0; i < 20; i++) await tick();
    expect(stopped).toBe(false);
    expect((await job(id)).status).toBe('running');
    release.resolve();
    await stopping;
    expect(await job(id)).toMatchObject({ status: 'done', result: '"finished"' });
  });

  it('stop() aborts a job that outlives the grace period and re-queues it without using an attempt', async () => {
    const r = runner({ pollMs: 60_000 });
    const started = deferred();
    r.register({
      name: 'demo.stuck',
      label: '停止しない',
      handler: async () => {
        started.resolve();
        await new Promise(() => {});
      },
    });
    const id = (await r.enqueue('demo.stuck'))!;
    r.start();
    await started.promise;
    await r.stop(10);
    expect(await job(id)).toMatchObject({ status: 'queued', attempts: 0, locked_by: null });
  });
});
