/**
 * The rich-text editor, as progressive enhancement: every `<textarea data-editor="rich">` becomes a
 * TipTap editor with a keyboard-operable toolbar. The textarea stays in the form (hidden, kept in
 * sync on every change), so the form posts HTML whether or not this script runs. The server
 * sanitises whatever arrives; nothing here is a security boundary.
 *
 * The page's CSP allows no inline styles: TipTap's injected <style> is turned off (the rules live in
 * editor.css) and no node renders a style attribute.
 */
import { Editor, Node as TiptapNode, mergeAttributes } from '@tiptap/core';
import { StarterKit } from '@tiptap/starter-kit';
import { Image } from '@tiptap/extension-image';
import { Table, TableCell, TableHeader, TableRow } from '@tiptap/extension-table';
import { NodeSelection } from '@tiptap/pm/state';

// ---------------------------------------------------------------------------------------------
// Schema extensions
// ---------------------------------------------------------------------------------------------

/** Tables without the colgroup and the width style TipTap renders (CSP forbids style attributes). */
const PlainTable = Table.extend({
  renderHTML({ HTMLAttributes }) {
    const attrs: Record<string, unknown> = { ...mergeAttributes(this.options.HTMLAttributes, HTMLAttributes) };
    delete attrs.style;
    return ['table', attrs, ['tbody', 0]];
  },
});

/** Width and alignment are kept in the model (prosemirror-tables reads them) but never rendered. */
const hiddenCellAttributes = {
  colwidth: { default: null, rendered: false },
  align: { default: null, rendered: false },
};

const PlainTableCell = TableCell.extend({
  addAttributes() {
    return { ...this.parent?.(), ...hiddenCellAttributes };
  },
});

/** Header cells say which cells they head: scope="col" (the default) or "row". */
const ScopedTableHeader = TableHeader.extend({
  addAttributes() {
    return {
      ...this.parent?.(),
      ...hiddenCellAttributes,
      scope: {
        default: 'col',
        parseHTML: (el: HTMLElement) => (el.getAttribute('scope') === 'row' ? 'row' : 'col'),
        renderHTML: (attrs: Record<string, unknown>) => ({ scope: attrs.scope === 'row' ? 'row' : 'col' }),
      },
    };
  },
});

/** YouTube ids are 11 characters of [A-Za-z0-9_-]. */
const YOUTUBE_ID = /^[A-Za-z0-9_-]{11}$/;

