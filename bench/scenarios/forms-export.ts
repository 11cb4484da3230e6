import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Platform } from '../../src/core/platform.js';
import { consoleActor } from '../../src/core/permissions/index.js';
import { createSampleForm, EVERY_TYPE, insertResponses } from '../../src/modules/forms/fixtures.js';
import { defineScenario, type BenchContext, type Measurement } from '../lib.js';

/**
 * Exports of form responses (issue 4, C-3-15): 10,000 responses as CSV (UTF-8 with BOM and
 * Shift_JIS) and XLSX, each downloaded whole over HTTP by a signed-in administrator. Prints the
 * time and the peak growth of the process's resident memory during the download, next to the
 * same export of 30,000 responses: flat memory means the peaks stay about the same when the
 * responses triple. The target is "well under 10 seconds" for 10,000 responses.
 */

// A collection before each download, so one run's garbage is not counted against the next.
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const QUESTIONS = EVERY_TYPE.filter((q) => q.type !== 'file');

async function signIn(ctx: BenchContext): Promise<string> {
  const jar = new Map<string, string>();
  const remember = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const page = await fetch(`${ctx.baseUrl}/admin/login`);
  remember(page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const res = await fetch(`${ctx.baseUrl}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
    body: new URLSearchParams({ _csrf: csrf, loginId: ctx.admin.loginId, password: ctx.admin.password }),
  });
  remember(res);
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  return cookie();
}

async function formWith(p: Platform, n: number): Promise<number> {
  const actor = consoleActor(p.permissions);
  const { form, questions } = await createSampleForm(p, actor, { slug: `bench-export-${n}`, title: `出力ベンチマーク${n}件`, questions: QUESTIONS });
  await insertResponses(p, form, questions, n);
  return form.id;
}

interface ExportFigure {
  seconds: number;
  bytes: number;
  peakRssDeltaMb: number;
  /** Largest live heap growth seen by a full collection every 200 ms (only when asked). */
  liveHeapDeltaMb: number;
  status: number;
}

/**
 * Downloads one export, reading the body as it streams, sampling RSS every 5 ms. With `live`, a
 * full collection every 200 ms measures what the export actually keeps (RSS also counts garbage
 * the collector has not reached yet); those runs are not timed.
 */
async function download(url: string, cookie: string, live = false): Promise<ExportFigure> {
  gc();
  const base = process.memoryUsage().rss;
  const heapBase = process.memoryUsage().heapUsed;
  let peak = base;
  let livePeak = heapBase;
  const timer = setInterval(() => {
    const rss = process.memoryUsage().rss;
    if (rss > peak) peak = rss;
  }, 5);
  const collector = live
    ? setInterval(() => {
        gc();
        livePeak = Math.max(livePeak, process.memoryUsage().heapUsed);
      }, 200)
    : null;
  const started = performance.now();
  let bytes = 0;
  const res = await fetch(url, { headers: { cookie } });
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  if (collector) clearInterval(collector);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { seconds, bytes, peakRssDeltaMb: (peak - base) / 2 ** 20, liveHeapDeltaMb: (livePeak - heapBase) / 2 ** 20, status: res.status };
}

export default defineScenario({
  name: 'forms-export',
  description: 'フォームの回答 10,000件を CSV（UTF-8・Shift_JIS）と XLSX で出力（時間と最大メモリ増分）',
  order: 60,
  async run(ctx) {
    const p = ctx.platform;
    const seedStart = performance.now();
    const large = await formWith(p, 10_000);
    const huge = await formWith(p, 30_000);
    process.stderr.write(`  seeded 40,000 responses in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`);
    const cookie = await signIn(ctx);
    const kinds = [
      { label: 'CSV UTF-8', path: 'export.csv' },
      { label: 'CSV Shift_JIS', path: 'export.csv?encoding=sjis' },
      { label: 'XLSX', path: 'export.xlsx' },
    ];
    // One unmeasured run warms the code paths (JIT, ExcelJS modules).
    for (const k of kinds) await download(`${ctx.baseUrl}/admin/forms/${large}/responses/${k.path}`, cookie);
    const rows: Measurement[] = [];
    const lines: string[] = [];
    for (const k of kinds) {
      const runs: ExportFigure[] = [];
      for (let i = 0; i < 3; i++) runs.push(await download(`${ctx.baseUrl}/admin/forms/${large}/responses/${k.path}`, cookie));
      const at30k = await download(`${ctx.baseUrl}/admin/forms/${huge}/responses/${k.path}`, cookie);
      const live10k = await download(`${ctx.baseUrl}/admin/forms/${large}/responses/${k.path}`, cookie, true);
      const live30k = await download(`${ctx.baseUrl}/admin/forms/${huge}/responses/${k.path}`, cookie, true);
      runs.sort((a, b) => a.seconds - b.seconds);
      const median = runs[1]!;
      const peak = Math.max(...runs.map((r) => r.peakRssDeltaMb));
      lines.push(
        `  ${k.label.padEnd(14)} 10,000 responses: ${median.seconds.toFixed(2)} s (median of 3), ${(median.bytes / 2 ** 20).toFixed(1)} MiB file, peak RSS +${peak.toFixed(1)} MiB, live heap +${live10k.liveHeapDeltaMb.toFixed(1)} MiB` +
          ` | 30,000: ${at30k.seconds.toFixed(2)} s, peak RSS +${at30k.peakRssDeltaMb.toFixed(1)} MiB, live heap +${live30k.liveHeapDeltaMb.toFixed(1)} MiB`,
      );
      rows.push({ label: `${k.label} 10,000件`, rps: 1 / median.seconds, p50: median.seconds * 1000, p99: runs[2]!.seconds * 1000, non2xx: runs.filter((r) => r.status !== 200).length, errors: 0, total: runs.length });
    }
    console.log(`forms-export (target: well under 10 s for 10,000 responses; flat memory = about the same live heap at 10,000 and 30,000; RSS also counts garbage not yet collected):\n${lines.join('\n')}\n`);
    return rows;
  },
});
