/**
 * A browsable static copy of one site. Pages are requested from the platform's own HTTP app
 * (`app.request`, no socket), starting at the top page, the HTML sitemap, sitemap.xml and the
 * feed, and every link found is followed, so whatever routes the site has (pages, categories,
 * events, maps, media, assets) end up in the copy without this file knowing them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Parser } from 'htmlparser2';
import type { Site } from '../sites.js';

/** The manifest written at the top of every export (and the mark of a directory we may replace). */
export const MANIFEST_FILE = 'export-manifest.json';
const USER_AGENT = 'machimado-export-static';

/** What the exporter needs from the platform: its HTTP app and the sites. */
export interface ExportDeps {
  request(url: string, init: RequestInit): Response | Promise<Response>;
  sites(): Promise<Site[]>;
  /** Used for absolute addresses when neither the site nor the caller names a host. */
  defaultBaseUrl: string;
}

export interface StaticExportOptions {
  siteKey: string;
  outDir: string;
  /** Where the copy will be published, for absolute addresses (sitemap.xml, feed, canonical). */
  baseUrl?: string;
  /** The live site's search address; without it the search form becomes a note. */
  searchUrl?: string;
  /**
   * Where the application itself answers (forms, paged lists, the language switch, other sites):
   * links the copy cannot serve point there. Defaults to the base URL.
   */
  liveUrl?: string;
  onProgress?(p: { done: number; pending: number; url: string }): void;
}

export interface ExportedFile {
  /** Address inside the copy, e.g. /kurashi/gomi */
  url: string;
  /** Relative file name, e.g. kurashi/gomi/index.html */
  file: string;
  type: string;
  bytes: number;
  sha256: string;
}

export interface SkippedUrl {
  url: string;
  reason: string;
  from: string | null;
}

export interface StaticExportResult {
  outDir: string;
  site: { key: string; name: string };
  baseUrl: string;
  pages: number;
  files: number;
  bytes: number;
  seconds: number;
  skipped: SkippedUrl[];
}

/** A failure with the exit code the command should end with (64 usage, 73 output, 1 export). */
export class StaticExportError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

type LinkKind = 'nav' | 'resource';

interface QueueItem {
  path: string;
  /** A resource's query (cache busting such as theme.css?v=…) is sent; the file keeps the path. */
  search?: string;
  kind: LinkKind;
  from: string | null;
  /** Seeds that may be missing (robots.txt) are not reported when absent. */
  optional?: boolean;
}

/**
 * Writes a static copy of the site to `outDir`, atomically: everything goes to a temporary
 * directory beside it, which replaces `outDir` only when complete. An existing `outDir` must be
 * empty or a previous export (it has export-manifest.json).
 * @example await exportStaticSite(deps, { siteKey: 'aoba', outDir: '/srv/static/aoba', baseUrl: 'https://www.city.aoba.example.jp' })
 */
