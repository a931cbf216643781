// The webhook's HTTPS server: POST /mutate and /validate take AdmissionReviews
// (admission-route.ts), everything else goes to the express 5 app (app.ts: /healthz, /readyz,
// /metrics). Malformed requests get a 400 with one line saying what is wrong; nothing a
// client sends can stop the server. Also owns the certificate (files watched, or swapped in by
// the self-bootstrap), the cross-object caches, and a graceful close().
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { PemKeyPair } from '../shared/tls/certificates.js';
import { loadKubeConfig } from '../shared/kube/config.js';
import type { AdmissionContext, CrossObjectChecks } from './admission.js';
import { admissionEndpointOf, createAdmissionRoute } from './admission-route.js';
import { buildApp, CROSS_OBJECT_OFF_TEXT } from './app.js';
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

export { readiness } from './app.js';

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
  const app = buildApp({ crossObject, metrics, log, state });
  const admit = createAdmissionRoute({
    ctx,
    metrics,
    log,
    state,
    bodyLimitBytes: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
  });
  const server = https.createServer(
    { cert: certificate.certPem, key: certificate.keyPem, minVersion: MIN_TLS_VERSION },
    (req, res) => {
      const endpoint = admissionEndpointOf(req);
      if (endpoint) admit(endpoint, req, res);
      else app(req, res);
    },
  );
  server.requestTimeout = 30_000;
  // The API server's client keeps idle connections for 90 s (Go's IdleConnTimeout). Closing
  // ours sooner (Node's default is 5 s) races with it reusing one: a POST on a connection we
  // just closed fails the admission. So let the client be the one that closes.
  server.keepAliveTimeout = 120_000;
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
