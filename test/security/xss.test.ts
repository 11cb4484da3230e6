/**
 * IPA 5. クロスサイト・スクリプティング — every value is rendered through Hono JSX, which
 * escapes text and attributes; the CSP allows scripts only from 'self' or with a per-request nonce.
 */
import { expect, it, beforeAll } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { HttpClient } from '../helpers/http-client.js';
import { createOrganization, createStaff } from '../helpers/platform.js';
import { XSS_IMG, XSS_SCRIPT, signedIn } from './helpers.js';

const RAW = [XSS_SCRIPT, '<img src=x onerror=alert(1)>', '<svg onload=alert(1)>', '" onmouseover="alert(1)', "' onfocus='alert(1)"];

/** No payload survives unescaped, and every <script> tag is external or carries the CSP nonce. */
function assertSafe(html: string, csp: string | null, where: string) {
  for (const r of RAW) expect(html, `${where}: raw ${r}`).not.toContain(r);
  // Walk the real tags (attribute values quoted as the renderer writes them): no event handler
  // attribute and no javascript: URL may appear anywhere.
  const tag = /<([a-zA-Z][\w-]*)((?:\s+[^\s=>/]+(?:="[^"]*"|='[^']*'|=[^\s>"']+)?)*)\s*\/?>/g;
  for (const m of html.matchAll(tag)) {
    for (const a of m[2]!.matchAll(/\s+([^\s=>/]+)(?:="([^"]*)"|='([^']*)'|=([^\s>"']+))?/g)) {
      expect(a[1]!.toLowerCase().startsWith('on'), `${where}: ${m[0]}`).toBe(false);
      if (['href', 'src', 'action', 'formaction'].includes(a[1]!.toLowerCase())) expect(a[2] ?? a[3] ?? a[4] ?? '', `${where}: ${m[0]}`).not.toMatch(/^\s*(javascript|data|vbscript):/i);
    }
  }
  const nonce = /'nonce-([^']+)'/.exec(csp ?? '')?.[1];
  for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) {
    expect(tag.includes(' src=') || (nonce && tag.includes(`nonce="${nonce}"`)), `${where}: ${tag}`).toBeTruthy();
  }
}

