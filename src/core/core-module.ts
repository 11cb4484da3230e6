import { defineModule } from './module.js';
import { coreMigrations } from './db/migrations/core.js';

/** The foundation's own declarations: tables, permissions, built-in roles, jobs, CLI. */
export const coreModule = defineModule({
  name: 'core',
  migrations: coreMigrations,
});
