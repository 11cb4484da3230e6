import { DomUtils } from 'htmlparser2';
import { beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import { cmsOf } from '../index.js';
import { contrastRatio, textColourOn } from './contrast.js';
import { seoOf } from './services.js';
import { elements } from './testing.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };
const SECRET = 'consumer-secret-NEVER-SHOWN-42';

/** The settings form's values as a browser would post them, from the page just loaded. */
function formValues(html: string, action: string): Record<string, string> {
  const form = elements(html, 'form').find((f) => f.attribs.action === action)!;
  const out: Record<string, string> = {};
  for (const el of DomUtils.getElementsByTagName((n) => ['input', 'textarea', 'select'].includes(n), form.children, true)) {
    const name = el.attribs.name;
    if (!name || name === '_csrf') continue;
    if (el.name === 'textarea') out[name] = DomUtils.textContent(el);
    else if (el.name === 'select') out[name] = DomUtils.getElementsByTagName('option', el.children, true).find((o) => o.attribs.selected !== undefined)?.attribs.value ?? '';
    else if (el.attribs.type === 'checkbox') {
      if (el.attribs.checked !== undefined) out[name] = el.attribs.value ?? '1';
    } else out[name] = el.attribs.value ?? '';
  }
  return out;
}

describePlatform('CMS site settings screen', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let siteId = 0;
  let orgId = 0;
  let admin: HttpClient;
  const prefix = '/sites/settei';

  beforeAll(async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    orgId = await createOrganization(p, { name: '設定テスト市' });
    siteId = await cms.sites.create(systemActor(p), { key: 'settei', name: '設定テスト市', pathPrefix: prefix, organizationId: orgId }, meta);
    const root = await cms.pages.root(siteId);
    await cms.pages.saveDraft(systemActor(p), root.id, { title: 'トップ', body: '<p>ようこそ</p>' }, meta);
    await cms.pages.publish(systemActor(p), root.id, meta);
    const page = await cms.pages.create(systemActor(p), { siteId, parentId: root.id, kind: 'page', slug: 'info', title: 'お知らせ', body: '<p>本文</p>' }, meta);
    await cms.pages.publish(systemActor(p), page, meta);
    const user = await createStaff(p, { roles: ['site_admin'], organizationId: orgId });
    admin = new HttpClient(tp().baseUrl);
    expect((await admin.login(user.loginId, user.password)).status).toBe(303);
  });

  it('lists the sites an administrator may configure, with links to each screen', async () => {
    const menu = await admin.get('/admin/cms');
    expect(menu.text).toContain('href="/admin/cms/sites"');
    expect(menu.text).toContain('href="/admin/cms/analytics"');
    const list = await admin.get('/admin/cms/sites');
    expect(list.status).toBe(200);
    expect(list.text).toContain(`<a href="/admin/cms/sites/${siteId}">設定テスト市</a>`);
    expect(list.text).toContain(`href="/admin/cms/sites/${siteId}/sitemap"`);
  });

  it('saves theme colour, logo and menus, and the public site shows them at once (render cache cleared)', async () => {
    const visitor = new HttpClient(tp().baseUrl);
    // Cached before the change.
    await visitor.get(`${prefix}/info`);
    expect((await visitor.get(`${prefix}/info`)).headers.get('x-render-cache')).toBe('hit');

    const page = await admin.get(`/admin/cms/sites/${siteId}`);
    expect(page.status).toBe(200);
    const values = formValues(page.text, `/admin/cms/sites/${siteId}`);
    const res = await admin.post(`/admin/cms/sites/${siteId}`, {
      ...values,
      themeColor: '#0031D8',
      logoUrl: '/media/logo.png',
      description: '設定テスト市の公式サイト',
      'headerMenu-0-label': 'くらし',
      'headerMenu-0-href': '/kurashi/',
      'headerMenu-0-order': '2',
      'headerMenu-1-label': '観光',
      'headerMenu-1-href': 'https://kanko.example.jp/',
      'headerMenu-1-order': '1',
      'footerMenu-0-label': 'このサイトについて',
      'footerMenu-0-href': '/about',
      footerText: '設定テスト市役所　電話 000-0000',
    });
    expect(res.status).toBe(303);
    expect(res.location).toBe(`/admin/cms/sites/${siteId}?saved=1`);

    const site = (await cmsOf(tp().platform).sites.get(siteId))!;
    expect(site.settings.themeColor).toBe('#0031d8');
    expect(site.settings.headerMenu).toEqual([{ label: '観光', href: 'https://kanko.example.jp/' }, { label: 'くらし', href: '/kurashi/' }]);

    const pub = await visitor.get(`${prefix}/info`);
    expect(pub.headers.get('x-render-cache')).toBe('miss');
    const logo = elements(pub.text, 'img').find((i) => i.attribs.class === 'site-header__logo')!;
    expect(logo.attribs.src).toBe('/media/logo.png');
    expect(logo.attribs.alt).toBe('設定テスト市');
    const header = elements(pub.text, 'nav').find((n) => n.attribs['aria-label'] === 'サイトメニュー')!;
    expect(DomUtils.getElementsByTagName('a', header.children, true).map((a) => [DomUtils.textContent(a), a.attribs.href])).toEqual([['観光', 'https://kanko.example.jp/'], ['くらし', `${prefix}/kurashi/`]]);
    const footer = elements(pub.text, 'nav').find((n) => n.attribs['aria-label'] === 'フッターメニュー')!;
    expect(DomUtils.getElementsByTagName('a', footer.children, true).map((a) => a.attribs.href)).toEqual([`${prefix}/about`]);
    expect(pub.text).toContain('設定テスト市役所　電話 000-0000');
    const themeLink = elements(pub.text, 'link').find((l) => l.attribs.href?.startsWith(`${prefix}/theme.css?v=`))!;
    expect(themeLink.attribs.rel).toBe('stylesheet');
    const css = await visitor.get(themeLink.attribs.href!);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.text).toContain('background: #0031d8; color: #ffffff;');
    expect(contrastRatio(textColourOn('#0031d8'), '#0031d8')).toBeGreaterThanOrEqual(4.5);

    // Removing a row and renumbering: the form's own values come back and are saved as changed.
    const again = formValues((await admin.get(`/admin/cms/sites/${siteId}`)).text, `/admin/cms/sites/${siteId}`);
    expect(again['headerMenu-0-label']).toBe('観光');
    expect(again['headerMenu-2-label']).toBe('');
    const removed = await admin.post(`/admin/cms/sites/${siteId}`, { ...again, 'headerMenu-0-remove': '1', 'headerMenu-2-label': '防災', 'headerMenu-2-href': '/bousai/', 'headerMenu-2-order': '0' });
    expect(removed.status).toBe(303);
    expect((await cmsOf(tp().platform).sites.get(siteId))!.settings.headerMenu).toEqual([{ label: '防災', href: '/bousai/' }, { label: 'くらし', href: '/kurashi/' }]);
    expect((await visitor.get(`${prefix}/info`)).text).toContain(`<a href="${prefix}/bousai/">防災</a>`);

    const audit = await tp().platform.db.selectFrom('audit_log').select(['action', 'summary']).where('action', '=', 'cms.site_update').orderBy('id').execute();
    expect(audit.length).toBe(2);
    expect(audit[0]!.summary).toContain('themeColor');
    expect(audit[0]!.summary).toContain('headerMenu');
  });

  it('refuses a theme colour white text cannot be read on, a bad host, a bad GA4 id and a script link, in Japanese, keeping the input', async () => {
    const before = (await cmsOf(tp().platform).sites.get(siteId))!;
    const values = formValues((await admin.get(`/admin/cms/sites/${siteId}`)).text, `/admin/cms/sites/${siteId}`);
    const res = await admin.post(`/admin/cms/sites/${siteId}`, {
      ...values,
      name: '名前を変えてみる',
      themeColor: '#ffcc00',
      host: 'http://www.example.lg.jp/',
      ga4Id: 'UA-12345-1',
      'footerMenu-1-label': '危ないリンク',
      'footerMenu-1-href': 'javascript:alert(1)',
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain('テーマ色と白い文字のコントラスト比が 1.');
    expect(res.text).toContain('必要な 4.5:1 に足りません。');
    expect(res.text).toContain('ホスト名の形式が正しくありません');
    expect(res.text).toContain('GA4の測定IDは「G-」で始まる形式で入力してください');
    expect(res.text).toContain('リンク先は「/」で始まるサイト内のパスか、https:// で始まるURLを入力してください。');
    expect(res.text).toContain('id="error-summary"');
    // The error is on the row as typed, and everything typed is still there.
    expect(res.text).toMatch(/id="f-footerMenu-1-href"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="f-footerMenu-1-href"/);
    const kept = formValues(res.text, `/admin/cms/sites/${siteId}`);
    expect(kept.name).toBe('名前を変えてみる');
    expect(kept.themeColor).toBe('#ffcc00');
    expect(kept['footerMenu-1-href']).toBe('javascript:alert(1)');
    // Nothing was written.
    const after = (await cmsOf(tp().platform).sites.get(siteId))!;
    expect(after.name).toBe(before.name);
    expect(after.settings).toEqual(before.settings);

    // Each on its own, too.
    for (const [field, value, message] of [
      ['themeColor', '#777777', 'コントラスト比が 4.48:1'],
      ['themeColor', 'blue', 'テーマ色は #RRGGBB の形式で入力してください'],
      ['host', 'bad host', 'ホスト名の形式が正しくありません'],
      ['host', '-x.example.jp', 'ホスト名の形式が正しくありません'],
      ['ga4Id', 'G-12', 'GA4の測定IDは「G-」で始まる形式'],
      ['pathPrefix', '/admin', '管理画面などが使うため'],
      ['logoUrl', 'javascript:alert(1)', 'ロゴは「/」で始まるパスか'],
    ] as const) {
      const r = await admin.post(`/admin/cms/sites/${siteId}`, { ...values, [field]: value });
      expect(r.status, `${field}=${value}`).toBe(422);
      expect(r.text, `${field}=${value}`).toContain(message);
    }
    // The darkest grey that still reaches 4.5:1 is accepted.
    const ok = await admin.post(`/admin/cms/sites/${siteId}`, { ...values, themeColor: '#767676' });
    expect(ok.status).toBe(303);
  });

  it('keeps X and GA4 secrets encrypted and never shows them back; X posting needs them', async () => {
    const p = tp().platform;
    const values = formValues((await admin.get(`/admin/cms/sites/${siteId}`)).text, `/admin/cms/sites/${siteId}`);
    const noKeys = await admin.post(`/admin/cms/sites/${siteId}`, { ...values, xPostEnabled: '1' });
    expect(noKeys.status).toBe(422);
    expect(noKeys.text).toContain('X に投稿するには、X の認証情報（4つ）を入力してください。');
    const partial = await admin.post(`/admin/cms/sites/${siteId}`, { ...values, xConsumerKey: 'key-only' });
    expect(partial.status).toBe(422);
    expect(partial.text).toContain('API Key Secretを入力してください（4つすべてが必要です）。');
    expect(partial.text).not.toContain('key-only');
    const badKey = await admin.post(`/admin/cms/sites/${siteId}`, { ...values, ga4Key: '{"type":"service_account","client_email":"a@b.iam.gserviceaccount.com","private_key":"not a key"}' });
    expect(badKey.status).toBe(422);
    expect(badKey.text).toContain('private_key を読み取れません');

    const saved = await admin.post(`/admin/cms/sites/${siteId}`, { ...values, xPostEnabled: '1', xConsumerKey: 'ck-1', xConsumerSecret: SECRET, xAccessToken: '99-at', xAccessTokenSecret: 'ats-NEVER-SHOWN' });
    expect(saved.status).toBe(303);
    const rows = await p.db.selectFrom('cms_site_secrets').selectAll().where('site_id', '=', siteId).execute();
    expect(rows.map((r) => r.name)).toEqual(['x']);
    expect(rows[0]!.value.startsWith('v1.')).toBe(true);
    expect(rows[0]!.value).not.toContain(SECRET);
    expect(Buffer.from(rows[0]!.value.split('.')[3]!, 'base64url').toString('utf8')).not.toContain(SECRET);
    expect(await seoOf(cmsOf(p))!.secrets.get(siteId, 'x')).toEqual({ consumerKey: 'ck-1', consumerSecret: SECRET, accessToken: '99-at', accessTokenSecret: 'ats-NEVER-SHOWN' });
    // Copied to another site's row, it does not decrypt (bound to its site).
    const other = await cmsOf(p).sites.create(systemActor(p), { key: 'settei2', name: '別サイト', pathPrefix: '/sites/settei2' }, meta);
    await p.db.insertInto('cms_site_secrets').values({ site_id: other, name: 'x', value: rows[0]!.value, updated_at: rows[0]!.updated_at }).execute();
    expect(await seoOf(cmsOf(p))!.secrets.get(other, 'x')).toBeUndefined();

    const form = await admin.get(`/admin/cms/sites/${siteId}`);
    expect(form.text).not.toContain(SECRET);
    expect(form.text).not.toContain('ats-NEVER-SHOWN');
    expect(form.text).not.toContain('ck-1');
    expect(form.text).toContain('X の認証情報は設定済みです（内容は表示しません）。');
    const audit = await p.db.selectFrom('audit_log').select('summary').where('action', '=', 'cms.site_update').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(audit.summary).toContain('X の認証情報を更新');
    expect(audit.summary).not.toContain(SECRET);

    // Saving other settings keeps the stored keys; ticking removal drops them (and X posting must go too).
    const kept = formValues(form.text, `/admin/cms/sites/${siteId}`);
    expect((await admin.post(`/admin/cms/sites/${siteId}`, { ...kept, footerText: '変更' })).status).toBe(303);
    expect(await seoOf(cmsOf(p))!.secrets.get(siteId, 'x')).toBeTruthy();
    expect((await admin.post(`/admin/cms/sites/${siteId}`, { ...kept, xClear: '1' })).status).toBe(422);
    delete kept.xPostEnabled;
    expect((await admin.post(`/admin/cms/sites/${siteId}`, { ...kept, xClear: '1' })).status).toBe(303);
    expect(await seoOf(cmsOf(p))!.secrets.stored(siteId)).toEqual(new Set());
  });

  it('creates a site; staff of another organisation and editors cannot reach its settings', async () => {
    const p = tp().platform;
    await admin.get('/admin/cms/sites/new');
    const bad = await admin.post('/admin/cms/sites', { key: 'X', name: '', host: '', pathPrefix: '', organizationId: String(orgId) });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('サイトキーは半角英小文字・数字・ハイフンの2～40文字で入力してください。');
    expect(bad.text).toContain('サイト名を入力してください。');
    const clash = await admin.post('/admin/cms/sites', { key: 'settei-dup', name: '重複', host: '', pathPrefix: prefix, organizationId: String(orgId) });
    expect(clash.status).toBe(422);
    expect(clash.text).toContain('このホスト名とパスは既にサイト「設定テスト市」が使っています。');
    const created = await admin.post('/admin/cms/sites', { key: 'newsite', name: '新しいサイト', host: '', pathPrefix: '/sites/newsite', organizationId: String(orgId) });
    expect(created.status).toBe(303);
    const newId = Number(/sites\/(\d+)/.exec(created.location!)![1]);
    expect((await cmsOf(p).sites.get(newId))!.organizationId).toBe(orgId);
    // A scoped administrator may not create a site for nobody's organisation.
    const orphan = await admin.post('/admin/cms/sites', { key: 'nobody', name: '所属なし', host: '', pathPrefix: '/sites/nobody', organizationId: '' });
    expect(orphan.status).toBe(422);

    const otherOrg = await createOrganization(p, { name: '別の市' });
    const outsider = await createStaff(p, { roles: ['site_admin'], organizationId: otherOrg });
    const c2 = new HttpClient(tp().baseUrl);
    await c2.login(outsider.loginId, outsider.password);
    expect((await c2.get(`/admin/cms/sites/${siteId}`)).status).toBe(404);
    expect((await c2.get(`/admin/cms/sites/${siteId}/sitemap`)).status).toBe(404);
    expect((await c2.get(`/admin/cms/sites/${siteId}/sns`)).status).toBe(404);
    expect((await c2.get('/admin/cms/sites')).text).not.toContain('設定テスト市');
    await c2.get('/admin/cms/sites');
    expect((await c2.post(`/admin/cms/sites/${siteId}`, { name: '乗っ取り' })).status).toBe(404);
    expect((await cmsOf(p).sites.get(siteId))!.name).toBe('設定テスト市');
    // Nor place its own site inside another town's address (the longest prefix would win) or bind
    // a host that would hide the other town's host-less site.
    await c2.get('/admin/cms/sites/new');
    const inside = await c2.post('/admin/cms/sites', { key: 'nottori', name: '乗っ取り市', host: '', pathPrefix: `${prefix}/kurashi`, organizationId: String(otherOrg) });
    expect(inside.status).toBe(422);
    expect(inside.text).toContain('管理できないサイト「設定テスト市」のアドレスと重なります');
    const shadow = await c2.post('/admin/cms/sites', { key: 'nottori', name: '乗っ取り市', host: new URL(tp().baseUrl).host, pathPrefix: '/sites/nottori', organizationId: String(otherOrg) });
    expect(shadow.status).toBe(422);
    expect((await cmsOf(p).sites.all()).some((s) => s.key === 'nottori')).toBe(false);
    expect((await new HttpClient(tp().baseUrl).get(`${prefix}/info`)).text).toContain('お知らせ');

    const editor = await createStaff(p, { roles: ['editor'], organizationId: orgId });
    const c3 = new HttpClient(tp().baseUrl);
    await c3.login(editor.loginId, editor.password);
    expect((await c3.get(`/admin/cms/sites/${siteId}`)).status).toBe(403);
    expect((await c3.get('/admin/cms/analytics')).status).toBe(403);
  });
});
