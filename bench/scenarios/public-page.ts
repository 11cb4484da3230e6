import { defineScenario } from '../lib.js';

/** The residents' front page: what every visitor loads first, with no session. */
export default defineScenario({
  name: 'public-page',
  description: 'GET / — 住民向けトップページ（未ログイン）',
  order: 10,
  run: (ctx) => ctx.measure('GET /', { path: '/' }),
});
