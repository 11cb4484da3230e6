import { defineModule } from '../../core/module.js';
import { ping } from '../../core/db/index.js';
import { CidrList } from '../../core/http/client-ip.js';
import { timingSafeEqual } from 'node:crypto';

/**
 * Operations baseline: liveness, readiness and Prometheus metrics. /metrics answers only to the
 * configured networks or a bearer token, never to the public.
 */
export const opsModule = defineModule({
  name: 'ops',
  routes(app, p) {
    const allow = new CidrList(p.config.METRICS_ALLOW);
    app.get('/healthz', (c) => c.json({ status: 'ok' }));
    app.get('/readyz', async (c) => {
      const ok = await ping(p.db);
      return c.json({ status: ok ? 'ready' : 'database unreachable', engine: p.database.engine }, ok ? 200 : 503);
    });
    app.get('/metrics', async (c) => {
      const auth = c.req.header('authorization') ?? '';
      const token = p.config.METRICS_TOKEN;
      const tokenOk = Boolean(token) && auth.length === `Bearer ${token}`.length && timingSafeEqual(Buffer.from(auth), Buffer.from(`Bearer ${token}`));
      if (!tokenOk && !allow.contains(c.get('clientIp'))) return c.text('forbidden', 403);
      c.header('Content-Type', p.metrics.registry.contentType);
      return c.body(await p.metrics.registry.metrics());
    });
  },
});
