import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'htmlparser2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { systemActor } from '../../../../test/helpers/platform.js';
import { explain, runCli } from '../../../../test/cli/run-cli.js';
import type { Platform } from '../../../core/platform.js';
import { seedDemoContent } from '../../../main.js';
import { cmsOf } from '../index.js';
import { findNginx, startNginx } from './nginx.js';
import { MANIFEST_FILE, exportStaticSite, fileFor } from './static-export.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

/** Every file under `root`, relative, with forward slashes. */
function walk(root: string, sub = ''): string[] {
  return readdirSync(join(root, sub)).flatMap((name) => {
    const rel = sub ? `${sub}/${name}` : name;
    return statSync(join(root, rel)).isDirectory() ? walk(root, rel) : [rel];
  });
}

/** Every address the HTML files of an export point at (read independently of the exporter). */
function references(root: string): Array<{ file: string; url: string }> {
  const out: Array<{ file: string; url: string }> = [];
  for (const file of walk(root).filter((f) => f.endsWith('.html'))) {
    const parser = new Parser(
      {
        onopentag(_name, attrs) {
          for (const a of ['href', 'src', 'action', 'poster']) if (attrs[a] !== undefined) out.push({ file, url: attrs[a]! });
          if (attrs.srcset) for (const part of attrs.srcset.split(',')) out.push({ file, url: part.trim().split(/\s+/)[0]! });
        },
      },
      { decodeEntities: true },
    );
    parser.write(readFileSync(join(root, file), 'utf8'));
    parser.end();
  }
  return out;
}

/**
 * Links inside the copy that a static server could not answer: every root-relative address must
 * be a file, or a directory with index.html. Relative links are reported too: a page served from
 * its directory would resolve them differently.
 */
function brokenLinks(root: string): string[] {
  const broken: string[] = [];
  for (const { file, url } of references(root)) {
    if (!url || url.startsWith('#') || /^(mailto|tel):/i.test(url) || /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) continue;
    if (!url.startsWith('/') || url.startsWith('//')) {
      broken.push(`${file}: relative link ${url}`);
      continue;
    }
    const path = decodeURIComponent(new URL(url, 'http://copy.invalid').pathname);
    const target = join(root, path);
    const ok = path.endsWith('/') ? existsSync(join(target, 'index.html')) : (existsSync(target) && statSync(target).isFile()) || existsSync(join(target, 'index.html'));
    if (!ok) broken.push(`${file}: ${url}`);
  }
  return broken;
}

async function nodeAt(p: Platform, siteId: number, path: string): Promise<number> {
  const row = await p.db.selectFrom('cms_nodes').select('id').where('site_id', '=', siteId).where('path', '=', path).executeTakeFirstOrThrow();
  return row.id;
}

