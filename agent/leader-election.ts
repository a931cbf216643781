// One active agent per cluster: the elector that reads and writes the coordination.k8s.io/v1
// Lease and runs the timers. What it decides — when to take, renew or give up the Lease, and
// the timing table that makes two leaders impossible — is agent/leader-election-state.ts; this
// file only turns those decisions into API calls, callbacks and log lines. Every write is a
// resourceVersion-guarded update, so two replicas can never both believe they won.
import { performance } from 'node:perf_hooks';
import type { V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { isConflict, isNotFound, kubeErrorMessage, type AgentKube } from './kube-access.js';
import type { Logger } from './logger.js';
import { ANNOTATION_VERSION } from '../shared/api/constants.js';
import { RELEASE_VERSION } from '../shared/api/release.js';
import {
  initialState,
  nextLookDelayMs,
  onClock,
  onLeaseRead,
  onStop,
  onWriteSucceeded,
  renewDeadlineAt,
  timingProblem,
  type ElectionNote,
  type ElectionState,
  type LeaderElectionTiming,
  type LeaseAction,
  type LeaseRecord,
  type Transition,
} from './leader-election-state.js';

export interface LeaderElectionOptions {
  leaseName: string;
  /** This replica's identity (pod name plus a random suffix). */
  identity: string;
  timing: LeaderElectionTiming;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log: Logger;
  /** Monotonic clock in ms; default performance.now. */
  now?: () => number;
}

/** Thrown by a guarded write when this replica is not (or no longer surely) the leader. */
export class NotLeadingError extends Error {
  constructor(what: string) {
    super(`not the leader; ${what} not sent`);
  }
}

/** What the elector judges of a Lease it read. */
export function leaseRecordOf(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  const seconds = spec.leaseDurationSeconds;
  return {
    holder: spec.holderIdentity ?? '',
    version: `${String(spec.renewTime?.valueOf() ?? '')}|${lease.metadata?.resourceVersion ?? ''}`,
    ...(seconds !== undefined ? { leaseDurationMs: seconds * 1000 } : {}),
  };
}

/** The Lease to write for `action` (renew or take over), saying which release holds it. */
export function leaseToWrite(
  lease: V1Lease,
  action: { kind: 'renew' } | { kind: 'acquire'; previous: string },
  identity: string,
  durationSeconds: number,
  now: V1MicroTime,
): V1Lease {
  const spec = lease.spec ?? {};
  return {
    ...lease,
    // the leader says which release it is (`kubectl liqo version` reads it)
    metadata: {
      ...lease.metadata,
      annotations: { ...lease.metadata?.annotations, [ANNOTATION_VERSION]: RELEASE_VERSION },
    },
    spec: {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: now,
      ...(action.kind === 'acquire'
        ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + (action.previous ? 1 : 0) }
        : {}),
    },
  };
}

