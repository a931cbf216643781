// Creates or refreshes the ForeignCluster of a discovered peer (LAN or WAN), after Liqo v0.2's
// createOrUpdate (facts §2.7) with its bugs fixed: a Manual ForeignCluster stays Manual, and
// `join` is only written when the agent itself set it last (ANNOTATION_AGENT_JOIN), so a user's
// own edit of `join` is never overwritten. Spec and metadata go in one merge patch guarded by
// resourceVersion; `status.ttl` goes through the status subresource.
//
// Identity pinning (SPEC §"Security"): the first answer pins cluster id, certificate and URL in
// status.pinnedIdentity. An answer that differs (another certificate for a known id, or another
// id at a pinned URL) changes nothing in spec — no authUrl move, no autojoin — and sets condition
// IdentityChanged with a Warning Event until a person runs `kubectl liqo join NAME --accept-identity`.
import {
  ANNOTATION_AGENT_JOIN,
  ANNOTATION_CERT_FINGERPRINT,
  ANNOTATION_LAST_SEEN,
  ANNOTATION_LAST_UPDATE,
  CONDITION_IDENTITY_CHANGED,
  DISCOVERY_API_VERSION,
  KIND_FOREIGN_CLUSTER,
  KIND_SEARCH_DOMAIN,
  LABEL_CLUSTER_ID,
  LABEL_DISCOVERY_TYPE,
  LABEL_SEARCH_DOMAIN,
} from '../shared/api/constants.js';
import type { ForeignCluster, PinnedIdentity } from '../shared/api/types.js';
import {
  activeIdentityChange,
  changeMessage,
  changeReason,
  judgeIdentity,
  observedFrom,
  sameAuthUrl,
  sameObservation,
  type PinDecision,
} from '../shared/discovery/identity-pin.js';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { IdentityResult } from '../shared/lookup/types.js';
import type { EventDetails } from './events.js';
import { withCondition } from './identity-fill-decision.js';
import { isConflict } from './kube-access.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';
import type { AgentMetrics } from './metrics.js';

/** Writes an Event about a ForeignCluster (agent/events.ts's recordEvent, bound to the agent's kube). */
export type ForeignClusterEventSink = (fc: ForeignCluster, event: EventDetails) => Promise<void>;

export interface ForeignClusterWriterOptions {
  events?: ForeignClusterEventSink;
  log?: Logger;
}

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

export type WriteAction = 'created' | 'updated' | 'refreshed' | 'self' | 'identityChanged';

export interface WriteResult {
  name: string;
  action: WriteAction;
}

