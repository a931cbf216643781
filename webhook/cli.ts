// The webhook's command line: flags (kubectl style) parsed and checked, then the run: a
// serving certificate (files, or self-bootstrapped), the server, and a clean shutdown on
// SIGTERM/SIGINT. main.ts turns every start-up failure into one `error: ...` line.
import yargs from 'yargs';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../shared/kube/config.js';
import { DEFAULT_LIQO_NAMESPACE } from '../shared/api/constants.js';
import type { TlsBootstrap } from './certificates/bootstrap.js';
import { formatDuration, parseDuration } from './duration.js';
import { createLogger, errorText, LOG_LEVELS, type LogLevel, type Logger } from './logger.js';
import { startWebhookServer, type WebhookServer } from './server.js';

export class UsageError extends Error {}

export interface WebhookCliOptions {
  port: number;
  bindAddress: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  kubeconfig?: string;
  allowLoopbackAuthUrl: boolean;
  logLevel: LogLevel;
  tlsReloadInterval: number;
  bootstrapTls: boolean;
  tlsSecretNamespace: string;
  tlsSecretName: string;
  serviceName: string;
  serviceNamespace: string;
  webhookConfigurationName: string;
  extraSan: string[];
  servingCertValidity: number;
  renewBefore: number;
  caValidity: number;
}

function duration(flag: string) {
  return (value: string): number => {
    const ms = parseDuration(String(value));
    if (ms === undefined)
      throw new UsageError(`--${flag} "${value}" is not a duration (accepted: e.g. 720h, 90m, 30s)`);
    return ms;
  };
}