export async function exportStaticSite(deps: ExportDeps, opts: StaticExportOptions): Promise<StaticExportResult> {
  const started = performance.now();
  const sites = await deps.sites();
  const site = sites.find((s) => s.key === opts.siteKey);
  if (!site) {
    const known = sites.map((s) => s.key).join(', ') || '（なし / none）';
    throw new StaticExportError(`サイト「${opts.siteKey}」が見つかりません / unknown site key: ${opts.siteKey}\n登録済みのサイト / known sites: ${known}`, 64);
  }
  const base = absoluteUrl(opts.baseUrl ?? (site.host ? `https://${site.host}` : deps.defaultBaseUrl), '--base-url');
  if (base.pathname !== '/' || base.search || base.hash) {
    throw new StaticExportError(`--base-url にはパスを含めないでください（例: https://www.city.example.lg.jp） / --base-url must be an origin; the copy is served at the root of its host`, 64);
  }
  const searchUrl = opts.searchUrl === undefined ? null : absoluteUrl(opts.searchUrl, '--search-url').toString();
  const live = opts.liveUrl === undefined ? base.origin : absoluteUrl(opts.liveUrl, '--live-url').origin;
  const origin = base.origin;
  const prefix = site.pathPrefix;
  // A host-bound site answers only to its own host; a host-less one to any host no site is bound to.
  const hostHeader = site.host ?? (sites.some((s) => s.host === base.host) ? 'export.invalid' : base.host);

  const outDir = resolve(opts.outDir);
  checkTarget(outDir);
  const temp = join(dirname(outDir), `.${basename(outDir)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(temp, { recursive: true });
  } catch (e) {
    throw new StaticExportError(`${dirname(outDir)} に書き込めません / cannot write next to ${outDir}: ${(e as Error).message}`, 73);
  }

  // Sites answering the same requests under a longer path prefix own those addresses, not this one.
  const rivals = sites.filter((s) => s.id !== site.id && s.host === site.host && s.pathPrefix.length > prefix.length && s.pathPrefix.startsWith(prefix)).map((s) => s.pathPrefix);
  const links = new LinkRules(origin, prefix, rivals, live);
  const written = new Map<string, ExportedFile>();
  const skipped: SkippedUrl[] = [];
  const seen = new Set<string>();
  const queue: QueueItem[] = [];
  const enqueue = (item: QueueItem) => {
    if (seen.has(item.path)) return;
    seen.add(item.path);
    queue.push(item);
  };
  const skip = (url: string, reason: string, from: string | null) => {
    if (!skipped.some((s) => s.url === url)) skipped.push({ url, reason, from });
  };
  const follow = (found: FoundLink[], from: string, pageUrl: URL) => {
    for (const l of found) {
      const d = links.classify(l.url, pageUrl, l.kind);
      if (d.action === 'fetch') enqueue({ path: d.path, search: d.search, kind: l.kind, from });
      else if (d.action === 'skip') skip(d.url, d.reason, from);
    }
  };
  const write = (url: string, file: string, type: string, body: Buffer) => {
    if (written.has(file)) return;
    const target = join(temp, file);
    if (!target.startsWith(temp + sep)) return skip(url, 'outside the export directory', null);
    try {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, body, { flag: 'wx' });
    } catch (e) {
      return skip(url, `path conflict (${(e as NodeJS.ErrnoException).code ?? 'error'})`, null);
    }
    written.set(file, { url, file, type, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  };

  try {
    for (const p of ['/', '/sitemap', '/sitemap.xml', '/feed.xml']) enqueue({ path: `${prefix}${p}`, kind: 'nav', from: null });
    enqueue({ path: `${prefix}/robots.txt`, kind: 'resource', from: null, optional: true });

    let done = 0;
    while (queue.length) {
      const item = queue.shift()!;
      const url = new URL(`${item.path}${item.search ?? ''}`, origin);
      const res = await deps.request(url.toString(), { headers: { host: hostHeader, 'user-agent': USER_AGENT, accept: '*/*' }, redirect: 'manual' });
      done++;
      opts.onProgress?.({ done, pending: queue.length, url: item.path });
      const local = links.localPath(item.path);
      if (res.status >= 300 && res.status < 400) {
        const location = res.headers.get('location');
        const d = location ? links.classify(location, url, item.kind) : null;
        if (d?.action === 'fetch') {
          enqueue({ path: d.path, kind: item.kind, from: item.path });
          const file = fileFor(local, true);
          const to = links.localPath(d.path);
          if (file && file !== fileFor(to, true)) write(local, file, 'text/html; charset=utf-8', Buffer.from(redirectStub(to)));
        } else skip(item.path, `redirect (${res.status}) to ${location ?? '?'}`, item.from);
        continue;
      }
      if (res.status >= 500) throw new StaticExportError(`${item.path} の取得でサーバエラー（${res.status}）が起きました / server error`, 1);
      if (res.status !== 200) {
        if (!item.optional) skip(item.path, `HTTP ${res.status}`, item.from);
        await res.body?.cancel();
        continue;
      }
      const type = res.headers.get('content-type') ?? 'application/octet-stream';
      const body = Buffer.from(await res.arrayBuffer());
      const html = /^text\/html/i.test(type);
      const file = fileFor(local, html);
      if (!file) {
        skip(item.path, 'unusable file name', item.from);
        continue;
      }
      if (html) {
        const text = body.toString('utf8');
        follow(htmlLinks(text), item.path, url);
        write(local, file, type, Buffer.from(rewriteHtml(text, url, links, searchUrl)));
      } else if (/^text\/css/i.test(type)) {
        const text = body.toString('utf8');
        follow(cssLinks(text), item.path, url);
        write(local, file, type, Buffer.from(rewriteCss(text, url, links)));
      } else if (/xml|^text\//i.test(type)) {
        const text = body.toString('utf8');
        if (/xml/i.test(type)) follow(xmlLinks(text), item.path, url);
        write(local, file, type, Buffer.from(links.stripPrefixFromAbsolute(text)));
      } else {
        write(local, file, type, body);
      }
    }

    // The site's own "not found" page, for servers that show 404.html (nginx error_page, most CDNs).
    const missing = await deps.request(new URL(`${prefix}/.machimado-export-${randomBytes(6).toString('hex')}`, origin).toString(), { headers: { host: hostHeader, 'user-agent': USER_AGENT } });
    if (missing.status === 404 && /^text\/html/i.test(missing.headers.get('content-type') ?? '')) {
      write('/404.html', '404.html', missing.headers.get('content-type')!, Buffer.from(rewriteHtml(await missing.text(), base, links, searchUrl)));
    }

    const files = [...written.values()].sort((a, b) => a.file.localeCompare(b.file));
    const pages = files.filter((f) => /^text\/html/i.test(f.type) && f.file !== '404.html').length;
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    const seconds = (performance.now() - started) / 1000;
    const manifest = {
      generator: 'machimado export-static',
      format: 1,
      exportedAt: new Date().toISOString(),
      site: { key: site.key, name: site.name, pathPrefix: prefix },
      baseUrl: origin,
      searchUrl,
      layout: 'every page is <path>/index.html; other files keep their names',
      totals: { pages, files: files.length - pages, bytes, seconds: Number(seconds.toFixed(3)) },
      files,
      skipped,
    };
    writeFileSync(join(temp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    swapInto(temp, outDir);
    return { outDir, site: { key: site.key, name: site.name }, baseUrl: origin, pages, files: files.length - pages, bytes, seconds, skipped };
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    throw e;
  }
}

function absoluteUrl(value: string, flag: string): URL {
  try {
    const u = new URL(value);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u;
  } catch {
    // reported below
  }
  throw new StaticExportError(`${flag} には http:// または https:// で始まるURLを指定してください / ${flag} must be an absolute http(s) URL: ${value}`, 64);
}

/** The target may be missing, empty, or an earlier export; anything else is someone's data. */
function checkTarget(outDir: string): void {
  if (!existsSync(outDir)) return;
  if (!statSync(outDir).isDirectory()) throw new StaticExportError(`${outDir} はディレクトリではありません / not a directory`, 73);
  const entries = readdirSync(outDir);
  if (entries.length && !entries.includes(MANIFEST_FILE)) {
    throw new StaticExportError(`${outDir} には書き出し以外のファイルがあります。空のディレクトリか以前の書き出し先を指定してください / ${outDir} is not empty and not a previous export`, 73);
  }
}

/** Puts the finished copy in place: one rename, or two when an earlier export is replaced. */
function swapInto(temp: string, outDir: string): void {
  if (!existsSync(outDir)) return renameSync(temp, outDir);
  const old = join(dirname(outDir), `.${basename(outDir)}.old-${randomBytes(4).toString('hex')}`);
  renameSync(outDir, old);
  renameSync(temp, outDir);
  rmSync(old, { recursive: true, force: true });
}

/**
 * The file for an address inside the copy: folders and pages alike become `<path>/index.html`,
 * so `/kurashi/gomi` works on any static server (a directory redirect, or nginx's
 * `try_files $uri $uri/index.html`). Other files keep their names. null for unusable names.
 */
export function fileFor(localPath: string, html: boolean): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(localPath);
  } catch {
    return null;
  }
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..' || /[\0\\]/.test(s))) return null;
  const last = segments.at(-1);
  if (decoded.endsWith('/') || !last || (html && !/\.html?$/i.test(last))) segments.push('index.html');
  return segments.join('/');
}

