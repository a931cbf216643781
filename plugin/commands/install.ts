// kubectl liqo install / uninstall. The objects come from the release manifest embedded at build
// time (dist/liqo-discovery.yaml, rendered from manifests/), changed by typed transforms for the
// flags (plugin/install/transforms.ts), and are server-side applied in an order that cannot
// leave the cluster refusing writes (plugin/install/run.ts): the webhook configurations go in
// only after the webhook is available, and uninstall removes them first.
import { readFile } from 'node:fs/promises';
import {
  CLUSTER_CONFIG_NAME,
  CONFIG_API_VERSION,
  DISCOVERY_CONFIG_DEFAULTS,
  KIND_CLUSTER_CONFIG,
  LIQO_DISCOVERY_IMAGE,
} from '../../shared/api/constants.js';
import type { OneStepCommandModule } from '../command.js';
import {
  connect,
  dryRunOption,
  dryRunSuffix,
  parseDuration,
  UserError,
  type DryRunMode,
  type GlobalOptions,
} from '../global.js';
import type { CommandIO } from '../io.js';
import type { ManifestObject } from '../install/objects.js';

export interface InstallOptions extends GlobalOptions {
  image?: string;
  imagePullPolicy?: string;
  timeout?: string;
  idsPort?: number;
  agentHealthPort?: number;
  agentNodeSelector?: string;
  webhookUrl?: string;
  caFile?: string;
  withoutAgent?: boolean;
  dryRun?: DryRunMode;
  output?: string;
  force?: boolean;
  /** KEP-2149: write ClusterProperty cluster.clusterset.k8s.io from our id when there is none. */
  publishClusterProperty?: boolean;
  /** KEP-4322: the namespace where the agent keeps one ClusterProfile per ForeignCluster. */
  clusterProfiles?: string;
}

export interface UninstallOptions extends GlobalOptions {
  deleteCrds?: boolean;
  deleteNamespace?: boolean;
  dryRun?: DryRunMode;
}

const DEFAULT_TIMEOUT = '5m';

export const installCommand: OneStepCommandModule<InstallOptions> = {
  command: 'install',
  describe: 'Install the CRDs, namespace, RBAC, webhook and agent; register the webhook once it is up',
  builder: (y) =>
    dryRunOption(
      y
        .option('image', {
          type: 'string',
          default: LIQO_DISCOVERY_IMAGE,
          describe: 'Image of the webhook and the agent (one image, both programs)',
        })
        .option('image-pull-policy', {
          type: 'string',
          choices: ['Always', 'IfNotPresent', 'Never'],
          describe:
            'Pull policy of both containers (default IfNotPresent; Never for an image loaded into the nodes)',
        })
        .option('timeout', {
          type: 'string',
          default: DEFAULT_TIMEOUT,
          describe: 'How long to wait for the CRDs, the webhook and the agent (e.g. 90s, 5m)',
        })
        .option('ids-port', {
          type: 'number',
          describe: "The agent's /ids port on its node (host network; default 9443)",
        })
        .option('agent-health-port', {
          type: 'number',
          describe: "The agent's /healthz port on its node (host network; default 9444)",
        })
        .option('agent-node-selector', {
          type: 'string',
          describe: 'Nodes that run an agent, key=value[,key=value] (default kubernetes.io/os=linux)',
        })
        .option('without-agent', {
          type: 'boolean',
          default: false,
          describe: 'Leave out the discovery agent',
        })
        .option('webhook-url', {
          type: 'string',
          describe: 'Register a webhook running outside the cluster at this https base URL (sandboxes)',
        })
        .option('ca-file', { type: 'string', describe: "With --webhook-url: the webhook's CA (PEM)" })
        .option('publish-cluster-property', {
          type: 'boolean',
          default: false,
          describe:
            'Write ClusterProperty cluster.clusterset.k8s.io (about.k8s.io, KEP-2149) from the cluster id when none exists (never overwrites)',
        })
        .option('cluster-profiles', {
          type: 'string',
          describe:
            'Have the agent keep one ClusterProfile (multicluster.x-k8s.io, KEP-4322) per ForeignCluster in this existing namespace',
        })
        .option('force', {
          type: 'boolean',
          default: false,
          describe: 'Take over discovery.liqo.io CRDs that another installation (e.g. Liqo itself) put there',
        })
        .option('output', {
          alias: 'o',
          type: 'string',
          choices: ['yaml', 'json'],
          describe: 'With --dry-run=client: print the objects as yaml (default) or a json List',
        }),
    ),
  run: runInstall,
};

