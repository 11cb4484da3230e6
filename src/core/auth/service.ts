import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { AuditService } from '../audit/index.js';
import type { Db } from '../db/index.js';
import { nowIso } from '../db/index.js';
import type { UserTable } from '../db/schema.js';
import type { Selectable } from 'kysely';
import { MailValidationError, type MailService } from '../mail/index.js';
import type { Actor, PermissionRegistry } from '../permissions/index.js';
import { CidrList } from '../http/client-ip.js';
import { DUMMY_HASH, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { hashToken, type SessionStore } from './sessions.js';
import { generateRecoveryCodes, hashRecoveryCode, newTotpSecret, verifyTotp } from './totp.js';
import type { SessionInfo } from '../http/types.js';
import type { Translator } from '../i18n/index.js';

export interface RequestMeta {
  ip: string;
  userAgent: string | null;
}

export type LoginResult =
  | { kind: 'ok'; session: SessionInfo }
  | { kind: 'second_step'; session: SessionInfo; enrol: boolean }
  | { kind: 'failed' }
  | { kind: 'locked' }
  | { kind: 'disabled' }
  | { kind: 'ip_denied' };

export type SecondStepResult = { kind: 'ok'; session: SessionInfo; recoveryCodes?: string[] } | { kind: 'invalid' } | { kind: 'locked' };

export interface AuthPolicy {
  maxFailures: number;
  passwordMinLength: number;
  passwordLogN: number;
  resetMinutes: number;
  baseUrl: string;
}

type UserRow = Selectable<UserTable>;

/**
 * Staff authentication: password login with lockout, IP allow-lists per role, TOTP second step
 * with recovery codes, password change and reset by mailed single-use token. Knows nothing of HTTP.
 */
export class AuthService {
  private roleSettingsCache: { at: number; rows: Map<string, { requireTotp: boolean; allow: CidrList }> } | null = null;

  constructor(
    private readonly deps: {
      db: Db;
      sessions: SessionStore;
      audit: AuditService;
      mail: MailService;
      permissions: PermissionRegistry;
      policy: AuthPolicy;
    },
  ) {}

  get sessions(): SessionStore {
    return this.deps.sessions;
  }

  private get db() {
    return this.deps.db;
  }

  async findUserByLogin(loginId: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('login_id', '=', loginId).where('status', '!=', 'deleted').executeTakeFirst();
  }

  async rolesOf(userId: number): Promise<string[]> {
    const rows = await this.db.selectFrom('user_roles').select('role').where('user_id', '=', userId).execute();
    return rows.map((r) => r.role).filter((r) => this.deps.permissions.hasRole(r));
  }

  /** Role settings are read on every staff request; a few seconds of caching keeps that cheap. */
  async roleSettings(): Promise<Map<string, { requireTotp: boolean; allow: CidrList }>> {
    const now = Date.now();
    if (this.roleSettingsCache && now - this.roleSettingsCache.at < 5000) return this.roleSettingsCache.rows;
    const rows = await this.db.selectFrom('role_settings').selectAll().execute();
    const map = new Map<string, { requireTotp: boolean; allow: CidrList }>();
    for (const r of rows) {
      let allow: CidrList;
      try {
        allow = new CidrList(r.ip_allowlist.split(/[\s,]+/));
      } catch {
        allow = new CidrList(['0.0.0.0/32']); // a corrupt list denies rather than opens
      }
      map.set(r.role, { requireTotp: r.require_totp === 1, allow });
    }
    this.roleSettingsCache = { at: now, rows: map };
    return map;
  }

  invalidateRoleSettings(): void {
    this.roleSettingsCache = null;
  }

  /** Every restricted role of the user must allow the address. */
  async ipAllowed(roles: string[], ip: string): Promise<boolean> {
    const settings = await this.roleSettings();
    for (const r of roles) {
      const s = settings.get(r);
      if (s && !s.allow.empty && !s.allow.contains(ip)) return false;
    }
    return true;
  }

  async totpRequired(user: Pick<UserRow, 'totp_enabled'>, roles: string[]): Promise<boolean> {
    if (user.totp_enabled === 1) return true;
    const settings = await this.roleSettings();
    return roles.some((r) => settings.get(r)?.requireTotp);
  }

  private auditBase(user: Pick<UserRow, 'id' | 'login_id' | 'organization_id'> | null, meta: RequestMeta) {
    return {
      actor: user ? { id: user.id, loginId: user.login_id, organizationId: user.organization_id } : null,
      organizationId: user?.organization_id ?? null,
      ip: meta.ip,
      userAgent: meta.userAgent,
      targetType: 'user',
      targetId: user?.id ?? null,
    };
  }

  /** Counts a failed attempt; locks the account at the limit. Returns true when now locked. */
  private async countFailure(user: UserRow, meta: RequestMeta, reason: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .updateTable('users')
        .set({ failed_logins: sql<number>`failed_logins + 1`, updated_at: nowIso() })
        .where('id', '=', user.id)
        .returning(['failed_logins', 'locked_at'])
        .executeTakeFirstOrThrow();
      await this.deps.audit.record(
        { ...this.auditBase(user, meta), action: 'auth.login_failed', summary: `ログイン失敗（${reason}、${row.failed_logins}回目）` },
        tx,
      );
      if (row.failed_logins >= this.deps.policy.maxFailures && !row.locked_at) {
        await tx.updateTable('users').set({ locked_at: nowIso() }).where('id', '=', user.id).execute();
        await this.deps.audit.record(
          { ...this.auditBase(user, meta), action: 'auth.lockout', summary: `${row.failed_logins}回連続でログインに失敗したためロックしました` },
          tx,
        );
        return true;
      }
      return Boolean(row.locked_at);
    });
  }

  /**
   * First step of a staff login.
   * @example const r = await auth.login('editor1', 'pw', { ip, userAgent })
   */
  async login(loginId: string, password: string, meta: RequestMeta): Promise<LoginResult> {
    const user = loginId ? await this.findUserByLogin(loginId.trim()) : undefined;
    if (!user) {
      await verifyPassword(password, DUMMY_HASH);
      await this.deps.audit.record({
        ...this.auditBase(null, meta),
        targetId: null,
        action: 'auth.login_failed',
        summary: `ログイン失敗（未登録のID「${loginId.slice(0, 64)}」）`,
      });
      return { kind: 'failed' };
    }
    if (user.status === 'disabled') {
      await this.deps.audit.record({ ...this.auditBase(user, meta), action: 'auth.login_failed', summary: 'ログイン失敗（無効化されたアカウント）' });
      return { kind: 'disabled' };
    }
    if (user.locked_at) {
      await this.deps.audit.record({ ...this.auditBase(user, meta), action: 'auth.login_failed', summary: 'ログイン失敗（ロック中のアカウント）' });
      return { kind: 'locked' };
    }
    if (!(await verifyPassword(password, user.password_hash))) {
      return (await this.countFailure(user, meta, 'パスワード誤り')) ? { kind: 'locked' } : { kind: 'failed' };
    }
    const roles = await this.rolesOf(user.id);
    if (!(await this.ipAllowed(roles, meta.ip))) {
      await this.deps.audit.record({ ...this.auditBase(user, meta), action: 'auth.ip_denied', summary: `許可されていない接続元からのログイン（${meta.ip}）` });
      return { kind: 'ip_denied' };
    }
    if (await this.totpRequired(user, roles)) {
      const session = await this.deps.sessions.create(user.id, 'pending_totp', meta);
      return { kind: 'second_step', session, enrol: user.totp_enabled !== 1 };
    }
    return { kind: 'ok', session: await this.completeLogin(user, meta, 'パスワード') };
  }

  private async completeLogin(user: UserRow, meta: RequestMeta, method: string): Promise<SessionInfo> {
    await this.db.updateTable('users').set({ failed_logins: 0, last_login_at: nowIso(), updated_at: nowIso() }).where('id', '=', user.id).execute();
    const session = await this.deps.sessions.create(user.id, 'active', meta);
    await this.deps.audit.record({ ...this.auditBase(user, meta), action: 'auth.login', summary: `ログイン成功（${method}）` });
    return session;
  }

  /** The secret shown during enrolment; created once and kept until confirmed. */
  async pendingTotpSecret(userId: number): Promise<string> {
    const user = await this.db.selectFrom('users').select(['totp_secret', 'totp_enabled']).where('id', '=', userId).executeTakeFirstOrThrow();
    if (user.totp_secret && user.totp_enabled !== 1) return user.totp_secret;
    if (user.totp_enabled === 1) throw new Error('two-step verification already enabled');
    const secret = newTotpSecret();
    await this.db.updateTable('users').set({ totp_secret: secret, updated_at: nowIso() }).where('id', '=', userId).execute();
    return secret;
  }

  /**
   * Second step: a TOTP code or a recovery code. During forced enrolment the first correct code
   * also switches TOTP on and returns the recovery codes to show once.
   */
  async completeSecondStep(pending: SessionInfo, code: string, meta: RequestMeta): Promise<SecondStepResult> {
    const user = await this.db.selectFrom('users').selectAll().where('id', '=', pending.userId).executeTakeFirst();
    if (!user || user.status !== 'active') return { kind: 'invalid' };
    if (user.locked_at) return { kind: 'locked' };
    let recoveryCodes: string[] | undefined;
    let method = '2段階認証';
    const step = user.totp_secret ? verifyTotp(user.totp_secret, code, user.totp_last_step) : null;
    if (step !== null) {
      if (user.totp_enabled !== 1) {
        recoveryCodes = await this.enableTotp(user, step, meta);
      } else {
        await this.db.updateTable('users').set({ totp_last_step: step }).where('id', '=', user.id).execute();
      }
    } else if (user.totp_enabled === 1 && (await this.useRecoveryCode(user.id, code))) {
      method = 'リカバリーコード';
    } else {
      const locked = await this.countFailure(user, meta, '2段階認証コード誤り');
      if (locked) await this.deps.sessions.destroy(pending.id);
      return locked ? { kind: 'locked' } : { kind: 'invalid' };
    }
    await this.deps.sessions.destroy(pending.id);
    const session = await this.completeLogin(user, meta, method);
    return { kind: 'ok', session, recoveryCodes };
  }

  private async useRecoveryCode(userId: number, code: string): Promise<boolean> {
    const res = await this.db
      .updateTable('recovery_codes')
      .set({ used_at: nowIso() })
      .where('user_id', '=', userId)
      .where('code_hash', '=', hashRecoveryCode(code))
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  private async enableTotp(user: UserRow, step: number, meta: RequestMeta): Promise<string[]> {
    const codes = generateRecoveryCodes();
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('users').set({ totp_enabled: 1, totp_last_step: step, updated_at: nowIso() }).where('id', '=', user.id).execute();
      await tx.deleteFrom('recovery_codes').where('user_id', '=', user.id).execute();
      await tx.insertInto('recovery_codes').values(codes.map((c) => ({ user_id: user.id, code_hash: hashRecoveryCode(c), used_at: null }))).execute();
      await this.deps.audit.record({ ...this.auditBase(user, meta), action: 'auth.totp_enabled', summary: '2段階認証を有効にしました' }, tx);
    });
    return codes;
  }

  /** Enrolment from the account page (already signed in). */
  async confirmTotpEnrolment(userId: number, code: string, meta: RequestMeta): Promise<string[] | null> {
    const user = await this.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    if (!user.totp_secret || user.totp_enabled === 1) return null;
    const step = verifyTotp(user.totp_secret, code, user.totp_last_step);
    if (step === null) return null;
    return this.enableTotp(user, step, meta);
  }

  /** Turns TOTP off for the user (own choice, or an administrator's reset). */
  async disableTotp(userId: number, by: Actor | null, meta: RequestMeta): Promise<void> {
    const user = await this.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('users').set({ totp_enabled: 0, totp_secret: null, totp_last_step: null, updated_at: nowIso() }).where('id', '=', userId).execute();
      await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      await this.deps.audit.record(
        {
          ...this.auditBase(user, meta),
          actor: by ? { id: by.id, loginId: by.loginId, organizationId: by.organizationId } : this.auditBase(user, meta).actor,
          action: by && by.id !== userId ? 'user.totp_reset' : 'auth.totp_disabled',
          summary: by && by.id !== userId ? `${user.login_id} の2段階認証をリセットしました` : '2段階認証を無効にしました',
        },
        tx,
      );
    });
  }

  async remainingRecoveryCodes(userId: number): Promise<number> {
    const row = await this.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Builds the Actor for a live session, or null when the user can no longer act. */
  async actorFor(userId: number): Promise<Actor | null> {
    const user = await this.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!user || user.status !== 'active' || user.locked_at) return null;
    const roles = await this.rolesOf(user.id);
    return {
      id: user.id,
      loginId: user.login_id,
      displayName: user.display_name,
      organizationId: user.organization_id,
      roles,
      permissions: this.deps.permissions.permissionsOf(roles),
      allOrganizations: this.deps.permissions.seesAllOrganizations(roles),
    };
  }

  async logout(session: SessionInfo, actor: Actor | null, meta: RequestMeta): Promise<void> {
    await this.deps.sessions.destroy(session.id);
    if (actor) {
      await this.deps.audit.record({
        actor: { id: actor.id, loginId: actor.loginId, organizationId: actor.organizationId },
        organizationId: actor.organizationId,
        ip: meta.ip,
        userAgent: meta.userAgent,
        action: 'auth.logout',
        targetType: 'user',
        targetId: actor.id,
        summary: 'ログアウト',
      });
    }
  }

  async logoutEverywhere(actor: Actor, meta: RequestMeta): Promise<number> {
    const n = await this.deps.sessions.destroyAllForUser(actor.id);
    await this.deps.audit.record({
      actor: { id: actor.id, loginId: actor.loginId, organizationId: actor.organizationId },
      organizationId: actor.organizationId,
      ip: meta.ip,
      userAgent: meta.userAgent,
      action: 'auth.logout_all',
      targetType: 'user',
      targetId: actor.id,
      summary: `すべての端末からログアウト（${n}件のセッション）`,
    });
    return n;
  }

  /** Changes the actor's own password after checking the current one; other sessions end. */
  async changePassword(actor: Actor, current: string, next: string, keepSessionId: string, meta: RequestMeta): Promise<{ field: string; message: string } | null> {
    const user = await this.db.selectFrom('users').selectAll().where('id', '=', actor.id).executeTakeFirstOrThrow();
    if (!(await verifyPassword(current, user.password_hash))) return { field: 'current', message: '現在のパスワードが正しくありません。' };
    const problem = passwordProblem(next, { minLength: this.deps.policy.passwordMinLength, loginId: user.login_id });
    if (problem) return { field: 'password', message: problem };
    if (await verifyPassword(next, user.password_hash)) return { field: 'password', message: '現在と異なるパスワードを入力してください。' };
    await this.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('users')
        .set({ password_hash: await hashPassword(next, this.deps.policy.passwordLogN), must_change_password: 0, password_changed_at: nowIso(), updated_at: nowIso() })
        .where('id', '=', user.id)
        .execute();
      await tx.deleteFrom('sessions').where('user_id', '=', user.id).where('id', '!=', keepSessionId).execute();
      await this.deps.audit.record({ ...this.auditBase(user, meta), action: 'auth.password_changed', summary: 'パスワードを変更しました' }, tx);
    });
    return null;
  }

  /**
   * Mails a single-use reset link when the login ID has an e-mail address. The answer to the
   * requester is the same either way, so IDs cannot be discovered through it.
   */
  async requestPasswordReset(loginId: string, meta: RequestMeta, t: Translator): Promise<void> {
    const user = await this.findUserByLogin(loginId.trim());
    if (!user || user.status !== 'active' || !user.email) {
      await this.deps.audit.record({
        ...this.auditBase(null, meta),
        targetId: null,
        action: 'auth.password_reset_requested',
        summary: `パスワード再設定の申込み（対象なし: 「${loginId.slice(0, 64)}」）`,
      });
      return;
    }
    const token = randomBytes(32).toString('base64url');
    const minutes = this.deps.policy.resetMinutes;
    const url = `${this.deps.policy.baseUrl}/admin/password-reset/${token}`;
    try {
      await this.issueReset(user, token, minutes, url, meta, t);
    } catch (e) {
      // A stored address the mail layer refuses (CR/LF, several recipients: legacy data or direct SQL)
      // sends nothing; the requester gets the usual answer, so no 500 tells that the ID exists.
      if (!(e instanceof MailValidationError)) throw e;
      await this.deps.audit.record({
        ...this.auditBase(user, meta),
        action: 'auth.password_reset_requested',
        summary: 'パスワード再設定メールを送信できませんでした（登録されているメールアドレスが不正です）',
      });
    }
  }

  private async issueReset(user: UserRow, token: string, minutes: number, url: string, meta: RequestMeta, t: Translator): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('password_resets').where('user_id', '=', user.id).where('used_at', 'is', null).execute();
      await tx
        .insertInto('password_resets')
        .values({ token_hash: hashToken(token), user_id: user.id, created_at: nowIso(), expires_at: nowIso(new Date(Date.now() + minutes * 60_000)), used_at: null })
        .execute();
      await this.deps.mail.send(
        {
          to: user.email!,
          subject: t('reset.mailSubject'),
          text: t('reset.mailBody', { name: user.display_name, minutes, url }),
          category: 'password_reset',
          sensitive: true,
        },
        tx,
      );
      await this.deps.audit.record({ ...this.auditBase(user, meta), action: 'auth.password_reset_requested', summary: 'パスワード再設定メールを送信しました' }, tx);
    });
  }

  /** True when the token is known, unused and not expired. */
  async resetTokenValid(token: string): Promise<boolean> {
    const row = await this.db.selectFrom('password_resets').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
    return Boolean(row && !row.used_at && new Date(row.expires_at).getTime() > Date.now());
  }

  /** Sets a new password with a reset token; the token dies and every session of the user ends. */
  async resetPassword(token: string, password: string, meta: RequestMeta): Promise<{ ok: true } | { ok: false; field: string; message: string }> {
    const row = await this.db.selectFrom('password_resets').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
    if (!row || row.used_at || new Date(row.expires_at).getTime() <= Date.now()) return { ok: false, field: '_form', message: 'invalid_token' };
    const user = await this.db.selectFrom('users').selectAll().where('id', '=', row.user_id).executeTakeFirstOrThrow();
    const problem = passwordProblem(password, { minLength: this.deps.policy.passwordMinLength, loginId: user.login_id });
    if (problem) return { ok: false, field: 'password', message: problem };
    const hash = await hashPassword(password, this.deps.policy.passwordLogN);
    const done = await this.db.transaction().execute(async (tx) => {
      const used = await tx
        .updateTable('password_resets')
        .set({ used_at: nowIso() })
        .where('token_hash', '=', row.token_hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (Number(used.numUpdatedRows) !== 1) return false;
      await tx.updateTable('users').set({ password_hash: hash, must_change_password: 0, password_changed_at: nowIso(), updated_at: nowIso() }).where('id', '=', user.id).execute();
      await tx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
      await this.deps.audit.record({ ...this.auditBase(user, meta), action: 'auth.password_reset', summary: '再設定リンクでパスワードを変更しました' }, tx);
      return true;
    });
    return done ? { ok: true } : { ok: false, field: '_form', message: 'invalid_token' };
  }

  async mustChangePassword(userId: number): Promise<boolean> {
    const row = await this.db.selectFrom('users').select('must_change_password').where('id', '=', userId).executeTakeFirst();
    return row?.must_change_password === 1;
  }
}
