import pg from 'pg';
import { sql } from 'kysely';
import type { Platform } from '../../core/platform.js';
import type { RenderCache } from './render-cache.js';

const CHANNEL = 'machimado_cms_changes';

/**
 * With several app nodes on one PostgreSQL, a change published on one node must clear the render
 * cache of every node. Each node LISTENs on a channel; a change is announced with pg_notify.
 * SQLite serves a single node, so there the local clear is all there is.
 * @example const announce = await startClusterSync(platform, cache); pages.onChange((c) => announce(c.siteId))
 */
export async function startClusterSync(p: Platform, cache: RenderCache): Promise<(siteId: number) => Promise<void>> {
  if (p.database.engine !== 'postgres') return async () => undefined;
  let client: pg.Client | null = null;
  let closing = false;
  const connect = async () => {
    const c = new pg.Client({ connectionString: p.database.url });
    c.on('notification', (msg) => {
      const siteId = Number(msg.payload);
      if (Number.isInteger(siteId)) cache.clearSite(siteId);
    });
    c.on('error', (err) => {
      p.log.warn({ err }, 'cms change listener lost; reconnecting');
      client = null;
      // Pages cached while the listener was down may be stale: start afresh.
      cache.clearAll();
      if (!closing) setTimeout(() => void connect().catch(() => undefined), 1000).unref();
    });
    await c.connect();
    await c.query(`LISTEN ${CHANNEL}`);
    client = c;
  };
  await connect();
  p.onClose(async () => {
    closing = true;
    await client?.end().catch(() => undefined);
  });
  return async (siteId: number) => {
    await sql`select pg_notify(${CHANNEL}, ${String(siteId)})`.execute(p.db);
  };
}
