// One active agent per cluster: a small elector on a coordination.k8s.io/v1 Lease, modelled on
// client-go's leaderelection. Every write is a resourceVersion-guarded update, so two replicas
// can never both believe they won. Expiry is judged by this replica's monotonic clock from when
// it last saw the record change (as client-go does), never by the holder's clock.
//
// Why two leaders never act at once (the timing table below is the whole argument):
//  - a standby takes the Lease only after it saw the record unchanged for a full LeaseDuration;
//  - the leader counts its RenewDeadline from the moment it *sent* its last successful renewal,
//    which is before any standby could have seen that renewal, and stops acting at that
//    deadline — checked by a timer and, synchronously, before every write (a paused process
//    whose timers all fire late still checks before it writes);
//  - every API request times out within RequestTimeout, and RenewDeadline + RequestTimeout
//    <= LeaseDuration, so a write started before the deadline is over before a standby can take
//    over.
import { performance } from 'node:perf_hooks';
import type { V1Lease } from '@kubernetes/client-node';
import { isConflict, isNotFound, kubeErrorMessage, type AgentKube } from './kube-access.js';
import type { Logger } from './logger.js';
import { ANNOTATION_VERSION } from '../shared/api/constants.js';
import { RELEASE_VERSION } from '../shared/api/release.js';

/** The elector's timings, in one place (client-go's defaults for LeaseDuration, RenewDeadline, RetryPeriod). */
export interface LeaderElectionTiming {
  /** How long a standby waits, after the record last changed, before it may take the Lease. */
  leaseDurationMs: number;
  /** The leader stops acting when its last successful renewal was sent this long ago. */
  renewDeadlineMs: number;
  /** Leader: time between renewals; standby: time between looks at the Lease. */
  retryPeriodMs: number;
  /** Time limit of every API request the agent makes (Lease and writes alike). */
  requestTimeoutMs: number;
}

export const DEFAULT_LEADER_ELECTION_TIMING: LeaderElectionTiming = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  requestTimeoutMs: 5_000,
};

/** client-go's jitter factor: a standby's look comes after RetryPeriod × [1, 1.2). */
const JITTER_FACTOR = 1.2;

/** The table for another lease duration, in the same proportions as the defaults. */
export function timingForLeaseDuration(
  leaseDurationSeconds: number,
  retryPeriodMs?: number,
): LeaderElectionTiming {
  const d = DEFAULT_LEADER_ELECTION_TIMING;
  const leaseDurationMs = leaseDurationSeconds * 1000;
  const scale = leaseDurationMs / d.leaseDurationMs;
  return {
    leaseDurationMs,
    renewDeadlineMs: Math.round(d.renewDeadlineMs * scale),
    retryPeriodMs: retryPeriodMs ?? Math.min(d.retryPeriodMs, Math.round(d.retryPeriodMs * scale)),
    requestTimeoutMs: Math.round(d.requestTimeoutMs * scale),
  };
}

/** client-go's checks plus ours; returns one line saying what is wrong, or undefined. */
export function timingProblem(t: LeaderElectionTiming): string | undefined {
  if (!(t.leaseDurationMs > t.renewDeadlineMs))
    return `the lease duration (${t.leaseDurationMs} ms) must be greater than the renew deadline (${t.renewDeadlineMs} ms)`;
  if (!(t.renewDeadlineMs > JITTER_FACTOR * t.retryPeriodMs))
    return `the renew deadline (${t.renewDeadlineMs} ms) must be greater than ${JITTER_FACTOR} × the retry period (${t.retryPeriodMs} ms)`;
  if (!(t.requestTimeoutMs < t.renewDeadlineMs))
    return `the request timeout (${t.requestTimeoutMs} ms) must be shorter than the renew deadline (${t.renewDeadlineMs} ms)`;
  if (t.renewDeadlineMs + t.requestTimeoutMs > t.leaseDurationMs)
    return `the renew deadline plus the request timeout (${t.renewDeadlineMs + t.requestTimeoutMs} ms) must not exceed the lease duration (${t.leaseDurationMs} ms)`;
  return undefined;
}

export interface LeaderElectionOptions {
  leaseName: string;
  /** This replica's identity (pod name plus a random suffix). */
  identity: string;
  timing: LeaderElectionTiming;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log: Logger;
}

/** Thrown by a guarded write when this replica is not (or no longer surely) the leader. */
export class NotLeadingError extends Error {
  constructor(what: string) {
    super(`not the leader; ${what} not sent`);
  }
}

const now = (): number => performance.now();

