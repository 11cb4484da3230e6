import type { MediaVariant } from './schema.js';
import { formatBytes, typeForExtension } from './files.js';

/**
 * References to library files inside page versions, and the markup the public page shows for
 * them. Bodies are sanitised HTML (double-quoted attributes, escaped values), so attribute-level
 * regular expressions read them exactly.
 */

// src="/media/12/…" or href="/sites/aoba/media/12/…" (a site prefix pasted by hand).
const BODY_REF = /\s(?:src|href)="(?:\/[a-z0-9-]+)*\/media\/(\d{1,10})(?=[/"?#])/g;
// A field value such as an OGP image: "/media/12/original/x.jpg" inside the fields JSON.
const FIELD_REF = /"(?:\/[a-z0-9-]+)*\/media\/(\d{1,10})(?=[/"?#])/g;

/** Ids of the library files a version's body and fields point at. */
export function mediaIdsIn(bodyHtml: string, fieldsJson = ''): number[] {
  const ids = new Set<number>();
  for (const m of bodyHtml.matchAll(BODY_REF)) ids.add(Number(m[1]));
  for (const m of fieldsJson.matchAll(FIELD_REF)) ids.add(Number(m[1]));
  return [...ids].filter((n) => Number.isSafeInteger(n) && n > 0);
}

/** What the renderer needs of a file. */
export interface MediaForMarkup {
  id: number;
  kind: string;
  file_name: string;
  width: number | null;
  height: number | null;
  variants: MediaVariant[];
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The file name a variant is served under: the original name, with .webp for WebP variants. */
export function variantFileName(fileName: string, variant: MediaVariant): string {
  if (!variant.key.endsWith('-webp')) return fileName;
  const dot = fileName.lastIndexOf('.');
  return `${dot > 0 ? fileName.slice(0, dot) : fileName}.webp`;
}

/**
 * `<base>/media/<id>/<variant>/<name>`; base is the site prefix, or /admin/cms for staff. `query`
 * signs the address for previews of pages not public yet.
 */
export function mediaUrl(base: string, m: { id: number; file_name: string }, variant: MediaVariant | string, query = ''): string {
  const key = typeof variant === 'string' ? variant : variant.key;
  const name = typeof variant === 'string' ? m.file_name : variantFileName(m.file_name, variant);
  return `${base}/media/${m.id}/${key}/${encodeURIComponent(name)}${query}`;
}

/** The URL staff put into a page body: site-independent, rewritten for the site when shown. */
export function bodyUrl(m: { id: number; kind: string; file_name: string }): string {
  return mediaUrl('', m, m.kind === 'image' ? 'original' : 'file');
}

/** The link text a document gets: 「会議録（PDF：1.2MB）」. */
export function documentLinkText(m: { title: string; file_name: string; extension: string; bytes: number }): string {
  const label = typeForExtension(m.extension)?.label ?? m.extension.toUpperCase();
  const name = m.title.trim() || m.file_name.replace(/\.[^.]+$/, '');
  return `${name}（${label}：${formatBytes(m.bytes)}）`;
}

/** Space the body takes on a public page (the site container is 72rem with 1rem padding). */
const DEFAULT_SIZES = '(min-width: 72rem) 70rem, calc(100vw - 2rem)';

function srcset(base: string, m: MediaForMarkup, list: MediaVariant[], query: string): string {
  return list.map((v) => `${mediaUrl(base, m, v, query)} ${v.width}w`).join(', ');
}

/**
 * `<picture>` for a library image: a WebP source and the original format, each with every width
 * (srcset/sizes), and width/height so the page does not jump while it loads. `attrs` are the
 * body's img attributes, already escaped (alt, data-decorative, width, height).
 */
export function pictureHtml(base: string, m: MediaForMarkup, attrs: Record<string, string>, query = ''): string {
  const byWidth = (a: MediaVariant, b: MediaVariant) => (a.width ?? 0) - (b.width ?? 0);
  const webp = m.variants.filter((v) => v.mime === 'image/webp').sort(byWidth);
  // A WebP upload has only WebP variants: they are its own format, and no <source> is needed.
  const webpOnly = webp.length === m.variants.length;
  const own = webpOnly ? webp : m.variants.filter((v) => v.mime !== 'image/webp').sort(byWidth);
  const fallback = [...own].reverse().find((v) => (v.width ?? 0) <= 960) ?? own[0];
  if (!fallback) return '';
  const bodyWidth = Number(attrs.width);
  const bodyHeight = Number(attrs.height);
  const sized = bodyWidth > 0 && bodyHeight > 0;
  const width = sized ? bodyWidth : (m.width ?? fallback.width ?? 0);
  const height = sized ? bodyHeight : (m.height ?? fallback.height ?? 0);
  const sizes = sized && bodyWidth < 1120 ? `(min-width: ${bodyWidth + 32}px) ${bodyWidth}px, calc(100vw - 2rem)` : DEFAULT_SIZES;
  const alt = attrs.alt ?? '';
  const decorative = attrs['data-decorative'] ? ' data-decorative="true"' : '';
  const source = webp.length && !webpOnly ? `<source type="image/webp" srcset="${escapeAttr(srcset(base, m, webp, query))}" sizes="${sizes}">` : '';
  return (
    `<picture class="media-picture">${source}` +
    `<img src="${escapeAttr(mediaUrl(base, m, fallback, query))}" srcset="${escapeAttr(srcset(base, m, own, query))}" sizes="${sizes}" width="${width}" height="${height}" alt="${alt}"${decorative} loading="lazy" decoding="async">` +
    `</picture>`
  );
}

const IMG_TAG = /<img\s[^>]*>/g;
const ATTR = /([a-zA-Z][a-zA-Z0-9-]*)="([^"]*)"/g;
const LIBRARY_SRC = /^\/media\/(\d{1,10})(?:[/?#]|$)/;
const LIBRARY_HREF = /(\shref=")\/media\/(\d{1,10})((?:[/?#][^"]*)?)"/g;

