import { DomUtils } from 'htmlparser2';
import { beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createStaff, systemActor } from '../../../../test/helpers/platform.js';
import { defineModule } from '../../../core/module.js';
import { platformModules } from '../../index.js';
import { cmsOf } from '../index.js';
import { renderPage } from '../public-routes.js';
import { cspDirective, cspNonce, elements, getWithHost, jsonLd, links, metaTags } from './testing.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };
const ATTACK_TITLE = `</script><script>alert(1)</script> "引用" & <b>太字</b>`;
const ATTACK_SUMMARY = `</script><img src=x onerror=alert(1)> 概要`;
const LONG_BODY = `<h2>市民税</h2><p>${'市民税は、前年の所得に応じて課税されます。'.repeat(8)}</p>`;

/** A staff preview of any node, as the workflow screens render it (renderPage with preview). */
const previewModule = defineModule({
  name: 'test-preview',
  routes(app, p) {
    app.get('/zz-preview/:id', async (c) => {
      const cms = cmsOf(p);
      const node = await cms.pages.node(Number(c.req.param('id')));
      const site = (await cms.sites.get(node.site_id))!;
      const version = (await cms.pages.version(node.draft_version_id ?? node.published_version_id))!;
      return c.html(await renderPage(c, cms, site, { node, version, ancestors: [] }, { preview: true }));
    });
  },
});

