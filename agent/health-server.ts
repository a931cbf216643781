// Plain-HTTP /healthz, /readyz and /metrics for the kubelet's probes and Prometheus.
import { createServer } from 'node:http';
import { closeServer, listenOn } from './http-listen.js';
import type { Logger } from './logger.js';
import type { AgentMetrics } from './metrics.js';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(opts: {
  port: number;
  host?: string;
  /** Why the agent is not ready, or undefined when it is. */
  notReadyReason: () => string | undefined;
  metrics: AgentMetrics;
  log: Logger;
}): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const reason = opts.notReadyReason();
      if (reason) res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${reason}\n`);
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/metrics') {
      opts.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /healthz, /readyz, /metrics\n');
    }
  });
  const port = await listenOn(server, opts.port, opts.host);
  opts.log.info({ port }, 'health and metrics server listening');
  return {
    port,
    close: () => closeServer(server),
  };
}
