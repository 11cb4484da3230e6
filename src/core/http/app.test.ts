import { expect, it } from 'vitest';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { platformModules } from '../../modules/index.js';
import { defineModule } from '../module.js';
import { safeNext } from './app.js';

/** Rate windows are whole minutes; start a counting test well inside one. */
async function awayFromMinuteBoundary() {
  const s = new Date().getSeconds();
  if (s >= 50) await new Promise((r) => setTimeout(r, (61 - s) * 1000));
}

const echoModule = defineModule({
  name: 'echo',
  routes(app) {
    app.post('/public-form', (c) => c.text('received'));
  },
});

describePlatform('HTTP stack', { env: { RATE_LIMIT_PUBLIC_POST_PER_MINUTE: '3', RATE_LIMIT_LOGIN_PER_MINUTE: '2' }, modules: [...platformModules(), echoModule] }, (tp) => {
  it('rate-limits public posts per address with 429 and Retry-After', async () => {
    await awayFromMinuteBoundary();
    const client = new HttpClient(tp().baseUrl);
    await client.get('/');
    // The top page has no form; take a token the way a public form page would hand it out.
    await client.get('/admin/login');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await client.post('/public-form', {})).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const blocked = await client.post('/public-form', {});
    expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(blocked.text).toContain('しばらく待ってから');
  });

  it('rate-limits the login form per address', async () => {
    await awayFromMinuteBoundary();
    const client = new HttpClient(tp().baseUrl);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await client.login('nobody', 'nothing')).status);
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('serves the language switch and keeps the choice in a cookie', async () => {
    const client = new HttpClient(tp().baseUrl);
    const res = await client.get('/lang/en?next=%2Fadmin%2Flogin');
    expect(res.status).toBe(303);
    expect(res.location).toBe('/admin/login');
    const page = await client.get('/admin/login');
    expect(page.text).toContain('<html lang="en">');
    expect(page.text).toContain('Log in');
  });

  it('answers unknown paths with a 404 page and no internals', async () => {
    const res = await new HttpClient(tp().baseUrl).get('/no/such/page');
    expect(res.status).toBe(404);
    expect(res.text).toContain('お探しのページが見つかりません');
  });
});

it('safeNext keeps redirects on this site', () => {
  expect(safeNext('/admin/users?page=2')).toBe('/admin/users?page=2');
  for (const bad of ['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)', '/a\r\nSet-Cookie: x=1', undefined]) {
    expect(safeNext(bad, '/fallback')).toBe('/fallback');
  }
});
