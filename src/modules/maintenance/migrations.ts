import type { Generated } from 'kysely';
import type { PlatformMigration } from '../../core/db/migrate.js';

/** A planned stop of the public site (C-5, H-19, O-03). */
export interface MaintenanceWindowTable {
  id: Generated<number>;
  title: string;
  body: string;
  starts_at: string;
  ends_at: string;
  /** From when every public page shows the announcement (default: MAINTENANCE_LEAD_DAYS before the start). */
  announce_from: string;
  /** 1: the public site answers 503 during the window; 0: announced only (staff-side work). */
  affects_public: 0 | 1;
  created_by: number | null;
  created_at: string;
  cancelled_at: string | null;
}

declare module '../../core/db/schema.js' {
  interface Database {
    maintenance_windows: MaintenanceWindowTable;
  }
}

export const maintenanceMigrations: PlatformMigration[] = [
  {
    name: '20261122_20_maintenance_windows',
    async up(db, k) {
      await k
        .id(db.schema.createTable('maintenance_windows'))
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull().defaultTo(''))
        .$call((t) => k.timestamp(t, 'starts_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'ends_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'announce_from', (c) => c.notNull()))
        .$call((t) => k.bool(t, 'affects_public', true))
        .addColumn('created_by', 'integer', (c) => c.references('users.id'))
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'cancelled_at'))
        .execute();
      await db.schema.createIndex('maintenance_windows_ends_idx').on('maintenance_windows').columns(['ends_at']).execute();
    },
    async down(db) {
      await db.schema.dropTable('maintenance_windows').execute();
    },
  },
];
