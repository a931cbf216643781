// Prometheus metrics of the agent, on one registry served by the health server's /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly isLeader = new Gauge({
    name: 'liqo_agent_is_leader',
    help: '1 while this replica holds the lease and runs discovery',
    registers: [this.registry],
  });
  readonly idsRequests = new Counter({
    name: 'liqo_agent_ids_requests_total',
    help: 'GET /ids requests served, by HTTP status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly identityFetches = new Counter({
    name: 'liqo_agent_identity_fetches_total',
    help: 'Fetches of a peer /ids, by outcome (ok or an error code)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly identityFetchSeconds = new Histogram({
    name: 'liqo_agent_identity_fetch_seconds',
    help: 'Time to fetch a peer /ids',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly foreignClusterWrites = new Counter({
    name: 'liqo_agent_foreign_cluster_writes_total',
    help: 'ForeignCluster writes by discovery type and action (create, update, refresh, fill)',
    labelNames: ['type', 'action'] as const,
    registers: [this.registry],
  });
  readonly foreignClustersCollected = new Counter({
    name: 'liqo_agent_foreign_clusters_collected_total',
    help: 'ForeignClusters deleted by the garbage collector, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly lanPeersSeen = new Counter({
    name: 'liqo_agent_lan_peers_seen_total',
    help: 'mDNS peer sightings handled (before de-duplication)',
    registers: [this.registry],
  });
  readonly mdnsIgnored = new Counter({
    name: 'liqo_agent_mdns_packets_dropped_total',
    help: 'mDNS packets and advertised addresses ignored at the LAN trust boundary, by reason (off_subnet_source, off_link_address, forbidden_address)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly searchDomainResolutions = new Counter({
    name: 'liqo_agent_searchdomain_resolutions_total',
    help: 'SearchDomain resolutions by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly advertising = new Gauge({
    name: 'liqo_agent_advertising',
    help: '1 while this cluster is advertised by mDNS',
    registers: [this.registry],
  });
  readonly browsing = new Gauge({
    name: 'liqo_agent_browsing',
    help: '1 while the LAN is browsed by mDNS',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
