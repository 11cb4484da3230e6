import pg from 'pg';
import { startCluster } from '../../../../test/helpers/postgres-cluster.js';
import { benchSearch } from './bench.js';
import { cmsSearchMigrations } from './migrations.js';
const cluster = await startCluster();
try {
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  await c.query('CREATE DATABASE bench');
  await c.end();
  const url = cluster.url.replace(/\/[^/?]*(\?|$)/, '/bench$1');
  const r = await benchSearch({ url, docs: Number(process.env.DOCS ?? 100000), queries: 200, migrations: cmsSearchMigrations });
  console.log(JSON.stringify(r.filtered));
} finally {
  cluster.stop();
}
