import type { Context, Hono } from 'hono';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import { raiseUploadLimit, requestMeta } from '../../../core/http/app.js';
import { readForm, str } from '../../../core/http/validate.js';
import { renderError } from '../../../core/http/errors.js';
import { InputError } from '../../../core/errors.js';
import { viewOf } from '../../../core/ui/view.js';
import type { FieldErrors } from '../../../core/ui/forms.js';
import { actorOf, paging, requirePermission } from '../../admin/guards.js';
import type { CmsServices } from '../index.js';
import { formatBytes, typeForExtension } from './files.js';
import { bodyUrl, documentLinkText, mediaUrl } from './markup.js';
import { MediaInUseError, type MediaItem, type MediaService } from './service.js';
import type { MediaStorage } from './storage.js';
import type { MediaUrlSigner } from './signing.js';
import type { MediaVariant } from './schema.js';
import { MediaDetailPage, MediaListPage, thumbnail, typeLabel } from './views.js';

export const UPLOAD_PATH = '/admin/cms/media/upload';

/** Multipart overhead allowed on top of the largest file. */
const FORM_OVERHEAD = 256 * 1024;

/** How long browsers and proxies may keep a public file: short, so withdrawing a page takes effect soon everywhere. */
const PUBLIC_MAX_AGE = 300;

const wantsJson = (c: Context<AppEnv>) => (c.req.header('accept') ?? '').includes('application/json');

/** What the editor's library dialog shows of a file. */
function pickerItem(m: MediaItem) {
  const t = thumbnail(m);
  return {
    id: m.id,
    kind: m.kind,
    name: m.file_name,
    title: m.title,
    alt: m.alt,
    decorative: m.decorative === 1,
    width: m.width,
    height: m.height,
    size: formatBytes(m.bytes),
    type: typeLabel(m),
    url: bodyUrl(m),
    thumb: m.kind === 'image' && t ? mediaUrl('/admin/cms', m, t) : null,
    linkText: m.kind === 'document' ? documentLinkText(m) : null,
  };
}

