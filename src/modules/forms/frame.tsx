import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../../core/http/types.js';
import type { Platform } from '../../core/platform.js';
import { PublicLayout } from '../../core/ui/layout.js';
import type { View } from '../../core/ui/view.js';
import { cmsOf } from '../cms/index.js';
import { SiteFrame } from '../cms/frame.js';
import type { Site } from '../cms/sites.js';
import { FormsHead } from './views.js';

/**
 * The site whose design frames a form's own pages: the one the embedding page belonged to
 * (`_site` / `?site=`), else the site of the address, else none (the platform's plain frame).
 */
export async function frameSite(c: Context<AppEnv>, p: Platform, siteId: number | null): Promise<Site | null> {
  const sites = cmsOf(p).sites;
  if (siteId) {
    const s = await sites.get(siteId).catch(() => undefined);
    if (s) return s;
  }
  const resolved = await sites.resolve(c.req.header('host') ?? '', c.req.path).catch(() => null);
  return resolved?.site ?? null;
}

/** A public form page in the frame of its site, with the module's stylesheet and script. */
export function FormFrame(props: { c: Context<AppEnv>; v: View; site: Site | null; title: string; children: Child }) {
  const { c, v, site } = props;
  if (site) {
    return (
      <SiteFrame c={c} v={v} site={site} title={props.title} head={<FormsHead />}>
        {props.children}
      </SiteFrame>
    );
  }
  return (
    <PublicLayout v={v} title={props.title} siteName={v.t('app.name')} head={<FormsHead />}>
      {props.children}
    </PublicLayout>
  );
}
