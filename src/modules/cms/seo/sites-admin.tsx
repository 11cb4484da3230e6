/**
 * Site settings for administrators (/admin/cms/sites, permission cms.sites): the list of sites,
 * creating one, and one form per site for its name, address, organisation, look (logo, theme
 * colour checked for contrast, header and footer menus, footer text), SEO (description, share
 * image, robots.txt lines), GA4 and X posting. Secrets are stored encrypted and never shown back.
 */
import type { Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { requestMeta } from '../../../core/http/app.js';
import { readForm, str, type FormValues } from '../../../core/http/validate.js';
import { renderError } from '../../../core/http/errors.js';
import { InputError } from '../../../core/errors.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { viewOf, formatDateTime } from '../../../core/ui/view.js';
import { Checkbox, Csrf, ErrorSummary, Notice, SelectField, TextArea, TextField, type FieldErrors } from '../../../core/ui/forms.js';
import type { Actor } from '../../../core/permissions/index.js';
import { actorOf, requirePermission } from '../../admin/guards.js';
import type { OAuth1Credentials } from '../../sns/oauth1.js';
import type { CmsServices } from '../index.js';
import type { MenuLink, Site, SiteUpdate } from '../sites.js';
import { contrastRatio, MIN_TEXT_CONTRAST, parseHex } from './contrast.js';
import { parseServiceAccount } from './analytics.js';
import type { SeoServices } from './services.js';
import { X_POST_STATUS } from './x-posts.js';

const LABELS: Record<string, string> = {
  key: 'サイトキー',
  name: 'サイト名',
  nameEn: '英語名',
  host: 'ホスト名',
  pathPrefix: 'パス',
  organizationId: '担当組織',
  logoUrl: 'ロゴ画像',
  themeColor: 'テーマ色',
  footerText: 'フッターの文章',
  description: 'サイトの説明',
  ogImage: '共有用の画像（既定）',
  robotsExtra: 'robots.txt に追加する行',
  ga4Id: 'GA4 測定ID',
  ga4PropertyId: 'GA4 プロパティID',
  ga4Key: 'サービスアカウントのキー（JSON）',
  xPostEnabled: 'X への自動投稿',
  xConsumerKey: 'API Key',
  xConsumerSecret: 'API Key Secret',
  xAccessToken: 'Access Token',
  xAccessTokenSecret: 'Access Token Secret',
  headerMenu: 'ヘッダーメニュー',
  footerMenu: 'フッターメニュー',
};

const MENUS = [
  { name: 'headerMenu', label: 'ヘッダーメニュー', max: 12 },
  { name: 'footerMenu', label: 'フッターメニュー', max: 20 },
] as const;
type MenuName = (typeof MENUS)[number]['name'];
/** Blank rows offered for adding menu entries without JavaScript. */
const BLANK_ROWS = 2;

const X_FIELDS = ['xConsumerKey', 'xConsumerSecret', 'xAccessToken', 'xAccessTokenSecret'] as const;

/** Whether the actor may configure the site: sites of its organisations (all, for installation-wide roles). */
export async function mayManageSite(p: Platform, actor: Actor, site: Site): Promise<boolean> {
  return site.organizationId === null ? actor.allOrganizations : p.organizations.canAccess(actor, site.organizationId);
}

/** The site named in the URL, or null when it does not exist or lies outside the actor's reach. */
export async function loadSite(c: Context<AppEnv>, p: Platform, cms: CmsServices): Promise<Site | null> {
  const id = Number(c.req.param('id'));
  const site = Number.isSafeInteger(id) ? await cms.sites.get(id) : undefined;
  return site && (await mayManageSite(p, actorOf(c), site)) ? site : null;
}

/** The menu rows as posted (every row, in form order, with its original index). */
function postedRows(values: FormValues, menu: MenuName): Array<{ index: number; label: string; href: string; order: string; remove: boolean }> {
  const rows = [];
  for (let i = 0; i < 60 && (`${menu}-${i}-label` in values || `${menu}-${i}-href` in values); i++) {
    rows.push({ index: i, label: str(values[`${menu}-${i}-label`]).trim(), href: str(values[`${menu}-${i}-href`]).trim(), order: str(values[`${menu}-${i}-order`]).trim(), remove: str(values[`${menu}-${i}-remove`]) === '1' });
  }
  return rows;
}

/** Rows kept (not removed, not blank), sorted by their order numbers; `from` maps back to form rows. */
function menuFromForm(values: FormValues, menu: MenuName): { links: MenuLink[]; from: number[] } {
  const kept = postedRows(values, menu).filter((r) => !r.remove && (r.label || r.href));
  const key = (r: (typeof kept)[number]) => (/^\d{1,4}$/.test(r.order) ? Number(r.order) : r.index + 1);
  kept.sort((a, b) => key(a) - key(b) || a.index - b.index);
  return { links: kept.map((r) => ({ label: r.label, href: r.href })), from: kept.map((r) => r.index) };
}

/** Form values of a stored site. */
function siteValues(site: Site): FormValues {
  const s = site.settings;
  const values: FormValues = {
    name: site.name,
    nameEn: site.nameEn ?? '',
    host: site.host ?? '',
    pathPrefix: site.pathPrefix,
    organizationId: site.organizationId === null ? '' : String(site.organizationId),
    logoUrl: s.logoUrl ?? '',
    themeColor: s.themeColor ?? '',
    footerText: s.footerText ?? '',
    description: s.description ?? '',
    ogImage: s.ogImage ?? '',
    robotsExtra: s.robotsExtra ?? '',
    ga4Id: s.ga4Id ?? '',
    ga4PropertyId: s.ga4PropertyId ?? '',
    xPostEnabled: s.xPostEnabled ? '1' : '',
  };
  for (const m of MENUS) {
    const rows = [...s[m.name], ...Array.from({ length: BLANK_ROWS }, () => ({ label: '', href: '' }))];
    rows.forEach((r, i) => {
      values[`${m.name}-${i}-label`] = r.label;
      values[`${m.name}-${i}-href`] = r.href;
      values[`${m.name}-${i}-order`] = r.label ? String(i + 1) : '';
    });
  }
  return values;
}

function MenuRows(props: { v: ReturnType<typeof viewOf>; menu: (typeof MENUS)[number]; values: FormValues; errors?: FieldErrors }) {
  const { menu, values, v, errors } = props;
  const rows = postedRows(values, menu.name);
  return (
    <fieldset class="field menu-rows" id={`f-${menu.name}`}>
      <legend>{menu.label}</legend>
      <p class="field__hint">
        表示名とリンク先（「/kurashi/」のようなサイト内のパス、または https:// で始まるURL）を入力します。空の行に入力すると追加、「削除」にチェックすると削除、
        「順番」の数字の小さい順に並びます（最大{menu.max}件）。
      </p>
      {errors?.[menu.name] ? <p class="field__error">{errors[menu.name]}</p> : null}
      {rows.map((r, i) => (
        <fieldset class="menu-row">
          <legend>{menu.label} {i + 1}行目</legend>
          <TextField v={v} name={`${menu.name}-${r.index}-label`} label="表示名" value={r.label} errors={errors} maxlength={40} />
          <TextField v={v} name={`${menu.name}-${r.index}-href`} label="リンク先" value={r.href} errors={errors} spellcheck={false} />
          <TextField v={v} name={`${menu.name}-${r.index}-order`} label="順番" type="number" inputmode="numeric" value={r.order} errors={errors} />
          {r.label || r.href ? <Checkbox name={`${menu.name}-${r.index}-remove`} label="この行を削除する" checked={r.remove} /> : null}
        </fieldset>
      ))}
    </fieldset>
  );
}

/** Small navigation between one site's screens. */
export function SiteTabs(props: { site: Site; current: 'settings' | 'sitemap' | 'sns' | 'analytics' }) {
  const tabs = [
    { key: 'settings', href: `/admin/cms/sites/${props.site.id}`, label: 'サイト設定' },
    { key: 'sitemap', href: `/admin/cms/sites/${props.site.id}/sitemap`, label: 'サイトマップの編集' },
    { key: 'sns', href: `/admin/cms/sites/${props.site.id}/sns`, label: 'X への投稿' },
    { key: 'analytics', href: `/admin/cms/analytics?site=${props.site.id}`, label: 'アクセス解析' },
  ];
  return (
    <nav aria-label={`${props.site.name}の設定メニュー`}>
      <ul class="site-menu">
        {tabs.map((t) => (
          <li>{t.key === props.current ? <a href={t.href} aria-current="page"><strong>{t.label}</strong></a> : <a href={t.href}>{t.label}</a>}</li>
        ))}
      </ul>
    </nav>
  );
}

export function mountSiteAdmin(app: Hono<AppEnv>, p: Platform, cms: CmsServices, seo: SeoServices) {
  app.use('/admin/cms/sites', requirePermission('cms.sites'));
  app.use('/admin/cms/sites/*', requirePermission('cms.sites'));

  const orgOptions = async (actor: Actor) => (await p.organizations.visibleTo(actor)).map((o) => ({ value: o.id, label: o.name }));

  app.get('/admin/cms/sites', async (c) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    const sites = [];
    for (const s of await cms.sites.all()) if (await mayManageSite(p, actor, s)) sites.push(s);
    return c.html(
      <AdminLayout v={v} title="サイト設定" menu={p.menu}>
        {c.req.query('created') ? <Notice kind="success"><p>サイトを作成しました。</p></Notice> : null}
        <p>公開サイトごとに、名前・アドレス・ロゴ・テーマ色・メニュー・検索エンジン向けの設定・アクセス解析・X への投稿を設定します。</p>
        <div class="table-wrap">
          <table>
            <caption>サイト一覧（{sites.length}件）</caption>
            <thead><tr><th scope="col">サイト名</th><th scope="col">アドレス</th><th scope="col">GA4</th><th scope="col">X 投稿</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
            <tbody>
              {sites.length === 0 ? <tr><td colspan={5}>設定できるサイトはありません。</td></tr> : null}
              {sites.map((s) => (
                <tr>
                  <th scope="row"><a href={`/admin/cms/sites/${s.id}`}>{s.name}</a></th>
                  <td><code>{s.host ?? '（すべてのホスト）'}{s.pathPrefix || '/'}</code></td>
                  <td>{s.settings.ga4Id ? s.settings.ga4Id : '未設定'}</td>
                  <td>{s.settings.xPostEnabled ? '有効' : '無効'}</td>
                  <td>
                    <ul class="site-menu">
                      <li><a href={`/admin/cms/sites/${s.id}/sitemap`}>サイトマップ<span class="visually-hidden">: {s.name}</span></a></li>
                      <li><a href={`/admin/cms/sites/${s.id}/sns`}>X への投稿<span class="visually-hidden">: {s.name}</span></a></li>
                      <li><a href={`/admin/cms/analytics?site=${s.id}`}>アクセス解析<span class="visually-hidden">: {s.name}</span></a></li>
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p><a class="button" href="/admin/cms/sites/new">サイトを追加する</a></p>
      </AdminLayout>,
    );
  });

  const createPage = async (c: Context<AppEnv>, values: FormValues, errors?: FieldErrors) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    return (
      <AdminLayout v={v} title="サイトの追加" menu={p.menu}>
        <ErrorSummary v={v} errors={errors} labels={LABELS} />
        <form method="post" action="/admin/cms/sites" class="form" novalidate>
          <Csrf v={v} />
          <TextField v={v} name="key" label={LABELS.key!} value={str(values.key)} required errors={errors} hint="半角英小文字・数字・ハイフン（例: aoba）。後から変えられません。" spellcheck={false} />
          <TextField v={v} name="name" label={LABELS.name!} value={str(values.name)} required errors={errors} />
          <TextField v={v} name="host" label={LABELS.host!} value={str(values.host)} errors={errors} hint="このサイト専用のホスト名（例: www.city.example.lg.jp）。空欄ならパスで区別します。" spellcheck={false} />
          <TextField v={v} name="pathPrefix" label={LABELS.pathPrefix!} value={str(values.pathPrefix)} errors={errors} hint="例: /sites/aoba。ホスト名だけで区別するときは空欄。" spellcheck={false} />
          <SelectField v={v} name="organizationId" label={LABELS.organizationId!} value={str(values.organizationId)} options={await orgOptions(actor)} emptyLabel={actor.allOrganizations ? '（指定しない）' : undefined} errors={errors} />
          <div class="actions"><button type="submit">作成する</button><a href="/admin/cms/sites">{v.t('common.back')}</a></div>
        </form>
      </AdminLayout>
    );
  };

  app.get('/admin/cms/sites/new', async (c) => c.html(await createPage(c, {})));

  app.post('/admin/cms/sites', async (c) => {
    const values = await readForm(c);
    const actor = actorOf(c);
    const orgId = str(values.organizationId) ? Number(str(values.organizationId)) : null;
    if (!(await p.organizations.canAccess(actor, orgId))) return c.html(await createPage(c, values, { organizationId: '担当組織には、あなたが管理できる組織を選んでください。' }), 422);
    try {
      const id = await cms.sites.create(actor, { key: str(values.key), name: str(values.name), host: str(values.host), pathPrefix: str(values.pathPrefix), organizationId: orgId }, requestMeta(c));
      return c.redirect(`/admin/cms/sites/${id}?created=1`, 303);
    } catch (e) {
      if (e instanceof InputError) return c.html(await createPage(c, values, e.fields), 422);
      throw e;
    }
  });

  const editPage = async (c: Context<AppEnv>, site: Site, values: FormValues, errors?: FieldErrors, notice?: string) => {
    const v = viewOf(c);
    const actor = actorOf(c);
    const stored = await seo.secrets.stored(site.id);
    const theme = str(values.themeColor).trim();
    const ratio = parseHex(theme) ? contrastRatio('#ffffff', theme) : null;
    const section = (id: string, title: string, children: Child) => (
      <section aria-labelledby={id}>
        <h2 id={id}>{title}</h2>
        {children}
      </section>
    );
    return (
      <AdminLayout v={v} title={`サイト設定: ${site.name}`} menu={p.menu}>
        <SiteTabs site={site} current="settings" />
        {notice ? <Notice kind="success"><p>{notice}</p></Notice> : null}
        <ErrorSummary v={v} errors={errors} labels={LABELS} />
        <form method="post" action={`/admin/cms/sites/${site.id}`} class="form form--wide" novalidate autocomplete="off">
          <Csrf v={v} />
          {section('site-basic', '基本情報', (
            <>
              <p>サイトキー: <code>{site.key}</code></p>
              <TextField v={v} name="name" label={LABELS.name!} value={str(values.name)} required errors={errors} />
              <TextField v={v} name="nameEn" label={LABELS.nameEn!} value={str(values.nameEn)} errors={errors} />
              <TextField v={v} name="host" label={LABELS.host!} value={str(values.host)} errors={errors} hint="このサイト専用のホスト名（例: www.city.example.lg.jp）。空欄ならパスで区別します。" spellcheck={false} />
              <TextField v={v} name="pathPrefix" label={LABELS.pathPrefix!} value={str(values.pathPrefix)} errors={errors} hint="例: /sites/aoba。ホスト名だけで区別するときは空欄。" spellcheck={false} />
              <SelectField v={v} name="organizationId" label={LABELS.organizationId!} value={str(values.organizationId)} options={await orgOptions(actor)} emptyLabel={actor.allOrganizations ? '（指定しない）' : undefined} errors={errors} />
              <TextArea v={v} name="description" label={LABELS.description!} value={str(values.description)} rows={2} errors={errors} hint="検索結果や SNS で共有されたときに表示される説明（300文字まで）。トップページに概要がないときに使います。" />
            </>
          ))}
          {section('site-look', 'デザイン', (
            <>
              <TextField v={v} name="logoUrl" label={LABELS.logoUrl!} value={str(values.logoUrl)} errors={errors} hint="ロゴ画像のアドレス（メディアライブラリの画像の「/」で始まるパス、または https:// のURL）。代替テキストはサイト名になります。" spellcheck={false} />
              <TextField v={v} name="themeColor" label={LABELS.themeColor!} value={theme} errors={errors} hint={`ヘッダーの帯の色（#RRGGBB）。白い文字とのコントラスト比が ${MIN_TEXT_CONTRAST}:1 以上の濃い色を選んでください。`} spellcheck={false} />
              {ratio !== null && !errors?.themeColor ? <p data-testid="contrast">白い文字とのコントラスト比: {ratio.toFixed(2)}:1</p> : null}
              {MENUS.map((m) => <MenuRows v={v} menu={m} values={values} errors={errors} />)}
              <TextArea v={v} name="footerText" label={LABELS.footerText!} value={str(values.footerText)} rows={2} errors={errors} hint="所在地・電話番号・開庁時間など（500文字まで）。" />
            </>
          ))}
          {section('site-seo', '検索エンジン・SNS', (
            <>
              <TextField v={v} name="ogImage" label={LABELS.ogImage!} value={str(values.ogImage)} errors={errors} hint="本文に画像がないページを SNS で共有したときの画像（「/」で始まるパス、または https:// のURL）。" spellcheck={false} />
              <TextArea v={v} name="robotsExtra" label={LABELS.robotsExtra!} value={str(values.robotsExtra)} rows={3} errors={errors} hint="例: Disallow: /kurashi/old/ 。管理画面とプレビューを除外する行と sitemap.xml の行は自動で入ります。" />
            </>
          ))}
          {section('site-ga', 'アクセス解析（Google Analytics 4）', (
            <>
              <TextField v={v} name="ga4Id" label={LABELS.ga4Id!} value={str(values.ga4Id)} errors={errors} hint="「G-」で始まる測定ID。入力すると公開サイトの全ページで計測します（プレビューと管理画面では計測しません）。" spellcheck={false} />
              <TextField v={v} name="ga4PropertyId" label={LABELS.ga4PropertyId!} value={str(values.ga4PropertyId)} errors={errors} hint="管理画面の「アクセス解析」に数値を表示するための GA4 プロパティID（数字）。" inputmode="numeric" />
              <TextArea v={v} name="ga4Key" label={LABELS.ga4Key!} value="" rows={3} errors={errors} hint={stored.has('ga4') ? '設定済みです（内容は表示しません）。変更するときだけ新しいキーを貼り付けてください。' : 'Google Cloud で作成したサービスアカウントの JSON キーの中身を貼り付けます。暗号化して保存し、画面には表示しません。'} />
              {stored.has('ga4') ? <Checkbox name="ga4KeyClear" label="保存済みのサービスアカウントのキーを削除する" /> : null}
            </>
          ))}
          {section('site-x', 'X（旧Twitter）への自動投稿', (
            <>
              <p>オンにすると、ページを初めて公開したときに「タイトル URL」を X に投稿します。結果は「X への投稿」で確認できます。</p>
              <Checkbox name="xPostEnabled" label="ページを初めて公開したときに X に投稿する" checked={str(values.xPostEnabled) === '1'} />
              {errors?.xPostEnabled ? <p class="field__error" id="f-xPostEnabled-error">{errors.xPostEnabled}</p> : null}
              <p class="field__hint">{stored.has('x') ? 'X の認証情報は設定済みです（内容は表示しません）。変更するときだけ 4 つすべてを入力してください。' : 'X Developer Portal のアプリ（権限: Read and write）の 4 つの値を入力します。暗号化して保存し、画面には表示しません。'}</p>
              {X_FIELDS.map((f) => <TextField v={v} name={f} label={LABELS[f]!} type="password" autocomplete="off" errors={errors} spellcheck={false} />)}
              {stored.has('x') ? <Checkbox name="xClear" label="保存済みの X の認証情報を削除する" /> : null}
            </>
          ))}
          <div class="actions"><button type="submit">保存する</button><a href="/admin/cms/sites">{v.t('common.back')}</a></div>
        </form>
      </AdminLayout>
    );
  };

  app.get('/admin/cms/sites/:id{[0-9]+}', async (c) => {
    const site = await loadSite(c, p, cms);
    if (!site) return renderError(c, 404, 'error.notFound');
    const notice = c.req.query('saved') ? viewOf(c).t('common.saved') : c.req.query('created') ? 'サイトを作成しました。続けてデザインなどを設定し、「ページ管理」でトップページを公開してください。' : undefined;
    return c.html(await editPage(c, site, siteValues(site), undefined, notice));
  });

  app.post('/admin/cms/sites/:id{[0-9]+}', async (c) => {
    const site = await loadSite(c, p, cms);
    if (!site) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    const actor = actorOf(c);
    const errors: FieldErrors = {};
    const orgId = str(values.organizationId) ? Number(str(values.organizationId)) : null;
    if (orgId !== site.organizationId && !(await p.organizations.canAccess(actor, orgId))) errors.organizationId = '担当組織には、あなたが管理できる組織を選んでください。';

    const menus = Object.fromEntries(MENUS.map((m) => [m.name, menuFromForm(values, m.name)])) as Record<MenuName, ReturnType<typeof menuFromForm>>;
    const input: SiteUpdate = {
      name: str(values.name),
      nameEn: str(values.nameEn),
      host: str(values.host),
      pathPrefix: str(values.pathPrefix),
      organizationId: orgId,
      settings: {
        logoUrl: str(values.logoUrl),
        themeColor: str(values.themeColor),
        ga4Id: str(values.ga4Id),
        ga4PropertyId: str(values.ga4PropertyId),
        ogImage: str(values.ogImage),
        description: str(values.description),
        headerMenu: menus.headerMenu.links,
        footerMenu: menus.footerMenu.links,
        footerText: str(values.footerText),
        robotsExtra: str(values.robotsExtra),
        xPostEnabled: str(values.xPostEnabled) === '1',
      },
    };
    // Menu errors name the sorted row; the form shows them on the row as it was typed.
    for (const [key, message] of Object.entries(cms.sites.validateUpdate(input))) {
      const m = /^(headerMenu|footerMenu)-(\d+)-(label|href)$/.exec(key);
      errors[m ? `${m[1]}-${menus[m[1] as MenuName].from[Number(m[2])] ?? 0}-${m[3]}` : key] ??= message;
    }

    // Secrets: changed only when something new is entered (or removal is ticked).
    const stored = await seo.secrets.stored(site.id);
    const xEntered = X_FIELDS.map((f) => str(values[f]).trim());
    let xChange: OAuth1Credentials | null | undefined;
    if (xEntered.some(Boolean)) {
      X_FIELDS.forEach((f, i) => {
        if (!xEntered[i]) errors[f] = `${LABELS[f]}を入力してください（4つすべてが必要です）。`;
        else if (xEntered[i]!.length > 200 || /\s/.test(xEntered[i]!)) errors[f] = `${LABELS[f]}の形式が正しくありません。`;
      });
      xChange = { consumerKey: xEntered[0]!, consumerSecret: xEntered[1]!, accessToken: xEntered[2]!, accessTokenSecret: xEntered[3]! };
    } else if (str(values.xClear) === '1') {
      xChange = null;
    }
    const xWillHave = xChange === undefined ? stored.has('x') : xChange !== null;
    if (str(values.xPostEnabled) === '1' && !xWillHave) errors.xPostEnabled = 'X に投稿するには、X の認証情報（4つ）を入力してください。';

    let gaChange: unknown;
    const gaText = str(values.ga4Key).trim();
    if (gaText) {
      const parsed = parseServiceAccount(gaText);
      if ('error' in parsed) errors.ga4Key = parsed.error;
      else gaChange = parsed.key;
    } else if (str(values.ga4KeyClear) === '1') {
      gaChange = null;
    }

    // Secrets are never put back into the form.
    const shown = { ...values, ga4Key: '', ...Object.fromEntries(X_FIELDS.map((f) => [f, ''])) };
    if (Object.keys(errors).length) return c.html(await editPage(c, site, shown, errors), 422);
    const notes = [xChange === undefined ? '' : xChange ? 'X の認証情報を更新' : 'X の認証情報を削除', gaChange === undefined ? '' : gaChange ? 'GA4 のキーを更新' : 'GA4 のキーを削除'].filter(Boolean);
    try {
      await cms.sites.update(actor, site.id, input, requestMeta(c), {
        note: notes.join('、'),
        inTx: async (tx) => {
          if (xChange !== undefined) await seo.secrets.set(tx, site.id, 'x', xChange);
          if (gaChange !== undefined) await seo.secrets.set(tx, site.id, 'ga4', gaChange);
        },
      });
    } catch (e) {
      if (e instanceof InputError) return c.html(await editPage(c, site, shown, e.fields), 422);
      throw e;
    }
    return c.redirect(`/admin/cms/sites/${site.id}?saved=1`, 303);
  });

  app.get('/admin/cms/sites/:id{[0-9]+}/sns', async (c) => {
    const site = await loadSite(c, p, cms);
    if (!site) return renderError(c, 404, 'error.notFound');
    const v = viewOf(c);
    const posts = await seo.xPosts.list(site.id);
    return c.html(
      <AdminLayout v={v} title={`X への投稿: ${site.name}`} menu={p.menu}>
        <SiteTabs site={site} current="sns" />
        {c.req.query('retried') ? <Notice kind="success"><p>再送を受け付けました。しばらくすると結果が表示されます。</p></Notice> : null}
        <p>{site.settings.xPostEnabled ? 'このサイトでは、ページを初めて公開したときに X へ投稿します。' : 'このサイトでは X への自動投稿はオフです（サイト設定で変更できます）。'}</p>
        <div class="table-wrap">
          <table>
            <caption>投稿の記録（新しい順、{posts.length}件）</caption>
            <thead><tr><th scope="col">投稿文</th><th scope="col">状態</th><th scope="col">X の投稿</th><th scope="col">試行</th><th scope="col">更新</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
            <tbody>
              {posts.length === 0 ? <tr><td colspan={6}>まだありません。</td></tr> : null}
              {posts.map((r) => (
                <tr data-testid={`x-post-${r.node_id}`}>
                  <td>{r.text}{r.last_error && r.status !== 'posted' ? <p class="field__hint">{r.last_error}</p> : null}</td>
                  <td><span class={`status ${r.status === 'posted' ? 'status--good' : r.status === 'failed' ? 'status--bad' : 'status--muted'}`}>{X_POST_STATUS[r.status]}</span></td>
                  <td>{r.post_id ? <a href={`https://x.com/i/web/status/${encodeURIComponent(r.post_id)}`} rel="noopener noreferrer">{r.post_id}</a> : '—'}</td>
                  <td>{r.attempts}</td>
                  <td>{formatDateTime(r.posted_at ?? r.updated_at, v.locale)}</td>
                  <td>
                    {r.status === 'failed' ? (
                      <form method="post" action={`/admin/cms/sites/${site.id}/sns/${r.id}/retry`} class="inline-form">
                        <Csrf v={v} />
                        <button type="submit" class="button--small button--secondary">もう一度送る<span class="visually-hidden">: {r.text}</span></button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </AdminLayout>,
    );
  });

  app.post('/admin/cms/sites/:id{[0-9]+}/sns/:post{[0-9]+}/retry', async (c) => {
    const site = await loadSite(c, p, cms);
    if (!site) return renderError(c, 404, 'error.notFound');
    const ok = await seo.xPosts.retry(actorOf(c), site, Number(c.req.param('post')), requestMeta(c));
    if (!ok) return renderError(c, 404, 'error.notFound');
    return c.redirect(`/admin/cms/sites/${site.id}/sns?retried=1`, 303);
  });
}
