import { afterAll, beforeAll, describe } from 'vitest';
import type { Engine } from '../../src/core/db/index.js';
import { ENGINES, engineAvailable } from './db.js';
import { startTestPlatform, type TestPlatform } from './platform.js';
import type { PlatformModule } from '../../src/core/module.js';

/**
 * Runs an integration suite once per engine against the whole platform served over HTTP.
 * @example describePlatform('login', { smtp: true }, (tp) => { it('…', async () => { tp().baseUrl }) })
 */
export function describePlatform(
  name: string,
  opts: { env?: Record<string, string>; smtp?: boolean; modules?: PlatformModule[] },
  body: (tp: () => TestPlatform, engine: Engine) => void,
) {
  for (const engine of ENGINES) {
    const run = engineAvailable(engine) ? describe : describe.skip;
    run(`${name} [${engine}]`, () => {
      let current: TestPlatform | undefined;
      beforeAll(async () => {
        current = await startTestPlatform(engine, opts);
      });
      afterAll(async () => {
        await current?.close();
      });
      body(() => {
        if (!current) throw new Error('platform not started');
        return current;
      }, engine);
    });
  }
}
