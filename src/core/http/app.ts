import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { routePath } from 'hono/route';
import { bodyLimit } from 'hono/body-limit';
import type { Config } from '../config/index.js';
import { cookieSecure } from '../config/index.js';
import { isLocale, negotiateLocale, translator } from '../i18n/index.js';
import '../i18n/messages.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import { findAsset } from '../ui/assets.js';
import { CidrList, resolveClientIp } from './client-ip.js';
import type { AppEnv, SessionInfo } from './types.js';
import type { AuthService } from '../auth/service.js';
import { renderError } from './errors.js';
import { hitRateLimit } from './rate-limit.js';
import type { Db } from '../db/index.js';

export interface HttpDeps {
  config: Config;
  db: Db;
  log: Logger;
  metrics: Metrics;
  auth: AuthService;
  secretKey: string;
}

export const SESSION_COOKIE = (secure: boolean) => (secure ? '__Host-mm_session' : 'mm_session');
const ANON_COOKIE = (secure: boolean) => (secure ? '__Host-mm_anon' : 'mm_anon');
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The request's address and user agent, for audit entries. */
export function requestMeta(c: Context<AppEnv>) {
  return { ip: c.get('clientIp'), userAgent: c.req.header('user-agent') ?? null };
}

/**
 * Who acted, for an audit entry written by a route: the signed-in actor, their organisation,
 * the address and the browser.
 * @example await p.audit.record({ ...auditContext(c), action: 'job.run', summary: '…' })
 */
export function auditContext(c: Context<AppEnv>) {
  const actor = c.get('actor');
  return { actor, organizationId: actor?.organizationId ?? null, ...requestMeta(c) };
}

/** Sets the session cookie for a freshly created session (a new id at every login). */
export function setSessionCookie(c: Context<AppEnv>, config: Config, session: SessionInfo | null) {
  const secure = cookieSecure(config);
  if (!session) {
    deleteCookie(c, SESSION_COOKIE(secure), { path: '/', secure });
    return;
  }
  setCookie(c, SESSION_COOKIE(secure), session.token, { path: '/', httpOnly: true, secure, sameSite: 'Lax' });
  c.set('session', session);
}

const raisedUploadLimits = new WeakMap<Hono<AppEnv>, Array<{ path: string; maxBytes: number }>>();

/**
 * Lets one upload route take multipart bodies larger than MAX_UPLOAD_BYTES (the CMS media
 * library's documents); the limit is still enforced while the body streams in.
 * @example raiseUploadLimit(app, '/admin/cms/media/upload', 31 * 1024 * 1024)
 */
export function raiseUploadLimit(app: Hono<AppEnv>, path: string, maxBytes: number): void {
  const list = raisedUploadLimits.get(app) ?? [];
  list.push({ path, maxBytes });
  raisedUploadLimits.set(app, list);
}

function csrfFor(secret: string, subject: string): string {
  return createHmac('sha256', secret).update(`csrf|${subject}`).digest('base64url');
}

/**
 * The HTTP stack every request passes through, in order: request id and logging, metrics,
 * security headers, static assets, client address, language, session, CSRF. Modules add routes.
 */