describePlatform('security: XSS', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000' } }, (tp) => {
  let admin: HttpClient;
  let victimId: number;
  let orgId: number;
  let mailId: number;

  beforeAll(async () => {
    const p = tp().platform;
    orgId = await createOrganization(p, { name: `${XSS_SCRIPT}市` });
    const victim = await createStaff(p, { displayName: `${XSS_IMG}太郎`, organizationId: orgId, roles: ['editor'], email: 'xss@example.jp' });
    victimId = victim.id;
    await p.audit.record({ action: 'test.xss', summary: `概要 ${XSS_SCRIPT} <svg onload=alert(1)>`, targetType: '<svg onload=alert(1)>', targetId: XSS_IMG });
    mailId = await p.mail.send({ to: 'xss@example.jp', subject: `件名 ${XSS_SCRIPT}`, text: `本文 ${XSS_IMG} javascript:alert(1)`, category: '<svg onload=alert(1)>' });
    // A failed login with a hostile ID lands in the audit summary.
    const anon = new HttpClient(tp().baseUrl);
    await anon.login(XSS_SCRIPT, 'x');
    ({ client: admin } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] }));
  });

  it('admin lists and detail pages escape stored names, summaries and subjects', async () => {
    const pages: Array<[string, string]> = [
      ['/admin', '&lt;script&gt;alert(1)&lt;/script&gt;'],
      ['/admin/users', '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;太郎'],
      [`/admin/users/${victimId}`, 'value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;太郎"'],
      ['/admin/organizations', '&lt;script&gt;alert(1)&lt;/script&gt;市'],
      [`/admin/organizations/${orgId}`, 'value="&lt;script&gt;alert(1)&lt;/script&gt;市"'],
      ['/admin/audit', '概要 &lt;script&gt;alert(1)&lt;/script&gt;'],
      ['/admin/mail', '件名 &lt;script&gt;alert(1)&lt;/script&gt;'],
      [`/admin/mail/${mailId}`, '本文 &quot;&gt;&lt;img src=x onerror=alert(1)&gt;'],
    ];
    for (const [path, escaped] of pages) {
      const res = await admin.get(path);
      expect(res.status, path).toBe(200);
      expect(res.text, path).toContain(escaped);
      assertSafe(res.text, res.headers.get('content-security-policy'), path);
    }
    // The mail subject is the page title too.
    expect((await admin.get(`/admin/mail/${mailId}`)).text).toContain('<title>件名 &lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('reflected values (search boxes, filters, language link) are escaped', async () => {
    const q = encodeURIComponent(XSS_IMG + XSS_SCRIPT);
    for (const path of [`/admin/users?q=${q}`, `/admin/users?role=${q}`, `/admin/audit?q=${q}&actor=${q}&targetType=${q}`, `/admin/mail?q=${q}`, `/admin?x=${q}`, `/admin/nothing-here?${q}`]) {
      const res = await admin.get(path);
      expect(res.status, path).toBeLessThan(500);
      assertSafe(res.text, res.headers.get('content-security-policy'), path);
    }
    const anon = new HttpClient(tp().baseUrl);
    for (const path of [`/?q=${q}`, `/no-such-page/${q}`, `/admin/password-reset?x=${q}`]) {
      const res = await anon.get(path);
      assertSafe(res.text, res.headers.get('content-security-policy'), path);
    }
  });

  it("the login page's next hidden field and the re-shown login ID are escaped", async () => {
    const anon = new HttpClient(tp().baseUrl);
    const page = await anon.get(`/admin/login?next=${encodeURIComponent(XSS_IMG)}`);
    expect(page.text).toContain('name="next" value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    assertSafe(page.text, page.headers.get('content-security-policy'), 'login next');
    const failed = await anon.post('/admin/login', { loginId: XSS_IMG, password: 'x', next: `javascript:alert(1)${XSS_SCRIPT}` });
    expect(failed.status).toBe(401);
    assertSafe(failed.text, failed.headers.get('content-security-policy'), 'failed login');
    const staff = await createStaff(tp().platform, { roles: ['editor'] });
    await anon.get('/admin/login');
    const ok = await anon.post('/admin/login', { loginId: staff.loginId, password: staff.password, next: 'javascript:alert(1)' });
    expect(ok.location).toBe('/admin');
  });

  it('the error summary escapes values and messages built from input', async () => {
    await admin.get('/admin/users/new');
    const bad = await admin.post('/admin/users', { loginId: XSS_SCRIPT, displayName: XSS_IMG, email: `${XSS_SCRIPT}@example.jp`, roles: 'editor' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    assertSafe(bad.text, bad.headers.get('content-security-policy'), 'user form values');
    const res = await admin.post('/admin/users', { loginId: 'xss-roles', displayName: XSS_IMG, roles: [XSS_SCRIPT, '<svg onload=alert(1)>'] });
    expect(res.status).toBe(422);
    expect(res.text).toContain('付与できない権限グループが含まれています: &lt;script&gt;alert(1)&lt;/script&gt;');
    assertSafe(res.text, res.headers.get('content-security-policy'), 'user form errors');
    await admin.get('/admin/organizations');
    const org = await admin.post('/admin/organizations', { code: XSS_SCRIPT, name: XSS_IMG, kind: '<svg onload=alert(1)>' });
    expect(org.status).toBe(422);
    assertSafe(org.text, org.headers.get('content-security-policy'), 'organization form errors');
  });

  it('CSP has a fresh nonce per response and no unsafe-inline / unsafe-eval for scripts', async () => {
    const a = await admin.get('/admin');
    const b = await admin.get('/admin');
    const c = await new HttpClient(tp().baseUrl).get('/');
    const nonces = [a, b, c].map((r) => {
      const csp = r.headers.get('content-security-policy') ?? '';
      const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? '';
      expect(scriptSrc).not.toMatch(/unsafe-inline|unsafe-eval|\*|data:|https?:/);
      expect(csp).toMatch(/default-src 'self'/);
      expect(csp).toMatch(/object-src 'none'/);
      expect(csp).toMatch(/base-uri 'self'/);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      return /'nonce-([A-Za-z0-9+/=]{16,})'/.exec(scriptSrc)![1];
    });
    expect(new Set(nonces).size).toBe(3);
  });
});
