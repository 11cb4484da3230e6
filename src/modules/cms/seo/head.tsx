import { JsonLd, jsonForScript } from '../../../core/ui/json-script.js';
/**
 * What the SEO feature puts on public pages: the head (description, canonical, OGP, X card,
 * JSON-LD, noindex), the share links after the body, and GA4 on every page of a site that has a
 * measurement id (C-3-21) with the CSP sources it needs for that site only.
 */
import type { Context } from 'hono';
import { raw } from 'hono/html';
import { Parser } from 'htmlparser2';
import type { AppEnv } from '../../../core/http/types.js';
import { registerAsset } from '../../../core/ui/assets.js';
import type { View } from '../../../core/ui/view.js';
import { bodyText } from '../feeds.js';
import { isPreview, siteOrigin } from '../frame.js';
import type { PublicPageContext } from '../parts.js';
import type { Site } from '../sites.js';

const DESCRIPTION_CHARS = 120;



/** The first image of a sanitised body (its src), if any. */
export function firstImage(html: string): string | null {
  let src: string | null = null;
  const parser = new Parser({
    onopentag(name, attrs) {
      if (src === null && name === 'img' && attrs.src && !/^data:/i.test(attrs.src)) src = attrs.src;
    },
  }, { decodeEntities: true });
  parser.write(html);
  parser.end();
  return src;
}

