import type { Context } from 'hono';
import type { AppEnv } from '../http/types.js';
import type { MenuEntry } from '../module.js';
import type { Locale, Translator } from '../i18n/index.js';
import type { Actor } from '../permissions/index.js';

/** What every template needs from the request, gathered once per render. */
export interface View {
  t: Translator;
  locale: Locale;
  nonce: string;
  csrf: string;
  actor: Actor | null;
  path: string;
  /** Path plus query, for the language switch to come back to. */
  url: string;
}

export function viewOf(c: Context<AppEnv>): View {
  const u = new URL(c.req.url);
  const token = c.get('csrfToken');
  return {
    t: c.get('t'),
    locale: c.get('locale'),
    nonce: c.get('nonce'),
    get csrf() {
      return token();
    },
    actor: c.get('actor'),
    path: u.pathname,
    url: u.pathname + u.search,
  };
}

/** Menu entries the actor may see, in order. */
export function visibleMenu(menu: MenuEntry[], actor: Actor | null): MenuEntry[] {
  return menu
    .filter((m) => !m.permission || (actor?.permissions.has(m.permission) ?? false))
    .sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
}

/** Formats an ISO timestamp for Japanese screens, in JST. */
export function formatDateTime(iso: string | null | undefined, locale: Locale = 'ja'): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale === 'ja' ? 'ja-JP' : 'en-GB', {
    timeZone: 'Asia/Tokyo',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(d);
}
