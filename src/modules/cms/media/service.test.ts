import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuditService } from '../../../core/audit/index.js';
import { InputError } from '../../../core/errors.js';
import { OrganizationService } from '../../../core/organizations/index.js';
import type { Actor } from '../../../core/permissions/index.js';
import { describeEngines } from '../../../../test/helpers/db.js';
import { PageService } from '../pages.js';
import { CmsParts } from '../parts.js';
import { SiteService } from '../sites.js';
import { MediaInUseError, MediaService } from './service.js';
import { MediaStorage } from './storage.js';
import * as files from './test-files.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

/** Every file under a directory, relative paths. */
function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
  } catch {
    return [];
  }
}

const actor = (id: number, organizationId: number | null, all = false): Actor => ({
  id,
  loginId: `u${id}`,
  displayName: `職員${id}`,
  organizationId,
  roles: ['editor'],
  permissions: new Set(['cms.edit', 'cms.publish']),
  allOrganizations: all,
});

async function inputError(p: Promise<unknown>): Promise<Record<string, string>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof InputError) return e.fields;
    throw e;
  }
  throw new Error('expected an InputError');
}

describeEngines('CMS media library service', (t, engine) => {
  let dir = '';
  let media: MediaService;
  let pages: PageService;
  let audit: AuditService;
  let siteId = 0;
  let rootId = 0;
  let folderId = 0;
  let city = 0;
  let deptA = 0;
  let deptB = 0;
  let admin: Actor;
  let staffA: Actor;
  let staffB: Actor;

  beforeAll(async () => {
    const db = t().handle.db;
    dir = mkdtempSync(join(tmpdir(), 'machimado-media-'));
    audit = new AuditService({ db, engine });
    const organizations = new OrganizationService({ db, audit });
    const sites = new SiteService({ db, audit });
    const parts = new CmsParts();
    pages = new PageService({ db, audit, publishHooks: parts.publishHooks });
    media = new MediaService({ db, audit, storage: new MediaStorage(dir), organizations, sites, pages, limits: { imageBytes: 200_000, documentBytes: 100_000 } });
    parts.onPublishTx(async (tx, { version }) => {
      if (version) await media.recordVersion(tx, version);
    });
    admin = actor(1, null, true);
    city = await organizations.create(admin, { code: 'city', name: '市', kind: 'municipality' }, meta);
    deptA = await organizations.create(admin, { code: 'deptA', name: '観光課', kind: 'department', parentId: city }, meta);
    deptB = await organizations.create(admin, { code: 'deptB', name: '税務課', kind: 'department', parentId: city }, meta);
    staffA = actor(2, deptA);
    staffB = actor(3, deptB);
    siteId = await sites.create(admin, { key: 'mcity', name: 'メディア市', pathPrefix: '/m', organizationId: city }, meta);
    rootId = (await pages.root(siteId)).id;
    await pages.publish(admin, rootId, meta);
    folderId = await pages.create(admin, { siteId, parentId: rootId, kind: 'folder', slug: 'kankou', title: '観光', organizationId: deptA }, meta);
    await pages.publish(admin, folderId, meta);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores a photo under a random name with its widths and WebP, EXIF removed, audited', async () => {
    const m = await media.upload(staffA, { siteId, fileName: '../../桜 まつり.JPG', claimedMime: 'image/jpeg', data: await files.photoWithGps(1000, 700), alt: 'あおば川の桜並木' }, meta);
    expect(m).toMatchObject({ kind: 'image', file_name: '桜 まつり.JPG', extension: 'jpg', width: 700, height: 1000, organization_id: deptA, alt: 'あおば川の桜並木', decorative: 0 });
    expect(m.variants.map((v) => v.key)).toEqual(['480', '480-webp', 'original', 'original-webp']);
    const stored = filesUnder(dir);
    expect(stored).toEqual(['480', '480-webp', 'original', 'original-webp'].map((v) => join(m.storage_key.slice(0, 2), m.storage_key, v)));
    expect(stored.join()).not.toContain('桜');
    for (const f of stored) expect((await sharp(readFileSync(join(dir, f))).metadata()).exif, f).toBeUndefined();
    const entry = (await audit.list({ action: 'cms.media_upload' }, { limit: 5 })).rows[0];
    expect(entry?.summary).toContain('桜 まつり.JPG');
    expect(entry?.organizationId).toBe(deptA);
  });

  it('refuses disguised, polyglot and oversized files with no file on disk, no row and no audit entry', async () => {
    const before = filesUnder(dir);
    const rows = async () => (await t().handle.db.selectFrom('cms_media').select('id').execute()).length;
    const audits = async () => (await audit.list({ action: 'cms.media_upload' }, { limit: 100 })).total;
    const [rowsBefore, auditsBefore] = [await rows(), await audits()];
    const attempts: Array<[string, string, Uint8Array, RegExp]> = [
      ['shell.jpg', 'image/jpeg', files.attacks.php, /一致しません/],
      ['page.jpg', 'image/jpeg', files.attacks.html, /一致しません/],
      ['icon.svg', 'image/svg+xml', files.attacks.svg, /SVG画像/],
      ['cat.jpg', 'image/jpeg', await files.attacks.jpegWithHtml(), /HTMLやプログラム/],
      ['cat.gif', 'image/gif', Buffer.concat([await files.gif(), await files.attacks.jpegWithZip()]), /別のファイル/],
      ['big.png', 'image/png', await sharp({ create: { width: 600, height: 600, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer(), /画像は195KB以下にしてください/],
      ['big.pdf', 'application/pdf', Buffer.concat([files.pdf(), Buffer.alloc(120_000, 0x20)]), /文書は98KB以下にしてください/],
    ];
    for (const [fileName, claimedMime, data, message] of attempts) {
      const errors = await inputError(media.upload(staffA, { siteId, fileName, claimedMime, data }, meta));
      expect(errors.file, fileName).toMatch(message);
    }
    expect(filesUnder(dir)).toEqual(before);
    expect(await rows()).toBe(rowsBefore);
    expect(await audits()).toBe(auditsBefore);
    // Another municipality's site is not a place to upload to.
    expect((await inputError(media.upload(actor(9, null), { siteId, fileName: 'a.png', claimedMime: '', data: await files.png() }, meta))).siteId).toBeDefined();
    expect((await inputError(media.upload(staffA, { siteId, fileName: 'a.png', claimedMime: '', data: await files.png(), alt: 'x'.repeat(301) }, meta))).alt).toContain('300文字以内');
  });

  it('a file is public only while a public page of a related organisation shows it in its live version', async () => {
    const m = await media.upload(staffA, { siteId, fileName: 'hanabi.png', claimedMime: 'image/png', data: await files.png() }, meta);
    const body = `<p><img src="/media/${m.id}/original/hanabi.png" alt="花火"></p>`;
    const pageId = await pages.create(staffA, { siteId, parentId: folderId, kind: 'page', slug: 'hanabi', title: '花火大会', body, organizationId: deptA }, meta);
    expect(await media.isPublic(m)).toBe(false);
    await media.ensureScanned();
    expect((await media.whereUsed([m.id])).get(m.id)).toEqual([{ nodeId: pageId, siteId, path: '/kankou/hanabi', title: '花火大会', status: 'draft', inDraft: true, inLive: false }]);

    await pages.publish(staffA, pageId, meta);
    expect(await media.isPublic(m)).toBe(true);
    expect((await media.whereUsed([m.id])).get(m.id)?.[0]).toMatchObject({ inDraft: false, inLive: true, status: 'published' });

    // Hidden page, hidden folder above it, withdrawn page: not public, at once.
    await pages.setTemporarilyHidden(staffA, pageId, true, meta);
    expect(await media.isPublic(m)).toBe(false);
    await pages.setTemporarilyHidden(staffA, pageId, false, meta);
    expect(await media.isPublic(m)).toBe(true);
    await pages.setTemporarilyHidden(admin, folderId, true, meta);
    expect(await media.isPublic(m)).toBe(false);
    await pages.setTemporarilyHidden(admin, folderId, false, meta);
    await pages.unpublish(staffA, pageId, meta);
    expect(await media.isPublic(m)).toBe(false);
    await pages.publish(staffA, pageId, meta);
    expect(await media.isPublic(m)).toBe(true);

    // Another department naming this file in its own page does not publish it.
    const other = await media.upload(staffA, { siteId, fileName: 'secret.png', claimedMime: '', data: await files.png(200, 100) }, meta);
    const taxFolder = await pages.create(admin, { siteId, parentId: rootId, kind: 'folder', slug: 'zei', title: '税', organizationId: deptB }, meta);
    await pages.publish(admin, taxFolder, meta);
    const taxPage = await pages.create(staffB, { siteId, parentId: taxFolder, kind: 'page', slug: 'x', title: '税のページ', body: `<p><img src="/media/${other.id}" alt="x"></p>`, organizationId: deptB }, meta);
    await pages.publish(staffB, taxPage, meta);
    expect(await media.isPublic(other)).toBe(false);
  });

  it('a file in use cannot be deleted; once no page uses it, it is deleted with its files, audited', async () => {
    const m = await media.upload(staffA, { siteId, fileName: '会議録.pdf', claimedMime: 'application/pdf', data: files.pdf(), title: '会議録' }, meta);
    const pageId = await pages.create(staffA, { siteId, parentId: folderId, kind: 'page', slug: 'kaigi', title: '会議', body: `<p><a href="/media/${m.id}/file/x.pdf">会議録（PDF：1KB）</a></p>`, organizationId: deptA }, meta);
    await pages.publish(staffA, pageId, meta);
    // The draft that drops the link is not enough while the live version still has it.
    await pages.saveDraft(staffA, pageId, { title: '会議', body: '<p>資料は後日掲載します。</p>' }, meta);
    const refused = await media.delete(staffA, m.id, meta).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MediaInUseError);
    expect((refused as MediaInUseError).uses).toEqual([{ nodeId: pageId, siteId, path: '/kankou/kaigi', title: '会議', status: 'published', inDraft: false, inLive: true }]);
    expect(await media.get(m.id)).not.toBeNull();
    await pages.publish(staffA, pageId, meta);
    await media.delete(staffA, m.id, meta);
    expect(await media.get(m.id)).toBeNull();
    expect(filesUnder(dir).some((f) => f.includes(m.storage_key))).toBe(false);
    expect((await audit.list({ action: 'cms.media_delete' }, { limit: 5 })).rows[0]?.summary).toContain('会議録.pdf');
  });

  it('staff see, edit and delete only their organisation’s files (and those below it); edits are audited', async () => {
    const m = await media.upload(staffA, { siteId, fileName: 'a.gif', claimedMime: 'image/gif', data: await files.gif() }, meta);
    expect(await media.getFor(staffB, m.id)).toBeNull();
    expect(await media.getFor(actor(4, city), m.id)).not.toBeNull();
    expect((await media.list(staffB, { siteId })).items.map((x) => x.id)).not.toContain(m.id);
    expect((await media.list(staffA, { siteId, kind: 'image', q: 'A.GIF' })).items.map((x) => x.id)).toEqual([m.id]);
    expect((await media.list(staffA, { siteId, kind: 'document', q: 'a.gif' })).items).toEqual([]);
    await expect(media.update(staffB, m.id, { alt: '乗っ取り' }, meta)).rejects.toBeInstanceOf(InputError);
    await expect(media.delete(staffB, m.id, meta)).rejects.toBeInstanceOf(InputError);
    await media.update(staffA, m.id, { alt: '赤い四角形' }, meta);
    expect((await media.get(m.id))?.alt).toBe('赤い四角形');
    expect((await audit.list({ action: 'cms.media_edit' }, { limit: 5 })).rows[0]?.summary).toContain('代替テキスト「」→「赤い四角形」');
    await media.update(staffA, m.id, { alt: 'x', decorative: true }, meta);
    expect(await media.get(m.id)).toMatchObject({ alt: '', decorative: 1 });
  });
});
