import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';

export type { Database } from './schema.js';
export type Engine = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

export interface DatabaseHandle {
  db: Db;
  engine: Engine;
  url: string;
  /** Absolute file path of the SQLite database (sqlite only). */
  sqlitePath?: string;
  /** Raw better-sqlite3 handle (sqlite only), for online backup. */
  sqlite?: SQLite.Database;
  /** Raw pg pool (postgres only), for LISTEN/NOTIFY and advisory locks. */
  pool?: pg.Pool;
  close(): Promise<void>;
}

// Values come back the same from both engines: timestamps as ISO strings, bigint counts as
// numbers, JSON as text that the caller parses (SQLite has no JSON type to return objects).
const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 1184 || oid === 1114) return (v: string) => new Date(oid === 1114 ? `${v}Z` : v).toISOString();
    if (oid === 20) return (v: string) => Number(v);
    if (oid === 3802 || oid === 114) return (v: string) => v;
    return (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/**
 * Opens the database named by a URL: `sqlite:./data/x.db`, `sqlite::memory:` or `postgres://…`.
 * @example const { db } = openDatabase('sqlite:./data/machimado.db')
 */
export function openDatabase(url: string, options: { poolSize?: number; onPoolError?: (err: Error) => void } = {}): DatabaseHandle {
  if (url.startsWith('sqlite:')) {
    const target = url.slice('sqlite:'.length);
    const memory = target === ':memory:' || target === '';
    const path = memory ? ':memory:' : resolve(target);
    if (!memory) mkdirSync(dirname(path), { recursive: true });
    const sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('synchronous = NORMAL');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return {
      db,
      engine: 'sqlite',
      url,
      sqlitePath: memory ? undefined : path,
      sqlite,
      close: () => db.destroy(),
    };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types: pgTypes });
    // An idle connection dropped by the server (restart, failover) must not crash the process;
    // the pool replaces it on next use.
    pool.on('error', (err) => options.onPoolError?.(err));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: 'postgres', url, pool, close: () => db.destroy() };
  }
  throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got ${url})`);
}

/** The current time as the ISO string every timestamp column holds. */
export function nowIso(date: Date = new Date()): string {
  return date.toISOString();
}

/**
 * Could this be a row id? Ids are 32-bit integers on both engines; a larger number from a URL
 * would be a database error on PostgreSQL instead of "not found".
 */
export function isRowId(id: number): boolean {
  return Number.isSafeInteger(id) && id > 0 && id <= 2_147_483_647;
}

/** True when the database answers a trivial query. */
export async function ping(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

/** Parses a JSON column (text on SQLite, jsonb returned as text on PostgreSQL). */
export function parseJson<T>(value: string | null | undefined, fallback: T): T {
  if (value == null || value === '') return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

/** Unique-constraint violation on either engine. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
