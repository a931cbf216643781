// The webhook's HTTPS server (express 5): POST /mutate and /validate take AdmissionReviews,
// GET /healthz, /readyz and /metrics serve the kubelet and Prometheus. Malformed requests get
// a 400 with one line saying what is wrong; nothing a client sends can stop the server.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { PemKeyPair } from '../shared/tls/certificates.js';
import { loadKubeConfig } from '../shared/kube/config.js';
import {
  MalformedReviewError,
  mutate,
  parseAdmissionReview,
  validate,
  type AdmissionContext,
  type AdmissionOutcome,
  type AdmissionRequest,
  type CrossObjectChecks,
} from './admission.js';
import { CROSS_OBJECT_CHECKS_OFF, startCrossObjectCache } from './crossobject-cache.js';
import {
  checkKeyPair,
  describeCertificate,
  loadCertificateFiles,
  watchCertificateFiles,
  type CertificateFileWatcher,
} from './certificates/file-source.js';
import { createLogger, errorText, type Logger } from './logger.js';
import { createWebhookMetrics, type WebhookMetrics } from './metrics.js';

export const MIN_TLS_VERSION = 'TLSv1.2';
export const DEFAULT_BODY_LIMIT_BYTES = 3 * 1024 * 1024;

export interface WebhookServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Default 0.0.0.0. */
  bindAddress?: string;
  /** Certificate files, watched and reloaded; or give `certificate` instead. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** An in-memory pair (self-bootstrap, tests); later ones go through setCertificate(). */
  certificate?: PemKeyPair;
  /** How often the certificate files are re-read besides fs.watch events; default 10 s. */
  certificatePollIntervalMs?: number;
  /** Accept loopback hosts in authUrl (local sandboxes only). */
  allowLoopbackAuthUrl?: boolean;
  /** Kubeconfig file for the cross-object caches. */
  kubeconfig?: string;
  /** An already loaded configuration (e.g. the bootstrap's); wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** Whether to use the in-cluster configuration; default: KUBERNETES_SERVICE_HOST is set. */
  inCluster?: boolean;
  /** Explicit cross-object checks (overrides the three options above). */
  crossObject?: CrossObjectChecks;
  logger?: Logger;
  /** Register process metrics (RSS, CPU, event loop) too; the CLI does. */
  processMetrics?: boolean;
  bodyLimitBytes?: number;
  /** How long close() waits for in-flight requests before cutting connections; default 10 s. */
  shutdownTimeoutMs?: number;
}

export interface WebhookServer {
  readonly port: number;
  /** https://<bind address>:<port> */
  readonly url: string;
  readonly server: https.Server;
  readonly metrics: WebhookMetrics;
  readonly crossObject: CrossObjectChecks;
  /** Swaps the serving certificate for new connections; open ones keep theirs. */
  setCertificate(pair: PemKeyPair): void;
  /** Stops accepting, finishes in-flight requests, stops watchers and caches. */
  close(): Promise<void>;
}

const CROSS_OBJECT_OFF_TEXT =
  'cross-object checks are off (no --kubeconfig and not running in a cluster): serving the single-object rules only';

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const log = opts.logger ?? createLogger('info');
  let certificate: PemKeyPair;
  if (opts.tlsCertFile || opts.tlsKeyFile) {
    if (!opts.tlsCertFile || !opts.tlsKeyFile) {
      throw new Error('--tls-cert-file and --tls-key-file go together: give both');
    }
    certificate = await loadCertificateFiles(opts.tlsCertFile, opts.tlsKeyFile);
  } else if (opts.certificate) {
    checkKeyPair(opts.certificate, 'the serving certificate');
    certificate = opts.certificate;
  } else {
    throw new Error('no serving certificate: give --tls-cert-file and --tls-key-file, or --bootstrap-tls');
  }

  const crossObject = await crossObjectChecksFor(opts, log);
  const metrics = createWebhookMetrics({ processMetrics: opts.processMetrics ?? false });
  const ctx: AdmissionContext = {
    allowLoopbackAuthUrl: opts.allowLoopbackAuthUrl ?? false,
    crossObject,
  };
  const state = { closing: false };
  const app = buildApp({ ctx, metrics, log, state, bodyLimitBytes: opts.bodyLimitBytes });

  const server = https.createServer(
    { cert: certificate.certPem, key: certificate.keyPem, minVersion: MIN_TLS_VERSION },
    app,
  );
  server.requestTimeout = 30_000;
  server.on('tlsClientError', (err) => {
    if (log.isLevelEnabled('debug')) log.debug({ err: errorText(err) }, 'TLS handshake refused');
  });
  const setCertificate = (pair: PemKeyPair) => {
    server.setSecureContext({ cert: pair.certPem, key: pair.keyPem, minVersion: MIN_TLS_VERSION });
  };

  let fileWatcher: CertificateFileWatcher | undefined;
  if (opts.tlsCertFile && opts.tlsKeyFile) {
    fileWatcher = watchCertificateFiles({
      certFile: opts.tlsCertFile,
      keyFile: opts.tlsKeyFile,
      current: certificate,
      onChange: setCertificate,
      log,
      ...(opts.certificatePollIntervalMs ? { pollIntervalMs: opts.certificatePollIntervalMs } : {}),
    });
  }

  const bindAddress = opts.bindAddress ?? '0.0.0.0';
  try {
    await listen(server, opts.port, bindAddress);
  } catch (err) {
    fileWatcher?.stop();
    await stopCrossObject(crossObject);
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress;
  log.info(
    {
      address: bindAddress,
      port,
      minTlsVersion: MIN_TLS_VERSION,
      ...describeCertificate(certificate.certPem),
    },
    'webhook serving HTTPS',
  );

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      state.closing = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cutoff = setTimeout(() => server.closeAllConnections(), opts.shutdownTimeoutMs ?? 10_000);
      cutoff.unref();
      await done;
      clearTimeout(cutoff);
      fileWatcher?.stop();
      await stopCrossObject(crossObject);
    })();
    return closed;
  };

  return { port, url: `https://${host}:${port}`, server, metrics, crossObject, setCertificate, close };
}

