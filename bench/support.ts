/**
 * Pieces the multi-process scenarios share: a demo site on a fresh database, the real server in
 * its own process (`node bin/machimado.js start`), a throwaway PostgreSQL, and polling.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/core/config/index.js';
import { silentLogger } from '../src/core/log.js';
import type { Platform } from '../src/core/platform.js';
import { createPlatform, ensureInitialAdministrator, seedDemoContent } from '../src/main.js';
import { startCluster } from '../test/helpers/postgres-cluster.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/machimado.js', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls until `check` holds; the milliseconds it took, or null after `limitMs`. */
export async function until(check: () => Promise<boolean>, limitMs: number, intervalMs = 0): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await check().catch(() => false)) return performance.now() - started;
    await new Promise((r) => (intervalMs ? setTimeout(r, intervalMs) : setImmediate(r)));
  }
  return null;
}

/** An in-process platform on the database with the demo site (あおば市) and an administrator. */
export async function demoPlatform(databaseUrl: string, dataDir: string): Promise<Platform> {
  const config = loadConfig({ DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', JOBS_ENABLED: 'false', DATABASE_POOL_SIZE: '4' });
  const p = await createPlatform(config, { log: silentLogger() });
  await seedDemoContent(p);
  // A user exists before any server process starts, so none of them creates the first administrator.
  await ensureInitialAdministrator(p);
  return p;
}

export interface AppProcess {
  url: string;
  stop(): Promise<void>;
}

/** `node bin/machimado.js start` in its own process, answering `readyPath` with 200. */
export async function startAppProcess(env: Record<string, string>, readyPath = '/'): Promise<AppProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', JOBS_ENABLED: 'false', HOST: '127.0.0.1', PORT: String(port), DATABASE_POOL_SIZE: '4', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const ready = await until(async () => child.exitCode === null && (await fetch(`${url}${readyPath}`)).status === 200, 60_000, 50);
  if (ready === null) {
    await stop();
    throw new Error(`the server process did not answer ${readyPath} within 60 s\n${stderr}`);
  }
  return { url, stop };
}

/** Requests `path` until the render cache answers it (the node's change listener is running). */
export async function warmCache(url: string, limitMs = 20_000): Promise<boolean> {
  return (await until(async () => (await fetch(url)).headers.get('x-render-cache') === 'hit', limitMs, 20)) !== null;
}

export interface BenchPostgres {
  /** An empty database for this run. */
  url: string;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL database for the run: a fresh one on BENCH_PG_ADMIN_URL's server, else a
 * throwaway cluster (initdb/pg_ctl in a temp dir). null when neither is possible.
 */
export async function benchPostgres(): Promise<BenchPostgres | { unavailable: string }> {
  let adminUrl = process.env.BENCH_PG_ADMIN_URL ?? '';
  let cluster: { stop(): void } | null = null;
  if (!adminUrl) {
    try {
      const c = await startCluster();
      cluster = c;
      adminUrl = c.url;
    } catch (e) {
      return { unavailable: (e as Error).message };
    }
  }
  const name = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: adminUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`),
    async stop() {
      if (cluster) return cluster.stop();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
