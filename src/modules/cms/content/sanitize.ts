import sanitizeHtml from 'sanitize-html';
import { DomUtils, ElementType, parseDocument } from 'htmlparser2';

/**
 * Page bodies are written by staff in a WYSIWYG editor or pasted from Word, then shown on the
 * public site. Everything that reaches a page body goes through `sanitizeBody`: an allow-list of
 * the elements a municipal page needs, each attribute checked by this module before sanitize-html
 * checks it again (two independent layers, so a bug in one is not an XSS).
 */

export interface SanitizeOptions {
  /**
   * Extra iframe hosts (exact host names, HTTPS only) besides YouTube and Vimeo, e.g. a
   * prefecture's map service. Only `src`, `title` and `loading="lazy"` are kept on such iframes.
   */
  allowEmbedsFrom?: string[];
}

/** Classes editors may pick from the editor's style menu; everything else is dropped. */
export const ALLOWED_CLASSES = ['lead', 'note', 'important'] as const;

const ALLOWED_TAGS = [
  'p', 'div', 'h2', 'h3', 'h4', 'h5', 'h6',
  'strong', 'em', 'u', 's', 'sub', 'sup', 'br', 'hr',
  'ul', 'ol', 'li', 'blockquote', 'a', 'img', 'figure', 'figcaption',
  'table', 'caption', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td',
  'iframe',
];

// Presentational and legacy spellings of allowed elements. h1 is the page title, so a body h1
// becomes h2 and the outline under the title stays valid.
const RENAME: Record<string, string> = { h1: 'h2', b: 'strong', i: 'em', strike: 's', del: 's' };

// Elements whose text must not leak into the page when the element itself is dropped.
const NON_TEXT_TAGS = [
  'script', 'style', 'textarea', 'option', 'select', 'noscript', 'noembed', 'noframes',
  'title', 'xmp', 'plaintext', 'template', 'object', 'applet', 'head', 'xml',
];

const YOUTUBE_HOSTS = new Set([
  'youtube.com', 'www.youtube.com', 'm.youtube.com',
  'youtube-nocookie.com', 'www.youtube-nocookie.com', 'youtu.be',
]);
const VIMEO_HOSTS = new Set(['vimeo.com', 'www.vimeo.com', 'player.vimeo.com']);
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'tel']);
const DIGITS = /^\d{1,5}$/;
const SPAN = /^[1-9]\d{0,2}$/;
const SCOPES = new Set(['row', 'col', 'rowgroup', 'colgroup']);

type Attrs = Record<string, string>;

/**
 * Strips what browsers strip before parsing a URL: leading/trailing C0 controls and spaces, and
 * tabs/newlines anywhere (`jav&#x09;ascript:` is `javascript:` to a browser).
 */
function urlAsBrowserSeesIt(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\t\n\r]/g, '').replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '');
}

/**
 * A link target an editor may use: http(s), mailto, tel, a site-relative path or an in-page
 * fragment. Anything else (javascript:, data:, vbscript:, protocol-relative `//host`, `/\host`,
 * bare relative paths whose meaning depends on the page URL) is refused.
 */
function safeHref(raw: string): string | null {
  const v = urlAsBrowserSeesIt(raw);
  if (v === '') return null;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(v)) return null;
  if (v.startsWith('#')) return v;
  if (v.startsWith('/')) return /^\/[/\\]/.test(v) ? null : v;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(v);
  if (!m || !SAFE_SCHEMES.has(m[1]!.toLowerCase())) return null;
  if (/^https?:/i.test(v)) {
    try {
      const u = new URL(v);
      if (!u.hostname) return null;
    } catch {
      return null;
    }
  }
  return v;
}

const SITE = 'https://site.invalid';