export async function parseWebhookArgs(args: string[]): Promise<WebhookCliOptions> {
  const argv = await yargs(args)
    .scriptName('liqo-webhook')
    .usage(
      'liqo-webhook [flags]\n\nAdmission webhook for ForeignCluster, SearchDomain and ClusterConfig: defaults them (POST /mutate)\nand refuses what cannot work (POST /validate). Serves HTTPS only; /healthz, /readyz, /metrics.',
    )
    .options({
      port: { type: 'string', default: '8443', describe: 'HTTPS port (0 picks a free one)' },
      'bind-address': { type: 'string', default: '0.0.0.0', describe: 'Address to listen on' },
      'tls-cert-file': {
        type: 'string',
        describe: 'Serving certificate (PEM); reloaded when the file changes',
      },
      'tls-key-file': { type: 'string', describe: 'Its private key (PEM)' },
      'tls-reload-interval': {
        type: 'string',
        default: '10s',
        describe: 'How often the certificate files are re-read besides file-change events',
      },
      kubeconfig: {
        type: 'string',
        describe:
          'Kubeconfig for the cross-object checks (in a cluster the service account is used); without either, only single-object rules run',
      },
      'allow-loopback-auth-url': {
        type: 'boolean',
        default: false,
        describe:
          'Accept loopback hosts in spec.authUrl (local sandboxes only); with --bootstrap-tls also noted on the ValidatingWebhookConfiguration for client-side dry runs',
      },
      'log-level': { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'JSON log level' },
      'bootstrap-tls': {
        type: 'boolean',
        default: false,
        describe:
          'Make our own CA (kept in a Secret) and serving certificate, and write the CA bundle into the webhook configurations',
      },
      'tls-secret-namespace': {
        type: 'string',
        default: DEFAULT_LIQO_NAMESPACE,
        describe: 'Namespace of the CA Secret',
      },
      'tls-secret-name': { type: 'string', default: 'liqo-webhook-tls', describe: 'Name of the CA Secret' },
      'service-name': {
        type: 'string',
        default: 'liqo-webhook',
        describe: 'Service in the serving certificate',
      },
      'service-namespace': {
        type: 'string',
        default: DEFAULT_LIQO_NAMESPACE,
        describe: "That Service's namespace",
      },
      'webhook-configuration-name': {
        type: 'string',
        default: 'liqo-webhook',
        describe:
          'Name of both the Mutating- and the ValidatingWebhookConfiguration to inject the CA bundle into',
      },
      'extra-san': {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'More DNS names or IPs for the serving certificate (comma-separated or repeated)',
      },
      'serving-cert-validity': {
        type: 'string',
        default: '720h',
        describe: 'Lifetime of a serving certificate',
      },
      'renew-before': {
        type: 'string',
        default: '240h',
        describe: 'Re-issue it this long before it expires',
      },
      'ca-validity': { type: 'string', default: '8760h', describe: 'Lifetime of a new CA' },
    })
    .group(['port', 'bind-address', 'log-level', 'allow-loopback-auth-url', 'kubeconfig'], 'Serving:')
    .group(['tls-cert-file', 'tls-key-file', 'tls-reload-interval'], 'TLS from files (e.g. cert-manager):')
    .group(
      [
        'bootstrap-tls',
        'tls-secret-namespace',
        'tls-secret-name',
        'service-name',
        'service-namespace',
        'webhook-configuration-name',
        'extra-san',
        'serving-cert-validity',
        'renew-before',
        'ca-validity',
      ],
      'Self-bootstrapped TLS (--bootstrap-tls):',
    )
    .example(
      'liqo-webhook --tls-cert-file /certs/tls.crt --tls-key-file /certs/tls.key',
      'certificates from files, reloaded when they change',
    )
    .example(
      'liqo-webhook --bootstrap-tls',
      'in a cluster: own CA in Secret liqo/liqo-webhook-tls, caBundle injected',
    )
    .version(false)
    .help('help')
    .alias('help', 'h')
    .strict()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      // yargs spreads some messages over lines ("Invalid values:\n  Argument: ..."): one line
      throw err ?? new UsageError(msg.replace(/\s*\n\s*/g, ' '));
    })
    .parseAsync();

  const port = /^\d+$/.test(argv.port) ? Number(argv.port) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port "${argv.port}" is not a port (accepted: 1-65535, or 0 for a free one)`);
  }
  for (const flag of ['tls-cert-file', 'tls-key-file', 'kubeconfig'] as const) {
    if (argv[flag] === '') throw new UsageError(`--${flag} needs a file path`);
  }
  const options: WebhookCliOptions = {
    port,
    bindAddress: argv['bind-address'],
    allowLoopbackAuthUrl: argv['allow-loopback-auth-url'],
    logLevel: argv['log-level'],
    tlsReloadInterval: duration('tls-reload-interval')(argv['tls-reload-interval']),
    bootstrapTls: argv['bootstrap-tls'],
    tlsSecretNamespace: argv['tls-secret-namespace'],
    tlsSecretName: argv['tls-secret-name'],
    serviceName: argv['service-name'],
    serviceNamespace: argv['service-namespace'],
    webhookConfigurationName: argv['webhook-configuration-name'],
    extraSan: argv['extra-san']
      .flatMap((s) => String(s).split(','))
      .map((s) => s.trim())
      .filter(Boolean),
    servingCertValidity: duration('serving-cert-validity')(argv['serving-cert-validity']),
    renewBefore: duration('renew-before')(argv['renew-before']),
    caValidity: duration('ca-validity')(argv['ca-validity']),
    ...(argv['tls-cert-file'] ? { tlsCertFile: argv['tls-cert-file'] } : {}),
    ...(argv['tls-key-file'] ? { tlsKeyFile: argv['tls-key-file'] } : {}),
    ...(argv.kubeconfig ? { kubeconfig: argv.kubeconfig } : {}),
  };
  checkCombinations(options);
  return options;
}

function checkCombinations(o: WebhookCliOptions): void {
  const files = Boolean(o.tlsCertFile || o.tlsKeyFile);
  if (o.bootstrapTls && files) {
    throw new UsageError('--bootstrap-tls and --tls-cert-file/--tls-key-file exclude each other: pick one');
  }
  if (!o.bootstrapTls && !(o.tlsCertFile && o.tlsKeyFile)) {
    throw new UsageError(
      files
        ? `--tls-cert-file and --tls-key-file go together: ${o.tlsCertFile ? '--tls-key-file' : '--tls-cert-file'} is missing`
        : 'a serving certificate is required: give --tls-cert-file and --tls-key-file, or --bootstrap-tls',
    );
  }
  if (o.bootstrapTls && !o.kubeconfig && !process.env.KUBERNETES_SERVICE_HOST) {
    throw new UsageError('--bootstrap-tls needs the API server: run in a cluster or give --kubeconfig');
  }
  if (o.bootstrapTls && o.renewBefore >= o.servingCertValidity) {
    throw new UsageError(
      `--renew-before ${formatDuration(o.renewBefore)} must be shorter than --serving-cert-validity ${formatDuration(o.servingCertValidity)}`,
    );
  }
  if (o.bootstrapTls && o.caValidity <= o.servingCertValidity) {
    throw new UsageError(
      `--ca-validity ${formatDuration(o.caValidity)} must be longer than --serving-cert-validity ${formatDuration(o.servingCertValidity)}`,
    );
  }
}

/** Keep serving whatever one request or timer did: log it, do not exit. */
function keepServingOnStrayErrors(log: Logger): void {
  process.on('uncaughtException', (err) =>
    log.error({ err: errorText(err) }, 'uncaught exception; still serving'),
  );
  process.on('unhandledRejection', (err) =>
    log.error({ err: errorText(err) }, 'unhandled rejection; still serving'),
  );
}

export async function runWebhook(o: WebhookCliOptions): Promise<void> {
  const log = createLogger(o.logLevel);
  const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);
  let kubeConfig: KubeConfig | undefined;
  if (o.kubeconfig || inCluster) kubeConfig = await loadKubeConfig({ kubeconfig: o.kubeconfig });

  let bootstrap: TlsBootstrap | undefined;
  if (o.bootstrapTls && kubeConfig) {
    // loaded only when used: node-forge is ~10 MB of resident code the file mode never needs
    const { bootstrapTls } = await import('./certificates/bootstrap.js');
    bootstrap = await bootstrapTls({
      kubeConfig,
      secretNamespace: o.tlsSecretNamespace,
      secretName: o.tlsSecretName,
      serviceName: o.serviceName,
      serviceNamespace: o.serviceNamespace,
      webhookConfigurationName: o.webhookConfigurationName,
      extraSans: o.extraSan,
      servingValidityMs: o.servingCertValidity,
      renewBeforeMs: o.renewBefore,
      caValidityMs: o.caValidity,
      allowLoopbackAuthUrl: o.allowLoopbackAuthUrl,
      log,
    });
  }
  const server: WebhookServer = await startWebhookServer({
    port: o.port,
    bindAddress: o.bindAddress,
    allowLoopbackAuthUrl: o.allowLoopbackAuthUrl,
    certificatePollIntervalMs: o.tlsReloadInterval,
    logger: log,
    processMetrics: true,
    inCluster,
    ...(kubeConfig ? { kubeConfig } : {}),
    ...(bootstrap ? { certificate: bootstrap.certificate } : {}),
    ...(o.tlsCertFile && o.tlsKeyFile ? { tlsCertFile: o.tlsCertFile, tlsKeyFile: o.tlsKeyFile } : {}),
  });
  bootstrap?.start((pair) => server.setCertificate(pair));
  keepServingOnStrayErrors(log);
  if (o.allowLoopbackAuthUrl) log.warn('--allow-loopback-auth-url is on: loopback auth URLs are accepted');

  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    bootstrap?.stop();
    server.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err: errorText(err) }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
