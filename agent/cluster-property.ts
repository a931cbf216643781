// The About API (KEP-2149) in the agent: ClusterProperty `cluster.clusterset.k8s.io` is this
// cluster's id where the cluster-id ConfigMap is absent, and where both exist and differ the
// leader says so — condition ClusterIdConsistent on ClusterConfig `liqo-configuration`
// (`kubectl describe clusterconfig`), a Warning Event ClusterIdMismatch on the ClusterProperty
// (`kubectl describe clusterproperty cluster.clusterset.k8s.io`) and a log line. Without the
// CRD nothing is read and nothing is said.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import {
  CLUSTER_CONFIG_NAME,
  CLUSTER_ID_CONFIGMAP,
  CLUSTER_ID_CONFIGMAP_KEY,
} from '../shared/api/constants.js';
import type { Condition } from '../shared/api/types.js';
import {
  ABOUT_API_VERSION,
  CLUSTER_ID_PROPERTY,
  KIND_CLUSTER_PROPERTY,
  clusterIdAgreement,
  clusterIdMismatchMessage,
  clusterIdOfProperty,
  readClusterProperty,
  type ClusterIdAgreement,
  type ClusterProperty,
} from '../shared/kube/sig-multicluster.js';
import type { EventDetails, EventObject } from './events.js';
import { isNotFound, kubeErrorMessage, type AgentKube } from './kube-access.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';
import { PeriodicPass } from './periodic.js';

/** Condition type on ClusterConfig status: does the ConfigMap's id equal the ClusterProperty's? */
export const CONDITION_CLUSTER_ID_CONSISTENT = 'ClusterIdConsistent';
export const EVENT_CLUSTER_ID_MISMATCH = 'ClusterIdMismatch';

function customObjects(kube: AgentKube): CustomObjectsApi {
  return kube.kubeConfig.makeApiClient(kube.k8s.CustomObjectsApi);
}

/**
 * The id ClusterProperty `cluster.clusterset.k8s.io` gives, when its CRD is installed and the
 * object holds a value; undefined otherwise (also when reading it is forbidden: logged).
 */
export async function clusterIdFromClusterProperty(
  kube: AgentKube,
  log: Logger,
): Promise<string | undefined> {
  try {
    const read = await readClusterProperty(customObjects(kube), CLUSTER_ID_PROPERTY, kube.requestOptions());
    if (!read.crdInstalled) return undefined;
    return clusterIdOfProperty(read.property);
  } catch (err) {
    log.warn(
      { err: kubeErrorMessage(err) },
      `cannot read ClusterProperty ${CLUSTER_ID_PROPERTY}; not using it`,
    );
    return undefined;
  }
}

/** The condition for an agreement; undefined when there is no ClusterProperty to compare with. */
export function clusterIdCondition(agreement: ClusterIdAgreement, namespace: string): Condition | undefined {
  switch (agreement.state) {
    case 'no-property':
      return undefined;
    case 'agree':
      return {
        type: CONDITION_CLUSTER_ID_CONSISTENT,
        status: 'True',
        reason: 'Agree',
        message: `ConfigMap ${namespace}/cluster-id and ClusterProperty ${CLUSTER_ID_PROPERTY} both say ${agreement.clusterId}`,
      };
    case 'property-only':
      return {
        type: CONDITION_CLUSTER_ID_CONSISTENT,
        status: 'True',
        reason: 'FromClusterProperty',
        message: `no ConfigMap ${namespace}/cluster-id: the cluster id ${agreement.clusterId} comes from ClusterProperty ${CLUSTER_ID_PROPERTY}`,
      };
    case 'differ':
      return {
        type: CONDITION_CLUSTER_ID_CONSISTENT,
        status: 'False',
        reason: 'ClusterPropertyDiffers',
        message: clusterIdMismatchMessage(namespace, agreement.configMapId, agreement.propertyId),
      };
  }
}

