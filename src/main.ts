/**
 * The composition root: configuration → database → services → modules → HTTP, in that order.
 * Read top to bottom to see how the platform starts; nothing else wires services together.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from './core/config/index.js';
import { openDatabase } from './core/db/index.js';
import { migrateToLatest } from './core/db/migrate.js';
import { createLogger, type Logger } from './core/log.js';
import { createMetrics } from './core/metrics/index.js';
import { PermissionRegistry, consoleActor } from './core/permissions/index.js';
import { SystemSettings } from './core/settings.js';
import { AuditService } from './core/audit/index.js';
import { JobRunner } from './core/jobs/index.js';
import { MailService } from './core/mail/index.js';
import { BusinessCalendar } from './core/calendar/index.js';
import { BackupService, backupJob } from './core/backup/index.js';
import { OrganizationService } from './core/organizations/index.js';
import { SessionStore } from './core/auth/sessions.js';
import { AuthService } from './core/auth/service.js';
import { UserAdminService } from './core/auth/users.js';
import { createHttpApp } from './core/http/app.js';
import { pruneRateLimits } from './core/http/rate-limit.js';
import type { Platform } from './core/platform.js';
import type { PlatformModule } from './core/module.js';
import { allMigrations, platformModules } from './modules/index.js';

export interface CreatePlatformOptions {
  modules?: PlatformModule[];
  log?: Logger;
  /** Skip migrations (the CLI's restore works on a closed database). */
  migrate?: boolean;
}

/** Builds every service and mounts every module; starts nothing in the background. */
export async function createPlatform(config: Config, options: CreatePlatformOptions = {}): Promise<Platform> {
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  const modules = options.modules ?? platformModules();

  // 1. Database and schema
  const database = openDatabase(config.DATABASE_URL, {
    poolSize: config.DATABASE_POOL_SIZE,
    onPoolError: (err) => log.warn({ err }, 'idle database connection lost'),
  });
  if (options.migrate !== false) await migrateToLatest(database, allMigrations(modules));
  const db = database.db;

  // 2. Permissions from every module
  const permissions = new PermissionRegistry();
  for (const m of modules) permissions.addPermissions(m.permissions ?? []);
  for (const m of modules) for (const r of m.roles ?? []) permissions.addRole(r);
  permissions.validate();

  // 3. Shared services
  const nodeId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const settings = new SystemSettings(db);
  const secretKey = options.migrate === false ? '' : await settings.secretKey(config.SECRET_KEY);
  const metrics = createMetrics();
  const audit = new AuditService({ db, engine: database.engine });
  const jobs = new JobRunner({
    db,
    engine: database.engine,
    log: log.child({ component: 'jobs' }),
    nodeId,
    timeZone: config.TIME_ZONE,
    pollMs: config.JOBS_POLL_MS,
    onJobFinished: (name, status, ms) => metrics.jobFinished(name, status, ms),
  });
  const mail = new MailService({ db, log: log.child({ component: 'mail' }), jobs, from: config.MAIL_FROM, smtpUrl: config.SMTP_URL, maxAttempts: config.MAIL_MAX_ATTEMPTS });
  const calendar = new BusinessCalendar({ db });
  if (options.migrate !== false) await calendar.load();
  const backup = new BackupService({ handle: database, dir: config.BACKUP_DIR, generations: config.BACKUP_GENERATIONS, log: log.child({ component: 'backup' }) });
  const organizations = new OrganizationService({ db, audit });
  const sessions = new SessionStore(db, { idleMinutes: config.SESSION_IDLE_MINUTES, absoluteHours: config.SESSION_ABSOLUTE_HOURS, pendingMinutes: 10 });
  const policy = {
    maxFailures: config.LOGIN_MAX_FAILURES,
    passwordMinLength: config.PASSWORD_MIN_LENGTH,
    passwordLogN: 15,
    resetMinutes: config.PASSWORD_RESET_MINUTES,
    baseUrl: config.BASE_URL,
  };
  const auth = new AuthService({ db, sessions, audit, mail, permissions, policy });
  const users = new UserAdminService({ db, audit, auth, organizations, permissions, passwordMinLength: policy.passwordMinLength, passwordLogN: policy.passwordLogN });

  // 4. HTTP stack
  const app = createHttpApp({ config, db, log, metrics, auth, secretKey });

  const closers: Array<() => Promise<void> | void> = [];
  const platform: Platform = {
    config,
    log,
    database,
    db,
    nodeId,
    secretKey,
    settings,
    metrics,
    permissions,
    audit,
    jobs,
    mail,
    calendar,
    backup,
    organizations,
    auth,
    users,
    modules,
    menu: modules.flatMap((m) => m.adminMenu ?? []),
    app,
    async close() {
      await jobs.stop();
      mail.close();
      for (const fn of closers.reverse()) await fn();
      await database.close();
    },
    onClose(fn) {
      closers.push(fn);
    },
  };

  // 5. Jobs: the foundation's own, then every module's
  jobs.register(backupJob(backup, config.BACKUP_SCHEDULE));
  for (const def of mail.jobDefinitions()) jobs.register(def);
  jobs.register({ name: 'sessions.purge', label: '期限切れセッションの削除', schedule: '*/15 * * * *', handler: async () => ({ deleted: await sessions.purgeExpired() }) });
  jobs.register({ name: 'rate_limits.prune', label: 'アクセス制限カウンタの整理', schedule: '17 4 * * *', handler: async () => ({ deleted: await pruneRateLimits(db) }) });
  for (const m of modules) for (const def of m.jobs?.(platform) ?? []) jobs.register(def);

  // 6. Routes of every module
  for (const m of modules) m.routes?.(app, platform);
  return platform;
}