/** Image sources: absolute http(s), or the site's own media library under /media/. */
function safeImgSrc(raw: string): string | null {
  const v = urlAsBrowserSeesIt(raw);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(v)) return null;
  if (v.startsWith('/')) {
    // Resolve as the browser would, so /media/../admin or /media/%2e%2e/ cannot point a GET
    // at another part of the site.
    try {
      const u = new URL(v, SITE);
      return u.origin === SITE && v.startsWith('/media/') && u.pathname.startsWith('/media/') ? v : null;
    } catch {
      return null;
    }
  }
  if (!/^https?:\/\//i.test(v)) return null;
  try {
    return new URL(v).hostname ? v : null;
  } catch {
    return null;
  }
}

/** YouTube's `t=1m30s` / `start=90` as whole seconds. */
function startSeconds(u: URL): number | null {
  const t = u.searchParams.get('start') ?? u.searchParams.get('t');
  if (!t) return null;
  if (/^\d+s?$/.test(t)) return Number.parseInt(t, 10);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(t);
  if (!m || t === '') return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/**
 * Turns any YouTube or Vimeo address an editor might paste (watch page, short link, embed code)
 * into the one embed URL we allow; YouTube always goes through youtube-nocookie.com so the page
 * sets no tracking cookies before the resident presses play.
 *
 * @example
 * embedUrl('https://youtu.be/dQw4w9WgXcQ?t=42') // 'https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=42'
 */
export function embedUrl(raw: string, extraHosts: readonly string[] = []): string | null {
  let v = urlAsBrowserSeesIt(raw);
  if (v.startsWith('//')) v = `https:${v}`;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  if (u.username || u.password || u.port) return null;
  const host = u.hostname.toLowerCase();
  if (YOUTUBE_HOSTS.has(host)) {
    let id: string | null | undefined = null;
    if (host === 'youtu.be') id = u.pathname.split('/')[1];
    else if (u.pathname === '/watch') id = u.searchParams.get('v');
    else id = /^\/(?:embed|shorts|live)\/([^/]+)\/?$/.exec(u.pathname)?.[1];
    if (!id || !/^[A-Za-z0-9_-]{11}$/.test(id)) return null;
    const start = startSeconds(u);
    return `https://www.youtube-nocookie.com/embed/${id}${start ? `?start=${start}` : ''}`;
  }
  if (VIMEO_HOSTS.has(host)) {
    const m = host === 'player.vimeo.com'
      ? /^\/video\/(\d{1,12})\/?$/.exec(u.pathname)
      : /^\/(\d{1,12})(?:\/([0-9a-f]{1,20}))?\/?$/.exec(u.pathname);
    if (!m) return null;
    // Unlisted videos need their privacy hash.
    const h = m[2] ?? u.searchParams.get('h');
    return `https://player.vimeo.com/video/${m[1]}${h && /^[0-9a-f]{1,20}$/.test(h) ? `?h=${h}` : ''}`;
  }
  if (u.protocol === 'https:' && extraHosts.some((h) => h.toLowerCase() === host)) return u.href;
  return null;
}

function isDecorative(a: Attrs): boolean {
  const d = a['data-decorative'];
  const role = a.role?.trim().toLowerCase();
  return (d !== undefined && d.toLowerCase() !== 'false') || role === 'presentation' || role === 'none';
}

/**
 * First layer: rebuilds each element's attributes from scratch, keeping only what that element
 * may carry and only values that pass this module's own checks.
 */
function filterAttributes(tag: string, a: Attrs, extraHosts: readonly string[]): Attrs {
  const out: Attrs = {};
  switch (tag) {
    case 'a': {
      const href = a.href === undefined ? null : safeHref(a.href);
      if (href !== null) out.href = href;
      // A new window must not get a handle on this page (reverse tabnabbing).
      if (href !== null && a.target?.trim().toLowerCase() === '_blank') {
        out.target = '_blank';
        out.rel = 'noopener';
      }
      break;
    }
    case 'img': {
      const src = a.src === undefined ? null : safeImgSrc(a.src);
      if (src !== null) out.src = src;
      const alt = a.alt;
      // alt is never invented: missing or unexplained empty alt stays missing so the
      // accessibility check blocks approval until the editor writes one.
      if (alt !== undefined && alt.trim() !== '') out.alt = alt;
      else if (isDecorative(a)) {
        out.alt = '';
        out['data-decorative'] = 'true';
      }
      if (a.width !== undefined && DIGITS.test(a.width.trim())) out.width = a.width.trim();
      if (a.height !== undefined && DIGITS.test(a.height.trim())) out.height = a.height.trim();
      break;
    }
    case 'th':
    case 'td': {
      const scope = a.scope?.trim().toLowerCase();
      if (tag === 'th' && scope && SCOPES.has(scope)) out.scope = scope;
      for (const k of ['colspan', 'rowspan'] as const) {
        const n = a[k]?.trim();
        if (n && SPAN.test(n) && n !== '1') out[k] = n;
      }
      break;
    }
    case 'iframe': {
      const src = a.src === undefined ? null : embedUrl(a.src, extraHosts);
      if (src !== null) out.src = src;
      const title = a.title?.trim();
      if (title) out.title = title;
      out.loading = 'lazy';
      break;
    }
    case 'figure': {
      // The editor's video block: <figure class="video-embed" data-youtube="ID"><iframe …></figure>.
      // Kept so the stored body parses back into the same block when it is edited again.
      if ((a.class ?? '').split(/\s+/).includes('video-embed')) out.class = 'video-embed';
      const id = a['data-youtube']?.trim();
      if (id && /^[A-Za-z0-9_-]{11}$/.test(id)) out['data-youtube'] = id;
      break;
    }
    case 'p':
    case 'div': {
      const classes = (a.class ?? '').split(/\s+/).filter((c) => (ALLOWED_CLASSES as readonly string[]).includes(c));
      if (classes.length > 0) out.class = [...new Set(classes)].join(' ');
      break;
    }
    default:
      break;
  }
  return out;
}

function sanitizeOptions(opts: SanitizeOptions): sanitizeHtml.IOptions {
  const extraHosts = (opts.allowEmbedsFrom ?? []).map((h) => h.trim().toLowerCase()).filter(Boolean);
  // How many iframes the parser is inside; an embed has no children, so anything there goes.
  let iframeDepth = 0;
  return {
    onOpenTag: (name) => {
      if (name === 'iframe') iframeDepth++;
    },
    onCloseTag: (name) => {
      if (name === 'iframe') iframeDepth = Math.max(0, iframeDepth - 1);
    },
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      a: ['href', 'target', 'rel'],
      img: ['src', 'alt', 'width', 'height', 'data-decorative'],
      th: ['scope', 'colspan', 'rowspan'],
      td: ['colspan', 'rowspan'],
      iframe: ['src', 'title', 'loading'],
      p: ['class'],
      div: ['class'],
      figure: ['class', 'data-youtube'],
    },
    allowedClasses: { p: [...ALLOWED_CLASSES], div: [...ALLOWED_CLASSES], figure: ['video-embed'] },
    allowedStyles: {},
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: ['http', 'https'], iframe: ['https'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    // sanitize-html's default allowedEmptyAttributes (['alt']) keeps a decorative image's alt="".
    allowProtocolRelative: false,
    allowedIframeHostnames: ['www.youtube-nocookie.com', 'player.vimeo.com', ...extraHosts],
    allowIframeRelativeUrls: false,
    allowVulnerableTags: false,
    disallowedTagsMode: 'discard',
    nonTextTags: NON_TEXT_TAGS,
    // Bounds the work a hostile, absurdly nested document can cause; real pages nest < 20.
    nestingLimit: 200,
    transformTags: {
      '*': (tagName, attribs) => {
        const tag = RENAME[tagName] ?? tagName;
        return { tagName: tag, attribs: filterAttributes(tag, attribs, extraHosts) };
      },
    },
    // An iframe's children are only ever fallback text; an embed has none.
    textFilter: (text, tagName) => (tagName === 'iframe' ? '' : text),
    exclusiveFilter: (frame) => {
      if (iframeDepth > 0) return true;
      // A link without a usable target is just text; an image or embed without one is nothing.
      if (frame.tag === 'a' && !frame.attribs.href) return 'excludeTag';
      if ((frame.tag === 'img' || frame.tag === 'iframe') && !frame.attribs.src) return true;
      return false;
    },
  };
}

/**
 * Sanitises a page body from the editor: keeps an allow-list of semantic elements and safe
 * attributes, demotes h1 to h2, adds `rel="noopener"` to new-window links, turns YouTube/Vimeo
 * links in iframes into privacy-friendly embeds, and drops everything else (scripts, styles,
 * event handlers, forms, SVG/MathML, comments, dangerous URLs).
 *
 * @example
 * sanitizeBody('<h1>お知らせ</h1><p onclick="x()">本文</p><script>alert(1)</script>')
 * // '<h2>お知らせ</h2><p>本文</p>'
 */
export function sanitizeBody(html: string, opts: SanitizeOptions = {}): string {
  return sanitizeHtml(html, sanitizeOptions(opts)).trim();
}

// ---------------------------------------------------------------------------------------------
// Word / Excel paste
// ---------------------------------------------------------------------------------------------

type WordDoc = ReturnType<typeof parseDocument>;
type WNode = WordDoc['children'][number];
type WElement = Parameters<typeof DomUtils.getAttributeValue>[0];

const VOID = new Set(['br', 'hr', 'img']);
// Word's namespaced and head-only elements carry no content worth keeping.
const DROP_WITH_CONTENT = new Set(['head', 'style', 'script', 'meta', 'link', 'title', 'xml', 'o:p', 'object']);
const BLOCKS = new Set(['p', 'div', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'li', 'td', 'th', 'caption', 'blockquote', 'figcaption']);
// Whitespace next to these is source formatting, not text.
const BLOCK_LEVEL = new Set([...BLOCKS, 'table', 'thead', 'tbody', 'tfoot', 'tr', 'col', 'colgroup', 'ul', 'ol', 'hr', 'html', 'head', 'body']);

/** Bullets Japanese documents use; ※ is deliberately absent — it marks a note, not a list. */
const BULLET = /^[\s\u00a0\u3000]*([・･•●○◦◎■□◆◇▪▫‣⁃－＊]|[\uf0a7\uf0b7\uf06e\uf0d8\uf076])[\s\u00a0\u3000]*/;
// 1.  １．  1)  (1)  （１）  ①
const NUMBER = /^[\s\u00a0\u3000]*(?:[0-9０-９]{1,3}(?:[.．](?![0-9０-９])|[)）])|[（(][0-9０-９]{1,3}[)）]|[①-⑳])[\s\u00a0\u3000]*/;
// Word's generated list markers that mean numbering: 1.  (1)  a)  ア.  一、  ①  ⅰ.
const NUMBER_MARKER = /^(?:[（(]?[0-9０-９]{1,3}[.．)）、]?|[（(]?[a-zA-Zａ-ｚア-ンⅰ-ⅻⅠ-Ⅻ一二三四五六七八九十]{1,3}[.．)）、]|[①-⑳])$/;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escAttr = (s: string): string => esc(s).replace(/"/g, '&quot;');

function attr(el: WElement, name: string): string {
  return DomUtils.getAttributeValue(el, name) ?? '';
}

type WText = Extract<WNode, { type: typeof ElementType.Text }>;
type WComment = Extract<WNode, { type: typeof ElementType.Comment }>;

function isTag(n: WNode): n is WNode & WElement {
  return ElementType.isTag(n);
}

function isText(n: WNode): n is WText {
  return n.type === ElementType.Text;
}

function isComment(n: WNode): n is WComment {
  return n.type === ElementType.Comment;
}

function isListMarkerComment(n: WNode): boolean {
  return isComment(n) && /^\[if\s+!supportLists\]$/i.test(n.data.trim());
}

function isEndifComment(n: WNode): boolean {
  return isComment(n) && /^\[endif\]$/i.test(n.data.trim());
}

interface ListItem {
  kind: 'ul' | 'ol';
  level: number;
  html: string;
}

/**
 * A Word list paragraph: class MsoListParagraph* or an `mso-list: l0 level2 lfo1` style.
 * Returns its nesting level, or null.
 */
function wordListLevel(el: WElement): number | null {
  const cls = attr(el, 'class');
  const style = attr(el, 'style');
  const m = /mso-list:\s*l\d+\s+level(\d+)/i.exec(style);
  if (m) return Number(m[1]);
  return /(^|\s)MsoListParagraph/i.test(cls) ? 1 : null;
}

/** Removes Word's generated marker (bullet glyph or number) and says which list kind it meant. */
function takeMarker(el: WElement): { kind: 'ul' | 'ol' | null; rest: WNode[] } {
  const kids = [...el.children];
  let markerText = '';
  const rest: WNode[] = [];
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i]!;
    if (isListMarkerComment(k)) {
      let j = i + 1;
      for (; j < kids.length && !isEndifComment(kids[j]!); j++) markerText += DomUtils.textContent(kids[j]!);
      i = j;
      continue;
    }
    if (isTag(k) && /mso-list:\s*Ignore/i.test(attr(k, 'style'))) {
      markerText += DomUtils.textContent(k);
      continue;
    }
    // Word nests the Ignore span inside font spans; look one level down.
    const ignore = isTag(k) && k.name === 'span' ? DomUtils.findOne((e) => /mso-list:\s*Ignore/i.test(attr(e, 'style')), k.children, true) : null;
    if (isTag(k) && ignore) {
      markerText += DomUtils.textContent(ignore);
      DomUtils.removeElement(ignore);
      if (DomUtils.textContent(k).replace(/[\s\u00a0]/g, '') !== '') rest.push(k);
      continue;
    }
    rest.push(k);
  }
  const marker = markerText.replace(/[\s\u00a0]+/g, '');
  if (marker === '') return { kind: null, rest };
  // Anything else (・, ●, Symbol-font glyphs, Courier "o") is a bullet.
  return { kind: NUMBER_MARKER.test(marker) ? 'ol' : 'ul', rest };
}