export class ForeignClusterWriter {
  constructor(
    private readonly liqo: LiqoResources,
    private readonly ownClusterId: string,
    private readonly metrics?: AgentMetrics,
    private readonly options: ForeignClusterWriterOptions = {},
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
        const result = await this.write(peer);
        this.metrics?.foreignClusterWrites.inc({ type: peer.discoveryType, action: result.action });
        return result;
      } catch (err) {
        // lost a race with another writer (user, webhook, ourselves): read again and retry
        if (isConflict(err) && attempt < 4) continue;
        throw err;
      }
    }
  }

  private async write(peer: DiscoveredPeer): Promise<WriteResult> {
    const observed = observedFrom(peer.found);
    const existing = await this.findByClusterId(observed.clusterID);
    if (existing) {
      const decision = judgeIdentity(existing.status?.pinnedIdentity, observed);
      if (decision.action === 'changed') return this.identityChanged(existing, decision, peer);
      return this.update(existing, peer, decision);
    }
    // a new id at a URL pinned to another cluster: that cluster's identity changed
    const pinnedHere = await this.findPinnedAt(peer.found.authUrl, observed.clusterID);
    if (pinnedHere) {
      const decision = judgeIdentity(pinnedHere.status?.pinnedIdentity, observed);
      if (decision.action === 'changed') return this.identityChanged(pinnedHere, decision, peer);
    }
    return this.create(peer);
  }

  /** A ForeignCluster of another cluster id whose pinned identity was read from `authUrl`. */
  private async findPinnedAt(authUrl: string, clusterId: string): Promise<ForeignCluster | undefined> {
    const all = await this.liqo.foreignClusters.list();
    return all.find((fc) => {
      const pin = fc.status?.pinnedIdentity;
      return (
        pin &&
        pin.clusterID !== clusterId &&
        sameAuthUrl(pin.authUrl, authUrl) &&
        !fc.metadata.deletionTimestamp
      );
    });
  }

  /**
   * Keeps spec and pin as they are; records the sighting (so the pinned object outlives an
   * impostor's advertisements instead of expiring and being re-created for it), the condition
   * with old and new, and one Warning Event per new observation.
   */
  private async identityChanged(
    fc: ForeignCluster,
    decision: Extract<PinDecision, { action: 'changed' }>,
    peer: DiscoveredPeer,
  ): Promise<WriteResult> {
    const name = fc.metadata.name ?? decision.pinned.clusterID;
    const annotations = this.seenAnnotations(peer);
    delete annotations[ANNOTATION_CERT_FINGERPRINT]; // the pinned certificate stays the one shown
    await this.liqo.foreignClusters.patch(name, { metadata: { annotations } });
    const known = activeIdentityChange(fc) && sameObservation(fc.status?.changedIdentity, decision.observed);
    const status: Record<string, unknown> = {};
    if (fc.status?.ttl !== peer.ttlSeconds) status['ttl'] = peer.ttlSeconds;
    const message = changeMessage(name, decision.pinned, decision.observed);
    if (!known) {
      const generation = fc.metadata.generation;
      status['changedIdentity'] = { ...decision.observed, seenAt: new Date().toISOString() };
      status['conditions'] = withCondition(fc.status?.conditions, {
        type: CONDITION_IDENTITY_CHANGED,
        status: 'True',
        reason: changeReason(decision.what),
        message,
        ...(typeof generation === 'number' ? { observedGeneration: generation } : {}),
      });
    }
    if (Object.keys(status).length) await this.liqo.foreignClusters.patchStatus(name, { status });
    if (!known) {
      this.options.log?.warn(
        {
          foreignCluster: name,
          pinned: decision.pinned,
          observed: decision.observed,
          differs: decision.what,
        },
        'identity changed; pinned identity kept, not joined automatically',
      );
      await this.options
        .events?.(fc, { type: 'Warning', reason: CONDITION_IDENTITY_CHANGED, message })
        .catch((err: unknown) =>
          this.options.log?.warn({ foreignCluster: name, err: errorMessage(err) }, 'cannot write Event'),
        );
    }
    return { name, action: 'identityChanged' };
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
    const where = peer.searchDomain ? `SearchDomain ${peer.searchDomain.name}` : peer.discoveryType;
    await this.options
      .events?.(created, { type: 'Normal', reason: 'Discovered', message: `found by ${where} at ${authUrl}` })
      .catch((err: unknown) =>
        this.options.log?.warn({ foreignCluster: name, err: errorMessage(err) }, 'cannot write Event'),
      );
    const pin = judgeIdentity(undefined, observedFrom(peer.found));
    await this.liqo.foreignClusters.patchStatus(name, {
      status: { ttl: peer.ttlSeconds, ...(pin.action === 'pin' ? { pinnedIdentity: pin.pin } : {}) },
    });
    return { name, action: 'created' };
  }

  private async update(
    existing: ForeignCluster,
    peer: DiscoveredPeer,
    decision: Exclude<PinDecision, { action: 'changed' }>,
  ): Promise<WriteResult> {
    const name = existing.metadata.name ?? peer.found.identity.clusterId;
    const type = existing.spec.discoveryType ?? 'Manual';
    const annotations = this.seenAnnotations(peer);
    const sameOwner =
      peer.discoveryType !== 'WAN' ||
      !existing.metadata.labels?.[LABEL_SEARCH_DOMAIN] ||
      existing.metadata.labels[LABEL_SEARCH_DOMAIN] === peer.searchDomain?.name;
    const ours = (type === peer.discoveryType && sameOwner) || type === 'IncomingPeering';
    // a first pin comes only from the object's own authUrl (or one we are about to write)
    const pin =
      decision.action === 'pin' && (ours || sameAuthUrl(existing.spec.authUrl, peer.found.authUrl))
        ? decision.pin
        : undefined;
    if (!ours) {
      // Manual stays Manual; a LAN peer also seen by DNS (or the other way round) keeps the
      // type and owner it was found with first. Only the sighting is recorded.
      if (!pin && decision.action === 'keep' && decision.urlMoved) {
        delete annotations[ANNOTATION_CERT_FINGERPRINT]; // unchanged: same certificate
      }
      await this.liqo.foreignClusters.patch(name, { metadata: { annotations } });
      if (pin) await this.liqo.foreignClusters.patchStatus(name, { status: { pinnedIdentity: pin } });
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
    // no autojoin while a changed identity waits for a person (the agent's condition says so)
    if (userKept && (existing.spec.join ?? false) !== peer.join && !activeIdentityChange(existing)) {
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
    const status: Record<string, unknown> = {};
    if (existing.status?.ttl !== peer.ttlSeconds) status['ttl'] = peer.ttlSeconds;
    if (pin) status['pinnedIdentity'] = pin;
    else if (
      decision.action === 'keep' &&
      decision.urlMoved &&
      spec['authUrl'] &&
      existing.status?.pinnedIdentity
    ) {
      // the same certificate at a new address: the pin follows the URL we moved to
      const moved: PinnedIdentity = { ...existing.status.pinnedIdentity, authUrl };
      status['pinnedIdentity'] = moved;
    }
    if (Object.keys(status).length) await this.liqo.foreignClusters.patchStatus(name, { status });
    return { name, action: Object.keys(spec).length ? 'updated' : 'refreshed' };
  }
}
