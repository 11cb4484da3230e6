import type { PlatformModule } from '../core/module.js';
import type { PlatformMigration } from '../core/db/migrate.js';
import { coreModule } from '../core/core-module.js';
import { opsModule } from './ops/index.js';
import { maintenanceModule } from './maintenance/index.js';
import { adminModule } from './admin/index.js';
import { publicModule } from './public/index.js';
import { cmsModule } from './cms/index.js';
import { formsModule } from './forms/index.js';

/**
 * Every capability of the platform, in registration order. Adding a module means adding it here.
 */
export function platformModules(): PlatformModule[] {
  // Maintenance comes before everything public: its 503 and banner must wrap the CMS and the shell.
  // The CMS comes before the plain public shell: its catch-all yields to it when no site matches.
  return [coreModule, opsModule, maintenanceModule, adminModule, cmsModule, formsModule, publicModule];
}

/** The single migration set for both engines, in name order. */
export function allMigrations(modules: PlatformModule[] = platformModules()): PlatformMigration[] {
  return modules.flatMap((m) => m.migrations ?? []).sort((a, b) => a.name.localeCompare(b.name));
}
