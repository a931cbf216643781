// kubectl liqo install / uninstall. The objects come from the release manifest embedded at build
// time (dist/liqo-discovery.yaml, rendered from manifests/), changed by typed transforms for the
// flags (plugin/install/transforms.ts), and are server-side applied in an order that cannot
// leave the cluster refusing writes (plugin/install/run.ts): the webhook configurations go in
// only after the webhook is available, and uninstall removes them first.
//
// A new install flag: declare it in the builder and in InstallFlags, turn it into plain data in
// completeInstall (usually a field of InstallSettings, for a transform), check it in
// validateInstall (one line naming the flag), and use it in runInstall or in a transform.
import { readFile } from 'node:fs/promises';
import {
  CLUSTER_CONFIG_NAME,
  CONFIG_API_VERSION,
  DISCOVERY_CONFIG_DEFAULTS,
  KIND_CLUSTER_CONFIG,
  LIQO_DISCOVERY_IMAGE,
} from '../../shared/api/constants.js';
import type { CommandContext, CommandModule } from '../command.js';
import {
  dryRunOption,
  dryRunSuffix,
  parseDuration,
  UserError,
  type DryRunMode,
  type GlobalOptions,
} from '../global.js';
import type { CommandIO } from '../io.js';
import { clusterProfilesNamespaceProblem } from '../install/cluster-profiles.js';
import type { LiqoResources } from '../../shared/kube/liqo-resources.js';
import type { ManifestObject } from '../install/objects.js';
import {
  imageProblem,
  parseNodeSelector,
  PULL_POLICIES,
  type InstallPlan,
  type InstallSettings,
} from '../install/transforms.js';

