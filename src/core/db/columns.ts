import { sql, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Engine } from './index.js';

/**
 * The column kit: one migration set for SQLite and PostgreSQL. Each helper adds a column whose
 * values read back the same on both engines.
 * - id: integer identity primary key
 * - bool: integer 0/1 (better-sqlite3 cannot bind JS booleans; pg would return true/false)
 * - timestamp: ISO-8601 UTC text on SQLite, timestamptz on PostgreSQL (read back as ISO strings)
 * - json: text on SQLite, jsonb on PostgreSQL (read back as text)
 * @example
 * const k = columns(engine)
 * await k.id(db.schema.createTable('things')).addColumn('name', 'text', (c) => c.notNull()).execute()
 */
export function columns(engine: Engine) {
  const pg = engine === 'postgres';
  type Mod = (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
  const pass: Mod = (c) => c;
  return {
    engine,
    id<T extends string>(t: CreateTableBuilder<T, never>, name = 'id') {
      return pg
        ? t.addColumn(name, 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
        : t.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
    },
    bool<T extends string, C extends string>(t: CreateTableBuilder<T, C>, name: string, defaultValue = false) {
      return t.addColumn(name, 'integer', (c) => c.notNull().defaultTo(defaultValue ? 1 : 0));
    },
    timestamp<T extends string, C extends string>(t: CreateTableBuilder<T, C>, name: string, mod: Mod = pass) {
      return t.addColumn(name, pg ? sql`timestamptz` : 'text', mod);
    },
    json<T extends string, C extends string>(t: CreateTableBuilder<T, C>, name: string, mod: Mod = pass) {
      return t.addColumn(name, pg ? sql`jsonb` : 'text', mod);
    },
    /** Foreign key to another table's integer id. */
    ref<T extends string, C extends string>(t: CreateTableBuilder<T, C>, name: string, target: string, mod: Mod = pass) {
      return t.addColumn(name, 'integer', (c) => mod(c.references(target)));
    },
    /** Raw SQL for an engine-specific statement (triggers and the like). */
    async exec(db: Kysely<unknown>, statements: { sqlite: string[]; postgres: string[] }) {
      for (const s of pg ? statements.postgres : statements.sqlite) await sql.raw(s).execute(db);
    },
  };
}
export type ColumnKit = ReturnType<typeof columns>;
