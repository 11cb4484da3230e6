import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.js';
import { createPlatform, startServer, type RunningServer } from '../../main.js';
import { createEmptyDatabase } from '../../../test/helpers/db.js';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createStaff } from '../../../test/helpers/platform.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The sample lines of one metric family, e.g. every `machimado_http_requests_total{…} n`. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describePlatform('ops endpoints', {}, (tp, engine) => {
  it('/healthz answers 200 without touching the database', async () => {
    const res = await fetch(`${tp().baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 with the engine while the database is reachable', async () => {
    const res = await fetch(`${tp().baseUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', engine });
  });

  it('/metrics serves Prometheus text to loopback, labelled by route pattern, never by raw path', async () => {
    const { platform, baseUrl } = tp();
    const staff = await createStaff(platform, { roles: ['system_admin'] });
    const client = new HttpClient(baseUrl);
    expect((await client.login(staff.loginId, staff.password)).status).toBe(303);
    const page = await client.get(`/admin/users/${staff.id}`);
    expect(page.status).toBe(200);
    expect((await fetch(`${baseUrl}/no/such/page/98765`)).status).toBe(404);

    const res = await fetch(`${baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    const requests = samples(text, 'machimado_http_requests_total');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests).toContainEqual(expect.stringMatching(/^machimado_http_requests_total\{(?=.*method="GET")(?=.*route="\/admin\/users\/:id\{\[0-9\]\+\}")(?=.*status="200").*\} 1$/));
    expect(requests).toContainEqual(expect.stringMatching(/route="\/admin\/login".*status="303"/));
    // Cardinality stays bounded: ids and unknown paths never become label values.
    expect(text).not.toContain(`/admin/users/${staff.id}"`);
    expect(text).not.toContain('98765');

    const buckets = samples(text, 'machimado_http_request_duration_seconds_bucket');
    expect(buckets).toContainEqual(expect.stringMatching(/le="0\.005".*route="\/admin\/users\/:id\{\[0-9\]\+\}"/));
    expect(buckets).toContainEqual(expect.stringMatching(/le="\+Inf".*route="\/admin\/users\/:id\{\[0-9\]\+\}".* 1$/));
    expect(text).toMatch(/^# TYPE machimado_http_request_duration_seconds histogram$/m);

    // What the process itself is doing.
    expect(text).toMatch(/^machimado_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^machimado_process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^machimado_nodejs_eventloop_lag_seconds \d/m);
  });

  it('counts finished jobs by name and outcome', async () => {
    const { platform, baseUrl } = tp();
    const before = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(before).not.toMatch(/machimado_jobs_finished_total\{[^}]*name="sessions\.purge"/);
    await platform.jobs.enqueue('sessions.purge');
    expect(await platform.jobs.drain()).toBeGreaterThanOrEqual(1);
    const after = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(samples(after, 'machimado_jobs_finished_total')).toContain('machimado_jobs_finished_total{name="sessions.purge",status="done"} 1');
    expect(after).toMatch(/^machimado_job_duration_seconds_count\{name="sessions\.purge"\} 1$/m);
  });

  it('gives every response an X-Request-Id and echoes a valid one', async () => {
    const { baseUrl } = tp();
    const seen = new Set<string>();
    for (const path of ['/healthz', '/readyz', '/metrics', '/admin/login', '/admin', '/no/such/page', '/assets/nope.css']) {
      const res = await fetch(`${baseUrl}${path}`, { redirect: 'manual' });
      const id = res.headers.get('x-request-id');
      expect(id, path).toMatch(UUID);
      seen.add(id!);
    }
    expect(seen.size).toBe(7);

    const given = 'lb-2f9c1e7a.req_0001';
    const echoed = await fetch(`${baseUrl}/healthz`, { headers: { 'X-Request-Id': given } });
    expect(echoed.headers.get('x-request-id')).toBe(given);
    // Too short, too long, or characters that could forge a log line: replaced by a fresh id.
    for (const bad of ['short', 'x'.repeat(65), 'abc def 12345', 'a"b{c}1234567']) {
      const res = await fetch(`${baseUrl}/healthz`, { headers: { 'X-Request-Id': bad } });
      expect(res.headers.get('x-request-id'), bad).toMatch(UUID);
    }
  });

  // Last: the platform's database is gone from here on (the suite's close tolerates that).
  it('/readyz answers 503 once the database is unreachable, while /healthz stays up', async () => {
    const { platform, baseUrl } = tp();
    await platform.database.close();
    const res = await fetch(`${baseUrl}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'database unreachable', engine });
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
  });
});

describe('ops: restricted /metrics and request logging [sqlite]', () => {
  const token = 'metrics-token-0123456789abcdef';
  const lines: string[] = [];
  let running: RunningServer;
  let baseUrl: string;
  let dataDir: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await createEmptyDatabase('sqlite');
    drop = db.drop;
    dataDir = mkdtempSync(join(tmpdir(), 'machimado-ops-'));
    const config = loadConfig({
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DEMO_CONTENT: 'false',
      JOBS_ENABLED: 'false',
      METRICS_ALLOW: '10.0.0.0/8',
      METRICS_TOKEN: token,
    });
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    running = await startServer(await createPlatform(config, { log }));
    baseUrl = `http://127.0.0.1:${running.port}`;
  });
  afterAll(async () => {
    await running?.shutdown('test end');
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses loopback when METRICS_ALLOW excludes it, even with a forged X-Forwarded-For', async () => {
    const plain = await fetch(`${baseUrl}/metrics`);
    expect(plain.status).toBe(403);
    expect(await plain.text()).not.toContain('machimado_');
    const forged = await fetch(`${baseUrl}/metrics`, { headers: { 'X-Forwarded-For': '10.1.2.3' } });
    expect(forged.status).toBe(403);
  });

  it('refuses a wrong token and accepts the configured bearer token', async () => {
    for (const auth of [`Bearer ${token.slice(0, -1)}x`, `Bearer ${token}x`, token, `Basic ${token}`, 'Bearer ']) {
      expect((await fetch(`${baseUrl}/metrics`, { headers: { Authorization: auth } })).status, auth).toBe(403);
    }
    const ok = await fetch(`${baseUrl}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('machimado_http_requests_total');
  });

  it('writes one JSON log line per request carrying the request id', async () => {
    const id = 'trace-abc-12345678';
    const res = await fetch(`${baseUrl}/healthz?probe=1`, { headers: { 'X-Request-Id': id } });
    expect(res.status).toBe(200);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.requestId === id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ msg: 'request', method: 'GET', path: '/healthz', status: 200, ip: '127.0.0.1' });
    expect(typeof entries[0]!.ms).toBe('number');

    const generated = (await fetch(`${baseUrl}/no/such/page`)).headers.get('x-request-id');
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.requestId === generated);
    expect(logged).toMatchObject({ msg: 'request', path: '/no/such/page', status: 404 });
  });

  it('logs the metrics token nowhere', () => {
    expect(lines.join('\n')).not.toContain(token);
  });
});