/** The video id of a YouTube address (watch, youtu.be, embed, shorts, live), or null. */
export function youtubeId(input: string): string | null {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const host = url.hostname.replace(/^(www|m)\./, '');
  let id: string | null = null;
  if (host === 'youtu.be') id = url.pathname.slice(1).split('/')[0] ?? null;
  else if (host === 'youtube.com' || host === 'youtube-nocookie.com') {
    if (url.pathname === '/watch') id = url.searchParams.get('v');
    else {
      const m = /^\/(?:embed|shorts|live|v)\/([^/?#]+)/.exec(url.pathname);
      id = m?.[1] ?? null;
    }
  }
  return id && YOUTUBE_ID.test(id) ? id : null;
}

declare module '@tiptap/core' {
  interface Commands<ReturnType> {
    videoEmbed: {
      /** Inserts a YouTube video (privacy-enhanced embed) with a title for its frame. */
      insertVideoEmbed: (options: { videoId: string; title: string }) => ReturnType;
    };
  }
}

/**
 * An embedded YouTube video. The saved HTML is a figure holding a youtube-nocookie iframe with a
 * title; inside the editor it shows as a labelled placeholder, so editing loads nothing from YouTube.
 */
const VideoEmbed = TiptapNode.create({
  name: 'videoEmbed',
  group: 'block',
  atom: true,
  draggable: true,
  addAttributes() {
    return {
      videoId: { default: null, rendered: false },
      title: { default: '', rendered: false },
    };
  },
  parseHTML() {
    const fromIframe = (el: HTMLElement) => {
      const id = youtubeId(el.getAttribute('src') ?? '');
      return id ? { videoId: id, title: el.getAttribute('title') ?? '' } : false;
    };
    return [
      {
        tag: 'figure[data-youtube]',
        getAttrs: (el: HTMLElement) => {
          const id = el.getAttribute('data-youtube') ?? '';
          if (!YOUTUBE_ID.test(id)) return false;
          return { videoId: id, title: el.querySelector('iframe')?.getAttribute('title') ?? '' };
        },
      },
      { tag: 'iframe[src]', getAttrs: fromIframe },
    ];
  },
  renderHTML({ node }) {
    const id = String(node.attrs.videoId ?? '');
    return [
      'figure',
      { class: 'video-embed', 'data-youtube': id },
      [
        'iframe',
        {
          src: `https://www.youtube-nocookie.com/embed/${id}`,
          title: String(node.attrs.title ?? ''),
          loading: 'lazy',
          allow: 'encrypted-media; picture-in-picture; fullscreen',
          allowfullscreen: 'true',
          referrerpolicy: 'strict-origin-when-cross-origin',
        },
      ],
    ];
  },
  addNodeView() {
    return ({ node }) => {
      const dom = document.createElement('div');
      dom.className = 'rich-editor__video';
      dom.contentEditable = 'false';
      dom.textContent = `動画（YouTube）: ${String(node.attrs.title ?? '')}　https://youtu.be/${String(node.attrs.videoId ?? '')}`;
      return { dom };
    };
  },
  addCommands() {
    return {
      insertVideoEmbed:
        (options) =>
        ({ commands }) =>
          commands.insertContent({ type: this.name, attrs: options }),
    };
  },
});

// ---------------------------------------------------------------------------------------------
// Paste from Word
// ---------------------------------------------------------------------------------------------

export interface CleanResult {
  html: string;
  /** Images that could not come along (Word puts local file:// paths on the clipboard). */
  droppedImages: number;
}

const DROP_ELEMENTS = new Set(['STYLE', 'SCRIPT', 'META', 'LINK', 'TITLE', 'XML', 'OBJECT', 'EMBED', 'APPLET', 'NOSCRIPT', 'TEMPLATE', 'FORM', 'INPUT', 'BUTTON', 'SELECT', 'TEXTAREA', 'DEL', 'IFRAME', 'SVG', 'MATH', 'CANVAS', 'VIDEO', 'AUDIO']);
const UNWRAP_ELEMENTS = new Set(['SPAN', 'FONT', 'DIV', 'SECTION', 'ARTICLE', 'HEADER', 'FOOTER', 'MAIN', 'ASIDE', 'NAV', 'U', 'INS', 'CENTER', 'SMALL', 'BIG', 'SUP', 'SUB', 'MARK', 'ABBR', 'ACRONYM', 'CITE', 'DFN', 'KBD', 'SAMP', 'VAR', 'TIME', 'LABEL', 'FIGURE', 'FIGCAPTION', 'CAPTION', 'COLGROUP', 'COL', 'DL', 'DT', 'DD', 'ADDRESS']);
const KEEP_ATTRIBUTES: Record<string, string[]> = {
  A: ['href'],
  IMG: ['src', 'alt'],
  TD: ['colspan', 'rowspan'],
  TH: ['colspan', 'rowspan', 'scope'],
};
const BULLET_MARKERS = /^[o§Øü·•▪■□●○◆◇◦・\-–—*※➢►✓]$/u;
const ORDERED_MARKER = /^[(（]?(?:[0-9０-９]+|[a-zA-Zａ-ｚＡ-Ｚ]|[ivxlcdmIVXLCDM]+|[ア-ンｱ-ﾝ]|[①-⑳]|[ⅰ-ⅻⅠ-Ⅻ]|[一二三四五六七八九十]+)[.)．）、]?$/u;

function unwrap(el: Element): void {
  el.replaceWith(...Array.from(el.childNodes));
}

function isListParagraph(el: Element): boolean {
  if (el.tagName !== 'P' && !/^H[1-6]$/.test(el.tagName)) return false;
  const style = el.getAttribute('data-mm-style') ?? '';
  if (/mso-list\s*:\s*l\d+/i.test(style)) return true;
  return /MsoListParagraph/i.test(el.getAttribute('class') ?? '') && el.querySelector('[data-mm-list-marker]') !== null;
}

function listInfo(p: Element): { level: number; listId: string; ordered: boolean } {
  const style = p.getAttribute('data-mm-style') ?? '';
  const level = Number(/level(\d+)/i.exec(style)?.[1] ?? '1');
  const listId = /mso-list\s*:\s*(l\d+)/i.exec(style)?.[1] ?? 'l?';
  const markerEl = p.querySelector('[data-mm-list-marker]');
  const marker = (markerEl?.textContent ?? '').replace(/[\s\u00a0]+/g, '');
  markerEl?.remove();
  const ordered = marker !== '' && !BULLET_MARKERS.test(marker) && ORDERED_MARKER.test(marker);
  return { level: Number.isFinite(level) && level > 0 ? level : 1, listId, ordered };
}

/** Turns runs of Word list paragraphs (mso-list) into nested ul/ol. */
function convertWordLists(doc: Document): void {
  const paragraphs = Array.from(doc.body.querySelectorAll('p, h1, h2, h3, h4, h5, h6')).filter(isListParagraph);
  const done = new Set<Element>();
  for (const first of paragraphs) {
    if (done.has(first)) continue;
    const run: Element[] = [first];
    let next = first.nextElementSibling;
    while (next && isListParagraph(next)) {
      run.push(next);
      next = next.nextElementSibling;
    }
    let stack: Array<{ list: HTMLElement; level: number }> = [];
    let currentId = '';
    let anchor: Element = first;
    for (const p of run) {
      done.add(p);
      const info = listInfo(p);
      if (stack.length === 0 || info.listId !== currentId) {
        const list = doc.createElement(info.ordered ? 'ol' : 'ul');
        if (anchor === first) first.before(list);
        else anchor.after(list);
        anchor = list;
        stack = [{ list, level: info.level }];
        currentId = info.listId;
      }
      while (stack.length > 1 && stack[stack.length - 1]!.level > info.level) stack.pop();
      let top = stack[stack.length - 1]!;
      if (info.level > top.level) {
        let parentItem = top.list.lastElementChild;
        if (!parentItem) {
          parentItem = doc.createElement('li');
          top.list.append(parentItem);
        }
        const nested = doc.createElement(info.ordered ? 'ol' : 'ul');
        parentItem.append(nested);
        top = { list: nested, level: info.level };
        stack.push(top);
      }
      const li = doc.createElement('li');
      li.append(...Array.from(p.childNodes));
      top.list.append(li);
      p.remove();
    }
  }
}

/** A cell counts as bold when all its text sits inside b/strong (Word's usual header row). */
function allBold(cell: Element): boolean {
  const text = (cell.textContent ?? '').replace(/[\s\u00a0]+/g, '');
  if (!text) return false;
  const walker = cell.ownerDocument.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!(n.textContent ?? '').replace(/[\s\u00a0]+/g, '')) continue;
    if (!n.parentElement?.closest('b, strong')) return false;
  }
  return true;
}

function toHeaderCell(doc: Document, cell: Element): void {
  if (cell.tagName === 'TH') {
    if (!cell.getAttribute('scope')) cell.setAttribute('scope', 'col');
    return;
  }
  const th = doc.createElement('th');
  th.setAttribute('scope', 'col');
  for (const a of ['colspan', 'rowspan']) {
    const value = cell.getAttribute(a);
    if (value) th.setAttribute(a, value);
  }
  th.append(...Array.from(cell.childNodes));
  cell.replaceWith(th);
}

/** Header rows: Word's repeated header rows (thead), or a first row that is entirely bold. */
function markTableHeaders(doc: Document): void {
  for (const table of Array.from(doc.body.querySelectorAll('table'))) {
    const headRows = Array.from(table.querySelectorAll(':scope > thead > tr'));
    const firstRow = table.querySelector('tr');
    const rows = headRows.length > 0 ? headRows : firstRow && Array.from(firstRow.children).every(allBold) ? [firstRow] : [];
    for (const row of rows) for (const cell of Array.from(row.children)) toHeaderCell(doc, cell);
  }
}

