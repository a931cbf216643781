// "When you create the ForeignCluster, the Liqo control plane will contact the authURL to
// retrieve all the required cluster information" (the guide). A ForeignCluster with an
// authUrl but no clusterIdentity.clusterID gets its identity, namespace and trust from /ids.
// Failures are retried with exponential back-off, and the reason is kept in a condition.
import {
  ANNOTATION_CERT_FINGERPRINT,
  CONDITION_IDENTITY_RESOLVED,
  DISCOVERY_API_VERSION,
  LABEL_CLUSTER_ID,
  PLURAL_FOREIGN_CLUSTERS,
} from '../shared/api/constants.js';
import type { Condition, ForeignCluster } from '../shared/api/types.js';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { IdentityFetcher } from './identity-fetcher.js';
import { watchResource, type AgentKube, type WatchHandle } from './kube-access.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';
import type { AgentMetrics } from './metrics.js';

export interface IdentityFillerOptions {
  ownClusterId: string;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  log: Logger;
  metrics?: AgentMetrics;
}

interface PendingFill {
  attempts: number;
  timer?: NodeJS.Timeout;
  running?: boolean;
}

export function needsIdentity(fc: ForeignCluster): boolean {
  return Boolean(fc.spec?.authUrl) && !fc.spec.clusterIdentity?.clusterID && !fc.metadata.deletionTimestamp;
}

/** The conditions with ours replaced (merge patch replaces the whole list). */
export function withCondition(existing: Condition[] | undefined, next: Condition): Condition[] {
  const others = (existing ?? []).filter((c) => c.type !== next.type);
  const prev = existing?.find((c) => c.type === next.type);
  const keepTime = prev && prev.status === next.status && prev.lastTransitionTime;
  return [...others, { ...next, lastTransitionTime: keepTime || new Date().toISOString() }];
}

export class IdentityFiller {
  private readonly pending = new Map<string, PendingFill>();
  private watch: WatchHandle | undefined;
  private stopped = false;

  constructor(
    private readonly kube: AgentKube,
    private readonly fetcher: IdentityFetcher,
    private readonly opts: IdentityFillerOptions,
  ) {}

  private get liqo(): LiqoResources {
    return this.kube.liqo;
  }

  start(): void {
    this.watch = watchResource<ForeignCluster>(
      this.kube,
      `/apis/${DISCOVERY_API_VERSION}/${PLURAL_FOREIGN_CLUSTERS}`,
      (type, fc) => {
        const name = fc.metadata?.name;
        if (!name) return;
        if (type === 'DELETED' || !needsIdentity(fc)) this.forget(name);
        else if (!this.pending.has(name)) this.schedule(name, 0);
      },
      { log: this.opts.log },
    );
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    for (const name of [...this.pending.keys()]) this.forget(name);
  }

  private forget(name: string): void {
    const p = this.pending.get(name);
    if (p?.timer) clearTimeout(p.timer);
    if (!p?.running) this.pending.delete(name);
  }

  private schedule(name: string, delayMs: number): void {
    const p = this.pending.get(name) ?? { attempts: 0 };
    this.pending.set(name, p);
    if (p.timer) clearTimeout(p.timer);
    p.timer = setTimeout(() => void this.fillOne(name), delayMs);
  }

  private backoffMs(attempts: number): number {
    const base = this.opts.initialBackoffMs ?? 5000;
    return Math.min(this.opts.maxBackoffMs ?? 300_000, base * 2 ** Math.max(0, attempts - 1));
  }

  /** Fills one ForeignCluster now; exported for tests through the class. */
  async fillOne(name: string): Promise<'filled' | 'failed' | 'nothing'> {
    const p = this.pending.get(name) ?? { attempts: 0 };
    this.pending.set(name, p);
    p.timer = undefined;
    p.running = true;
    try {
      const fc = await this.liqo.foreignClusters.get(name);
      if (!fc || !needsIdentity(fc)) {
        this.pending.delete(name);
        return 'nothing';
      }
      const outcome = await this.tryFill(fc);
      if (outcome === 'filled') this.pending.delete(name);
      else if (!this.stopped) {
        p.attempts++;
        const delay = this.backoffMs(p.attempts);
        this.opts.log.info({ foreignCluster: name, retryInMs: delay }, 'identity not filled; will retry');
        this.schedule(name, delay);
      }
      return outcome;
    } catch (err) {
      this.opts.log.warn({ foreignCluster: name, err: errorMessage(err) }, 'identity fill failed');
      if (!this.stopped) this.schedule(name, this.backoffMs(++p.attempts));
      return 'failed';
    } finally {
      p.running = false;
    }
  }

  private async tryFill(fc: ForeignCluster): Promise<'filled' | 'failed'> {
    const name = fc.metadata.name ?? '';
    const authUrl = fc.spec.authUrl;
    let failure: { reason: string; message: string } | undefined;
    try {
      const found = await this.fetcher.fetch(authUrl);
      const { identity } = found;
      if (identity.clusterId === this.opts.ownClusterId) {
        failure = {
          reason: 'LocalCluster',
          message: `${authUrl} is this cluster itself (cluster id ${identity.clusterId}); point authUrl at another cluster`,
        };
      } else {
        try {
          await this.liqo.foreignClusters.patch(name, {
            metadata: {
              resourceVersion: fc.metadata.resourceVersion,
              labels: { [LABEL_CLUSTER_ID]: identity.clusterId },
              annotations: { [ANNOTATION_CERT_FINGERPRINT]: found.certificateSha256 },
            },
            spec: {
              clusterIdentity: {
                clusterID: identity.clusterId,
                ...(identity.clusterName ? { clusterName: identity.clusterName } : {}),
              },
              ...(identity.guestNamespace ? { namespace: identity.guestNamespace } : {}),
              trustMode: found.trustMode,
            },
          });
        } catch (err) {
          failure = { reason: 'UpdateRefused', message: `cannot store the identity: ${errorMessage(err)}` };
        }
        if (!failure) {
          await this.setCondition(name, {
            type: CONDITION_IDENTITY_RESOLVED,
            status: 'True',
            reason: found.trustMode,
            message: `identity of cluster ${identity.clusterId} read from ${authUrl}/ids`,
          });
          this.opts.metrics?.foreignClusterWrites.inc({
            type: fc.spec.discoveryType ?? 'Manual',
            action: 'fill',
          });
          this.opts.log.info(
            { foreignCluster: name, clusterId: identity.clusterId },
            'filled identity from /ids',
          );
          return 'filled';
        }
      }
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      failure = { reason: typeof code === 'string' ? code : 'FetchFailed', message: errorMessage(err) };
    }
    await this.setCondition(name, { type: CONDITION_IDENTITY_RESOLVED, status: 'False', ...failure }).catch(
      (err: unknown) =>
        this.opts.log.warn({ foreignCluster: name, err: errorMessage(err) }, 'cannot write status'),
    );
    return 'failed';
  }

  private async setCondition(name: string, condition: Condition): Promise<void> {
    const fresh = await this.liqo.foreignClusters.get(name);
    if (!fresh) return;
    await this.liqo.foreignClusters.patchStatus(name, {
      status: { conditions: withCondition(fresh.status?.conditions, condition) },
    });
  }
}
