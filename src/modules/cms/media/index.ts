import type { Platform } from '../../../core/platform.js';
import { registerMessages } from '../../../core/i18n/index.js';
import { str } from '../../../core/http/validate.js';
import type { CmsServices } from '../index.js';
import type { CmsFeature } from '../parts.js';
import { seedDemoMedia } from './demo.js';
import { mediaIdsIn, renderableIds, renderMediaInBody } from './markup.js';
import { mediaMigrations } from './migrations.js';
import { mountMediaAdminRoutes, mountPublicMediaRoute } from './routes.js';
import { MediaService } from './service.js';
import { MediaStorage } from './storage.js';
import { MediaUrlSigner } from './signing.js';
import { EditorLibraryHook, PageFilesPanel } from './views.js';
import './schema.js';

registerMessages({ ja: { 'nav.cmsMedia': 'メディアライブラリ' }, en: { 'nav.cmsMedia': 'Media library' } });

interface MediaParts {
  service: MediaService;
  storage: MediaStorage;
  signer: MediaUrlSigner;
}

const perPlatform = new WeakMap<Platform, MediaParts>();

/** The media library's service and storage of a platform (created when the CMS installs its features). */
export function mediaOf(p: Platform): MediaParts {
  const m = perPlatform.get(p);
  if (!m) throw new Error('the media library is not installed (call cmsOf(platform) first)');
  return m;
}

function install(cms: CmsServices, p: Platform): void {
  const storage = new MediaStorage(p.config.MEDIA_DIR);
  const service = new MediaService({
    db: p.db,
    audit: p.audit,
    storage,
    organizations: p.organizations,
    sites: cms.sites,
    pages: cms.pages,
    limits: { imageBytes: p.config.MEDIA_MAX_IMAGE_BYTES, documentBytes: p.config.MEDIA_MAX_DOCUMENT_BYTES },
  });
  const signer = new MediaUrlSigner(p.secretKey);
  perPlatform.set(p, { service, storage, signer });
  // Backups keep the files with the rows that name them (H-18, D-01); restore puts both back together.
  p.backup.addDirectory({ key: 'media', path: storage.root });

  // The live version's references are known in the same transaction that makes it public.
  cms.parts.onPublishTx(async (tx, { version }) => {
    if (version) await service.recordVersion(tx, version);
  });

  // Library images become <picture> with WebP and every width; file links get the site's address.
  cms.parts.addBodyFilter(async (html, ctx) => {
    const ids = renderableIds(html);
    if (!ids.length) return html;
    const files = new Map((await service.forSite(ctx.site.id, ids)).map((m) => [m.id, m]));
    if (!ctx.preview) return renderMediaInBody(html, ctx.prefix, files);
    // A preview shows a page that may not be public yet, possibly to someone not signed in: its
    // files get signed addresses — only files the page's organisation may show, as on the public
    // site, so a draft naming another department's file cannot hand it out through a preview link.
    const mayShow = new Set<number>();
    for (const m of files.values()) if (await service.orgsRelated(ctx.node.organization_id, m.organization_id)) mayShow.add(m.id);
    return renderMediaInBody(html, ctx.prefix, files, (id) => (mayShow.has(id) ? signer.query(id) : ''));
  });

  cms.parts.addEditor({
    fields: (ctx) => EditorLibraryHook({ siteId: ctx.site.id }),
    panel: async (ctx) => {
      const items = await service.forSite(ctx.site.id, mediaIdsIn(str(ctx.values.body)));
      const visible = [];
      for (const m of items) if (await service.mayTouch(ctx.actor, m)) visible.push(m);
      return PageFilesPanel({ items: visible });
    },
  });
}

/**
 * The CMS media library (issue 3, item 4): images and documents per site, checked by content,
 * photos stripped of EXIF, image widths in the original format and WebP, where-used, and files
 * served to the public only while a public page shows them. See README.md.
 */
export const mediaFeature: CmsFeature = {
  name: 'cms.media',
  migrations: mediaMigrations,
  adminMenu: [{ label: 'nav.cmsMedia', href: '/admin/cms/media', permission: 'cms.edit', order: 11 }],
  install,
  routes(app, p, cms) {
    const { service, storage, signer } = mediaOf(p);
    mountMediaAdminRoutes(app, p, service, storage);
    mountPublicMediaRoute(app, cms, service, storage, signer);
  },
  seedDemo: (p, cms) => seedDemoMedia(p, cms, mediaOf(p).service),
};
