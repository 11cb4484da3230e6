import { DomUtils, parseDocument } from 'htmlparser2';
import { beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import { cmsOf } from '../index.js';
import { arrangeSitemap, type SitemapRow } from './sitemap.js';
import { metaTags } from './testing.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };
type Element = ReturnType<typeof DomUtils.getElementsByTagName>[number];

/** The HTML sitemap as nested [label, href, children] lists. */
function htmlTree(html: string): unknown[] {
  const nav = DomUtils.findOne((el) => el.name === 'nav' && (el.attribs.class ?? '') === 'sitemap', parseDocument(html).children, true)!;
  const list = (ul: Element): unknown[] =>
    DomUtils.getChildren(ul)
      .filter((n): n is Element => n.type === 'tag')
      .map((li) => {
        const kids = DomUtils.getChildren(li).filter((n): n is Element => n.type === 'tag');
        const a = kids.find((k) => k.name === 'a')!;
        const sub = kids.find((k) => k.name === 'ul');
        return sub ? [DomUtils.textContent(a), a.attribs.href, list(sub)] : [DomUtils.textContent(a), a.attribs.href];
      });
  return list(DomUtils.findOne((el) => el.name === 'ul', nav.children, true)!);
}

/** The <loc> values of sitemap.xml, in order, and which carry a lastmod. */
function xmlLocs(xml: string): Array<{ loc: string; lastmod: boolean }> {
  return [...xml.matchAll(/<url><loc>([^<]*)<\/loc>(<lastmod>)?/g)].map((m) => ({ loc: m[1]!, lastmod: Boolean(m[2]) }));
}

describePlatform('CMS sitemap editing by administrators (C-3-9)', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  const prefix = '/sites/chizu';
  const ids = { site: 0, root: 0, kanko: 0, kurashi: 0, gomi: 0, zeikin: 0, thanks: 0 };
  let admin: HttpClient;
  let base = '';

  const add = async (parentId: number, kind: 'folder' | 'page', slug: string, title: string, sortOrder: number) => {
    const cms = cmsOf(tp().platform);
    const id = await cms.pages.create(systemActor(tp().platform), { siteId: ids.site, parentId, kind, slug, title, sortOrder, body: '<p>本文</p>' }, meta);
    await cms.pages.publish(systemActor(tp().platform), id, meta);
    return id;
  };
  const html = async () => htmlTree((await new HttpClient(base).get(`${prefix}/sitemap`)).text);
  const xml = async () => xmlLocs((await new HttpClient(base).get(`${prefix}/sitemap.xml`)).text).map((l) => l.loc.replace(`${base}${prefix}`, ''));
  const move = async (key: string, direction: 'up' | 'down') => {
    await admin.get(`/admin/cms/sites/${ids.site}/sitemap`);
    const res = await admin.post(`/admin/cms/sites/${ids.site}/sitemap/move`, { key, direction });
    expect(res.status).toBe(303);
  };
  const edit = async (key: string, form: Record<string, string>) => {
    await admin.get(`/admin/cms/sites/${ids.site}/sitemap/items/${key}`);
    return admin.post(`/admin/cms/sites/${ids.site}/sitemap/items/${key}`, form);
  };

  beforeAll(async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    base = tp().baseUrl;
    const org = await createOrganization(p, { name: '地図市' });
    ids.site = await cms.sites.create(systemActor(p), { key: 'chizu', name: '地図市', pathPrefix: prefix, organizationId: org }, meta);
    ids.root = (await cms.pages.root(ids.site)).id;
    await cms.pages.publish(systemActor(p), ids.root, meta);
    ids.kanko = await add(ids.root, 'folder', 'kanko', '観光', 0);
    ids.kurashi = await add(ids.root, 'folder', 'kurashi', 'くらし', 1);
    ids.zeikin = await add(ids.kurashi, 'page', 'zeikin', '税金', 1);
    ids.gomi = await add(ids.kurashi, 'page', 'gomi', 'ごみ', 2);
    ids.thanks = await add(ids.root, 'page', 'thanks', '送信ありがとうございました', 9);
    const user = await createStaff(p, { roles: ['site_admin'], organizationId: org });
    admin = new HttpClient(base);
    await admin.login(user.loginId, user.password);
  });

  it('follows the page tree until an administrator edits it', async () => {
    expect(await html()).toEqual([
      ['地図市 トップページ', `${prefix}/`, [
        ['観光', `${prefix}/kanko/`],
        ['くらし', `${prefix}/kurashi/`, [['税金', `${prefix}/kurashi/zeikin`], ['ごみ', `${prefix}/kurashi/gomi`]]],
        ['送信ありがとうございました', `${prefix}/thanks`],
      ]],
    ]);
    expect(await xml()).toEqual(['/', '/kanko/', '/kurashi/', '/kurashi/zeikin', '/kurashi/gomi', '/thanks']);
    const screen = await admin.get(`/admin/cms/sites/${ids.site}/sitemap`);
    expect(screen.status).toBe(200);
    expect(screen.text).toContain('サイトマップの項目（6件、表示順）');
  });

  it('moves entries among their siblings; both sitemaps follow at once, and new pages take their tree place', async () => {
    await move(`n${ids.kurashi}`, 'up');
    await move(`n${ids.gomi}`, 'up');
    expect(await xml()).toEqual(['/', '/kurashi/', '/kurashi/gomi', '/kurashi/zeikin', '/kanko/', '/thanks']);
    const tree = await html();
    expect((tree[0] as unknown[])[2]).toEqual([
      ['くらし', `${prefix}/kurashi/`, [['ごみ', `${prefix}/kurashi/gomi`], ['税金', `${prefix}/kurashi/zeikin`]]],
      ['観光', `${prefix}/kanko/`],
      ['送信ありがとうございました', `${prefix}/thanks`],
    ]);
    // Published afterwards: sort order 0 and newest, so first in the tree; the arranged ones keep their order.
    await add(ids.root, 'page', 'news', '新着', 0);
    await add(ids.kurashi, 'page', 'hoken', '保険', 5);
    expect(await xml()).toEqual(['/', '/news', '/kurashi/', '/kurashi/gomi', '/kurashi/zeikin', '/kurashi/hoken', '/kanko/', '/thanks']);
    // Down again; an unknown key or the top page is 404.
    await move(`n${ids.kurashi}`, 'down');
    expect(await xml()).toEqual(['/', '/news', '/kanko/', '/kurashi/', '/kurashi/gomi', '/kurashi/zeikin', '/kurashi/hoken', '/thanks']);
    await admin.get(`/admin/cms/sites/${ids.site}/sitemap`);
    expect((await admin.post(`/admin/cms/sites/${ids.site}/sitemap/move`, { key: 'n999999', direction: 'up' })).status).toBe(404);
    expect((await admin.post(`/admin/cms/sites/${ids.site}/sitemap/move`, { key: `n${ids.root}`, direction: 'up' })).status).toBe(404);
  });

  it('renames, hides from the HTML sitemap (kept in XML) and marks noindex (out of XML, noindex on the page)', async () => {
    // Cached before the change, so the noindex must clear the render cache.
    await new HttpClient(base).get(`${prefix}/kurashi/zeikin`);
    expect((await edit(`n${ids.gomi}`, { label: 'ごみ・リサイクル' })).status).toBe(303);
    expect((await edit(`n${ids.thanks}`, { label: '', hidden: '1' })).status).toBe(303);
    expect((await edit(`n${ids.zeikin}`, { label: '', noindex: '1' })).status).toBe(303);
    const tree = JSON.stringify(await html());
    expect(tree).toContain('["ごみ・リサイクル","/sites/chizu/kurashi/gomi"]');
    expect(tree).not.toContain('送信ありがとうございました');
    expect(tree).toContain('税金');
    const locs = await xml();
    expect(locs).toContain('/thanks');
    expect(locs).toContain('/kurashi/gomi');
    expect(locs).not.toContain('/kurashi/zeikin');
    expect(metaTags((await new HttpClient(base).get(`${prefix}/kurashi/zeikin`)).text).get('robots')).toBe('noindex');
    expect(metaTags((await new HttpClient(base).get(`${prefix}/kurashi/gomi`)).text).has('robots')).toBe(false);

    // Hiding a folder takes what is under it out of the HTML sitemap too.
    expect((await edit(`n${ids.kurashi}`, { label: '', hidden: '1' })).status).toBe(303);
    expect(JSON.stringify(await html())).not.toContain('ごみ');
    expect(await xml()).toContain('/kurashi/gomi');
    expect((await edit(`n${ids.kurashi}`, { label: '' })).status).toBe(303);
    expect(JSON.stringify(await html())).toContain('ごみ・リサイクル');
    // Clearing the label brings the title back.
    expect((await edit(`n${ids.gomi}`, { label: '' })).status).toBe(303);
    expect(JSON.stringify(await html())).toContain('["ごみ","/sites/chizu/kurashi/gomi"]');

    const audit = await tp().platform.db.selectFrom('audit_log').select('summary').where('action', '=', 'cms.sitemap_edit').execute();
    expect(audit.length).toBeGreaterThanOrEqual(8);
    expect(audit.some((a) => a.summary.includes('ごみ・リサイクル'))).toBe(true);
  });

  it('adds links to pages outside the CMS and other sites; internal ones go into sitemap.xml', async () => {
    await admin.get(`/admin/cms/sites/${ids.site}/sitemap`);
    const bad = await admin.post(`/admin/cms/sites/${ids.site}/sitemap/links`, { parentKey: `n${ids.root}`, label: '', href: 'javascript:alert(1)' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('リンクの表示名を入力してください。');
    expect(bad.text).toContain('リンク先は「/」で始まるサイト内のパスか、https:// で始まるURLを入力してください。');
    expect(bad.text).toContain('value="javascript:alert(1)"');
    const notFolder = await admin.post(`/admin/cms/sites/${ids.site}/sitemap/links`, { parentKey: `n${ids.gomi}`, label: 'x', href: '/x/' });
    expect(notFolder.status).toBe(422);

    expect((await admin.post(`/admin/cms/sites/${ids.site}/sitemap/links`, { parentKey: `n${ids.root}`, label: 'イベントカレンダー', href: '/events/' })).status).toBe(303);
    await admin.get(`/admin/cms/sites/${ids.site}/sitemap`);
    expect((await admin.post(`/admin/cms/sites/${ids.site}/sitemap/links`, { parentKey: `n${ids.kanko}`, label: '県の観光サイト', href: 'https://kanko.pref.example.lg.jp/' })).status).toBe(303);
    const top = ((await html())[0] as unknown[])[2] as unknown[];
    expect(top.at(-1)).toEqual(['イベントカレンダー', `${prefix}/events/`]);
    expect(top.find((x) => (x as unknown[])[0] === '観光')).toEqual(['観光', `${prefix}/kanko/`, [['県の観光サイト', 'https://kanko.pref.example.lg.jp/']]]);
    const raw = xmlLocs((await new HttpClient(base).get(`${prefix}/sitemap.xml`)).text);
    expect(raw.at(-1)).toEqual({ loc: `${base}${prefix}/events/`, lastmod: false });
    expect(raw.some((l) => l.loc.includes('kanko.pref'))).toBe(false);

    // Links move like pages, and can be removed.
    const rows = await tp().platform.db.selectFrom('cms_sitemap_items').selectAll().where('site_id', '=', ids.site).where('node_id', 'is', null).orderBy('id').execute();
    const events = `l${rows[0]!.id}`;
    await move(events, 'up');
    expect((await xml()).slice(-2)).toEqual(['/events/', '/thanks']);
    const renamed = await edit(events, { label: '', href: '/events/' });
    expect(renamed.status).toBe(422);
    expect(renamed.text).toContain('リンクの表示名を入力してください。');
    expect((await edit(events, { label: 'イベント', href: '/events/calendar/' })).status).toBe(303);
    expect(JSON.stringify(await html())).toContain(`["イベント","${prefix}/events/calendar/"]`);
    await admin.get(`/admin/cms/sites/${ids.site}/sitemap/items/${events}`);
    expect((await admin.post(`/admin/cms/sites/${ids.site}/sitemap/items/${events}/delete`, {})).status).toBe(303);
    expect(JSON.stringify(await html())).not.toContain('イベント');
    // Another site's id in the URL is not found.
    const other = await cmsOf(tp().platform).sites.create(systemActor(tp().platform), { key: 'chizu2', name: '別の市', pathPrefix: '/sites/chizu2' }, meta);
    const otherRoot = await cmsOf(tp().platform).pages.root(other);
    expect((await admin.get(`/admin/cms/sites/${ids.site}/sitemap/items/n${otherRoot.id}`)).status).toBe(404);
    expect((await admin.get(`/admin/cms/sites/${ids.site}/sitemap/items/l${rows[1]!.id + 1000}`)).status).toBe(404);
  });
});

it('arranges positioned siblings in their own slots and leaves unpositioned ones at their tree place', () => {
  const node = (id: number, parent: number | null, path: string) => ({ node: { id, parent_id: parent, path, kind: 'page' } as never, title: `t${id}`, summary: null, versionAt: '', depth: 0 });
  const entries = [node(1, null, '/'), node(2, 1, '/a'), node(3, 1, '/b'), node(4, 1, '/c'), node(5, 1, '/d')];
  const row = (nodeId: number | null, position: number | null, extra: Partial<SitemapRow> = {}): SitemapRow => ({ id: 100 + (nodeId ?? 50), site_id: 1, node_id: nodeId, parent_node_id: null, label: null, href: null, position, hidden: 0, noindex: 0, created_at: '', updated_at: '', ...extra });
  const order = (rows: SitemapRow[]) => arrangeSitemap(entries, rows, { name: 's' })[0]!.children.map((c) => c.key);
  expect(order([])).toEqual(['n2', 'n3', 'n4', 'n5']);
  // n4 and n2 swapped by positions; n3 and n5 (no position) stay where the tree puts them.
  expect(order([row(2, 1), row(4, 0)])).toEqual(['n4', 'n3', 'n2', 'n5']);
  expect(order([row(null, 0, { parent_node_id: 1, href: '/x/', label: 'x' }), row(2, 1)])).toEqual(['l0', 'n3', 'n4', 'n5', 'n2'].map((k) => (k === 'l0' ? 'l150' : k)));
});
