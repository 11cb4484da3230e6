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

/** A table of figures that are not load measurements (latencies of one event, ratios). */
export interface ReportTable {
  title: string;
  header: string[];
  rows: string[][];
  /** Columns (by index) aligned to the right; numbers usually. */
  numeric?: number[];
}

/** What a scenario may print besides load measurements: its own tables and notes below them. */
export interface ScenarioReport {
  measurements?: Measurement[];
  tables?: ReportTable[];
  notes?: string[];
}

export interface Scenario {
  /** Name used on the command line: `npm run bench -- public-page`. */
  name: string;
  /** One line shown in the listing. */
  description: string;
  /** Position in a full run (lower first, then by name); default 100. */
  order?: number;
  run(ctx: BenchContext): Promise<Measurement | Measurement[] | ScenarioReport>;
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

/** Display width in a terminal: East Asian wide characters take two columns. */
function cellWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

/** A Markdown-style table; `numeric` columns are right-aligned. */
export function formatGrid(header: string[], body: string[][], numeric: number[]): string {
  const widths = header.map((h, i) => Math.max(cellWidth(h), ...body.map((b) => cellWidth(b[i] ?? ''))));
  const pad = (c: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - cellWidth(c)));
    return numeric.includes(i) ? fill + c : c + fill;
  };
  const line = (cells: string[]) => `| ${header.map((_, i) => pad(cells[i] ?? '', i)).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => `${'-'.repeat(w + 1)}${numeric.includes(i) ? ':' : '-'}`).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
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
  return formatGrid(header, body, [2, 3, 4, 5, 6, 7]);
}
