import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import { cmsOf } from '../index.js';
import { checkAccessibility } from '../content/index.js';
import { mediaOf } from './index.js';
import * as files from './test-files.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

/**
 * Posts a body on a connection of its own: the server answers 413 before reading it all and
 * closes the connection, which must not be one a later request reuses.
 */
async function postOnOwnConnection(client: HttpClient, path: string, form: FormData): Promise<number> {
  const req = new Request(new URL(path, client.baseUrl), { method: 'POST', body: form });
  const body = Buffer.from(await req.arrayBuffer());
  const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  return new Promise((resolve, reject) => {
    const r = httpRequest(new URL(path, client.baseUrl), { method: 'POST', agent: false, headers: { cookie, 'content-type': req.headers.get('content-type')!, 'content-length': String(body.length) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    r.end(body);
  });
}

/** Posts a real multipart form (FormData through fetch) with the page's CSRF token. */
async function upload(client: HttpClient, fields: Record<string, string>, file: { name: string; type: string; data: Uint8Array } | null, headers: Record<string, string> = {}) {
  if (!client.lastCsrf) await client.get('/admin/cms/media');
  const form = new FormData();
  form.set('_csrf', client.lastCsrf);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  if (file) form.set('file', new File([new Uint8Array(file.data)], file.name, { type: file.type }));
  return client.request('POST', '/admin/cms/media/upload', { body: form, headers });
}

describePlatform(
  'CMS media library over HTTP',
  { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000', MAX_UPLOAD_BYTES: '100000', MEDIA_MAX_IMAGE_BYTES: '300000', MEDIA_MAX_DOCUMENT_BYTES: '200000' } },
  (tp) => {
    let siteId = 0;
    let folderId = 0;
    let pageId = 0;
    let imageId = 0;
    let orgId = 0;
    let editor: HttpClient;
    const mediaDir = () => join(tp().dataDir, 'media');

    it('an editor uploads a photo through the multipart form; it is stored under the data directory without EXIF', async () => {
      const p = tp().platform;
      const cms = cmsOf(p);
      orgId = await createOrganization(p, { name: 'メディア市' });
      siteId = await cms.sites.create(systemActor(p), { key: 'mediacity', name: 'メディア市', pathPrefix: '/s/media', organizationId: orgId }, meta);
      const root = await cms.pages.root(siteId);
      await cms.pages.publish(systemActor(p), root.id, meta);
      folderId = await cms.pages.create(systemActor(p), { siteId, parentId: root.id, kind: 'folder', slug: 'kankou', title: '観光' }, meta);
      await cms.pages.publish(systemActor(p), folderId, meta);

      const staff = await createStaff(p, { roles: ['editor'], organizationId: orgId });
      editor = new HttpClient(tp().baseUrl);
      await editor.login(staff.loginId, staff.password);
      const list = await editor.get('/admin/cms/media');
      expect(list.status).toBe(200);
      expect(list.text).toContain('enctype="multipart/form-data"');
      expect(list.text).toContain('SVG画像は中にプログラムを含められるため登録できません');
      expect(list.text).toContain('href="/admin/cms/media"');

      // 250 KB: more than MAX_UPLOAD_BYTES (100 KB), allowed on the upload route only.
      const photo = await files.photoWithGps(1400, 1000);
      const big = Buffer.concat([photo]);
      const res = await upload(editor, { siteId: String(siteId), alt: 'あおば川の桜並木' }, { name: '..\\..\\桜.jpg', type: 'image/jpeg', data: big });
      expect(res.status).toBe(303);
      imageId = Number(/media\/(\d+)\?uploaded=1$/.exec(res.location ?? '')?.[1]);
      expect(imageId).toBeGreaterThan(0);
      const detail = await editor.get(`/admin/cms/media/${imageId}?uploaded=1`);
      expect(detail.text).toContain('ファイルを登録しました。');
      expect(detail.text).toContain('桜.jpg');
      expect(detail.text).toContain('1000×1400');
      expect(detail.text).toContain('非公開（公開中のページで使われるまで');
      const stored = filesUnder(mediaDir());
      expect(stored.length).toBe(6);
      expect(stored.every((f) => f.startsWith(mediaDir()))).toBe(true);

      const own = await fetch(`${tp().baseUrl}/admin/cms/media/${imageId}/original/x.jpg`, { headers: { cookie: [...editor.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
      expect(own.status).toBe(200);
      expect(own.headers.get('content-type')).toBe('image/jpeg');
      expect(own.headers.get('x-content-type-options')).toBe('nosniff');
      expect(own.headers.get('cache-control')).toBe('private, max-age=300');
      const bytes = Buffer.from(await own.arrayBuffer());
      const m = await sharp(bytes).metadata();
      expect([m.width, m.height, m.exif]).toEqual([1000, 1400, undefined]);
      expect(bytes.includes(Buffer.from('GPS-9000'))).toBe(false);
    });

    it('refuses a PHP file renamed .jpg and a polyglot with a 422, keeping the typed alt; nothing reaches disk or the database', async () => {
      const p = tp().platform;
      const before = filesUnder(mediaDir()).length;
      const rows = async () => (await p.db.selectFrom('cms_media').select('id').execute()).length;
      const rowsBefore = await rows();
      const php = await upload(editor, { siteId: String(siteId), alt: '残してほしい説明' }, { name: 'shell.php.jpg', type: 'image/jpeg', data: files.attacks.php });
      expect(php.status).toBe(422);
      expect(php.text).toContain('ファイルの中身が拡張子（.jpg）と一致しません。');
      expect(php.text).toContain('value="残してほしい説明"');
      expect(php.text).toContain('id="error-summary"');
      const poly = await upload(editor, { siteId: String(siteId) }, { name: 'cat.jpg', type: 'image/jpeg', data: await files.attacks.jpegWithHtml() });
      expect(poly.status).toBe(422);
      expect(poly.text).toContain('HTMLやプログラム');
      const svg = await upload(editor, { siteId: String(siteId) }, { name: 'logo.jpg', type: 'image/svg+xml', data: files.attacks.svg });
      expect(svg.status).toBe(422);
      const none = await upload(editor, { siteId: String(siteId) }, null);
      expect(none.text).toContain('ファイルを選んでください。');
      // Over the image limit (300 KB) but under the route's body limit: refused by kind.
      const noisy = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 80 } } }).png().toBuffer();
      expect(noisy.length).toBeGreaterThan(300_000);
      const tooBig = await upload(editor, { siteId: String(siteId) }, { name: 'noise.png', type: 'image/png', data: noisy });
      expect(tooBig.status).toBe(422);
      expect(tooBig.text).toContain('画像は293KB以下にしてください');
      // Over every limit: the body limit stops it while it streams in.
      const huge = new FormData();
      huge.set('_csrf', editor.lastCsrf);
      huge.set('siteId', String(siteId));
      huge.set('file', new File([Buffer.alloc(700_000, 0x20)], 'huge.pdf', { type: 'application/pdf' }));
      expect(await postOnOwnConnection(editor, '/admin/cms/media/upload', huge)).toBe(413);
      // The raised limit is for the upload route only.
      const form = new FormData();
      form.set('_csrf', editor.lastCsrf);
      form.set('alt', 'x'.repeat(150_000));
      expect(await postOnOwnConnection(editor, `/admin/cms/media/${imageId}`, form)).toBe(413);
      expect(filesUnder(mediaDir()).length).toBe(before);
      expect(await rows()).toBe(rowsBefore);
    });

    it('the editor dialog uploads as JSON and lists the site’s library', async () => {
      const ok = await upload(editor, { siteId: String(siteId), title: '会議録' }, { name: '会議録.pdf', type: 'application/pdf', data: files.pdf() }, { accept: 'application/json' });
      expect(ok.status).toBe(201);
      const item = (JSON.parse(ok.text) as { item: { id: number; url: string; linkText: string; kind: string } }).item;
      expect(item.kind).toBe('document');
      expect(item.url).toBe(`/media/${item.id}/file/${encodeURIComponent('会議録.pdf')}`);
      expect(item.linkText).toMatch(/^会議録（PDF：\d+(?:\.\d)?(?:KB|バイト)）$/);
      const bad = await upload(editor, { siteId: String(siteId) }, { name: 'x.jpg', type: 'image/jpeg', data: files.attacks.html }, { accept: 'application/json' });
      expect(bad.status).toBe(422);
      expect(JSON.parse(bad.text)).toEqual({ ok: false, errors: { file: expect.stringContaining('一致しません') } });
      const images = JSON.parse((await editor.get(`/admin/cms/media/library.json?site=${siteId}&kind=image`)).text) as { items: Array<{ id: number; alt: string; thumb: string; width: number }> };
      expect(images.items.map((i) => i.id)).toEqual([imageId]);
      expect(images.items[0]).toMatchObject({ alt: 'あおば川の桜並木', width: 1000, thumb: expect.stringMatching(new RegExp(`^/admin/cms/media/${imageId}/480/`)) });
      const docs = JSON.parse((await editor.get(`/admin/cms/media/library.json?site=${siteId}&kind=document&q=${encodeURIComponent('会議')}`)).text) as { items: unknown[] };
      expect(docs.items.length).toBe(1);
    });

    it('a draft page’s file is 404 to the public, 200 to its staff, 404 to another organisation; public once published, 404 again when withdrawn', async () => {
      const p = tp().platform;
      const cms = cmsOf(p);
      pageId = await cms.pages.create(
        systemActor(p),
        { siteId, parentId: folderId, kind: 'page', slug: 'sakura', title: 'さくらまつり', body: `<p><img src="/media/${imageId}/original/%E6%A1%9C.jpg" alt="満開の桜並木" width="1000" height="1400"></p>`, organizationId: orgId },
        meta,
      );
      const visitor = new HttpClient(tp().baseUrl);
      const publicUrl = `/s/media/media/${imageId}/original/${encodeURIComponent('桜.jpg')}`;
      expect((await visitor.get(publicUrl)).status).toBe(404);
      expect((await visitor.get(`/media/${imageId}/original/x.jpg`)).status).toBe(404);
      // Staff of another organisation: 404 even through the admin route.
      const other = await createStaff(p, { roles: ['editor'], organizationId: await createOrganization(p, { name: '別の町' }) });
      const outsider = new HttpClient(tp().baseUrl);
      await outsider.login(other.loginId, other.password);
      expect((await outsider.get(`/admin/cms/media/${imageId}/original/x.jpg`)).status).toBe(404);
      expect((await outsider.get(`/admin/cms/media/${imageId}`)).status).toBe(404);
      expect(JSON.parse((await outsider.get(`/admin/cms/media/library.json?site=${siteId}`)).text)).toEqual({ total: 0, items: [] });
      expect((await editor.get(`/admin/cms/media/${imageId}/original/x.jpg`)).status).toBe(200);
      // A preview's signed address (what previews of unpublished pages use) works; a forged or expired one does not.
      const { signer } = mediaOf(p);
      const signed = await fetch(`${tp().baseUrl}${publicUrl}${signer.query(imageId)}`);
      expect(signed.status).toBe(200);
      expect(signed.headers.get('cache-control')).toBe('private, max-age=600');
      expect((await visitor.get(`${publicUrl}${signer.query(imageId + 1)}`)).status).toBe(404);
      expect((await visitor.get(`${publicUrl}${signer.query(imageId, Date.now() - 2 * 3600_000)}`)).status).toBe(404);
      expect((await visitor.get(`${publicUrl}${signer.query(imageId).replace(/sig=(.)/, (_m, ch: string) => `sig=${ch === 'A' ? 'B' : 'A'}`)}`)).status).toBe(404);
      // Where-used counts the draft.
      const detail = await editor.get(`/admin/cms/media/${imageId}`);
      expect(detail.text).toContain('使用しているページ（1件）');
      expect(detail.text).toContain('さくらまつり');

      await cms.pages.publish(systemActor(p), pageId, meta);
      const res = await fetch(`${tp().baseUrl}${publicUrl}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('public, max-age=300');
      expect(res.headers.get('content-disposition')).toMatch(/^inline; filename="_.jpg"; filename\*=UTF-8''%E6%A1%9C\.jpg$/);
      const etag = res.headers.get('etag')!;
      expect(etag).toMatch(/^"[0-9a-f]{16}-original"$/);
      expect(res.headers.get('last-modified')).toBeTruthy();
      expect((await fetch(`${tp().baseUrl}${publicUrl}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
      const webp = await fetch(`${tp().baseUrl}/s/media/media/${imageId}/960-webp/x.webp`);
      expect(webp.headers.get('content-type')).toBe('image/webp');
      expect((await sharp(Buffer.from(await webp.arrayBuffer())).metadata()).format).toBe('webp');

      const page = await visitor.get('/s/media/kankou/sakura');
      expect(page.text).toContain(`<picture class="media-picture"><source type="image/webp" srcset="/s/media/media/${imageId}/480-webp/`);
      expect(page.text).toMatch(new RegExp(`<img src="/s/media/media/${imageId}/960/[^"]+" srcset="[^"]+ 480w, [^"]+ 960w, [^"]+ 1000w" sizes="[^"]+" width="1000" height="1400" alt="満開の桜並木" loading="lazy" decoding="async"></picture>`));

      // Withdrawn for a while, then taken down: 404 at once (the render cache does not serve files).
      await cms.pages.setTemporarilyHidden(systemActor(p), pageId, true, meta);
      expect((await visitor.get(publicUrl)).status).toBe(404);
      await cms.pages.setTemporarilyHidden(systemActor(p), pageId, false, meta);
      expect((await visitor.get(publicUrl)).status).toBe(200);
      await cms.pages.unpublish(systemActor(p), pageId, meta);
      expect((await visitor.get(publicUrl)).status).toBe(404);
      await cms.pages.publish(systemActor(p), pageId, meta);
    });

    it('a preview link signs only files the page’s own organisation may show: a draft naming another department’s file cannot hand it out', async () => {
      const p = tp().platform;
      const cms = cmsOf(p);
      const { historyOf } = await import('../history/services.js');
      const body = `<p><img src="/media/${imageId}/original/x.jpg" alt="桜"></p>`;
      const foreignOrg = await createOrganization(p, { name: 'よその課' });
      const foreign = await cms.pages.create(systemActor(p), { siteId, parentId: folderId, kind: 'page', slug: 'foreign-draft', title: 'よその下書き', body, organizationId: foreignOrg }, meta);
      const own = await cms.pages.create(systemActor(p), { siteId, parentId: folderId, kind: 'page', slug: 'own-draft', title: '自分の下書き', body, organizationId: orgId }, meta);
      const link = async (id: number) => (await historyOf(p).previews.create(systemActor(p), await cms.pages.node(id), 24, meta)).token;
      const foreignHtml = (await new HttpClient(tp().baseUrl).get(`/preview/${await link(foreign)}`)).text;
      expect(foreignHtml).toContain('よその下書き');
      expect(foreignHtml).not.toContain('sig=');
      const ownHtml = (await new HttpClient(tp().baseUrl).get(`/preview/${await link(own)}`)).text;
      expect(ownHtml).toContain('sig=');
      // The drafts stop naming the file, so the where-used figures of the next tests stay theirs.
      for (const id of [foreign, own]) await cms.pages.saveDraft(systemActor(p), id, { title: '下書き', body: '<p>なし</p>' }, meta);
    });

    it('documents: PDF inline with byte ranges, Word as a download; a link in a page passes the accessibility checker', async () => {
      const p = tp().platform;
      const cms = cmsOf(p);
      const pdf = JSON.parse((await upload(editor, { siteId: String(siteId), title: '観光パンフレット' }, { name: 'pamphlet.pdf', type: 'application/pdf', data: files.pdf() }, { accept: 'application/json' })).text).item as { id: number; url: string; linkText: string };
      const word = JSON.parse((await upload(editor, { siteId: String(siteId) }, { name: '申請書.docx', type: '', data: files.docx() }, { accept: 'application/json' })).text).item as { id: number; url: string; linkText: string };
      const body = `<h2>資料</h2><p><img src="/media/${imageId}/original/x.jpg" alt="満開の桜並木"></p><p><a href="${pdf.url}">${pdf.linkText}</a></p><p><a href="${word.url}">${word.linkText}</a></p>`;
      expect(checkAccessibility(body)).toEqual([]);
      await cms.pages.saveDraft(systemActor(p), pageId, { title: 'さくらまつり', body }, meta);
      await cms.pages.publish(systemActor(p), pageId, meta);

      const page = await new HttpClient(tp().baseUrl).get('/s/media/kankou/sakura');
      expect(page.text).toContain(`<a href="/s/media${pdf.url}">観光パンフレット（PDF：`);
      const pdfRes = await fetch(`${tp().baseUrl}/s/media${pdf.url}`);
      expect(pdfRes.headers.get('content-type')).toBe('application/pdf');
      expect(pdfRes.headers.get('content-disposition')).toMatch(/^inline;/);
      const ranged = await fetch(`${tp().baseUrl}/s/media${pdf.url}`, { headers: { range: 'bytes=0-7' } });
      expect(ranged.status).toBe(206);
      expect(await ranged.text()).toBe('%PDF-1.4');
      expect(ranged.headers.get('content-range')).toMatch(/^bytes 0-7\/\d+$/);
      expect((await fetch(`${tp().baseUrl}/s/media${pdf.url}`, { headers: { range: 'bytes=999999-' } })).status).toBe(416);
      const wordRes = await fetch(`${tp().baseUrl}/s/media${word.url}`);
      expect(wordRes.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
      expect(wordRes.headers.get('content-disposition')).toMatch(/^attachment;/);
      // Under another site's prefix, the file does not exist.
      const otherSite = await cms.sites.create(systemActor(p), { key: 'othersite', name: '別サイト', pathPrefix: '/s/other' }, meta);
      await cms.pages.publish(systemActor(p), (await cms.pages.root(otherSite)).id, meta);
      expect((await fetch(`${tp().baseUrl}/s/other${pdf.url}`)).status).toBe(404);
    });

    it('the page editor carries the library hook for the rich-text editor and lists the page’s files', async () => {
      const edit = await editor.get(`/admin/cms/nodes/${pageId}`);
      expect(edit.status).toBe(200);
      expect(edit.text).toContain(`data-media-library="/admin/cms/media/library.json?site=${siteId}"`);
      expect(edit.text).toContain('このページで使っているファイル');
      expect(edit.text).toContain('観光パンフレット（PDF：');
    });

    it('lists files with where-used counts, filters by type and name, refuses to delete a used file and deletes an unused one, audited', async () => {
      const p = tp().platform;
      const list = await editor.get('/admin/cms/media');
      expect(list.text).toContain('<caption>登録済みのファイル（4件）</caption>');
      expect(list.text).toContain('1000×1400');
      expect(list.text).toContain('あおば川の桜並木');
      const images = await editor.get('/admin/cms/media?kind=image');
      expect(images.text).toContain('登録済みのファイル（1件）');
      const search = await editor.get(`/admin/cms/media?q=${encodeURIComponent('申請')}`);
      expect(search.text).toContain('登録済みのファイル（1件）');
      expect(search.text).toContain('申請書.docx');

      await editor.get(`/admin/cms/media/${imageId}`);
      const refused = await editor.post(`/admin/cms/media/${imageId}/delete`, {});
      expect(refused.status).toBe(409);
      expect(refused.text).toContain('このファイルは次の1ページで使われているため削除できません。');
      expect(refused.text).toContain('/kankou/sakura');
      const unused = (await p.db.selectFrom('cms_media').select('id').where('file_name', '=', '会議録.pdf').executeTakeFirstOrThrow()).id;
      await editor.get(`/admin/cms/media/${unused}`);
      const done = await editor.post(`/admin/cms/media/${unused}/delete`, {});
      expect(done.status).toBe(303);
      expect((await editor.get(`/admin/cms/media/${unused}`)).status).toBe(404);

      await editor.get(`/admin/cms/media/${imageId}`);
      const tooLong = await editor.post(`/admin/cms/media/${imageId}`, { alt: 'あ'.repeat(301) });
      expect(tooLong.status).toBe(422);
      expect(tooLong.text).toContain('代替テキストは300文字以内で入力してください。');
      expect((await editor.post(`/admin/cms/media/${imageId}`, { alt: '夜桜' })).status).toBe(303);
      const actions = (await p.audit.list({ targetType: 'cms_media' }, { limit: 50 })).rows.map((r) => r.action);
      expect(actions).toEqual(expect.arrayContaining(['cms.media_upload', 'cms.media_delete', 'cms.media_edit']));
    });
  },
);