export class LeaderElector {
  private state: ElectionState = initialState();
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Set by stop() (and by tests that simulate a crash): no more looks at the Lease. */
  private stopped = false;
  private inFlight: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly kube: AgentKube,
    private readonly opts: LeaderElectionOptions,
  ) {
    const problem = timingProblem(opts.timing);
    if (problem) throw new Error(`leader election: ${problem}`);
    this.now = opts.now ?? (() => performance.now());
  }

  get isLeader(): boolean {
    return this.state.kind === 'leading';
  }

  /**
   * True when this replica may act now. Steps down first (synchronously, so onStoppedLeading
   * runs before the caller's write) when the renew deadline has passed.
   */
  mayAct(): boolean {
    this.apply(onClock(this.state, this.now(), this.opts.timing));
    return this.isLeader;
  }

  /** For writers: throws NotLeadingError unless mayAct(). */
  assertLeading(what: string): void {
    if (!this.mayAct()) throw new NotLeadingError(what);
  }

  start(): void {
    this.tick();
  }

  private tick = (): void => {
    if (this.stopped) return;
    this.mayAct();
    this.inFlight = this.look()
      .catch((err: unknown) => this.opts.log.warn({ err: kubeErrorMessage(err) }, 'lease update failed'))
      .finally(() => {
        this.inFlight = undefined;
        this.mayAct();
        if (this.stopped) return;
        this.timer = setTimeout(this.tick, nextLookDelayMs(this.state, this.opts.timing, Math.random()));
      });
  };

  /** One look at the Lease: read it, let the state machine decide, write what it says. */
  private async look(): Promise<void> {
    const sentAt = this.now(); // before the read: a renewal counts from when it was asked for
    const lease = await this.readLease();
    const decided = onLeaseRead(
      this.state,
      lease && leaseRecordOf(lease),
      this.now(),
      this.opts.identity,
      this.opts.timing,
    );
    this.apply(decided);
    const action = decided.action;
    if (!action || action.kind === 'wait' || this.stopped) return;
    try {
      await this.writeLease(lease, action);
    } catch (err) {
      if (isConflict(err)) return; // another replica wrote (or created) first; look again next tick
      throw err;
    }
    if (this.stopped) return;
    this.apply(onWriteSucceeded(this.state, action, sentAt, this.now(), this.opts.timing));
  }

  private async readLease(): Promise<V1Lease | undefined> {
    const { coordination, namespace, requestOptions } = this.kube;
    try {
      return await coordination.readNamespacedLease(
        { name: this.opts.leaseName, namespace },
        requestOptions(),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async writeLease(
    lease: V1Lease | undefined,
    action: Exclude<LeaseAction, { kind: 'wait' }>,
  ): Promise<void> {
    const { coordination, namespace, k8s, requestOptions } = this.kube;
    const { leaseName: name, identity } = this.opts;
    const durationSeconds = Math.ceil(this.opts.timing.leaseDurationMs / 1000);
    const now = new k8s.V1MicroTime();
    if (!lease || action.kind === 'create') {
      const body: V1Lease = {
        metadata: { name, namespace, annotations: { [ANNOTATION_VERSION]: RELEASE_VERSION } },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      };
      await coordination.createNamespacedLease({ namespace, body }, requestOptions());
      return;
    }
    const body = leaseToWrite(lease, action, identity, durationSeconds, now);
    await coordination.replaceNamespacedLease({ name, namespace, body }, requestOptions());
  }

  /** Takes the machine's new state and acts on its notes: log lines, callbacks, the deadline timer. */
  private apply(t: Transition<unknown>): void {
    this.state = t.state;
    for (const note of t.notes) this.tell(note);
  }

  private tell(note: ElectionNote): void {
    const { log, timing } = this.opts;
    switch (note.kind) {
      case 'renewed': {
        log.debug(
          { sentAt: new Date(Date.now() - (this.now() - note.sentAt)).toISOString() },
          'renewed the lease',
        );
        const deadline = renewDeadlineAt(this.state, timing);
        if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
        if (deadline !== undefined)
          this.deadlineTimer = setTimeout(() => this.mayAct(), Math.max(0, deadline - this.now()));
        return;
      }
      case 'acquired':
        return void log.info({ previous: note.previous }, 'acquired the lease');
      case 'startedLeading':
        return this.callback(this.opts.onStartedLeading);
      case 'steppedDown':
        if (note.why === 'renewDeadline')
          log.error(
            { renewDeadlineMs: timing.renewDeadlineMs },
            'could not renew the lease within the renew deadline; stepping down',
          );
        if (note.why === 'heldByOther')
          log.warn({ holder: note.holder }, 'another replica holds the lease; stepping down');
        if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
        return this.callback(this.opts.onStoppedLeading);
    }
  }

  private callback(fn: () => void): void {
    try {
      fn();
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
    this.apply(onStop(this.state));
    if (!wasLeading) return;
    const { coordination, namespace, requestOptions } = this.kube;
    try {
      const lease = await this.readLease();
      if (lease?.spec?.holderIdentity !== this.opts.identity) return;
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
