// ForeignCluster look-ups and facts shared by join, unjoin, list and discover.
import {
  DISCOVERY_GROUP,
  KIND_FOREIGN_CLUSTER,
  LABEL_CLUSTER_ID,
  type ForeignCluster,
} from '../shared/api/index.js';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import { resourceName } from './output/print.js';

export function foreignClusterId(fc: ForeignCluster): string | undefined {
  return fc.spec?.clusterIdentity?.clusterID || fc.metadata.labels?.[LABEL_CLUSTER_ID] || undefined;
}

export function isJoined(fc: ForeignCluster): boolean {
  return fc.spec?.join === true || fc.status?.outgoing?.joined === true;
}

export function fcResourceName(name: string | undefined): string {
  return resourceName(KIND_FOREIGN_CLUSTER, DISCOVERY_GROUP, name);
}

/**
 * The form we compare auth URLs in: lower-case scheme and host, no default port, no trailing
 * dot or slash — so "https://Host.:443/" and "https://host" count as the same endpoint.
 */
export function comparableAuthUrl(url: string): string {
  try {
    const u = new URL(url.trim());
    const host = u.hostname.replace(/\.$/, '').toLowerCase();
    const port = u.port && !(u.protocol === 'https:' && u.port === '443') ? `:${u.port}` : '';
    const path = u.pathname.replace(/\/+$/, '');
    return `${u.protocol}//${host}${port}${path}`;
  } catch {
    return url.trim().toLowerCase().replace(/\/+$/, '');
  }
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
  const wanted = comparableAuthUrl(authUrl);
  return all.find(
    (fc) => typeof fc.spec?.authUrl === 'string' && comparableAuthUrl(fc.spec.authUrl) === wanted,
  );
}
