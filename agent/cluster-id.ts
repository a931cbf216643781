// This cluster's id: ConfigMap `cluster-id` (key `cluster-id`) in the Liqo namespace, created
// with a random UUID when missing (Liqo v0.2 does the same when no master node is labelled) —
// unless ClusterProperty cluster.clusterset.k8s.io (KEP-2149) gives the id (cluster-property.ts).
import { randomUUID } from 'node:crypto';
import { CLUSTER_ID_CONFIGMAP, CLUSTER_ID_CONFIGMAP_KEY } from '../shared/api/constants.js';
import { isConflict, isNotFound, kubeErrorMessage, type AgentKube } from './kube-access.js';
import { clusterIdFromClusterProperty } from './cluster-property.js';
import type { Logger } from './logger.js';

export async function ensureClusterId(kube: AgentKube, log: Logger): Promise<string> {
  const { core, namespace } = kube;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const cm = await core.readNamespacedConfigMap({ name: CLUSTER_ID_CONFIGMAP, namespace });
      const id = cm.data?.[CLUSTER_ID_CONFIGMAP_KEY]?.trim();
      if (id) return id;
      // present but empty: fill it, guarded by resourceVersion against a concurrent writer
      const fresh = randomUUID();
      cm.data = { ...(cm.data ?? {}), [CLUSTER_ID_CONFIGMAP_KEY]: fresh };
      await core.replaceNamespacedConfigMap({ name: CLUSTER_ID_CONFIGMAP, namespace, body: cm });
      log.info({ clusterId: fresh }, 'cluster-id ConfigMap had no id; wrote a new one');
      return fresh;
    } catch (err) {
      if (isConflict(err)) continue;
      if (!isNotFound(err))
        throw new Error(
          `cannot read ConfigMap ${namespace}/${CLUSTER_ID_CONFIGMAP}: ${kubeErrorMessage(err)}`,
          { cause: err },
        );
    }
    // KEP-2149: without the ConfigMap, ClusterProperty cluster.clusterset.k8s.io names this cluster
    const fromProperty = await clusterIdFromClusterProperty(kube, log);
    if (fromProperty) {
      log.info(
        { clusterId: fromProperty },
        'no cluster-id ConfigMap: using ClusterProperty cluster.clusterset.k8s.io',
      );
      return fromProperty;
    }
    const fresh = randomUUID();
    try {
      await core.createNamespacedConfigMap({
        namespace,
        body: {
          metadata: { name: CLUSTER_ID_CONFIGMAP, namespace },
          data: { [CLUSTER_ID_CONFIGMAP_KEY]: fresh },
        },
      });
      log.info({ clusterId: fresh }, 'created the cluster-id ConfigMap with a random id');
      return fresh;
    } catch (err) {
      // another replica created it first: read theirs
      if (!isConflict(err)) {
        throw new Error(
          `cannot create ConfigMap ${namespace}/${CLUSTER_ID_CONFIGMAP} (does namespace "${namespace}" exist?): ${kubeErrorMessage(err)}`,
          { cause: err },
        );
      }
    }
  }
  throw new Error(`ConfigMap ${namespace}/${CLUSTER_ID_CONFIGMAP} keeps changing; giving up`);
}
