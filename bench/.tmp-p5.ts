import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { demoPlatform, startAppProcess } from './support.js';
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const url = `sqlite:${join(dir, 'site.db')}`;
const p = await demoPlatform(url, dir); await p.close();
const app = await startAppProcess({ DATABASE_URL: url, DATA_DIR: dir, ...(process.argv[2] === 'full' ? process.env as Record<string,string> : {}) }, '/kurashi/gomi');
for (let i = 0; i < 2; i++) {
const r = await autocannon({ url: app.url + '/kurashi/gomi', connections: 20, duration: 4 });
console.log(process.argv[2], 'rps', r.requests.average, 'p99', r.latency.p99);
}
await app.stop();
