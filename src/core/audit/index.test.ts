import { sql } from 'kysely';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEngines, type TestDatabase } from '../../../test/helpers/db.js';
import type { Engine } from '../db/index.js';
import { nowIso } from '../db/index.js';
import { parseCsv } from '../csv/index.js';
import { AUDIT_HEAD_KEY, AuditService, GENESIS_HASH, type AuditActor } from './index.js';

const admin: AuditActor = { id: 1, loginId: 'admin', organizationId: 10 };
const clerk: AuditActor = { id: 2, loginId: 'clerk.suzuki', organizationId: 20 };

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of it) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

describeEngines('audit trail', (t, engine) => {
  const audit = () => new AuditService({ db: t().handle.db, engine });

  it('records entries and lists them with every filter and paging', async () => {
    const a = audit();
    const id1 = await a.record({ action: 'auth.login', summary: 'ログインしました', actor: admin, ip: '192.0.2.1', userAgent: 'Mozilla/5.0', at: new Date('2026-04-01T00:00:00.000Z') });
    const id2 = await a.record({
      action: 'user.update',
      summary: '利用者「山田 太郎」を更新',
      actor: admin,
      targetType: 'user',
      targetId: 42,
      details: { changed: ['email', 'display_name'], before: { email: 'old@example.jp' } },
      at: new Date('2026-04-01T15:30:00.000Z'), // 2026-04-02 00:30 JST
    });
    const id3 = await a.record({ action: 'auth.login', summary: 'ログインしました', actor: clerk, ip: '2001:db8::1', at: new Date('2026-04-02T03:00:00.000Z') });
    const id4 = await a.record({ action: 'cms.page.publish', summary: '100%完了のお知らせを公開', actor: clerk, organizationId: null, targetType: 'page', targetId: 'p-7', at: new Date('2026-04-03T01:00:00.000Z') });
    const id5 = await a.record({ action: 'system.start', summary: 'ADMIN console started', at: new Date('2026-04-03T02:00:00.000Z') });
    expect([id1, id2, id3, id4, id5]).toEqual([1, 2, 3, 4, 5]);

    const all = await a.list({});
    expect(all.total).toBe(5);
    expect(all.rows.map((r) => r.id)).toEqual([5, 4, 3, 2, 1]);
    const r2 = all.rows.find((r) => r.id === 2)!;
    expect(r2).toMatchObject({ action: 'user.update', actorId: 1, actorLogin: 'admin', organizationId: 10, targetType: 'user', targetId: '42', at: '2026-04-01T15:30:00.000Z' });
    expect(r2.details).toEqual({ changed: ['email', 'display_name'], before: { email: 'old@example.jp' } });
    expect(r2.prevHash).toBe(all.rows.find((r) => r.id === 1)!.hash);
    expect(all.rows.find((r) => r.id === 1)!.prevHash).toBe(GENESIS_HASH);
    expect(all.rows.find((r) => r.id === 5)).toMatchObject({ actorId: null, actorLogin: null, organizationId: null, details: null });

    const ids = async (f: Parameters<AuditService['list']>[0]) => (await a.list(f)).rows.map((r) => r.id);
    // Date-only bounds are whole JST days.
    expect(await ids({ from: '2026-04-02' })).toEqual([5, 4, 3, 2]);
    expect(await ids({ to: '2026-04-01' })).toEqual([1]);
    expect(await ids({ from: '2026-04-02', to: '2026-04-02' })).toEqual([3, 2]);
    expect(await ids({ from: '2026-04-02T03:00:00.000Z', to: '2026-04-03T01:00:00Z' })).toEqual([4, 3]);
    expect(await ids({ action: 'auth.login' })).toEqual([3, 1]);
    expect(await ids({ actorLogin: 'clerk.suzuki' })).toEqual([4, 3]);
    expect(await ids({ targetType: 'user' })).toEqual([2]);
    expect(await ids({ targetId: 'p-7' })).toEqual([4]);
    expect(await ids({ organizationId: 20 })).toEqual([3]);
    expect(await ids({ organizationId: 10, action: 'auth.login' })).toEqual([1]);
    expect(await ids({ q: '山田' })).toEqual([2]);
    expect(await ids({ q: 'old@example' })).toEqual([2]);
    expect(await ids({ q: 'admin' })).toEqual([5, 2, 1]);
    expect(await ids({ q: '2001:db8' })).toEqual([3]);
    expect(await ids({ q: '100%' })).toEqual([4]);
    expect(await ids({ q: '0%完' })).toEqual([4]);
    expect(await ids({ q: 'y_n' })).toEqual([2]); // literal underscore in display_name
    expect(await ids({ q: 'a_e' })).toEqual([]); // would match "name" if _ were a wildcard
    expect(await ids({ q: 'nothing-like-this' })).toEqual([]);
    await expect(a.list({ from: 'yesterday' })).rejects.toThrow(/invalid date/);

    const page = await a.list({}, { limit: 2, offset: 2 });
    expect(page.total).toBe(5);
    expect(page.rows.map((r) => r.id)).toEqual([3, 2]);
    const filteredPage = await a.list({ action: 'auth.login' }, { limit: 1, offset: 1 });
    expect(filteredPage).toMatchObject({ total: 2 });
    expect(filteredPage.rows.map((r) => r.id)).toEqual([1]);

    expect(await a.actions()).toEqual(['auth.login', 'cms.page.publish', 'system.start', 'user.update']);
    expect(await a.verify()).toEqual({ ok: true, checked: 5, problems: [] });
  });

  it('stores awkward input so that the chain still verifies on this engine', async () => {
    const a = audit();
    const id = await a.record({
      action: 'test.awkward',
      summary: `NUL\u0000 lone\ud800 surrogate 𠮷野家 "quoted"`,
      actor: admin,
      ip: `10.0.0.1, ${'1'.repeat(500)}`,
      userAgent: 'U'.repeat(5000),
      details: { z: 1, a: { y: [1.5, -0, 1e21, null, true], b: 'あ\n"' }, big: 12345678901234567890, skip: undefined, when: new Date('2026-01-01T00:00:00Z') },
    });
    const row = (await a.list({ action: 'test.awkward' })).rows[0]!;
    expect(row.id).toBe(id);
    expect(row.summary).toBe('NUL lone\ufffd surrogate 𠮷野家 "quoted"');
    expect(row.ip!.length).toBe(100);
    expect(row.userAgent!.length).toBe(512);
    expect(row.details).toEqual({ z: 1, a: { y: [1.5, 0, 1e21, null, true], b: 'あ\n"' }, big: 12345678901234567890, when: '2026-01-01T00:00:00.000Z' });
    expect((await a.verify()).problems).toEqual([]);
  });

  it('leaves no entry when the caller transaction rolls back, and keeps one when it commits', async () => {
    const a = audit();
    const { db } = t().handle;
    const before = await a.list({});
    await expect(
      db.transaction().execute(async (tx) => {
        await tx.insertInto('organizations').values({ code: 'rb', name: '消える課', name_en: null, kind: 'department', parent_id: null, created_at: nowIso(), updated_at: nowIso() }).execute();
        await a.record({ action: 'org.create', summary: '消える課を作成', actor: admin }, tx);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await a.list({})).total).toBe(before.total);
    expect(await a.list({ action: 'org.create' })).toEqual({ rows: [], total: 0 });

    const id = await db.transaction().execute(async (tx) => {
      await tx.insertInto('organizations').values({ code: 'ok', name: '残る課', name_en: null, kind: 'department', parent_id: null, created_at: nowIso(), updated_at: nowIso() }).execute();
      return a.record({ action: 'org.create', summary: '残る課を作成', actor: admin }, tx);
    });
    expect(id).toBe(before.total + 1);
    expect((await a.verify()).ok).toBe(true);
  });

  it('is refused UPDATE and DELETE by the database', async () => {
    const { db } = t().handle;
    await expect(db.updateTable('audit_log').set({ summary: 'rewritten' }).where('id', '=', 1).execute()).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom('audit_log').where('id', '=', 1).execute()).rejects.toThrow(/append-only/);
    const row = await db.selectFrom('audit_log').select('summary').where('id', '=', 1).executeTakeFirstOrThrow();
    expect(row.summary).toBe('ログインしました');
  });

  it('keeps a valid chain under 20 concurrent appends', async () => {
    const a = audit();
    const before = (await a.list({})).total;
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => a.record({ action: 'test.concurrent', summary: `並行 ${i}`, actor: i % 2 ? admin : clerk, details: { i } })));
    expect([...ids].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => before + 1 + i));
    const result = await a.verify();
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, checked: before + 20 });
    const head = await t().handle.db.selectFrom('system_settings').select('value').where('key', '=', AUDIT_HEAD_KEY).executeTakeFirstOrThrow();
    expect(JSON.parse(head.value).id).toBe(before + 20);
  });

  it('exports CSV with the Japanese header row that parses back', async () => {
    const a = audit();
    const { db } = t().handle;
    await db.insertInto('organizations').values({ id: 30, code: 'kikaku', name: '企画課', name_en: null, kind: 'department', parent_id: null, created_at: nowIso(), updated_at: nowIso() }).execute();
    await a.record({
      action: 'export.test',
      summary: '=1+1, "引用", 改行\nあり',
      actor: { id: 3, loginId: 'tanaka', organizationId: 30 },
      ip: '198.51.100.7',
      targetType: 'form',
      targetId: 9,
      details: { b: 2, a: '値' },
      at: new Date('2026-05-01T00:00:00.000Z'),
    });
    await a.record({ action: 'export.test', summary: '二件目', organizationId: 999, at: new Date('2026-05-01T01:00:00.000Z') });
    for (const encoding of ['utf8bom', 'sjis'] as const) {
      const bytes = await collect(a.exportCsv({ action: 'export.test' }, encoding));
      const rows = parseCsv(bytes, encoding === 'sjis' ? 'sjis' : 'utf8');
      expect(rows).toEqual([
        ['日時', '操作者', '組織', 'IP', '操作', '対象種別', '対象ID', '概要', '詳細'],
        ['2026-05-01 09:00:00', 'tanaka', '企画課', '198.51.100.7', 'export.test', 'form', '9', `'=1+1, "引用", 改行\nあり`, '{"a":"値","b":2}'],
        ['2026-05-01 10:00:00', '', '999', '', 'export.test', '', '', '二件目', ''],
      ]);
    }
    const empty = parseCsv(await collect(a.exportCsv({ action: 'no.such.action' })));
    expect(empty).toEqual([['日時', '操作者', '組織', 'IP', '操作', '対象種別', '対象ID', '概要', '詳細']]);
  });

  it('exports and verifies across several keyset batches', async () => {
    const a = audit();
    const { db } = t().handle;
    const n = 1_101;
    await db.transaction().execute(async (tx) => {
      for (let i = 0; i < n; i++) await a.record({ action: 'bulk.test', summary: `一括 ${i}` }, tx);
    });
    const rows = parseCsv(await collect(a.exportCsv({ action: 'bulk.test' }))).slice(1);
    expect(rows.length).toBe(n);
    expect(rows.map((r) => r[7])).toEqual(Array.from({ length: n }, (_, i) => `一括 ${i}`));

    const progress: Array<[number, number]> = [];
    const result = await a.verify((checked, total) => progress.push([checked, total]));
    expect(result.problems).toEqual([]);
    const total = (await a.list({})).total;
    expect(result.checked).toBe(total);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress[progress.length - 1]).toEqual([total, total]);
    expect(progress.every(([c], i) => i === 0 || c > progress[i - 1]![0])).toBe(true);
  });
});

