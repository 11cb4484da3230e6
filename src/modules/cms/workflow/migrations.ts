import type { PlatformMigration } from '../../../core/db/migrate.js';

/** Approval routes, requests and their per-approver steps (same tables on both engines). */
export const workflowMigrations: PlatformMigration[] = [
  {
    name: '20261123_20_cms_workflow_tables',
    async up(db, k) {
      await k
        .id(db.schema.createTable('cms_workflow_routes'))
        .addColumn('site_id', 'integer', (c) => c.notNull().references('cms_sites.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('folder_id', 'integer', (c) => c.references('cms_nodes.id').onDelete('cascade'))
        .addColumn('organization_id', 'integer', (c) => c.references('organizations.id').onDelete('cascade'))
        .addColumn('scope_key', 'text', (c) => c.notNull())
        .$call((t) => k.json(t, 'levels', (c) => c.notNull()))
        .addColumn('created_by', 'integer')
        .addColumn('updated_by', 'integer')
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .addUniqueConstraint('cms_workflow_routes_scope_uq', ['site_id', 'scope_key'])
        .execute();

      await k
        .id(db.schema.createTable('cms_workflow_requests'))
        .addColumn('node_id', 'integer', (c) => c.notNull().references('cms_nodes.id').onDelete('cascade'))
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('version_id', 'integer', (c) => c.notNull().references('cms_versions.id').onDelete('cascade'))
        .addColumn('version_number', 'integer', (c) => c.notNull())
        .addColumn('route_id', 'integer', (c) => c.references('cms_workflow_routes.id').onDelete('set null'))
        .addColumn('route_name', 'text', (c) => c.notNull())
        .$call((t) => k.json(t, 'levels', (c) => c.notNull()))
        .addColumn('current_level', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('requester_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('requester_name', 'text', (c) => c.notNull())
        .addColumn('comment', 'text')
        .$call((t) => k.timestamp(t, 'publish_at'))
        .addColumn('a11y_errors', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('a11y_override_reason', 'text')
        .addColumn('closed_reason', 'text')
        .addColumn('closed_by', 'integer')
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'closed_at'))
        .execute();
      await db.schema.createIndex('cms_workflow_requests_node_idx').on('cms_workflow_requests').columns(['node_id', 'created_at']).execute();
      await db.schema.createIndex('cms_workflow_requests_requester_idx').on('cms_workflow_requests').columns(['requester_id', 'created_at']).execute();
      // At most one open request per page, even when two people ask at the same moment.
      await k.exec(db, {
        sqlite: ["CREATE UNIQUE INDEX cms_workflow_requests_open_uq ON cms_workflow_requests (node_id) WHERE status IN ('pending', 'scheduled')"],
        postgres: ["CREATE UNIQUE INDEX cms_workflow_requests_open_uq ON cms_workflow_requests (node_id) WHERE status IN ('pending', 'scheduled')"],
      });

      await k
        .id(db.schema.createTable('cms_workflow_steps'))
        .addColumn('request_id', 'integer', (c) => c.notNull().references('cms_workflow_requests.id').onDelete('cascade'))
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('approver_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('approver_name', 'text', (c) => c.notNull())
        .addColumn('decision', 'text')
        .addColumn('comment', 'text')
        .addColumn('a11y_override_reason', 'text')
        .$call((t) => k.timestamp(t, 'decided_at'))
        .addUniqueConstraint('cms_workflow_steps_uq', ['request_id', 'level', 'approver_id'])
        .execute();
      await db.schema.createIndex('cms_workflow_steps_approver_idx').on('cms_workflow_steps').columns(['approver_id', 'decision']).execute();
    },
    async down(db) {
      await db.schema.dropTable('cms_workflow_steps').execute();
      await db.schema.dropTable('cms_workflow_requests').execute();
      await db.schema.dropTable('cms_workflow_routes').execute();
    },
  },
];