/** What yargs parses for install. */
export interface InstallFlags extends GlobalOptions {
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

/** What install runs from: the release manifest and the transforms the flags ask for. */
export interface InstallOptions {
  dryRun: DryRunMode;
  /** -o: how --dry-run=client prints the objects; undefined when not given. */
  output: 'yaml' | 'json' | undefined;
  /** --timeout in ms, and as the user wrote it (for messages). */
  timeoutMs: number;
  timeoutText: string;
  /** The release manifest embedded in this build of the plugin. */
  manifest: ManifestObject[];
  /** What the transforms make of the manifest (plugin/install/transforms.ts configure()). */
  settings: InstallSettings;
  /** --ca-file as given (its PEM is in settings.caBundle when it goes with --webhook-url). */
  caFile: string | undefined;
  /** --force: take over CRDs another installation applied. */
  force: boolean;
  /** --publish-cluster-property. */
  publishClusterProperty: boolean;
}

/** What yargs parses for uninstall. */
export interface UninstallFlags extends GlobalOptions {
  deleteCrds?: boolean;
  deleteNamespace?: boolean;
  dryRun?: DryRunMode;
}

/** What uninstall runs from. */
export interface UninstallOptions {
  dryRun: DryRunMode;
  deleteCrds: boolean;
  deleteNamespace: boolean;
  /** The release manifest: what uninstall removes. */
  manifest: ManifestObject[];
}

/** Where complete() gets the release manifest (a unit test passes one rendered from manifests/). */
export type ManifestSource = () => Promise<ManifestObject[]>;

async function embeddedManifest(): Promise<ManifestObject[]> {
  const { releaseObjects } = await import('../install/release.js');
  return releaseObjects();
}

const DEFAULT_TIMEOUT = '5m';
/** The agent's health port when --agent-health-port is not given (manifests/). */
const DEFAULT_AGENT_HEALTH_PORT = 9444;

export const installCommand: CommandModule<InstallFlags, InstallOptions> = {
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
  complete: (flags) => completeInstall(flags),
  validate: validateInstall,
  run: runInstall,
};

export const uninstallCommand: CommandModule<UninstallFlags, UninstallOptions> = {
  command: 'uninstall',
  describe: 'Remove what install added, webhook configurations first (CRDs and namespace stay unless asked)',
  builder: (y) =>
    dryRunOption(
      y
        .option('delete-crds', {
          type: 'boolean',
          default: false,
          describe:
            'Delete the CRDs too, and with them every ForeignCluster, SearchDomain, DNSRegistration and ClusterConfig',
        })
        .option('delete-namespace', {
          type: 'boolean',
          default: false,
          describe: 'Delete the liqo namespace too (the cluster id, the CA Secret, the Lease)',
        }),
    ),
  complete: (flags) => completeUninstall(flags),
  validate: () => undefined, // every combination of the flags means something
  run: runUninstall,
};

/** The ClusterConfig install creates when there is none: the guide's defaults, spelled out. */
export function defaultClusterConfig(): ManifestObject {
  return {
    apiVersion: CONFIG_API_VERSION,
    kind: KIND_CLUSTER_CONFIG,
    metadata: { name: CLUSTER_CONFIG_NAME, labels: { 'app.kubernetes.io/part-of': 'liqo' } },
    spec: { discoveryConfig: { ...DISCOVERY_CONFIG_DEFAULTS } },
  };
}

// ---- install ----

/**
 * Flags → Options: the timeout parsed, the node selector split, the CA file read (only when it
 * goes with --webhook-url; validate refuses it otherwise), the release manifest loaded.
 */
export async function completeInstall(
  flags: InstallFlags,
  manifest: ManifestSource = embeddedManifest,
): Promise<InstallOptions> {
  const timeoutText = flags.timeout ?? DEFAULT_TIMEOUT;
  const timeoutMs = parseDuration(timeoutText, '--timeout') ?? 0;
  const pullPolicy = PULL_POLICIES.find((p) => p === flags.imagePullPolicy);
  let caBundle: string | undefined;
  if (flags.caFile && flags.webhookUrl) {
    caBundle = await readFile(flags.caFile, 'utf8').catch(() => {
      throw new UserError(`--ca-file: cannot read ${flags.caFile}`);
    });
  }
  const settings: InstallSettings = {
    image: flags.image ?? LIQO_DISCOVERY_IMAGE,
    ...(pullPolicy ? { imagePullPolicy: pullPolicy } : {}),
    withoutAgent: Boolean(flags.withoutAgent),
    ...(flags.idsPort !== undefined ? { idsPort: flags.idsPort } : {}),
    ...(flags.agentHealthPort !== undefined ? { agentHealthPort: flags.agentHealthPort } : {}),
    ...(flags.agentNodeSelector !== undefined
      ? { agentNodeSelector: parseNodeSelector(flags.agentNodeSelector) }
      : {}),
    ...(flags.webhookUrl ? { webhookUrl: flags.webhookUrl } : {}),
    ...(caBundle ? { caBundle } : {}),
    ...(flags.clusterProfiles !== undefined ? { clusterProfilesNamespace: flags.clusterProfiles } : {}),
  };
  return {
    dryRun: flags.dryRun ?? 'none',
    output: flags.output === 'json' || flags.output === 'yaml' ? flags.output : undefined,
    timeoutMs,
    timeoutText,
    manifest: await manifest(),
    settings,
    caFile: flags.caFile,
    force: flags.force ?? false,
    publishClusterProperty: flags.publishClusterProperty ?? false,
  };
}

/** Each flag value that cannot work, as one line naming the flag; nothing is read or sent. */
export function validateInstall(opts: InstallOptions): void {
  const { settings } = opts;
  if (opts.output && opts.dryRun !== 'client')
    throw new UserError('--output only goes with --dry-run=client');
  const badImage = imageProblem(settings.image);
  if (badImage) throw new UserError(badImage);
  if (settings.webhookUrl && !/^https:\/\/[^/]+/i.test(settings.webhookUrl)) {
    throw new UserError(
      `--webhook-url ${settings.webhookUrl}: not an https URL (e.g. https://10.0.0.1:8443)`,
    );
  }
  if (opts.caFile && !settings.webhookUrl) throw new UserError('--ca-file only goes with --webhook-url');
  checkPort('ids-port', settings.idsPort);
  checkPort('agent-health-port', settings.agentHealthPort);
  const idsPort = settings.idsPort;
  if (idsPort !== undefined && idsPort === (settings.agentHealthPort ?? DEFAULT_AGENT_HEALTH_PORT)) {
    throw new UserError(`--ids-port ${idsPort}: the agent's health port is ${idsPort} too; choose another`);
  }
  const namespace = settings.clusterProfilesNamespace;
  const badNamespace = namespace !== undefined ? clusterProfilesNamespaceProblem(namespace) : undefined;
  if (badNamespace) throw new UserError(badNamespace);
}

function checkPort(flag: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new UserError(`--${flag} ${value}: not a port (1-65535)`);
  }
}

