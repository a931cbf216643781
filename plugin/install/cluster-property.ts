// The About API (KEP-2149) in the plugin:
//  - `kubectl liqo install --publish-cluster-property` writes ClusterProperty
//    cluster.clusterset.k8s.io from our cluster id when there is none; it never overwrites one,
//    and says so when one exists with another value;
//  - `kubectl liqo discovery status` shows where the cluster id comes from and says when the
//    cluster-id ConfigMap and the ClusterProperty disagree.
// Without the ClusterProperty CRD both say so in one line and change nothing.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { describeApiFailure } from '../../shared/kube/api-errors.js';
import type { LiqoResources } from '../../shared/kube/liqo-resources.js';
import {
  CLUSTER_ID_PROPERTY,
  CLUSTER_PROPERTY_CRD_HINT,
  clusterIdAgreement,
  clusterIdMismatchMessage,
  clusterIdOfProperty,
  clusterIdProperty,
  readClusterProperty,
  type ClusterIdAgreement,
} from '../../shared/kube/sig-multicluster.js';
import { dryRunSuffix, type DryRunMode } from '../global.js';
import type { CommandIO } from '../io.js';

const PROPERTY_RESOURCE = `clusterproperty.about.k8s.io/${CLUSTER_ID_PROPERTY}`;

async function customObjects(resources: LiqoResources): Promise<CustomObjectsApi> {
  const k8s = await import('@kubernetes/client-node');
  return resources.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
}

async function readProperty(resources: LiqoResources, custom: CustomObjectsApi) {
  try {
    return await readClusterProperty(custom, CLUSTER_ID_PROPERTY);
  } catch (err) {
    throw describeApiFailure(
      err,
      'get',
      { kind: 'ClusterProperty', name: CLUSTER_ID_PROPERTY },
      { server: resources.server },
    ).error;
  }
}

/** What `publishClusterProperty` did, in one word (tests and callers). */
export type PublishOutcome = 'created' | 'unchanged' | 'differs' | 'no-crd' | 'no-cluster-id';

/**
 * Creates ClusterProperty cluster.clusterset.k8s.io = our cluster id when absent. Prints one
 * line in every case; never overwrites. `mode` 'server' sends a server-side dry run.
 */
export async function publishClusterProperty(
  resources: LiqoResources,
  io: CommandIO,
  mode: Exclude<DryRunMode, 'client'>,
): Promise<PublishOutcome> {
  const custom = await customObjects(resources);
  const read = await readProperty(resources, custom);
  if (!read.crdInstalled) {
    io.stderr.write(
      `warning: --publish-cluster-property: ClusterProperty not written: ${CLUSTER_PROPERTY_CRD_HINT}\n`,
    );
    return 'no-crd';
  }
  const ours = await resources.readClusterIdConfigMap();
  const theirs = clusterIdOfProperty(read.property);
  if (theirs !== undefined) {
    if (ours === undefined || ours === theirs) {
      io.stdout.write(`${PROPERTY_RESOURCE} unchanged (already ${theirs})\n`);
      return 'unchanged';
    }
    io.stderr.write(
      `warning: --publish-cluster-property: ${PROPERTY_RESOURCE} says ${theirs}, not this cluster's id ${ours} ` +
        `(ConfigMap ${resources.liqoNamespace}/cluster-id); left as it is (never overwritten)\n`,
    );
    return 'differs';
  }
  if (ours === undefined) {
    io.stderr.write(
      `warning: --publish-cluster-property: no cluster id yet (ConfigMap ${resources.liqoNamespace}/cluster-id is absent until the agent starts); run install again once it runs\n`,
    );
    return 'no-cluster-id';
  }
  try {
    await custom.createClusterCustomObject({
      group: 'about.k8s.io',
      version: 'v1beta1',
      plural: 'clusterproperties',
      body: clusterIdProperty(ours),
      fieldManager: 'kubectl-liqo',
      ...(mode === 'server' ? { dryRun: 'All' } : {}),
    });
  } catch (err) {
    const failure = describeApiFailure(
      err,
      'create',
      { kind: 'ClusterProperty', name: CLUSTER_ID_PROPERTY },
      { server: resources.server },
    );
    // someone made it meanwhile: report theirs, as above
    if (failure.error.status === 409) return publishClusterProperty(resources, io, mode);
    throw failure.error;
  }
  io.stdout.write(`${PROPERTY_RESOURCE} created (${ours})${dryRunSuffix(mode)}\n`);
  return 'created';
}

export interface ClusterIdReport {
  /** false: the ClusterProperty CRD is not installed. */
  clusterPropertyCrd: boolean;
  configMap?: string;
  clusterProperty?: string;
  /** The id /ids serves: the ConfigMap's, else the ClusterProperty's. */
  clusterId?: string;
  source?: 'ConfigMap' | 'ClusterProperty';
  /** One line when the two disagree. */
  mismatch?: string;
}

export function clusterIdReport(
  namespace: string,
  crdInstalled: boolean,
  configMapId: string | undefined,
  propertyId: string | undefined,
): ClusterIdReport {
  const agreement: ClusterIdAgreement = clusterIdAgreement(configMapId, propertyId);
  const report: ClusterIdReport = { clusterPropertyCrd: crdInstalled };
  if (configMapId !== undefined) report.configMap = configMapId;
  if (propertyId !== undefined) report.clusterProperty = propertyId;
  if (configMapId !== undefined) {
    report.clusterId = configMapId;
    report.source = 'ConfigMap';
  } else if (propertyId !== undefined) {
    report.clusterId = propertyId;
    report.source = 'ClusterProperty';
  }
  if (agreement.state === 'differ')
    report.mismatch = clusterIdMismatchMessage(namespace, agreement.configMapId, agreement.propertyId);
  return report;
}

/** Reads both ids for `discovery status`. */
export async function readClusterIdReport(resources: LiqoResources): Promise<ClusterIdReport> {
  const read = await readProperty(resources, await customObjects(resources));
  const propertyId = read.crdInstalled ? clusterIdOfProperty(read.property) : undefined;
  return clusterIdReport(
    resources.liqoNamespace,
    read.crdInstalled,
    await resources.readClusterIdConfigMap(),
    propertyId,
  );
}

/** The lines `discovery status` prints under its table: none without a ClusterProperty. */
export function clusterIdLines(report: ClusterIdReport | undefined, namespace: string): string[] {
  if (!report?.clusterProperty) return [];
  if (report.mismatch) return [`cluster id mismatch: ${report.mismatch}`];
  if (report.source === 'ClusterProperty')
    return [
      `cluster id: ${report.clusterId} (from ClusterProperty ${CLUSTER_ID_PROPERTY}; no ConfigMap ${namespace}/cluster-id)`,
    ];
  return [
    `cluster id: ${report.clusterId} (ConfigMap ${namespace}/cluster-id and ClusterProperty ${CLUSTER_ID_PROPERTY} agree)`,
  ];
}
