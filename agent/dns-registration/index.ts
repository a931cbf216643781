// The agent's DNS registration part, as LeaderWork starts it: the controller with its defaults
// taken from the agent's own facts (cluster name from the ClusterConfig, the /ids address peers
// reach) and the ClusterConfig's changes passed on as a nudge.
import { isIP } from 'node:net';
import type { EffectiveDiscoveryConfig } from '../cluster-config-watch.js';
import { servedClusterName } from '../cluster-name.js';
import type { EventDetails, EventObject } from '../events.js';
import type { AgentKube } from '../kube-access.js';
import type { Logger } from '../logger.js';
import { DnsRegistrationController } from './controller.js';

export { DnsRegistrationController, instanceFromClusterName } from './controller.js';

interface ConfigSource {
  readonly config: EffectiveDiscoveryConfig;
  on(event: 'change', listener: (c: EffectiveDiscoveryConfig) => void): unknown;
  off(event: 'change', listener: (c: EffectiveDiscoveryConfig) => void): unknown;
}

export interface DnsRegistrationPartOptions {
  clusterId: string;
  /** Addresses peers should use (--advertise-address); the first one goes in the default authUrl. */
  advertiseAddresses: string[];
  /** Used in the default authUrl when there is no advertise address. */
  hostname: string;
  /** The port peers reach /ids at (--auth-port, else the /ids port). */
  authPort: number;
  mayWrite: (what: string) => void;
  events: (object: EventObject, event: EventDetails) => Promise<void>;
  checkIntervalMs?: number;
  removalDeadlineMs?: number;
  log: Logger;
}

/** `https://<first advertise address or host name>:<auth port>`, IPv6 in brackets. */
export function defaultAuthUrl(advertiseAddresses: string[], hostname: string, authPort: number): string {
  const host = advertiseAddresses[0] ?? hostname;
  return `https://${isIP(host) === 6 ? `[${host}]` : host}:${authPort}`;
}

/** The controller, started and stopped with the ClusterConfig's change events. */
export class DnsRegistrationPart {
  private readonly controller: DnsRegistrationController;
  private readonly onConfig = () => this.controller.nudge();

  constructor(
    kube: AgentKube,
    private readonly config: ConfigSource,
    opts: DnsRegistrationPartOptions,
  ) {
    const authUrl = defaultAuthUrl(opts.advertiseAddresses, opts.hostname, opts.authPort);
    this.controller = new DnsRegistrationController(kube, {
      clusterId: opts.clusterId,
      clusterName: () => servedClusterName(config.config.clusterName, opts.clusterId),
      defaultAuthUrl: () => authUrl,
      mayWrite: opts.mayWrite,
      events: opts.events,
      ...(opts.checkIntervalMs ? { checkIntervalMs: opts.checkIntervalMs } : {}),
      ...(opts.removalDeadlineMs ? { removalDeadlineMs: opts.removalDeadlineMs } : {}),
      log: opts.log,
    });
  }

  start(): void {
    this.config.on('change', this.onConfig);
    this.controller.start();
  }

  async stop(): Promise<void> {
    this.config.off('change', this.onConfig);
    await this.controller.stop();
  }
}