/** The release manifest through the flags' transforms, split into install's steps. */
export async function installPlan(opts: Pick<InstallOptions, 'manifest' | 'settings'>): Promise<InstallPlan> {
  const { configure, planInstall } = await import('../install/transforms.js');
  return planInstall(configure(opts.manifest, opts.settings));
}

export async function runInstall(opts: InstallOptions, { io, clients }: CommandContext): Promise<void> {
  const mode = opts.dryRun;
  const plan = await installPlan(opts);
  if (mode === 'client') return printInstall(plan, opts.output, io);

  const resources = await clients.liqo();
  const { Installer } = await import('../install/run.js');
  const { settings } = opts;
  const installer = new Installer(await clusterAccess(resources), io, {
    mode,
    deadline: Date.now() + opts.timeoutMs,
    timeoutText: opts.timeoutText,
    ...(settings.webhookUrl ? { webhookUrl: settings.webhookUrl } : {}),
    ...(settings.caBundle ? { caBundle: settings.caBundle } : {}),
    ...(opts.force ? { force: true } : {}),
  });
  await installer.install(plan, defaultClusterConfig());
  if (opts.publishClusterProperty) {
    const { publishClusterProperty } = await import('../install/cluster-property.js');
    await publishClusterProperty(resources, io, mode);
  }
  if (mode === 'none') io.stderr.write('liqo-discovery installed\n');
}

/** --dry-run=client: every object in the order install sends them, as YAML documents or a List. */
async function printInstall(
  plan: InstallPlan,
  output: InstallOptions['output'],
  io: CommandIO,
): Promise<void> {
  const { applyOrder } = await import('../install/transforms.js');
  const objects = applyOrder(plan, [defaultClusterConfig()]);
  if (output === 'json') {
    const { asList } = await import('../output/print.js');
    io.stdout.write(`${JSON.stringify(asList(objects), null, 2)}\n`);
    return;
  }
  const { stringify } = await import('../output/yaml.js');
  io.stdout.write(objects.map((o) => stringify(o)).join('---\n'));
}

/** The APIs install needs beyond our CRDs' client, on the same kubeconfig. */
async function clusterAccess(resources: LiqoResources) {
  const k8s = await import('@kubernetes/client-node');
  return {
    objects: k8s.KubernetesObjectApi.makeApiClient(resources.kubeConfig),
    core: resources.kubeConfig.makeApiClient(k8s.CoreV1Api),
    crds: resources.kubeConfig.makeApiClient(k8s.ApiextensionsV1Api),
    server: resources.server,
  };
}

// ---- uninstall ----

export async function completeUninstall(
  flags: UninstallFlags,
  manifest: ManifestSource = embeddedManifest,
): Promise<UninstallOptions> {
  return {
    dryRun: flags.dryRun ?? 'none',
    deleteCrds: flags.deleteCrds ?? false,
    deleteNamespace: flags.deleteNamespace ?? false,
    manifest: await manifest(),
  };
}

export async function runUninstall(opts: UninstallOptions, { io, clients }: CommandContext): Promise<void> {
  const { planInstall, removeOrder } = await import('../install/transforms.js');
  const { describeObject } = await import('../install/objects.js');
  const objects = removeOrder(planInstall(opts.manifest), {
    crds: opts.deleteCrds,
    namespaces: opts.deleteNamespace,
  });
  const mode = opts.dryRun;
  if (mode === 'client') {
    for (const o of objects) io.stdout.write(`${describeObject(o)} deleted (dry run)\n`);
    return;
  }
  const resources = await clients.liqo();
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
