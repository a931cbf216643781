// Wires the agent together. Every replica serves /ids, health and metrics and follows the
// ClusterConfig; only the replica holding the Lease advertises, browses, resolves
// SearchDomains, fills identities and collects stale ForeignClusters.
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterConfigWatch, type EffectiveDiscoveryConfig } from './cluster-config-watch.js';
import { ClusterProfileSync } from './cluster-profiles/sync.js';
import { ClusterIdCheck } from './cluster-property.js';
import { DnsRegistrationPart } from './dns-registration/index.js';
import { ensureClusterId } from './cluster-id.js';
import { generatedClusterName, servedClusterName } from './cluster-name.js';
import { recordEvent, type EventDetails } from './events.js';
import type { ForeignCluster } from '../shared/api/types.js';
import { ForeignClusterWriter } from './foreign-cluster-writer.js';
import { GarbageCollector } from './garbage-collector.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { ensureIdsCertificate, loadCertificateFiles, rotateIdsCertificate } from './ids-certificate.js';
import { IdentityFetcher } from './identity-fetcher.js';
import { IdentityFiller } from './identity-filler.js';
import { startIdentityServer, type IdentityServer } from './identity-server.js';
import { connectAgentKube, type AgentKube } from './kube-access.js';
import { LanDiscovery, type MdnsDriver } from './lan-discovery.js';
import { LeaderElector } from './leader-election.js';
import { withGuardedWrites } from './leader-only-writes.js';
import { timingFromSettings, timingProblem, type LeaderElectionTiming } from './leader-election-state.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';
import { AgentMetrics } from './metrics.js';
import { SearchDomainDiscovery } from './searchdomain-discovery.js';

export interface AgentOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  idsPort: number;
  /** Address the /ids server binds; default all. */
  idsBindAddress?: string;
  healthPort: number;
  healthBindAddress?: string;
  /** mDNS interfaces (names or addresses). */
  interfaces: string[];
  /** Addresses peers should use (A records, certificate names). */
  advertiseAddresses: string[];
  authPort?: number;
  hostname?: string;
  /** DNSRegistrations: how often the TSIG Secret and defaults are looked at (default 10 s). */
  dnsRegistrationCheckIntervalMs?: number;
  /** DNSRegistrations: how long a deletion waits for the records' removal (default 120 s). */
  dnsRegistrationRemovalDeadlineMs?: number;
  searchDomainIntervalMs: number;
  gcIntervalMs: number;
  leaseName: string;
  /** Leader election (see leader-election-state.ts' timing table): lease duration, default 15 s. */
  leaseDurationSeconds: number;
  /** The leader stops acting when it could not renew for this long; default 2/3 of the lease duration. */
  renewDeadlineMs?: number;
  /** Between renewals (leader) and looks at the Lease (standby); default 2 s. */
  retryIntervalMs?: number;
  identity?: string;
  dnsServers: string[];
  idsTimeoutMs: number;
  idsConcurrency: number;
  /** Back-off of a Manual ForeignCluster whose /ids failed: first retry, doubling up to max. */
  identityRetryMinMs?: number;
  identityRetryMaxMs?: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** How often the /ids certificate (files or Secret) is looked at again; default 60 s. */
  tlsCheckIntervalMs?: number;
  peerCaBundle?: string;
  /** Peers on loopback may be fetched (sandboxes); the address policy refuses them otherwise. */
  allowLoopback?: boolean;
  /** undefined: no LAN discovery at all (--no-mdns). */
  mdns: MdnsDriver | undefined;
  /** Keep one ClusterProfile (KEP-4322) per ForeignCluster in this namespace; unset: none. */
  clusterProfilesNamespace?: string;
  /** Between ClusterProfile passes; default 10 s. */
  clusterProfilesIntervalMs?: number;
  /** Between comparisons of the cluster-id ConfigMap with the ClusterProperty; default 60 s. */
  clusterIdCheckIntervalMs?: number;
  log: Logger;
}

export interface RunningAgent {
  readonly clusterId: string;
  readonly idsPort: number;
  readonly healthPort: number;
  readonly identity: string;
  readonly metrics: AgentMetrics;
  isLeader(): boolean;
  stop(): Promise<void>;
}

/** The discovery work that runs only on the leader; built fresh at each election. */
class LeaderWork {
  private readonly lan: LanDiscovery | undefined;
  private readonly searchDomains: SearchDomainDiscovery;
  private readonly filler: IdentityFiller;
  private readonly gc: GarbageCollector;
  private readonly clusterIdCheck: ClusterIdCheck;
  private readonly clusterProfiles: ClusterProfileSync | undefined;
  private readonly dnsRegistrations: DnsRegistrationPart;
  private readonly onConfig = (c: EffectiveDiscoveryConfig) => void this.lan?.apply(c);

