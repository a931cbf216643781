// kubectl liqo install / uninstall: the CRDs, namespace, RBAC and webhook (and the agent) in one
// command. Objects are server-side applied (field manager "kubectl-liqo"), so re-running is
// safe; the webhook makes its own CA and injects it (--bootstrap-tls), so no TLS step is needed.
import { readFile } from 'node:fs/promises';
import type { CommandModule } from '../command.js';
import {
  connect,
  dryRunOption,
  dryRunSuffix,
  UserError,
  type DryRunMode,
  type GlobalOptions,
} from '../global.js';
import type { CommandIO } from '../io.js';
import { applyOrder, renderManifests, shapeManifests, type ManifestObject } from '../install/manifests.js';

export interface InstallOptions extends GlobalOptions {
  webhookUrl?: string;
  caFile?: string;
  withoutAgent?: boolean;
  dryRun?: DryRunMode;
}

export interface UninstallOptions extends InstallOptions {
  keepCrds?: boolean;
  deleteNamespace?: boolean;
}

const FIELD_MANAGER = 'kubectl-liqo';

function shapeOptions<T>(y: import('yargs').Argv<T>) {
  return dryRunOption(
    y
      .option('webhook-url', {
        type: 'string',
        describe: 'Register a webhook running outside the cluster at this https base URL (sandboxes)',
      })
      .option('ca-file', { type: 'string', describe: "With --webhook-url: the webhook's CA (PEM)" })
      .option('without-agent', {
        type: 'boolean',
        default: false,
        describe: 'Leave out the discovery agent',
      }),
  );
}

export const installCommand: CommandModule<InstallOptions> = {
  command: 'install',
  describe: 'Install the CRDs, namespace, RBAC and webhook (with TLS) into the current cluster',
  builder: (y) => shapeOptions(y),
  run: runInstall,
};

export const uninstallCommand: CommandModule<UninstallOptions> = {
  command: 'uninstall',
  describe: 'Remove what install added (the CRDs too, and with them every ForeignCluster)',
  builder: (y) =>
    shapeOptions(y)
      .option('keep-crds', { type: 'boolean', default: false, describe: 'Keep the CRDs and their objects' })
      .option('delete-namespace', {
        type: 'boolean',
        default: false,
        describe: 'Delete the liqo namespace too',
      }),
  run: runUninstall,
};

async function manifests(opts: InstallOptions): Promise<ManifestObject[]> {
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
  const rendered = await renderManifests('', opts.withoutAgent ? ['agent'] : []);
  return applyOrder(
    shapeManifests(rendered, {
      ...(opts.webhookUrl ? { webhookUrl: opts.webhookUrl } : {}),
      ...(caBundle ? { caBundle } : {}),
    }),
  );
}

function describeObject(o: ManifestObject): string {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
}

export async function runInstall(opts: InstallOptions, io: CommandIO): Promise<void> {
  const objects = await manifests(opts);
  const mode = opts.dryRun ?? 'none';
  if (mode === 'client') {
    const { stringify } = await import('../output/yaml.js');
    io.stdout.write(objects.map((o) => stringify(o)).join('---\n'));
    return;
  }
  const resources = await connect(opts, io);
  const k8s = await import('@kubernetes/client-node');
  const client = k8s.KubernetesObjectApi.makeApiClient(resources.kubeConfig);
  const { describeApiFailure } = await import('../../shared/kube/api-errors.js');
  for (const o of objects) {
    try {
      await client.patch(
        o,
        undefined,
        mode === 'server' ? 'All' : undefined,
        FIELD_MANAGER,
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      throw describeApiFailure(
        err,
        'apply',
        { kind: o.kind, name: o.metadata.name },
        { server: resources.server },
      ).error;
    }
    io.stdout.write(`${describeObject(o)} serverside-applied${dryRunSuffix(mode)}\n`);
    if (o.kind === 'CustomResourceDefinition' && mode === 'none') await waitEstablished(client, o);
  }
}

async function waitEstablished(
  client: import('@kubernetes/client-node').KubernetesObjectApi,
  crd: ManifestObject,
): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const current = (await client.read({
      apiVersion: crd.apiVersion,
      kind: crd.kind,
      metadata: { name: crd.metadata.name },
    })) as {
      status?: { conditions?: { type: string; status: string }[] };
    };
    if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new UserError(`CustomResourceDefinition ${crd.metadata.name} was not established within 10s`);
}

export async function runUninstall(opts: UninstallOptions, io: CommandIO): Promise<void> {
  const objects = (await manifests(opts))
    .filter((o) => !(opts.keepCrds && o.kind === 'CustomResourceDefinition'))
    .filter((o) => opts.deleteNamespace || o.kind !== 'Namespace')
    .reverse(); // webhook configurations first, so nothing waits on a webhook being removed
  const mode = opts.dryRun ?? 'none';
  if (mode === 'client') {
    for (const o of objects) io.stdout.write(`${describeObject(o)} deleted (dry run)\n`);
    return;
  }
  const resources = await connect(opts, io);
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