/** The page left at an address the site redirects (e.g. `/kurashi` → `/kurashi/`): static hosts cannot send a 301. */
function redirectStub(to: string): string {
  const href = escapeAttr(to);
  return `<!doctype html>\n<html lang="ja"><head><meta charset="utf-8"><title>移動しました</title><meta http-equiv="refresh" content="0; url=${href}"><link rel="canonical" href="${href}"></head><body><p><a href="${href}">${href}</a> に移動しました。</p></body></html>\n`;
}

type Decision = { action: 'fetch'; path: string; search?: string } | { action: 'skip'; url: string; reason: string } | { action: 'ignore' };

/** Which addresses belong in the copy, and how a link is written there. */
class LinkRules {
  constructor(
    readonly origin: string,
    readonly prefix: string,
    private readonly rivals: string[] = [],
    readonly live: string = origin,
  ) {}

  private inSite(path: string): boolean {
    const under = (p: string) => p === '' || path === p || path.startsWith(`${p}/`);
    return under(this.prefix) && !this.rivals.some(under);
  }

  /** What only the live application can answer: the admin, the language switch, the search. */
  private dynamic(path: string): boolean {
    return path === '/admin' || path.startsWith('/admin/') || path.startsWith('/lang/') || path === `${this.prefix}/search`;
  }

