// Prometheus metrics (prom-client). Each server owns a Registry, so several servers in one
// process (tests, the benchmark) never collide on metric names.
import { Counter, Histogram, Registry } from 'prom-client';
import { registerProcessMetrics } from './process-metrics.js';

export type AdmissionResult = 'allowed' | 'denied' | 'error';

export interface WebhookMetrics {
  readonly registry: Registry;
  /** Records one answered admission request (or a malformed one: kind/operation "unknown"). */
  observe(endpoint: string, kind: string, operation: string, result: AdmissionResult, seconds: number): void;
}

export function createWebhookMetrics(opts: { processMetrics?: boolean } = {}): WebhookMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'liqo_webhook_admission_requests_total',
    help: 'Admission requests answered, by kind, operation, endpoint and result (allowed, denied, error).',
    labelNames: ['kind', 'operation', 'endpoint', 'result'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'liqo_webhook_admission_duration_seconds',
    help: 'Time from receiving an admission request to sending the answer, by endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  // Process metrics (RSS, CPU, event-loop lag) only for the real program: they are global
  // to the process, so registering them for every in-process test server would be noise.
  if (opts.processMetrics) registerProcessMetrics(registry);
  // Label children cached per combination: prom-client hashes the label object on every
  // call otherwise, a visible share of a sub-millisecond admission.
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  return {
    registry,
    observe(endpoint, kind, operation, result, seconds) {
      const key = `${kind}\0${operation}\0${endpoint}\0${result}`;
      let counter = counters.get(key);
      if (!counter) {
        counter = requests.labels({ kind, operation, endpoint, result });
        counters.set(key, counter);
      }
      counter.inc();
      let timer = timers.get(endpoint);
      if (!timer) {
        timer = latency.labels({ endpoint });
        timers.set(endpoint, timer);
      }
      timer.observe(seconds);
    },
  };
}
