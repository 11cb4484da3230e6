import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type { AuditService } from '../../../core/audit/index.js';
import type { RequestMeta } from '../../../core/auth/service.js';
import type { Database, Db } from '../../../core/db/index.js';
import { isRowId, nowIso, parseJson } from '../../../core/db/index.js';
import { InputError } from '../../../core/errors.js';
import { fieldErrors } from '../../../core/http/validate.js';
import { actorRef, type OrganizationService } from '../../../core/organizations/index.js';
import type { Actor } from '../../../core/permissions/index.js';
import type { PageService } from '../pages.js';
import type { Site, SiteService } from '../sites.js';
import { formatBytes, inspectUpload, safeFileName, UploadRefused } from './files.js';
import { processImage } from './images.js';
import { mediaIdsIn } from './markup.js';
import type { CmsMediaTable, MediaKind, MediaVariant } from './schema.js';
import type { MediaStorage } from './storage.js';

export type MediaRow = Selectable<CmsMediaTable>;

/** A library file as screens and the renderer use it. */
export interface MediaItem extends Omit<MediaRow, 'variants'> {
  variants: MediaVariant[];
}

/** A page whose working draft or live version points at a file. */
export interface MediaUse {
  nodeId: number;
  siteId: number;
  path: string;
  title: string;
  status: string;
  inDraft: boolean;
  inLive: boolean;
}

/** Deleting a file that pages still show is refused; the pages are listed. */
export class MediaInUseError extends Error {
  constructor(readonly uses: MediaUse[]) {
    super(`media in use by ${uses.length} page(s)`);
  }
}

export interface MediaLimits {
  imageBytes: number;
  documentBytes: number;
}

const details = z.object({
  alt: z.string().trim().max(300, '代替テキストは300文字以内で入力してください。').default(''),
  decorative: z.boolean().default(false),
  title: z.string().trim().max(200, 'タイトルは200文字以内で入力してください。').default(''),
  description: z.string().trim().max(1000, '説明は1000文字以内で入力してください。').default(''),
});
export type MediaDetails = z.input<typeof details>;

export interface UploadInput extends MediaDetails {
  siteId: number;
  /** The name the browser sent (any path in it is dropped). */
  fileName: string;
  /** The MIME type the browser claimed. */
  claimedMime: string;
  data: Uint8Array;
}

const toItem = (r: MediaRow): MediaItem => ({ ...r, variants: parseJson<MediaVariant[]>(r.variants, []) });

/**
 * The media library: upload with content sniffing, EXIF removal and image variants; default alt
 * text and document titles; where each file is used; and the rule that a file is public only while
 * a public page's live version shows it. Uploads, edits and deletions are audited.
 */
export class MediaService {
  constructor(
    private readonly deps: { db: Db; audit: AuditService; storage: MediaStorage; organizations: OrganizationService; sites: SiteService; pages: PageService; limits: MediaLimits },
  ) {}

  // ---- access ---------------------------------------------------------------------------------

  /** Sites an actor may put files on: its own municipality's, or any for administrators of everything. */
  async siteAllowed(actor: Actor, site: Site): Promise<boolean> {
    if (actor.allOrganizations) return true;
    if (site.organizationId === null || actor.organizationId === null) return false;
    return (await this.deps.organizations.subtree(site.organizationId)).has(actor.organizationId) || (await this.deps.organizations.canAccess(actor, site.organizationId));
  }

  async sitesFor(actor: Actor): Promise<Site[]> {
    const out: Site[] = [];
    for (const s of await this.deps.sites.all()) if (await this.siteAllowed(actor, s)) out.push(s);
    return out;
  }

  /** Whether the actor's organisation reaches the file's (the uploader's) organisation. */
  async mayTouch(actor: Actor, m: { organization_id: number | null }): Promise<boolean> {
    return m.organization_id === null ? actor.allOrganizations : this.deps.organizations.canAccess(actor, m.organization_id);
  }

  /** Organisation ids whose files the actor sees; null means every file. */
  private async visibleOrgIds(actor: Actor): Promise<number[] | null> {
    if (actor.allOrganizations) return null;
    if (actor.organizationId === null) return [];
    return [...(await this.deps.organizations.subtree(actor.organizationId))];
  }

  // ---- reading --------------------------------------------------------------------------------

  async get(id: number): Promise<MediaItem | null> {
    if (!isRowId(id)) return null;
    const row = await this.deps.db.selectFrom('cms_media').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toItem(row) : null;
  }

