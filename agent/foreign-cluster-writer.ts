// Creates or refreshes the ForeignCluster of a discovered peer (LAN or WAN), after Liqo v0.2's
// createOrUpdate (facts §2.7) with its bugs fixed: a Manual ForeignCluster stays Manual, and
// `join` is only written when the agent itself set it last (ANNOTATION_AGENT_JOIN), so a user's
// own edit of `join` is never overwritten. Spec and metadata go in one merge patch guarded by
// resourceVersion; `status.ttl` goes through the status subresource.
import {
  ANNOTATION_AGENT_JOIN,
  ANNOTATION_CERT_FINGERPRINT,
  ANNOTATION_LAST_SEEN,
  ANNOTATION_LAST_UPDATE,
  DISCOVERY_API_VERSION,
  KIND_FOREIGN_CLUSTER,
  KIND_SEARCH_DOMAIN,
  LABEL_CLUSTER_ID,
  LABEL_DISCOVERY_TYPE,
  LABEL_SEARCH_DOMAIN,
} from '../shared/api/constants.js';
import type { ForeignCluster } from '../shared/api/types.js';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { IdentityResult } from '../shared/lookup/types.js';
import { isConflict } from './kube-access.js';
import type { AgentMetrics } from './metrics.js';

export interface DiscoveredPeer {
  found: IdentityResult;
  discoveryType: 'LAN' | 'WAN';
  /** Seconds the sighting stays valid (the record's TTL); becomes status.ttl. */
  ttlSeconds: number;
  /** What autojoin says `join` should be for this peer. */
  join: boolean;
  /** The SearchDomain that found it (WAN). */
  searchDomain?: { name: string; uid: string };
}

export type WriteAction = 'created' | 'updated' | 'refreshed' | 'self';

export interface WriteResult {
  name: string;
  action: WriteAction;
}

export class ForeignClusterWriter {
  constructor(
    private readonly liqo: LiqoResources,
    private readonly ownClusterId: string,
    private readonly metrics?: AgentMetrics,
  ) {}

  /** The ForeignCluster for a cluster id: by label (Liqo's lookup), else by name. */
  async findByClusterId(clusterId: string): Promise<ForeignCluster | undefined> {
    const byLabel = await this.liqo.foreignClusters.list({
      labelSelector: `${LABEL_CLUSTER_ID}=${clusterId}`,
    });
    if (byLabel[0]) return byLabel[0];
    const byName = await this.liqo.foreignClusters.get(clusterId);
    return byName && (byName.spec.clusterIdentity?.clusterID ?? clusterId) === clusterId ? byName : undefined;
  }

  async upsert(peer: DiscoveredPeer): Promise<WriteResult> {
    const id = peer.found.identity.clusterId;
    if (id === this.ownClusterId) return { name: id, action: 'self' };
    for (let attempt = 0; ; attempt++) {
      try {
        const existing = await this.findByClusterId(id);
        const result = existing ? await this.update(existing, peer) : await this.create(peer);
        this.metrics?.foreignClusterWrites.inc({ type: peer.discoveryType, action: result.action });
        return result;
      } catch (err) {
        // lost a race with another writer (user, webhook, ourselves): read again and retry
        if (isConflict(err) && attempt < 4) continue;
        throw err;
      }
    }
  }

  private seenAnnotations(peer: DiscoveredPeer): Record<string, string> {
    return {
      [ANNOTATION_LAST_UPDATE]: String(Math.floor(Date.now() / 1000)),
      [ANNOTATION_LAST_SEEN]: new Date().toISOString(),
      [ANNOTATION_CERT_FINGERPRINT]: peer.found.certificateSha256,
    };
  }