  /** A link found on `pageUrl`: fetch it, note why not, or ignore it (outside this origin). */
  classify(raw: string, pageUrl: URL, kind: LinkKind): Decision {
    const u = parseLink(raw, pageUrl);
    if (!u || u.origin !== this.origin) return { action: 'ignore' };
    const path = u.pathname;
    if (this.dynamic(path)) return { action: 'ignore' };
    // A static server ignores the query: fine for a stylesheet's cache-busting version, not for a page.
    if (u.search && kind === 'nav') return { action: 'skip', url: `${path}${u.search}`, reason: 'query string: linked to the live site' };
    // Another site's pages stay on the live site; files (assets, media) come along.
    if (this.outside(path, kind)) return { action: 'skip', url: path, reason: 'outside this site: linked to the live site' };
    return { action: 'fetch', path, search: u.search };
  }

  private outside(path: string, kind: LinkKind): boolean {
    return !this.inSite(path) && kind === 'nav' && !hasFileExtension(path);
  }

  /** The same address on the live application. */
  liveUrl(u: URL): string {
    return `${this.live}${u.pathname}${u.search}${u.hash}`;
  }

  /** The address inside the copy: the site's path prefix taken away. */
  localPath(path: string): string {
    if (this.prefix && this.inSite(path)) return path.slice(this.prefix.length) || '/';
    return path;
  }

