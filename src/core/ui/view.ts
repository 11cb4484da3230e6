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
  /** A planned maintenance to announce on public pages (ISO times), or null. */
  notice: { title: string; body: string; startsAt: string; endsAt: string } | null;
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
    notice: c.get('maintenanceNotice') ?? null,
  };
}

/**
 * The view of a page shared by every visitor (public pages, cacheable): no CSRF token, so
 * rendering it never sets the anonymous cookie. (Spreading viewOf() would call its getter.)
 */
export function publicViewOf(c: Context<AppEnv>): View {
  const u = new URL(c.req.url);
  return {
    t: c.get('t'),
    locale: c.get('locale'),
    nonce: c.get('nonce'),
    csrf: '',
    actor: c.get('actor'),
    path: u.pathname,
    url: u.pathname + u.search,
    notice: c.get('maintenanceNotice') ?? null,
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

const WEEKDAYS_JA = ['日', '月', '火', '水', '木', '金', '土'];
const WEEKDAYS_EN = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Calendar fields of an instant in JST (UTC+9, no daylight saving). */
function jst(iso: string) {
  const d = new Date(Date.parse(iso) + 9 * 3600 * 1000);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), wd: d.getUTCDay(), hh: d.getUTCHours(), mm: String(d.getUTCMinutes()).padStart(2, '0'), day: Math.floor(d.getTime() / 86_400_000) };
}

/** One instant in JST for announcements: 「2026年12月6日（日）6:00」 / "Sun 6 Dec 2026, 06:00 JST". */
export function formatWhen(iso: string, locale: Locale = 'ja'): string {
  const a = jst(iso);
  return locale === 'ja' ? `${a.y}年${a.m}月${a.d}日（${WEEKDAYS_JA[a.wd]}）${a.hh}:${a.mm}` : `${WEEKDAYS_EN[a.wd]} ${a.d} ${MONTHS_EN[a.m - 1]} ${a.y}, ${String(a.hh).padStart(2, '0')}:${a.mm} JST`;
}

/**
 * A period in JST as announcements write it: 「2026年12月5日（土）22:00～翌6:00」, the end shortened
 * when it falls on the same or the next day.
 */
export function formatPeriod(startsAt: string, endsAt: string, locale: Locale = 'ja'): string {
  const a = jst(startsAt);
  const b = jst(endsAt);
  const days = b.day - a.day;
  if (locale === 'ja') {
    const end = days === 0 ? `${b.hh}:${b.mm}` : days === 1 ? `翌${b.hh}:${b.mm}` : a.y === b.y ? `${b.m}月${b.d}日（${WEEKDAYS_JA[b.wd]}）${b.hh}:${b.mm}` : formatWhen(endsAt, 'ja');
    return `${formatWhen(startsAt, 'ja')}～${end}`;
  }
  const hm = (x: ReturnType<typeof jst>) => `${String(x.hh).padStart(2, '0')}:${x.mm}`;
  const end = days === 0 ? hm(b) : days === 1 ? `${hm(b)} the next day` : `${WEEKDAYS_EN[b.wd]} ${b.d} ${MONTHS_EN[b.m - 1]} ${b.y}, ${hm(b)}`;
  return `${WEEKDAYS_EN[a.wd]} ${a.d} ${MONTHS_EN[a.m - 1]} ${a.y}, ${hm(a)} – ${end} (JST)`;
}