  constructor(
    kube: AgentKube,
    private readonly config: ClusterConfigWatch,
    fetcher: IdentityFetcher,
    clusterId: string,
    authPort: number,
    opts: AgentOptions,
    metrics: AgentMetrics,
    mayWrite: (what: string) => void,
  ) {
    const log = opts.log;
    this.clusterIdCheck = new ClusterIdCheck(kube, {
      intervalMs: opts.clusterIdCheckIntervalMs ?? 60_000,
      log: log.child({ part: 'cluster-id' }),
      events: (object, event) => recordEvent(kube, object, event),
    });
    this.clusterProfiles =
      opts.clusterProfilesNamespace === undefined
        ? undefined
        : new ClusterProfileSync(kube, {
            namespace: opts.clusterProfilesNamespace,
            intervalMs: opts.clusterProfilesIntervalMs ?? 10_000,
            mayWrite,
            log: log.child({ part: 'cluster-profiles' }),
          });
    const events = (fc: ForeignCluster, event: EventDetails) => recordEvent(kube, fc, event);
    this.dnsRegistrations = new DnsRegistrationPart(kube, config, {
      clusterId,
      advertiseAddresses: opts.advertiseAddresses,
      hostname: opts.hostname ?? osHostname(),
      authPort,
      mayWrite,
      events: (object, event) => recordEvent(kube, object, event),
      ...(opts.dnsRegistrationCheckIntervalMs
        ? { checkIntervalMs: opts.dnsRegistrationCheckIntervalMs }
        : {}),
      ...(opts.dnsRegistrationRemovalDeadlineMs
        ? { removalDeadlineMs: opts.dnsRegistrationRemovalDeadlineMs }
        : {}),
      log: log.child({ part: 'dns-registration' }),
    });
    const writer = new ForeignClusterWriter(kube.liqo, clusterId, metrics, {
      events,
      log: log.child({ part: 'writer' }),
    });
    this.gc = new GarbageCollector(kube.liqo, opts.gcIntervalMs, log.child({ part: 'gc' }), metrics, events);
    this.lan =
      opts.mdns &&
      new LanDiscovery(opts.mdns, writer, fetcher, {
        ownClusterId: clusterId,
        authPort,
        defaultClusterName: generatedClusterName(clusterId),
        ...(opts.interfaces.length || opts.advertiseAddresses.length
          ? { interfaces: opts.advertiseAddresses.length ? opts.advertiseAddresses : opts.interfaces }
          : {}),
        ...(opts.hostname ? { hostname: opts.hostname } : {}),
        log: log.child({ part: 'lan' }),
        metrics,
      });
    this.searchDomains = new SearchDomainDiscovery(kube, writer, fetcher, this.gc, {
      ownClusterId: clusterId,
      intervalMs: opts.searchDomainIntervalMs,
      dnsServers: opts.dnsServers,
      log: log.child({ part: 'searchdomains' }),
      metrics,
    });
    this.filler = new IdentityFiller(kube, fetcher, {
      ownClusterId: clusterId,
      ...(opts.identityRetryMinMs ? { initialBackoffMs: opts.identityRetryMinMs } : {}),
      ...(opts.identityRetryMaxMs ? { maxBackoffMs: opts.identityRetryMaxMs } : {}),
      log: log.child({ part: 'filler' }),
      metrics,
      events,
    });
  }

  start(): void {
    this.config.on('change', this.onConfig);
    void this.lan?.apply(this.config.config);
    this.searchDomains.start();
    this.filler.start();
    this.gc.start();
    this.clusterIdCheck.start();
    this.clusterProfiles?.start();
    this.dnsRegistrations.start();
  }

  async stop(): Promise<void> {
    this.config.off('change', this.onConfig);
    this.filler.stop();
    await Promise.allSettled([
      this.lan?.stop(),
      this.searchDomains.stop(),
      this.gc.stop(),
      this.clusterIdCheck.stop(),
      this.clusterProfiles?.stop(),
      this.dnsRegistrations.stop(),
    ]);
  }
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const log = opts.log;
  const metrics = new AgentMetrics();
  const timing = leaderElectionTiming(opts);
  const kube = await connectAgentKube(opts.kubeConfig, opts.namespace, timing.requestTimeoutMs);
  const clusterId = await ensureClusterId(kube, log);
  log.info(
    { clusterId, generatedClusterName: generatedClusterName(clusterId), namespace: opts.namespace },
    'this cluster',
  );

  const config = new ClusterConfigWatch(kube, log.child({ part: 'config' }));
  await config.start();

