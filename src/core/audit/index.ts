import { createHash } from 'node:crypto';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { AuditLogTable } from '../db/schema.js';
import { nowIso, parseJson, type Database, type Db, type Engine } from '../db/index.js';
import { csvStream, type CsvColumn, type CsvEncoding } from '../csv/index.js';

/** Who did it: the signed-in staff member (the permissions Actor fits this shape). */
export interface AuditActor {
  id: number;
  loginId: string;
  organizationId: number | null;
}

export interface AuditInput {
  /** Dotted verb, e.g. 'user.login', 'cms.page.publish'. */
  action: string;
  /** One line a person can read in the audit screen. */
  summary: string;
  actor?: AuditActor | null;
  /** Defaults to the actor's organisation. */
  organizationId?: number | null;
  ip?: string | null;
  userAgent?: string | null;
  targetType?: string | null;
  targetId?: string | number | null;
  /** Any JSON-serialisable value; stored as canonical JSON text. */
  details?: unknown;
  at?: Date;
}

export interface AuditFilter {
  /** Inclusive. `YYYY-MM-DD` means the start of that day in JST; otherwise an ISO timestamp. */
  from?: string;
  /** Inclusive. `YYYY-MM-DD` means the whole of that day in JST; otherwise an ISO timestamp. */
  to?: string;
  action?: string;
  /** Actions starting with this, e.g. 'cms.' for every CMS entry. */
  actionPrefix?: string;
  actorLogin?: string;
  targetType?: string;
  targetId?: string;
  /** Only entries about one of these targets (with targetType, e.g. the pages of one site). */
  targetIds?: string[];
  organizationId?: number;
  /** Only entries of these organisations (a scoped administrator's reach); entries without one are excluded. */
  organizationIds?: number[];
  /** Substring of summary, actor login, target id, IP or details. */
  q?: string;
}

export interface AuditRow {
  id: number;
  at: string;
  actorId: number | null;
  actorLogin: string | null;
  organizationId: number | null;
  ip: string | null;
  userAgent: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  summary: string;
  /** Parsed details (null when none). */
  details: unknown;
  prevHash: string;
  hash: string;
}

export type AuditProblemKind = 'altered' | 'broken_link' | 'gap' | 'head';

export interface AuditProblem {
  /** The entry concerned; null for problems with the chain head. */
  id: number | null;
  kind: AuditProblemKind;
  problem: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  checked: number;
  problems: AuditProblem[];
}

type AuditLogRow = Selectable<AuditLogTable>;

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);
/** system_settings key holding `{"id":…,"hash":…}` of the last entry. */
export const AUDIT_HEAD_KEY = 'audit.head';
// Fixed pg_advisory_xact_lock key for appends: the ASCII bytes of "MMAUDIT1" as a bigint.
const APPEND_LOCK_KEY = '5570180148600853553';
const BATCH = 500;
const MAX_PROBLEMS = 1000;

const LIMITS = {
  actorLogin: 200,
  ip: 100,
  userAgent: 512,
  action: 100,
  targetType: 100,
  targetId: 200,
  summary: 2000,
};

/**
 * Makes text storable byte-for-byte on both engines, so the hash computed now matches the row
 * read back later: PostgreSQL rejects NUL, and lone surrogates become U+FFFD in UTF-8.
 */
function clean(s: string): string {
  return s.replace(/\u0000/g, '').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Cleans and cuts to `max` code points (never splitting a surrogate pair). */
function text(v: string | number | null | undefined, max: number): string | null {
  if (v == null) return null;
  const s = clean(String(v));
  if (s.length <= max) return s;
  return Array.from(s).slice(0, max).join('');
}

/**
 * JSON with sorted keys and no whitespace. PostgreSQL's jsonb reorders keys and reformats, so
 * the hash covers this canonical form of the parsed value, which both engines reproduce.
 */
function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown): string | undefined => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return JSON.stringify(clean(v));
      case 'number':
        return Number.isFinite(v) ? JSON.stringify(v) : 'null';
      case 'boolean':
        return v ? 'true' : 'false';
      case 'bigint':
        return JSON.stringify(v.toString());
      case 'object': {
        const withJson = v as { toJSON?: () => unknown };
        if (typeof withJson.toJSON === 'function') return walk(withJson.toJSON());
        if (seen.has(v)) return '"[Circular]"';
        seen.add(v);
        let out: string;
        if (Array.isArray(v)) {
          out = `[${v.map((x) => walk(x) ?? 'null').join(',')}]`;
        } else {
          const rec = v as Record<string, unknown>;
          const parts: string[] = [];
          for (const k of Object.keys(rec).sort()) {
            const s = walk(rec[k]);
            if (s !== undefined) parts.push(`${JSON.stringify(clean(k))}:${s}`);
          }
          out = `{${parts.join(',')}}`;
        }
        seen.delete(v);
        return out;
      }
      default:
        return undefined; // undefined, functions, symbols: omitted like JSON.stringify does
    }
  };
  return walk(value) ?? 'null';
}

