import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEngines, createEmptyDatabase, ENGINES, engineAvailable } from '../../../test/helpers/db.js';
import { openDatabase, nowIso, parseJson } from './index.js';
import { migrateToLatest } from './migrate.js';
import { allMigrations } from '../../modules/index.js';

describeEngines('data layer', (t, engine) => {
  it('reads timestamps, booleans and JSON back the same on every engine', async () => {
    const { db } = t().handle;
    const at = nowIso(new Date('2026-01-02T03:04:05.678Z'));
    await db
      .insertInto('organizations')
      .values({ code: 'x1', name: 'テスト県', name_en: null, kind: 'prefecture', parent_id: null, created_at: at, updated_at: at })
      .execute();
    const org = await db.selectFrom('organizations').selectAll().where('code', '=', 'x1').executeTakeFirstOrThrow();
    expect(org.created_at).toBe('2026-01-02T03:04:05.678Z');
    expect(typeof org.id).toBe('number');
    await db
      .insertInto('jobs')
      .values({ name: 'n', payload: JSON.stringify({ a: [1, 'あ'] }), status: 'queued', run_at: at, attempts: 0, max_attempts: 1, unique_key: null, locked_by: null, locked_at: null, started_at: null, finished_at: null, result: null, last_error: null, created_at: at })
      .execute();
    const job = await db.selectFrom('jobs').select(['payload', 'attempts']).executeTakeFirstOrThrow();
    expect(parseJson(job.payload, null)).toEqual({ a: [1, 'あ'] });
    const count = await db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(count.n).toBe(1);
    const row = await db.selectFrom('users').select(['totp_enabled']).executeTakeFirst();
    expect(row).toBeUndefined();
  });

  it('enforces foreign keys', async () => {
    const { db } = t().handle;
    await expect(db.insertInto('user_roles').values({ user_id: 999999, role: 'editor' }).execute()).rejects.toThrow();
  });

  if (engine === 'sqlite') {
    it('uses WAL and a busy timeout', async () => {
      const h = t().handle;
      expect(h.sqlite!.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(h.sqlite!.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(h.sqlite!.pragma('foreign_keys', { simple: true })).toBe(1);
    });
  }
});

describe('migrations', () => {
  // Several app nodes share one database only on PostgreSQL; SQLite serves a single node.
  for (const engine of ENGINES) {
    const nodeCount = engine === 'postgres' ? 3 : 1;
    it.skipIf(!engineAvailable(engine))(`apply exactly once, also when ${nodeCount} node(s) start at the same time [${engine}]`, async () => {
      const empty = await createEmptyDatabase(engine);
      const nodes = Array.from({ length: nodeCount }, () => openDatabase(empty.url));
      try {
        const results = await Promise.all(nodes.map((h) => migrateToLatest(h, allMigrations())));
        const applied = results.flatMap((r) => r.results ?? []).filter((r) => r.status === 'Success');
        expect(applied.map((r) => r.migrationName).sort()).toEqual(allMigrations().map((m) => m.name).sort());
        const again = await migrateToLatest(nodes[0]!, allMigrations());
        expect(again.results).toEqual([]);
        const tables = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(nodes[0]!.db);
        expect(Number(tables.rows[0]!.n)).toBe(allMigrations().length);
      } finally {
        for (const h of nodes) await h.close();
        await empty.drop();
      }
    });
  }
});
