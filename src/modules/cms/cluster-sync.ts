import pg from 'pg';
import { sql } from 'kysely';
import type { Platform } from '../../core/platform.js';
import type { ContentChange } from './pages.js';
import type { RenderCache } from './render-cache.js';

const CHANNEL = 'machimado_cms_changes';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7900;
const KINDS: ReadonlyArray<ContentChange['kind']> = ['publish', 'unpublish', 'hide', 'show', 'move', 'trash', 'restore', 'settings'];

/** What travels between nodes: the change itself, so every node clears the same entries. */
interface ChangeMessage {
  v: 1;
  /** The announcing node, which has already cleared its own cache. */
  from: string;
  siteId: number;
  nodeId: number;
  path: string;
  kind: ContentChange['kind'];
}

/** The message for a change; a path too long for NOTIFY travels as a whole-site change. */
export function encodeChange(change: ContentChange, from: string): string {
  const msg: ChangeMessage = { v: 1, from, siteId: change.siteId, nodeId: change.nodeId, path: change.path, kind: change.kind };
  const text = JSON.stringify(msg);
  if (Buffer.byteLength(text) <= MAX_PAYLOAD) return text;
  return JSON.stringify({ ...msg, nodeId: 0, path: '', kind: 'settings' } satisfies ChangeMessage);
}

/**
 * Reads a message. A bare site id (what nodes of the previous release send during a rolling
 * upgrade) means the whole site; anything unreadable means everything (null).
 */
export function decodeChange(payload: string): { change: ContentChange; from: string | null } | null {
  if (/^\d+$/.test(payload)) return { change: { siteId: Number(payload), nodeId: 0, path: '', kind: 'settings' }, from: null };
  try {
    const m = JSON.parse(payload) as Partial<ChangeMessage>;
    if (m.v !== 1 || !Number.isInteger(m.siteId) || !Number.isInteger(m.nodeId) || typeof m.path !== 'string' || !KINDS.includes(m.kind as ContentChange['kind'])) return null;
    return { change: { siteId: m.siteId!, nodeId: m.nodeId!, path: m.path, kind: m.kind! }, from: typeof m.from === 'string' ? m.from : null };
  } catch {
    return null;
  }
}

/**
 * With several app nodes on one PostgreSQL, a change published on one node must clear the same
 * render-cache entries on every node. Each node LISTENs on a channel; a change (site, node, path,
 * kind) is announced with pg_notify after it commits. SQLite serves a single node, so there the
 * local clear is all there is.
 * @example const announce = await startClusterSync(platform, cache); pages.onChange(async (c) => { cache.invalidate(c); await announce(c); })
 */
export async function startClusterSync(p: Platform, cache: RenderCache): Promise<(change: ContentChange | number) => Promise<void>> {
  if (p.database.engine !== 'postgres') return async () => undefined;
  let client: pg.Client | null = null;
  let closing = false;
  const connect = async () => {
    const c = new pg.Client({ connectionString: p.database.url });
    c.on('notification', (msg) => {
      const got = decodeChange(msg.payload ?? '');
      if (!got) return cache.clearAll();
      if (got.from === p.nodeId) return;
      cache.invalidate(got.change);
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
  // A bare site id (the previous signature) clears that whole site everywhere.
  return async (change: ContentChange | number) => {
    const c: ContentChange = typeof change === 'number' ? { siteId: change, nodeId: 0, path: '', kind: 'settings' } : change;
    await sql`select pg_notify(${CHANNEL}, ${encodeChange(c, p.nodeId)})`.execute(p.db);
  };
}
