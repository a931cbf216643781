// LAN discovery by mDNS, run on the leader: advertise this cluster while enableAdvertisement
// is true, browse while enableDiscovery is true, and follow ClusterConfig edits live
// (stopping the advertiser sends goodbye packets). Every peer seen is checked against its
// /ids and becomes or refreshes a LAN ForeignCluster; this cluster itself is never added.
import { MDNS_SERVICE_RFC } from '../shared/api/constants.js';
import type { TrustDropReason } from '../shared/lookup/mdns.js';
import type { AdvertiseOptions, BrowseOptions, MdnsPeer } from '../shared/lookup/types.js';
import type { EffectiveDiscoveryConfig } from './cluster-config-watch.js';
import type { ForeignClusterWriter } from './foreign-cluster-writer.js';
import type { IdentityFetcher } from './identity-fetcher.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';
import type { AgentMetrics } from './metrics.js';

/** Called for each packet or advertised address refused at the LAN trust boundary (counted). */
export interface TrustBoundaryHook {
  onIgnored?: (reason: TrustDropReason) => void;
}

/** What the agent needs from the mDNS module (shared/lookup/mdns.ts behind mdns-driver.ts). */
export interface MdnsDriver {
  advertise(opts: AdvertiseOptions & TrustBoundaryHook): Promise<{ stop(): Promise<void> }>;
  /** Continuous browse: calls onPeer for every answer or announcement, re-querying itself. */
  browse(
    opts: BrowseOptions & TrustBoundaryHook,
    onPeer: (peer: MdnsPeer) => void,
  ): Promise<{ stop(): Promise<void> }>;
}

export interface LanDiscoveryOptions {
  ownClusterId: string;
  /** Port peers should use for /ids (the NodePort, or the ids port itself). */
  authPort: number;
  /**
   * Interfaces (names or addresses) to advertise and browse on; default those carrying the
   * default route(s), never container bridges or veths (shared/lookup/mdns/interfaces.ts).
   */
  interfaces?: string[];
  /** mDNS host name (node hostname under .local); default derived from the cluster id. */
  hostname?: string;
  /** Name advertised (TXT name=) when the ClusterConfig sets none: the one /ids serves. */
  defaultClusterName?: string;
  log: Logger;
  metrics?: AgentMetrics;
}

/** The service types to advertise and browse: the configured one (Liqo's) and the RFC one. */
export function serviceTypes(config: EffectiveDiscoveryConfig): string[] {
  return [...new Set([config.authService.replace(/\.$/, ''), MDNS_SERVICE_RFC])];
}

export function joinFor(config: EffectiveDiscoveryConfig, trust: 'Trusted' | 'Untrusted'): boolean {
  return trust === 'Trusted' ? config.autojoin : config.autojoinUntrusted;
}

export class LanDiscovery {
  private advertiser: { stop(): Promise<void> } | undefined;
  private browser: { stop(): Promise<void> } | undefined;
  private advertisedWith: string | undefined;
  private browsedWith: string | undefined;
  private config: EffectiveDiscoveryConfig | undefined;
  /** Last successful write per peer instance, to avoid a write per mDNS packet. */
  private readonly lastWritten = new Map<string, { at: number; authUrl: string }>();
  private readonly inProgress = new Set<string>();
  /** Peers whose /ids failed: not tried again before `until` (back-off doubling to 5 min). */
  private readonly failing = new Map<string, { until: number; delayMs: number }>();
  private queue: Promise<void> = Promise.resolve();
  private lastPruned = 0;
  private stopped = false;

  constructor(
    private readonly driver: MdnsDriver,
    private readonly writer: ForeignClusterWriter,
    private readonly fetcher: IdentityFetcher,
    private readonly opts: LanDiscoveryOptions,
  ) {}

  /** Applies a configuration; serialised so quick successive edits end in the last state. */
  apply(config: EffectiveDiscoveryConfig): Promise<void> {
    this.config = config;
    this.queue = this.queue
      .then(() => this.reconcile())
      .catch((err: unknown) => {
        this.opts.log.error({ err: errorMessage(err) }, 'cannot apply LAN discovery configuration');
      });
    return this.queue;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue;
    await Promise.allSettled([this.stopAdvertising(), this.stopBrowsing()]);
  }

