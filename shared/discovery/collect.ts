// Merges the three ways of finding clusters (LAN, DNS domains, plain URLs) into one list of
// clusters, fetching every endpoint's identity in parallel and de-duplicating by cluster id.
// Each look-up module is imported only when its source is used, so a URL-only run never
// loads the mDNS or DNS code.
import type {
  DnsDiscoveredEndpoint,
  FetchIdentityOptions,
  IdentityErrorCode,
  IdentityResult,
  MdnsPeer,
} from '../lookup/types.js';
import { checkClusterId } from '../rules/cluster-id.js';

export type SourceKind = 'lan' | 'dns' | 'searchdomain' | 'url';

export interface EndpointSighting {
  authUrl: string;
  /** Where to connect for authUrl's host, when the source already resolved it (DNS-SD). */
  addresses?: string[];
  /** Tried in order when authUrl does not answer (other SRV targets, other addresses). */
  fallbackUrls: string[];
  /** Resolved addresses of the fallbacks' hosts, by URL. */
  fallbackAddresses?: Record<string, string[]>;
  kind: SourceKind;
  /** How it was found, for people: "lan", "dns:example.com", "searchdomain:corp", "url". */
  source: string;
  /** What the source claimed before /ids confirmed it (mDNS TXT id / instance name). */
  hintClusterId?: string;
  hintClusterName?: string;
}

export interface DiscoveredCluster {
  /** From /ids; else the source's hint; absent when unknown. */
  clusterId?: string;
  clusterName?: string;
  /** The URL that answered (or the first tried, when none did). */
  authUrl: string;
  sources: string[];
  identity?: IdentityResult;
  /** Why /ids could not be read; absent on success or with skipIdentity. */
  error?: string;
  errorCode?: IdentityErrorCode;
}

export interface CollectOptions {
  /** Browse the LAN (false/undefined: do not). */
  lan?: { interfaces?: string[]; settleMs?: number; serviceTypes?: string[] };
  /** Domains to resolve; `source` labels the rows (e.g. "searchdomain:corp" or "dns:example.com"). */
  domains?: { domain: string; kind: 'dns' | 'searchdomain'; source: string }[];
  /** "host:port" DNS servers for the domains; default the system's. */
  dnsServers?: string[];
  urls?: string[];
  /** List endpoints without contacting them. */
  skipIdentity?: boolean;
  identity?: FetchIdentityOptions;
  /** Aborting ends the run: pending fetches fail with ABORTED, browsing stops. */
  signal?: AbortSignal;
  /** A cluster was seen for the first time, or gained a source. */
  onCluster?: (cluster: DiscoveredCluster, change: 'added' | 'updated') => void;
  /** A source failed as a whole, or one of its entries did (e.g. a broken DNS record). */
  onSourceError?: (source: string, message: string) => void;
  /**
   * A source could not be searched at all (no DNS server answered for the domain, or the LAN
   * could not be browsed); called after its onSourceError. URLs are always searched: an
   * endpoint that does not answer is a cluster with an error.
   */
  onSourceFailed?: (source: string) => void;
}

/** Runs every source and resolves when all of them and all identity fetches have finished. */
export async function collectClusters(opts: CollectOptions): Promise<DiscoveredCluster[]> {
  const merger = new ClusterMerger(opts);
  const tasks: Promise<void>[] = [];
  for (const url of opts.urls ?? [])
    merger.sight({ authUrl: url, fallbackUrls: [], kind: 'url', source: 'url' });
  for (const d of opts.domains ?? []) tasks.push(resolveDomain(d, opts, merger));
  if (opts.lan) tasks.push(browseLan(opts.lan, opts, merger));
  await Promise.all(tasks);
  await merger.settled();
  return merger.clusters();
}

