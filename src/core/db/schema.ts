import type { Generated } from 'kysely';

/**
 * The database's tables. Modules add their own tables by declaration merging:
 * `declare module '../../core/db/schema.js' { interface Database { cms_pages: CmsPageTable } }`
 * Timestamps are ISO strings; booleans are 0/1; JSON columns are text.
 */
export interface Database {
  system_settings: SystemSettingTable;
  organizations: OrganizationTable;
  users: UserTable;
  user_roles: UserRoleTable;
  role_settings: RoleSettingTable;
  recovery_codes: RecoveryCodeTable;
  sessions: SessionTable;
  password_resets: PasswordResetTable;
  audit_log: AuditLogTable;
  jobs: JobTable;
  mail_messages: MailMessageTable;
  rate_limits: RateLimitTable;
  office_hours: OfficeHoursTable;
  closed_days: ClosedDayTable;
}

export interface SystemSettingTable {
  key: string;
  value: string;
  updated_at: string;
}

export type OrganizationKind = 'prefecture' | 'municipality' | 'department' | 'operator' | 'store';

export interface OrganizationTable {
  id: Generated<number>;
  code: string;
  name: string;
  name_en: string | null;
  kind: OrganizationKind;
  parent_id: number | null;
  created_at: string;
  updated_at: string;
}

export type UserStatus = 'active' | 'disabled' | 'deleted';

export interface UserTable {
  id: Generated<number>;
  login_id: string;
  display_name: string;
  email: string | null;
  password_hash: string;
  organization_id: number | null;
  status: UserStatus;
  failed_logins: number;
  locked_at: string | null;
  totp_secret: string | null;
  totp_enabled: number;
  /** Last accepted TOTP time step, so a code cannot be replayed. */
  totp_last_step: number | null;
  must_change_password: number;
  locale: string;
  last_login_at: string | null;
  password_changed_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface UserRoleTable {
  user_id: number;
  role: string;
}

export interface RoleSettingTable {
  role: string;
  require_totp: number;
  /** Comma-separated CIDR list; empty means no restriction. */
  ip_allowlist: string;
  updated_at: string;
}

export interface RecoveryCodeTable {
  id: Generated<number>;
  user_id: number;
  code_hash: string;
  used_at: string | null;
}

export interface SessionTable {
  /** SHA-256 of the cookie token, so a database leak does not leak live sessions. */
  id: string;
  user_id: number;
  /** 'pending_totp' after a correct password while the second step is outstanding. */
  stage: 'active' | 'pending_totp';
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
}

export interface PasswordResetTable {
  token_hash: string;
  user_id: number;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor_id: number | null;
  actor_login: string | null;
  organization_id: number | null;
  ip: string | null;
  user_agent: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  summary: string;
  details: string | null;
  prev_hash: string;
  hash: string;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'dead';

export interface JobTable {
  id: Generated<number>;
  name: string;
  payload: string | null;
  status: JobStatus;
  run_at: string;
  attempts: number;
  max_attempts: number;
  unique_key: string | null;
  locked_by: string | null;
  locked_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  result: string | null;
  last_error: string | null;
  created_at: string;
}

export type MailStatus = 'queued' | 'sent' | 'failed' | 'outbox';

export interface MailMessageTable {
  id: Generated<number>;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  category: string | null;
  /** 1 when the body holds a secret (a reset link): hidden in the admin and wiped once sent. */
  sensitive: number;
  status: MailStatus;
  attempts: number;
  last_error: string | null;
  message_id: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface RateLimitTable {
  key: string;
  window_start: string;
  hits: number;
}

export interface OfficeHoursTable {
  id: Generated<number>;
  organization_id: number | null;
  /** 0 = Sunday … 6 = Saturday (JST). */
  weekday: number;
  opens: string;
  closes: string;
}

export interface ClosedDayTable {
  id: Generated<number>;
  organization_id: number | null;
  /** YYYY-MM-DD in JST. */
  day: string;
  reason: string;
}
