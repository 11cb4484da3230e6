/**
 * Rendered public pages, kept until a change lands on their site. Content changes clear exactly
 * the site they touch (its lists, breadcrumbs and top page can all show the changed page), never
 * on a timer, so a published change is visible on the next request.
 */
export class RenderCache {
  private readonly entries = new Map<string, { html: string; etag: string }>();
  /** Off until every node's changes can reach this one (see cluster-sync.ts). */
  enabled = true;

  constructor(private readonly maxEntries = 5000) {}

  get(siteId: number, path: string, locale: string) {
    return this.entries.get(`${siteId}|${locale}|${path}`);
  }

  set(siteId: number, path: string, locale: string, html: string, etag: string): void {
    if (!this.enabled) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(`${siteId}|${locale}|${path}`, { html, etag });
  }

  clearSite(siteId: number): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${siteId}|`)) this.entries.delete(key);
  }

  clearAll(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