function entryHash(prevHash: string, r: Omit<AuditLogRow, 'prev_hash' | 'hash'>): string {
  const details = r.details == null ? null : canonicalJson(parseJson<unknown>(r.details, r.details));
  const fields = [r.id, r.at, r.actor_id, r.actor_login, r.organization_id, r.ip, r.user_agent, r.action, r.target_type, r.target_id, r.summary, details];
  return createHash('sha256').update(prevHash).update(JSON.stringify(fields)).digest('hex');
}

const JST_DAY = /^\d{4}-\d{2}-\d{2}$/;

function boundary(value: string, end: boolean): { op: '>=' | '<' | '<='; iso: string } {
  if (JST_DAY.test(value)) {
    const start = new Date(`${value}T00:00:00+09:00`);
    if (Number.isNaN(start.getTime())) throw new RangeError(`invalid date: ${value}`);
    if (!end) return { op: '>=', iso: start.toISOString() };
    return { op: '<', iso: new Date(start.getTime() + 86_400_000).toISOString() };
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new RangeError(`invalid date: ${value}`);
  return { op: end ? '<=' : '>=', iso: d.toISOString() };
}

function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function toRow(r: AuditLogRow): AuditRow {
  return {
    id: r.id,
    at: r.at,
    actorId: r.actor_id,
    actorLogin: r.actor_login,
    organizationId: r.organization_id,
    ip: r.ip,
    userAgent: r.user_agent,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    summary: r.summary,
    details: parseJson<unknown>(r.details, null),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * The append-only, hash-chained audit trail. Each entry's hash covers the previous entry's
 * hash and its own fields (id included); the chain head lives in system_settings so removing
 * the newest entries is detected too. The database refuses UPDATE/DELETE by trigger.
 * @example
 * const audit = new AuditService({ db, engine })
 * await db.transaction().execute(async (tx) => {
 *   await tx.updateTable('users').set({ status: 'disabled' }).where('id', '=', 7).execute()
 *   await audit.record({ action: 'user.disable', summary: '利用者 7 を無効化', actor, targetType: 'user', targetId: 7 }, tx)
 * })
 */
export class AuditService {
  private readonly db: Db;
  private readonly engine: Engine;

  constructor(opts: { db: Db; engine: Engine }) {
    this.db = opts.db;
    this.engine = opts.engine;
  }

  /**
   * Appends one entry and returns its id. Given the caller's transaction, the entry commits or
   * rolls back with the change it describes (on PostgreSQL the append lock is then held until
   * that transaction ends, so keep it short). Inside a transaction, always pass it: on SQLite
   * a second transaction would wait for the one connection forever.
   * @example const id = await audit.record({ action: 'auth.login', summary: 'ログイン', actor, ip })
   */
  async record(input: AuditInput, tx?: Kysely<Database>): Promise<number> {
    if (tx?.isTransaction) return this.append(tx, input);
    return (tx ?? this.db).transaction().execute((t) => this.append(t, input));
  }

  private async append(tx: Kysely<Database>, input: AuditInput): Promise<number> {
    if (this.engine === 'postgres') await sql`select pg_advisory_xact_lock(${sql.raw(APPEND_LOCK_KEY)})`.execute(tx);
    const headRow = await tx.selectFrom('system_settings').select('value').where('key', '=', AUDIT_HEAD_KEY).executeTakeFirst();
    const head = parseJson<{ id?: unknown; hash?: unknown } | null>(headRow?.value, null);
    const last = await tx.selectFrom('audit_log').select(['id', 'hash']).orderBy('id', 'desc').limit(1).executeTakeFirst();
    // The head, not the last row, decides the link: if the newest rows were deleted, the next
    // entry still points at the vanished hash and verify() reports the break.
    let prevId = last?.id ?? 0;
    let prevHash = last?.hash ?? GENESIS_HASH;
    if (head && typeof head.id === 'number' && typeof head.hash === 'string' && head.id >= prevId) {
      prevId = head.id;
      prevHash = head.hash;
    }
    const row = {
      id: prevId + 1,
      at: nowIso(input.at),
      actor_id: input.actor?.id ?? null,
      actor_login: text(input.actor?.loginId, LIMITS.actorLogin),
      organization_id: input.organizationId !== undefined ? input.organizationId : (input.actor?.organizationId ?? null),
      ip: text(input.ip, LIMITS.ip),
      user_agent: text(input.userAgent, LIMITS.userAgent),
      action: text(input.action, LIMITS.action) ?? '',
      target_type: text(input.targetType, LIMITS.targetType),
      target_id: text(input.targetId, LIMITS.targetId),
      summary: text(input.summary, LIMITS.summary) ?? '',
      details: input.details === undefined || input.details === null ? null : canonicalJson(input.details),
    };
    const hash = entryHash(prevHash, row);
    await tx
      .insertInto('audit_log')
      .values({ ...row, prev_hash: prevHash, hash })
      .execute();
    const value = JSON.stringify({ id: row.id, hash });
    await tx
      .insertInto('system_settings')
      .values({ key: AUDIT_HEAD_KEY, value, updated_at: row.at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: row.at }))
      .execute();
    return row.id;
  }

  /**
   * Walks the whole trail in id order (in batches, flat memory) and reports altered entries,
   * broken links, missing ids and a head that does not match the last entry.
   * @example const { ok, problems } = await audit.verify((n, total) => log.info({ n, total }))
   */
  async verify(onProgress?: (checked: number, total: number) => void): Promise<AuditVerifyResult> {
    const problems: AuditProblem[] = [];
    const report = (p: AuditProblem) => {
      if (problems.length < MAX_PROBLEMS) problems.push(p);
    };
    const { n: total } = await this.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    let checked = 0;
    let prevId = 0;
    let prevHash = GENESIS_HASH;
    let head: { id?: unknown; hash?: unknown } | null;
    for (;;) {
      for (;;) {
        const batch = (await this.db
          .selectFrom('audit_log')
          .selectAll()
          .where('id', '>', prevId)
          .orderBy('id')
          .limit(BATCH)
          .execute()) as AuditLogRow[];
        for (const r of batch) {
          if (r.id !== prevId + 1) {
            const missing = prevId + 1 === r.id - 1 ? `${prevId + 1}` : `${prevId + 1}–${r.id - 1}`;
            report({ id: prevId + 1, kind: 'gap', problem: `entries missing: id ${missing}` });
          }
          if (r.prev_hash !== prevHash) {
            report({ id: r.id, kind: 'broken_link', problem: `prev_hash does not match the preceding entry (deleted or inserted entry before id ${r.id})` });
          }
          if (entryHash(r.prev_hash, r) !== r.hash) {
            report({ id: r.id, kind: 'altered', problem: `content does not match its hash (entry ${r.id} was altered)` });
          }
          prevId = r.id;
          prevHash = r.hash;
          checked++;
        }
        onProgress?.(checked, Math.max(total, checked));
        if (batch.length < BATCH) break;
      }
      const headRow = await this.db.selectFrom('system_settings').select('value').where('key', '=', AUDIT_HEAD_KEY).executeTakeFirst();
      head = parseJson<{ id?: unknown; hash?: unknown } | null>(headRow?.value, null);
      // Entries appended while we walked commit together with the head that names them: walk
      // on to reach them rather than report a head mismatch that is only a race.
      if (typeof head?.id !== 'number' || head.id <= prevId) break;
      const more = await this.db.selectFrom('audit_log').select('id').where('id', '>', prevId).limit(1).executeTakeFirst();
      if (!more) break;
    }
    if (!head) {
      if (checked > 0) report({ id: null, kind: 'head', problem: 'chain head is missing' });
    } else if (head.id !== prevId || head.hash !== prevHash) {
      const detail = typeof head.id === 'number' && head.id > prevId ? ` (entries after id ${prevId} up to ${head.id} are missing)` : '';
      report({ id: null, kind: 'head', problem: `chain head points at id ${String(head.id)} but the last entry is id ${prevId}${detail}` });
    }
    return { ok: problems.length === 0, checked, problems };
  }

  /**
   * One page of entries matching the filter, newest first, with the total count.
   * @example const { rows, total } = await audit.list({ action: 'auth.login', from: '2026-04-01' }, { limit: 50 })
   */
  async list(filter: AuditFilter, page: { limit?: number; offset?: number } = {}): Promise<{ rows: AuditRow[]; total: number }> {
    const int = (v: number | undefined, fallback: number) => (v !== undefined && Number.isFinite(v) ? Math.trunc(v) : fallback);
    const limit = Math.min(Math.max(int(page.limit, 50), 1), 1000);
    const offset = Math.max(int(page.offset, 0), 0);
    const where = this.where(filter);
    const [rows, count] = await Promise.all([
      this.db.selectFrom('audit_log').selectAll().where(where).orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      this.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where(where)
        .executeTakeFirstOrThrow(),
    ]);
    return { rows: (rows as AuditLogRow[]).map(toRow), total: count.n };
  }

  /**
   * The matching entries as CSV (oldest first), read in keyset batches so any size streams.
   * @example return c.body(toReadableStream(audit.exportCsv(filter, 'sjis')), 200, { 'content-disposition': contentDisposition('監査ログ.csv') })
   */
  exportCsv(filter: AuditFilter, encoding: CsvEncoding = 'utf8bom'): AsyncIterable<Uint8Array> {
    const where = this.where(filter);
    const db = this.db;
    type ExportRow = AuditLogRow & { organization_name: string | null };
    async function* rows(): AsyncIterable<ExportRow> {
      let after = 0;
      for (;;) {
        const batch = (await db
          .selectFrom('audit_log')
          .leftJoin('organizations', 'organizations.id', 'audit_log.organization_id')
          .selectAll('audit_log')
          .select('organizations.name as organization_name')
          .where(where)
          .where('audit_log.id', '>', after)
          .orderBy('audit_log.id')
          .limit(BATCH)
          .execute()) as ExportRow[];
        yield* batch;
        const last = batch[batch.length - 1];
        if (!last || batch.length < BATCH) return;
        after = last.id;
      }
    }
    const columns: CsvColumn<ExportRow>[] = [
      { header: '日時', value: (r) => new Date(r.at) },
      { header: '操作者', value: (r) => r.actor_login },
      { header: '組織', value: (r) => r.organization_name ?? r.organization_id },
      { header: 'IP', value: (r) => r.ip },
      { header: '操作', value: (r) => r.action },
      { header: '対象種別', value: (r) => r.target_type },
      { header: '対象ID', value: (r) => r.target_id },
      { header: '概要', value: (r) => r.summary },
      { header: '詳細', value: (r) => (r.details == null ? null : canonicalJson(parseJson<unknown>(r.details, r.details))) },
    ];
    return csvStream(rows(), columns, encoding);
  }

  /**
   * Distinct actions, for the filter drop-down.
   * @example const options = await audit.actions()
   */
  async actions(): Promise<string[]> {
    const rows = await this.db.selectFrom('audit_log').select('action').distinct().orderBy('action').execute();
    return rows.map((r) => r.action);
  }

  private where(f: AuditFilter) {
    const from = f.from ? boundary(f.from, false) : null;
    const to = f.to ? boundary(f.to, true) : null;
    const q = f.q?.trim() ? likePattern(f.q.trim()) : null;
    return (eb: ExpressionBuilder<Database, 'audit_log'>): Expression<SqlBool> => {
      const c: Expression<SqlBool>[] = [];
      if (from) c.push(eb('audit_log.at', from.op, from.iso));
      if (to) c.push(eb('audit_log.at', to.op, to.iso));
      if (f.action) c.push(eb('audit_log.action', '=', f.action));
      if (f.actionPrefix) c.push(sql<SqlBool>`${sql.ref('audit_log.action')} like ${`${f.actionPrefix.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`} escape '\\'`);
      if (f.targetIds) c.push(eb('audit_log.target_id', 'in', f.targetIds.length ? f.targetIds : ['']));
      if (f.actorLogin) c.push(eb('audit_log.actor_login', '=', f.actorLogin));
      if (f.targetType) c.push(eb('audit_log.target_type', '=', f.targetType));
      if (f.targetId) c.push(eb('audit_log.target_id', '=', f.targetId));
      if (f.organizationId != null) c.push(eb('audit_log.organization_id', '=', f.organizationId));
      if (f.organizationIds) c.push(eb('audit_log.organization_id', 'in', f.organizationIds.length ? f.organizationIds : [-1]));
      if (q) {
        const like = (col: string) => sql<SqlBool>`lower(cast(${sql.ref(col)} as text)) like ${q} escape '\\'`;
        c.push(eb.or([like('audit_log.summary'), like('audit_log.actor_login'), like('audit_log.target_id'), like('audit_log.ip'), like('audit_log.details')]));
      }
      return eb.and(c);
    };
  }
}