  const hostname = opts.hostname ?? osHostname();
  const certificateHosts = [...opts.advertiseAddresses, hostname];
  const tls =
    opts.tlsCertFile && opts.tlsKeyFile
      ? await loadCertificateFiles(opts.tlsCertFile, opts.tlsKeyFile)
      : await ensureIdsCertificate(kube, certificateHosts, log);

  const cleanups: Array<() => Promise<void> | void> = [() => config.stop()];
  let ids: IdentityServer | undefined;
  let health: HealthServer | undefined;
  let elector: LeaderElector | undefined;
  try {
    ids = await startIdentityServer({
      port: opts.idsPort,
      ...(opts.idsBindAddress ? { host: opts.idsBindAddress } : {}),
      tls,
      identity: () => ({
        clusterId,
        clusterName: servedClusterName(config.config.clusterName, clusterId),
        guestNamespace: opts.namespace,
      }),
      log,
      metrics,
    });
    const idsServer = ids;
    cleanups.push(() => idsServer.close());
    const rotation = rotateIdsCertificate({
      source:
        opts.tlsCertFile && opts.tlsKeyFile
          ? { certFile: opts.tlsCertFile, keyFile: opts.tlsKeyFile }
          : { hosts: certificateHosts, kube },
      current: tls,
      onChange: (pair) => idsServer.setCertificate(pair),
      ...(opts.tlsCheckIntervalMs ? { checkIntervalMs: opts.tlsCheckIntervalMs } : {}),
      log: log.child({ part: 'tls' }),
    });
    cleanups.push(() => rotation.stop());

    const identity = opts.identity ?? `${hostname}-${randomBytes(4).toString('hex')}`;
    const fetcher = new IdentityFetcher({
      concurrency: opts.idsConcurrency,
      timeoutMs: opts.idsTimeoutMs,
      ...(opts.peerCaBundle ? { caBundle: opts.peerCaBundle } : {}),
      allowLoopback: opts.allowLoopback === true,
      metrics,
    });
    cleanups.push(() => fetcher.close());
    const authPort = opts.authPort ?? ids.port;
    let work: LeaderWork | undefined;
    let workStopping: Promise<void> = Promise.resolve();
    // the leader's work writes only while the elector says it surely leads
    const leaderKube = withGuardedWrites(
      kube,
      (what) => leaderElector.assertLeading(what),
      log.child({ part: 'writes' }),
    );
    elector = new LeaderElector(kube, {
      leaseName: opts.leaseName,
      identity,
      timing,
      log: log.child({ part: 'leader' }),
      onStartedLeading: () => {
        log.info({ identity }, 'leading: starting discovery');
        metrics.isLeader.set(1);
        const next = new LeaderWork(leaderKube, config, fetcher, clusterId, authPort, opts, metrics, (what) =>
          leaderElector.assertLeading(what),
        );
        work = next;
        void workStopping.then(() => {
          if (work === next) next.start();
        });
      },
      onStoppedLeading: () => {
        log.info({ identity }, 'not leading: stopping discovery');
        metrics.isLeader.set(0);
        const old = work;
        work = undefined;
        if (old)
          workStopping = old
            .stop()
            .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'stop failed'));
      },
    });
    const leaderElector = elector;
    health = await startHealthServer({
      port: opts.healthPort,
      ...(opts.healthBindAddress ? { host: opts.healthBindAddress } : {}),
      notReadyReason: () => (config.isLoaded ? undefined : 'ClusterConfig not read yet'),
      metrics,
      log,
    });
    const healthServer = health;
    elector.start();

    let stopping: Promise<void> | undefined;
    return {
      clusterId,
      idsPort: ids.port,
      healthPort: health.port,
      identity,
      metrics,
      isLeader: () => leaderElector.isLeader,
      stop: () =>
        (stopping ??= (async () => {
          log.info('shutting down');
          await leaderElector.stop(); // stops the discovery work (goodbye packets), releases the lease
          await workStopping;
          await healthServer.close();
          for (const c of cleanups.reverse()) await c();
          log.info('stopped');
        })()),
    };
  } catch (err) {
    await elector?.stop();
    await health?.close();
    for (const c of cleanups.reverse()) await c();
    throw err;
  }
}

/** The leader-election table for these options; throws one line when it cannot work. */
export function leaderElectionTiming(opts: AgentOptions): LeaderElectionTiming {
  const timing = timingFromSettings({
    leaseDurationSeconds: opts.leaseDurationSeconds,
    retryPeriodMs: opts.retryIntervalMs,
    renewDeadlineMs: opts.renewDeadlineMs,
  });
  const problem = timingProblem(timing);
  if (problem) throw new Error(`leader election: ${problem}`);
  return timing;
}
