// Resolves every SearchDomain periodically (and at once when one is created or edited), turns
// each cluster found into a WAN ForeignCluster owned by the SearchDomain, and writes what it
// found — and each entry's error — into the SearchDomain's status (Liqo v0.2 left it empty).
import { DISCOVERY_API_VERSION, MIN_DISCOVERY_TTL, PLURAL_SEARCH_DOMAINS } from '../shared/api/constants.js';
import type { SearchDomain, SearchDomainFoundCluster, SearchDomainStatus } from '../shared/api/types.js';
import { MAX_SEARCH_DOMAIN_STATUS_CLUSTERS, MAX_SEARCH_DOMAIN_STATUS_ERROR } from '../shared/api/schemas.js';
import { resolveSearchDomain } from '../shared/lookup/dns.js';
import type { DnsDiscoveredEndpoint, IdentityResult } from '../shared/lookup/types.js';
import type { ForeignClusterWriter } from './foreign-cluster-writer.js';
import type { GarbageCollector } from './garbage-collector.js';
import type { IdentityFetcher } from './identity-fetcher.js';
import { recordEvent } from './events.js';
import type { AgentKube } from './kube-access.js';
import { watchCollection, type WatchHandle } from '../shared/kube/watch.js';
import { KeyedPasses } from './keyed-passes.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';
import type { AgentMetrics } from './metrics.js';

export interface SearchDomainDiscoveryOptions {
  ownClusterId: string;
  intervalMs: number;
  /** DNS servers ("host:port"); default the system's. */
  dnsServers?: string[];
  dnsTimeoutMs?: number;
  log: Logger;
  metrics?: AgentMetrics;
}

/** What the controller remembers of a SearchDomain it follows. */
interface Tracked {
  uid: string;
  generation: number | undefined;
}

/**
 * status.ttl of a WAN ForeignCluster. Liqo used the SRV TTL as is, so a short TTL made the
 * object flap against its 30 s re-resolution (facts §9.4); we keep it for at least three
 * resolution periods so one failed pass does not delete it.
 */
export function wanTtlSeconds(recordTtl: number, intervalMs: number): number {
  return Math.max(recordTtl, MIN_DISCOVERY_TTL, Math.ceil((3 * intervalMs) / 1000));
}

export class SearchDomainDiscovery {
  private readonly passes = new KeyedPasses<Tracked>((name) => this.pass(name));
  private watch: WatchHandle | undefined;
  private stopped = false;

  constructor(
    private readonly kube: AgentKube,
    private readonly writer: ForeignClusterWriter,
    private readonly fetcher: IdentityFetcher,
    private readonly gc: GarbageCollector,
    private readonly opts: SearchDomainDiscoveryOptions,
  ) {}

