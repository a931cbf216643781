// Self-bootstrapped TLS (cert-manager's "dynamic authority"): a CA kept in a Secret shared by
// every replica, a short-lived serving certificate each replica issues for itself (its key
// never leaves the process), the CA bundle written into our Mutating- and
// ValidatingWebhookConfiguration, and the serving certificate re-issued before it expires.
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { PemKeyPair } from '../../shared/tls/certificates.js';
import { describeApiFailure } from '../../shared/kube/api-errors.js';
import { errorText, type Logger } from '../logger.js';
import { ANNOTATION_ALLOW_LOOPBACK_AUTH_URL, ANNOTATION_VERSION } from '../../shared/api/constants.js';
import { RELEASE_VERSION } from '../../shared/api/release.js';
import {
  annotationsPatch,
  caBundlePatch,
  caProblem,
  issueCertificateAuthority,
  issueServingCertificate,
  mergeCaBundle,
  renewalDelayMs,
  renewalTime,
  servingHosts,
  type WebhookEntry,
} from './authority.js';

export interface TlsBootstrapOptions {
  kubeConfig: KubeConfig;
  secretNamespace: string;
  secretName: string;
  serviceName: string;
  serviceNamespace: string;
  /** Name of both the MutatingWebhookConfiguration and the ValidatingWebhookConfiguration. */
  webhookConfigurationName: string;
  extraSans: string[];
  servingValidityMs: number;
  renewBeforeMs: number;
  /** Default one year. */
  caValidityMs?: number;
  /**
   * The webhook's --allow-loopback-auth-url, published as an annotation on the
   * ValidatingWebhookConfiguration so that a client-side dry run judges authUrl the same way.
   */
  allowLoopbackAuthUrl?: boolean;
  log: Logger;
}

export interface TlsBootstrap {
  /** The first serving certificate; the server starts with it. */
  readonly certificate: PemKeyPair;
  /** PEM bundle written into the webhook configurations. */
  readonly caBundle: string;
  /** Starts renewal and caBundle upkeep; `onRenewed` gets each new serving certificate. */
  start(onRenewed: (pair: PemKeyPair) => void): void;
  stop(): void;
}

const CA_COMMON_NAME = 'liqo-webhook-ca';
const DEFAULT_CA_VALIDITY_MS = 365 * 24 * 3600 * 1000;
const RECHECK_MS = 5 * 60_000;
const RETRY_MS = 30_000;

function decode(secret: V1Secret | undefined, key: string): string {
  const value = secret?.data?.[key];
  return value ? Buffer.from(value, 'base64').toString('utf8') : '';
}