function contentDisposition(m: MediaItem, variant: MediaVariant, name: string): string {
  const inline = variant.mime.startsWith('image/') || (typeForExtension(m.extension)?.inline ?? false);
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Sends one stored variant: correct type, nosniff, ETag / Last-Modified with 304s, a single byte
 * range (PDF viewers ask for them), streamed from disk.
 */
async function sendFile(c: Context<AppEnv>, storage: MediaStorage, m: MediaItem, variantKey: string | undefined, cacheControl: string): Promise<Response | null> {
  const key = variantKey ?? (m.kind === 'image' ? 'original' : 'file');
  const variant = m.variants.find((x) => x.key === key);
  if (!variant) return null;
  const size = await storage.size(m.storage_key, variant.key);
  if (size === null) {
    c.get('log').error({ mediaId: m.id, variant: variant.key }, 'media file missing on disk');
    return null;
  }
  const name = variant.key.endsWith('-webp') ? `${m.file_name.replace(/\.[^.]+$/, '')}.webp` : m.file_name;
  const etag = `"${m.sha256.slice(0, 16)}-${variant.key}"`;
  const lastModified = new Date(m.created_at).toUTCString();
  const headers: Record<string, string> = {
    'Content-Type': variant.mime,
    'X-Content-Type-Options': 'nosniff',
    ETag: etag,
    'Last-Modified': lastModified,
    'Cache-Control': cacheControl,
    'Content-Disposition': contentDisposition(m, variant, name),
    'Accept-Ranges': 'bytes',
  };
  const inm = c.req.header('if-none-match');
  const ims = c.req.header('if-modified-since');
  if ((inm && inm.split(',').some((t) => t.trim() === etag)) || (!inm && ims && Date.parse(ims) >= Date.parse(lastModified))) {
    return c.body(null, 304, headers);
  }
  const range = c.req.header('range');
  if (range && (!c.req.header('if-range') || c.req.header('if-range') === etag)) {
    const r = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    let start = r && r[1] !== '' ? Number(r[1]) : NaN;
    let end = r && r[2] !== '' ? Number(r[2]) : size - 1;
    if (r && r[1] === '' && r[2] !== '') {
      start = Math.max(0, size - Number(r[2]));
      end = size - 1;
    }
    end = Math.min(end, size - 1);
    if (!r || Number.isNaN(start) || start > end || start >= size) {
      return c.body(null, 416, { ...headers, 'Content-Range': `bytes */${size}` });
    }
    return c.body(storage.stream(m.storage_key, variant.key, { start, end }), 206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': String(end - start + 1) });
  }
  return c.body(storage.stream(m.storage_key, variant.key), 200, { ...headers, 'Content-Length': String(size) });
}

/** `/media/<id>[/<variant>[/<name>]]` inside a site (the name is only for people and downloads). */
const PUBLIC_FILE = /^\/media\/(\d{1,10})(?:\/([a-z0-9-]{1,20})(?:\/[^/]*)?)?$/;

/** The public file route; mounted before the page catch-all. */
export function mountPublicMediaRoute(app: Hono<AppEnv>, cms: CmsServices, media: MediaService, storage: MediaStorage, signer: MediaUrlSigner) {
  app.get('*', async (c, next) => {
    const path = c.req.path;
    if (!path.includes('/media/') || path.startsWith('/admin')) return next();
    const resolved = await cms.sites.resolve(c.req.header('host') ?? '', path);
    const match = resolved ? PUBLIC_FILE.exec(resolved.path) : null;
    if (!resolved || !match) return next();
    const m = await media.get(Number(match[1]));
    if (!m || m.site_id !== resolved.site.id) return renderError(c, 404, 'error.notFound');
    // A preview's signed address shows the file to whoever holds the preview; it is nobody else's to cache.
    if (signer.valid(m.id, c.req.query('exp'), c.req.query('sig'))) return (await sendFile(c, storage, m, match[2], 'private, max-age=600')) ?? renderError(c, 404, 'error.notFound');
    // One no public page shows does not exist for the public.
    if (!(await media.isPublic(m))) return renderError(c, 404, 'error.notFound');
    return (await sendFile(c, storage, m, match[2], `public, max-age=${PUBLIC_MAX_AGE}`)) ?? renderError(c, 404, 'error.notFound');
  });
}

/**
 * The media library for staff (cms.edit): list with filters, upload (multipart, also as JSON for
 * the editor's dialog), details with where-used, alt text edits, delete, and every file of their
 * organisation whether public or not.
 */
export function mountMediaAdminRoutes(app: Hono<AppEnv>, p: Platform, media: MediaService, storage: MediaStorage) {
  const limits = { imageBytes: p.config.MEDIA_MAX_IMAGE_BYTES, documentBytes: p.config.MEDIA_MAX_DOCUMENT_BYTES };
  raiseUploadLimit(app, UPLOAD_PATH, Math.max(limits.imageBytes, limits.documentBytes) + FORM_OVERHEAD);
  app.use('/admin/cms/media', requirePermission('cms.edit'));
  app.use('/admin/cms/media/*', requirePermission('cms.edit'));

  const listPage = async (c: Context<AppEnv>, upload: { values: Record<string, string>; errors?: FieldErrors }, notice?: string) => {
    const actor = actorOf(c);
    const sites = await media.sitesFor(actor);
    const siteQ = c.req.query('site') ?? '';
    const kindQ = c.req.query('kind') ?? '';
    const q = (c.req.query('q') ?? '').slice(0, 100);
    const { limit, offset } = paging(c, 30);
    const { items, total } = await media.list(actor, {
      siteId: sites.some((s) => String(s.id) === siteQ) ? Number(siteQ) : undefined,
      kind: kindQ === 'image' || kindQ === 'document' ? kindQ : undefined,
      q,
      limit,
      offset,
    });
    await media.ensureScanned();
    const uses = await media.whereUsed(items.map((m) => m.id));
    const useCounts = new Map([...uses].map(([id, list]) => [id, list.length]));
    const uploaders = await media.uploaderNames(items.map((m) => m.uploaded_by));
    return (
      <MediaListPage
        v={viewOf(c)}
        menu={p.menu}
        state={{ sites, items, total, limit, offset, useCounts, uploaders, filter: { siteId: siteQ, kind: kindQ, q } }}
        upload={{ values: { siteId: upload.values.siteId ?? (siteQ || String(sites[0]?.id ?? '')), ...upload.values }, errors: upload.errors }}
        notice={notice}
        limits={limits}
      />
    );
  };

  const detailPage = async (c: Context<AppEnv>, m: MediaItem, opts: { values?: Record<string, string>; errors?: FieldErrors; notice?: string; deleteRefused?: boolean } = {}) => {
    await media.ensureScanned();
    const uses = (await media.whereUsed([m.id])).get(m.id) ?? [];
    const uploader = m.uploaded_by ? (await media.uploaderNames([m.uploaded_by])).get(m.uploaded_by) : undefined;
    const values = opts.values ?? { alt: m.alt, decorative: m.decorative ? '1' : '', title: m.title, description: m.description };
    const site = (await media.sitesFor(actorOf(c))).find((s) => s.id === m.site_id);
    return (
      <MediaDetailPage v={viewOf(c)} menu={p.menu} m={m} site={site} uploader={uploader} uses={uses} isPublic={await media.isPublic(m)} values={values} errors={opts.errors} notice={opts.notice} deleteRefused={opts.deleteRefused} />
    );
  };

  const loadMedia = (c: Context<AppEnv>) => media.getFor(actorOf(c), Number(c.req.param('id')));

  app.get('/admin/cms/media', async (c) => {
    const notice = c.req.query('deleted') ? 'ファイルを削除しました。' : undefined;
    return c.html(await listPage(c, { values: {} }, notice));
  });

  app.get('/admin/cms/media/library.json', async (c) => {
    const kind = c.req.query('kind') === 'document' ? 'document' : 'image';
    const siteId = Number(c.req.query('site'));
    const { items, total } = await media.list(actorOf(c), { siteId: Number.isSafeInteger(siteId) && siteId > 0 ? siteId : undefined, kind, q: c.req.query('q') ?? '', limit: 100 });
    return c.json({ total, items: items.map(pickerItem) });
  });

  app.post(UPLOAD_PATH, async (c) => {
    const body = await c.req.parseBody({ all: true });
    const field = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
    const values = { siteId: field('siteId'), alt: field('alt'), decorative: field('decorative') ? '1' : '', title: field('title'), description: field('description') };
    const file = body.file instanceof File ? body.file : Array.isArray(body.file) ? body.file.find((f): f is File => f instanceof File) : undefined;
    const fail = async (errors: FieldErrors) => (wantsJson(c) ? c.json({ ok: false, errors }, 422) : c.html(await listPage(c, { values, errors }), 422));
    if (!file || file.size === 0 || !file.name) return fail({ file: 'ファイルを選んでください。' });
    try {
      const m = await media.upload(
        actorOf(c),
        { siteId: Number(values.siteId), fileName: file.name, claimedMime: file.type, data: new Uint8Array(await file.arrayBuffer()), alt: values.alt, decorative: values.decorative === '1', title: values.title, description: values.description },
        requestMeta(c),
      );
      if (wantsJson(c)) return c.json({ ok: true, item: pickerItem(m) }, 201);
      return c.redirect(`/admin/cms/media/${m.id}?uploaded=1`, 303);
    } catch (e) {
      if (e instanceof InputError) return fail(e.fields);
      throw e;
    }
  });

  app.get('/admin/cms/media/:id{[0-9]+}', async (c) => {
    const m = await loadMedia(c);
    if (!m) return renderError(c, 404, 'error.notFound');
    const notice = c.req.query('uploaded') ? 'ファイルを登録しました。' : c.req.query('saved') ? viewOf(c).t('common.saved') : undefined;
    return c.html(await detailPage(c, m, { notice }));
  });

  app.post('/admin/cms/media/:id{[0-9]+}', async (c) => {
    const m = await loadMedia(c);
    if (!m) return renderError(c, 404, 'error.notFound');
    const f = await readForm(c);
    const values = { alt: str(f.alt), decorative: str(f.decorative) ? '1' : '', title: str(f.title), description: str(f.description) };
    try {
      await media.update(actorOf(c), m.id, { ...values, decorative: values.decorative === '1' }, requestMeta(c));
    } catch (e) {
      if (e instanceof InputError) return c.html(await detailPage(c, m, { values, errors: e.fields }), 422);
      throw e;
    }
    return c.redirect(`/admin/cms/media/${m.id}?saved=1`, 303);
  });

  app.post('/admin/cms/media/:id{[0-9]+}/delete', async (c) => {
    const m = await loadMedia(c);
    if (!m) return renderError(c, 404, 'error.notFound');
    try {
      await media.delete(actorOf(c), m.id, requestMeta(c));
    } catch (e) {
      if (e instanceof MediaInUseError) return c.html(await detailPage(c, m, { deleteRefused: true }), 409);
      throw e;
    }
    return c.redirect('/admin/cms/media?deleted=1', 303);
  });

  // Staff see every file of their organisation, public or not (previews, the editor, drafts).
  app.get('/admin/cms/media/:id{[0-9]+}/:variant{[a-z0-9-]+}/:name?', async (c) => {
    const m = await loadMedia(c);
    if (!m) return renderError(c, 404, 'error.notFound');
    return (await sendFile(c, storage, m, c.req.param('variant'), 'private, max-age=300')) ?? renderError(c, 404, 'error.notFound');
  });
}