/** Lets the tests do what an attacker with database access would. */
async function disableAppendOnly(d: TestDatabase, engine: Engine): Promise<void> {
  const { db } = d.handle;
  if (engine === 'sqlite') {
    await sql`DROP TRIGGER audit_log_no_update`.execute(db);
    await sql`DROP TRIGGER audit_log_no_delete`.execute(db);
  } else {
    await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`.execute(db);
  }
}

describeEngines('audit tamper detection', (t, engine) => {
  let audit: AuditService;
  beforeAll(async () => {
    audit = new AuditService({ db: t().handle.db, engine });
    await disableAppendOnly(t(), engine);
  });
  // Each scenario starts from a fresh, valid chain of five entries.
  beforeEach(async () => {
    const { db } = t().handle;
    await db.deleteFrom('audit_log').execute();
    await db.deleteFrom('system_settings').where('key', '=', AUDIT_HEAD_KEY).execute();
    for (let i = 1; i <= 5; i++) await audit.record({ action: 'test.entry', summary: `記録 ${i}`, actor: admin, details: { i } });
    expect(await audit.verify()).toEqual({ ok: true, checked: 5, problems: [] });
  });

  it('reports an entry whose summary was changed', async () => {
    const d = t();
    await d.handle.db.updateTable('audit_log').set({ summary: '改ざん' }).where('id', '=', 3).execute();
    const r = await audit.verify();
    expect(r.ok).toBe(false);
    expect(r.checked).toBe(5);
    expect(r.problems.map((p) => [p.id, p.kind])).toEqual([[3, 'altered']]);
  });

  it('reports a changed entry whose hash was recomputed by the next broken link', async () => {
    const d = t();
    await d.handle.db.updateTable('audit_log').set({ details: '{"i":99}', hash: 'f'.repeat(64) }).where('id', '=', 2).execute();
    const r = await audit.verify();
    expect(r.problems.map((p) => [p.id, p.kind])).toEqual([
      [2, 'altered'],
      [3, 'broken_link'],
    ]);
  });

  it('reports a deleted middle entry', async () => {
    const d = t();
    await d.handle.db.deleteFrom('audit_log').where('id', '=', 3).execute();
    const r = await audit.verify();
    expect(r.ok).toBe(false);
    expect(r.checked).toBe(4);
    expect(r.problems.map((p) => [p.id, p.kind])).toEqual([
      [3, 'gap'],
      [4, 'broken_link'],
    ]);
  });

  it('reports a re-numbered entry', async () => {
    const d = t();
    await d.handle.db.deleteFrom('audit_log').where('id', '=', 5).execute();
    await d.handle.db.updateTable('audit_log').set({ id: 5 }).where('id', '=', 4).execute();
    const r = await audit.verify();
    expect(r.problems.map((p) => [p.id, p.kind])).toEqual(expect.arrayContaining([[5, 'altered']]));
    expect(r.ok).toBe(false);
  });

  it('reports deleted last entries through the head, also after later appends', async () => {
    const d = t();
    await d.handle.db.deleteFrom('audit_log').where('id', '>=', 4).execute();
    const r = await audit.verify();
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.id, p.kind])).toEqual([[null, 'head']]);
    expect(r.problems[0]!.problem).toMatch(/id 5/);

    // A new entry must not paper over the hole by reusing the deleted ids.
    const next = await audit.record({ action: 'test.entry', summary: '後続' });
    expect(next).toBe(6);
    const after = await audit.verify();
    expect(after.problems.map((p) => [p.id, p.kind])).toEqual([
      [4, 'gap'],
      [6, 'broken_link'],
    ]);
  });

  it('reports a removed chain head', async () => {
    const d = t();
    await d.handle.db.deleteFrom('system_settings').where('key', '=', AUDIT_HEAD_KEY).execute();
    const r = await audit.verify();
    expect(r.problems.map((p) => [p.id, p.kind])).toEqual([[null, 'head']]);
  });
});
