// Process metrics computed when Prometheus scrapes, under prom-client's standard names. Not
// prom-client's collectDefaultMetrics(): its GC observer runs JavaScript on every garbage
// collection, and under admission load that cost 15-25 us per request (measured with
// bench/webhook.ts: 68-75 us of CPU per request without it, 88-101 us with it).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';

export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since unix epoch in seconds.',
    registers,
    collect() {
      this.set(startTime);
    },
  });
  const cpu = (name: string, help: string, pick: (u: NodeJS.CpuUsage) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(pick(process.cpuUsage()) / 1e6);
      },
    });
  cpu('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', (u) => u.user);
  cpu('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', (u) => u.system);
  cpu(
    'process_cpu_seconds_total',
    'Total user and system CPU time spent in seconds.',
    (u) => u.user + u.system,
  );
  const memory = (name: string, help: string, pick: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(pick());
      },
    });
  memory('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  memory(
    'nodejs_heap_size_total_bytes',
    'Process heap size from Node.js in bytes.',
    () => process.memoryUsage().heapTotal,
  );
  memory(
    'nodejs_heap_size_used_bytes',
    'Process heap size used from Node.js in bytes.',
    () => process.memoryUsage().heapUsed,
  );
  memory(
    'nodejs_external_memory_bytes',
    'Node.js external memory size in bytes.',
    () => process.memoryUsage().external,
  );

  // A native histogram sampled by a libuv timer: nothing runs per request. It records the
  // timer's whole interval, so the resolution is taken off to leave the lag itself.
  const resolutionMs = 20;
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  const lag = (name: string, help: string, pick: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const nanos = pick();
        this.set(Number.isFinite(nanos) ? Math.max(0, nanos / 1e9 - resolutionMs / 1000) : 0);
      },
    });
  lag('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', () => delay.mean);
  lag('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', () =>
    delay.percentile(99),
  );
  lag('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', () => delay.max);
}
