// What the local cluster knows, for discover's STATUS column: its own id, its ForeignClusters,
// its ClusterConfig and SearchDomains. Each read may fail on its own without stopping discovery.
import type { ClusterConfig, ForeignCluster, SearchDomain } from '../../shared/api/index.js';
import type { DiscoveredCluster } from '../../shared/discovery/collect.js';
import type { LiqoResources } from '../../shared/kube/liqo-resources.js';
import { findByAuthUrl, findByClusterId, isJoined } from '../foreign-clusters.js';

export interface ClusterState {
  resources: LiqoResources;
  ownClusterId: string | undefined;
  foreignClusters: ForeignCluster[];
  clusterConfig: ClusterConfig | undefined;
  searchDomains: SearchDomain[];
}

/** Reads everything in parallel; the first failure is reported and the rest still used. */
export async function readClusterState(
  resources: LiqoResources,
  warn: (message: string) => void,
): Promise<ClusterState | undefined> {
  const [own, fcs, cc, sds] = await Promise.allSettled([
    resources.readOwnClusterId(),
    resources.foreignClusters.list(),
    resources.getClusterConfig(),
    resources.searchDomains.list(),
  ]);
  if (fcs.status === 'rejected') {
    // Without the ForeignClusters no status can be shown at all.
    warn(`cannot show cluster status: ${(fcs.reason as Error).message}`);
    return undefined;
  }
  for (const r of [own, cc, sds]) {
    if (r.status === 'rejected') warn((r.reason as Error).message);
  }
  return {
    resources,
    ownClusterId: own.status === 'fulfilled' ? own.value : undefined,
    foreignClusters: fcs.value,
    clusterConfig: cc.status === 'fulfilled' ? cc.value : undefined,
    searchDomains: sds.status === 'fulfilled' ? sds.value : [],
  };
}

export type StatusKind = 'new' | 'known' | 'joined' | 'self' | 'unreachable';

export interface ClusterStatus {
  kind: StatusKind;
  /** The matching ForeignCluster, for "known: <name>". */
  foreignCluster?: string;
  /** The table's text: "new", "known: fc", "joined", "self", "unreachable: why". */
  text: string;
}

export function statusOf(c: DiscoveredCluster, state: ClusterState | undefined): ClusterStatus | undefined {
  if (c.error) return { kind: 'unreachable', text: `unreachable: ${c.error}` };
  if (!state) return undefined;
  if (c.clusterId && state.ownClusterId === c.clusterId) return { kind: 'self', text: 'self' };
  const fc =
    (c.clusterId ? findByClusterId(state.foreignClusters, c.clusterId) : undefined) ??
    findByAuthUrl(state.foreignClusters, c.authUrl);
  if (!fc) return { kind: 'new', text: 'new' };
  const name = fc.metadata.name ?? '';
  if (isJoined(fc)) return { kind: 'joined', foreignCluster: name, text: 'joined' };
  return { kind: 'known', foreignCluster: name, text: `known: ${name}` };
}
