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
      // While no change can reach this node, nothing is cached; what was cached may be stale.
      cache.enabled = false;
      cache.clearAll();
      if (!closing) setTimeout(() => void connect().catch(() => undefined), 1000).unref();
    });
    client = c;
    await c.connect();
    await c.query(`LISTEN ${CHANNEL}`);
    cache.enabled = true;
  };
  // Registered before connecting: a short-lived process (a CLI command) may close the platform
  // while the connection is still being made, and a forgotten client would keep it running.
  let connecting: Promise<void> | null = connect();
  p.onClose(async () => {
    closing = true;
    await connecting?.catch(() => undefined);
    await client?.end().catch(() => undefined);
  });
  await connecting;
  connecting = null;
  return async (siteId: number) => {
    await sql`select pg_notify(${CHANNEL}, ${String(siteId)})`.execute(p.db);
  };
}
