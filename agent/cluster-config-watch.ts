// Follows ClusterConfig `liqo-configuration` with a watch and exposes its discoveryConfig with
// the defaults filled in, so `kubectl patch … enableAdvertisement: false` takes effect within
// seconds. A missing ClusterConfig means "all defaults" (LAN discovery is on by default).
import { EventEmitter } from 'node:events';
import {
  CLUSTER_CONFIG_NAME,
  CONFIG_API_VERSION,
  DISCOVERY_CONFIG_DEFAULTS,
  MIN_DISCOVERY_TTL,
  PLURAL_CLUSTER_CONFIGS,
} from '../shared/api/constants.js';
import type { ClusterConfig, DiscoveryConfig } from '../shared/api/types.js';
import type { AgentKube } from './kube-access.js';
import { watchCollection, type WatchHandle } from '../shared/kube/watch.js';
import type { Logger } from './logger.js';

export interface EffectiveDiscoveryConfig {
  enableDiscovery: boolean;
  enableAdvertisement: boolean;
  authService: string;
  domain: string;
  ttl: number;
  clusterName?: string;
  autojoin: boolean;
  autojoinUntrusted: boolean;
}

export function effectiveDiscoveryConfig(dc: DiscoveryConfig | undefined): EffectiveDiscoveryConfig {
  const d = DISCOVERY_CONFIG_DEFAULTS;
  const ttl = typeof dc?.ttl === 'number' && Number.isFinite(dc.ttl) ? dc.ttl : d.ttl;
  const out: EffectiveDiscoveryConfig = {
    enableDiscovery: dc?.enableDiscovery ?? d.enableDiscovery,
    enableAdvertisement: dc?.enableAdvertisement ?? d.enableAdvertisement,
    authService: dc?.authService || d.authService,
    domain: dc?.domain || d.domain,
    ttl: Math.max(MIN_DISCOVERY_TTL, Math.floor(ttl)),
    autojoin: dc?.autojoin ?? d.autojoin,
    autojoinUntrusted: dc?.autojoinUntrusted ?? d.autojoinUntrusted,
  };
  if (dc?.clusterName) out.clusterName = dc.clusterName;
  return out;
}

export function sameConfig(a: EffectiveDiscoveryConfig, b: EffectiveDiscoveryConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Emits 'change' (new, old) whenever the effective configuration changes. */
export class ClusterConfigWatch extends EventEmitter {
  private current: EffectiveDiscoveryConfig = effectiveDiscoveryConfig(undefined);
  private handle: WatchHandle | undefined;
  private loaded = false;

  constructor(
    private readonly kube: AgentKube,
    private readonly log: Logger,
  ) {
    super();
  }

  get config(): EffectiveDiscoveryConfig {
    return this.current;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Reads the ClusterConfig once, then follows it. */
  async start(): Promise<void> {
    const cc = await this.kube.liqo.getClusterConfig();
    this.apply(cc?.spec.discoveryConfig, cc ? 'read' : 'absent (defaults)');
    this.loaded = true;
    this.handle = watchCollection<ClusterConfig>(
      this.kube.kubeConfig,
      `/apis/${CONFIG_API_VERSION}/${PLURAL_CLUSTER_CONFIGS}`,
      (type, obj) => {
        if (obj.metadata?.name !== CLUSTER_CONFIG_NAME) return;
        this.apply(type === 'DELETED' ? undefined : obj.spec?.discoveryConfig, type.toLowerCase());
      },
      {
        fieldSelector: `metadata.name=${CLUSTER_CONFIG_NAME}`,
        log: this.log,
        listTimeoutMs: this.kube.requestTimeoutMs,
      },
    );
  }

  stop(): void {
    this.handle?.stop();
  }

  private apply(dc: DiscoveryConfig | undefined, how: string): void {
    const next = effectiveDiscoveryConfig(dc);
    if (this.loaded && sameConfig(next, this.current)) return;
    const old = this.current;
    this.current = next;
    this.log.info({ discoveryConfig: next, how }, 'ClusterConfig discoveryConfig in effect');
    this.emit('change', next, old);
  }
}
