import type { TestProject } from 'vitest/node';
import { startCluster, type Cluster } from './postgres-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string | null;
  }
}

let cluster: Cluster | undefined;

/**
 * Makes a PostgreSQL server available to every suite: TEST_DATABASE_URL if given, else a
 * throwaway cluster. Without one, PostgreSQL runs are skipped locally, and CI fails loudly.
 */
export async function setup(project: TestProject) {
  const engines = (process.env.TEST_ENGINES ?? 'sqlite,postgres').split(',');
  let url: string | null = null;
  if (engines.includes('postgres')) {
    if (process.env.TEST_DATABASE_URL) {
      url = process.env.TEST_DATABASE_URL;
    } else {
      try {
        cluster = await startCluster();
        url = cluster.url;
      } catch (e) {
        const msg = `PostgreSQL unavailable: ${(e as Error).message}`;
        if (process.env.CI) throw new Error(`${msg} — CI must run every suite on PostgreSQL too`);
        console.warn(`\n\x1b[33m⚠ ${msg}\n⚠ SKIPPING all PostgreSQL runs. Install postgresql or set TEST_DATABASE_URL.\x1b[0m\n`);
      }
    }
  }
  project.provide('pgAdminUrl', url);
}

export async function teardown() {
  cluster?.stop();
}
