import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleActor } from '../../src/core/permissions/index.js';
import type { Platform } from '../../src/core/platform.js';
import { startServer } from '../../src/main.js';
import { cmsOf } from '../../src/modules/cms/index.js';
import { defineScenario, type ReportTable } from '../lib.js';
import { benchPostgres, demoPlatform, startAppProcess, until, warmCache } from '../support.js';

const TRIALS = 5;
const LIMIT_MS = 30_000;
const GOAL_MS = 1000;
const meta = { ip: '127.0.0.1', userAgent: 'machimado-bench' };

/** Where a newly published page must show up, and how to tell it has. */
const TARGETS = [
  { label: 'top page (its list of pages)', path: () => '/' },
  { label: 'list (HTML sitemap)', path: () => '/sitemap' },
  { label: 'search', path: (token: string) => `/search?q=${token}` },
  { label: 'feed (Atom)', path: () => '/feed.xml' },
] as const;

/**
 * One approval: a new page under the top page is published with PageService.publish (what the
 * workflow's final approval calls), while every target is polled over HTTP on the observing node
 * until the page's link appears. Returns milliseconds per target (null: not seen within the limit).
 */
async function approveAndWatch(approver: Platform, observerUrl: string): Promise<Array<number | null>> {
  const cms = cmsOf(approver);
  const actor = consoleActor(approver.permissions);
  const site = (await cms.sites.all()).find((s) => s.key === 'aoba');
  if (!site) throw new Error('the demo site is missing');
  const root = await cms.pages.root(site.id);
  const token = `bench${randomBytes(4).toString('hex')}`;
  const id = await cms.pages.create(actor, { siteId: site.id, parentId: root.id, kind: 'page', slug: token, title: `お知らせ ${token}`, summary: `お知らせ ${token}`, body: `<p>${token} のお知らせです。</p>` }, meta);
  // The observed pages are in the observer's cache before the change, as on a live site.
  await warmCache(`${observerUrl}/`, 10_000);
  const link = `/${token}"`;
  const shows = async (path: string) => (await (await fetch(`${observerUrl}${path}`)).text()).includes(link);
  for (const t of TARGETS) if (await shows(t.path(token))) throw new Error(`${t.label} showed the page before it was published`);
  const started = performance.now();
  const watching = TARGETS.map(async (t) => {
    const ms = await until(() => shows(t.path(token)), LIMIT_MS);
    return ms === null ? null : performance.now() - started;
  });
  await cms.pages.publish(actor, id, meta);
  return Promise.all(watching);
}

async function trials(approver: Platform, observerUrl: string): Promise<Array<Array<number | null>>> {
  const out: Array<Array<number | null>> = [];
  for (let i = 0; i < TRIALS; i++) out.push(await approveAndWatch(approver, observerUrl));
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function rowsFor(engine: string, setup: string, results: Array<Array<number | null>>): string[][] {
  return TARGETS.map((t, i) => {
    const seen = results.map((r) => r[i]).filter((x): x is number => x !== null && x !== undefined);
    const worst = seen.length ? Math.max(...seen) : null;
    return [engine, setup, t.label, seen.length ? median(seen).toFixed(0) : '—', worst === null ? '—' : worst.toFixed(0), `${seen.length}/${results.length}`, worst !== null && seen.length === results.length && worst < GOAL_MS ? 'yes' : 'no'];
  });
}

/**
 * C-3 item 12: from the final approval to the change being visible to residents — on the top
 * page, a list, the search and the feed — on SQLite (one node) and on PostgreSQL (approved on one
 * node, observed on another, through LISTEN/NOTIFY).
 */
export default defineScenario({
  name: 'publish-latency',
  description: '承認（公開）から、トップページ・一覧・検索・フィードに反映されるまでの時間（SQLite、PostgreSQL 2ノード）',
  order: 50,
  async run() {
    const table: ReportTable = {
      title: `approve → visible, ${TRIALS} approvals each (ms; goal < ${GOAL_MS} ms)`,
      header: ['database', 'nodes', 'where', 'median ms', 'max ms', 'seen', `< ${GOAL_MS} ms`],
      rows: [],
      numeric: [3, 4, 5],
    };
    const notes: string[] = [];

    const dir = mkdtempSync(join(tmpdir(), 'machimado-bench-latency-'));
    try {
      const p = await demoPlatform(`sqlite:${join(dir, 'site.db')}`, dir);
      const running = await startServer(p);
      try {
        table.rows.push(...rowsFor('SQLite', 'one node', await trials(p, `http://127.0.0.1:${running.port}`)));
      } finally {
        await running.shutdown('bench end');
      }

      const pg = await benchPostgres();
      if ('unavailable' in pg) {
        notes.push(`PostgreSQL not available: skipped (${pg.unavailable})`);
      } else {
        try {
          const a = await demoPlatform(pg.url, dir);
          try {
            const b = await startAppProcess({ DATABASE_URL: pg.url, DATA_DIR: dir });
            try {
              table.rows.push(...rowsFor('PostgreSQL', 'approve on A, read on B', await trials(a, b.url)));
            } finally {
              await b.stop();
            }
          } finally {
            await a.close();
          }
        } finally {
          await pg.stop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    notes.push('approval = PageService.publish, which the workflow\'s final approval calls; times run from the call to the first HTTP answer showing the page');
    return { tables: [table], notes };
  },
});