function encode(text: string): string {
  return Buffer.from(text).toString('base64');
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

export async function bootstrapTls(opts: TlsBootstrapOptions): Promise<TlsBootstrap> {
  const k8s = await import('@kubernetes/client-node');
  const core = opts.kubeConfig.makeApiClient(k8s.CoreV1Api);
  const admission = opts.kubeConfig.makeApiClient(k8s.AdmissionregistrationV1Api);
  const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
  const server = opts.kubeConfig.getCurrentCluster()?.server ?? '(unknown server)';
  const { log } = opts;
  const secretRef = { kind: 'Secret', name: opts.secretName, namespace: opts.secretNamespace };
  const apiError = (err: unknown, verb: string, target: { kind: string; name: string }) =>
    describeApiFailure(err, verb, target, { server }).error;

  async function readSecret(): Promise<V1Secret | undefined> {
    try {
      return await core.readNamespacedSecret({ name: opts.secretName, namespace: opts.secretNamespace });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw apiError(err, 'get', secretRef);
    }
  }

  /** The CA from the Secret, made (or replaced) when missing or unusable. Replica-safe. */
  async function ensureCa(): Promise<{ ca: PemKeyPair; bundle: string }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = new Date();
      const secret = await readSecret();
      const stored = secret
        ? { certPem: decode(secret, 'tls.crt'), keyPem: decode(secret, 'tls.key') }
        : undefined;
      const problem = caProblem(stored, now, opts.servingValidityMs);
      if (stored && !problem) return { ca: stored, bundle: decode(secret, 'ca.crt') || stored.certPem };

      log.info(
        { secret: `${opts.secretNamespace}/${opts.secretName}`, reason: problem },
        'issuing a new webhook CA',
      );
      // A distinct subject per CA ("<name>-<unix time>"): during a rotation the bundle holds
      // two CAs, and verifiers pick candidate issuers by subject. No '@' (kube's habit): forge
      // encodes names as PrintableString unless told otherwise, and Go refuses '@' in one.
      const commonName = `${CA_COMMON_NAME}-${Math.floor(now.getTime() / 1000)}`;
      const ca = await issueCertificateAuthority(
        commonName,
        opts.caValidityMs ?? DEFAULT_CA_VALIDITY_MS,
        now,
      );
      const bundle = mergeCaBundle(ca.certPem, decode(secret, 'ca.crt') || (stored?.certPem ?? ''), now);
      const body: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: {
          name: opts.secretName,
          namespace: opts.secretNamespace,
          labels: {
            'app.kubernetes.io/name': 'liqo-webhook',
            'app.kubernetes.io/managed-by': 'liqo-webhook',
          },
          ...(secret?.metadata?.resourceVersion ? { resourceVersion: secret.metadata.resourceVersion } : {}),
        },
        data: { 'tls.crt': encode(ca.certPem), 'tls.key': encode(ca.keyPem), 'ca.crt': encode(bundle) },
      };
      try {
        if (secret) {
          await core.replaceNamespacedSecret({
            name: opts.secretName,
            namespace: opts.secretNamespace,
            body,
          });
        } else {
          await core.createNamespacedSecret({ namespace: opts.secretNamespace, body });
        }
        return { ca, bundle };
      } catch (err) {
        // Another replica created or replaced it first: read theirs and use it.
        if (statusOf(err) === 409) continue;
        throw apiError(err, secret ? 'update' : 'create', secretRef);
      }
    }
    throw new Error(
      `cannot settle the CA in Secret ${opts.secretNamespace}/${opts.secretName}: it kept changing`,
    );
  }

  const configurations = [
    {
      kind: 'MutatingWebhookConfiguration',
      publishesPolicy: false,
      read: () => admission.readMutatingWebhookConfiguration({ name: opts.webhookConfigurationName }),
      patch: (body: unknown) =>
        admission.patchMutatingWebhookConfiguration({ name: opts.webhookConfigurationName, body }, jsonPatch),
    },
    {
      kind: 'ValidatingWebhookConfiguration',
      publishesPolicy: true,
      read: () => admission.readValidatingWebhookConfiguration({ name: opts.webhookConfigurationName }),
      patch: (body: unknown) =>
        admission.patchValidatingWebhookConfiguration(
          { name: opts.webhookConfigurationName, body },
          jsonPatch,
        ),
    },
  ];

  const policyValue = String(opts.allowLoopbackAuthUrl === true);
  /** What the validating configuration carries: the loopback policy, and which webhook keeps it. */
  const published = {
    [ANNOTATION_ALLOW_LOOPBACK_AUTH_URL]: policyValue,
    [ANNOTATION_VERSION]: RELEASE_VERSION,
  };

  /**
   * Writes the bundle into every webhook of both configurations, and the loopback policy onto
   * the validating one; false if one is missing.
   */
  async function injectCaBundle(bundle: string): Promise<boolean> {
    let complete = true;
    for (const config of configurations) {
      const target = { kind: config.kind, name: opts.webhookConfigurationName };
      for (let attempt = 0; ; attempt++) {
        let webhooks: WebhookEntry[] | undefined;
        let annotations: Record<string, string> | undefined;
        try {
          const current = await config.read();
          webhooks = current.webhooks as WebhookEntry[] | undefined;
          annotations = current.metadata?.annotations;
        } catch (err) {
          if (statusOf(err) !== 404) throw apiError(err, 'get', target);
          log.warn({ ...target }, 'webhook configuration not found; will write its caBundle once it exists');
          complete = false;
          break;
        }
        const caOps = caBundlePatch(webhooks, bundle);
        const policyOps = config.publishesPolicy ? annotationsPatch(annotations, published) : [];
        if (caOps.length === 0 && policyOps.length === 0) break;
        try {
          await config.patch([...caOps, ...policyOps]);
          if (caOps.length) log.info({ ...target, webhooks: caOps.length / 2 }, 'caBundle written');
          if (policyOps.length) {
            log.info({ ...target, ...published }, 'loopback policy and version published');
          }
          break;
        } catch (err) {
          // 422: a `test` failed because the list changed under us; read again.
          const status = statusOf(err);
          if ((status === 422 || status === 409) && attempt < 3) continue;
          throw apiError(err, 'patch', target);
        }
      }
    }
    return complete;
  }

  const hosts = servingHosts(opts.serviceName, opts.serviceNamespace, opts.extraSans);
  async function issue(): Promise<{ pair: PemKeyPair; bundle: string; injected: boolean }> {
    const { ca, bundle } = await ensureCa();
    // The bundle goes in before the new certificate is served, or the API server would
    // refuse it during the swap.
    const injected = await injectCaBundle(bundle);
    const pair = await issueServingCertificate(ca, hosts, opts.servingValidityMs);
    log.info(
      { hosts, renewAt: renewalTime(pair.certPem, opts.renewBeforeMs).toISOString() },
      'serving certificate issued',
    );
    return { pair, bundle, injected };
  }

  const first = await issue();
  let current = first.pair;
  let bundle = first.bundle;
  let injected = first.injected;
  let renewTimer: NodeJS.Timeout | undefined;
  let upkeepTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  function scheduleRenewal(onRenewed: (pair: PemKeyPair) => void, delay?: number): void {
    if (stopped) return;
    const wait = delay ?? renewalDelayMs(current.certPem, opts.renewBeforeMs, new Date());
    renewTimer = setTimeout(async () => {
      if (renewalDelayMs(current.certPem, opts.renewBeforeMs, new Date()) > 0) {
        return scheduleRenewal(onRenewed); // a capped wait: not due yet
      }
      try {
        const next = await issue();
        if (stopped) return;
        ({ pair: current, bundle, injected } = next);
        onRenewed(current);
        scheduleRenewal(onRenewed);
      } catch (err) {
        log.error({ err: errorText(err), retryInMs: RETRY_MS }, 'serving certificate renewal failed');
        scheduleRenewal(onRenewed, RETRY_MS);
      }
    }, wait);
    renewTimer.unref();
  }

  // Keeps the caBundle in place (a re-applied manifest, a configuration created after us,
  // a CA rotated by another replica) and retries sooner after a failure.
  function scheduleUpkeep(): void {
    if (stopped) return;
    upkeepTimer = setTimeout(
      async () => {
        try {
          ({ bundle } = await ensureCa());
          injected = await injectCaBundle(bundle);
        } catch (err) {
          injected = false;
          log.warn({ err: errorText(err) }, 'cannot check the webhook caBundle; retrying');
        }
        scheduleUpkeep();
      },
      injected ? RECHECK_MS : RETRY_MS,
    );
    upkeepTimer.unref();
  }

  return {
    get certificate() {
      return current;
    },
    get caBundle() {
      return bundle;
    },
    start(onRenewed) {
      scheduleRenewal(onRenewed);
      scheduleUpkeep();
    },
    stop() {
      stopped = true;
      if (renewTimer) clearTimeout(renewTimer);
      if (upkeepTimer) clearTimeout(upkeepTimer);
    },
  };
}
