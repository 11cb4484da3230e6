import { randomBytes } from 'node:crypto';
import type { Db } from './db/index.js';
import { isUniqueViolation, nowIso } from './db/index.js';

/** Small key/value store for installation-wide values (the secret key, chain heads, flags). */
export class SystemSettings {
  constructor(private readonly db: Db) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('system_settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db
      .insertInto('system_settings')
      .values({ key, value, updated_at: nowIso() })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: nowIso() }))
      .execute();
  }

  /**
   * The installation's secret key: generated once and shared by every app node through the
   * database, unless SECRET_KEY is configured.
   */
  async secretKey(configured?: string): Promise<string> {
    if (configured) return configured;
    const existing = await this.get('secret_key');
    if (existing) return existing;
    const fresh = randomBytes(32).toString('base64url');
    try {
      await this.db.insertInto('system_settings').values({ key: 'secret_key', value: fresh, updated_at: nowIso() }).execute();
      return fresh;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      return (await this.get('secret_key'))!;
    }
  }
}