/** Strips a typed "・" or "1." from the start of the paragraph's first text. */
function stripTypedMarker(nodes: readonly WNode[], re: RegExp): void {
  for (const n of nodes) {
    const t = firstText(n);
    if (!t) continue;
    t.data = t.data.replace(re, '');
    return;
  }
}

function firstText(n: WNode): WText | null {
  if (isText(n)) return n.data.replace(/[\s\u00a0]/g, '') === '' ? null : n;
  if (isTag(n)) {
    for (const c of n.children) {
      const t = firstText(c);
      if (t) return t;
    }
  }
  return null;
}

function typedMarker(text: string): { kind: 'ul' | 'ol'; re: RegExp; key: string } | null {
  const b = BULLET.exec(text);
  if (b && text.replace(BULLET, '').trim() !== '') return { kind: 'ul', re: BULLET, key: b[1]! };
  if (NUMBER.test(text) && text.replace(NUMBER, '').trim() !== '') return { kind: 'ol', re: NUMBER, key: 'n' };
  return null;
}

/** Nested `<ul>`/`<ol>` from flat items with levels; a level never jumps by more than one. */
function renderList(items: readonly ListItem[]): string {
  let html = '';
  // Kinds of the open lists, outermost first; the innermost always has an open <li>.
  const open: ('ul' | 'ol')[] = [];
  for (const item of items) {
    const level = Math.max(1, Math.min(item.level, open.length + 1));
    while (open.length > level) html += `</li></${open.pop()}>`;
    if (open.length === level) {
      if (open[level - 1] === item.kind) html += '</li>';
      else {
        html += `</li></${open.pop()}><${item.kind}>`;
        open.push(item.kind);
      }
    } else {
      html += `<${item.kind}>`;
      open.push(item.kind);
    }
    html += `<li>${item.html}`;
  }
  while (open.length > 0) html += `</li></${open.pop()}>`;
  return html;
}