export class LeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private leading = false;
  /** Monotonic time at which the last successful renewal was sent. */
  private lastRenewSent = 0;
  private observed: { key: string; at: number } | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly kube: AgentKube,
    private readonly opts: LeaderElectionOptions,
  ) {
    const problem = timingProblem(opts.timing);
    if (problem) throw new Error(`leader election: ${problem}`);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * True when this replica may act now. Steps down first (synchronously, so onStoppedLeading
   * runs before the caller's write) when the renew deadline has passed.
   */
  mayAct(): boolean {
    this.checkDeadline();
    return this.leading;
  }

  /** For writers: throws NotLeadingError unless mayAct(). */
  assertLeading(what: string): void {
    if (!this.mayAct()) throw new NotLeadingError(what);
  }

  start(): void {
    this.tick();
  }

  private checkDeadline(): void {
    if (this.leading && now() - this.lastRenewSent >= this.opts.timing.renewDeadlineMs) {
      this.opts.log.error(
        { renewDeadlineMs: this.opts.timing.renewDeadlineMs },
        'could not renew the lease within the renew deadline; stepping down',
      );
      this.setLeading(false);
    }
  }

  private tick = (): void => {
    if (this.stopped) return;
    this.checkDeadline();
    this.inFlight = this.attempt()
      .catch((err: unknown) => this.opts.log.warn({ err: kubeErrorMessage(err) }, 'lease update failed'))
      .finally(() => {
        this.inFlight = undefined;
        this.checkDeadline();
        if (this.stopped) return;
        const { retryPeriodMs } = this.opts.timing;
        // a standby jitters its looks (client-go's JitterUntil) so replicas do not move in step
        const wait = this.leading ? retryPeriodMs : retryPeriodMs * (1 + Math.random() * (JITTER_FACTOR - 1));
        this.timer = setTimeout(this.tick, wait);
      });
  };

  private async attempt(): Promise<void> {
    const { coordination, namespace, k8s, requestOptions } = this.kube;
    const { leaseName: name, identity } = this.opts;
    const durationSeconds = Math.ceil(this.opts.timing.leaseDurationMs / 1000);
    const sentAt = now();
    const nowTime = new k8s.V1MicroTime();
    let lease: V1Lease;
    try {
      lease = await coordination.readNamespacedLease({ name, namespace }, requestOptions());
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await coordination.createNamespacedLease(
          {
            namespace,
            body: {
              metadata: { name, namespace, annotations: { [ANNOTATION_VERSION]: RELEASE_VERSION } },
              spec: {
                holderIdentity: identity,
                leaseDurationSeconds: durationSeconds,
                acquireTime: nowTime,
                renewTime: nowTime,
                leaseTransitions: 0,
              },
            },
          },
          requestOptions(),
        );
        this.renewed(sentAt, '(none)');
      } catch (createErr) {
        if (!isConflict(createErr)) throw createErr; // else another replica created it first
      }
      return;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const key = `${holder}|${String(spec.renewTime?.valueOf() ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
    // when this replica first saw the record as it is now (after the read: the later, safer end)
    if (this.observed?.key !== key) this.observed = { key, at: now() };
    const duration = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    const expired = this.observed.at + duration <= now();

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
      leaseDurationSeconds: durationSeconds,
      renewTime: nowTime,
      ...(takingOver
        ? { acquireTime: nowTime, leaseTransitions: (spec.leaseTransitions ?? 0) + (holder ? 1 : 0) }
        : {}),
    };
    try {
      await coordination.replaceNamespacedLease({ name, namespace, body: lease }, requestOptions());
      this.renewed(sentAt, takingOver ? holder || '(released)' : undefined);
    } catch (err) {
      if (isConflict(err)) return; // someone else wrote first; look again next tick
      throw err;
    }
  }

  /** A renewal sent at `sentAt` succeeded; `previous` is set when this took the Lease over. */
  private renewed(sentAt: number, previous: string | undefined): void {
    // a renewal that took longer than the deadline does not count: a standby may have seen it
    // long ago; the next tick renews again
    if (this.stopped || now() - sentAt >= this.opts.timing.renewDeadlineMs) return;
    this.lastRenewSent = sentAt;
    this.opts.log.debug(
      { sentAt: new Date(Date.now() - (now() - sentAt)).toISOString() },
      'renewed the lease',
    );
    if (previous !== undefined) this.opts.log.info({ previous }, 'acquired the lease');
    if (!this.leading) this.setLeading(true);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(
      () => this.checkDeadline(),
      Math.max(0, sentAt + this.opts.timing.renewDeadlineMs - now()),
    );
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (!leading && this.deadlineTimer) clearTimeout(this.deadlineTimer);
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
    const wasLeading = this.mayAct();
    this.setLeading(false);
    if (!wasLeading) return;
    const { coordination, namespace, requestOptions } = this.kube;
    try {
      const lease = await coordination.readNamespacedLease(
        { name: this.opts.leaseName, namespace },
        requestOptions(),
      );
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 };
      await coordination.replaceNamespacedLease(
        { name: this.opts.leaseName, namespace, body: lease },
        requestOptions(),
      );
      this.opts.log.info('released the lease');
    } catch (err) {
      this.opts.log.warn({ err: kubeErrorMessage(err) }, 'could not release the lease; it will expire');
    }
  }
}