/**
 * `conditions` with `next` put in place of the same type (its lastTransitionTime kept when the
 * status did not change), or with that type removed when `next` is undefined.
 */
export function upsertCondition(
  conditions: Condition[] | undefined,
  type: string,
  next: Condition | undefined,
  now: Date,
): Condition[] {
  const others = (conditions ?? []).filter((c) => c.type !== type);
  if (!next) return others;
  const old = (conditions ?? []).find((c) => c.type === type);
  const lastTransitionTime =
    old && old.status === next.status && old.lastTransitionTime ? old.lastTransitionTime : now.toISOString();
  return [...others, { ...next, lastTransitionTime }];
}

export interface ClusterIdCheckOptions {
  intervalMs: number;
  log: Logger;
  events: (object: EventObject, event: EventDetails) => Promise<void>;
}

/** Leader-only: compares the ConfigMap's id with the ClusterProperty's, now and every interval. */
export class ClusterIdCheck {
  private readonly periodic: PeriodicPass;
  private lastReported: string | undefined;

  constructor(
    private readonly kube: AgentKube,
    private readonly opts: ClusterIdCheckOptions,
  ) {
    this.periodic = new PeriodicPass(opts.intervalMs, () =>
      this.checkOnce().catch((err: unknown) =>
        this.opts.log.warn({ err: errorMessage(err) }, 'cluster id check failed'),
      ),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  async checkOnce(): Promise<void> {
    const { kube } = this;
    const read = await readClusterProperty(customObjects(kube), CLUSTER_ID_PROPERTY, kube.requestOptions());
    const property = read.crdInstalled ? read.property : undefined;
    const agreement = clusterIdAgreement(await this.configMapId(), clusterIdOfProperty(property));
    const condition = clusterIdCondition(agreement, kube.namespace);
    await this.writeCondition(condition);
    const key =
      agreement.state === 'differ' ? `${agreement.configMapId}\0${agreement.propertyId}` : undefined;
    if (key !== this.lastReported && agreement.state === 'differ' && property && condition) {
      this.opts.log.warn(
        { configMapId: agreement.configMapId, clusterPropertyId: agreement.propertyId },
        condition.message ?? 'cluster id mismatch',
      );
      await this.opts
        .events(propertyEventObject(property), {
          type: 'Warning',
          reason: EVENT_CLUSTER_ID_MISMATCH,
          message: condition.message ?? '',
        })
        .catch((err: unknown) => this.opts.log.warn({ err: errorMessage(err) }, 'cannot record Event'));
    }
    this.lastReported = key;
  }

  private async configMapId(): Promise<string | undefined> {
    try {
      const cm = await this.kube.core.readNamespacedConfigMap(
        { name: CLUSTER_ID_CONFIGMAP, namespace: this.kube.namespace },
        this.kube.requestOptions(),
      );
      return cm.data?.[CLUSTER_ID_CONFIGMAP_KEY]?.trim() || undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Sets (or removes) the condition on ClusterConfig liqo-configuration, when it exists. */
  private async writeCondition(condition: Condition | undefined): Promise<void> {
    const cc = await this.kube.liqo.clusterConfigs.get(CLUSTER_CONFIG_NAME);
    if (!cc) return;
    const current = (cc.status?.['conditions'] as Condition[] | undefined) ?? [];
    const next = upsertCondition(current, CONDITION_CLUSTER_ID_CONSISTENT, condition, new Date());
    if (JSON.stringify(current) === JSON.stringify(next)) return;
    await this.kube.liqo.clusterConfigs.patchStatus(CLUSTER_CONFIG_NAME, { status: { conditions: next } });
  }
}

function propertyEventObject(property: ClusterProperty): EventObject {
  return {
    apiVersion: ABOUT_API_VERSION,
    kind: KIND_CLUSTER_PROPERTY,
    metadata: {
      name: property.metadata.name,
      ...(property.metadata.uid ? { uid: property.metadata.uid } : {}),
    },
  };
}
