import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import { columns, type ColumnKit } from './columns.js';
import type { DatabaseHandle } from './index.js';

/**
 * One migration of the shared set. Names sort globally: `YYYYMMDD_NN_module_what`, so a module's
 * tables are created after the core tables they reference.
 */
export interface PlatformMigration {
  name: string;
  up(db: Kysely<unknown>, kit: ColumnKit): Promise<void>;
  down?(db: Kysely<unknown>, kit: ColumnKit): Promise<void>;
}

/**
 * Brings the schema up to date. Kysely's migrator takes a lock (pg_advisory_xact_lock on
 * PostgreSQL), so several app nodes starting at once apply each migration exactly once.
 */
export async function migrateToLatest(handle: DatabaseHandle, migrations: PlatformMigration[]): Promise<MigrationResultSet> {
  const kit = columns(handle.engine);
  const names = new Set<string>();
  for (const m of migrations) {
    if (names.has(m.name)) throw new Error(`duplicate migration name: ${m.name}`);
    names.add(m.name);
  }
  const provider = {
    async getMigrations(): Promise<Record<string, Migration>> {
      const out: Record<string, Migration> = {};
      for (const m of migrations) {
        out[m.name] = {
          up: (db) => m.up(db, kit),
          down: m.down ? (db) => m.down!(db, kit) : undefined,
        };
      }
      return out;
    },
  };
  const migrator = new Migrator({ db: handle.db as unknown as Kysely<unknown>, provider, allowUnorderedMigrations: true });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const err = new Error(`migration ${failed?.migrationName ?? '?'} failed: ${(result.error as Error).message}`);
    (err as Error & { cause?: unknown }).cause = result.error;
    throw err;
  }
  return result;
}
