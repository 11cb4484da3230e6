import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from './types.js';
import { AdminLayout, PublicLayout } from '../ui/layout.js';
import { viewOf } from '../ui/view.js';
import { translator } from '../i18n/index.js';

type PublicErrorRenderer = (c: Context<AppEnv>, status: ContentfulStatusCode, messageKey: string) => Response | Promise<Response>;
let publicRenderer: PublicErrorRenderer | null = null;

/** Lets the CMS draw public error pages in each site's own design. */
export function setPublicErrorRenderer(fn: PublicErrorRenderer | null): void {
  publicRenderer = fn;
}

const hintFor: Record<number, string> = { 404: 'error.notFoundHint', 500: 'error.serverHint' };

/**
 * An error page in the right frame (admin or public), with a reference number for 500s and no
 * internals. JSON for API clients.
 */
export async function renderError(c: Context<AppEnv>, status: ContentfulStatusCode, messageKey: string): Promise<Response> {
  if (!c.get('t')) {
    c.set('t', translator('ja'));
    c.set('locale', 'ja');
  }
  const t = c.get('t');
  const requestId = c.get('requestId') ?? '';
  if ((c.req.header('accept') ?? '').includes('application/json') && !(c.req.header('accept') ?? '').includes('text/html')) {
    return c.json({ error: t(messageKey), requestId }, status);
  }
  if (!c.req.path.startsWith('/admin') && publicRenderer) return publicRenderer(c, status, messageKey);
  const v = viewOf(c);
  const body = (
    <>
      <p>{t(messageKey)}</p>
      {hintFor[status] ? <p>{t(hintFor[status]!)}</p> : null}
      {status >= 500 ? <p>受付番号 / Reference: <code>{requestId}</code></p> : null}
      <p>
        <a href={c.req.path.startsWith('/admin') ? '/admin' : '/'}>{t('common.back')}</a>
      </p>
    </>
  );
  const title = status === 404 ? t('error.notFound') : status === 403 ? t('error.forbidden') : status >= 500 ? t('error.server') : t('error.badRequest');
  if (c.req.path.startsWith('/admin')) {
    return c.html(<AdminLayout v={v} title={title} menu={[]}>{body}</AdminLayout>, status);
  }
  return c.html(<PublicLayout v={v} title={title} siteName={t('app.name')}>{body}</PublicLayout>, status);
}
