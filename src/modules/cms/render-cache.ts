import type { ContentChange } from './pages.js';

/** Pages that show automatic lists (the top page, folders, category and list pages) carry this tag. */
export const LIST_TAG = 'list';
/** Entries whose dependencies nobody declared: any change on their site clears them. */
const ANY_TAG = 'any';
/** How long a render that missed the cache is trusted to be running (a longer one is forgotten). */
const RENDER_WINDOW_MS = 30_000;
const MAX_PENDING = 10_000;
const MAX_INVALIDATION_MARKS = 50_000;

/** The tag of a node whose title, visibility or body a page shows (itself, its breadcrumbs). */
export function nodeTag(nodeId: number): string {
  return `node:${nodeId}`;
}

/** The tag of a folder page that lists its children: a child appearing or changing clears it. */
export function childrenTag(folderPath: string): string {
  return `children:${folderPath}`;
}

/** '/a/b' and '/a/b/' → '/a/'; the root has no parent. */
export function parentPath(path: string): string | null {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const at = trimmed.lastIndexOf('/');
  return at < 0 || path === '/' ? null : trimmed.slice(0, at + 1);
}

/**
 * The tags a change clears: the node itself (its page and every page below it, which shows it in
 * the breadcrumbs and disappears with it), the folder listing it, and every automatic list.
 * null means the whole site: moves and settings change too much to follow precisely.
 */
export function changeTags(change: ContentChange): string[] | null {
  if (!change.nodeId || !change.path || change.kind === 'move' || change.kind === 'settings') return null;
  const tags = [nodeTag(change.nodeId), LIST_TAG, ANY_TAG];
  const parent = parentPath(change.path);
  if (parent) tags.push(childrenTag(parent));
  return tags;
}

/** What a rendered public page read, as PageService.findPublic returns it. */
export interface RenderedPage {
  node: { id: number; path: string; kind: string };
  ancestors: ReadonlyArray<{ node: { id: number } }>;
}

interface Entry {
  siteId: number;
  html: string;
  etag: string;
  tags: string[];
}

/**
 * Rendered public pages, each tagged with what it shows, so a change clears exactly the pages it
 * lands on (Joruri's dependency idea, kept simple): the changed node's own page and the pages
 * below it, the folder listing it, and every page with an automatic list. Never on a timer, so a
 * published change is visible on the next request.
 *
 * Tags come from `tagsFor(c, page)` (node, ancestors, children of a folder, lists) plus whatever
 * page parts declared with `dependOn(c, tag)` while rendering. An entry stored without tags is
 * cleared by any change on its site.
 */
export class RenderCache {
  private readonly entries = new Map<string, Entry>();
  /** `${siteId}|${tag}` → keys of the entries carrying it. */
  private readonly byTag = new Map<string, Set<string>>();
  private readonly declared = new WeakMap<object, Set<string>>();
  /** Counts invalidations; a render that started before one touching its tags is not stored. */
  private seq = 0;
  /** `${siteId}|${tag}` (or `${siteId}|*` for the whole site) → seq of its last invalidation. */
  private readonly invalidatedAt = new Map<string, number>();
  private readonly siteInvalidatedMs = new Map<number, number>();
  private allInvalidatedMs = 0;
  /** Everything older than this seq counts as invalidated (after clearAll or forgetting marks). */
  private floor = 0;
  /** Renders under way per key: the seq when the first of them missed, and how many there are. */
  private readonly pending = new Map<string, { seq: number; count: number; at: number }>();
  /** Off until every node's changes can reach this one (see cluster-sync.ts). */
  enabled = true;

  constructor(private readonly maxEntries = 5000) {}

  get(siteId: number, path: string, locale: string): { html: string; etag: string } | undefined {
    const key = keyOf(siteId, path, locale);
    const hit = this.entries.get(key);
    if (hit) return hit;
    if (this.enabled) this.notePending(key);
    return undefined;
  }

