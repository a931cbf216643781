// The express app for everything but the two admission routes (see admission-route.ts):
// /healthz and /readyz for the kubelet, /metrics for Prometheus, 405 for other methods on
// /mutate and /validate, 404 elsewhere, and an error handler that answers 500 and goes on.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { CrossObjectChecks } from './admission.js';
import { errorText, type Logger } from './logger.js';
import type { WebhookMetrics } from './metrics.js';

export const CROSS_OBJECT_OFF_TEXT =
  'cross-object checks are off (no --kubeconfig and not running in a cluster): serving the single-object rules only';

export interface AppParts {
  crossObject: CrossObjectChecks;
  metrics: WebhookMetrics;
  log: Logger;
  state: { closing: boolean };
}

export function readiness(crossObject: CrossObjectChecks, closing: boolean): { code: number; text: string } {
  if (closing) return { code: 503, text: 'not ready: shutting down' };
  switch (crossObject.state) {
    case 'off':
      return { code: 200, text: `ok: ${CROSS_OBJECT_OFF_TEXT}` };
    case 'syncing':
      return {
        code: 503,
        text: 'not ready: the ForeignCluster and SearchDomain caches have not synced with the API server yet',
      };
    default:
      return { code: 200, text: 'ok: cross-object checks on (caches synced)' };
  }
}

export function buildApp({ crossObject, metrics, log, state }: AppParts): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((_req: Request, res: Response, next: NextFunction) => {
    if (state.closing) res.setHeader('Connection', 'close');
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const { code, text } = readiness(crossObject, state.closing);
    res.status(code).type('text/plain').send(`${text}\n`);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  for (const path of ['/mutate', '/validate']) {
    app.all(path, (req, res, next) => {
      if (req.method === 'POST') return next(); // e.g. a trailing slash: the 404 says where to go
      res.status(405).set('Allow', 'POST').type('text/plain').send(`use POST for ${path}\n`);
    });
  }
  app.use((req: Request, res: Response) => {
    res
      .status(404)
      .type('text/plain')
      .send(
        `no ${req.method} ${req.path}: this webhook serves POST /mutate, POST /validate, GET /healthz, /readyz, /metrics\n`,
      );
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    log.error({ err: errorText(err), path: req.path }, 'internal error while answering a request');
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
    else res.destroy();
  });
  return app;
}
