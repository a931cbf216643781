// One active agent per cluster: a small elector on a coordination.k8s.io/v1 Lease, after
// client-go's leaderelection. Every write is a resourceVersion-guarded update, so two
// replicas can never both believe they won. Expiry is judged by the local clock from when
// this replica last saw the record change (as client-go does), not by the holder's clock.
import type { V1Lease } from '@kubernetes/client-node';
import { isConflict, isNotFound, kubeErrorMessage, type AgentKube } from './kube-access.js';
import type { Logger } from './logger.js';
import { ANNOTATION_VERSION } from '../shared/api/constants.js';
import { RELEASE_VERSION } from '../shared/api/release.js';

export interface LeaderElectionOptions {
  leaseName: string;
  /** This replica's identity (pod name plus a random suffix). */
  identity: string;
  leaseDurationSeconds: number;
  /** How often the leader renews. */
  renewPeriodMs: number;
  /** How often a standby looks at the Lease (shorter: a quicker take-over; a GET is cheap). */
  retryPeriodMs: number;
  /** The leader steps down when it could not renew for this long (< lease duration). */
  renewDeadlineMs: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log: Logger;
}

export class LeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private leading = false;
  private lastRenew = 0;
  private observed: { key: string; at: number } | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly kube: AgentKube,
    private readonly opts: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.tick();
  }

  private tick = (): void => {
    if (this.stopped) return;
    this.inFlight = this.attempt()
      .catch((err: unknown) => this.opts.log.warn({ err: kubeErrorMessage(err) }, 'lease update failed'))
      .finally(() => {
        this.inFlight = undefined;
        if (this.leading && Date.now() - this.lastRenew > this.opts.renewDeadlineMs) {
          this.opts.log.error('could not renew the lease in time; stepping down');
          this.setLeading(false);
        }
        if (!this.stopped) {
          this.timer = setTimeout(
            this.tick,
            this.leading ? this.opts.renewPeriodMs : this.opts.retryPeriodMs,
          );
        }
      });
  };

  private async attempt(): Promise<void> {
    const { coordination, namespace, k8s } = this.kube;
    const { leaseName: name, identity } = this.opts;
    const now = new k8s.V1MicroTime();
    let lease: V1Lease;
    try {
      lease = await coordination.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await coordination.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace, annotations: { [ANNOTATION_VERSION]: RELEASE_VERSION } },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: this.opts.leaseDurationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        this.renewed();
      } catch (createErr) {
        if (!isConflict(createErr)) throw createErr; // else another replica created it first
      }
      return;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const key = `${holder}|${String(spec.renewTime?.valueOf() ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
    if (this.observed?.key !== key) this.observed = { key, at: Date.now() };
    const duration = (spec.leaseDurationSeconds ?? this.opts.leaseDurationSeconds) * 1000;
    const expired = this.observed.at + duration < Date.now();

    if (holder !== identity && holder !== '' && !expired) {
      if (this.leading) {
        this.opts.log.warn({ holder }, 'another replica holds the lease; stepping down');
        this.setLeading(false);
      }
      return;
    }
    const takingOver = holder !== identity;
    // the leader says which release it is (`kubectl liqo version` reads it)
    lease.metadata = {
      ...lease.metadata,
      annotations: { ...lease.metadata?.annotations, [ANNOTATION_VERSION]: RELEASE_VERSION },
    };
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: this.opts.leaseDurationSeconds,
      renewTime: now,
      ...(takingOver
        ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + (holder ? 1 : 0) }
        : {}),
    };
    try {
      await coordination.replaceNamespacedLease({ name, namespace, body: lease });
      if (takingOver) this.opts.log.info({ previous: holder || '(released)' }, 'acquired the lease');
      this.renewed();
    } catch (err) {
      if (isConflict(err)) return; // someone else wrote first; look again next tick
      throw err;
    }
  }

  private renewed(): void {
    this.lastRenew = Date.now();
    if (!this.leading) this.setLeading(true);
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    try {
      if (leading) this.opts.onStartedLeading();
      else this.opts.onStoppedLeading();
    } catch (err) {
      this.opts.log.error({ err: kubeErrorMessage(err) }, 'leadership callback failed');
    }
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    const wasLeading = this.leading;
    this.setLeading(false);
    if (!wasLeading) return;
    const { coordination, namespace } = this.kube;
    try {
      const lease = await coordination.readNamespacedLease({ name: this.opts.leaseName, namespace });
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 };
      await coordination.replaceNamespacedLease({ name: this.opts.leaseName, namespace, body: lease });
      this.opts.log.info('released the lease');
    } catch (err) {
      this.opts.log.warn({ err: kubeErrorMessage(err) }, 'could not release the lease; it will expire');
    }
  }
}
