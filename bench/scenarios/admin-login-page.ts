import { defineScenario } from '../lib.js';

/** The staff sign-in form: a rendered page with a fresh CSRF token and cookie for each visitor. */
export default defineScenario({
  name: 'admin-login-page',
  description: 'GET /admin/login — 職員ログイン画面（CSRF トークン発行を含む）',
  order: 20,
  run: (ctx) => ctx.measure('GET /admin/login', { path: '/admin/login' }),
});
