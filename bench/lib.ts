/**
 * Shared pieces of the benchmark: what a scenario receives, how one load run is measured, and how
 * results are printed. Scenarios live in bench/scenarios/*.ts, one per file.
 */
import autocannon from 'autocannon';
import type { Platform } from '../src/core/platform.js';

export interface BenchOptions {
  /** Seconds each measurement runs (BENCH_SECONDS, default 10). */
  seconds: number;
  /** Concurrent connections (BENCH_CONNECTIONS, default 20). */
  connections: number;
  /** Seconds of unmeasured warm-up before each measurement (BENCH_WARMUP, default 1). */
  warmupSeconds: number;
  /** Worker threads generating load (BENCH_WORKERS, default 0 = on the server's own thread). */
  workers: number;
}

export interface BenchContext {
  /** The running platform, for seeding data or reading metrics. */
  platform: Platform;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  options: BenchOptions;
  /** A system administrator created for the run (no forced password change, no TOTP). */
  admin: { id: number; loginId: string; password: string };
  /** Load-tests one request shape and returns the figures for the table. */
  measure(label: string, request: MeasureRequest): Promise<Measurement>;
}

export interface MeasureRequest {
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface Measurement {
  /** Row label, e.g. 'GET /'. */
  label: string;
  /** Mean requests per second over the run. */
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Responses outside 200–299. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Requests completed in the measured window. */
  total: number;
}

export interface Scenario {
  /** Name used on the command line: `npm run bench -- public-page`. */
  name: string;
  /** One line shown in the listing. */
  description: string;
  /** Position in a full run (lower first, then by name); default 100. */
  order?: number;
  run(ctx: BenchContext): Promise<Measurement | Measurement[]>;
}

/** Identity helper that gives a scenario object its type. */
export function defineScenario(s: Scenario): Scenario {
  return s;
}

function load(baseUrl: string, req: MeasureRequest, connections: number, seconds: number, workers: number): Promise<autocannon.Result> {
  return autocannon({
    url: new URL(req.path, baseUrl).toString(),
    method: req.method ?? 'GET',
    headers: req.headers,
    body: req.body,
    connections,
    pipelining: 1,
    duration: seconds,
    ...(workers > 0 ? { workers } : {}),
  });
}

/** Runs a warm-up (not counted), then the measured run. */
export async function measure(baseUrl: string, options: BenchOptions, label: string, req: MeasureRequest): Promise<Measurement> {
  if (options.warmupSeconds > 0) await load(baseUrl, req, options.connections, options.warmupSeconds, options.workers);
  const r = await load(baseUrl, req, options.connections, options.seconds, options.workers);
  return {
    label,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    total: r.requests.total,
  };
}

/** A plain-text table with right-aligned numbers, readable in a terminal and in an issue. */
export function formatTable(rows: Array<Measurement & { scenario: string }>): string {
  const header = ['scenario', 'request', 'req/s (avg)', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'requests'];
  const body = rows.map((r) => [
    r.scenario,
    r.label,
    r.rps.toFixed(1),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    String(r.non2xx),
    String(r.errors),
    String(r.total),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}
