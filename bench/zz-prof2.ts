import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/core/config/index.js';
import { silentLogger } from '../src/core/log.js';
import { createPlatform } from '../src/main.js';
import { consoleActor } from '../src/core/permissions/index.js';
import { createSampleForm, EVERY_TYPE, insertResponses } from '../src/modules/forms/fixtures.js';
import { formsOf } from '../src/modules/forms/services.js';
import { responsesCsv, responsesXlsx } from '../src/modules/forms/export.js';
setFlagsFromString('--expose_gc'); const gc = runInNewContext('gc') as () => void;
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const p = await createPlatform(loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'x.db')}`, DATA_DIR: dir, LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', JOBS_ENABLED: 'false' }), { log: silentLogger() });
const { responses, forms } = formsOf(p);
const make = async (n: number) => { const { form, questions } = await createSampleForm(p, consoleActor(p.permissions), { slug: `p${n}`, questions: EVERY_TYPE.filter((q) => q.type !== 'file') }); await insertResponses(p, form, questions, n); return form.id; };
const ids = { 10000: await make(10000), 30000: await make(30000) };
for (const kind of ['csv', 'xlsx', 'csv', 'xlsx']) for (const n of [10000, 30000] as const) {
  const qs = await forms.questions(ids[n], { includeDeleted: true });
  gc(); const h0 = process.memoryUsage().heapUsed; let peak = h0; const t = performance.now();
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().heapUsed); }, 2);
  const it = kind === 'csv' ? responsesCsv(responses.exportRows(ids[n], {}), qs, 'utf8bom') : responsesXlsx(responses.exportRows(ids[n], {}), qs);
  let chunks = 0; let bytes = 0; for await (const c of it) { bytes += c.length; chunks++; if (chunks % 20 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed); }
  clearInterval(timer);
  console.log(kind, n, bytes, ((performance.now() - t) / 1000).toFixed(2), 's; peak heap +', ((peak - h0) / 2 ** 20).toFixed(1), 'MiB');
}
await p.close();
