import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/core/config/index.js';
import { silentLogger } from '../src/core/log.js';
import { createPlatform } from '../src/main.js';
import { consoleActor } from '../src/core/permissions/index.js';
import { createSampleForm, EVERY_TYPE, insertResponses } from '../src/modules/forms/fixtures.js';
import { formsOf } from '../src/modules/forms/services.js';
import { responsesXlsx } from '../src/modules/forms/export.js';
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const p = await createPlatform(loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'x.db')}`, DATA_DIR: dir, LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', JOBS_ENABLED: 'false' }), { log: silentLogger() });
const { responses, forms } = formsOf(p);
const { form, questions } = await createSampleForm(p, consoleActor(p.permissions), { slug: 'pp', questions: EVERY_TYPE.filter((q) => q.type !== 'file') }); await insertResponses(p, form, questions, 20000);
for await (const _ of responsesXlsx(responses.exportRows(form.id, {}), questions)) {}
await p.close();
