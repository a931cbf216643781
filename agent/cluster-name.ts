// The name this cluster shows to its peers (the `clusterName` of GET /ids, the `name=` of the
// mDNS TXT): ClusterConfig `spec.discoveryConfig.clusterName` when set, else a generated one in
// the form Liqo's installer used, "LiqoCluster" and four digits (install.sh:
// `printf "LiqoCluster%04d" $(( RANDOM%10000 ))`), as in the guide's "LiqoCluster0692".
//
// Liqo drew the digits at random once, at install time, and the Helm values kept them. We have
// no install step that could keep a name, so the digits come from the cluster id instead: the
// id is already persisted (ConfigMap `cluster-id`), so the name is the same after every restart
// and on every replica without a write, a lock or more RBAC, and a new cluster id (a new
// cluster) gets a new name. It is a display name: two clusters share the same digits once in
// 10,000 pairs, and nothing keys on it; set clusterName in the ClusterConfig to choose one.
import { createHash } from 'node:crypto';

const GENERATED_PREFIX = 'LiqoCluster';

/** "LiqoCluster" + 4 digits derived from the cluster id (stable for a given id). */
export function generatedClusterName(clusterId: string): string {
  const digest = createHash('sha256').update(clusterId).digest();
  const digits = digest.readUInt32BE(0) % 10_000;
  return `${GENERATED_PREFIX}${String(digits).padStart(4, '0')}`;
}

/** The name to serve: the configured one when non-empty, else the generated one. */
export function servedClusterName(configured: string | undefined, clusterId: string): string {
  return configured?.trim() ? configured : generatedClusterName(clusterId);
}