export function createHttpApp(deps: HttpDeps): Hono<AppEnv> {
  const { config, db, log, metrics, auth, secretKey } = deps;
  const app = new Hono<AppEnv>();
  const trusted = new CidrList(config.TRUSTED_PROXIES);
  const secure = cookieSecure(config);

  app.use(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[A-Za-z0-9_.-]{8,64}$/.test(incoming) ? incoming : randomUUID();
    const started = performance.now();
    c.set('requestId', requestId);
    // In-process requests (app.request, as export-static makes them) carry no socket and name their
    // origin themselves; requests from the network always use BASE_URL, whatever Host they send.
    const viaNetwork = (c.env as { incoming?: unknown } | undefined)?.incoming !== undefined;
    c.set('baseUrl', viaNetwork ? config.BASE_URL : new URL(c.req.url).origin);
    c.set('log', log.child({ requestId }));
    c.set('nonce', randomBytes(16).toString('base64'));
    c.set('session', null);
    c.set('actor', null);
    c.set('csrfToken', () => '');
    await next();
    c.header('X-Request-Id', requestId);
    const seconds = (performance.now() - started) / 1000;
    const route = routePath(c) || 'unmatched';
    metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    metrics.httpDuration.observe({ method: c.req.method, route }, seconds);
    c.get('log').info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(seconds * 1000), ip: c.get('clientIp') }, 'request');
  });

  app.use(securityHeaders(secure));

  // Oversized bodies are refused before anything reads them; uploads get their own larger limit.
  app.use(async (c, next) => {
    if (!UNSAFE.has(c.req.method)) return next();
    const multipart = (c.req.header('content-type') ?? '').startsWith('multipart/form-data');
    const raised = multipart ? raisedUploadLimits.get(app)?.find((u) => c.req.path === u.path) : undefined;
    return bodyLimit({
      maxSize: multipart ? Math.max(config.MAX_UPLOAD_BYTES, raised?.maxBytes ?? 0) : config.MAX_FORM_BYTES,
      onError: (cc) => renderError(cc as Context<AppEnv>, 413, 'error.tooLarge'),
    })(c, next);
  });

  app.get('/assets/*', (c) => {
    const asset = findAsset(c.req.path);
    if (!asset) return c.notFound();
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    c.header('Content-Type', asset.type);
    return c.body(asset.body);
  });

  app.use(async (c, next) => {
    const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
    c.set('clientIp', resolveClientIp(env?.incoming?.socket?.remoteAddress, c.req.header('x-forwarded-for'), trusted));
    const locale = negotiateLocale(getCookie(c, 'mm_lang'));
    c.set('locale', locale);
    c.set('t', translator(locale));
    await next();
  });

  // Staff session: loaded when the cookie is present; IP rules apply to every request, not just login.
  app.use(async (c, next) => {
    const token = getCookie(c, SESSION_COOKIE(secure));
    if (token) {
      const session = await auth.sessions.load(token);
      if (!session) {
        setSessionCookie(c, config, null);
      } else {
        c.set('session', session);
        if (session.stage === 'active') {
          const actor = await auth.actorFor(session.userId);
          if (!actor) {
            await auth.sessions.destroy(session.id);
            setSessionCookie(c, config, null);
            c.set('session', null);
          } else if (!(await auth.ipAllowed(actor.roles, c.get('clientIp')))) {
            return renderError(c, 403, 'login.ipDenied');
          } else {
            c.set('actor', actor);
          }
        }
      }
    }
    await next();
  });

  app.use(async (c, next) => {
    let subject: string | null = c.get('session')?.id ?? null;
    c.set('csrfToken', () => {
      const session = c.get('session');
      if (session) return csrfFor(secretKey, session.id);
      if (!subject) {
        subject = getCookie(c, ANON_COOKIE(secure)) ?? null;
        if (!subject || !/^[A-Za-z0-9_-]{20,64}$/.test(subject)) {
          subject = randomBytes(24).toString('base64url');
          setCookie(c, ANON_COOKIE(secure), subject, { path: '/', httpOnly: true, secure, sameSite: 'Lax' });
        }
      }
      return csrfFor(secretKey, subject);
    });
    if (!UNSAFE.has(c.req.method)) return next();
    if (c.req.header('sec-fetch-site') === 'cross-site') return renderError(c, 403, 'error.csrf');
    const session = c.get('session');
    const anon = getCookie(c, ANON_COOKIE(secure));
    const expected = session ? csrfFor(secretKey, session.id) : anon ? csrfFor(secretKey, anon) : null;
    let sent = c.req.header('x-csrf-token') ?? '';
    if (!sent) {
      const type = c.req.header('content-type') ?? '';
      if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
        const body = await c.req.parseBody();
        sent = typeof body._csrf === 'string' ? body._csrf : '';
      }
    }
    if (!expected || !sent || sent.length !== expected.length || !timingSafeEqual(Buffer.from(sent), Buffer.from(expected))) {
      c.get('log').warn({ path: c.req.path }, 'csrf token rejected');
      return renderError(c, 403, 'error.csrf');
    }
    return next();
  });

  // Residents' forms are the spam and flooding target; staff screens have their own login limit.
  app.use(async (c, next) => {
    if (!UNSAFE.has(c.req.method) || c.req.path.startsWith('/admin')) return next();
    const r = await hitRateLimit(db, `public-post:${c.get('clientIp')}`, config.RATE_LIMIT_PUBLIC_POST_PER_MINUTE, 60);
    if (!r.allowed) {
      c.header('Retry-After', String(r.retryAfterSeconds));
      return renderError(c, 429, 'error.rateLimited');
    }
    return next();
  });

  app.get('/lang/:locale', (c) => {
    const locale = c.req.param('locale');
    if (isLocale(locale)) setCookie(c, 'mm_lang', locale, { path: '/', maxAge: 365 * 86400, sameSite: 'Lax', secure });
    return c.redirect(safeNext(c.req.query('next')), 303);
  });

  app.onError((err, c) => {
    c.get('log')?.error({ err }, 'unhandled error');
    return renderError(c as Context<AppEnv>, 500, 'error.server');
  });
  app.notFound((c) => renderError(c as Context<AppEnv>, 404, 'error.notFound'));
  return app;
}

/**
 * Only same-site relative paths, so a link cannot bounce a user to another site (open redirect).
 * Browsers drop tabs and line breaks from URLs, so "/\t/evil.example" would become "//evil.example":
 * any control character is refused, not only CR/LF.
 */
export function safeNext(next: string | undefined, fallback = '/'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\u0000-\u001f\u007f]/.test(next)) return fallback;
  return next;
}

function securityHeaders(secure: boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const nonce = c.get('nonce');
    // Per-response additions (a site's analytics), each a plain https origin: nothing else gets in.
    const extra = (kind: 'script' | 'connect' | 'img') => (c.get('cspSources')?.[kind] ?? []).filter((s) => /^https:\/\/(\*\.)?[a-z0-9.-]+$/.test(s)).map((s) => ` ${s}`).join('');
    c.header(
      'Content-Security-Policy',
      [
        "default-src 'self'",
        `script-src 'self' 'nonce-${nonce}'${extra('script')}`,
        "style-src 'self'",
        `img-src 'self' data: https://i.ytimg.com${extra('img')}`,
        "font-src 'self'",
        `connect-src 'self'${extra('connect')}`,
        "frame-src https://www.youtube-nocookie.com https://www.youtube.com https://player.vimeo.com",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
      ].join('; '),
    );
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'strict-origin-when-cross-origin');
    c.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    if (secure) c.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    if (c.req.path.startsWith('/admin') && !c.res.headers.get('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}