async function resolveDomain(
  d: { domain: string; kind: 'dns' | 'searchdomain'; source: string },
  opts: CollectOptions,
  merger: ClusterMerger,
): Promise<void> {
  try {
    const { resolveSearchDomain } = await import('../lookup/dns.js');
    const result = await resolveSearchDomain(d.domain, {
      ...(opts.dnsServers?.length ? { servers: opts.dnsServers } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    for (const e of result.errors) {
      opts.onSourceError?.(d.source, e.instance ? `${e.instance}: ${e.message}` : e.message);
    }
    if (!result.searched) opts.onSourceFailed?.(d.source);
    for (const ep of result.endpoints) merger.sight(fromDns(ep, d.kind, d.source));
  } catch (err) {
    opts.onSourceError?.(d.source, (err as Error).message);
    opts.onSourceFailed?.(d.source);
  }
}

// The SRV target was resolved with the domain's DNS server, which the system resolver may not
// know: connect to those addresses (the host name still serves for SNI and verification).
function fromDns(ep: DnsDiscoveredEndpoint, kind: SourceKind, source: string): EndpointSighting {
  return {
    authUrl: ep.authUrl,
    ...(ep.addresses.length ? { addresses: ep.addresses } : {}),
    fallbackUrls: ep.fallbacks.map((f) => f.authUrl),
    fallbackAddresses: Object.fromEntries(ep.fallbacks.map((f) => [f.authUrl, f.addresses])),
    kind,
    source,
  };
}

async function browseLan(
  lan: NonNullable<CollectOptions['lan']>,
  opts: CollectOptions,
  merger: ClusterMerger,
) {
  try {
    const { browseOnce } = await import('../lookup/mdns.js');
    const onPeer = (peer: MdnsPeer) => merger.sight(lanSighting(peer));
    const peers = await browseOnce({
      ...(lan.interfaces?.length ? { interfaces: lan.interfaces } : {}),
      ...(lan.settleMs !== undefined ? { settleMs: lan.settleMs } : {}),
      ...(lan.serviceTypes ? { serviceTypes: lan.serviceTypes } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      onPeer,
    });
    for (const peer of peers) merger.sight(lanSighting(peer)); // no-op for those already streamed
  } catch (err) {
    opts.onSourceError?.('lan', (err as Error).message);
    opts.onSourceFailed?.('lan');
  }
}

/** One endpoint's cluster, its identity fetched (or not, with skipIdentity) as collectClusters would. */
export async function identifySighting(
  sighting: EndpointSighting,
  opts: CollectOptions,
): Promise<DiscoveredCluster> {
  const merger = new ClusterMerger({ ...opts, onCluster: undefined });
  merger.sight(sighting);
  await merger.settled();
  const [cluster] = merger.clusters();
  if (!cluster) throw new Error(`no cluster for ${sighting.authUrl}`); // one sighting always makes one
  return cluster;
}

export function lanSighting(peer: MdnsPeer): EndpointSighting {
  return {
    authUrl: peer.authUrl,
    fallbackUrls: peer.authUrls.filter((u) => u !== peer.authUrl),
    kind: 'lan',
    source: 'lan',
    ...(peer.clusterId ? { hintClusterId: peer.clusterId } : {}),
    ...(peer.clusterName ? { hintClusterName: peer.clusterName } : {}),
  };
}

/** The de-duplication: by URL before /ids answers, by cluster id after. */
export class ClusterMerger {
  private readonly byKey = new Map<string, DiscoveredCluster>();
  private readonly keyByUrl = new Map<string, string | Promise<string>>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly opts: CollectOptions) {}

  sight(s: EndpointSighting): void {
    const urlKey = comparable(s.authUrl);
    const known = this.keyByUrl.get(urlKey);
    if (typeof known === 'string') return this.addSource(known, s.source);
    if (known) {
      const later = known.then((key) => this.addSource(key, s.source));
      this.track(later);
      return;
    }
    if (this.opts.skipIdentity) {
      const key = s.hintClusterId ? `id:${s.hintClusterId}` : `url:${urlKey}`;
      this.keyByUrl.set(urlKey, key);
      this.upsert(key, {
        ...(s.hintClusterId ? { clusterId: s.hintClusterId } : {}),
        ...(s.hintClusterName ? { clusterName: s.hintClusterName } : {}),
        authUrl: s.authUrl,
        sources: [s.source],
      });
      return;
    }
    const keyPromise = this.identify(s).then(({ key, cluster }) => {
      // an endpoint that did not answer, but whose source named a cluster already reached
      // another way (e.g. a LAN address we cannot route to): one more source of that cluster
      const reached = cluster.error && cluster.clusterId ? `id:${cluster.clusterId}` : undefined;
      const finalKey = reached && this.byKey.get(reached)?.identity ? reached : key;
      this.keyByUrl.set(urlKey, finalKey);
      this.upsert(finalKey, cluster);
      return finalKey;
    });
    this.keyByUrl.set(urlKey, keyPromise);
    this.track(keyPromise);
  }

  private async identify(s: EndpointSighting): Promise<{ key: string; cluster: DiscoveredCluster }> {
    const { fetchClusterIdentity } = await import('../lookup/ids.js');
    let firstError: unknown;
    for (const url of [s.authUrl, ...s.fallbackUrls]) {
      try {
        const addresses = url === s.authUrl ? s.addresses : s.fallbackAddresses?.[url];
        const identity = await fetchClusterIdentity(url, {
          ...this.opts.identity,
          ...(addresses?.length ? { addresses } : {}),
          ...(this.opts.signal ? { signal: this.opts.signal } : {}),
        });
        const { clusterId, clusterName } = identity.identity;
        // the id would name the ForeignCluster a join writes: an unusable one is this row's error
        const refusal = checkClusterId(clusterId, `${url.replace(/\/+$/, '')}/ids`);
        if (refusal) throw new Error(refusal);
        return {
          key: `id:${clusterId}`,
          cluster: {
            clusterId,
            ...(clusterName ? { clusterName } : {}),
            authUrl: url,
            sources: [s.source],
            identity,
          },
        };
      } catch (err) {
        firstError ??= err;
        if (this.opts.signal?.aborted) break;
      }
    }
    const e = firstError as { message?: string; code?: IdentityErrorCode };
    return {
      key: `url:${comparable(s.authUrl)}`,
      cluster: {
        ...(s.hintClusterId ? { clusterId: s.hintClusterId } : {}),
        ...(s.hintClusterName ? { clusterName: s.hintClusterName } : {}),
        authUrl: s.authUrl,
        sources: [s.source],
        error: reasonOnly((e?.message ?? String(firstError)).split('\n')[0] ?? 'failed', s.authUrl),
        ...(e?.code ? { errorCode: e.code } : {}),
      },
    };
  }

  private upsert(key: string, cluster: DiscoveredCluster): void {
    const existing = this.byKey.get(key);
    if (!existing) {
      this.byKey.set(key, cluster);
      this.opts.onCluster?.(cluster, 'added');
      return;
    }
    let changed = false;
    for (const src of cluster.sources) {
      if (!existing.sources.includes(src)) {
        existing.sources.push(src);
        changed = true;
      }
    }
    if (changed) this.opts.onCluster?.(existing, 'updated');
  }

  private addSource(key: string, source: string): void {
    const c = this.byKey.get(key);
    if (c && !c.sources.includes(source)) {
      c.sources.push(source);
      this.opts.onCluster?.(c, 'updated');
    }
  }

  private track(p: Promise<unknown>): void {
    const guarded = p.catch(() => undefined).finally(() => this.pending.delete(guarded));
    this.pending.add(guarded);
  }

  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** One entry per cluster: an unanswered endpoint whose cluster answered elsewhere folds into it. */
  clusters(): DiscoveredCluster[] {
    const reached = new Map<string, DiscoveredCluster>();
    for (const c of this.byKey.values()) if (c.identity && c.clusterId) reached.set(c.clusterId, c);
    const out: DiscoveredCluster[] = [];
    for (const c of this.byKey.values()) {
      const home = c.error && c.clusterId ? reached.get(c.clusterId) : undefined;
      if (!home) {
        out.push(c);
        continue;
      }
      for (const src of c.sources) if (!home.sources.includes(src)) home.sources.push(src);
    }
    return out.sort(compareClusters);
  }
}

/** By cluster id (unknown ids last), then auth URL. */
export function compareClusters(a: DiscoveredCluster, b: DiscoveredCluster): number {
  if (a.clusterId !== b.clusterId) {
    if (a.clusterId === undefined) return 1;
    if (b.clusterId === undefined) return -1;
    return a.clusterId < b.clusterId ? -1 : 1;
  }
  return a.authUrl < b.authUrl ? -1 : a.authUrl > b.authUrl ? 1 : 0;
}

/** "https://h:1/ids: connection refused" -> "connection refused": the row already shows the URL. */
function reasonOnly(message: string, authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  for (const prefix of [`${base}/ids: `, `${base}: `]) {
    if (message.startsWith(prefix)) return message.slice(prefix.length);
  }
  return message;
}

function comparable(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host.toLowerCase().replace(/\.(?=:|$)/, '')}`;
  } catch {
    return url.toLowerCase();
  }
}