// Characters between which Japanese text has no spaces (kana, kanji, CJK and full-width punctuation).
const CJK = '[\\u3000-\\u303f\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uff00-\\uffef]';
const CJK_LINE_BREAK = new RegExp(`(${CJK})[ \\t]*\\r?\\n[ \\t]*(?=${CJK})`, 'g');
const CJK_NBSP_RUN = new RegExp(`(${CJK})[ \\u00a0]*\\u00a0[ \\u00a0]*(?=${CJK})`, 'g');

/** Text with Word's layout noise removed: nbsp runs collapse, source line wraps disappear. */
function cleanText(s: string): string {
  return s
    // Word wraps its HTML source at ~80 columns; between Japanese characters that newline would
    // render as a stray space.
    .replace(CJK_LINE_BREAK, '$1')
    .replace(/(<br>)[ \t]*\r?\n[ \t]*/g, '$1')
    .replace(/[ \t]*\r?\n[ \t]*/g, ' ')
    // Runs of &nbsp; are Word's way of lining text up; Japanese needs no space at all there.
    .replace(CJK_NBSP_RUN, '$1')
    .replace(/[\u00a0 ]{2,}/g, ' ')
    .replace(/\u00a0/g, ' ');
}

function renderChildren(nodes: readonly WNode[]): string {
  let out = '';
  let list: ListItem[] = [];
  // Paragraphs whose first characters were typed by hand ("・", "1.") in normal paragraphs;
  // only a run of two or more becomes a list, a lone "・" line stays a paragraph.
  let typed: { kind: 'ul' | 'ol'; key: string; items: WElement[] } | null = null;

  const flushTyped = (): void => {
    if (!typed) return;
    if (typed.items.length >= 2) {
      const re = typed.kind === 'ul' ? BULLET : NUMBER;
      list.push(...typed.items.map((p) => {
        stripTypedMarker(p.children, re);
        return { kind: typed!.kind, level: 1, html: renderInline(p.children) };
      }));
    } else {
      for (const p of typed.items) out += renderList(list.splice(0)) + renderElement(p);
    }
    typed = null;
  };
  const flushList = (): void => {
    flushTyped();
    out += renderList(list);
    list = [];
  };

  for (const n of nodes) {
    // Only ASCII whitespace is source formatting; an &nbsp; is text for cleanText to judge.
    if (isText(n) && /^[ \t\r\n]*$/.test(n.data)) {
      const parent = n.parent;
      const inBlock = !parent || !isTag(parent as WNode) || BLOCK_LEVEL.has((parent as WElement).name);
      const nextToBlock = [n.prev, n.next].some((s) => (s ? isTag(s) && BLOCK_LEVEL.has(s.name) : inBlock));
      // Source line breaks between list paragraphs must not split the list either.
      if (nextToBlock || list.length > 0 || typed) continue;
    }
    if (isTag(n) && n.name === 'p') {
      const level = wordListLevel(n);
      if (level !== null) {
        flushTyped();
        const { kind, rest } = takeMarker(n);
        const text = DomUtils.textContent(rest);
        const t = kind ? null : typedMarker(text);
        if (t) stripTypedMarker(rest, t.re);
        list.push({ kind: kind ?? t?.kind ?? 'ul', level, html: renderInline(rest) });
        continue;
      }
      const t = typedMarker(DomUtils.textContent(n));
      if (t) {
        if (typed && (typed.kind !== t.kind || typed.key !== t.key)) flushTyped();
        typed ??= { kind: t.kind, key: t.key, items: [] };
        typed.items.push(n);
        continue;
      }
    }
    flushList();
    out += renderNode(n);
  }
  flushList();
  return out;
}