function safeHref(href: string): boolean {
  const h = href.trim();
  if (h.startsWith('/') && !h.startsWith('//')) return true;
  if (h.startsWith('#')) return !/^#_/.test(h); // Word bookmarks (#_Toc…) go nowhere on the web
  return /^(https?:|mailto:|tel:)/i.test(h);
}

/**
 * Cleans HTML pasted from Word (and from web pages): drops conditional comments, Office XML
 * (o:p, v:…), Mso classes, styles, fonts and spans; turns Word's list paragraphs into lists and a
 * bold first table row into header cells; keeps headings, bold, italics, lists, tables and links.
 * A pasted h1 shifts every heading down one level (the page title is the only h1).
 */
export function cleanPastedHtml(input: string): CleanResult {
  const html = input
    // Word list markers: <!--[if !supportLists]-->1.<!--[endif]--> (and the <![if …]> form)
    .replace(/<!(?:--)?\[if !supportLists\](?:--)?>([\s\S]*?)<!(?:--)?\[endif\](?:--)?>/gi, '<span data-mm-list-marker="">$1</span>')
    // Downlevel-hidden conditional comments (VML, Office XML): dropped with what they hold
    .replace(/<!--\[if[^\]]*\]>[\s\S]*?<!\[endif\]-->/gi, '')
    // Downlevel-revealed markers: the content between is ordinary HTML
    .replace(/<!\[if[^\]]*\]>|<!\[endif\]>/gi, '')
    // Parsing happens under the page's CSP, which refuses inline styles: <style> elements go, and
    // style attributes are renamed (their mso-list and font-weight are read below, then dropped).
    .replace(/<style[\s\S]*?<\/style\s*>/gi, '')
    .replace(/<[a-zA-Z][^>]*>/g, (tag) => tag.replace(/(\s)style(\s*=)/gi, '$1data-mm-style$2'));
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const body = doc.body;
  let droppedImages = 0;

  const comments: ChildNode[] = [];
  const cw = doc.createTreeWalker(body, NodeFilter.SHOW_COMMENT);
  for (let n = cw.nextNode(); n; n = cw.nextNode()) comments.push(n as ChildNode);
  for (const c of comments) c.remove();

  for (const el of Array.from(body.querySelectorAll('*'))) {
    if (!el.isConnected) continue;
    const tag = el.tagName.toUpperCase();
    if (tag.includes(':')) {
      // o:p holds only a non-breaking space; v:shape and friends are drawings.
      if (/^(O:P|V:|W:DRAWING)/.test(tag) || tag.startsWith('V:')) {
        if (tag.startsWith('V:') && el.querySelector('img, [src]')) droppedImages++;
        el.remove();
      } else unwrap(el);
      continue;
    }
    if (DROP_ELEMENTS.has(tag)) el.remove();
  }

  // Bold and italics that Word or a web page expressed only as style
  for (const span of Array.from(body.querySelectorAll('span[data-mm-style], font[data-mm-style]'))) {
    const style = span.getAttribute('data-mm-style') ?? '';
    if (/font-weight\s*:\s*(bold|[6-9]00)/i.test(style) && !span.closest('b, strong, h1, h2, h3, h4, h5, h6, th')) {
      const strong = doc.createElement('strong');
      strong.append(...Array.from(span.childNodes));
      span.append(strong);
    }
    if (/font-style\s*:\s*italic/i.test(style) && !span.closest('i, em')) {
      const em = doc.createElement('em');
      em.append(...Array.from(span.childNodes));
      span.append(em);
    }
  }

  convertWordLists(doc);

  const headings = Array.from(body.querySelectorAll('h1, h2, h3, h4, h5, h6'));
  const shift = headings.some((h) => h.tagName === 'H1') ? 1 : 0;
  for (const h of headings) {
    const level = Math.min(4, Math.max(2, Number(h.tagName.slice(1)) + shift));
    if (`H${level}` === h.tagName) continue;
    const next = doc.createElement(`h${level}`);
    next.append(...Array.from(h.childNodes));
    h.replaceWith(next);
  }

  markTableHeaders(doc);
  // Header cells are bold already; Word's <b> inside them would only add noise.
  for (const b of Array.from(body.querySelectorAll('th b, th strong'))) unwrap(b);

  for (const img of Array.from(body.querySelectorAll('img'))) {
    const src = img.getAttribute('src') ?? '';
    if (!/^https?:\/\//i.test(src) && !(src.startsWith('/') && !src.startsWith('//'))) {
      droppedImages++;
      img.remove();
    }
  }
  for (const a of Array.from(body.querySelectorAll('a'))) {
    const href = a.getAttribute('href');
    if (!href || !safeHref(href)) unwrap(a);
  }
  // b/i are kept as they are; TipTap maps them to bold and italic.
  for (const el of Array.from(body.querySelectorAll('*'))) {
    if (UNWRAP_ELEMENTS.has(el.tagName.toUpperCase())) unwrap(el);
  }
  for (const el of Array.from(body.querySelectorAll('*'))) {
    const keep = KEEP_ATTRIBUTES[el.tagName.toUpperCase()] ?? [];
    for (const attr of Array.from(el.attributes)) if (!keep.includes(attr.name.toLowerCase())) el.removeAttribute(attr.name);
  }

  // Word's non-breaking spaces are layout, not meaning.
  const tw = doc.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  for (let n = tw.nextNode(); n; n = tw.nextNode()) {
    if (n.nodeValue && n.nodeValue.includes('\u00a0')) n.nodeValue = n.nodeValue.replace(/\u00a0/g, ' ');
  }
  // Empty paragraphs (Word's blank lines) and empty inline wrappers
  for (const el of Array.from(body.querySelectorAll('p, b, strong, i, em, h2, h3, h4')).reverse()) {
    if (!(el.textContent ?? '').trim() && !el.querySelector('img, br')) el.remove();
  }
  return { html: body.innerHTML.trim(), droppedImages };
}

// ---------------------------------------------------------------------------------------------
// Small DOM helpers
// ---------------------------------------------------------------------------------------------

type Attrs = Record<string, string | boolean | undefined>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...children);
  return el;
}

