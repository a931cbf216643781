// Deletes discovered ForeignClusters that are no longer seen: LAN and WAN ones whose
// `LastUpdate + status.ttl` has passed (Liqo v0.2's rule, facts §2.8), and WAN ones whose
// SearchDomain is gone. Kubernetes would do the latter from the ownerReference, but only where
// kube-controller-manager's garbage collector runs, so the agent does not rely on it.
// Manual and IncomingPeering ForeignClusters are never touched.
import {
  ANNOTATION_LAST_UPDATE,
  KIND_SEARCH_DOMAIN,
  LABEL_DISCOVERY_TYPE,
  LABEL_SEARCH_DOMAIN,
} from '../shared/api/constants.js';
import type { ForeignCluster, SearchDomain } from '../shared/api/types.js';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { ForeignClusterEventSink } from './foreign-cluster-writer.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';
import type { AgentMetrics } from './metrics.js';

/** Liqo's IsExpired: no LastUpdate ⇒ kept; not a number ⇒ expired; else strict comparison. */
export function isExpired(fc: ForeignCluster, nowSeconds: number): boolean {
  const last = fc.metadata.annotations?.[ANNOTATION_LAST_UPDATE];
  if (last === undefined) return false;
  if (!/^\d+$/.test(last.trim())) return true;
  const ttl = fc.status?.ttl;
  if (typeof ttl !== 'number') return false; // status not written yet: not judged
  return Number(last) + ttl < nowSeconds;
}

/** The SearchDomain a WAN ForeignCluster belongs to, from its ownerReference or its label. */
export function owningSearchDomain(fc: ForeignCluster): { name: string; uid?: string } | undefined {
  const ref = fc.metadata.ownerReferences?.find((r) => r.kind === KIND_SEARCH_DOMAIN);
  if (ref) return { name: ref.name, uid: ref.uid };
  const label = fc.metadata.labels?.[LABEL_SEARCH_DOMAIN];
  return label ? { name: label } : undefined;
}

export class GarbageCollector {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly liqo: LiqoResources,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly metrics?: AgentMetrics,
    private readonly events?: ForeignClusterEventSink,
  ) {}

  start(): void {
    const loop = () => {
      this.running = this.collect()
        .then(() => undefined)
        .catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'garbage collection pass failed'))
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(loop, this.intervalMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; returns the names deleted. */
  async collect(now: number = Date.now()): Promise<string[]> {
    const nowSeconds = Math.floor(now / 1000);
    const candidates = await this.liqo.foreignClusters.list({
      labelSelector: `${LABEL_DISCOVERY_TYPE} in (LAN,WAN)`,
    });
    let domains: Map<string, SearchDomain> | undefined;
    const deleted: string[] = [];
    for (const fc of candidates) {
      const name = fc.metadata.name;
      const type = fc.spec.discoveryType;
      if (!name || (type !== 'LAN' && type !== 'WAN')) continue; // label and spec disagree: keep
      let reason: string | undefined;
      if (isExpired(fc, nowSeconds)) reason = 'expired';
      else if (type === 'WAN') {
        const owner = owningSearchDomain(fc);
        if (owner) {
          domains ??= new Map(
            (await this.liqo.searchDomains.list()).map((sd) => [sd.metadata.name ?? '', sd]),
          );
          const sd = domains.get(owner.name);
          if (!sd || (owner.uid && sd.metadata.uid !== owner.uid)) reason = 'searchdomain-deleted';
        }
      }
      if (reason === 'expired') {
        // the list may be seconds old: a sighting written since then keeps it
        const fresh = await this.liqo.foreignClusters.get(name);
        if (!fresh || !isExpired(fresh, nowSeconds)) continue;
      }
      if (reason && (await this.deleteOne(fc, reason))) deleted.push(name);
    }
    return deleted;
  }

  /** Deletes the WAN ForeignClusters of a SearchDomain that was just deleted. */
  async collectSearchDomain(sdName: string, sdUid?: string): Promise<string[]> {
    const owned = await this.liqo.foreignClusters.list({ labelSelector: `${LABEL_SEARCH_DOMAIN}=${sdName}` });
    const deleted: string[] = [];
    for (const fc of owned) {
      const owner = owningSearchDomain(fc);
      if (fc.spec.discoveryType !== 'WAN' || !fc.metadata.name || owner?.name !== sdName) continue;
      if (sdUid && owner.uid && owner.uid !== sdUid) continue; // belongs to a re-created one
      if (await this.deleteOne(fc, 'searchdomain-deleted')) deleted.push(fc.metadata.name);
    }
    return deleted;
  }

  private async deleteOne(fc: ForeignCluster, reason: string): Promise<boolean> {
    const name = fc.metadata.name ?? '';
    try {
      const gone = await this.liqo.foreignClusters.delete(name);
      if (gone) {
        this.metrics?.foreignClustersCollected.inc({ reason });
        this.log.info({ foreignCluster: name, reason }, 'deleted a ForeignCluster no longer discovered');
        const message =
          reason === 'expired'
            ? `not seen for its TTL (${fc.status?.ttl ?? '?'} s) since ${fc.metadata.annotations?.[ANNOTATION_LAST_UPDATE] ? new Date(Number(fc.metadata.annotations[ANNOTATION_LAST_UPDATE]) * 1000).toISOString() : 'its creation'}; deleted`
            : `its SearchDomain ${owningSearchDomain(fc)?.name ?? ''} is gone; deleted`;
        await this.events?.(fc, { type: 'Normal', reason: 'Deleted', message }).catch((err: unknown) =>
          this.log.warn({ foreignCluster: name, err: errorMessage(err) }, 'cannot write Event'),
        );
      }
      return gone;
    } catch (err) {
      this.log.warn({ foreignCluster: name, err: errorMessage(err) }, 'cannot delete stale ForeignCluster');
      return false;
    }
  }
}
