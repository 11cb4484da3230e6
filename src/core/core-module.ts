import { defineModule } from './module.js';
import { coreMigrations } from './db/migrations/core.js';
import { nowIso } from './db/index.js';
import type { Platform } from './platform.js';

/** Permission keys of the foundation; modules define their own beside their code. */
export const CORE_PERMISSIONS = {
  adminAccess: 'admin.access',
  usersManage: 'users.manage',
  rolesManage: 'roles.manage',
  organizationsManage: 'organizations.manage',
  auditRead: 'audit.read',
  auditExport: 'audit.export',
  jobsManage: 'jobs.manage',
  mailRead: 'mail.read',
  calendarManage: 'calendar.manage',
  backupsManage: 'backups.manage',
} as const;

const P = CORE_PERMISSIONS;

/** The foundation's own declarations: tables, permissions, built-in roles, housekeeping jobs. */
export const coreModule = defineModule({
  name: 'core',
  migrations: coreMigrations,
  permissions: [
    { key: P.adminAccess, label: '管理画面の利用', labelEn: 'Use the admin console' },
    { key: P.usersManage, label: 'ユーザの追加・変更・削除、ロック解除', labelEn: 'Add, change, delete and unlock users' },
    { key: P.rolesManage, label: '権限グループの設定（2段階認証・接続元制限）', labelEn: 'Role settings (2-step, IP allow-list)' },
    { key: P.organizationsManage, label: '組織の管理', labelEn: 'Manage organisations' },
    { key: P.auditRead, label: '操作ログの閲覧', labelEn: 'Read the audit trail' },
    { key: P.auditExport, label: '操作ログの出力', labelEn: 'Export the audit trail' },
    { key: P.jobsManage, label: 'ジョブの確認と再実行', labelEn: 'View and retry jobs' },
    { key: P.mailRead, label: '送信メールの閲覧', labelEn: 'Read sent mail' },
    { key: P.calendarManage, label: '業務カレンダーの管理', labelEn: 'Manage the business calendar' },
    { key: P.backupsManage, label: 'バックアップの確認と取得', labelEn: 'View and take backups' },
  ],
  roles: [
    { key: 'system_admin', label: 'システム管理者', labelEn: 'System administrator', permissions: ['*'], scope: 'all', description: 'すべての機能と組織を管理します。' },
    {
      key: 'site_admin',
      label: 'サイト管理者',
      labelEn: 'Site administrator',
      permissions: [P.adminAccess, P.usersManage, P.organizationsManage, P.auditRead, P.auditExport, P.mailRead, P.calendarManage],
      scope: 'organization',
      description: '自組織以下のユーザ、サイト、カレンダーを管理します。',
    },
    { key: 'editor', label: '一般ユーザ（作成者）', labelEn: 'Editor', permissions: [P.adminAccess], scope: 'organization', description: 'ページや記事を作成し、承認を依頼します。' },
    { key: 'approver', label: '承認者', labelEn: 'Approver', permissions: [P.adminAccess], scope: 'organization', description: '承認依頼を確認し、承認または差し戻します。' },
    { key: 'municipality_staff', label: '市町村職員', labelEn: 'Municipality staff', permissions: [P.adminAccess], scope: 'organization', description: '自市町村のデータだけを扱います。' },
    {
      key: 'operator',
      label: '運用保守担当',
      labelEn: 'Operator',
      permissions: [P.adminAccess, P.auditRead, P.jobsManage, P.mailRead, P.calendarManage, P.backupsManage],
      scope: 'all',
      description: '監視、バックアップ、ジョブ、メール送信状況を確認します。',
    },
  ],
  seedDemo: seedDemoOrganizations,
});

/** A fictional prefecture with two municipalities and a city's departments. */
async function seedDemoOrganizations(p: Platform): Promise<void> {
  const existing = await p.db.selectFrom('organizations').select('id').limit(1).executeTakeFirst();
  if (existing) return;
  const at = nowIso();
  const add = async (code: string, name: string, nameEn: string, kind: 'prefecture' | 'municipality' | 'department', parentId: number | null) =>
    (
      await p.db
        .insertInto('organizations')
        .values({ code, name, name_en: nameEn, kind, parent_id: parentId, created_at: at, updated_at: at })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  const pref = await add('990000', 'みどり県', 'Midori Prefecture', 'prefecture', null);
  const aoba = await add('992011', 'あおば市', 'Aoba City', 'municipality', pref);
  await add('993034', 'かわせ町', 'Kawase Town', 'municipality', pref);
  await add('992011-soumu', 'あおば市 総務課', 'General Affairs Division', 'department', aoba);
  await add('992011-kouhou', 'あおば市 広報課', 'Public Relations Division', 'department', aoba);
  await add('992011-kiki', 'あおば市 危機管理課', 'Crisis Management Division', 'department', aoba);
  await add('990000-kenkou', 'みどり県 健康づくり推進課', 'Health Promotion Division', 'department', pref);
  await p.audit.record({ action: 'demo.seed', summary: 'デモ用の組織（みどり県、あおば市、かわせ町と各課）を作成しました', targetType: 'organization' });
}