describePlatform('CMS SEO head, share links, GA4 and robots.txt', { modules: [...platformModules(), previewModule] }, (tp) => {
  const prefix = '/sites/seocity';
  const ids = { site: 0, plain: 0, gomi: 0, zeikin: 0, attack: 0, draft: 0 };

  beforeAll(async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const actor = systemActor(p);
    ids.site = await cms.sites.create(actor, { key: 'seocity', name: 'えすいーおー市', nameEn: 'SEO City', pathPrefix: prefix, settings: { ga4Id: 'G-TEST12345', ogImage: '/media/share.png', description: 'えすいーおー市の公式サイトです。', logoUrl: '/media/logo.png', robotsExtra: 'Disallow: /sites/seocity/old/\nCrawl-delay: 5' } }, meta);
    ids.plain = await cms.sites.create(actor, { key: 'plaincity', name: 'ぷれーん町', pathPrefix: '/sites/plaincity' }, meta);
    for (const siteId of [ids.site, ids.plain]) {
      const root = await cms.pages.root(siteId);
      await cms.pages.saveDraft(actor, root.id, { title: 'トップ', body: '<p>ようこそ。</p>' }, meta);
      await cms.pages.publish(actor, root.id, meta);
    }
    const root = await cms.pages.root(ids.site);
    const add = async (parentId: number, kind: 'folder' | 'page', slug: string, title: string, extra: { summary?: string; body?: string; publish?: boolean } = {}) => {
      const id = await cms.pages.create(actor, { siteId: ids.site, parentId, kind, slug, title, summary: extra.summary, body: extra.body ?? '' }, meta);
      if (extra.publish !== false) await cms.pages.publish(actor, id, meta);
      return id;
    };
    const kurashi = await add(root.id, 'folder', 'kurashi', 'くらし');
    ids.gomi = await add(kurashi, 'page', 'gomi', 'ごみの出し方', { summary: 'ごみの出し方の案内です。', body: '<p>分別します。</p><p><img src="/media/gomi.png" alt="ごみ袋"></p><p><img src="/media/second.png" alt="二枚目"></p>' });
    ids.zeikin = await add(kurashi, 'page', 'zeikin', '税金', { body: LONG_BODY });
    ids.attack = await add(root.id, 'page', 'attack', ATTACK_TITLE, { summary: ATTACK_SUMMARY, body: '<p>本文</p>' });
    ids.draft = await add(kurashi, 'page', 'draft', '下書きのページ', { publish: false });
    const plainRoot = await cms.pages.root(ids.plain);
    const plainPage = await cms.pages.create(actor, { siteId: ids.plain, parentId: plainRoot.id, kind: 'page', slug: 'info', title: 'お知らせ', body: '<p>本文</p>' }, meta);
    await cms.pages.publish(actor, plainPage, meta);
    // A page part that fails on one path only: an unexpected error inside a site's page.
    const boom = await add(root.id, 'page', 'boom', '壊れるページ', { body: '<p>壊れる</p>' });
    cms.parts.addAfterBody((ctx) => {
      if (ctx.node.id === boom) throw new Error('secret internal detail: db password is hunter2');
      return null;
    });
  });

  it('a forged Host or X-Forwarded-Proto cannot plant its domain in the cached page everyone gets', async () => {
    const base = tp().baseUrl;
    const forged = await getWithHost(base, `${prefix}/kurashi/gomi`, 'evil.example', { 'x-forwarded-proto': 'https', 'cache-control': 'no-cache' });
    expect(forged.status).toBe(200);
    expect(forged.text).not.toContain('evil.example');
    const next = await new HttpClient(base).get(`${prefix}/kurashi/gomi`);
    expect(next.text).not.toContain('evil.example');
    expect(links(next.text).get('canonical')).toBe(`${base}${prefix}/kurashi/gomi`);
  });

  it('puts description, canonical, OGP and X card tags in the head with absolute addresses', async () => {
    const base = tp().baseUrl;
    const res = await new HttpClient(base).get(`${prefix}/kurashi/gomi`);
    expect(res.status).toBe(200);
    const m = metaTags(res.text);
    const url = `${base}${prefix}/kurashi/gomi`;
    expect(links(res.text).get('canonical')).toBe(url);
    expect(m.get('description')).toBe('ごみの出し方の案内です。');
    expect(m.get('og:title')).toBe('ごみの出し方');
    expect(m.get('og:type')).toBe('article');
    expect(m.get('og:url')).toBe(url);
    // The page's first image, made absolute.
    expect(m.get('og:image')).toBe(`${base}/media/gomi.png`);
    expect(m.get('og:site_name')).toBe('えすいーおー市');
    expect(m.get('og:locale')).toBe('ja_JP');
    expect(m.get('og:description')).toBe('ごみの出し方の案内です。');
    expect(m.get('twitter:card')).toBe('summary_large_image');
    expect(m.get('twitter:image')).toBe(`${base}/media/gomi.png`);
    expect(m.has('robots')).toBe(false);

    // No summary: the start of the body; no image: the site's default share image.
    const zeikin = metaTags((await new HttpClient(base).get(`${prefix}/kurashi/zeikin`)).text);
    expect(zeikin.get('description')!.startsWith('市民税 市民税は、前年の所得に応じて課税されます。')).toBe(true);
    expect(zeikin.get('description')!.endsWith('…')).toBe(true);
    expect([...zeikin.get('description')!].length).toBe(121);
    expect(zeikin.get('og:image')).toBe(`${base}/media/share.png`);

    // Without any image: a small card.
    const plain = metaTags((await new HttpClient(base).get('/sites/plaincity/info')).text);
    expect(plain.has('og:image')).toBe(false);
    expect(plain.get('twitter:card')).toBe('summary');
  });

  it('describes breadcrumbs in JSON-LD on every page, and the site and its search on the top page', async () => {
    const base = tp().baseUrl;
    const page = jsonLd((await new HttpClient(base).get(`${prefix}/kurashi/gomi`)).text);
    expect(page.map((d) => d['@type'])).toEqual(['BreadcrumbList']);
    expect(page[0]).toEqual({
      '@context': 'https://schema.org',
      '@type': 'BreadcrumbList',
      itemListElement: [
        { '@type': 'ListItem', position: 1, name: 'えすいーおー市', item: `${base}${prefix}/` },
        { '@type': 'ListItem', position: 2, name: 'くらし', item: `${base}${prefix}/kurashi/` },
        { '@type': 'ListItem', position: 3, name: 'ごみの出し方', item: `${base}${prefix}/kurashi/gomi` },
      ],
    });
    const topHtml = (await new HttpClient(base).get(`${prefix}/`)).text;
    const top = jsonLd(topHtml);
    expect(top.map((d) => d['@type'])).toEqual(['BreadcrumbList', 'WebSite', 'GovernmentOrganization']);
    expect(top[1]).toMatchObject({ name: 'えすいーおー市', alternateName: 'SEO City', url: `${base}${prefix}/`, potentialAction: { '@type': 'SearchAction', target: { urlTemplate: `${base}${prefix}/search?q={search_term_string}` }, 'query-input': 'required name=search_term_string' } });
    expect(top[2]).toMatchObject({ name: 'えすいーおー市', url: `${base}${prefix}/`, logo: `${base}/media/logo.png`, description: 'えすいーおー市の公式サイトです。' });
    const m = metaTags(topHtml);
    expect(m.get('og:type')).toBe('website');
    expect(m.get('og:title')).toBe('えすいーおー市');
  });

  it('keeps a title and summary holding </script> and markup inside their tags (escaped, parsed back exactly)', async () => {
    const res = await new HttpClient(tp().baseUrl).get(`${prefix}/attack`);
    expect(res.status).toBe(200);
    // Only the scripts the page means to have: JSON-LD, GA4's two and the share script.
    const scripts = elements(res.text, 'script');
    expect(scripts.map((s) => s.attribs.type ?? s.attribs.src?.replace(/\?.*$/, '').replace(/share\.[0-9a-f]+\.js/, 'share.js') ?? 'inline')).toEqual([
      'https://www.googletagmanager.com/gtag/js',
      'inline',
      'application/ld+json',
      '/assets/share.js',
    ]);
    expect(DomUtils.textContent(scripts[1]!)).not.toContain('alert');
    expect(elements(res.text, 'img').map((i) => i.attribs.src)).toEqual(['/media/logo.png']);
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text).not.toContain('<img src=x');
    const [crumbs] = jsonLd(res.text);
    expect((crumbs!.itemListElement as Array<{ name: string }>).at(-1)!.name).toBe(ATTACK_TITLE);
    expect(res.text).toContain('\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e');
    const m = metaTags(res.text);
    expect(m.get('og:title')).toBe(ATTACK_TITLE);
    expect(m.get('description')).toBe(ATTACK_SUMMARY);
    expect(m.get('twitter:description')).toBe(ATTACK_SUMMARY);
  });

  it('adds share links after the body: plain links to X, Facebook and LINE, no third-party script or frame', async () => {
    const base = tp().baseUrl;
    const res = await new HttpClient(base).get(`${prefix}/kurashi/gomi`);
    const url = encodeURIComponent(`${base}${prefix}/kurashi/gomi`);
    const share = elements(res.text, 'section').find((s) => s.attribs.class === 'share')!;
    expect(share).toBeTruthy();
    const anchors = DomUtils.getElementsByTagName('a', share.children, true);
    expect(anchors.map((a) => a.attribs.href)).toEqual([
      `https://x.com/intent/post?text=${encodeURIComponent('ごみの出し方')}&url=${url}`,
      `https://www.facebook.com/sharer/sharer.php?u=${url}`,
      `https://social-plugins.line.me/lineit/share?url=${url}`,
    ]);
    for (const a of anchors) expect(a.attribs.rel).toBe('noopener noreferrer');
    // The copy button is progressive enhancement: hidden until the site's own script shows it.
    const button = DomUtils.getElementsByTagName('button', share.children, true)[0]!;
    expect((button.parent as typeof button).attribs.hidden).toBeDefined();
    expect(button.attribs['data-url']).toBe(`${base}${prefix}/kurashi/gomi`);
    expect(elements(res.text, 'iframe')).toEqual([]);
    for (const s of elements(res.text, 'script')) {
      const src = s.attribs.src;
      if (src) expect(src.startsWith('/assets/') || src.startsWith('https://www.googletagmanager.com/gtag/js?id=G-TEST12345')).toBe(true);
    }
    const script = await new HttpClient(base).get(elements(res.text, 'script').find((s) => s.attribs.src?.startsWith('/assets/share.'))!.attribs.src!);
    expect(script.status).toBe(200);
    expect(script.text).toContain('navigator.clipboard');
    // The top page does not carry them.
    expect((await new HttpClient(base).get(`${prefix}/`)).text).not.toContain('class="share"');
  });

  it('puts GA4 only on sites with a measurement id, with the response nonce, and allows googletagmanager in that response\'s CSP only', async () => {
    const client = new HttpClient(tp().baseUrl);
    for (const path of [`${prefix}/kurashi/gomi`, `${prefix}/kurashi/gomi`, `${prefix}/search?q=ごみ`, `${prefix}/sitemap`, `${prefix}/no-such-page`]) {
      const res = await client.get(path);
      const csp = res.headers.get('content-security-policy');
      const nonce = cspNonce(csp);
      expect(nonce, path).toBeTruthy();
      const gtag = elements(res.text, 'script').filter((s) => s.attribs.src === 'https://www.googletagmanager.com/gtag/js?id=G-TEST12345');
      expect(gtag, path).toHaveLength(1);
      expect(gtag[0]!.attribs.nonce).toBe(nonce);
      const inline = elements(res.text, 'script').filter((s) => !s.attribs.src && !s.attribs.type);
      expect(inline).toHaveLength(1);
      expect(inline[0]!.attribs.nonce).toBe(nonce);
      expect(DomUtils.textContent(inline[0]!)).toContain(`gtag('config',"G-TEST12345")`);
      expect(cspDirective(csp, 'script-src')).toContain('https://www.googletagmanager.com');
      expect(cspDirective(csp, 'connect-src')).toEqual(expect.arrayContaining(["'self'", 'https://*.google-analytics.com', 'https://*.analytics.google.com', 'https://www.googletagmanager.com']));
      expect(cspDirective(csp, 'img-src')).toContain('https://*.google-analytics.com');
    }
    // Served twice: the second comes from the render cache with a fresh nonce of its own.
    const first = await client.get(`${prefix}/kurashi/zeikin`);
    const second = await client.get(`${prefix}/kurashi/zeikin`);
    expect(second.headers.get('x-render-cache')).toBe('hit');
    const n1 = cspNonce(first.headers.get('content-security-policy'))!;
    const n2 = cspNonce(second.headers.get('content-security-policy'))!;
    expect(n1).not.toBe(n2);
    expect(second.text).toContain(`nonce="${n2}"`);
    expect(second.text).not.toContain(n1);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));

    // Another site without an id: neither the snippet nor the sources.
    for (const path of ['/sites/plaincity/info', '/sites/plaincity/info', '/sites/plaincity/sitemap']) {
      const plain = await client.get(path);
      expect(plain.text).not.toContain('googletagmanager');
      expect(plain.text).not.toContain('gtag(');
      expect(plain.headers.get('content-security-policy')).not.toContain('googletagmanager');
      expect(plain.headers.get('content-security-policy')).not.toContain('google-analytics');
    }
  });

  it('keeps GA4 off previews and admin pages, and marks previews noindex', async () => {
    const p = tp().platform;
    const preview = await new HttpClient(tp().baseUrl).get(`/zz-preview/${ids.draft}`);
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('これはプレビューです');
    expect(preview.text).not.toContain('googletagmanager');
    expect(preview.headers.get('content-security-policy')).not.toContain('googletagmanager');
    expect(metaTags(preview.text).get('robots')).toBe('noindex, nofollow');
    // A preview link that does not resolve is answered in the site's frame, still without GA4.
    const stale = await new HttpClient(tp().baseUrl).get(`${prefix}/preview/no-such-token`);
    expect(stale.status).toBe(404);
    expect(stale.text).toContain('えすいーおー市');
    expect(stale.text).not.toContain('googletagmanager');
    const admin = await createStaff(p, { roles: ['system_admin'] });
    const client = new HttpClient(tp().baseUrl);
    await client.login(admin.loginId, admin.password);
    for (const path of ['/admin', '/admin/cms', `/admin/cms/sites/${ids.site}`]) {
      const res = await client.get(path);
      expect(res.status, path).toBe(200);
      expect(res.text).not.toContain('googletagmanager.com/gtag');
      expect(res.headers.get('content-security-policy')).not.toContain('googletagmanager');
    }
  });

  it('serves robots.txt per site with the absolute sitemap address and the administrators\' lines', async () => {
    const base = tp().baseUrl;
    const res = await new HttpClient(base).get(`${prefix}/robots.txt`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.text).toBe(['User-agent: *', 'Disallow: /admin/', 'Disallow: /preview/', `Disallow: ${prefix}/preview/`, 'Disallow: /sites/seocity/old/', 'Crawl-delay: 5', '', `Sitemap: ${base}${prefix}/sitemap.xml`, ''].join('\n'));
    const plain = await new HttpClient(base).get('/sites/plaincity/robots.txt');
    expect(plain.text).toBe(['User-agent: *', 'Disallow: /admin/', 'Disallow: /preview/', 'Disallow: /sites/plaincity/preview/', '', `Sitemap: ${base}/sites/plaincity/sitemap.xml`, ''].join('\n'));
  });

  it('answers robots.txt at the root of a host-bound site, and builds canonical addresses on that host', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const actor = systemActor(p);
    const siteId = await cms.sites.create(actor, { key: 'hostcity', name: 'ほすと市', host: 'www.host-city.example.lg.jp', pathPrefix: '/portal' }, meta);
    const root = await cms.pages.root(siteId);
    await cms.pages.publish(actor, root.id, meta);
    const page = await cms.pages.create(actor, { siteId, parentId: root.id, kind: 'page', slug: 'about', title: '市の紹介', body: '<p>紹介</p>' }, meta);
    await cms.pages.publish(actor, page, meta);
    const host = 'www.host-city.example.lg.jp';
    const robots = await getWithHost(tp().baseUrl, '/robots.txt', host);
    expect(robots.status).toBe(200);
    expect(robots.text).toContain(`Sitemap: http://${host}/portal/sitemap.xml\n`);
    expect(robots.text.startsWith('User-agent: *\nDisallow: /admin/\nDisallow: /preview/\nDisallow: /portal/preview/\n')).toBe(true);
    // The scheme is BASE_URL's: a forwarded header could be forged, and the page is cached for everyone.
    const about = await getWithHost(tp().baseUrl, '/portal/about', host, { 'x-forwarded-proto': 'https' });
    expect(about.status).toBe(200);
    expect(links(about.text).get('canonical')).toBe(`http://${host}/portal/about`);
    // The sitemap on that host names that host.
    const xml = await getWithHost(tp().baseUrl, '/portal/sitemap.xml', host);
    expect(xml.text).toContain(`<loc>http://${host}/portal/about</loc>`);
  });

  it('renders an unexpected error inside a page as a 500 in the site\'s frame, with the request id and no internals', async () => {
    const res = await new HttpClient(tp().baseUrl).get(`${prefix}/boom`);
    expect(res.status).toBe(500);
    const requestId = res.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.text).toContain(`<code>${requestId}</code>`);
    // The site's own frame: its name, its search box, its GA4.
    expect(res.text).toContain('えすいーおー市');
    expect(res.text).toContain(`action="${prefix}/search"`);
    expect(res.text).toContain('www.googletagmanager.com/gtag/js?id=G-TEST12345');
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toContain('secret internal detail');
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    // Other pages are unaffected.
    expect((await new HttpClient(tp().baseUrl).get(`${prefix}/kurashi/gomi`)).status).toBe(200);
  });
});