/** An absolute http(s) address for `src` as seen from `pageUrl`, or null. */
function absolute(src: string | null | undefined, pageUrl: string): string | null {
  if (!src) return null;
  try {
    const u = new URL(src, pageUrl);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** The page's description: its summary, else the start of its body (the top page may use the site's). */
export function pageDescription(ctx: Pick<PublicPageContext, 'version' | 'isTop' | 'site'>): string {
  const own = ctx.version.summary?.trim();
  if (own) return own;
  if (ctx.isTop && ctx.site.settings.description) return ctx.site.settings.description;
  return bodyText(ctx.version.body_html, DESCRIPTION_CHARS) || ctx.site.settings.description || '';
}

/** The share image: the page's first image, else the site's default; absolute. */
export function shareImage(ctx: Pick<PublicPageContext, 'version' | 'site' | 'url'>): string | null {
  return absolute(firstImage(ctx.version.body_html), ctx.url) ?? absolute(ctx.site.settings.ogImage, ctx.url);
}

/** Head part: description, canonical, robots, OGP, X card and JSON-LD of a public page. */
export function seoHead(isNoindex: (nodeId: number) => Promise<boolean>) {
  return async (ctx: PublicPageContext) => {
    const { site, version, isTop, url, c } = ctx;
    const origin = siteOrigin(c, site);
    const home = `${origin}${site.pathPrefix}/`;
    const title = isTop ? site.name : version.title;
    const description = pageDescription(ctx);
    const image = shareImage(ctx);
    const noindex = ctx.preview || (await isNoindex(ctx.node.id));
    const crumbs = [...ctx.ancestors.map((a) => ({ name: a.node.path === '/' ? site.name : a.title, url: `${origin}${site.pathPrefix}${a.node.path}` })), { name: title, url }];
    const breadcrumbs = {
      '@context': 'https://schema.org',
      '@type': 'BreadcrumbList',
      itemListElement: crumbs.map((b, i) => ({ '@type': 'ListItem', position: i + 1, name: b.name, item: b.url })),
    };
    const logo = absolute(site.settings.logoUrl, home);
    return (
      <>
        {description ? <meta name="description" content={description} /> : null}
        {noindex ? <meta name="robots" content={ctx.preview ? 'noindex, nofollow' : 'noindex'} /> : null}
        <link rel="canonical" href={url} />
        <meta property="og:title" content={title} />
        <meta property="og:type" content={isTop ? 'website' : 'article'} />
        <meta property="og:url" content={url} />
        {image ? <meta property="og:image" content={image} /> : null}
        {description ? <meta property="og:description" content={description} /> : null}
        <meta property="og:site_name" content={site.name} />
        <meta property="og:locale" content="ja_JP" />
        <meta name="twitter:card" content={image ? 'summary_large_image' : 'summary'} />
        <meta name="twitter:title" content={title} />
        {description ? <meta name="twitter:description" content={description} /> : null}
        {image ? <meta name="twitter:image" content={image} /> : null}
        <JsonLd data={breadcrumbs} />
        {isTop ? (
          <>
            <JsonLd
              data={{
                '@context': 'https://schema.org',
                '@type': 'WebSite',
                name: site.name,
                ...(site.nameEn ? { alternateName: site.nameEn } : {}),
                url: home,
                inLanguage: 'ja',
                potentialAction: { '@type': 'SearchAction', target: { '@type': 'EntryPoint', urlTemplate: `${origin}${site.pathPrefix}/search?q={search_term_string}` }, 'query-input': 'required name=search_term_string' },
              }}
            />
            <JsonLd data={{ '@context': 'https://schema.org', '@type': 'GovernmentOrganization', name: site.name, url: home, ...(logo ? { logo } : {}), ...(site.settings.description ? { description: site.settings.description } : {}) }} />
          </>
        ) : null}
      </>
    );
  };
}

const SHARE_SCRIPT = `(() => {
  for (const button of document.querySelectorAll('button.share-copy')) {
    if (!navigator.clipboard) continue;
    const item = button.closest('.share-copy-item');
    const status = item.querySelector('.share-copy-status');
    item.hidden = false;
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(button.dataset.url);
        status.textContent = 'このページのアドレスをコピーしました。';
      } catch {
        status.textContent = 'コピーできませんでした。ブラウザのアドレス欄からコピーしてください。';
      }
    });
  }
})();
`;
/** Progressive enhancement only: without it the share links still work and the copy button stays hidden. */
const shareScriptPath = registerAsset('share.js', SHARE_SCRIPT, 'text/javascript; charset=utf-8');

/** The services the share links go to: plain links to their documented share URLs, nothing loaded from them. */
export function shareLinks(url: string, title: string): Array<{ label: string; href: string }> {
  const u = encodeURIComponent(url);
  return [
    { label: 'X（旧Twitter）', href: `https://x.com/intent/post?text=${encodeURIComponent(title)}&url=${u}` },
    { label: 'Facebook', href: `https://www.facebook.com/sharer/sharer.php?u=${u}` },
    { label: 'LINE', href: `https://social-plugins.line.me/lineit/share?url=${u}` },
  ];
}

/** After the body: share links without any third-party script or frame (not on the top page). */
export function ShareLinks(ctx: PublicPageContext) {
  if (ctx.isTop) return null;
  return (
    <section class="share" aria-labelledby="share-title">
      <h2 id="share-title">このページを共有する</h2>
      <ul class="site-menu share-links">
        {shareLinks(ctx.url, ctx.version.title).map((s) => (
          <li>
            <a href={s.href} rel="noopener noreferrer" target="_blank">
              {s.label}で共有<span class="visually-hidden">（新しいウィンドウで開きます）</span>
            </a>
          </li>
        ))}
        <li class="share-copy-item" hidden>
          <button type="button" class="share-copy button--small button--secondary" data-url={ctx.url}>リンクをコピー</button>
          <span class="share-copy-status" role="status"></span>
        </li>
      </ul>
      <script src={shareScriptPath} defer></script>
    </section>
  );
}

/** Google's documented CSP sources for GA4 (script, its beacons). */
export const GA4_CSP = {
  script: ['https://www.googletagmanager.com'],
  connect: ['https://*.google-analytics.com', 'https://*.analytics.google.com', 'https://www.googletagmanager.com'],
  img: ['https://*.google-analytics.com', 'https://www.googletagmanager.com'],
};

function gaActive(c: Context<AppEnv>, site: Site): boolean {
  return Boolean(site.settings.ga4Id) && !isPreview(c);
}

/** C-3-21: the gtag snippet, nonce-bearing, on every page of a site with a measurement id (never previews or admin). */
export function ga4Head(props: { site: Site; v: View; c: Context<AppEnv> }) {
  const id = props.site.settings.ga4Id;
  if (!id || !gaActive(props.c, props.site)) return null;
  const code = `window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());gtag('config',${jsonForScript(id)});`;
  return (
    <>
      <script async src={`https://www.googletagmanager.com/gtag/js?id=${encodeURIComponent(id)}`} nonce={props.v.nonce}></script>
      <script nonce={props.v.nonce}>{raw(code)}</script>
    </>
  );
}

/** CSP additions for a site's response: GA4's hosts when it measures, its logo's host when external. */
export function siteCsp(c: Context<AppEnv>, site: Site): void {
  const add: { script: string[]; connect: string[]; img: string[] } = { script: [], connect: [], img: [] };
  if (gaActive(c, site)) {
    add.script.push(...GA4_CSP.script);
    add.connect.push(...GA4_CSP.connect);
    add.img.push(...GA4_CSP.img);
  }
  const logo = site.settings.logoUrl;
  if (logo && /^https:\/\//i.test(logo)) {
    try {
      add.img.push(new URL(logo).origin);
    } catch {
      // not a URL: the image simply does not load
    }
  }
  if (!add.script.length && !add.connect.length && !add.img.length) return;
  const prev = c.get('cspSources') ?? {};
  const merge = (a: string[] | undefined, b: string[]) => [...new Set([...(a ?? []), ...b])];
  c.set('cspSources', { script: merge(prev.script, add.script), connect: merge(prev.connect, add.connect), img: merge(prev.img, add.img) });
}