  /**
   * Stores a rendered page. `tags` lists what it shows (see tagsFor); without them any change on
   * the site clears it. A page whose render began before a change touching it is not stored:
   * it may hold the old content.
   */
  set(siteId: number, path: string, locale: string, html: string, etag: string, tags?: Iterable<string>): void {
    const key = keyOf(siteId, path, locale);
    const list = tags ? [...new Set(tags)] : [ANY_TAG];
    const startedAt = this.takePending(key);
    if (!this.enabled) return;
    if (this.changedSince(siteId, list, startedAt)) return;
    this.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.delete(oldest);
    }
    this.entries.set(key, { siteId, html, etag, tags: list });
    for (const tag of list) {
      const tk = `${siteId}|${tag}`;
      let keys = this.byTag.get(tk);
      if (!keys) this.byTag.set(tk, (keys = new Set()));
      keys.add(key);
    }
  }

  /**
   * Records that the page being rendered for this request depends on more than its own node:
   * a part showing an automatic list calls `cms.cache.dependOn(ctx.c, LIST_TAG)`.
   */
  dependOn(request: object, ...tags: string[]): void {
    let set = this.declared.get(request);
    if (!set) this.declared.set(request, (set = new Set()));
    for (const t of tags) set.add(t);
  }

  /**
   * The tags of a rendered page: itself and its ancestors (breadcrumbs, and it disappears with
   * them), a folder's children, lists on the top page and on folders (which features fill with
   * automatic lists; when unsure, clear more), and what the request declared with dependOn.
   * @example cms.cache.set(site.id, path, locale, html, etag, cms.cache.tagsFor(c, found))
   */
  tagsFor(request: object, page: RenderedPage): string[] {
    const tags = new Set([nodeTag(page.node.id), ...page.ancestors.map((a) => nodeTag(a.node.id))]);
    if (page.node.kind === 'folder') {
      tags.add(childrenTag(page.node.path));
      tags.add(LIST_TAG);
    }
    for (const t of this.declared.get(request) ?? []) tags.add(t);
    return [...tags];
  }

  /** Clears the entries a change shows on (see changeTags); the whole site when unsure. */
  invalidate(change: ContentChange): void {
    const tags = changeTags(change);
    if (!tags) return this.clearSite(change.siteId);
    this.seq++;
    this.siteInvalidatedMs.set(change.siteId, Date.now());
    for (const tag of tags) {
      const tk = `${change.siteId}|${tag}`;
      this.mark(tk);
      for (const key of [...(this.byTag.get(tk) ?? [])]) this.delete(key);
    }
  }

  clearSite(siteId: number): void {
    this.seq++;
    this.siteInvalidatedMs.set(siteId, Date.now());
    this.mark(`${siteId}|*`);
    for (const [key, e] of this.entries) if (e.siteId === siteId) this.delete(key);
  }

  clearAll(): void {
    this.seq++;
    this.floor = this.seq;
    this.entries.clear();
    this.byTag.clear();
    this.allInvalidatedMs = Date.now();
  }

  /** Whether an entry is cached (for tests and the benchmark). */
  has(siteId: number, path: string, locale: string): boolean {
    return this.entries.has(keyOf(siteId, path, locale));
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    for (const tag of e.tags) {
      const tk = `${e.siteId}|${tag}`;
      const keys = this.byTag.get(tk);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tk);
    }
  }

  private mark(tk: string): void {
    if (this.invalidatedAt.size >= MAX_INVALIDATION_MARKS) {
      // Forgetting which tags changed must not let an old render in: count them all as changed.
      this.invalidatedAt.clear();
      this.floor = this.seq;
    }
    this.invalidatedAt.set(tk, this.seq);
  }

  private notePending(key: string): void {
    const now = Date.now();
    const p = this.pending.get(key);
    if (p && now - p.at < RENDER_WINDOW_MS) {
      p.count++;
      return;
    }
    if (this.pending.size >= MAX_PENDING) this.prunePending(now);
    this.pending.set(key, { seq: this.seq, count: 1, at: now });
  }

  /** The seq at which the oldest render under way for the key started, or null if unknown. */
  private takePending(key: string): number | null {
    const p = this.pending.get(key);
    if (!p) return null;
    if (--p.count <= 0) this.pending.delete(key);
    return Date.now() - p.at < RENDER_WINDOW_MS ? p.seq : null;
  }

  private prunePending(now: number): void {
    for (const [key, p] of this.pending) if (now - p.at >= RENDER_WINDOW_MS) this.pending.delete(key);
    // Requests that miss and never store (404s, errors) could pile up; forgotten ones fall back to the time check.
    if (this.pending.size >= MAX_PENDING) {
      let drop = this.pending.size - MAX_PENDING / 2;
      for (const key of this.pending.keys()) {
        if (drop-- <= 0) break;
        this.pending.delete(key);
      }
    }
  }

  private changedSince(siteId: number, tags: string[], startedAt: number | null): boolean {
    if (startedAt === null) {
      // Unknown start: refuse while a change on the site is recent enough to overlap the render.
      const last = Math.max(this.siteInvalidatedMs.get(siteId) ?? 0, this.allInvalidatedMs);
      return Date.now() - last < RENDER_WINDOW_MS;
    }
    if (startedAt < this.floor) return true;
    if ((this.invalidatedAt.get(`${siteId}|*`) ?? -1) > startedAt) return true;
    // Every precise invalidation also marks ANY_TAG, so untagged entries compare against all of them.
    return tags.some((t) => (this.invalidatedAt.get(`${siteId}|${t}`) ?? -1) > startedAt);
  }
}

function keyOf(siteId: number, path: string, locale: string): string {
  return `${siteId}|${locale}|${path}`;
}