  /** The file if the actor may see it, else null (a guessed id looks like a missing one). */
  async getFor(actor: Actor, id: number): Promise<MediaItem | null> {
    const m = await this.get(id);
    return m && (await this.mayTouch(actor, m)) ? m : null;
  }

  /** Files of the given ids on one site (what a page body shows). */
  async forSite(siteId: number, ids: number[]): Promise<MediaItem[]> {
    if (!ids.length) return [];
    const rows = await this.deps.db.selectFrom('cms_media').selectAll().where('site_id', '=', siteId).where('id', 'in', ids.slice(0, 500)).execute();
    return rows.map(toItem);
  }

  /** The actor's files, newest first, filtered by site, kind and a part of the name or title. */
  async list(actor: Actor, filter: { siteId?: number; kind?: MediaKind; q?: string; limit?: number; offset?: number }): Promise<{ items: MediaItem[]; total: number }> {
    const orgs = await this.visibleOrgIds(actor);
    if (orgs !== null && orgs.length === 0) return { items: [], total: 0 };
    const siteIds = filter.siteId ? [filter.siteId] : (await this.sitesFor(actor)).map((s) => s.id);
    if (!siteIds.length) return { items: [], total: 0 };
    let q = this.deps.db.selectFrom('cms_media').where('site_id', 'in', siteIds);
    if (orgs !== null) q = q.where('organization_id', 'in', orgs);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    const words = (filter.q ?? '').trim().toLowerCase().slice(0, 100);
    if (words) {
      const like = `%${words.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) => eb.or([eb(eb.fn('lower', ['file_name']), 'like', like), eb(eb.fn('lower', ['title']), 'like', like), eb(eb.fn('lower', ['alt']), 'like', like)]));
    }
    const total = Number((await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())?.n ?? 0);
    const rows = await q
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(filter.limit ?? 50, 200))
      .offset(filter.offset ?? 0)
      .execute();
    return { items: rows.map(toItem), total };
  }

  async uploaderNames(ids: Array<number | null>): Promise<Map<number, string>> {
    const wanted = [...new Set(ids.filter((x): x is number => x !== null))];
    if (!wanted.length) return new Map();
    const rows = await this.deps.db.selectFrom('users').select(['id', 'display_name']).where('id', 'in', wanted).execute();
    return new Map(rows.map((r) => [r.id, r.display_name]));
  }

  // ---- upload, edit, delete ---------------------------------------------------------------------

  private parseDetails(input: MediaDetails) {
    const r = details.safeParse(input);
    if (!r.success) throw new InputError(fieldErrors(r.error));
    return r.data;
  }

  /**
   * Checks and stores an uploaded file. Refusals are InputError on `file` with a Japanese reason;
   * nothing is written unless everything passed, and a failed write leaves neither files nor row.
   */
  async upload(actor: Actor, input: UploadInput, meta: RequestMeta): Promise<MediaItem> {
    const d = this.parseDetails(input);
    const site = await this.deps.sites.get(input.siteId);
    if (!site || !(await this.siteAllowed(actor, site))) throw new InputError({ siteId: '登録先のサイトを選んでください。' });
    const fileName = safeFileName(input.fileName);
    let processed: { kind: MediaKind; mime: string; width: number | null; height: number | null; bytes: number; variants: Array<MediaVariant & { data: Uint8Array }> };
    try {
      const { type, charset } = await inspectUpload(fileName, input.claimedMime, input.data);
      const limit = type.kind === 'image' ? this.deps.limits.imageBytes : this.deps.limits.documentBytes;
      if (input.data.length > limit) {
        throw new UploadRefused(`${type.kind === 'image' ? '画像' : '文書'}は${formatBytes(limit)}以下にしてください（このファイルは${formatBytes(input.data.length)}です）。`);
      }
      if (type.kind === 'image') {
        const img = await processImage(input.data, type);
        const original = img.variants.find((v) => v.key === 'original')!;
        processed = { kind: 'image', mime: type.mime, width: img.width, height: img.height, bytes: original.bytes, variants: img.variants };
      } else {
        const mime = charset ? `${type.mime}; charset=${charset === 'utf-8' ? 'utf-8' : 'shift_jis'}` : type.mime;
        processed = { kind: 'document', mime, width: null, height: null, bytes: input.data.length, variants: [{ key: 'file', mime, width: null, height: null, bytes: input.data.length, data: input.data }] };
      }
    } catch (e) {
      if (e instanceof UploadRefused) throw new InputError({ file: e.message });
      throw e;
    }
    const { storage, db, audit } = this.deps;
    const key = storage.newKey();
    const ext = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase();
    await storage.write(key, processed.variants);
    const at = nowIso();
    const organizationId = actor.organizationId ?? site.organizationId;
    let id: number;
    try {
      id = await db.transaction().execute(async (tx) => {
        const row = await tx
          .insertInto('cms_media')
          .values({
            site_id: site.id,
            organization_id: organizationId,
            kind: processed.kind,
            file_name: fileName,
            extension: ext,
            mime: processed.mime,
            bytes: processed.bytes,
            width: processed.width,
            height: processed.height,
            alt: d.decorative ? '' : d.alt,
            decorative: d.decorative ? 1 : 0,
            title: d.title,
            description: d.description,
            storage_key: key,
            variants: JSON.stringify(processed.variants.map(({ data: _data, ...v }) => v)),
            sha256: createHash('sha256').update(input.data).digest('hex'),
            uploaded_by: actor.id || null,
            created_at: at,
            updated_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await audit.record(
          {
            actor: actorRef(actor),
            organizationId,
            ...meta,
            action: 'cms.media_upload',
            targetType: 'cms_media',
            targetId: row.id,
            summary: `メディア「${fileName}」（${formatBytes(processed.bytes)}${processed.width ? `、${processed.width}×${processed.height}` : ''}）を${site.name}に登録しました`,
          },
          tx,
        );
        return row.id;
      });
    } catch (e) {
      await storage.remove(key);
      throw e;
    }
    // A page may name this id already (typed by hand before the upload): its references must be known.
    await this.ensureScanned();
    return (await this.get(id))!;
  }

  /** Changes the default alt text, the decorative mark, title or description (audited). */
  async update(actor: Actor, id: number, input: MediaDetails, meta: RequestMeta): Promise<void> {
    const m = await this.getFor(actor, id);
    if (!m) throw new InputError({ _form: 'ファイルが見つかりません。' });
    const d = this.parseDetails(input);
    const changes: string[] = [];
    if (m.alt !== (d.decorative ? '' : d.alt)) changes.push(`代替テキスト「${m.alt}」→「${d.decorative ? '' : d.alt}」`);
    if (m.decorative !== (d.decorative ? 1 : 0)) changes.push(d.decorative ? '装飾画像に設定' : '装飾画像の設定を解除');
    if (m.title !== d.title) changes.push(`タイトル「${m.title}」→「${d.title}」`);
    if (m.description !== d.description) changes.push('説明を変更');
    if (!changes.length) return;
    await this.deps.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('cms_media')
        .set({ alt: d.decorative ? '' : d.alt, decorative: d.decorative ? 1 : 0, title: d.title, description: d.description, updated_at: nowIso() })
        .where('id', '=', id)
        .execute();
      await this.deps.audit.record(
        { actor: actorRef(actor), organizationId: m.organization_id, ...meta, action: 'cms.media_edit', targetType: 'cms_media', targetId: id, summary: `メディア「${m.file_name}」: ${changes.join('、')}` },
        tx,
      );
    });
  }

  /** Deletes a file no page uses; throws MediaInUseError listing the pages otherwise. */
  async delete(actor: Actor, id: number, meta: RequestMeta): Promise<void> {
    const m = await this.getFor(actor, id);
    if (!m) throw new InputError({ _form: 'ファイルが見つかりません。' });
    await this.ensureScanned();
    await this.deps.db.transaction().execute(async (tx) => {
      const uses = (await this.whereUsed([id], tx)).get(id) ?? [];
      if (uses.length) throw new MediaInUseError(uses);
      await tx.deleteFrom('cms_media').where('id', '=', id).execute();
      await this.deps.audit.record(
        { actor: actorRef(actor), organizationId: m.organization_id, ...meta, action: 'cms.media_delete', targetType: 'cms_media', targetId: id, summary: `メディア「${m.file_name}」（${formatBytes(m.bytes)}）を削除しました` },
        tx,
      );
    });
    await this.deps.storage.remove(m.storage_key);
  }

  // ---- where used -----------------------------------------------------------------------------

  /** Records which files a version names (versions never change, so once is enough). */
  async recordVersion(tx: Kysely<Database>, version: { id: number; body_html: string; fields: string }): Promise<void> {
    const ids = mediaIdsIn(version.body_html, version.fields);
    if (ids.length) await tx.insertInto('cms_media_refs').values(ids.map((media_id) => ({ version_id: version.id, media_id }))).onConflict((oc) => oc.doNothing()).execute();
    await tx.insertInto('cms_media_scanned').values({ version_id: version.id }).onConflict((oc) => oc.doNothing()).execute();
  }

  /**
   * Reads the references of every draft and live version not read yet. Publishing records the
   * live version in its own transaction; drafts are picked up here, before anything lists uses.
   */
  async ensureScanned(): Promise<number> {
    const { db } = this.deps;
    let done = 0;
    for (const column of ['draft_version_id', 'published_version_id'] as const) {
      for (;;) {
        const batch = await db
          .selectFrom('cms_nodes')
          .innerJoin('cms_versions', 'cms_versions.id', `cms_nodes.${column}`)
          .leftJoin('cms_media_scanned', 'cms_media_scanned.version_id', 'cms_versions.id')
          .where('cms_media_scanned.version_id', 'is', null)
          .select(['cms_versions.id as id', 'cms_versions.body_html as body_html', 'cms_versions.fields as fields'])
          .limit(200)
          .execute();
        if (!batch.length) break;
        await db.transaction().execute(async (tx) => {
          for (const v of batch) await this.recordVersion(tx, v);
        });
        done += batch.length;
        if (batch.length < 200) break;
      }
    }
    return done;
  }

  /**
   * The pages whose working draft or live version names each file (call ensureScanned first).
   * Trashed and withdrawn pages count: they can come back.
   */
  async whereUsed(ids: number[], tx: Kysely<Database> = this.deps.db): Promise<Map<number, MediaUse[]>> {
    const out = new Map<number, MediaUse[]>();
    if (!ids.length) return out;
    for (const column of ['draft_version_id', 'published_version_id'] as const) {
      const rows = await tx
        .selectFrom('cms_media_refs')
        .innerJoin('cms_nodes', `cms_nodes.${column}`, 'cms_media_refs.version_id')
        .innerJoin('cms_versions', 'cms_versions.id', 'cms_media_refs.version_id')
        .select(['cms_media_refs.media_id as media_id', 'cms_nodes.id as node_id', 'cms_nodes.site_id as site_id', 'cms_nodes.path as path', 'cms_nodes.status as status', 'cms_versions.title as title'])
        .where('cms_media_refs.media_id', 'in', ids)
        .execute();
      for (const r of rows) {
        const list = out.get(r.media_id) ?? [];
        let use = list.find((u) => u.nodeId === r.node_id);
        if (!use) {
          use = { nodeId: r.node_id, siteId: r.site_id, path: r.path, title: r.title, status: r.status, inDraft: false, inLive: false };
          list.push(use);
        }
        if (column === 'draft_version_id') {
          use.inDraft = true;
          use.title = r.title;
        } else use.inLive = true;
        out.set(r.media_id, list);
      }
    }
    for (const list of out.values()) list.sort((a, b) => a.path.localeCompare(b.path));
    return out;
  }

  // ---- public access --------------------------------------------------------------------------

  /** Whether a page of organisation `a` may show a file of organisation `b` (same, above or below). */
  async orgsRelated(a: number | null, b: number | null): Promise<boolean> {
    if (a === null || b === null || a === b) return true;
    const orgs = this.deps.organizations;
    return (await orgs.subtree(a)).has(b) || (await orgs.subtree(b)).has(a);
  }

  /**
   * Whether the public may fetch the file: a page of its site whose live version names it is
   * public (published, not hidden, every folder above public), and that page belongs to the
   * uploader's organisation or one above or below it — so naming another department's file in
   * one's own page does not publish it.
   */
  async isPublic(m: MediaItem): Promise<boolean> {
    const pages = await this.deps.db
      .selectFrom('cms_media_refs')
      .innerJoin('cms_nodes', 'cms_nodes.published_version_id', 'cms_media_refs.version_id')
      .select(['cms_nodes.path as path', 'cms_nodes.organization_id as organization_id'])
      .where('cms_media_refs.media_id', '=', m.id)
      .where('cms_nodes.site_id', '=', m.site_id)
      .where('cms_nodes.status', '=', 'published')
      .where('cms_nodes.temporarily_hidden', '=', 0)
      .execute();
    for (const page of pages) {
      if (!(await this.orgsRelated(page.organization_id, m.organization_id))) continue;
      if (await this.deps.pages.findPublic(m.site_id, page.path)) return true;
    }
    return false;
  }
}
