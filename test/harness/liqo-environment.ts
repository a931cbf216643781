// A local Liqo discovery control plane: kube-apiserver + etcd, our CRDs, the real webhook
// (dist/liqo-webhook.cjs, self-bootstrapped TLS) registered by url, namespace `liqo`, ConfigMap
// `cluster-id` and ClusterConfig `liqo-configuration` with the guide's defaults. Used by
// `npm run sandbox` and shared by the e2e tests.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import {
  CLUSTER_CONFIG_NAME,
  CLUSTER_ID_CONFIGMAP,
  CLUSTER_ID_CONFIGMAP_KEY,
  CONFIG_API_VERSION,
  DEFAULT_LIQO_NAMESPACE,
  DISCOVERY_CONFIG_DEFAULTS,
  KIND_CLUSTER_CONFIG,
} from '../../shared/api/constants.js';
import { bundleProgram } from '../../scripts/bundles.mjs';
import {
  startControlPlane,
  type ControlPlane,
  type ControlPlaneOptions,
  type StopOptions,
} from './control-plane.js';
import { mustSucceed } from './kubectl.js';
import { freePort, waitForHttpOk } from './network.js';
import { removeOnExit, startProcess, type ManagedProcess } from './processes.js';
import {
  webhookConfigurationsList,
  WEBHOOK_CONFIGURATION_NAME,
  type FailurePolicy,
} from './webhook-configurations.js';

export const REPO_ROOT = join(import.meta.dirname, '../..');
const MANIFESTS_DIR = join(REPO_ROOT, 'manifests');
const CRD_DIR = join(MANIFESTS_DIR, 'crds');

export interface WebhookOptions {
  /** Accept loopback auth URLs (the sandbox, where peers run on 127.0.0.1); off in the e2e tests. */
  allowLoopbackAuthUrl?: boolean;
  /** More flags, e.g. ['--serving-cert-validity', '20s', '--renew-before', '10s']. */
  extraArgs?: string[];
}

export interface LiqoEnvironment {
  readonly controlPlane: ControlPlane;
  readonly clusterId: string;
  /** https://127.0.0.1:<port>, where the API server calls the webhook. */
  readonly webhookUrl: string;
  /** The webhook now running, if any. */
  readonly webhook: ManagedProcess | undefined;
  /** Stops the running webhook (admissions then fail closed: failurePolicy Fail). */
  stopWebhook(): Promise<void>;
  /** (Re)starts the webhook on the same port and waits until it is ready. */
  startWebhook(opts?: WebhookOptions): Promise<ManagedProcess>;
  /** Re-creates both webhook configurations (caBundle is then re-injected by the webhook). */
  installWebhookConfigurations(failurePolicy?: FailurePolicy): Promise<void>;
  deleteWebhookConfigurations(): Promise<void>;
  /** Sets failurePolicy on every webhook of both configurations (caBundle and the rest kept). */
  setFailurePolicy(policy: FailurePolicy): Promise<void>;
  stop(opts?: StopOptions): Promise<void>;
}

export interface LiqoEnvironmentOptions extends ControlPlaneOptions {
  webhook?: WebhookOptions;
}

/**
 * Bundles webhook/main.ts or agent/main.ts as `npm run build` does (scripts/bundles.mjs, ~0.5 s)
 * but only that program and into `outDir`: tests and the sandbox always run the current source,
 * and other programs' unfinished code or a stale dist/ cannot get in the way.
 */
export function buildProgramBundle(program: 'webhook' | 'agent', outDir: string): Promise<string> {
  return bundleProgram(program, outDir);
}

export function buildWebhookBundle(outDir: string): Promise<string> {
  return buildProgramBundle('webhook', outDir);
}

let bundleOnce: Promise<string> | undefined;

/** One webhook bundle per test process (environments share it), removed when the process exits. */
function webhookBundleForThisProcess(): Promise<string> {
  bundleOnce ??= (async () => {
    // inside node_modules/ so the bundle's external `import('@kubernetes/client-node')` resolves
    mkdirSync(join(REPO_ROOT, 'node_modules/.cache'), { recursive: true });
    const bundleDir = mkdtempSync(join(REPO_ROOT, 'node_modules/.cache/liqo-webhook-'));
    removeOnExit(bundleDir);
    return buildWebhookBundle(bundleDir);
  })();
  bundleOnce.catch(() => (bundleOnce = undefined)); // a failed build is retried next time
  return bundleOnce;
}

