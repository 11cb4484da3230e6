import { defineModule } from '../../core/module.js';
import { formsMigrations } from './migrations.js';
import { FORMS_MANAGE, FORMS_POSTAL, FORMS_RESPONSES } from './permissions.js';
import { formsOf } from './services.js';
import { mountFormsAdminRoutes } from './admin-routes.js';
import { mountResponsesAdminRoutes } from './admin-responses.js';
import { mountPostalAdminRoutes } from './admin-postal.js';
import { mountPublicFormRoutes } from './public-routes.js';
import { installCmsEmbedding } from './embed.js';
import { formsCliCommands } from './cli.js';
import { seedDemoForms } from './demo.js';
import './messages.js';

export { formsOf } from './services.js';
export type { FormsServices } from './services.js';
export { FORMS_MANAGE, FORMS_POSTAL, FORMS_RESPONSES } from './permissions.js';
export { publicState } from './service.js';
export type { Form, FormService, PublicState } from './service.js';
export type { ResponseService } from './responses.js';

/**
 * Forms, surveys and the inquiry desk (issue 4): a form builder for staff, forms embedded in CMS
 * pages or at /forms/<slug>, input → 確認 → 完了 with a reception number, automatic reply and
 * staff notification mails, responses with status, memo and CSV/XLSX export, and postal-code
 * address completion from Japan Post's data. A form's `kind` (form / survey / inquiry) leaves
 * room for surveys of signed-in residents and the inquiry desk, which come with resident accounts.
 */
export const formsModule = defineModule({
  name: 'forms',
  migrations: formsMigrations,
  permissions: [
    { key: FORMS_MANAGE, label: 'フォームの作成・公開', labelEn: 'Build and publish forms' },
    { key: FORMS_RESPONSES, label: 'フォームの回答の閲覧・対応・出力', labelEn: 'Read, handle and export form responses' },
    { key: FORMS_POSTAL, label: '郵便番号データの取込', labelEn: 'Import postal code data' },
  ],
  roles: [
    {
      key: 'forms_staff',
      label: 'フォーム担当',
      labelEn: 'Forms staff',
      permissions: ['admin.access', FORMS_MANAGE, FORMS_RESPONSES],
      scope: 'organization',
      description: '自組織のフォームを作成・公開し、回答に対応します。',
    },
    { key: 'site_admin', permissions: [FORMS_MANAGE, FORMS_RESPONSES, FORMS_POSTAL] },
    { key: 'editor', permissions: [FORMS_MANAGE] },
    { key: 'approver', permissions: [FORMS_MANAGE] },
    { key: 'operator', permissions: [FORMS_POSTAL] },
  ],
  jobs: (p) => [
    {
      name: 'forms.schedule',
      label: 'フォームの受付開始・終了・公開終了',
      schedule: '* * * * *',
      // The slot's time, so a run driven with a fixed clock (tests, catch-up) decides as of then.
      handler: async (payload: { scheduledAt?: string } | undefined) => {
        const slot = payload?.scheduledAt ? Date.parse(payload.scheduledAt) : NaN;
        return formsOf(p).forms.runSchedule(new Date(Number.isNaN(slot) ? Date.now() : Math.max(slot, Date.now())));
      },
    },
    {
      name: 'forms.uploads.purge',
      label: '送信されなかった添付ファイルの削除',
      schedule: '23 * * * *',
      handler: async () => ({ deleted: await formsOf(p).responses.purgeUploads() }),
    },
  ],
  adminMenu: [{ label: 'nav.forms', href: '/admin/forms', permission: FORMS_MANAGE, order: 20 }],
  cli: formsCliCommands,
  routes(app, p) {
    mountPostalAdminRoutes(app, p);
    mountFormsAdminRoutes(app, p);
    mountResponsesAdminRoutes(app, p);
    mountPublicFormRoutes(app, p);
    installCmsEmbedding(p);
  },
  seedDemo: seedDemoForms,
});
