import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config/index.js';
import type { Engine } from '../../src/core/db/index.js';
import { silentLogger } from '../../src/core/log.js';
import type { Platform } from '../../src/core/platform.js';
import { consoleActor, type Actor } from '../../src/core/permissions/index.js';
import { createPlatform, startServer, type RunningServer } from '../../src/main.js';
import { createEmptyDatabase } from './db.js';
import type { PlatformModule } from '../../src/core/module.js';
import { startSmtpServer, type TestSmtpServer } from './smtp.js';

export interface TestPlatform {
  platform: Platform;
  running: RunningServer;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  dataDir: string;
  databaseUrl: string;
  smtp: TestSmtpServer | null;
  close(): Promise<void>;
}

/**
 * The whole platform on a fresh database of the engine, served over real HTTP on a random
 * loopback port. Jobs do not poll unless asked; tests drive them with platform.jobs.drain().
 */
export async function startTestPlatform(engine: Engine, opts: { env?: Record<string, string>; smtp?: boolean; modules?: PlatformModule[] } = {}): Promise<TestPlatform> {
  const db = await createEmptyDatabase(engine);
  const dataDir = mkdtempSync(join(tmpdir(), 'machimado-data-'));
  const smtp = opts.smtp ? await startSmtpServer() : null;
  const config = loadConfig({
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    DEMO_CONTENT: 'false',
    JOBS_ENABLED: 'false',
    DATABASE_POOL_SIZE: '4',
    ...(smtp ? { SMTP_URL: smtp.url } : {}),
    ...opts.env,
  });
  const platform = await createPlatform(config, { log: silentLogger(), modules: opts.modules });
  const running = await startServer(platform);
  const baseUrl = `http://127.0.0.1:${running.port}`;
  (platform.config as { BASE_URL: string }).BASE_URL = baseUrl;
  return {
    platform,
    running,
    baseUrl,
    dataDir,
    databaseUrl: db.url,
    smtp,
    async close() {
      await running.shutdown('test end');
      await smtp?.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Acts with every permission, as the console does. */
export function systemActor(p: Platform): Actor {
  return consoleActor(p.permissions);
}

let seq = 0;

/** Creates an organisation and returns its id. */
export async function createOrganization(p: Platform, input: { code?: string; name?: string; kind?: 'prefecture' | 'municipality' | 'department'; parentId?: number | null } = {}): Promise<number> {
  seq++;
  return p.organizations.create(
    systemActor(p),
    { code: input.code ?? `org${seq}-${Date.now() % 100000}`, name: input.name ?? `テスト組織${seq}`, kind: input.kind ?? 'municipality', parentId: input.parentId ? String(input.parentId) : '' },
    { ip: '127.0.0.1', userAgent: 'test' },
  );
}

/** Creates a staff account with a known password (no forced change). */
export async function createStaff(
  p: Platform,
  input: { loginId?: string; password?: string; roles?: string[]; organizationId?: number | null; email?: string; displayName?: string } = {},
): Promise<{ id: number; loginId: string; password: string }> {
  seq++;
  const loginId = input.loginId ?? `staff${seq}`;
  const password = input.password ?? `Passw0rd!${seq}x`;
  const { id } = await p.users.create(
    systemActor(p),
    {
      loginId,
      displayName: input.displayName ?? `職員 ${seq}`,
      email: input.email ?? '',
      organizationId: input.organizationId ? String(input.organizationId) : '',
      roles: input.roles ?? ['system_admin'],
      password,
    },
    { ip: '127.0.0.1', userAgent: 'test' },
  );
  await p.db.updateTable('users').set({ must_change_password: 0 }).where('id', '=', id).execute();
  return { id, loginId, password };
}
