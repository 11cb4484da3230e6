import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import { assets } from './assets.js';
import type { View } from './view.js';
import { formatPeriod, visibleMenu } from './view.js';
import type { MenuEntry } from '../module.js';

function langSwitchHref(v: View): string {
  return `/lang/${v.locale === 'ja' ? 'en' : 'ja'}?next=${encodeURIComponent(v.url)}`;
}

/** The HTML document: language, viewport, stylesheets, title 「ページ名 | サイト名」. */
export function Document(props: { v: View; title: string; siteName: string; children: Child; head?: Child; bodyClass?: string }) {
  const fullTitle = props.title ? `${props.title} | ${props.siteName}` : props.siteName;
  return (
    <>
      {raw('<!doctype html>')}
      <html lang={props.v.locale}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{fullTitle}</title>
          <link rel="stylesheet" href={assets.tokens.path} />
          <link rel="stylesheet" href={assets.app.path} />
          {props.head}
        </head>
        <body class={props.bodyClass}>{props.children}</body>
      </html>
    </>
  );
}

/** The staff screens: navigation by permission, user box, language switch, main landmark. */
export function AdminLayout(props: { v: View; title: string; menu: MenuEntry[]; children: Child; flash?: Child }) {
  const { v } = props;
  const t = v.t;
  const items = visibleMenu(props.menu, v.actor);
  // Only the longest matching entry is current: /admin/cms/media is メディア, not also ページ管理.
  const current = items.filter((m) => isCurrent(v.path, m.href)).sort((a, b) => b.href.length - a.href.length)[0]?.href;
  return (
    <Document v={v} title={props.title} siteName={`${t('app.name')} ${t('app.admin')}`}>
      <a class="skip-link" href="#main">{t('common.skip')}</a>
      <div class={v.actor ? 'admin' : 'admin admin--signed-out'}>
        {v.actor ? (
          <nav class="admin-nav" aria-label={t('nav.menu')}>
            <h2>{t('app.name')}</h2>
            <ul>
              {items.map((m) => (
                <li>
                  <a href={m.href} aria-current={m.href === current ? 'page' : undefined}>{t(m.label)}</a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        <div class="admin-main">
          <header class="site-header">
            <div class="site-header__inner">
              <a class="site-header__brand" href="/admin">{t('app.name')} {t('app.admin')}</a>
              <div class="site-header__tools">
                <a href={langSwitchHref(v)} lang={v.locale === 'ja' ? 'en' : 'ja'}>{t('common.language')}</a>
                {v.actor ? (
                  <>
                    <span class="admin-user">{v.actor.displayName}（{v.actor.loginId}）</span>
                    <form method="post" action="/admin/logout" class="inline-form">
                      <input type="hidden" name="_csrf" value={v.csrf} />
                      <button type="submit" class="button button--secondary button--small">{t('nav.logout')}</button>
                    </form>
                  </>
                ) : null}
              </div>
            </div>
          </header>
          <main id="main" tabindex={-1}>
            <h1>{props.title}</h1>
            {props.flash}
            {props.children}
          </main>
        </div>
      </div>
    </Document>
  );
}

function isCurrent(path: string, href: string): boolean {
  return href === '/admin' ? path === '/admin' : path === href || path.startsWith(`${href}/`);
}

/** The resident-facing frame: header, footer, skip link; modules put their content inside. */
export function PublicLayout(props: {
  v: View;
  title: string;
  siteName: string;
  children: Child;
  header?: Child;
  footer?: Child;
  banner?: Child;
  head?: Child;
  /** Where the site name links to (a site served under a path prefix has its own top). */
  homeHref?: string;
  /** What the home link shows instead of the site name (a logo whose alt text is the name). */
  brand?: Child;
}) {
  const { v } = props;
  return (
    <Document v={v} title={props.title} siteName={props.siteName} head={props.head}>
      <a class="skip-link" href="#main">{v.t('common.skip')}</a>
      {props.banner}
      {v.notice ? <MaintenanceBanner v={v} notice={v.notice} /> : null}
      <header class="site-header">
        <div class="site-header__inner">
          <a class="site-header__brand" href={props.homeHref ?? '/'}>{props.brand ?? props.siteName}</a>
          <div class="site-header__tools">
            {props.header}
            <a href={langSwitchHref(v)} lang={v.locale === 'ja' ? 'en' : 'ja'}>{v.t('common.language')}</a>
          </div>
        </div>
      </header>
      <main id="main" tabindex={-1}>
        <div class="container">{props.children}</div>
      </main>
      <footer class="site-footer">
        <div class="container">{props.footer ?? <p>© {props.siteName}</p>}</div>
      </footer>
    </Document>
  );
}

/** The planned-maintenance announcement every public page carries while one is announced (C-5). */
function MaintenanceBanner(props: { v: View; notice: NonNullable<View['notice']> }) {
  const { v, notice } = props;
  return (
    <div class="banner-maintenance" role="region" aria-label={v.t('maintenance.banner.label')}>
      <p>
        <strong>{notice.title}</strong>
        <br />
        {v.t('maintenance.banner.period')}: {formatPeriod(notice.startsAt, notice.endsAt, v.locale)}
      </p>
      {notice.body ? <p>{notice.body}</p> : null}
    </div>
  );
}
