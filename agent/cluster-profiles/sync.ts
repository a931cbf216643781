// Leader-only: keeps one ClusterProfile per ForeignCluster in the namespace given with
// --cluster-profiles (KEP-4322; OCM, Argo CD, MultiKueue read them). Each pass lists the
// ForeignClusters and our profiles (label x-k8s.io/cluster-manager=liqo-discovery), creates
// the missing ones, rewrites those that say something else, and deletes those whose
// ForeignCluster is gone (the ownerReference makes the garbage collector do it as well). A pass
// runs at start and every interval; a missing ClusterProfile CRD is logged once per change and
// retried next pass.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { ForeignCluster } from '../../shared/api/types.js';
import {
  CLUSTER_INVENTORY_GROUP,
  CLUSTER_INVENTORY_VERSION,
  CLUSTER_MANAGER_NAME,
  LABEL_CLUSTER_MANAGER,
  PLURAL_CLUSTER_PROFILES,
  classifyNotFound,
} from '../../shared/kube/sig-multicluster.js';
import { kubeErrorMessage, type AgentKube } from '../kube-access.js';
import type { Logger } from '../logger.js';
import { PeriodicPass } from '../periodic.js';
import {
  desiredProfile,
  keepTransitionTimes,
  specDiffers,
  statusDiffers,
  type ClusterProfile,
} from './mapping.js';

export interface ClusterProfileSyncOptions {
  namespace: string;
  intervalMs: number;
  /** Throws when this replica may not write now (the leader elector). */
  mayWrite: (what: string) => void;
  log: Logger;
}

export interface PassResult {
  created: string[];
  updated: string[];
  deleted: string[];
}

export class ClusterProfileSync {
  private readonly custom: CustomObjectsApi;
  private readonly periodic: PeriodicPass;
  private lastProblem: string | undefined;

  constructor(
    private readonly kube: AgentKube,
    private readonly opts: ClusterProfileSyncOptions,
  ) {
    this.custom = kube.kubeConfig.makeApiClient(kube.k8s.CustomObjectsApi);
    this.periodic = new PeriodicPass(opts.intervalMs, () =>
      this.pass().then(
        () => this.problem(undefined),
        (err: unknown) => this.problem(describe(err, this.opts.namespace)),
      ),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  private get stopped(): boolean {
    return this.periodic.stopped;
  }

  private problem(line: string | undefined): void {
    if (line === this.lastProblem) return;
    if (line) this.opts.log.warn({ namespace: this.opts.namespace }, line);
    else if (this.lastProblem)
      this.opts.log.info({ namespace: this.opts.namespace }, 'ClusterProfiles in sync again');
    this.lastProblem = line;
  }

  private where() {
    return {
      group: CLUSTER_INVENTORY_GROUP,
      version: CLUSTER_INVENTORY_VERSION,
      plural: PLURAL_CLUSTER_PROFILES,
    };
  }

  /** One reconciliation of every profile; exported behaviour for the tests through start(). */
  async pass(): Promise<PassResult> {
    const result: PassResult = { created: [], updated: [], deleted: [] };
    const { namespace } = this.opts;
    const foreignClusters: ForeignCluster[] = await this.kube.liqo.foreignClusters.list();
    const listed = (await this.custom.listNamespacedCustomObject(
      {
        ...this.where(),
        namespace,
        labelSelector: `${LABEL_CLUSTER_MANAGER}=${CLUSTER_MANAGER_NAME}`,
      },
      this.kube.requestOptions(),
    )) as { items: ClusterProfile[] };
    const existing = new Map(listed.items.map((p) => [p.metadata.name, p]));
    const now = new Date();
    for (const fc of foreignClusters) {
      if (this.stopped) return result;
      const name = fc.metadata.name;
      if (!name || fc.metadata.deletionTimestamp) continue;
      const desired = desiredProfile(fc, namespace, now);
      let current = existing.get(name);
      existing.delete(name);
      if (!current) {
        this.opts.mayWrite(`create ClusterProfile ${namespace}/${name}`);
        const { status, ...object } = desired;
        current = (await this.custom.createNamespacedCustomObject(
          { ...this.where(), namespace, body: object },
          this.kube.requestOptions(),
        )) as ClusterProfile;
        desired.status = status;
        result.created.push(name);
      } else if (specDiffers(current, desired)) {
        this.opts.mayWrite(`patch ClusterProfile ${namespace}/${name}`);
        current = (await this.custom.patchNamespacedCustomObject(
          {
            ...this.where(),
            namespace,
            name,
            body: {
              metadata: {
                labels: desired.metadata.labels,
                ownerReferences: desired.metadata.ownerReferences ?? null,
              },
              spec: { displayName: desired.spec.displayName },
            },
          },
          this.mergePatchOptions(),
        )) as ClusterProfile;
        result.updated.push(name);
      }
      const status = {
        conditions: keepTransitionTimes(desired.status?.conditions ?? [], current.status?.conditions),
        properties: desired.status?.properties ?? [],
      };
      if (statusDiffers(current, { ...desired, status })) {
        this.opts.mayWrite(`patch ClusterProfile ${namespace}/${name} status`);
        await this.custom.patchNamespacedCustomObjectStatus(
          { ...this.where(), namespace, name, body: { status } },
          this.mergePatchOptions(),
        );
        if (!result.created.includes(name) && !result.updated.includes(name)) result.updated.push(name);
      }
    }
    for (const name of existing.keys()) {
      if (this.stopped) return result;
      this.opts.mayWrite(`delete ClusterProfile ${namespace}/${name}`);
      try {
        await this.custom.deleteNamespacedCustomObject(
          { ...this.where(), namespace, name },
          this.kube.requestOptions(),
        );
        result.deleted.push(name);
      } catch (err) {
        if (classifyNotFound(err) !== 'object') throw err;
      }
    }
    if (result.created.length || result.updated.length || result.deleted.length)
      this.opts.log.debug({ namespace, ...result }, 'ClusterProfiles written');
    return result;
  }

  private mergePatchOptions() {
    const k8s = this.kube.k8s;
    return k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch, this.kube.requestOptions());
  }
}

function describe(err: unknown, namespace: string): string {
  if (classifyNotFound(err) === 'resource-type') {
    return `ClusterProfiles not written: the ClusterProfile CRD (multicluster.x-k8s.io) is not installed; install it from sigs.k8s.io/cluster-inventory-api (config/crd/bases/multicluster.x-k8s.io_clusterprofiles.yaml)`;
  }
  return `ClusterProfiles in namespace ${namespace} not written: ${kubeErrorMessage(err)}`;
}
