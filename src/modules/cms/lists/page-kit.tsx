/** Pieces the public pages of this feature share: ETag responses, breadcrumbs, list labels. */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { AppEnv } from '../../../core/http/types.js';
import type { Platform } from '../../../core/platform.js';
import type { CmsServices } from '../index.js';
import type { Site } from '../sites.js';
import { categoriesOf } from '../types/categories.js';
import type { ListLabels } from './view.js';

/** Sends a body with an ETag, answering 304 when the client already has it. */
export function sendWithEtag(c: Context<AppEnv>, body: string, contentType: string): Response {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 20)}"`;
  c.header('ETag', etag);
  c.header('Cache-Control', 'public, max-age=0, must-revalidate');
  if (c.req.header('if-none-match') === etag) return c.body(null, 304);
  c.header('Content-Type', contentType);
  return c.body(body);
}

/** Category, department and page-type names for a site's lists. */
export async function labelsFor(p: Platform, cms: CmsServices, site: Site, opts: { departments?: boolean } = {}): Promise<ListLabels> {
  const [cats, orgs] = await Promise.all([categoriesOf(p).list(site.id), opts.departments ? p.organizations.all() : Promise.resolve([])]);
  return {
    prefix: site.pathPrefix,
    categories: new Map(cats.map((c) => [c.id, c.name])),
    departments: new Map(orgs.map((o) => [o.id, o.name])),
    pageType: (key) => cms.parts.pageType(key)?.label ?? key,
  };
}

/** Breadcrumbs of a page of this feature: the site's top, then the given trail. */
export function Crumbs(props: { site: Site; trail: Array<{ href?: string; title: string }> }) {
  const all = [{ href: `${props.site.pathPrefix}/`, title: props.site.name }, ...props.trail];
  return (
    <nav aria-label="現在位置" class="breadcrumbs">
      <ol>{all.map((b, i) => (i < all.length - 1 && b.href ? <li><a href={b.href}>{b.title}</a></li> : <li aria-current="page">{b.title}</li>))}</ol>
    </nav>
  );
}