  /**
   * A link as written in the copy: relative ones become root-relative (a page served from its
   * directory would resolve them differently), the prefix is removed, and what stays on the live
   * site (admin, other sites) becomes absolute. Outside links are untouched.
   */
  map(raw: string, pageUrl: URL, kind: LinkKind): string {
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) return raw;
    const u = parseLink(trimmed, pageUrl);
    if (!u || u.origin !== this.origin) return raw;
    const absolute = /^[a-z][a-z0-9+.-]*:|^\/\//i.test(trimmed);
    const tail = `${u.search}${u.hash}`;
    const path = u.pathname;
    if (this.dynamic(path) || this.outside(path, kind) || (u.search !== '' && kind === 'nav')) return this.liveUrl(u);
    const local = `${this.localPath(path)}${tail}`;
    return absolute ? `${this.origin}${local}` : local;
  }

  /** In feeds and sitemaps: absolute addresses of the site without its prefix. */
  stripPrefixFromAbsolute(text: string): string {
    if (!this.prefix) return text;
    return text.split(`${this.origin}${this.prefix}/`).join(`${this.origin}/`).split(`${this.origin}${this.prefix}<`).join(`${this.origin}/<`);
  }
}

function parseLink(raw: string, base: URL): URL | null {
  const t = raw.trim();
  if (!t || /^(mailto|tel|javascript|data|blob):/i.test(t)) return null;
  try {
    return new URL(t, base);
  } catch {
    return null;
  }
}

function hasFileExtension(path: string): boolean {
  const last = path.split('/').at(-1) ?? '';
  return /\.[a-z0-9]{1,8}$/i.test(last) && !/\.html?$/i.test(last);
}

interface FoundLink {
  url: string;
  kind: LinkKind;
}

const RESOURCE_RELS = /\b(stylesheet|icon|preload|prefetch|manifest|apple-touch-icon|modulepreload)\b/i;
const IMAGE_META = /^(og:image|og:image:url|og:image:secure_url|og:video|og:audio|twitter:image)$/i;

/** Every address an HTML document refers to (links, images, scripts, styles, OGP images). */
export function htmlLinks(html: string): FoundLink[] {
  const out: FoundLink[] = [];
  const add = (url: string | undefined, kind: LinkKind) => {
    if (url) out.push({ url, kind });
  };
  const parser = new Parser(
    {
      onopentag(name, a) {
        if (name === 'a' || name === 'area') add(a.href, 'nav');
        else if (name === 'link') add(a.href, RESOURCE_RELS.test(a.rel ?? '') ? 'resource' : 'nav');
        else if (name === 'meta' && IMAGE_META.test(a.property ?? a.name ?? '')) add(a.content, 'resource');
        else if (name === 'object') add(a.data, 'resource');
        else {
          add(a.src, 'resource');
          add(a.poster, 'resource');
        }
        if (a.srcset) for (const part of a.srcset.split(',')) add(part.trim().split(/\s+/)[0], 'resource');
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return out;
}

const CSS_URL = /url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3/g;

export function cssLinks(css: string): FoundLink[] {
  const out: FoundLink[] = [];
  for (const m of css.matchAll(CSS_URL)) out.push({ url: (m[2] ?? m[4])!.trim(), kind: 'resource' });
  return out;
}

/** Addresses in sitemap.xml (`<loc>`) and Atom feeds (`href`). */
function xmlLinks(xml: string): FoundLink[] {
  const out: FoundLink[] = [];
  for (const m of xml.matchAll(/<loc>([^<]+)<\/loc>|\shref="([^"]+)"/g)) out.push({ url: decodeEntities((m[1] ?? m[2])!), kind: 'nav' });
  return out;
}

const URL_ATTRS = /(\s)(href|src|action|srcset|poster|content|data)(\s*=\s*)"([^"]*)"/gi;

/**
 * The HTML as the copy serves it: links mapped (see LinkRules.map); forms, which need the
 * application, sent to the live site (the site search to --search-url, or replaced by a note; a
 * form that posts, which needs a session, by a link to the same page on the live site); any
 * maintenance notice and CSP nonces removed (over, or meaningless, by the time the copy is read).
 */
function rewriteHtml(html: string, pageUrl: URL, links: LinkRules, searchUrl: string | null): string {
  const searchPath = `${links.prefix}/search`;
  let out = html.replace(/<form\b([^>]*)>[\s\S]*?<\/form>/gi, (form, attrs: string) => {
    const action = /\saction="([^"]*)"/i.exec(attrs)?.[1];
    const target = parseLink(action === undefined ? pageUrl.toString() : decodeEntities(action), pageUrl);
    if (!target || target.origin !== links.origin) return form;
    if (target.pathname === searchPath) {
      if (searchUrl) return setAction(form, searchUrl);
      return '<p class="site-search site-search--static">このページは静的な複製のため、サイト内検索は使えません。</p>';
    }
    if (/\smethod="post"/i.test(attrs)) {
      const here = escapeAttr(links.liveUrl(pageUrl));
      return `<p class="notice static-form-note">この手続きは<a href="${here}">公開中のサイトのこのページ</a>から行ってください。</p>`;
    }
    return setAction(form, links.liveUrl(target));
  });
  out = out.replace(/<div class="banner-maintenance"[^>]*>[\s\S]*?<\/div>/gi, '');
  // The request's CSP nonce means nothing in a file served to everyone.
  out = out.replace(/(<(?:script|style|link)\b[^>]*?)\snonce="[^"]*"/gi, '$1');
  return out.replace(/<([a-zA-Z][\w:-]*)(\s[^<>]*)>/g, (tag, name: string, attrs: string) => {
    const lower = name.toLowerCase();
    if (lower === 'form') return tag;
    const rewritten = attrs.replace(URL_ATTRS, (whole, space: string, attr: string, eq: string, value: string) => {
      const a = attr.toLowerCase();
      if (a === 'action') return whole;
      if (a === 'content' && (lower !== 'meta' || !decodeEntities(value).startsWith(`${links.origin}/`))) return whole;
      if (a === 'data' && lower !== 'object') return whole;
      const kind: LinkKind = a === 'href' && (lower === 'a' || lower === 'area' || (lower === 'link' && !RESOURCE_RELS.test(attrs))) ? 'nav' : 'resource';
      const decoded = decodeEntities(value);
      const mapped =
        a === 'srcset'
          ? decoded
              .split(',')
              .map((part) => {
                const [u, ...rest] = part.trim().split(/\s+/);
                return [links.map(u ?? '', pageUrl, 'resource'), ...rest].join(' ');
              })
              .join(', ')
          : links.map(decoded, pageUrl, kind);
      return mapped === decoded ? whole : `${space}${attr}${eq}"${escapeAttr(mapped)}"`;
    });
    return `<${name}${rewritten}>`;
  });
}

