/**
 * IPA 9. クリックジャッキング — securityHeaders() in src/core/http/app.ts adds
 * X-Frame-Options: DENY and CSP frame-ancestors 'none' to every response, errors included.
 */
import { expect, it } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { HttpClient } from '../helpers/http-client.js';
import { assets } from '../../src/core/ui/assets.js';
import { signedIn } from './helpers.js';

function assertNoFraming(res: { status: number; headers: Headers }, label: string) {
  expect(res.headers.get('x-frame-options'), `${label} (${res.status})`).toBe('DENY');
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp, `${label} (${res.status})`).toMatch(/(^|;\s*)frame-ancestors 'none'(;|$)/);
}

describePlatform('security: clickjacking', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000', MAX_FORM_BYTES: '4096' } }, (tp) => {
  it('public pages, JSON endpoints, assets, redirects and error pages all forbid framing', async () => {
    const anon = new HttpClient(tp().baseUrl);
    const seen = new Set<number>();
    for (const path of ['/', '/robots.txt', '/healthz', '/readyz', '/metrics', assets.app.path, '/assets/nope.css', '/no-such-page', '/admin', '/admin/login', '/admin/password-reset', '/admin/password-reset/invalid-token-1234567890', '/lang/en?next=/']) {
      const res = await anon.get(path);
      seen.add(res.status);
      assertNoFraming(res, path);
    }
    const json = await anon.get('/no-such-page', { accept: 'application/json' });
    expect(json.headers.get('content-type')).toMatch(/json/);
    assertNoFraming(json, '404 json');
    // Refusals: CSRF 403, oversized 413, staff-only POST without a session.
    assertNoFraming(await anon.post('/admin/login', { loginId: 'x', password: 'y' }, { csrf: null }), 'csrf 403');
    assertNoFraming(await anon.post('/admin/login', { loginId: 'x'.repeat(10_000), password: 'y' }), '413');
    await anon.get('/admin/login');
    assertNoFraming(await anon.post('/admin/users', { loginId: 'x' }), 'POST without session');
    expect(seen).toEqual(new Set([200, 303, 404]));
  });

  it('signed-in admin pages and their error pages forbid framing', async () => {
    const p = tp().platform;
    const { client: admin } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    for (const path of ['/admin', '/admin/users', '/admin/users/new', '/admin/roles', '/admin/organizations', '/admin/audit', '/admin/audit/export.csv', '/admin/jobs', '/admin/mail', '/admin/calendar', '/admin/backups', '/admin/account', '/admin/users/999999', '/admin/nothing']) {
      assertNoFraming(await admin.get(path), path);
    }
    const { client: editor } = await signedIn(tp().baseUrl, p, { roles: ['editor'] });
    const forbidden = await editor.get('/admin/users');
    expect(forbidden.status).toBe(403);
    assertNoFraming(forbidden, 'editor 403');
  });
});
