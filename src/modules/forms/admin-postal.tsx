import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { auditContext } from '../../core/http/app.js';
import { InputError } from '../../core/errors.js';
import { AdminLayout } from '../../core/ui/layout.js';
import { viewOf } from '../../core/ui/view.js';
import { Csrf, ErrorSummary, Notice, type FieldErrors } from '../../core/ui/forms.js';
import { actorOf, requirePermission } from '../admin/guards.js';
import { renderError } from '../../core/http/errors.js';
import { FORMS_POSTAL } from './permissions.js';
import { formsOf } from './services.js';

/** The postal code data screen: how many codes are loaded, and the KEN_ALL upload. */
export function mountPostalAdminRoutes(app: Hono<AppEnv>, p: Platform) {
  const { postal } = formsOf(p);
  const guard = requirePermission(FORMS_POSTAL);

  const page = async (c: Context<AppEnv>, o: { errors?: FieldErrors; imported?: number } = {}) => {
    const v = viewOf(c);
    const count = await postal.count();
    return (
      <AdminLayout v={v} title="郵便番号データ" menu={p.menu}>
        {o.imported !== undefined ? <Notice kind="success"><p>{o.imported.toLocaleString('ja-JP')}件の郵便番号を取り込みました。</p></Notice> : null}
        <ErrorSummary v={v} errors={o.errors} labels={{ file: 'CSVファイル' }} />
        <p>フォームの「郵便番号と住所」の質問は、ここに取り込んだデータで住所を自動入力します。外部のサービスには問い合わせません。</p>
        <p data-testid="postal-count">現在のデータ: {count.toLocaleString('ja-JP')}件</p>
        <p>
          日本郵便の「郵便番号データダウンロード」から「住所の郵便番号（1レコード1行、UTF-8形式）」（utf_ken_all.csv）または
          「読み仮名データの促音・拗音を小書きで表記するもの」（KEN_ALL.CSV、Shift_JIS）を展開して選んでください。取り込むと、今のデータはすべて置き換わります。
          大きなファイルはサーバで <code>machimado forms:postal-import ファイル名</code> でも取り込めます。
        </p>
        <form method="post" action="/admin/forms/postal" enctype="multipart/form-data" class="form">
          <Csrf v={v} />
          <div class="field">
            <label for="f-file">CSVファイル</label>
            {o.errors?.file ? <span class="field__error" id="f-file-error">{o.errors.file}</span> : null}
            <input id="f-file" type="file" name="file" accept=".csv,text/csv" required aria-invalid={o.errors?.file ? 'true' : undefined} aria-describedby={o.errors?.file ? 'f-file-error' : undefined} />
          </div>
          <div class="actions">
            <button type="submit">取り込む</button>
            <a href="/admin/forms">{v.t('common.back')}</a>
          </div>
        </form>
      </AdminLayout>
    );
  };

  app.get('/admin/forms/postal', guard, async (c) => {
    const imported = Number(c.req.query('imported'));
    return c.html(await page(c, { imported: Number.isInteger(imported) && imported > 0 ? imported : undefined }));
  });

  app.post('/admin/forms/postal', guard, async (c) => {
    // The postal table serves every organisation's forms: only installation-wide staff replace it.
    if (!actorOf(c).allOrganizations) return renderError(c, 403, 'error.forbidden');
    const body = await c.req.parseBody();
    const file = body.file;
    if (!file || typeof file === 'string' || file.size === 0) return c.html(await page(c, { errors: { file: 'CSVファイルを選んでください。' } }), 422);
    try {
      const n = await postal.importKenAll(Buffer.from(await file.arrayBuffer()), auditContext(c), file.name || 'upload');
      return c.redirect(`/admin/forms/postal?imported=${n}`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await page(c, { errors: e.fields }), 422);
      throw e;
    }
  });
}