/**
 * A sanitised body as shown on the site: library images become `<picture>`, and links to library
 * files get the site's address (`base`), with `query(id)` appended (signed addresses in previews).
 * Files not in `files` (another site's, deleted) are left as they are.
 */
export function renderMediaInBody(html: string, base: string, files: Map<number, MediaForMarkup>, query: (id: number) => string = () => ''): string {
  return html
    .replace(IMG_TAG, (tag) => {
      const attrs: Record<string, string> = {};
      for (const a of tag.matchAll(ATTR)) attrs[a[1]!.toLowerCase()] = a[2]!;
      const id = LIBRARY_SRC.exec(attrs.src ?? '')?.[1];
      const m = id ? files.get(Number(id)) : undefined;
      if (!m || m.kind !== 'image') return tag;
      return pictureHtml(base, m, attrs, query(m.id)) || tag;
    })
    .replace(LIBRARY_HREF, (all: string, lead: string, id: string, rest: string) => {
      if (!files.has(Number(id))) return all;
      // Library files take no query of their own; a fragment (#page=3 in a PDF) is kept.
      const hash = rest.indexOf('#');
      const path = (hash < 0 ? rest : rest.slice(0, hash)).replace(/\?.*$/, '');
      return `${lead}${base}/media/${id}${path}${escapeAttr(query(Number(id)))}${hash < 0 ? '' : rest.slice(hash)}"`;
    });
}

/** Ids a body's images and links name with a site-independent /media/ URL (the ones to render). */
export function renderableIds(html: string): number[] {
  const ids = new Set<number>();
  for (const m of html.matchAll(/\s(?:src|href)="\/media\/(\d{1,10})(?=[/"?#])/g)) ids.add(Number(m[1]));
  return [...ids];
}