function renderInline(nodes: readonly WNode[]): string {
  return trimBlock(nodes.map(renderNode).join(''));
}

function trimBlock(html: string): string {
  return html.replace(/^(?:[\s\u3000]|<br>)+/, '').replace(/(?:[\s\u3000]|<br>)+$/, '');
}

function renderElement(el: WElement): string {
  const name = el.name.toLowerCase();
  if (DROP_WITH_CONTENT.has(name) || name.startsWith('v:') || name.startsWith('w:') || name.startsWith('m:')) return '';
  const style = attr(el, 'style');
  // Word's list marker when it was not caught as part of a list paragraph.
  if (/mso-list:\s*Ignore/i.test(style)) return '';
  if (name === 'br' && /page-break|mso-/i.test(style + attr(el, 'clear'))) return '';
  // Spans, fonts and smart tags (st1:…, o:…) carry only formatting: keep their content.
  if (name === 'span' || name === 'font' || name.includes(':') || name === 'html' || name === 'body') {
    return renderChildren(el.children);
  }
  if (name === 'a' && !attr(el, 'href')) return renderChildren(el.children);
  const kept: string[] = [];
  // sanitizeBody decides which of these each element may keep.
  for (const k of ['href', 'src', 'alt', 'title', 'target', 'colspan', 'rowspan', 'scope', 'width', 'height']) {
    const v = DomUtils.getAttributeValue(el, k);
    if (v !== undefined) kept.push(` ${k}="${escAttr(v)}"`);
  }
  if (VOID.has(name)) return `<${name}${kept.join('')}>`;
  let inner: string;
  if ((name === 'td' || name === 'th') && el.children.filter((c) => !(isText(c) && c.data.trim() === '')).length === 1) {
    // Word wraps each cell's content in a paragraph; a cell needs none.
    const only = el.children.find((c) => !(isText(c) && c.data.trim() === ''))!;
    inner = isTag(only) && only.name === 'p' ? renderInline(only.children) : renderChildren(el.children);
  } else {
    inner = renderChildren(el.children);
  }
  if (BLOCKS.has(name)) {
    inner = trimBlock(inner);
    // Word's blank "spacer" paragraphs.
    if (inner.replace(/<br>/g, '') === '' && name !== 'td' && name !== 'th') return '';
  }
  return `<${name}${kept.join('')}>${inner}</${name}>`;
}