export const uninstallCommand: OneStepCommandModule<UninstallOptions> = {
  command: 'uninstall',
  describe: 'Remove what install added, webhook configurations first (CRDs and namespace stay unless asked)',
  builder: (y) =>
    dryRunOption(
      y
        .option('delete-crds', {
          type: 'boolean',
          default: false,
          describe: 'Delete the CRDs too, and with them every ForeignCluster, SearchDomain, DNSRegistration and ClusterConfig',
        })
        .option('delete-namespace', {
          type: 'boolean',
          default: false,
          describe: 'Delete the liqo namespace too (the cluster id, the CA Secret, the Lease)',
        }),
    ),
  run: runUninstall,
};

function port(flag: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new UserError(`--${flag} ${value}: not a port (1-65535)`);
  }
  return value;
}

/** The ClusterConfig install creates when there is none: the guide's defaults, spelled out. */
export function defaultClusterConfig(): ManifestObject {
  return {
    apiVersion: CONFIG_API_VERSION,
    kind: KIND_CLUSTER_CONFIG,
    metadata: { name: CLUSTER_CONFIG_NAME, labels: { 'app.kubernetes.io/part-of': 'liqo' } },
    spec: { discoveryConfig: { ...DISCOVERY_CONFIG_DEFAULTS } },
  };
}

async function installObjects(opts: InstallOptions) {
  const { configure, imageProblem, parseNodeSelector, planInstall, PULL_POLICIES } =
    await import('../install/transforms.js');
  const image = opts.image ?? LIQO_DISCOVERY_IMAGE;
  const badImage = imageProblem(image);
  if (badImage) throw new UserError(badImage);
  const pullPolicy = PULL_POLICIES.find((p) => p === opts.imagePullPolicy);
  if (opts.webhookUrl && !/^https:\/\/[^/]+/i.test(opts.webhookUrl)) {
    throw new UserError(`--webhook-url ${opts.webhookUrl}: not an https URL (e.g. https://10.0.0.1:8443)`);
  }
  let caBundle: string | undefined;
  if (opts.caFile) {
    if (!opts.webhookUrl) throw new UserError('--ca-file only goes with --webhook-url');
    caBundle = await readFile(opts.caFile, 'utf8').catch(() => {
      throw new UserError(`--ca-file: cannot read ${opts.caFile}`);
    });
  }
  const idsPort = port('ids-port', opts.idsPort);
  const healthPort = port('agent-health-port', opts.agentHealthPort);
  if (idsPort !== undefined && idsPort === (healthPort ?? 9444)) {
    throw new UserError(`--ids-port ${idsPort}: the agent's health port is ${idsPort} too; choose another`);
  }
  const { releaseObjects } = await import('../install/release.js');
  const objects = configure(await releaseObjects(), {
    image,
    ...(pullPolicy ? { imagePullPolicy: pullPolicy } : {}),
    withoutAgent: Boolean(opts.withoutAgent),
    ...(idsPort !== undefined ? { idsPort } : {}),
    ...(healthPort !== undefined ? { agentHealthPort: healthPort } : {}),
    ...(opts.agentNodeSelector !== undefined
      ? { agentNodeSelector: parseNodeSelector(opts.agentNodeSelector) }
      : {}),
    ...(opts.webhookUrl ? { webhookUrl: opts.webhookUrl } : {}),
    ...(caBundle ? { caBundle } : {}),
    ...(opts.clusterProfiles !== undefined ? { clusterProfilesNamespace: opts.clusterProfiles } : {}),
  });
  return { plan: planInstall(objects), caBundle };
}