describePlatform('export-static: a browsable static copy of a site', {}, (tp) => {
  let work = '';
  let out = '';
  let siteId = 0;
  let env: Record<string, string> = {};

  beforeAll(async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const actor = systemActor(p);
    await seedDemoContent(p);
    const site = (await cms.sites.all()).find((s) => s.key === 'aoba')!;
    siteId = site.id;
    const root = await cms.pages.root(siteId);
    const kurashi = await nodeAt(p, siteId, '/kurashi/');
    // A page taken down again, still linked from another page's body.
    const old = await cms.pages.create(actor, { siteId, parentId: kurashi, kind: 'page', slug: 'old-notice', title: '終了したお知らせ', body: '<p>終了しました。</p>' }, meta);
    await cms.pages.publish(actor, old, meta);
    await cms.pages.unpublish(actor, old, meta);
    const guide = await cms.pages.create(
      actor,
      { siteId, parentId: kurashi, kind: 'page', slug: 'annai', title: '手続きの案内', body: '<p><a href="/kurashi/gomi">ごみの出し方</a>、<a href="/kurashi/old-notice">終了したお知らせ</a>、<a href="https://www.example.jp/">外部サイト</a></p>' },
      meta,
    );
    await cms.pages.publish(actor, guide, meta);
    // A folder withdrawn for a while, with a published page inside.
    const hiddenFolder = await cms.pages.create(actor, { siteId, parentId: root.id, kind: 'folder', slug: 'naibu', title: '準備中の特集', body: '<p>準備中</p>' }, meta);
    await cms.pages.publish(actor, hiddenFolder, meta);
    const inside = await cms.pages.create(actor, { siteId, parentId: hiddenFolder, kind: 'page', slug: 'memo', title: '特集の下書きメモ', body: '<p>メモ</p>' }, meta);
    await cms.pages.publish(actor, inside, meta);
    await cms.pages.setTemporarilyHidden(actor, hiddenFolder, true, meta);

    work = mkdtempSync(join(tmpdir(), 'machimado-export-test-'));
    out = join(work, 'aoba');
    env = { DATABASE_URL: tp().databaseUrl, DATA_DIR: tp().dataDir };
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes every public page as <path>/index.html, with the HTML sitemap, sitemap.xml, feed.xml and robots.txt (CLI, exit 0)', async () => {
    const r = await runCli(['export-static', '--site', 'aoba', out, '--base-url', 'https://www.city.aoba.example.jp'], env, 90_000);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toMatch(/pages \d+, files \d+, bytes \d+, seconds [\d.]+/);
    expect(r.stderr).toContain('export-static:');
    const publicPaths = (await cmsOf(tp().platform).pages.publicTree(siteId)).map((e) => e.node.path);
    expect(publicPaths).toContain('/kurashi/gomi');
    for (const path of publicPaths) expect(existsSync(join(out, fileFor(path, true)!)), path).toBe(true);
    for (const f of ['index.html', 'sitemap/index.html', 'sitemap.xml', 'feed.xml', 'robots.txt', '404.html']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'kurashi/gomi/index.html'), 'utf8')).toContain('ごみの出し方と収集日');
    // Absolute addresses name the host the copy is published on.
    expect(readFileSync(join(out, 'sitemap.xml'), 'utf8')).toContain('<loc>https://www.city.aoba.example.jp/kurashi/gomi</loc>');
    const feed = readFileSync(join(out, 'feed.xml'), 'utf8');
    expect(feed).toContain('<link rel="alternate" type="text/html" href="https://www.city.aoba.example.jp/kurashi/annai"/>');
    expect(feed).not.toContain('localhost');
    // The stylesheets the pages use came along.
    expect(walk(out).filter((f) => f.startsWith('assets/') && f.endsWith('.css')).length).toBeGreaterThan(0);
  }, 120_000);

  it('every link inside the copy resolves to a file in it (but the one dead on the live site too); no relative links, no admin links, no live-only forms', () => {
    expect(brokenLinks(out)).toEqual(['kurashi/annai/index.html: /kurashi/old-notice']);
    const refs = references(out);
    expect(refs.length).toBeGreaterThan(20);
    expect(refs.filter((r) => /^\/admin|^[a-z]+:\/\/[^/]+\/admin/i.test(r.url))).toEqual([]);
    const guide = readFileSync(join(out, 'kurashi/annai/index.html'), 'utf8');
    expect(guide).toContain('href="/kurashi/gomi"');
    expect(guide).toContain('href="https://www.example.jp/"');
    for (const f of walk(out).filter((x) => x.endsWith('.html'))) {
      const html = readFileSync(join(out, f), 'utf8');
      // The search needs the application; without --search-url the form becomes a note.
      expect(html, f).not.toMatch(/action="[^"]*\/search"/);
      expect(html, f).not.toContain('href="/lang/');
      // A form that posts needs a session on the live site; the copy links there instead.
      expect(html, f).not.toMatch(/<form[^>]*method="post"/i);
    }
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('サイト内検索は使えません');
  });

  it('leaves out withdrawn pages and pages under a temporarily hidden folder', () => {
    const files = walk(out);
    expect(files.filter((f) => f.includes('old-notice') || f.startsWith('naibu'))).toEqual([]);
    for (const f of files.filter((x) => /\.(html|xml)$/.test(x))) {
      const text = readFileSync(join(out, f), 'utf8');
      expect(text, f).not.toContain('/naibu');
      expect(text, f).not.toContain('特集の下書きメモ');
    }
    expect(readFileSync(join(out, 'sitemap.xml'), 'utf8')).not.toContain('old-notice');
  });

  it('writes a manifest listing every file with its size and SHA-256, and the links it could not follow', () => {
    const m = JSON.parse(readFileSync(join(out, MANIFEST_FILE), 'utf8')) as {
      site: { key: string };
      baseUrl: string;
      totals: { pages: number; files: number; bytes: number };
      files: Array<{ url: string; file: string; bytes: number; sha256: string; type: string }>;
      skipped: Array<{ url: string; reason: string; from: string | null }>;
    };
    expect(m.site.key).toBe('aoba');
    expect(m.baseUrl).toBe('https://www.city.aoba.example.jp');
    expect(m.files.map((f) => f.file).sort()).toEqual(walk(out).filter((f) => f !== MANIFEST_FILE).sort());
    for (const f of m.files) {
      const body = readFileSync(join(out, f.file));
      expect(f.bytes, f.file).toBe(body.length);
      expect(f.sha256, f.file).toBe(createHash('sha256').update(body).digest('hex'));
    }
    const htmlPages = m.files.filter((f) => f.type.startsWith('text/html') && f.file !== '404.html').length;
    expect(m.totals.pages).toBe(htmlPages);
    expect(m.totals.files).toBe(m.files.length - htmlPages);
    expect(m.totals.bytes).toBe(m.files.reduce((n, f) => n + f.bytes, 0));
    // The withdrawn page linked from a body is reported, not silently dropped.
    expect(m.skipped).toContainEqual({ url: '/kurashi/old-notice', reason: 'HTTP 404', from: '/kurashi/annai' });
  });

  it('refuses an unknown site key (exit 64), a missing directory argument (64) and a directory holding other files (73, left untouched)', async () => {
    const foreign = join(work, 'someone-elses');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'keep.txt'), 'do not delete');
    const [unknown, missingDir, occupied] = await Promise.all([
      runCli(['export-static', '--site', 'nosuchcity', join(work, 'x')], env, 90_000),
      runCli(['export-static', '--site', 'aoba'], env, 90_000),
      runCli(['export-static', '--site', 'aoba', foreign], env, 90_000),
    ]);
    expect(unknown.code, explain(unknown)).toBe(64);
    expect(unknown.stderr).toContain('nosuchcity');
    expect(unknown.stderr).toContain('aoba');
    expect(existsSync(join(work, 'x'))).toBe(false);
    expect(missingDir.code, explain(missingDir)).toBe(64);
    expect(missingDir.stderr).toContain('usage: machimado export-static');
    expect(occupied.code, explain(occupied)).toBe(73);
    expect(readdirSync(foreign)).toEqual(['keep.txt']);
    // Nothing half-written is left next to the targets.
    expect(readdirSync(work).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 120_000);

  it('replaces an earlier export as a whole: a page withdrawn since then disappears, no temporary directories remain', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const deps = { request: (u: string, init: RequestInit) => p.app.request(u, init), sites: () => cms.sites.all(), defaultBaseUrl: tp().baseUrl };
    const dir = join(work, 'again');
    const first = await exportStaticSite(deps, { siteKey: 'aoba', outDir: dir });
    expect(existsSync(join(dir, 'kurashi/juminhyo/index.html'))).toBe(true);
    const juminhyo = await nodeAt(p, siteId, '/kurashi/juminhyo');
    await cms.pages.unpublish(systemActor(p), juminhyo, meta);
    try {
      const second = await exportStaticSite(deps, { siteKey: 'aoba', outDir: dir });
      expect(existsSync(join(dir, 'kurashi/juminhyo/index.html'))).toBe(false);
      expect(second.pages).toBe(first.pages - 1);
      expect(readdirSync(work).filter((f) => f.startsWith('.'))).toEqual([]);
    } finally {
      await cms.pages.publish(systemActor(p), juminhyo, meta);
    }
  }, 60_000);

  it('exports a site served under a path prefix at the root of the copy, with the search form pointing at --search-url', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const actor = systemActor(p);
    const minato = await cms.sites.create(actor, { key: 'minato', name: 'みなと町', pathPrefix: '/s/minato' }, meta);
    const root = await cms.pages.root(minato);
    await cms.pages.publish(actor, root.id, meta);
    const folder = await cms.pages.create(actor, { siteId: minato, parentId: root.id, kind: 'folder', slug: 'guide', title: '町の案内', body: '<p>案内</p>' }, meta);
    await cms.pages.publish(actor, folder, meta);
    const page = await cms.pages.create(actor, { siteId: minato, parentId: folder, kind: 'page', slug: 'port', title: 'みなと公園', body: '<p><a href="/s/minato/guide/">町の案内へ</a></p>' }, meta);
    await cms.pages.publish(actor, page, meta);

    const dir = join(work, 'minato');
    const searchUrl = 'https://www.minato.example.jp/s/minato/search';
    const r = await exportStaticSite(
      { request: (u, init) => p.app.request(u, init), sites: () => cms.sites.all(), defaultBaseUrl: tp().baseUrl },
      { siteKey: 'minato', outDir: dir, baseUrl: 'https://www.minato.example.jp', searchUrl },
    );
    expect(r.pages).toBeGreaterThanOrEqual(3);
    for (const f of ['index.html', 'guide/index.html', 'guide/port/index.html', 'sitemap.xml', 'feed.xml']) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(existsSync(join(dir, 's'))).toBe(false);
    expect(brokenLinks(dir)).toEqual([]);
    const port = readFileSync(join(dir, 'guide/port/index.html'), 'utf8');
    expect(port).not.toContain('"/s/minato');
    expect(port).toContain('href="/guide/"');
    expect(port).toContain(`action="${searchUrl}"`);
    const sitemap = readFileSync(join(dir, 'sitemap.xml'), 'utf8');
    expect(sitemap).toContain('<loc>https://www.minato.example.jp/guide/port</loc>');
    expect(sitemap).not.toContain('/s/minato');
    // The other site (あおば市, at the root of the same host) is not part of this copy, nor the reverse.
    expect(walk(dir).some((f) => f.startsWith('kurashi'))).toBe(false);
    expect(walk(out).some((f) => f.startsWith('s/'))).toBe(false);
  });

  it.skipIf(!findNginx())('nginx serves the copy with clean addresses and the site 404 page', async () => {
    const nginx = await startNginx(out);
    expect(nginx).not.toBeNull();
    try {
      for (const path of ['/', '/kurashi/', '/kurashi/gomi', '/sitemap', '/feed.xml']) {
        const res = await fetch(`${nginx!.url}${path}`, { redirect: 'manual' });
        expect(res.status, path).toBe(200);
        await res.arrayBuffer();
      }
      expect(await (await fetch(`${nginx!.url}/kurashi/gomi`)).text()).toContain('ごみの出し方と収集日');
      const missing = await fetch(`${nginx!.url}/kurashi/old-notice`);
      expect(missing.status).toBe(404);
      expect(await missing.text()).toContain('あおば市');
      expect((await fetch(`${nginx!.url}/${MANIFEST_FILE}`)).status).toBe(404);
    } finally {
      await nginx!.stop();
    }
  });
});
