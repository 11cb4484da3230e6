import type { Hono } from 'hono';
import type { AuditService } from './audit/index.js';
import type { AuthService } from './auth/service.js';
import type { UserAdminService } from './auth/users.js';
import type { BackupService } from './backup/index.js';
import type { BusinessCalendar } from './calendar/index.js';
import type { Config } from './config/index.js';
import type { DatabaseHandle, Db } from './db/index.js';
import type { AppEnv } from './http/types.js';
import type { JobRunner } from './jobs/index.js';
import type { Logger } from './log.js';
import type { MailService } from './mail/index.js';
import type { Metrics } from './metrics/index.js';
import type { MenuEntry, PlatformModule } from './module.js';
import type { OrganizationService } from './organizations/index.js';
import type { PermissionRegistry } from './permissions/index.js';
import type { SystemSettings } from './settings.js';

/** The services every module may use, built once by the composition root (src/main.ts). */
export interface Platform {
  config: Config;
  log: Logger;
  database: DatabaseHandle;
  db: Db;
  nodeId: string;
  secretKey: string;
  settings: SystemSettings;
  metrics: Metrics;
  permissions: PermissionRegistry;
  audit: AuditService;
  jobs: JobRunner;
  mail: MailService;
  calendar: BusinessCalendar;
  backup: BackupService;
  organizations: OrganizationService;
  auth: AuthService;
  users: UserAdminService;
  modules: PlatformModule[];
  menu: MenuEntry[];
  app: Hono<AppEnv>;
  /** Stops jobs and closes the database; the HTTP server is closed by whoever started it. */
  close(): Promise<void>;
  /** Registers work to do at close, before the database closes (listeners, open clients). */
  onClose(fn: () => Promise<void> | void): void;
}
