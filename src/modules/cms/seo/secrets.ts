import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Db } from '../../../core/db/index.js';
import { nowIso } from '../../../core/db/index.js';
import './schema.js';

export type SecretName = 'x' | 'ga4';

/**
 * A site's secrets (X keys, the GA4 service account) encrypted with AES-256-GCM under a key
 * derived from the installation's secret key (HKDF-SHA256), each bound to its site and name so a
 * value copied to another row does not decrypt. Screens never show them back.
 *
 * If the installation's secret key changes (SECRET_KEY set to a new value), stored secrets no
 * longer decrypt: `get` then answers undefined and administrators enter them again.
 */
export class SiteSecrets {
  readonly #key: Buffer;

  constructor(
    private readonly db: Db,
    secretKey: string,
  ) {
    this.#key = Buffer.from(hkdfSync('sha256', secretKey, 'machimado', 'cms site secrets v1', 32));
  }

  private seal(siteId: number, name: SecretName, plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(`site:${siteId}:${name}`));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  private open(siteId: number, name: SecretName, sealed: string): string | undefined {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(`site:${siteId}:${name}`));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /** The decrypted JSON value, or undefined when none is stored (or it no longer decrypts). */
  async get<T>(siteId: number, name: SecretName): Promise<T | undefined> {
    const row = await this.db.selectFrom('cms_site_secrets').select('value').where('site_id', '=', siteId).where('name', '=', name).executeTakeFirst();
    const plain = row ? this.open(siteId, name, row.value) : undefined;
    if (plain === undefined) return undefined;
    try {
      return JSON.parse(plain) as T;
    } catch {
      return undefined;
    }
  }

  /** Which secrets a site has (for "設定済み" on the settings screen), without decrypting them. */
  async stored(siteId: number): Promise<Set<SecretName>> {
    const rows = await this.db.selectFrom('cms_site_secrets').select('name').where('site_id', '=', siteId).execute();
    return new Set(rows.map((r) => r.name as SecretName));
  }

  /** Stores (or with null removes) a secret; pass the surrounding transaction. */
  async set(tx: Kysely<Database>, siteId: number, name: SecretName, value: unknown): Promise<void> {
    if (value === null) {
      await tx.deleteFrom('cms_site_secrets').where('site_id', '=', siteId).where('name', '=', name).execute();
      return;
    }
    const sealed = this.seal(siteId, name, JSON.stringify(value));
    await tx
      .insertInto('cms_site_secrets')
      .values({ site_id: siteId, name, value: sealed, updated_at: nowIso() })
      .onConflict((oc) => oc.columns(['site_id', 'name']).doUpdateSet({ value: sealed, updated_at: nowIso() }))
      .execute();
  }
}