function renderNode(n: WNode): string {
  if (isText(n)) return esc(n.data);
  if (isTag(n)) return renderElement(n);
  return '';
}

/**
 * Cleans HTML pasted from Microsoft Word or Excel — mso-* styles, `<o:p>`, conditional comments,
 * Mso* classes, meaningless spans, `&nbsp;` runs, blank spacer paragraphs, a `<p>` inside every
 * table cell — and turns Word's list paragraphs (and runs of paragraphs typed with "・" or "1.")
 * into real `<ul>`/`<ol>`. The result is then passed through `sanitizeBody`.
 *
 * @example
 * cleanWordHtml('<p class=MsoNormal><span style="mso-bidi-font-size:10.5pt">申請書<o:p></o:p></span></p>')
 * // '<p>申請書</p>'
 */
export function cleanWordHtml(html: string, opts: SanitizeOptions = {}): string {
  // Raw Windows clipboard data starts with a CF_HTML header ("Version:0.9 StartHTML:…"). The
  // StartFragment markers are not used to cut: Excel puts them inside <table>.
  const body = html.replace(/^\s*Version:\d[\s\S]*?(?=<)/, '');
  // `<!--[if gte mso 9]>…<![endif]-->` blocks hold Word-only XML and VML; drop them whole.
  const noConditionals = body.replace(/<!--\[if[^\]]*\]>[\s\S]*?<!\[endif\]-->/gi, '');
  const doc = parseDocument(noConditionals, { decodeEntities: true, lowerCaseTags: true });
  // Text is cleaned after spans are gone, so a source line break between two spans is seen with
  // the characters on both sides.
  return sanitizeBody(cleanText(renderChildren(doc.children)), opts);
}