export async function startLiqoEnvironment(opts: LiqoEnvironmentOptions = {}): Promise<LiqoEnvironment> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const controlPlane = await startControlPlane(opts);
  let webhook: ManagedProcess | undefined;
  let webhookRuns = 0;
  const kubectl = controlPlane.kubectl;
  try {
    const webhookPort = await freePort();
    const webhookUrl = `https://127.0.0.1:${webhookPort}`;
    const webhookBundle = await webhookBundleForThisProcess();

    mustSucceed('installing the CRDs', await kubectl(['apply', '--server-side', '-k', CRD_DIR]));
    // only our CRDs exist in a fresh control plane
    mustSucceed(
      'waiting for the CRDs',
      await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']),
    );
    mustSucceed('creating namespace liqo', await kubectl(['create', 'namespace', DEFAULT_LIQO_NAMESPACE]));
    log(`CRDs established and namespace ${DEFAULT_LIQO_NAMESPACE} created (${elapsed()})`);

    const installWebhookConfigurations = async (failurePolicy: FailurePolicy = 'Fail') => {
      mustSucceed(
        'installing the webhook configurations',
        await kubectl(['apply', '-f', '-'], {
          input: webhookConfigurationsList(webhookUrl, failurePolicy, MANIFESTS_DIR),
        }),
      );
    };
    const deleteWebhookConfigurations = async () => {
      mustSucceed(
        'deleting the webhook configurations',
        await kubectl([
          'delete',
          '--ignore-not-found',
          `mutatingwebhookconfiguration/${WEBHOOK_CONFIGURATION_NAME}`,
          `validatingwebhookconfiguration/${WEBHOOK_CONFIGURATION_NAME}`,
        ]),
      );
    };
    const setFailurePolicy = async (policy: FailurePolicy) => {
      for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
        const target = `${kind}/${WEBHOOK_CONFIGURATION_NAME}`;
        const current = mustSucceed(`reading ${target}`, await kubectl(['get', target, '-o', 'json']));
        const webhooks = (JSON.parse(current.stdout) as { webhooks?: unknown[] }).webhooks ?? [];
        const ops = webhooks.map((_, i) => ({
          op: 'replace',
          path: `/webhooks/${i}/failurePolicy`,
          value: policy,
        }));
        mustSucceed(
          `patching ${target}`,
          await kubectl(['patch', target, '--type=json', '--patch', JSON.stringify(ops)]),
        );
      }
    };
    const stopWebhook = async () => {
      await webhook?.stop();
      webhook = undefined;
    };
    const startWebhook = async (webhookOpts: WebhookOptions = {}) => {
      await stopWebhook();
      const args = [
        webhookBundle,
        `--port=${webhookPort}`,
        '--bind-address=127.0.0.1',
        `--kubeconfig=${controlPlane.adminKubeconfig}`,
        '--bootstrap-tls',
        '--extra-san=127.0.0.1',
        `--webhook-configuration-name=${WEBHOOK_CONFIGURATION_NAME}`,
        '--log-level=info',
        ...(webhookOpts.allowLoopbackAuthUrl ? ['--allow-loopback-auth-url'] : []),
        ...(webhookOpts.extraArgs ?? []),
      ];
      const started = startProcess('liqo-webhook', process.execPath, args, {
        logFile: join(controlPlane.dir, `webhook-${++webhookRuns}.log`),
      });
      webhook = started;
      await waitForHttpOk(`${webhookUrl}/readyz`, {
        tls: { rejectUnauthorized: false }, // readiness only; the API server verifies with the caBundle
        timeoutMs: 30_000,
        gaveUp: () => (started.isRunning() ? undefined : `liqo-webhook exited: ${started.tail()}`),
      });
      return started;
    };

    await installWebhookConfigurations();
    await startWebhook(opts.webhook);
    log(`webhook ready, CA bundle in its configurations (${elapsed()})`);

    const clusterId = randomUUID();
    mustSucceed(
      'creating ConfigMap cluster-id',
      await kubectl([
        'create',
        'configmap',
        CLUSTER_ID_CONFIGMAP,
        '-n',
        DEFAULT_LIQO_NAMESPACE,
        `--from-literal=${CLUSTER_ID_CONFIGMAP_KEY}=${clusterId}`,
      ]),
    );
    mustSucceed(
      'creating ClusterConfig liqo-configuration',
      await kubectl(['apply', '-f', '-'], { input: defaultClusterConfig() }),
    );
    log(`Liqo discovery environment ready (webhook at ${webhookUrl}, cluster id ${clusterId})`);

    return {
      controlPlane,
      clusterId,
      webhookUrl,
      get webhook() {
        return webhook;
      },
      stopWebhook,
      startWebhook,
      installWebhookConfigurations,
      deleteWebhookConfigurations,
      setFailurePolicy,
      async stop(stopOpts?: StopOptions) {
        await stopWebhook();
        await controlPlane.stop(stopOpts);
      },
    };
  } catch (err) {
    await webhook?.stop();
    await controlPlane.stop();
    throw err;
  }
}

/** ClusterConfig `liqo-configuration` with the guide's (the Helm chart's) discovery defaults. */
export function defaultClusterConfig(): string {
  return JSON.stringify({
    apiVersion: CONFIG_API_VERSION,
    kind: KIND_CLUSTER_CONFIG,
    metadata: { name: CLUSTER_CONFIG_NAME },
    spec: { discoveryConfig: { ...DISCOVERY_CONFIG_DEFAULTS } },
  });
}
