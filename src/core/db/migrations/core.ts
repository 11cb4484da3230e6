
import type { PlatformMigration } from '../migrate.js';

/** Tables every module relies on: organisations, staff, sessions, audit, jobs, mail, calendar. */
export const coreMigrations: PlatformMigration[] = [
  {
    name: '20261121_00_core_init',
    async up(db, k) {
      await db.schema
        .createTable('system_settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .execute();

      await k
        .id(db.schema.createTable('organizations'))
        .addColumn('code', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_en', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'integer', (c) => c.references('organizations.id'))
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .execute();

      await k
        .id(db.schema.createTable('users'))
        .addColumn('login_id', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('organization_id', 'integer', (c) => c.references('organizations.id'))
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
        .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
        .$call((t) => k.timestamp(t, 'locked_at'))
        .addColumn('totp_secret', 'text')
        .$call((t) => k.bool(t, 'totp_enabled'))
        .addColumn('totp_last_step', 'integer')
        .$call((t) => k.bool(t, 'must_change_password'))
        .addColumn('locale', 'text', (c) => c.notNull().defaultTo('ja'))
        .$call((t) => k.timestamp(t, 'last_login_at'))
        .$call((t) => k.timestamp(t, 'password_changed_at'))
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .execute();

      await db.schema
        .createTable('user_roles')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role'])
        .execute();

      await db.schema
        .createTable('role_settings')
        .addColumn('role', 'text', (c) => c.primaryKey())
        .$call((t) => k.bool(t, 'require_totp'))
        .addColumn('ip_allowlist', 'text', (c) => c.notNull().defaultTo(''))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .execute();

      await k
        .id(db.schema.createTable('recovery_codes'))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'used_at'))
        .execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'last_seen_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'expires_at', (c) => c.notNull()))
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

      await db.schema
        .createTable('password_resets')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'expires_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'used_at'))
        .execute();

      await k
        .id(db.schema.createTable('audit_log'))
        .$call((t) => k.timestamp(t, 'at', (c) => c.notNull()))
        .addColumn('actor_id', 'integer')
        .addColumn('actor_login', 'text')
        .addColumn('organization_id', 'integer')
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('summary', 'text', (c) => c.notNull())
        .$call((t) => k.json(t, 'details'))
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
      await db.schema.createIndex('audit_log_action_idx').on('audit_log').column('action').execute();
      // Append-only: the database itself refuses to change or remove an entry.
      await k.exec(db, {
        sqlite: [
          `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
          `CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
        ],
        postgres: [
          `CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`,
          `CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
        ],
      });

      await k
        .id(db.schema.createTable('jobs'))
        .addColumn('name', 'text', (c) => c.notNull())
        .$call((t) => k.json(t, 'payload'))
        .addColumn('status', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'run_at', (c) => c.notNull()))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(5))
        .addColumn('unique_key', 'text', (c) => c.unique())
        .addColumn('locked_by', 'text')
        .$call((t) => k.timestamp(t, 'locked_at'))
        .$call((t) => k.timestamp(t, 'started_at'))
        .$call((t) => k.timestamp(t, 'finished_at'))
        .$call((t) => k.json(t, 'result'))
        .addColumn('last_error', 'text')
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('jobs_due_idx').on('jobs').columns(['status', 'run_at']).execute();
      await db.schema.createIndex('jobs_name_idx').on('jobs').columns(['name', 'created_at']).execute();

      await k
        .id(db.schema.createTable('mail_messages'))
        .addColumn('to_address', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text_body', 'text', (c) => c.notNull())
        .addColumn('html_body', 'text')
        .addColumn('category', 'text')
        .$call((t) => k.bool(t, 'sensitive'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('message_id', 'text')
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'sent_at'))
        .execute();

      await db.schema
        .createTable('rate_limits')
        .addColumn('key', 'text', (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'window_start', (c) => c.notNull()))
        .addColumn('hits', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('rate_limits_pk', ['key', 'window_start'])
        .execute();

      await k
        .id(db.schema.createTable('office_hours'))
        .addColumn('organization_id', 'integer', (c) => c.references('organizations.id').onDelete('cascade'))
        .addColumn('weekday', 'integer', (c) => c.notNull())
        .addColumn('opens', 'text', (c) => c.notNull())
        .addColumn('closes', 'text', (c) => c.notNull())
        .execute();

      await k
        .id(db.schema.createTable('closed_days'))
        .addColumn('organization_id', 'integer', (c) => c.references('organizations.id').onDelete('cascade'))
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('closed_days_day_idx').on('closed_days').columns(['day']).execute();
    },
  },
];
