import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmsOf } from '../../src/modules/cms/index.js';
import { exportStaticSite } from '../../src/modules/cms/export/static-export.js';
import { startNginx } from '../../src/modules/cms/export/nginx.js';
import { defineScenario, measure, type Measurement } from '../lib.js';
import { demoPlatform, startAppProcess, warmCache } from '../support.js';

/** A demo page with a table: what a resident opens from a search engine. */
const PAGE = '/kurashi/gomi';
const GOAL = 0.5;

/**
 * The same public page from the application (its own process, answering from the render cache)
 * and from nginx serving the `export-static` copy: how close the dynamic site comes to static files.
 * Both servers run in their own processes, so the load generator takes CPU from neither's thread.
 */
export default defineScenario({
  name: 'static-export',
  description: `GET ${PAGE} — アプリ（別プロセス・レンダーキャッシュ）と nginx（export-static の書き出し）の比較`,
  order: 40,
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'machimado-bench-static-'));
    const databaseUrl = `sqlite:${join(dir, 'site.db')}`;
    const exportDir = join(dir, 'export');
    try {
      const p = await demoPlatform(databaseUrl, dir);
      let exported;
      try {
        const cms = cmsOf(p);
        exported = await exportStaticSite({ request: (u, init) => p.app.request(u, init), sites: () => cms.sites.all(), defaultBaseUrl: 'http://127.0.0.1' }, { siteKey: 'aoba', outDir: exportDir });
      } finally {
        await p.close();
      }
      const notes = [`export-static wrote ${exported.pages} pages and ${exported.files} other files (${(exported.bytes / 1024).toFixed(0)} KiB) in ${exported.seconds.toFixed(2)} s`];

      const app = await startAppProcess({ DATABASE_URL: databaseUrl, DATA_DIR: dir }, PAGE);
      let appRow: Measurement;
      try {
        if (!(await warmCache(`${app.url}${PAGE}`))) notes.push('the app never answered from its render cache; its figure measures rendering');
        appRow = await measure(app.url, ctx.options, `GET ${PAGE} — app (own process, render cache)`, { path: PAGE });
      } finally {
        await app.stop();
      }

      const nginx = await startNginx(exportDir);
      if (!nginx) return { measurements: [appRow], notes: [...notes, 'nginx not installed: skipped'] };
      let nginxRow: Measurement;
      try {
        const check = await fetch(`${nginx.url}${PAGE}`);
        if (check.status !== 200 || !(await check.text()).includes('ごみの出し方')) notes.push(`nginx did not serve the exported page (HTTP ${check.status})`);
        nginxRow = await measure(nginx.url, ctx.options, `GET ${PAGE} — nginx (static export, 1 worker)`, { path: PAGE });
      } finally {
        await nginx.stop();
      }
      const ratio = nginxRow.rps > 0 ? appRow.rps / nginxRow.rps : 0;
      return {
        measurements: [appRow, nginxRow],
        tables: [
          {
            title: 'the same page from the application and from nginx',
            header: ['server', 'req/s', 'p99 ms', 'share of nginx req/s'],
            rows: [
              ['app (render cache)', appRow.rps.toFixed(0), appRow.p99.toFixed(1), ratio.toFixed(2)],
              ['nginx (export)', nginxRow.rps.toFixed(0), nginxRow.p99.toFixed(1), '1.00'],
            ],
            numeric: [1, 2, 3],
          },
        ],
        notes: [...notes, `app / nginx = ${ratio.toFixed(2)} (goal ≥ ${GOAL}): ${ratio >= GOAL ? 'met' : 'not met on this machine'}`],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
