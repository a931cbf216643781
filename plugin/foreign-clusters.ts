// ForeignCluster look-ups and facts shared by join, unjoin, list and discover.
import {
  DISCOVERY_GROUP,
  KIND_FOREIGN_CLUSTER,
  LABEL_CLUSTER_ID,
  type ForeignCluster,
} from '../shared/api/index.js';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import { foreignClusterRules, formatFieldError, namedObjects } from '../shared/rules/index.js';
import { authUrlMatchKey } from '../shared/rules/url.js';
import { UserError } from './global.js';
import { resourceName } from './output/print.js';

// join finds an existing ForeignCluster by the canonical auth URL (shared/rules/url.ts): so
// "https://Host.:443/" and "https://host" are one endpoint.
export { authUrlMatchKey };

export function foreignClusterId(fc: ForeignCluster): string | undefined {
  return fc.spec?.clusterIdentity?.clusterID || fc.metadata.labels?.[LABEL_CLUSTER_ID] || undefined;
}

export function isJoined(fc: ForeignCluster): boolean {
  return fc.spec?.join === true || fc.status?.outgoing?.joined === true;
}

export function fcResourceName(name: string | undefined): string {
  return resourceName(KIND_FOREIGN_CLUSTER, DISCOVERY_GROUP, name);
}

/** The ForeignCluster by name, else the one carrying that cluster id (label or spec). */
export async function findForeignCluster(
  resources: LiqoResources,
  nameOrId: string,
): Promise<ForeignCluster | undefined> {
  const byName = await resources.foreignClusters.get(nameOrId);
  if (byName) return byName;
  return findByClusterId(await resources.foreignClusters.list(), nameOrId);
}

export function findByClusterId(all: ForeignCluster[], clusterId: string): ForeignCluster | undefined {
  return all.find((fc) => foreignClusterId(fc) === clusterId);
}

export function findByAuthUrl(all: ForeignCluster[], authUrl: string): ForeignCluster | undefined {
  const wanted = authUrlMatchKey(authUrl);
  if (wanted === undefined) return undefined;
  return all.find(
    (fc) => typeof fc.spec?.authUrl === 'string' && authUrlMatchKey(fc.spec.authUrl) === wanted,
  );
}

/**
 * The webhook's uniqueness rule (one ForeignCluster per cluster id, shared/rules/uniqueness.ts),
 * asked before anything is written: a refusal reads the same in every dry-run mode, and no
 * request is sent that the webhook would refuse.
 */
export function refuseDuplicate(obj: ForeignCluster, name: string, all: ForeignCluster[]): void {
  const [first] = foreignClusterRules.unique?.conflicts(obj, name, namedObjects(all)) ?? [];
  if (first) throw new UserError(`ForeignCluster "${name}" would be refused: ${formatFieldError(first)}`);
}
