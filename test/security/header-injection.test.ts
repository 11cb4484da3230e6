/**
 * IPA 7. HTTPヘッダ・インジェクション — redirect targets pass safeNext (no control characters,
 * no other site), X-Request-Id is echoed only when it matches a strict pattern, and download
 * names go through contentDisposition().
 */
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { HttpClient } from '../helpers/http-client.js';
import { createStaff } from '../helpers/platform.js';
import { contentDisposition } from '../../src/core/csv/index.js';
import { signedIn, staysOnSite } from './helpers.js';

const CRLF_NEXT = [
  '/%0d%0aSet-Cookie:%20evil=1',
  '/\r\nSet-Cookie: evil=1',
  '/\nLocation: https://evil.example',
  '/admin\r\n\r\n<script>alert(1)</script>',
  '/\u560a\u560dSet-Cookie: evil=1', // 嘊嘍: bytes 0x0A/0x0D once truncated to latin-1
  '/\u010d\u010aSet-Cookie: evil=1',
];

/** Sends a raw request and returns the raw response head (status line + headers). */
function rawHead(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (data += c));
    socket.on('end', () => resolve(data.split('\r\n\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

function assertCleanRedirect(res: { status: number; location: string | null; headers: Headers }, label: string) {
  expect(res.status, label).toBe(303);
  expect(res.location, label).not.toMatch(/[\r\n]/);
  expect(staysOnSite(res.location), `${label} → ${res.location}`).toBe(true);
  expect(res.headers.getSetCookie().some((c) => c.startsWith('evil')), label).toBe(false);
  expect(res.headers.get('evil')).toBeNull();
}

describePlatform('security: HTTP header injection', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000' } }, (tp) => {
  it('CR/LF in /lang next= does not split the response', async () => {
    const client = new HttpClient(tp().baseUrl);
    for (const next of CRLF_NEXT) {
      const res = await client.get(`/lang/en?next=${next.startsWith('/%') ? next.slice(0) : encodeURIComponent(next)}`);
      assertCleanRedirect(res, JSON.stringify(next));
    }
    // On the wire: exactly one Location, no injected header lines.
    const head = await rawHead(tp().running.port, 'GET /lang/en?next=/%0d%0aSet-Cookie:%20evil=1%0d%0aX-Evil:%201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 303/);
    expect(head.match(/^location:/gim)).toHaveLength(1);
    expect(head).not.toMatch(/^(set-cookie: evil|x-evil)/im);
  });

  it('CR/LF in the login next= (form and already-signed-in) does not split the response', async () => {
    const staff = await createStaff(tp().platform, { roles: ['editor'] });
    for (const next of CRLF_NEXT) {
      const client = new HttpClient(tp().baseUrl);
      await client.get(`/admin/login?next=${encodeURIComponent(next)}`);
      const res = await client.post('/admin/login', { loginId: staff.loginId, password: staff.password, next });
      assertCleanRedirect(res, JSON.stringify(next));
      assertCleanRedirect(await client.get(`/admin/login?next=${encodeURIComponent(next)}`), `signed-in ${JSON.stringify(next)}`);
    }
  });

  it('a CR/LF in a protected path is encoded in the login redirect', async () => {
    const anon = new HttpClient(tp().baseUrl);
    const res = await anon.get('/admin/users%0d%0aSet-Cookie:%20evil=1?x=%0d%0aX-Evil:1');
    expect(res.status).toBe(303);
    expect(res.location).toMatch(/^\/admin\/login\?next=/);
    expect(res.location).not.toMatch(/[\r\n]/);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('evil'))).toBe(false);
  });

  it('replaces a hostile or overlong X-Request-Id', async () => {
    const client = new HttpClient(tp().baseUrl);
    const ok = await client.get('/healthz', { 'x-request-id': 'req-12345678' });
    expect(ok.headers.get('x-request-id')).toBe('req-12345678');
    for (const id of ['abc%0d%0aSet-Cookie:%20evil=1', 'a'.repeat(65), 'a'.repeat(10_000), '<script>alert(1)</script>', 'short', 'id with spaces 1234', '../../etc/passwd', 'リクエスト番号12345678']) {
      const res = await fetch(`${tp().baseUrl}/healthz`, { headers: { 'x-request-id': encodeURI(id) === id ? id : id.replace(/[^\x20-\x7e]/g, '?') } });
      const echoed = res.headers.get('x-request-id') ?? '';
      expect(echoed, id).toMatch(/^[A-Za-z0-9_.-]{8,64}$/);
      expect(echoed, id).not.toBe(id);
    }
    // A raw CR inside the header value never reaches the handler (Node answers 400), and nothing is echoed.
    const head = await rawHead(tp().running.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abcdefgh\rSet-Cookie: evil=1\r\nConnection: close\r\n\r\n');
    expect(head).not.toMatch(/^set-cookie: evil/im);
    expect(head).not.toMatch(/^x-request-id: abcdefgh\r?set-cookie/im);
  });

  it('the audit CSV download keeps one Content-Disposition whatever the filters hold', async () => {
    const { client } = await signedIn(tp().baseUrl, tp().platform, { roles: ['system_admin'] });
    const hostile = 'x"\r\nContent-Disposition: inline; filename=evil.html\r\nX-Evil: 1';
    const res = await client.get(`/admin/audit/export.csv?${new URLSearchParams({ q: hostile, action: hostile, actor: hostile, targetType: hostile, encoding: hostile })}`);
    expect(res.status).toBe(200);
    const cd = res.headers.get('content-disposition') ?? '';
    expect(cd).toMatch(/^attachment; filename="[\x20-\x7e]+\.csv"; filename\*=UTF-8''[A-Za-z0-9%._-]+\.csv$/);
    expect(cd).not.toContain('evil');
    expect(cd).not.toContain(','); // a second header value would be joined with ", "
    expect(res.headers.get('x-evil')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=UTF-8/);
  });
});

it('contentDisposition (unit): hostile names stay one header value', () => {
  for (const name of ['a"\r\nX-Evil: 1.csv', '../../etc/passwd', 'a;filename=evil.exe', '監査\u0000ログ\n.csv', 'x%0d%0ay.csv', '\\\\server\\share.csv']) {
    const v = contentDisposition(name);
    expect(v, name).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(v.match(/; filename=/g), name).toHaveLength(1);
    expect(v, name).toMatch(/^attachment; filename="[^"]*"; filename\*=UTF-8''[^\s;"]+$/);
    expect(v.match(/; filename\*=/g), name).toHaveLength(1);
    const ascii = /filename="([^"]*)"/.exec(v)![1]!;
    expect(ascii, name).not.toMatch(/[/\\;%]/);
  }
});