/** Creates the first administrator when there is none; returns the one-time password to print. */
export async function ensureInitialAdministrator(p: Platform): Promise<{ loginId: string; password: string } | null> {
  const existing = await p.db.selectFrom('users').select('id').where('status', '!=', 'deleted').limit(1).executeTakeFirst();
  if (existing) return null;
  const prefecture = await p.db.selectFrom('organizations').select('id').where('parent_id', 'is', null).orderBy('id').limit(1).executeTakeFirst();
  const { initialPassword } = await p.users.create(
    consoleActor(p.permissions),
    { loginId: 'admin', displayName: 'システム管理者', organizationId: prefecture ? String(prefecture.id) : '', roles: ['system_admin'] },
    { ip: 'console', userAgent: 'machimado start' },
  );
  const password = initialPassword!;
  return { loginId: 'admin', password };
}

/** Demo content of every module (idempotent; each module checks what it already has). */
export async function seedDemoContent(p: Platform): Promise<void> {
  for (const m of p.modules) await m.seedDemo?.(p);
}

export interface RunningServer {
  platform: Platform;
  server: ServerType;
  port: number;
  /** Graceful stop: no new connections, in-flight requests finish, jobs stop, database closes. */
  shutdown(reason?: string): Promise<void>;
}

/** Serves HTTP, starts the job runner, and stops cleanly on SIGTERM/SIGINT. */
export async function startServer(platform: Platform, opts: { handleSignals?: boolean } = {}): Promise<RunningServer> {
  const { config, log } = platform;
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: platform.app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
  });
  // Idle keep-alive connections stay open longer than clients and proxies keep theirs (nginx,
  // load balancers, fetch: 60 s or less), so the server is not the side that closes a socket
  // the instant a client reuses it (ECONNRESET on the client).
  const http = server as unknown as { keepAliveTimeout: number; headersTimeout: number };
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  if (config.JOBS_ENABLED) platform.jobs.start();
  log.info({ port, node: platform.nodeId, engine: platform.database.engine }, 'Machimado is serving');

  let stopping: Promise<void> | null = null;
  const shutdown = (reason = 'shutdown') => {
    stopping ??= (async () => {
      log.info({ reason }, 'shutting down: finishing in-flight requests');
      const force = setTimeout(() => {
        log.warn('shutdown timeout reached; closing remaining connections');
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }, config.SHUTDOWN_TIMEOUT_MS);
      force.unref();
      // A keep-alive connection turns idle only after its in-flight response; keep closing idle
      // ones until the server has none, or close() would wait for the client's keep-alive timeout.
      const idle = (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.bind(server);
      const sweep = setInterval(() => idle?.(), 50);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        idle?.();
      });
      clearInterval(sweep);
      clearTimeout(force);
      await platform.close();
      log.info('stopped');
    })();
    return stopping;
  };
  if (opts.handleSignals) {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        void shutdown(sig).then(() => process.exit(0));
      });
    }
  }
  return { platform, server, port, shutdown };
}
