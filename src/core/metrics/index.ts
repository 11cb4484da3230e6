import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics for one app node: requests, latency, jobs, and the process itself. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'machimado_' });
  const httpRequests = new Counter({
    name: 'machimado_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'machimado_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const jobsFinished = new Counter({
    name: 'machimado_jobs_finished_total',
    help: 'Background jobs finished, by job name and outcome',
    labelNames: ['name', 'status'] as const,
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: 'machimado_job_duration_seconds',
    help: 'Background job run time',
    labelNames: ['name'] as const,
    buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    jobsFinished,
    jobDuration,
    jobFinished(name: string, status: string, durationMs: number) {
      jobsFinished.inc({ name, status });
      jobDuration.observe({ name }, durationMs / 1000);
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