  start(): void {
    this.watch = watchCollection<SearchDomain>(
      this.kube.kubeConfig,
      `/apis/${DISCOVERY_API_VERSION}/${PLURAL_SEARCH_DOMAINS}`,
      (type, sd) => {
        const name = sd.metadata?.name;
        if (!name) return;
        if (type === 'DELETED') return void this.removed(name, sd.metadata.uid);
        const known = this.passes.get(name);
        if (known && known.uid === sd.metadata.uid && known.generation === sd.metadata['generation']) return;
        this.passes.set(name, {
          uid: sd.metadata.uid ?? '',
          generation: sd.metadata['generation'] as number | undefined,
        });
      },
      { log: this.opts.log, listTimeoutMs: this.kube.requestTimeoutMs },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    await this.passes.stop();
  }

  private removed(name: string, uid: string | undefined): void {
    // A pass under way writes nothing more once it sees the SearchDomain is no longer tracked
    // (isCurrent); its writes already sent must land before the collection, or one would outlive it.
    if (this.passes.isRunning(name)) {
      this.opts.log.info(
        { searchDomain: name },
        'SearchDomain deleted while a pass was under way; the pass writes nothing more',
      );
    }
    this.passes
      .delete(name)
      .then(() => this.gc.collectSearchDomain(name, uid))
      .then(
        (deleted) =>
          deleted.length &&
          this.opts.log.info(
            { searchDomain: name, deleted },
            'SearchDomain deleted; removed its ForeignClusters',
          ),
        (err: unknown) =>
          this.opts.log.warn(
            { searchDomain: name, err: errorMessage(err) },
            'cannot remove the ForeignClusters of a deleted SearchDomain',
          ),
      );
  }

  /** One pass over the SearchDomain `name`, read afresh; the next comes one interval later. */
  private async pass(name: string): Promise<number> {
    try {
      const sd = await this.kube.liqo.searchDomains.get(name);
      if (sd) await this.resolve(sd);
    } catch (err) {
      this.opts.log.warn({ searchDomain: name, err: errorMessage(err) }, 'SearchDomain pass failed');
    }
    return this.opts.intervalMs;
  }

  /** True while `sd` (this uid) is the SearchDomain being followed: not deleted, not replaced. */
  private isCurrent(sd: SearchDomain): boolean {
    const t = this.passes.get(sd.metadata.name ?? '');
    return !this.stopped && t !== undefined && t.uid === (sd.metadata.uid ?? '');
  }

  /** One resolution of one SearchDomain; returns the status written. */
  private async resolve(sd: SearchDomain): Promise<SearchDomain['status']> {
    const name = sd.metadata.name ?? sd.spec.domain;
    const domain = sd.spec.domain;
    const startedAt = new Date().toISOString();
    let status: NonNullable<SearchDomain['status']>;
    try {
      const result = await resolveSearchDomain(domain, {
        ...(this.opts.dnsServers?.length ? { servers: this.opts.dnsServers } : {}),
        ...(this.opts.dnsTimeoutMs ? { queryTimeoutMs: this.opts.dnsTimeoutMs } : {}),
      });
      const entries: SearchDomainFoundCluster[] = result.errors.map((e) => ({
        authUrl: '',
        error: `${e.instance ?? e.domain}: ${e.message}`,
      }));
      const found = await Promise.all(result.endpoints.map((ep) => this.handleEndpoint(sd, ep)));
      entries.push(...found);
      status = { lastResolved: startedAt, ...boundedEntries(entries) };
      this.opts.metrics?.searchDomainResolutions.inc({ outcome: result.errors.length ? 'partial' : 'ok' });
    } catch (err) {
      status = {
        lastResolved: startedAt,
        clusters: [],
        error: `cannot resolve ${domain}: ${errorMessage(err)}`,
      };
      this.opts.metrics?.searchDomainResolutions.inc({ outcome: 'error' });
    }
    if (!this.isCurrent(sd)) {
      this.opts.log.debug({ searchDomain: name }, 'SearchDomain gone during its pass; status not written');
      return status;
    }
    try {
      // a merge patch: fields this pass has not set are removed explicitly (null), so an old
      // error or count does not outlive the pass that set it
      await this.kube.liqo.searchDomains.patchStatus(name, {
        status: { error: null, clustersOmitted: null, ...status },
      });
      await this.reportTransition(sd, status);
    } catch (err) {
      this.opts.log.warn({ searchDomain: name, err: errorMessage(err) }, 'cannot write SearchDomain status');
    }
    this.opts.log.debug({ searchDomain: name, status }, 'SearchDomain resolved');
    return status;
  }

  /** An Event when resolution starts failing or works again (judged against the stored status). */
  private async reportTransition(sd: SearchDomain, next: NonNullable<SearchDomain['status']>): Promise<void> {
    const before = sd.status?.lastResolved ? resolutionFailure(sd.status) : undefined;
    const now = resolutionFailure(next);
    const wasFailing = before !== undefined;
    if (now !== undefined && !wasFailing) {
      await this.event(sd, { type: 'Warning', reason: 'ResolutionFailed', message: now });
    } else if (now === undefined && wasFailing) {
      const found = next.clusters?.filter((c) => c.clusterId && !c.error).length ?? 0;
      await this.event(sd, {
        type: 'Normal',
        reason: 'ResolutionRecovered',
        message: `${sd.spec.domain} resolves again: ${found} cluster${found === 1 ? '' : 's'} found`,
      });
    }
  }

  private event(sd: SearchDomain, event: Parameters<typeof recordEvent>[2]): Promise<void> {
    return recordEvent(this.kube, sd, event).catch((err: unknown) =>
      this.opts.log.warn({ searchDomain: sd.metadata.name, err: errorMessage(err) }, 'cannot write Event'),
    );
  }

  private async handleEndpoint(
    sd: SearchDomain,
    ep: DnsDiscoveredEndpoint,
  ): Promise<SearchDomainFoundCluster> {
    // with our own DNS server, connect to the addresses it gave (the system resolver may not know them)
    const ownDns = Boolean(this.opts.dnsServers?.length);
    const candidates = [ep, ...ep.fallbacks];
    let found: IdentityResult | undefined;
    const errors: string[] = [];
    for (const c of candidates) {
      try {
        found = await this.fetcher.fetch(c.authUrl, ownDns && c.addresses.length ? c.addresses : undefined);
        break;
      } catch (err) {
        errors.push(errorMessage(err));
      }
    }
    if (!found) return { authUrl: ep.authUrl, error: `${ep.instance}: ${errors.join('; ')}` };
    const entry: SearchDomainFoundCluster = {
      clusterId: found.identity.clusterId,
      ...(found.identity.clusterName ? { clusterName: found.identity.clusterName } : {}),
      authUrl: found.authUrl,
    };
    if (found.identity.clusterId === this.opts.ownClusterId) {
      return { ...entry, error: 'this is the local cluster; not added' };
    }
    if (!this.isCurrent(sd)) return { ...entry, error: 'the SearchDomain was deleted; not added' };
    try {
      const written = await this.writer.upsert({
        found,
        discoveryType: 'WAN',
        ttlSeconds: wanTtlSeconds(ep.ttl, this.opts.intervalMs),
        join: sd.spec.autojoin ?? false,
        searchDomain: { name: sd.metadata.name ?? '', uid: sd.metadata.uid ?? '' },
      });
      return { ...entry, foreignCluster: written.name };
    } catch (err) {
      return { ...entry, error: `cannot write the ForeignCluster: ${errorMessage(err)}` };
    }
  }
}

/**
 * Why a resolution failed as a whole, or undefined: the domain could not be resolved, or it
 * gave errors and no cluster at all (a partial answer with some clusters counts as working).
 */
export function resolutionFailure(status: NonNullable<SearchDomain['status']>): string | undefined {
  if (status.error) return status.error;
  const entries = status.clusters ?? [];
  if (entries.some((c) => c.clusterId && !c.error)) return undefined;
  const errors = entries.filter((c) => c.error).map((c) => c.error);
  return errors.length ? errors.join('; ') : undefined;
}

/**
 * The entries as status lists them: those that worked first (then errors), in a stable order,
 * at most MAX_SEARCH_DOMAIN_STATUS_CLUSTERS, each error cut short; the rest only counted.
 */
export function boundedEntries(
  entries: SearchDomainFoundCluster[],
  max = MAX_SEARCH_DOMAIN_STATUS_CLUSTERS,
): Pick<SearchDomainStatus, 'clusters' | 'clustersOmitted'> {
  const worked = (e: SearchDomainFoundCluster) => (e.clusterId && !e.error ? 0 : 1);
  const sorted = [...entries].sort(
    (a, b) =>
      worked(a) - worked(b) ||
      (a.clusterId ?? '').localeCompare(b.clusterId ?? '') ||
      a.authUrl.localeCompare(b.authUrl) ||
      (a.error ?? '').localeCompare(b.error ?? ''),
  );
  const clusters = sorted
    .slice(0, max)
    .map((e) =>
      e.error && e.error.length > MAX_SEARCH_DOMAIN_STATUS_ERROR
        ? { ...e, error: `${e.error.slice(0, MAX_SEARCH_DOMAIN_STATUS_ERROR - 3)}...` }
        : e,
    );
  const omitted = sorted.length - clusters.length;
  return omitted > 0 ? { clusters, clustersOmitted: omitted } : { clusters };
}