  private async create(peer: DiscoveredPeer): Promise<WriteResult> {
    const { identity, authUrl, trustMode } = peer.found;
    const labels: Record<string, string> = {
      [LABEL_CLUSTER_ID]: identity.clusterId,
      [LABEL_DISCOVERY_TYPE]: peer.discoveryType,
    };
    const fc: ForeignCluster = {
      apiVersion: DISCOVERY_API_VERSION,
      kind: KIND_FOREIGN_CLUSTER,
      metadata: {
        name: identity.clusterId,
        labels,
        annotations: { ...this.seenAnnotations(peer), [ANNOTATION_AGENT_JOIN]: String(peer.join) },
      },
      spec: {
        authUrl,
        join: peer.join,
        clusterIdentity: {
          clusterID: identity.clusterId,
          ...(identity.clusterName ? { clusterName: identity.clusterName } : {}),
        },
        ...(identity.guestNamespace ? { namespace: identity.guestNamespace } : {}),
        discoveryType: peer.discoveryType,
        trustMode,
      },
    };
    if (peer.searchDomain) {
      labels[LABEL_SEARCH_DOMAIN] = peer.searchDomain.name;
      fc.metadata.ownerReferences = [
        {
          apiVersion: DISCOVERY_API_VERSION,
          kind: KIND_SEARCH_DOMAIN,
          name: peer.searchDomain.name,
          uid: peer.searchDomain.uid,
        },
      ];
    }
    const created = await this.liqo.foreignClusters.create(fc);
    const name = created.metadata.name ?? identity.clusterId;
    await this.liqo.foreignClusters.patchStatus(name, { status: { ttl: peer.ttlSeconds } });
    return { name, action: 'created' };
  }

  private async update(existing: ForeignCluster, peer: DiscoveredPeer): Promise<WriteResult> {
    const name = existing.metadata.name ?? peer.found.identity.clusterId;
    const type = existing.spec.discoveryType ?? 'Manual';
    const annotations = this.seenAnnotations(peer);
    const sameOwner =
      peer.discoveryType !== 'WAN' ||
      !existing.metadata.labels?.[LABEL_SEARCH_DOMAIN] ||
      existing.metadata.labels[LABEL_SEARCH_DOMAIN] === peer.searchDomain?.name;
    const ours = (type === peer.discoveryType && sameOwner) || type === 'IncomingPeering';
    if (!ours) {
      // Manual stays Manual; a LAN peer also seen by DNS (or the other way round) keeps the
      // type and owner it was found with first. Only the sighting is recorded.
      await this.liqo.foreignClusters.patch(name, { metadata: { annotations } });
      return { name, action: 'refreshed' };
    }

    const { identity, authUrl, trustMode } = peer.found;
    const spec: Record<string, unknown> = {};
    if (existing.spec.authUrl !== authUrl) spec['authUrl'] = authUrl;
    if (identity.guestNamespace && existing.spec.namespace !== identity.guestNamespace) {
      spec['namespace'] = identity.guestNamespace;
    }
    if (identity.clusterName && existing.spec.clusterIdentity?.clusterName !== identity.clusterName) {
      spec['clusterIdentity'] = { clusterID: identity.clusterId, clusterName: identity.clusterName };
    }
    if (existing.spec.trustMode !== trustMode) spec['trustMode'] = trustMode;
    if (type !== peer.discoveryType) spec['discoveryType'] = peer.discoveryType;
    const lastWritten = existing.metadata.annotations?.[ANNOTATION_AGENT_JOIN];
    const userKept = lastWritten !== undefined && lastWritten === String(existing.spec.join ?? false);
    if (userKept && (existing.spec.join ?? false) !== peer.join) {
      spec['join'] = peer.join;
      annotations[ANNOTATION_AGENT_JOIN] = String(peer.join);
    }
    const labels: Record<string, string> = {};
    if (existing.metadata.labels?.[LABEL_DISCOVERY_TYPE] !== peer.discoveryType) {
      labels[LABEL_DISCOVERY_TYPE] = peer.discoveryType;
    }
    if (existing.metadata.labels?.[LABEL_CLUSTER_ID] !== identity.clusterId) {
      labels[LABEL_CLUSTER_ID] = identity.clusterId;
    }
    const metadata: Record<string, unknown> = {
      annotations,
      // guards the join decision above against a concurrent edit
      resourceVersion: existing.metadata.resourceVersion,
    };
    if (Object.keys(labels).length) metadata['labels'] = labels;
    const patch: Record<string, unknown> = { metadata };
    if (Object.keys(spec).length) patch['spec'] = spec;
    await this.liqo.foreignClusters.patch(name, patch);
    if (existing.status?.ttl !== peer.ttlSeconds) {
      await this.liqo.foreignClusters.patchStatus(name, { status: { ttl: peer.ttlSeconds } });
    }
    return { name, action: Object.keys(spec).length ? 'updated' : 'refreshed' };
  }
}
