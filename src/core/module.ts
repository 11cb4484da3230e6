import type { Hono } from 'hono';
import type { PlatformMigration } from './db/migrate.js';
import type { AppEnv } from './http/types.js';
import type { Platform } from './platform.js';
import type { PermissionDef, RoleDef } from './permissions/index.js';
import type { JobDefinition } from './jobs/index.js';

export interface MenuEntry {
  /** i18n key of the label. */
  label: string;
  href: string;
  /** Shown only to users holding this permission. */
  permission?: string;
  /** Lower numbers come first. */
  order?: number;
}

export interface CliCommand {
  name: string;
  /** One line for `machimado --help`. */
  summary: string;
  usage?: string;
  run(platform: Platform, args: string[]): Promise<number | void>;
  /** Commands that must not start the job runner or open the full platform set this. */
  needsDatabase?: boolean;
}

/**
 * Everything a capability brings to the platform, declared in one place (its index.ts).
 * The composition root registers modules in order; nothing else needs to know their insides.
 */
export interface PlatformModule {
  name: string;
  permissions?: PermissionDef[];
  /** New roles, or more permissions for existing roles (merged by role key). */
  roles?: RoleDef[];
  migrations?: PlatformMigration[];
  /** Background and scheduled work; built once the services exist. */
  jobs?(platform: Platform): JobDefinition[];
  adminMenu?: MenuEntry[];
  cli?: CliCommand[];
  /** Mounts the module's routes. Runs after every module's services exist. */
  routes?(app: Hono<AppEnv>, platform: Platform): void;
  /** Adds demo content on first start when DEMO_CONTENT is on. Must be idempotent. */
  seedDemo?(platform: Platform): Promise<void>;
}

/** Identity helper that gives a module object its type. */
export function defineModule(m: PlatformModule): PlatformModule {
  return m;
}
