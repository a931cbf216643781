// kubectl liqo version: this plugin's version, and the webhook's and agent's as deployed.
// Neither server has a /version endpoint we can rely on, so their versions come from the webhook
// Deployment and the agent DaemonSet (the app.kubernetes.io/version label, else the image
// tag), else from what the running programs publish (annotation discovery.liqo.io/version on
// the webhook's ValidatingWebhookConfiguration and on the agent's Lease); "unknown" otherwise.
import { AGENT_LEASE_NAME, ANNOTATION_VERSION } from '../../shared/api/constants.js';
import { RELEASE_VERSION } from '../../shared/api/release.js';
import { WEBHOOK_CONFIGURATION } from '../install/objects.js';
import type { ClientFactory, CommandContext, CommandModule } from '../command.js';
import type { GlobalOptions } from '../global.js';
import { outputOption, printData, type OutputFormat } from '../output/print.js';

/** What yargs parses. */
export interface VersionFlags extends GlobalOptions {
  client?: boolean;
  output?: OutputFormat;
}

/** What run() works from. */
export interface VersionOptions {
  /** Only the client version: no cluster is asked. */
  client: boolean;
  output: OutputFormat;
}

export interface VersionReport {
  clientVersion: { version: string; nodeVersion: string; platform: string };
  webhookVersion?: string;
  agentVersion?: string;
  /** Why the server-side versions are unknown, when they are. */
  serverError?: string;
}

export const CLIENT_VERSION: string = RELEASE_VERSION;

export const versionCommand: CommandModule<VersionFlags, VersionOptions> = {
  command: 'version',
  describe: 'Print the plugin version, and the webhook and agent versions when reachable',
  builder: (y) =>
    outputOption(
      y.option('client', {
        type: 'boolean',
        default: false,
        describe: 'Only the client version (no cluster)',
      }),
      ['table', 'json', 'yaml'],
    ),
  complete,
  validate,
  run,
};

export function complete(flags: VersionFlags): VersionOptions {
  return { client: flags.client ?? false, output: flags.output ?? 'table' };
}

/** Nothing to check: both flags are fully checked by their parsing. */
export function validate(_opts: VersionOptions): void {}

/** The server versions are best effort: a cluster that cannot say is "unknown", never exit 1. */
export async function run(opts: VersionOptions, { io, clients }: CommandContext): Promise<void> {
  const report: VersionReport = {
    clientVersion: {
      version: CLIENT_VERSION,
      nodeVersion: process.version,
      platform: `${process.platform}/${process.arch}`,
    },
  };
  if (!opts.client) await addServerVersions(report, clients);
  const format = opts.output;
  if (format === 'json' || format === 'yaml') return printData(io, format, report);
  io.stdout.write(`Client Version: ${report.clientVersion.version}\n`);
  if (opts.client) return;
  io.stdout.write(`Webhook Version: ${report.webhookVersion ?? 'unknown'}\n`);
  io.stdout.write(`Agent Version: ${report.agentVersion ?? 'unknown'}\n`);
  if (report.serverError) io.stderr.write(`server versions unknown: ${report.serverError}\n`);
}

async function addServerVersions(report: VersionReport, clients: ClientFactory): Promise<void> {
  if (!clients.hasKubeconfig()) {
    report.serverError = 'no kubeconfig (set KUBECONFIG or pass --kubeconfig)';
    return;
  }
  try {
    const resources = await clients.liqo();
    const { kubeConfig } = resources;
    const k8s = await import('@kubernetes/client-node');
    const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
    // the webhook is a Deployment, the agent a DaemonSet
    const [deployments, daemonSets] = await Promise.all([
      apps.listNamespacedDeployment({ namespace: resources.liqoNamespace }),
      apps.listNamespacedDaemonSet({ namespace: resources.liqoNamespace }),
    ]);
    for (const d of [...deployments.items, ...daemonSets.items]) {
      const name = d.metadata?.name ?? '';
      const version =
        d.metadata?.labels?.['app.kubernetes.io/version'] ??
        imageTag(d.spec?.template.spec?.containers[0]?.image) ??
        undefined;
      if (/webhook/.test(name) && version) report.webhookVersion = version;
      if (/agent|discovery/.test(name) && version) report.agentVersion = version;
    }
    // not installed as our workloads (the sandbox, programs run by hand): what the running
    // programs published about themselves
    const annotated = (o: { metadata?: { annotations?: Record<string, string> } }) =>
      o.metadata?.annotations?.[ANNOTATION_VERSION];
    const absent = () => undefined;
    const [webhookConfiguration, lease] = await Promise.all([
      report.webhookVersion
        ? undefined
        : kubeConfig
            .makeApiClient(k8s.AdmissionregistrationV1Api)
            .readValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION })
            .catch(absent),
      report.agentVersion
        ? undefined
        : kubeConfig
            .makeApiClient(k8s.CoordinationV1Api)
            .readNamespacedLease({ name: AGENT_LEASE_NAME, namespace: resources.liqoNamespace })
            .catch(absent),
    ]);
    report.webhookVersion ??= webhookConfiguration && annotated(webhookConfiguration);
    report.agentVersion ??= lease && annotated(lease);
    if (!report.webhookVersion && !report.agentVersion) {
      report.serverError = `no webhook or agent found in namespace ${resources.liqoNamespace} (no Deployment/DaemonSet with a version, no ${ANNOTATION_VERSION} annotation on ValidatingWebhookConfiguration ${WEBHOOK_CONFIGURATION} or Lease ${AGENT_LEASE_NAME})`;
    }
  } catch (err) {
    report.serverError = (err as Error).message.split('\n')[0];
  }
}

function imageTag(image: string | undefined): string | undefined {
  const m = image ? /:([^/:@]+)(@.*)?$/.exec(image) : null;
  return m?.[1];
}
