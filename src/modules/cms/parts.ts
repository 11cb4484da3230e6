import type { Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { Kysely } from 'kysely';
import type { Database } from '../../core/db/index.js';
import type { AppEnv } from '../../core/http/types.js';
import type { FormValues } from '../../core/http/validate.js';
import type { PlatformModule } from '../../core/module.js';
import type { Platform } from '../../core/platform.js';
import type { Actor } from '../../core/permissions/index.js';
import type { FieldErrors } from '../../core/ui/forms.js';
import type { View } from '../../core/ui/view.js';
import type { CmsNode, CmsVersion } from './pages.js';
import type { Site } from './sites.js';
import type { CmsServices } from './index.js';

/**
 * Extension points of the CMS. Each capability (workflow, media, page types, lists, SEO…) lives
 * in its own folder and plugs into the page renderer, the editor and the publish transaction
 * here, so none of them edits another's code.
 */

/** A kind of page (standard, news, event, spot…): what staff choose when creating a page. */
export interface PageTypeDef {
  key: string;
  label: string;
  labelEn: string;
  /** Folders only for 'folder'-like types; most types are pages. */
  kinds?: Array<'folder' | 'page'>;
}

/** A child listed under a folder on the public site. */
export interface PublicChild {
  node: CmsNode;
  title: string;
  summary: string | null;
  fields: Record<string, unknown>;
}

/** Everything a part of a public page may need. `preview` is true for staff previews. */
export interface PublicPageContext {
  c: Context<AppEnv>;
  v: View;
  site: Site;
  node: CmsNode;
  version: CmsVersion;
  fields: Record<string, unknown>;
  ancestors: Array<{ node: CmsNode; title: string }>;
  children: PublicChild[];
  /** The site's path prefix ('' on a host-only site). */
  prefix: string;
  isTop: boolean;
  preview: boolean;
  /** Absolute URL of this page (for canonical, OGP, JSON-LD). */
  url: string;
}

export type PagePart = (ctx: PublicPageContext) => Child | Promise<Child>;

/** Rewrites a sanitised body before it is shown (media library: `<picture>`, the site's file URLs). */
export type BodyFilter = (html: string, ctx: PublicPageContext) => string | Promise<string>;

interface Ordered<T> {
  order: number;
  part: T;
}

/** What an editor part reads a posted form with: the staff member may limit the choices (担当課). */
export interface ReadContext {
  pageType: string;
  siteId: number;
  actor: Actor;
}

/** Everything an editor part may need. `node` is absent while creating. */
export interface EditorContext {
  v: View;
  actor: Actor;
  site: Site;
  node?: CmsNode;
  parent?: CmsNode;
  pageType: string;
  /** The values in the form (what was posted, or the working version's values). */
  values: FormValues;
  /** The working version's fields (draft, else live), {} while creating. */
  fields: Record<string, unknown>;
  errors?: FieldErrors;
}

export interface EditorPart {
  /** Inputs inside the page form, after the body (page-type fields, categories…). */
  fields?(ctx: EditorContext): Child | Promise<Child>;
  /**
   * Reads this part's inputs from a posted form into the version's fields. Field errors use the
   * input names, with Japanese messages.
   */
  read?(values: FormValues, ctx: ReadContext): { fields?: Record<string, unknown>; errors?: FieldErrors } | Promise<{ fields?: Record<string, unknown>; errors?: FieldErrors }>;
  /** Panels outside the form (workflow status, history, media where-used…). */
  panel?(ctx: EditorContext): Child | Promise<Child>;
  /** Form values for the working version's fields (so a re-rendered form shows them). */
  values?(fields: Record<string, unknown>): FormValues;
}

/** Runs inside the publish / unpublish transaction (category index, media release…). */
export type PublishHook = (tx: Kysely<Database>, event: { node: CmsNode; version: CmsVersion | null; kind: 'publish' | 'unpublish' | 'hide' | 'show' | 'trash' | 'restore' }) => Promise<void>;

/** The registries every CMS feature writes to when it is installed. */
export class CmsParts {
  private readonly types = new Map<string, PageTypeDef>([['standard', { key: 'standard', label: '標準ページ', labelEn: 'Standard page' }]]);
  private readonly head: Array<Ordered<PagePart>> = [];
  private readonly beforeBody: Array<Ordered<PagePart>> = [];
  private readonly afterBody: Array<Ordered<PagePart>> = [];
  private readonly editor: Array<Ordered<EditorPart>> = [];
  readonly publishHooks: PublishHook[] = [];
  private readonly bodyFilters: BodyFilter[] = [];

  addPageType(def: PageTypeDef): void {
    this.types.set(def.key, def);
  }

  pageTypes(): PageTypeDef[] {
    return [...this.types.values()];
  }

  pageType(key: string): PageTypeDef | undefined {
    return this.types.get(key);
  }

  /** Lower `order` renders first. */
  addHead(part: PagePart, order = 100): void {
    insertOrdered(this.head, { order, part });
  }

  /** Between the page title and the body (dates, marks, venue…). */
  addBeforeBody(part: PagePart, order = 100): void {
    insertOrdered(this.beforeBody, { order, part });
  }

  /** After the body (lists, maps, contact block, share links…). */
  addAfterBody(part: PagePart, order = 100): void {
    insertOrdered(this.afterBody, { order, part });
  }

  addEditor(part: EditorPart, order = 100): void {
    insertOrdered(this.editor, { order, part });
  }

  onPublishTx(hook: PublishHook): void {
    this.publishHooks.push(hook);
  }

  addBodyFilter(filter: BodyFilter): void {
    this.bodyFilters.push(filter);
  }

  /** The body as the page shows it, after every feature's filter. */
  async filterBody(html: string, ctx: PublicPageContext): Promise<string> {
    let out = html;
    for (const f of this.bodyFilters) out = await f(out, ctx);
    return out;
  }

  headParts(): PagePart[] {
    return this.head.map((p) => p.part);
  }

  beforeBodyParts(): PagePart[] {
    return this.beforeBody.map((p) => p.part);
  }

  afterBodyParts(): PagePart[] {
    return this.afterBody.map((p) => p.part);
  }

  editorParts(): EditorPart[] {
    return this.editor.map((p) => p.part);
  }

  /** Reads every editor part's inputs: the merged fields, or the merged errors. */
  async readFields(values: FormValues, ctx: ReadContext): Promise<{ fields: Record<string, unknown>; errors: FieldErrors }> {
    const fields: Record<string, unknown> = {};
    const errors: FieldErrors = {};
    for (const p of this.editorParts()) {
      if (!p.read) continue;
      const r = await p.read(values, ctx);
      Object.assign(fields, r.fields ?? {});
      Object.assign(errors, r.errors ?? {});
    }
    return { fields, errors };
  }

  /** Form values of every editor part for stored fields. */
  fieldValues(fields: Record<string, unknown>): FormValues {
    const out: FormValues = {};
    for (const p of this.editorParts()) if (p.values) Object.assign(out, p.values(fields));
    return out;
  }
}

function insertOrdered<T>(list: Array<Ordered<T>>, item: Ordered<T>): void {
  const at = list.findIndex((x) => x.order > item.order);
  if (at < 0) list.push(item);
  else list.splice(at, 0, item);
}

/**
 * A capability of the CMS in its own folder: what it adds to the platform (as a module does) and
 * how it plugs into the CMS's parts. The CMS module merges them (see features.ts).
 */
export interface CmsFeature extends Omit<PlatformModule, 'routes' | 'seedDemo' | 'name'> {
  name: string;
  /** Registers page types, page parts, editor parts and hooks; called once per platform. */
  install?(cms: CmsServices, p: Platform): void;
  /** Mounts admin and public routes. Public routes must be mounted before the page catch-all, so they run first. */
  routes?(app: Hono<AppEnv>, p: Platform, cms: CmsServices): void;
  seedDemo?(p: Platform, cms: CmsServices): Promise<void>;
}
