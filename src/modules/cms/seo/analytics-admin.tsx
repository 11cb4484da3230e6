/**
 * C-3-20: /admin/cms/analytics — page views of a site from GA4 (Data API), inside the CMS. When a
 * site is not configured, the screen explains how to configure it.
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { viewOf } from '../../../core/ui/view.js';
import { Notice } from '../../../core/ui/forms.js';
import { requirePermission, actorOf } from '../../admin/guards.js';
import type { CmsServices } from '../index.js';
import type { SeoServices } from './services.js';
import { mayManageSite, SiteTabs } from './sites-admin.js';

const PERIODS = [7, 28, 90];
const fmt = new Intl.NumberFormat('ja-JP');

export function mountAnalyticsAdmin(app: Hono<AppEnv>, p: Platform, cms: CmsServices, seo: SeoServices) {
  app.use('/admin/cms/analytics', requirePermission('cms.sites'));

  app.get('/admin/cms/analytics', async (c) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    const sites = [];
    for (const s of await cms.sites.all()) if (await mayManageSite(p, actor, s)) sites.push(s);
    const wanted = Number(c.req.query('site'));
    const site = sites.find((s) => s.id === wanted) ?? sites[0];
    const days = PERIODS.includes(Number(c.req.query('days'))) ? Number(c.req.query('days')) : 28;
    const result = site ? await seo.analytics.pageViews(site, days) : null;
    return c.html(
      <AdminLayout v={v} title={site ? `アクセス解析: ${site.name}` : 'アクセス解析'} menu={p.menu}>
        {site ? <SiteTabs site={site} current="analytics" /> : null}
        <form method="get" action="/admin/cms/analytics" class="filters">
          <div class="field">
            <label for="analytics-site">サイト</label>
            <select id="analytics-site" name="site">
              {sites.map((s) => <option value={String(s.id)} selected={s.id === site?.id}>{s.name}</option>)}
            </select>
          </div>
          <div class="field">
            <label for="analytics-days">期間</label>
            <select id="analytics-days" name="days">
              {PERIODS.map((d) => <option value={String(d)} selected={d === days}>直近{d}日間</option>)}
            </select>
          </div>
          <div class="actions"><button type="submit" class="button--secondary">表示する</button></div>
        </form>
        {!site ? <p>表示できるサイトがありません。</p> : null}
        {site && result?.state === 'not-configured' ? (
          <section aria-labelledby="ga-setup" class="notice notice--info" data-testid="analytics-setup">
            <h2 id="ga-setup">アクセス解析の設定方法</h2>
            <p>このサイトの数値を表示するには、次の設定が必要です（計測は Google Analytics 4 が行い、CMS は自分では計測しません）。</p>
            <ol>
              <li>Google Analytics で GA4 プロパティとウェブストリームを作り、測定ID（G-…）を<a href={`/admin/cms/sites/${site.id}`}>サイト設定</a>の「GA4 測定ID」に入力します。公開サイトの全ページで計測が始まります。</li>
              <li>Google Cloud でプロジェクトを選び、「Google Analytics Data API」を有効にして、サービスアカウントを作成し、JSON 形式のキーをダウンロードします。</li>
              <li>GA4 の「管理 → プロパティのアクセス管理」で、サービスアカウントのメールアドレスを「閲覧者」として追加します。</li>
              <li><a href={`/admin/cms/sites/${site.id}`}>サイト設定</a>の「GA4 プロパティID」（数字）と「サービスアカウントのキー（JSON）」を入力して保存します。キーは暗号化して保存されます。</li>
            </ol>
            <p>未設定の項目: {result.missing.map((m) => (m === 'ga4PropertyId' ? 'GA4 プロパティID' : 'サービスアカウントのキー')).join('、')}</p>
          </section>
        ) : null}
        {site && result?.state === 'error' ? (
          <Notice kind="error"><p>GA4 から数値を取得できませんでした: {result.message}</p></Notice>
        ) : null}
        {site && result?.state === 'ok' ? (
          <>
            <h2>直近{result.report.days}日間（今日を含む）</h2>
            <dl class="meta" data-testid="analytics-totals">
              <dt>表示回数（ページビュー）</dt><dd>{fmt.format(result.report.totals.views)}</dd>
              <dt>ユーザー数</dt><dd>{fmt.format(result.report.totals.users)}</dd>
            </dl>
            <div class="table-wrap">
              <table data-testid="analytics-pages">
                <caption>よく見られたページ（上位{result.report.pages.length}件）</caption>
                <thead><tr><th scope="col">ページ</th><th scope="col">アドレス</th><th scope="col">表示回数</th><th scope="col">ユーザー数</th></tr></thead>
                <tbody>
                  {result.report.pages.length === 0 ? <tr><td colspan={4}>この期間のデータはありません。</td></tr> : null}
                  {result.report.pages.map((r) => (
                    <tr><th scope="row">{r.title || '（タイトルなし）'}</th><td><code>{r.path}</code></td><td>{fmt.format(r.views)}</td><td>{fmt.format(r.users)}</td></tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div class="table-wrap">
              <table data-testid="analytics-daily">
                <caption>日別の表示回数</caption>
                <thead><tr><th scope="col">日付</th><th scope="col">表示回数</th><th scope="col">ユーザー数</th></tr></thead>
                <tbody>
                  {result.report.daily.map((r) => (
                    <tr><th scope="row">{r.date}</th><td>{fmt.format(r.views)}</td><td>{fmt.format(r.users)}</td></tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p class="field__hint">数値は Google Analytics 4（Data API）から取得しています。GA4 の集計には通常 24〜48 時間の遅れがあります。</p>
          </>
        ) : null}
      </AdminLayout>,
    );
  });
}