export async function runInstall(opts: InstallOptions, io: CommandIO): Promise<void> {
  const mode = opts.dryRun ?? 'none';
  if (opts.output && mode !== 'client') throw new UserError('--output only goes with --dry-run=client');
  const timeoutText = opts.timeout ?? DEFAULT_TIMEOUT;
  const timeoutMs = parseDuration(timeoutText, '--timeout') ?? 0;
  const { plan, caBundle } = await installObjects(opts);
  const { applyOrder } = await import('../install/transforms.js');

  if (mode === 'client') {
    const objects = applyOrder(plan, [defaultClusterConfig()]);
    if (opts.output === 'json') {
      const { asList } = await import('../output/print.js');
      io.stdout.write(`${JSON.stringify(asList(objects), null, 2)}\n`);
      return;
    }
    const { stringify } = await import('../output/yaml.js');
    io.stdout.write(objects.map((o) => stringify(o)).join('---\n'));
    return;
  }

  const resources = await connect(opts, io);
  const k8s = await import('@kubernetes/client-node');
  const { Installer } = await import('../install/run.js');
  const installer = new Installer(
    {
      objects: k8s.KubernetesObjectApi.makeApiClient(resources.kubeConfig),
      core: resources.kubeConfig.makeApiClient(k8s.CoreV1Api),
      crds: resources.kubeConfig.makeApiClient(k8s.ApiextensionsV1Api),
      server: resources.server,
    },
    io,
    {
      mode,
      deadline: Date.now() + timeoutMs,
      timeoutText,
      ...(opts.webhookUrl ? { webhookUrl: opts.webhookUrl } : {}),
      ...(caBundle ? { caBundle } : {}),
      ...(opts.force ? { force: true } : {}),
    },
  );
  await installer.install(plan, defaultClusterConfig());
  if (opts.publishClusterProperty) {
    const { publishClusterProperty } = await import('../install/cluster-property.js');
    await publishClusterProperty(resources, io, mode);
  }
  if (mode === 'none') io.stderr.write('liqo-discovery installed\n');
}

export async function runUninstall(opts: UninstallOptions, io: CommandIO): Promise<void> {
  const { releaseObjects } = await import('../install/release.js');
  const { planInstall } = await import('../install/transforms.js');
  const { describeObject } = await import('../install/objects.js');
  const plan = planInstall(await releaseObjects());
  // webhook configurations first: from then on no write waits on a webhook being removed
  const objects = [
    ...plan.webhookConfigurations,
    ...plan.agent,
    ...plan.webhook,
    ...[...plan.base].reverse(),
    ...(opts.deleteCrds ? plan.crds : []),
    ...(opts.deleteNamespace ? plan.namespaces : []),
  ];
  const mode = opts.dryRun ?? 'none';
  if (mode === 'client') {
    for (const o of objects) io.stdout.write(`${describeObject(o)} deleted (dry run)\n`);
    return;
  }
  const resources = await connect(opts, io);
  // the agent removes this cluster's DNS records while it still runs (DNSRegistration finalizers)
  const { removeDnsRegistrations } = await import('../dns-registration/uninstall.js');
  await removeDnsRegistrations(resources, io, { serverDryRun: mode === 'server' });
  const k8s = await import('@kubernetes/client-node');
  const client = k8s.KubernetesObjectApi.makeApiClient(resources.kubeConfig);
  const { describeApiFailure } = await import('../../shared/kube/api-errors.js');
  for (const o of objects) {
    try {
      await client.delete(
        { apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata },
        undefined,
        mode === 'server' ? 'All' : undefined,
        undefined,
        undefined,
        'Background',
      );
      io.stdout.write(`${describeObject(o)} deleted${dryRunSuffix(mode)}\n`);
    } catch (err) {
      const failure = describeApiFailure(
        err,
        'delete',
        { kind: o.kind, name: o.metadata.name },
        { server: resources.server },
      );
      if (failure.notFound || failure.error.status === 404) continue; // already gone
      throw failure.error;
    }
  }
}