async function crossObjectChecksFor(opts: WebhookServerOptions, log: Logger): Promise<CrossObjectChecks> {
  if (opts.crossObject) return opts.crossObject;
  const inCluster = opts.inCluster ?? Boolean(process.env.KUBERNETES_SERVICE_HOST);
  if (!opts.kubeConfig && !opts.kubeconfig && !inCluster) {
    log.info(CROSS_OBJECT_OFF_TEXT);
    return CROSS_OBJECT_CHECKS_OFF;
  }
  const kubeConfig = opts.kubeConfig ?? (await loadKubeConfig({ kubeconfig: opts.kubeconfig }));
  log.info(
    { server: kubeConfig.getCurrentCluster()?.server },
    'cross-object checks on: watching ForeignClusters and SearchDomains',
  );
  return startCrossObjectCache(kubeConfig, log);
}

async function stopCrossObject(checks: CrossObjectChecks): Promise<void> {
  const stop = (checks as { stop?: () => Promise<void> }).stop;
  if (stop) await stop.call(checks);
}

function listen(server: https.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'address already in use' : errorText(err);
      reject(new Error(`cannot listen on ${host}:${port}: ${why}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

interface AppParts {
  ctx: AdmissionContext;
  metrics: WebhookMetrics;
  log: Logger;
  state: { closing: boolean };
  bodyLimitBytes: number | undefined;
}

type Endpoint = 'mutate' | 'validate';
const ENDPOINTS: Record<Endpoint, (r: AdmissionRequest, c: AdmissionContext) => AdmissionOutcome> = {
  mutate,
  validate,
};

function buildApp({ ctx, metrics, log, state, bodyLimitBytes }: AppParts): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const limit = bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;

  const badRequest = (req: Request, res: Response, code: number, message: string): void => {
    res.status(code).type('text/plain').send(`${message}\n`);
    const endpoint = req.path.slice(1);
    if (endpoint === 'mutate' || endpoint === 'validate') {
      const seconds = (performance.now() - (res.locals.startedAt as number)) / 1000;
      metrics.observe(endpoint, 'unknown', 'unknown', 'error', seconds);
    }
    log.info({ path: req.path, code, message }, 'malformed request refused');
  };

  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.locals.startedAt = performance.now();
    if (state.closing) res.setHeader('Connection', 'close');
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const { code, text } = readiness(ctx.crossObject, state.closing);
    res.status(code).type('text/plain').send(`${text}\n`);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const requireJson = (req: Request, res: Response, next: NextFunction) => {
    if (req.is('application/json')) return next();
    const got = req.headers['content-type'] ? `"${req.headers['content-type']}"` : 'none';
    badRequest(req, res, 400, `Content-Type must be application/json (an AdmissionReview), got ${got}`);
  };
  const parseJson = express.json({ limit, strict: true, type: 'application/json' });

  for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
    app.post(`/${endpoint}`, requireJson, parseJson, (req: Request, res: Response) => {
      let request: AdmissionRequest;
      try {
        request = parseAdmissionReview(req.body);
      } catch (err) {
        if (!(err instanceof MalformedReviewError)) throw err;
        return badRequest(req, res, 400, `malformed AdmissionReview: ${err.message}`);
      }
      const outcome = ENDPOINTS[endpoint](request, ctx);
      res.json(outcome.review);
      const seconds = (performance.now() - (res.locals.startedAt as number)) / 1000;
      metrics.observe(endpoint, outcome.kind, outcome.operation, outcome.result, seconds);
      logAdmission(log, endpoint, request, outcome, seconds);
    });
    app.all(`/${endpoint}`, (_req, res) => {
      res.status(405).set('Allow', 'POST').type('text/plain').send(`use POST for /${endpoint}\n`);
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

  // Body-parser failures (bad JSON, too large, bad encoding) and anything unexpected.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    if (e?.type === 'entity.too.large') {
      return badRequest(
        req,
        res,
        413,
        `request body is larger than ${limit} bytes; an AdmissionReview never is`,
      );
    }
    if (e?.type === 'entity.parse.failed') {
      return badRequest(req, res, 400, `request body is not valid JSON: ${errorText(err)}`);
    }
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      return badRequest(req, res, e.status, `bad request: ${errorText(err)}`);
    }
    log.error({ err: errorText(err), path: req.path }, 'internal error while answering a request');
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
    else res.destroy();
  });
  return app;
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

function logAdmission(
  log: Logger,
  endpoint: Endpoint,
  request: AdmissionRequest,
  outcome: AdmissionOutcome,
  seconds: number,
): void {
  const response = outcome.review.response;
  if (response.allowed && !log.isLevelEnabled('debug')) return;
  const meta = (request.object as { metadata?: { name?: string } } | undefined)?.metadata;
  const fields = {
    endpoint,
    uid: request.uid,
    kind: outcome.kind,
    name: meta?.name ?? request.name,
    operation: outcome.operation,
    dryRun: request.dryRun === true,
    user: (request.userInfo as { username?: string } | undefined)?.username,
    allowed: response.allowed,
    patched: response.patch !== undefined,
    ms: Math.round(seconds * 10000) / 10,
    ...(response.status ? { message: response.status.message } : {}),
    ...(response.warnings ? { warnings: response.warnings } : {}),
  };
  if (response.allowed) log.debug(fields, 'admitted');
  else log.info(fields, 'admission refused');
}