let uid = 0;
const nextId = (base: string) => `${base}-${++uid}`;

/** Phrases that say nothing about where a link goes (WCAG 2.4.4). */
const VAGUE_LINK_TEXT = /^(こちら|コチラ|ここ|ココ|此方|こちらから|こちらへ|こちらです|ここから|こちらをクリック|ここをクリック|クリック|クリックしてください|詳細|詳細は?こちら|詳しくは?こちら|くわしくは?こちら|リンク|link|here|click here|more|read more)[。．.！!）)]*$/i;

export function isVagueLinkText(text: string): boolean {
  return VAGUE_LINK_TEXT.test(text.trim().replace(/^[（(「]/, '').replace(/[」]$/, ''));
}

function normaliseHref(input: string): string | null {
  const h = input.trim();
  if (!h) return null;
  if (/^(https?:\/\/[^\s]+|mailto:[^\s]+|tel:[0-9+\-()]+)$/i.test(h)) return h;
  if (/^\/(?!\/)[^\s]*$/.test(h)) return h;
  if (/^#[A-Za-z][\w-]*$/.test(h)) return h;
  if (/^www\.[^\s]+$/i.test(h)) return `https://${h}`;
  return null;
}

/** A media library number becomes /media/<id>; otherwise an https URL or a site path. */
function normaliseImageSrc(input: string): string | null {
  const s = input.trim();
  if (/^\d+$/.test(s)) return `/media/${s}`;
  if (/^https?:\/\/[^\s]+$/i.test(s)) return s;
  if (/^\/(?!\/)[^\s]*$/.test(s)) return s;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Dialogs
// ---------------------------------------------------------------------------------------------

interface Field {
  wrap: HTMLDivElement;
  input: HTMLInputElement;
  error: HTMLSpanElement;
  hint?: HTMLSpanElement;
}

function field(label: string, opts: { hint?: string; type?: string; inputmode?: string; autocomplete?: string } = {}): Field {
  const id = nextId('rich-field');
  const input = h('input', { id, type: opts.type ?? 'text', inputmode: opts.inputmode, autocomplete: opts.autocomplete ?? 'off' });
  const error = h('span', { class: 'field__error', id: `${id}-error`, hidden: true });
  const hint = opts.hint ? h('span', { class: 'field__hint', id: `${id}-hint` }, opts.hint) : undefined;
  input.setAttribute('aria-describedby', [hint?.id, error.id].filter(Boolean).join(' '));
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), ...(hint ? [hint] : []), error, input);
  return { wrap, input, error, hint };
}

function setError(f: Field, message: string | null): void {
  f.error.textContent = message ?? '';
  f.error.hidden = !message;
  if (message) f.input.setAttribute('aria-invalid', 'true');
  else f.input.removeAttribute('aria-invalid');
}

interface RichDialog {
  dialog: HTMLDialogElement;
  form: HTMLFormElement;
  body: HTMLDivElement;
  submit: HTMLButtonElement;
  actions: HTMLDivElement;
  open(opener: HTMLElement, first: HTMLElement): void;
  close(): void;
}

function createDialog(title: string, submitLabel: string, onSubmit: () => boolean, onClose: (inserted: boolean) => void): RichDialog {
  const titleId = nextId('rich-dialog-title');
  const body = h('div', { class: 'rich-dialog__body' });
  const submit = h('button', { type: 'submit', class: 'button' }, submitLabel);
  const cancel = h('button', { type: 'button', class: 'button button--secondary' }, 'キャンセル');
  const actions = h('div', { class: 'rich-dialog__actions' }, submit, cancel);
  const form = h('form', { class: 'rich-dialog__form', novalidate: true }, h('h2', { id: titleId, class: 'rich-dialog__title' }, title), body, actions);
  const dialog = h('dialog', { class: 'rich-dialog', 'aria-labelledby': titleId }, form);
  document.body.append(dialog);
  let inserted = false;
  let opener: HTMLElement | null = null;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    if (onSubmit()) {
      inserted = true;
      dialog.close();
    }
  });
  cancel.addEventListener('click', () => dialog.close());
  // A modal dialog makes the page inert, but Tab would still leave for the browser's own controls:
  // keep it cycling inside the dialog.
  dialog.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const focusable = Array.from(dialog.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])')).filter(
      (el) => !(el as HTMLButtonElement).disabled && !el.closest('[hidden]') && el.getClientRects().length > 0,
    );
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  });
  dialog.addEventListener('close', () => {
    onClose(inserted);
    if (!inserted) opener?.focus();
  });
  return {
    dialog,
    form,
    body,
    submit,
    actions,
    open(from, first) {
      opener = from;
      inserted = false;
      dialog.showModal();
      first.focus();
    },
    close() {
      dialog.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Media library (in the image and link dialogs)
// ---------------------------------------------------------------------------------------------

/** Where the page editor's library lives; present only on admin pages that offer it. */
interface Library {
  listUrl: string;
  uploadUrl: string;
  siteId: string;
  csrf: () => string;
}

/** A file as the library lists it (see media/routes.tsx, pickerItem). */
export interface LibraryItem {
  id: number;
  kind: 'image' | 'document';
  name: string;
  title: string;
  alt: string;
  decorative: boolean;
  width: number | null;
  height: number | null;
  size: string;
  type: string;
  url: string;
  thumb: string | null;
  linkText: string | null;
}

function findLibrary(textarea: HTMLTextAreaElement): Library | null {
  const hook = textarea.dataset.mediaLibrary ? textarea : (textarea.form ?? document).querySelector<HTMLElement>('[data-media-library]');
  const listUrl = hook?.dataset.mediaLibrary;
  if (!hook || !listUrl) return null;
  return {
    listUrl,
    uploadUrl: hook.dataset.mediaUpload ?? '/admin/cms/media/upload',
    siteId: hook.dataset.mediaSite ?? '',
    csrf: () => textarea.form?.querySelector<HTMLInputElement>('input[name="_csrf"]')?.value ?? document.querySelector<HTMLInputElement>('input[name="_csrf"]')?.value ?? '',
  };
}

/** Library images are shown in the editor through the staff route, which serves drafts too. */
function staffImageSrc(src: string): string {
  const m = /^\/media\/(\d+)(\/.*)?$/.exec(src);
  return m ? `/admin/cms/media/${m[1]}${m[2] && m[2] !== '/' ? m[2] : '/original/'}` : src;
}

const IMAGE_ACCEPT = '.jpg,.jpeg,.png,.gif,.webp';
const DOCUMENT_ACCEPT = '.pdf,.docx,.xlsx,.pptx,.odt,.ods,.txt,.csv';

interface LibraryPanel {
  toggle: HTMLButtonElement;
  panel: HTMLDivElement;
  /** Closes the panel and clears what was typed (the dialog opens afresh). */
  reset(): void;
}

/**
 * The 「ライブラリから選ぶ」 part of a dialog: a disclosure button, a search field, the site's
 * files as buttons (thumbnail, name, alt text or type and size) and an upload field. Choosing or
 * uploading a file calls onPick; the dialog's own fields stay the place where alt text is required.
 */
function libraryPanel(lib: Library, kind: 'image' | 'document', extra: () => Record<string, string>, onPick: (item: LibraryItem) => void, announce: (m: string) => void): LibraryPanel {
  const panelId = nextId('rich-library');
  const toggle = h('button', { type: 'button', class: 'button button--secondary rich-library__toggle', 'aria-expanded': 'false', 'aria-controls': panelId }, kind === 'image' ? 'ライブラリから選ぶ' : 'ライブラリの文書から選ぶ');
  const search = field(kind === 'image' ? '画像を名前で探す' : '文書を名前で探す', { type: 'search' });
  const status = h('p', { class: 'rich-library__status', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'rich-library__list', 'aria-label': kind === 'image' ? '登録済みの画像' : '登録済みの文書' });
  const upload = field(kind === 'image' ? '新しい画像を登録' : '新しい文書を登録', {
    type: 'file',
    hint: kind === 'image' ? 'JPEG・PNG・GIF・WebP。SVG画像は中にプログラムを含められるため登録できません。位置情報（GPS）は自動で削除します。' : 'PDF・Word・Excel・PowerPoint・ODT・ODS・テキスト・CSV',
  });
  upload.input.accept = kind === 'image' ? IMAGE_ACCEPT : DOCUMENT_ACCEPT;
  const uploadButton = h('button', { type: 'button', class: 'button button--secondary' }, '登録して選ぶ');
  const panel = h('div', { class: 'rich-library', id: panelId, hidden: true }, search.wrap, status, list, h('div', { class: 'rich-library__upload' }, upload.wrap, uploadButton));

  const pick = (item: LibraryItem) => {
    onPick(item);
    panel.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
  };

  const render = (items: LibraryItem[], total: number) => {
    list.replaceChildren(
      ...items.map((item) => {
        const detail = kind === 'image' ? (item.decorative ? '装飾画像' : item.alt ? `代替テキスト: ${item.alt}` : '代替テキスト未設定') : `${item.type}・${item.size}`;
        const button = h(
          'button',
          { type: 'button', class: `rich-library__item${item.thumb ? '' : ' rich-library__item--text'}` },
          ...(item.thumb ? [h('img', { src: item.thumb, alt: '', width: '64', height: item.width && item.height ? String(Math.max(1, Math.round((64 * item.height) / item.width))) : '64' })] : []),
          h('span', { class: 'rich-library__name' }, item.title && kind === 'document' ? item.title : item.name),
          h('span', { class: 'rich-library__detail' }, detail),
        );
        button.addEventListener('click', () => pick(item));
        return h('li', {}, button);
      }),
    );
    status.textContent = total === 0 ? (kind === 'image' ? '該当する画像はありません。' : '該当する文書はありません。') : `${total}件${total > items.length ? `（新しい${items.length}件を表示）` : ''}`;
  };

  let requestNo = 0;
  const load = async () => {
    const mine = ++requestNo;
    status.textContent = '読み込み中…';
    try {
      const url = `${lib.listUrl}${lib.listUrl.includes('?') ? '&' : '?'}kind=${kind}&q=${encodeURIComponent(search.input.value.trim())}`;
      const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!res.ok) throw new Error(String(res.status));
      const data = (await res.json()) as { total: number; items: LibraryItem[] };
      if (mine === requestNo) render(data.items, data.total);
    } catch {
      if (mine === requestNo) status.textContent = 'ライブラリを読み込めませんでした。時間をおいてもう一度お試しください。';
    }
  };
  let timer = 0;
  search.input.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void load(), 250);
  });
  // Enter in the search field searches; it must not submit (insert) the dialog.
  search.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      void load();
    }
  });

  toggle.addEventListener('click', () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) {
      void load();
      search.input.focus();
    }
  });

  uploadButton.addEventListener('click', async () => {
    const file = upload.input.files?.[0];
    setError(upload, file ? null : 'ファイルを選んでください。');
    if (!file) {
      upload.input.focus();
      return;
    }
    const body = new FormData();
    body.set('_csrf', lib.csrf());
    body.set('siteId', lib.siteId);
    body.set('file', file);
    for (const [k, v] of Object.entries(extra())) body.set(k, v);
    uploadButton.disabled = true;
    status.textContent = '登録しています…';
    try {
      const res = await fetch(lib.uploadUrl, { method: 'POST', body, headers: { accept: 'application/json' }, credentials: 'same-origin' });
      const data = (await res.json().catch(() => ({}))) as { item?: LibraryItem; errors?: Record<string, string>; error?: string };
      if (res.ok && data.item) {
        upload.input.value = '';
        announce(`「${data.item.name}」を登録しました。`);
        pick(data.item);
        return;
      }
      const message = data.errors?.file ?? Object.values(data.errors ?? {})[0] ?? (res.status === 413 ? 'ファイルが大きすぎます。' : (data.error ?? '登録できませんでした。'));
      setError(upload, message);
      status.textContent = '';
      upload.input.focus();
    } catch {
      setError(upload, '登録できませんでした。通信の状態を確かめてください。');
    } finally {
      uploadButton.disabled = false;
    }
  });

  return {
    toggle,
    panel,
    reset() {
      panel.hidden = true;
      toggle.setAttribute('aria-expanded', 'false');
      search.input.value = '';
      upload.input.value = '';
      setError(upload, null);
      list.replaceChildren();
      status.textContent = '';
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The editor
// ---------------------------------------------------------------------------------------------

interface Tool {
  label: string;
  run: () => void;
  pressed?: () => boolean;
  enabled?: () => boolean;
  dialog?: boolean;
  group: string;
}

function enhance(textarea: HTMLTextAreaElement): void {
  if (textarea.dataset.editorReady) return;
  textarea.dataset.editorReady = '1';
  const baseId = textarea.id || nextId('rich');
  if (!textarea.id) textarea.id = baseId;

  const library = findLibrary(textarea);
  const label = document.querySelector<HTMLLabelElement>(`label[for="${CSS.escape(baseId)}"]`);
  if (label && !label.id) label.id = `${baseId}-label`;
  const labelText = (label?.textContent ?? '本文').trim();

  const helpId = `${baseId}-editor-help`;
  const help = h('p', { class: 'rich-editor__help', id: helpId }, 'Alt+F10 でツールバーへ、ツールバーで Esc を押すと本文へ戻ります。');
  const status = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const toolbar = h('div', { class: 'rich-editor__toolbar', role: 'toolbar', 'aria-label': `${labelText}の書式`, 'aria-controls': `${baseId}-editor` });
  const mount = h('div', { class: 'rich-editor__area' });
  const wrapper = h('div', { class: 'rich-editor' }, toolbar, mount, help, status);
  textarea.after(wrapper);
  textarea.classList.add('rich-editor__source');
  const required = textarea.required;
  textarea.required = false; // a hidden control cannot take the browser's "required" focus

  const announce = (message: string) => {
    status.textContent = '';
    // A fresh text node after clearing makes screen readers read repeated messages again.
    window.setTimeout(() => (status.textContent = message), 50);
  };

  let ready = false;
  const describedBy = [textarea.getAttribute('aria-describedby'), helpId].filter(Boolean).join(' ');
  const sync = () => {
    // TipTap keeps an empty paragraph after a final heading or table so there is somewhere to type;
    // it is not content.
    // (editor.isEmpty is no use here: it calls a document holding only an empty table empty.)
    textarea.value = editor.getHTML().replace(/(?:<p><\/p>)+$/, '');
  };

  const editor: Editor = new Editor({
    element: mount,
    injectCSS: false,
    content: textarea.value,
    extensions: [
      StarterKit.configure({
        heading: { levels: [2, 3, 4] },
        code: false,
        codeBlock: false,
        underline: false,
        link: { openOnClick: false, autolink: false, linkOnPaste: true, HTMLAttributes: { target: null, rel: null, class: null } },
      }),
      // A decorative image is marked as such, so the server's checker can tell it from a forgotten alt.
      Image.extend({
        addAttributes() {
          return {
            ...this.parent?.(),
            decorative: {
              default: false,
              parseHTML: (el: HTMLElement) => el.getAttribute('data-decorative') === 'true',
              renderHTML: (attrs: { decorative?: boolean }) => (attrs.decorative ? { 'data-decorative': 'true' } : {}),
            },
          };
        },
        // With the library, /media/… images are shown through the staff route (drafts are not public yet).
        addNodeView() {
          if (!library) return null;
          return ({ node }) => {
            const img = document.createElement('img');
            const show = (n: typeof node) => {
              img.src = staffImageSrc(String(n.attrs.src ?? ''));
              img.alt = String(n.attrs.alt ?? '');
              for (const a of ['width', 'height'] as const) {
                if (n.attrs[a]) img.setAttribute(a, String(n.attrs[a]));
                else img.removeAttribute(a);
              }
            };
            show(node);
            return {
              dom: img,
              update: (next) => {
                if (next.type !== node.type) return false;
                show(next);
                return true;
              },
            };
          };
        },
      }).configure({ inline: false, allowBase64: false }),
      PlainTable.configure({ resizable: false, View: null }),
      TableRow,
      ScopedTableHeader,
      PlainTableCell,
      VideoEmbed,
    ],
    editorProps: {
      attributes: {
        id: `${baseId}-editor`,
        class: 'rich-editor__content',
        role: 'textbox',
        'aria-multiline': 'true',
        ...(label ? { 'aria-labelledby': label.id } : { 'aria-label': labelText }),
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
        ...(required ? { 'aria-required': 'true' } : {}),
        ...(textarea.getAttribute('aria-invalid') ? { 'aria-invalid': 'true' } : {}),
        spellcheck: 'true',
      },
      transformPastedHTML(html) {
        if (!/urn:schemas-microsoft-com|mso-|class="?Mso|<o:p|<!--\[if|style=|<font/i.test(html)) return html;
        const cleaned = cleanPastedHtml(html);
        const from = /urn:schemas-microsoft-com|mso-|Mso/.test(html) ? 'Wordから' : '';
        announce(
          `${from}貼り付けた文章の書式を整えました。` +
            (cleaned.droppedImages > 0 ? `画像${cleaned.droppedImages}件は貼り付けられないため、「画像」ボタンから追加してください。` : ''),
        );
        return cleaned.html;
      },
    },
    onUpdate: () => {
      sync();
      refresh();
    },
    onSelectionUpdate: () => refresh(),
    onTransaction: () => refresh(),
  });
  textarea.form?.addEventListener('submit', sync);
  label?.addEventListener('click', (e) => {
    e.preventDefault();
    editor.commands.focus();
  });

  // ---- dialogs -------------------------------------------------------------------------------

  const linkUrl = field('リンク先のURL', { hint: '例: https://www.example.lg.jp/ または /kurashi/gomi/', inputmode: 'url' });
  const linkText = field('リンクの文字', { hint: 'リンク先の内容が分かる文字にします（例: 「ごみの出し方（PDF）」）。' });
  const linkWarning = h('p', { class: 'rich-dialog__warning', id: nextId('rich-link-warning'), hidden: true });
  linkText.input.setAttribute('aria-describedby', `${linkText.input.getAttribute('aria-describedby')} ${linkWarning.id}`);
  linkText.wrap.append(linkWarning);
  const updateLinkWarning = () => {
    const vague = isVagueLinkText(linkText.input.value);
    linkWarning.hidden = !vague;
    linkWarning.textContent = vague ? `「${linkText.input.value.trim()}」だけでは、どこへ移動するリンクか分かりません。リンク先の内容が分かる文字にしてください。` : '';
  };
  linkText.input.addEventListener('input', updateLinkWarning);
  const unlinkButton = h('button', { type: 'button', class: 'button button--secondary' }, 'リンクを解除');
  const linkDialog = createDialog(
    'リンクの挿入',
    '挿入する',
    () => {
      const href = normaliseHref(linkUrl.input.value);
      setError(linkUrl, href ? null : 'https:// で始まるURL、または / で始まるサイト内のパスを入力してください。');
      if (!href) {
        linkUrl.input.focus();
        return false;
      }
      const text = linkText.input.value.trim() || href;
      const chain = editor.chain().focus();
      if (editor.isActive('link')) chain.extendMarkRange('link');
      chain.insertContent({ type: 'text', text, marks: [{ type: 'link', attrs: { href } }] }).unsetMark('link').run();
      announce(`リンク「${text}」を挿入しました。`);
      return true;
    },
    (inserted) => {
      if (inserted) editor.commands.focus();
    },
  );
  linkDialog.body.append(linkUrl.wrap, linkText.wrap);
  const documents = library
    ? libraryPanel(
        library,
        'document',
        () => ({ title: linkText.input.value.trim() }),
        (item) => {
          linkUrl.input.value = item.url;
          linkText.input.value = item.linkText ?? item.name;
          setError(linkUrl, null);
          updateLinkWarning();
          announce(`「${linkText.input.value}」を選びました。リンクの文字を確かめて「挿入する」を押してください。`);
          linkText.input.focus();
        },
        announce,
      )
    : null;
  if (documents) linkDialog.body.prepend(documents.toggle, documents.panel);
  linkDialog.actions.append(unlinkButton);
  unlinkButton.addEventListener('click', () => {
    editor.chain().focus().extendMarkRange('link').unsetLink().run();
    announce('リンクを解除しました。');
    linkDialog.close();
    editor.commands.focus();
  });

  const imageSrc = field('画像のURLまたはメディア番号', { hint: 'メディアライブラリの番号（例: 123）か、https:// で始まるURL' });
  const imageAlt = field('代替テキスト', { hint: '画像が見えない人にも内容が伝わるように書きます（例: 「市役所本庁舎の外観」）。' });
  const decorativeId = nextId('rich-decorative');
  const decorative = h('input', { type: 'checkbox', id: decorativeId });
  const decorativeWrap = h('div', { class: 'checkbox field' }, decorative, h('label', { for: decorativeId }, '装飾のための画像（代替テキスト不要）'));
  const imageNeeds = h('p', { class: 'field__hint', id: nextId('rich-image-needs') }, '代替テキストを入力するか、「装飾のための画像」を選ぶと挿入できます。');
  const imageDialog = createDialog(
    '画像の挿入',
    '挿入する',
    () => {
      const src = normaliseImageSrc(imageSrc.input.value);
      setError(imageSrc, src ? null : 'メディア番号か、https:// で始まる画像のURLを入力してください。');
      if (!src) {
        imageSrc.input.focus();
        return false;
      }
      const alt = decorative.checked ? '' : imageAlt.input.value.trim();
      if (!alt && !decorative.checked) return false;
      // A library image keeps its size, so the page does not jump while it loads.
      const size = picked && picked.url === src && picked.width && picked.height ? { width: picked.width, height: picked.height } : {};
      editor.chain().focus().insertContent({ type: 'image', attrs: { src, alt, decorative: decorative.checked, ...size } }).run();
      // An image at the end stays selected, and the next thing typed or inserted would replace it: go on below it.
      if (editor.state.selection instanceof NodeSelection) editor.commands.createParagraphNear();
      announce(decorative.checked ? '装飾の画像を挿入しました。' : `画像「${alt}」を挿入しました。`);
      return true;
    },
    (inserted) => {
      if (inserted) editor.commands.focus();
    },
  );
  imageDialog.body.append(imageSrc.wrap, imageAlt.wrap, decorativeWrap);
  let picked: LibraryItem | null = null;
  const images = library
    ? libraryPanel(
        library,
        'image',
        (): Record<string, string> => (decorative.checked ? { decorative: '1' } : { alt: imageAlt.input.value.trim() }),
        (item) => {
          picked = item;
          imageSrc.input.value = item.url;
          setError(imageSrc, null);
          decorative.checked = item.decorative;
          imageAlt.input.value = item.decorative ? '' : item.alt;
          updateImageState();
          announce(`画像「${item.name}」を選びました。${item.decorative ? '装飾画像です。' : item.alt ? '代替テキストを確かめてください。' : '代替テキストを入力してください。'}`);
          (item.decorative ? decorative : imageAlt.input).focus();
        },
        announce,
      )
    : null;
  if (images) imageDialog.body.prepend(images.toggle, images.panel);
  imageDialog.actions.before(imageNeeds);
  imageDialog.submit.setAttribute('aria-describedby', imageNeeds.id);
  const updateImageState = () => {
    imageAlt.input.disabled = decorative.checked;
    const ready = imageSrc.input.value.trim() !== '' && (decorative.checked || imageAlt.input.value.trim() !== '');
    imageDialog.submit.disabled = !ready;
    imageNeeds.hidden = ready;
  };
  for (const el of [imageSrc.input, imageAlt.input, decorative]) {
    el.addEventListener('input', updateImageState);
    el.addEventListener('change', updateImageState);
  }

  const videoUrl = field('YouTubeのURL', { hint: '例: https://www.youtube.com/watch?v=xxxxxxxxxxx', inputmode: 'url' });
  const videoTitle = field('動画のタイトル', { hint: '動画の内容が分かる名前にします。読み上げソフトが読みます。' });
  const videoDialog = createDialog(
    '動画の埋め込み',
    '埋め込む',
    () => {
      const id = youtubeId(videoUrl.input.value);
      const title = videoTitle.input.value.trim();
      setError(videoUrl, id ? null : 'YouTubeの動画のURLを入力してください。');
      setError(videoTitle, title ? null : '動画のタイトルを入力してください。');
      if (!id) videoUrl.input.focus();
      else if (!title) videoTitle.input.focus();
      if (!id || !title) return false;
      editor.chain().focus().insertVideoEmbed({ videoId: id, title }).run();
      announce(`動画「${title}」を埋め込みました。`);
      return true;
    },
    (inserted) => {
      if (inserted) editor.commands.focus();
    },
  );
  videoDialog.body.append(videoUrl.wrap, videoTitle.wrap);

  // ---- toolbar -------------------------------------------------------------------------------

  const heading = (level: 2 | 3 | 4): Tool => ({
    label: `見出し${level}`,
    group: 'block',
    run: () => editor.chain().focus().toggleHeading({ level }).run(),
    pressed: () => editor.isActive('heading', { level }),
  });
  const tools: Tool[] = [
    heading(2),
    heading(3),
    heading(4),
    { label: '太字', group: 'inline', run: () => editor.chain().focus().toggleBold().run(), pressed: () => editor.isActive('bold') },
    { label: '箇条書き', group: 'list', run: () => editor.chain().focus().toggleBulletList().run(), pressed: () => editor.isActive('bulletList') },
    { label: '番号付きリスト', group: 'list', run: () => editor.chain().focus().toggleOrderedList().run(), pressed: () => editor.isActive('orderedList') },
    {
      label: 'リンク',
      group: 'insert',
      dialog: true,
      run: () => {
        const active = editor.isActive('link');
        if (active) editor.chain().extendMarkRange('link').run();
        const { from, to } = editor.state.selection;
        linkUrl.input.value = active ? String(editor.getAttributes('link').href ?? '') : '';
        linkText.input.value = editor.state.doc.textBetween(from, to, ' ');
        setError(linkUrl, null);
        unlinkButton.hidden = !active;
        updateLinkWarning();
        documents?.reset();
        linkDialog.open(buttons[6]!, documents && !active ? documents.toggle : linkUrl.input);
      },
    },
    {
      label: '画像',
      group: 'insert',
      dialog: true,
      run: () => {
        imageSrc.input.value = '';
        imageAlt.input.value = '';
        decorative.checked = false;
        picked = null;
        images?.reset();
        setError(imageSrc, null);
        updateImageState();
        imageDialog.open(buttons[7]!, images?.toggle ?? imageSrc.input);
      },
    },
    {
      label: '表',
      group: 'insert',
      run: () => {
        if (editor.chain().focus().insertTable({ rows: 3, cols: 3, withHeaderRow: true }).run()) announce('3行3列の表を挿入しました。1行目は見出しの行です。Tabキーで次のセルへ移動します。');
      },
      enabled: () => editor.can().insertTable({ rows: 3, cols: 3, withHeaderRow: true }),
    },
    {
      label: '動画埋め込み',
      group: 'insert',
      dialog: true,
      run: () => {
        videoUrl.input.value = '';
        videoTitle.input.value = '';
        setError(videoUrl, null);
        setError(videoTitle, null);
        videoDialog.open(buttons[9]!, videoUrl.input);
      },
    },
    { label: '元に戻す', group: 'history', run: () => editor.chain().focus().undo().run(), enabled: () => editor.can().undo() },
    { label: 'やり直し', group: 'history', run: () => editor.chain().focus().redo().run(), enabled: () => editor.can().redo() },
  ];

  let current = 0;
  const buttons = tools.map((tool, i) => {
    const b = h(
      'button',
      {
        type: 'button',
        class: `rich-editor__button rich-editor__button--${tool.group}`,
        tabindex: i === 0 ? '0' : '-1',
        'aria-pressed': tool.pressed ? 'false' : undefined,
        'aria-haspopup': tool.dialog ? 'dialog' : undefined,
      },
      tool.label,
    );
    b.addEventListener('click', () => {
      if (b.getAttribute('aria-disabled') === 'true') return;
      tool.run();
    });
    toolbar.append(b);
    return b;
  });

  const setCurrent = (i: number, focus: boolean) => {
    current = (i + buttons.length) % buttons.length;
    buttons.forEach((b, j) => (b.tabIndex = j === current ? 0 : -1));
    if (focus) buttons[current]!.focus();
  };
  toolbar.addEventListener('focusin', (e) => {
    const i = buttons.indexOf(e.target as HTMLButtonElement);
    if (i >= 0) setCurrent(i, false);
  });
  toolbar.addEventListener('keydown', (e) => {
    switch (e.key) {
      case 'ArrowRight':
      case 'ArrowDown':
        setCurrent(current + 1, true);
        break;
      case 'ArrowLeft':
      case 'ArrowUp':
        setCurrent(current - 1, true);
        break;
      case 'Home':
        setCurrent(0, true);
        break;
      case 'End':
        setCurrent(buttons.length - 1, true);
        break;
      case 'Escape':
        editor.commands.focus();
        break;
      default:
        return;
    }
    e.preventDefault();
  });
  editor.view.dom.addEventListener('keydown', (e) => {
    if (e.key === 'F10' && e.altKey) {
      e.preventDefault();
      buttons[current]!.focus();
    }
  });

  function refresh(): void {
    if (!ready) return;
    tools.forEach((tool, i) => {
      const b = buttons[i];
      if (!b) return;
      if (tool.pressed) b.setAttribute('aria-pressed', tool.pressed() ? 'true' : 'false');
      if (tool.enabled) {
        if (tool.enabled()) b.removeAttribute('aria-disabled');
        else b.setAttribute('aria-disabled', 'true');
      }
    });
  }
  ready = true;
  refresh();
  sync();
  wrapper.dataset.editorState = 'ready';
}

function init(): void {
  for (const ta of Array.from(document.querySelectorAll<HTMLTextAreaElement>('textarea[data-editor="rich"]'))) {
    try {
      enhance(ta);
    } catch (err) {
      // The plain textarea still works; say why the editor did not start.
      console.error('rich editor failed to start', err);
      ta.classList.remove('rich-editor__source');
    }
  }
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}
