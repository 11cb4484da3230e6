import { z } from 'zod';
import { sql, type SqlBool } from 'kysely';
import type { AuditService } from '../audit/index.js';
import type { Db } from '../db/index.js';
import { isRowId, isUniqueViolation, nowIso } from '../db/index.js';
import type { UserStatus } from '../db/schema.js';
import { ForbiddenError, InputError, NotFoundError } from '../errors.js';
import { fieldErrors } from '../http/validate.js';
import { actorRef, type OrganizationService } from '../organizations/index.js';
import type { Actor, PermissionRegistry } from '../permissions/index.js';
import { generateInitialPassword, hashPassword, passwordProblem } from './passwords.js';
import type { AuthService, RequestMeta } from './service.js';
import { parseCidrText, CidrError } from '../http/client-ip.js';

const loginIdRule = z
  .string({ error: 'ログインIDを入力してください。' })
  .trim()
  .min(3, 'ログインIDは3文字以上で入力してください。')
  .max(64, 'ログインIDは64文字以内で入力してください。')
  .regex(/^[A-Za-z0-9._@-]+$/, 'ログインIDは半角英数字と . _ @ - で入力してください。');

export const userInput = z.object({
  loginId: loginIdRule,
  displayName: z.string({ error: '氏名を入力してください。' }).trim().min(1, '氏名を入力してください。').max(100, '氏名は100文字以内で入力してください。'),
  email: z
    .string()
    .trim()
    .max(254, 'メールアドレスは254文字以内で入力してください。')
    .refine((v) => v === '' || z.email().safeParse(v).success, 'メールアドレスの形式が正しくありません（例: taro@example.lg.jp）。')
    .optional()
    .default(''),
  organizationId: z.union([z.literal(''), z.coerce.number().int().positive()]).optional().default(''),
  roles: z.union([z.string(), z.array(z.string())]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
  password: z.string().optional().default(''),
});
export type UserInput = z.input<typeof userInput>;

export interface UserListFilter {
  q?: string;
  status?: UserStatus | 'locked';
  role?: string;
  organizationId?: number;
}

/**
 * What administrators do to staff accounts: add, modify, disable, delete, unlock, reset 2-step
 * verification, grant roles. Every change is audited; organisation scope is enforced here.
 */
export class UserAdminService {
  constructor(
    private readonly deps: {
      db: Db;
      audit: AuditService;
      auth: AuthService;
      organizations: OrganizationService;
      permissions: PermissionRegistry;
      passwordMinLength: number;
      passwordLogN: number;
    },
  ) {}

  private async scopeIds(actor: Actor): Promise<Set<number> | null> {
    if (actor.allOrganizations) return null;
    if (actor.organizationId === null) return new Set();
    return this.deps.organizations.subtree(actor.organizationId);
  }

  async list(actor: Actor, filter: UserListFilter, page: { limit: number; offset: number }) {
    const scope = await this.scopeIds(actor);
    let q = this.deps.db.selectFrom('users').leftJoin('organizations', 'organizations.id', 'users.organization_id').where('users.status', '!=', 'deleted');
    if (scope) q = q.where('users.organization_id', 'in', scope.size ? [...scope] : [-1]);
    if (filter.q) {
      const like = `%${filter.q.replace(/[%_\\]/g, (m) => `\\${m}`)}%`;
      // SQLite has no default LIKE escape character, so the ESCAPE clause is what makes \% and \_ literal there.
      const match = (col: string) => sql<SqlBool>`${sql.ref(col)} like ${like} escape '\\'`;
      q = q.where((eb) => eb.or([match('users.login_id'), match('users.display_name'), match('users.email')]));
    }
    if (filter.status === 'locked') q = q.where('users.locked_at', 'is not', null);
    else if (filter.status) q = q.where('users.status', '=', filter.status);
    if (filter.organizationId) q = q.where('users.organization_id', '=', filter.organizationId);
    if (filter.role) q = q.where('users.id', 'in', (eb) => eb.selectFrom('user_roles').select('user_id').where('role', '=', filter.role!));
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q
      .select(['users.id', 'users.login_id', 'users.display_name', 'users.email', 'users.status', 'users.locked_at', 'users.totp_enabled', 'users.last_login_at', 'organizations.name as organization_name'])
      .orderBy('users.login_id')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const roleRows = rows.length
      ? await this.deps.db.selectFrom('user_roles').select(['user_id', 'role']).where('user_id', 'in', rows.map((r) => r.id)).execute()
      : [];
    return {
      total: Number(total.n),
      rows: rows.map((r) => ({ ...r, roles: roleRows.filter((x) => x.user_id === r.id).map((x) => x.role) })),
    };
  }

  /** One user, or NotFoundError when it does not exist or lies outside the actor's organisations. */
  async get(actor: Actor, id: number) {
    if (!isRowId(id)) throw new NotFoundError();
    const user = await this.deps.db.selectFrom('users').selectAll().where('id', '=', id).where('status', '!=', 'deleted').executeTakeFirst();
    if (!user) throw new NotFoundError();
    const scope = await this.scopeIds(actor);
    if (scope && (user.organization_id === null || !scope.has(user.organization_id))) throw new NotFoundError();
    const roles = (await this.deps.db.selectFrom('user_roles').select('role').where('user_id', '=', id).execute()).map((r) => r.role);
    return { ...user, roles };
  }

  /** Roles this actor may hand out: a scoped administrator cannot create installation-wide powers. */
  grantableRoles(actor: Actor) {
    return this.deps.permissions
      .roles()
      .filter((r) => actor.allOrganizations || (r.scope !== 'all' && !r.permissions.includes('*')));
  }

  /**
   * A scoped administrator may only act on accounts whose every role it could grant itself, so a
   * site administrator cannot disable, delete, demote or re-password a system administrator or an
   * operator who happens to belong to its organisation.
   */
  private manageable(actor: Actor, user: { roles: string[] }): boolean {
    const grantable = new Set(this.grantableRoles(actor).map((r) => r.key));
    return user.roles.every((r) => grantable.has(r));
  }

  private async parse(actor: Actor, input: UserInput, creating: boolean) {
    const r = userInput.safeParse(input);
    if (!r.success) throw new InputError(fieldErrors(r.error));
    const data = r.data;
    const errors: Record<string, string> = {};
    const organizationId = data.organizationId === '' ? null : data.organizationId;
    if (organizationId !== null && !(await this.deps.organizations.get(organizationId))) errors.organizationId = '所属組織が見つかりません。';
    if (!actor.allOrganizations && !(await this.deps.organizations.canAccess(actor, organizationId))) errors.organizationId = '管理できる組織を選んでください。';
    const grantable = new Set(this.grantableRoles(actor).map((r) => r.key));
    const unknown = data.roles.filter((x) => !grantable.has(x));
    if (unknown.length) errors.roles = `付与できない権限グループが含まれています: ${unknown.join(', ')}`;
    if (data.roles.length === 0) errors.roles = '権限グループを1つ以上選んでください。';
    if (data.password) {
      const problem = passwordProblem(data.password, { minLength: this.deps.passwordMinLength, loginId: data.loginId });
      if (problem) errors.password = problem;
    }
    if (Object.keys(errors).length) throw new InputError(errors);
    void creating;
    return { ...data, organizationId, email: data.email || null };
  }

  /**
   * Adds a staff account. Without a password a one-time password is generated, returned once to
   * show the administrator, and must be changed at first login.
   */
  async create(actor: Actor, input: UserInput, meta: RequestMeta): Promise<{ id: number; initialPassword: string | null }> {
    const data = await this.parse(actor, input, true);
    const initialPassword = data.password ? null : generateInitialPassword();
    const hash = await hashPassword(data.password || initialPassword!, this.deps.passwordLogN);
    try {
      const id = await this.deps.db.transaction().execute(async (tx) => {
        const at = nowIso();
        const row = await tx
          .insertInto('users')
          .values({
            login_id: data.loginId,
            display_name: data.displayName,
            email: data.email,
            password_hash: hash,
            organization_id: data.organizationId,
            status: 'active',
            failed_logins: 0,
            locked_at: null,
            totp_secret: null,
            totp_enabled: 0,
            totp_last_step: null,
            must_change_password: initialPassword ? 1 : 0,
            locale: 'ja',
            last_login_at: null,
            password_changed_at: at,
            created_at: at,
            updated_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await tx.insertInto('user_roles').values(data.roles.map((role) => ({ user_id: row.id, role }))).execute();
        await this.deps.audit.record(
          {
            actor: actorRef(actor),
            organizationId: data.organizationId,
            ip: meta.ip,
            userAgent: meta.userAgent,
            action: 'user.create',
            targetType: 'user',
            targetId: row.id,
            summary: `ユーザ ${data.loginId}（${data.displayName}）を作成しました。権限: ${data.roles.join(', ')}`,
            details: { loginId: data.loginId, displayName: data.displayName, organizationId: data.organizationId, roles: data.roles },
          },
          tx,
        );
        return row.id;
      });
      return { id, initialPassword };
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ loginId: 'このログインIDは既に使われています。' });
      throw e;
    }
  }

  async update(actor: Actor, id: number, input: UserInput, meta: RequestMeta): Promise<void> {
    const before = await this.get(actor, id);
    if (!this.manageable(actor, before)) throw new InputError({ roles: 'このユーザは、あなたが付与できない権限グループを持っているため変更できません。' });
    const data = await this.parse(actor, { ...input, loginId: input.loginId ?? before.login_id }, false);
    if (id === actor.id && !data.roles.every((r) => before.roles.includes(r)) ) {
      // Nobody raises their own privileges.
      throw new InputError({ roles: '自分自身に新しい権限グループを付与することはできません。' });
    }
    const changes: string[] = [];
    if (before.display_name !== data.displayName) changes.push(`氏名: ${before.display_name} → ${data.displayName}`);
    if ((before.email ?? '') !== (data.email ?? '')) changes.push('メールアドレスを変更');
    if (before.organization_id !== data.organizationId) changes.push(`所属: ${before.organization_id ?? '-'} → ${data.organizationId ?? '-'}`);
    if (before.login_id !== data.loginId) changes.push(`ログインID: ${before.login_id} → ${data.loginId}`);
    const rolesChanged = [...before.roles].sort().join(',') !== [...data.roles].sort().join(',');
    try {
      await this.deps.db.transaction().execute(async (tx) => {
        const set: Record<string, unknown> = {
          login_id: data.loginId,
          display_name: data.displayName,
          email: data.email,
          organization_id: data.organizationId,
          updated_at: nowIso(),
        };
        if (data.password) {
          set.password_hash = await hashPassword(data.password, this.deps.passwordLogN);
          set.must_change_password = 1;
          set.password_changed_at = nowIso();
          changes.push('パスワードを再設定');
        }
        await tx.updateTable('users').set(set).where('id', '=', id).execute();
        if (rolesChanged) {
          await tx.deleteFrom('user_roles').where('user_id', '=', id).execute();
          await tx.insertInto('user_roles').values(data.roles.map((role) => ({ user_id: id, role }))).execute();
          await this.deps.audit.record(
            {
              actor: actorRef(actor),
              organizationId: data.organizationId,
              ip: meta.ip,
              userAgent: meta.userAgent,
              action: 'user.roles_changed',
              targetType: 'user',
              targetId: id,
              summary: `${data.loginId} の権限グループを変更しました: ${before.roles.join(', ') || '-'} → ${data.roles.join(', ')}`,
              details: { before: before.roles, after: data.roles },
            },
            tx,
          );
          // Sessions carry no permissions, but ending them makes a demotion take effect visibly at once.
          await tx.deleteFrom('sessions').where('user_id', '=', id).execute();
        }
        if (changes.length) {
          await this.deps.audit.record(
            { actor: actorRef(actor), organizationId: data.organizationId, ip: meta.ip, userAgent: meta.userAgent, action: 'user.update', targetType: 'user', targetId: id, summary: `${data.loginId} を更新しました（${changes.join('、')}）` },
            tx,
          );
        }
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ loginId: 'このログインIDは既に使われています。' });
      throw e;
    }
  }

  private async simpleChange(actor: Actor, id: number, meta: RequestMeta, action: string, summary: (login: string) => string, set: Record<string, unknown>, endSessions: boolean) {
    const user = await this.get(actor, id);
    if (id === actor.id && action !== 'user.unlock') throw new ForbiddenError('自分自身には実行できません。');
    if (!this.manageable(actor, user)) throw new ForbiddenError('このユーザは、あなたが付与できない権限グループを持っているため操作できません。');
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('users').set({ ...set, updated_at: nowIso() }).where('id', '=', id).execute();
      if (endSessions) await tx.deleteFrom('sessions').where('user_id', '=', id).execute();
      await this.deps.audit.record(
        { actor: actorRef(actor), organizationId: user.organization_id, ip: meta.ip, userAgent: meta.userAgent, action, targetType: 'user', targetId: id, summary: summary(user.login_id) },
        tx,
      );
    });
  }

  unlock(actor: Actor, id: number, meta: RequestMeta) {
    return this.simpleChange(actor, id, meta, 'user.unlock', (l) => `${l} のロックを解除しました`, { locked_at: null, failed_logins: 0 }, false);
  }

  disable(actor: Actor, id: number, meta: RequestMeta) {
    return this.simpleChange(actor, id, meta, 'user.disable', (l) => `${l} を無効にしました`, { status: 'disabled' }, true);
  }

  enable(actor: Actor, id: number, meta: RequestMeta) {
    return this.simpleChange(actor, id, meta, 'user.enable', (l) => `${l} を有効にしました`, { status: 'active' }, false);
  }

  /** Deleting keeps the row (other records point at it) but frees the login ID and wipes secrets. */
  delete(actor: Actor, id: number, meta: RequestMeta) {
    return this.simpleChange(
      actor,
      id,
      meta,
      'user.delete',
      (l) => `${l} を削除しました`,
      { status: 'deleted', login_id: `deleted-${id}-${Date.now()}`, email: null, totp_secret: null, totp_enabled: 0, password_hash: '!' },
      true,
    );
  }

  async resetTotp(actor: Actor, id: number, meta: RequestMeta): Promise<void> {
    const user = await this.get(actor, id);
    if (!this.manageable(actor, user)) throw new ForbiddenError('このユーザは、あなたが付与できない権限グループを持っているため操作できません。');
    await this.deps.auth.disableTotp(id, actor, meta);
  }

  /** Role table with each role's 2-step and IP settings. */
  async roleOverview() {
    const settings = await this.deps.db.selectFrom('role_settings').selectAll().execute();
    const counts = await this.deps.db
      .selectFrom('user_roles')
      .innerJoin('users', 'users.id', 'user_roles.user_id')
      .where('users.status', '!=', 'deleted')
      .select(['user_roles.role', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('user_roles.role')
      .execute();
    return this.deps.permissions.roles().map((r) => {
      const s = settings.find((x) => x.role === r.key);
      return {
        ...r,
        requireTotp: s?.require_totp === 1,
        ipAllowlist: s?.ip_allowlist ?? '',
        users: Number(counts.find((c) => c.role === r.key)?.n ?? 0),
        permissionList: r.permissions.includes('*') ? this.deps.permissions.permissions().map((p) => p.key) : r.permissions,
      };
    });
  }

  async updateRoleSettings(actor: Actor, role: string, input: { requireTotp: boolean; ipAllowlist: string }, meta: RequestMeta): Promise<void> {
    if (!this.deps.permissions.hasRole(role)) throw new NotFoundError();
    let normalized: string;
    try {
      normalized = parseCidrText(input.ipAllowlist).entries.join(', ');
    } catch (e) {
      if (e instanceof CidrError) throw new InputError({ ipAllowlist: `${e.message}（例: 192.0.2.0/24, 2001:db8::/32）` });
      throw e;
    }
    const before = await this.deps.db.selectFrom('role_settings').selectAll().where('role', '=', role).executeTakeFirst();
    await this.deps.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('role_settings')
        .values({ role, require_totp: input.requireTotp ? 1 : 0, ip_allowlist: normalized, updated_at: nowIso() })
        .onConflict((oc) => oc.column('role').doUpdateSet({ require_totp: input.requireTotp ? 1 : 0, ip_allowlist: normalized, updated_at: nowIso() }))
        .execute();
      await this.deps.audit.record(
        {
          actor: actorRef(actor),
          organizationId: actor.organizationId,
          ip: meta.ip,
          userAgent: meta.userAgent,
          action: 'role.settings_changed',
          targetType: 'role',
          targetId: role,
          summary: `権限グループ ${role} の設定を変更しました（2段階認証: ${input.requireTotp ? '必須' : '任意'}、接続元制限: ${normalized || 'なし'}）`,
          details: { before: before ? { requireTotp: before.require_totp === 1, ipAllowlist: before.ip_allowlist } : null, after: { requireTotp: input.requireTotp, ipAllowlist: normalized } },
        },
        tx,
      );
    });
    this.deps.auth.invalidateRoleSettings();
  }
}
