import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { openDatabase, type DatabaseHandle, type Engine } from '../../src/core/db/index.js';
import { migrateToLatest, type PlatformMigration } from '../../src/core/db/migrate.js';
import { allMigrations } from '../../src/modules/index.js';

/** Engines under test; TEST_ENGINES=sqlite narrows the list (as Kysely's own suite does). */
export const ENGINES: Engine[] = (process.env.TEST_ENGINES ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is Engine => s === 'sqlite' || s === 'postgres');

export interface TestDatabase {
  handle: DatabaseHandle;
  url: string;
  /** Removes the database (called by afterAll for you when using describeEngines). */
  drop(): Promise<void>;
}

/** Creates an empty database on the engine and returns its URL (no migrations). */
export async function createEmptyDatabase(engine: Engine): Promise<{ url: string; drop(): Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'machimado-test-'));
    return { url: `sqlite:${join(dir, 'test.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = inject('pgAdminUrl');
  if (!admin) throw new Error('PostgreSQL is not available for this run');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = admin.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A fresh, fully migrated database. */
export async function createTestDatabase(engine: Engine, migrations: PlatformMigration[] = allMigrations()): Promise<TestDatabase> {
  const empty = await createEmptyDatabase(engine);
  const handle = openDatabase(empty.url);
  await migrateToLatest(handle, migrations);
  return {
    handle,
    url: empty.url,
    async drop() {
      await handle.close();
      await empty.drop();
    },
  };
}

export function engineAvailable(engine: Engine): boolean {
  return engine === 'sqlite' || Boolean(inject('pgAdminUrl'));
}

/**
 * Runs a suite once per engine with a fresh migrated database for each.
 * @example
 * describeEngines('audit', (t) => { it('records', async () => { await t().handle.db... }) })
 */
export function describeEngines(name: string, body: (db: () => TestDatabase, engine: Engine) => void) {
  for (const engine of ENGINES) {
    const run = engineAvailable(engine) ? describe : describe.skip;
    run(`${name} [${engine}]`, () => {
      let current: TestDatabase | undefined;
      beforeAll(async () => {
        current = await createTestDatabase(engine);
      });
      afterAll(async () => {
        await current?.drop();
      });
      body(() => {
        if (!current) throw new Error('test database not ready');
        return current;
      }, engine);
    });
  }
}