/** A form's opening tag with another action (added when it had none). */
function setAction(form: string, url: string): string {
  const open = form.slice(0, form.indexOf('>') + 1);
  const next = /\saction="[^"]*"/i.test(open) ? open.replace(/(\saction=")[^"]*(")/i, `$1${escapeAttr(url)}$2`) : open.replace(/^<form\b/i, `<form action="${escapeAttr(url)}"`);
  return next + form.slice(open.length);
}

function rewriteCss(css: string, url: URL, links: LinkRules): string {
  return css.replace(CSS_URL, (whole, q1: string | undefined, u1: string | undefined, q2: string | undefined, u2: string | undefined) => {
    const raw = (u1 ?? u2 ?? '').trim();
    if (/^data:/i.test(raw)) return whole;
    const mapped = links.map(raw, url, 'resource');
    if (mapped === raw) return whole;
    return u1 !== undefined ? `url(${q1 ?? ''}${mapped}${q1 ?? ''})` : `@import ${q2}${mapped}${q2}`;
  });
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|apos|lt|gt|#39);/gi, (m, e: string) => {
    const k = e.toLowerCase();
    if (k === 'amp') return '&';
    if (k === 'quot') return '"';
    if (k === 'apos' || k === '#39') return "'";
    if (k === 'lt') return '<';
    if (k === 'gt') return '>';
    const code = k.startsWith('#x') ? Number.parseInt(k.slice(2), 16) : Number.parseInt(k.slice(1), 10);
    return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