  private async reconcile(): Promise<void> {
    const config = this.config;
    if (!config) return;
    const types = serviceTypes(config);
    const clusterName = config.clusterName ?? this.opts.defaultClusterName;
    const advertKey =
      this.stopped || !config.enableAdvertisement
        ? undefined
        : JSON.stringify([types, clusterName, config.ttl]);
    if (advertKey !== this.advertisedWith) {
      await this.stopAdvertising();
      if (advertKey) {
        this.advertiser = await this.driver.advertise({
          clusterId: this.opts.ownClusterId,
          ...(clusterName ? { clusterName } : {}),
          port: this.opts.authPort,
          ...(this.opts.hostname ? { hostname: this.opts.hostname } : {}),
          ...(this.opts.interfaces?.length ? { interfaces: this.opts.interfaces } : {}),
          ttl: config.ttl,
          serviceTypes: types,
          onIgnored: this.countIgnored,
        });
        this.advertisedWith = advertKey;
        this.opts.metrics?.advertising.set(1);
        this.opts.log.info(
          { serviceTypes: types, port: this.opts.authPort, ttl: config.ttl },
          'advertising this cluster by mDNS',
        );
      }
    }
    const browseKey = this.stopped || !config.enableDiscovery ? undefined : JSON.stringify(types);
    if (browseKey !== this.browsedWith) {
      await this.stopBrowsing();
      if (browseKey) {
        this.browser = await this.driver.browse(
          {
            serviceTypes: types,
            skipClusterId: this.opts.ownClusterId,
            ...(this.opts.interfaces?.length ? { interfaces: this.opts.interfaces } : {}),
            onIgnored: this.countIgnored,
          },
          (peer) => this.onPeer(peer),
        );
        this.browsedWith = browseKey;
        this.opts.metrics?.browsing.set(1);
        this.opts.log.info({ serviceTypes: types }, 'browsing the LAN by mDNS');
      }
    }
  }

  /** Refusals at the LAN trust boundary go to /metrics, never one log line each. */
  private readonly countIgnored = (reason: TrustDropReason): void => {
    this.opts.metrics?.mdnsIgnored.inc({ reason });
  };

  private async stopAdvertising(): Promise<void> {
    const adv = this.advertiser;
    this.advertiser = undefined;
    this.advertisedWith = undefined;
    if (!adv) return;
    await adv.stop(); // sends the goodbye (TTL 0) packets
    this.opts.metrics?.advertising.set(0);
    this.opts.log.info('stopped advertising (goodbye sent)');
  }

  private async stopBrowsing(): Promise<void> {
    const b = this.browser;
    this.browser = undefined;
    this.browsedWith = undefined;
    if (!b) return;
    await b.stop();
    this.opts.metrics?.browsing.set(0);
    this.opts.log.info('stopped browsing the LAN');
  }

  /** How long a write stays fresh: a third of the peer's TTL, so it is refreshed well in time. */
  private refreshMs(peer: MdnsPeer): number {
    return Math.max(5, Math.floor(peer.ttl / 3)) * 1000;
  }

  onPeer(peer: MdnsPeer): void {
    this.opts.metrics?.lanPeersSeen.inc();
    const config = this.config;
    if (!config?.enableDiscovery || !this.browser || this.stopped) return;
    if (peer.ttl <= 0) return; // goodbye: like Liqo, removal is left to the TTL
    if (peer.clusterId === this.opts.ownClusterId || peer.instance === this.opts.ownClusterId) return;
    const key = `${peer.serviceType}|${peer.instance}`;
    const last = this.lastWritten.get(key);
    if (last && last.authUrl === peer.authUrl && Date.now() - last.at < this.refreshMs(peer)) return;
    if (this.inProgress.has(key)) return;
    const failed = this.failing.get(`${key}|${peer.authUrl}`);
    if (failed && Date.now() < failed.until) return;
    this.inProgress.add(key);
    void this.handlePeer(peer, config)
      .then((ok) => {
        const failKey = `${key}|${peer.authUrl}`;
        if (ok) {
          this.lastWritten.set(key, { at: Date.now(), authUrl: peer.authUrl });
          this.failing.delete(failKey);
        } else {
          // a peer whose /ids hangs or lies must not take a fetch slot every few seconds
          const delayMs = Math.min(300_000, (this.failing.get(failKey)?.delayMs ?? 5000) * 2);
          this.failing.set(failKey, { until: Date.now() + delayMs, delayMs });
        }
      })
      .finally(() => this.inProgress.delete(key));
    this.pruneMemory();
  }

  private async handlePeer(peer: MdnsPeer, config: EffectiveDiscoveryConfig): Promise<boolean> {
    const urls = peer.authUrls.length ? peer.authUrls : [peer.authUrl];
    const errors: string[] = [];
    for (const url of urls) {
      try {
        const found = await this.fetcher.fetch(url);
        if (found.identity.clusterId === this.opts.ownClusterId) return true; // our own echo
        const written = await this.writer.upsert({
          found,
          discoveryType: 'LAN',
          ttlSeconds: peer.ttl,
          join: joinFor(config, found.trustMode),
        });
        if (written.action === 'created') {
          this.opts.log.info(
            { foreignCluster: written.name, authUrl: url, trust: found.trustMode },
            'LAN peer added',
          );
        }
        return true;
      } catch (err) {
        errors.push(errorMessage(err));
      }
    }
    this.opts.log.warn(
      { peer: peer.instance, authUrls: urls, errors },
      'LAN peer skipped: its /ids could not be used',
    );
    return false;
  }

  /** Forget peers not written for a long time, so churn does not grow memory. */
  private pruneMemory(): void {
    const now = Date.now();
    if (now - this.lastPruned < 60_000) return;
    this.lastPruned = now;
    for (const [k, v] of this.failing) if (v.until < now) this.failing.delete(k);
    // dropping an old entry costs at most one extra write at the peer's next sighting, while a
    // peer that is gone is never reported again and its entry would only cost memory
    const cutoff = now - 10 * 60_000;
    for (const [k, v] of this.lastWritten) if (v.at < cutoff) this.lastWritten.delete(k);
  }
}
