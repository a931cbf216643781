// Prometheus metrics of the agent, on one registry served by the health server's /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly isLeader = this.gauge(
    'liqo_agent_is_leader',
    '1 while this replica holds the lease and runs discovery',
  );
  readonly idsRequests = this.counter(
    'liqo_agent_ids_requests_total',
    'GET /ids requests served, by HTTP status',
    ['status'],
  );
  readonly identityFetches = this.counter(
    'liqo_agent_identity_fetches_total',
    'Fetches of a peer /ids, by outcome (ok or an error code)',
    ['outcome'],
  );
  readonly identityFetchSeconds = this.histogram(
    'liqo_agent_identity_fetch_seconds',
    'Time to fetch a peer /ids',
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  readonly foreignClusterWrites = this.counter(
    'liqo_agent_foreign_cluster_writes_total',
    'ForeignCluster writes by discovery type and action (create, update, refresh, fill)',
    ['type', 'action'],
  );
  readonly foreignClustersCollected = this.counter(
    'liqo_agent_foreign_clusters_collected_total',
    'ForeignClusters deleted by the garbage collector, by reason',
    ['reason'],
  );
  readonly lanPeersSeen = this.counter(
    'liqo_agent_lan_peers_seen_total',
    'mDNS peer sightings handled (before de-duplication)',
  );
  readonly mdnsIgnored = this.counter(
    'liqo_agent_mdns_packets_dropped_total',
    'mDNS packets and advertised addresses ignored at the LAN trust boundary, by reason (off_subnet_source, off_link_address, forbidden_address)',
    ['reason'],
  );
  readonly searchDomainResolutions = this.counter(
    'liqo_agent_searchdomain_resolutions_total',
    'SearchDomain resolutions by outcome',
    ['outcome'],
  );
  readonly advertising = this.gauge('liqo_agent_advertising', '1 while this cluster is advertised by mDNS');
  readonly browsing = this.gauge('liqo_agent_browsing', '1 while the LAN is browsed by mDNS');

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  private gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] });
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram(name: string, help: string, buckets: number[]): Histogram {
    return new Histogram({ name, help, buckets, registers: [this.registry] });
  }
}
