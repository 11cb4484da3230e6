import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../core/http/types.js';
import { renderError } from '../../core/http/errors.js';
import type { Actor } from '../../core/permissions/index.js';

/** Paths under /admin that people reach before signing in. */
const OPEN_PATHS = [/^\/admin\/login(\/|$)/, /^\/admin\/password-reset(\/|$)/];

/**
 * Staff-only area: without a session, go to the login page (and come back afterwards); with an
 * initial password, change it first.
 */
export function requireStaff(mustChangePassword: (userId: number) => Promise<boolean>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (OPEN_PATHS.some((re) => re.test(c.req.path))) return next();
    const actor = c.get('actor');
    if (!actor) {
      if (c.req.method !== 'GET') return renderError(c, 403, 'login.expired');
      const next = encodeURIComponent(c.req.path + (new URL(c.req.url).search || ''));
      return c.redirect(`/admin/login?next=${next}`, 303);
    }
    if (!actor.permissions.has('admin.access')) return renderError(c, 403, 'error.forbidden');
    if (!c.req.path.startsWith('/admin/account') && c.req.path !== '/admin/logout' && (await mustChangePassword(actor.id))) {
      return c.redirect('/admin/account?must=1', 303);
    }
    return next();
  };
}

/** Route guard: the signed-in actor must hold the permission, else 403. */
export function requirePermission(permission: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const actor = c.get('actor');
    if (!actor || !actor.permissions.has(permission)) return renderError(c, 403, 'error.forbidden');
    return next();
  };
}

/** The signed-in actor (routes behind requireStaff always have one). */
export function actorOf(c: Context<AppEnv>): Actor {
  const actor = c.get('actor');
  if (!actor) throw new Error('route reached without an actor; is requireStaff mounted?');
  return actor;
}

/** Reads ?page= for list screens. */
export function paging(c: Context<AppEnv>, limit = 50) {
  const page = Math.max(1, Math.min(100000, Number.parseInt(c.req.query('page') ?? '1', 10) || 1));
  return { limit, offset: (page - 1) * limit };
}
