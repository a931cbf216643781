// The leader election's rules, with no I/O and no timers: its timing table and a small state
// machine (standby → leading → standby, and stopped) driven by what the elector saw of the
// Lease and by the time of a clock the caller passes in. agent/leader-election.ts reads and
// writes the Lease and runs the timers; every decision is made here, so it can be tested by
// feeding events and times. client-go's tools/leaderelection is the model.
//
// Why two leaders never act at once (the timing table is the whole argument):
//  - a standby takes the Lease only after it saw the record unchanged for a full LeaseDuration,
//    measured by its own monotonic clock from when it first saw that record (never by the
//    holder's clock);
//  - the leader counts its RenewDeadline from the moment it *sent* its last successful renewal,
//    which is before any standby could have seen that renewal, and stops acting at that
//    deadline — checked by a timer and, synchronously, before every write (a paused process
//    whose timers all fire late still checks before it writes);
//  - every API request times out within RequestTimeout, and RenewDeadline + RequestTimeout
//    <= LeaseDuration, so a write started before the deadline is over before a standby can take
//    over.

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
export const JITTER_FACTOR = 1.2;

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

/**
 * The table the agent's flags ask for: --lease-duration, and --retry-interval and
 * --renew-deadline when given (else in the defaults' proportions). Requests end before the
 * Lease could pass to another replica, and never later than the defaults' proportion.
 */
export function timingFromSettings(s: {
  leaseDurationSeconds: number;
  retryPeriodMs?: number | undefined;
  renewDeadlineMs?: number | undefined;
}): LeaderElectionTiming {
  const base = timingForLeaseDuration(s.leaseDurationSeconds, s.retryPeriodMs);
  const renewDeadlineMs = s.renewDeadlineMs ?? base.renewDeadlineMs;
  return {
    ...base,
    renewDeadlineMs,
    requestTimeoutMs: Math.min(base.requestTimeoutMs, base.leaseDurationMs - renewDeadlineMs),
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

/** The Lease as the elector judges it (read from spec and metadata). */
export interface LeaseRecord {
  /** spec.holderIdentity; '' when released. */
  holder: string;
  /** Anything that changes when the holder renews (renewTime, resourceVersion). */
  version: string;
  /** spec.leaseDurationSeconds in ms, when set. */
  leaseDurationMs?: number;
}

/** When this replica first saw the Lease record as it is now (its own clock). */
interface Observed {
  key: string;
  at: number;
}

/** The states. Times are the injected clock's (monotonic ms). */
export type ElectionState =
  | { kind: 'standby'; observed?: Observed }
  | { kind: 'leading'; observed?: Observed; lastRenewSentAt: number }
  | { kind: 'stopped' };

/** What the elector should write after a look at the Lease. */
export type LeaseAction =
  /** No Lease yet: create it, held by this replica. */
  | { kind: 'create' }
  /** This replica holds it: renew. */
  | { kind: 'renew' }
  /** Released or expired: take it over from `previous` ('' when released). */
  | { kind: 'acquire'; previous: string }
  /** Another replica holds it and it has not expired: write nothing. */
  | { kind: 'wait' };

/** What a transition did that the elector tells its callbacks and log about. */
export type ElectionNote =
  | { kind: 'startedLeading' }
  | { kind: 'acquired'; previous: string }
  | { kind: 'renewed'; sentAt: number }
  | { kind: 'steppedDown'; why: 'renewDeadline' | 'heldByOther' | 'stopped'; holder?: string };

export interface Transition<A = never> {
  state: ElectionState;
  notes: ElectionNote[];
  action?: A;
}

export const initialState = (): ElectionState => ({ kind: 'standby' });

/** Event "time passed": a leader whose last successful renewal was sent RenewDeadline ago steps down. */
export function onClock(state: ElectionState, now: number, timing: LeaderElectionTiming): Transition {
  if (state.kind === 'leading' && now - state.lastRenewSentAt >= timing.renewDeadlineMs) {
    return {
      state: { kind: 'standby', ...(state.observed ? { observed: state.observed } : {}) },
      notes: [{ kind: 'steppedDown', why: 'renewDeadline' }],
    };
  }
  return { state, notes: [] };
}

/**
 * Event "read the Lease" (`record` undefined: there is none), at `now` — after the read answered,
 * the later and so safer end. Says what to write.
 */
export function onLeaseRead(
  state: ElectionState,
  record: LeaseRecord | undefined,
  now: number,
  identity: string,
  timing: LeaderElectionTiming,
): Transition<LeaseAction> {
  if (state.kind === 'stopped') return { state, notes: [], action: { kind: 'wait' } };
  if (!record) return { state, notes: [], action: { kind: 'create' } };
  const key = `${record.holder}|${record.version}`;
  const observed = state.observed?.key === key ? state.observed : { key, at: now };
  const expired = observed.at + (record.leaseDurationMs ?? timing.leaseDurationMs) <= now;
  if (record.holder !== identity && record.holder !== '' && !expired) {
    if (state.kind === 'leading') {
      return {
        state: { kind: 'standby', observed },
        notes: [{ kind: 'steppedDown', why: 'heldByOther', holder: record.holder }],
        action: { kind: 'wait' },
      };
    }
    return { state: { ...state, observed }, notes: [], action: { kind: 'wait' } };
  }
  const action: LeaseAction =
    record.holder === identity ? { kind: 'renew' } : { kind: 'acquire', previous: record.holder };
  return { state: { ...state, observed }, notes: [], action };
}

/**
 * Event "a write of the Lease sent at `sentAt` succeeded", seen at `now`. A renewal that took
 * longer than the renew deadline does not count (a standby may have seen it long ago); the next
 * look renews again.
 */
export function onWriteSucceeded(
  state: ElectionState,
  action: Exclude<LeaseAction, { kind: 'wait' }>,
  sentAt: number,
  now: number,
  timing: LeaderElectionTiming,
): Transition {
  if (state.kind === 'stopped' || now - sentAt >= timing.renewDeadlineMs) return { state, notes: [] };
  const notes: ElectionNote[] = [{ kind: 'renewed', sentAt }];
  if (action.kind === 'create') notes.push({ kind: 'acquired', previous: '(none)' });
  if (action.kind === 'acquire') notes.push({ kind: 'acquired', previous: action.previous || '(released)' });
  if (state.kind === 'standby') notes.push({ kind: 'startedLeading' });
  return {
    state: {
      kind: 'leading',
      lastRenewSentAt: sentAt,
      ...(state.observed ? { observed: state.observed } : {}),
    },
    notes,
  };
}

/** Event "stop": no more campaigning; a leader steps down (and then releases the Lease). */
export function onStop(state: ElectionState): Transition {
  const notes: ElectionNote[] = state.kind === 'leading' ? [{ kind: 'steppedDown', why: 'stopped' }] : [];
  return { state: { kind: 'stopped' }, notes };
}

/** When the leader's renew deadline falls (the time of the timer that checks it). */
export function renewDeadlineAt(state: ElectionState, timing: LeaderElectionTiming): number | undefined {
  return state.kind === 'leading' ? state.lastRenewSentAt + timing.renewDeadlineMs : undefined;
}

/**
 * Time until the next look at the Lease: the leader renews every RetryPeriod; a standby jitters
 * (client-go's JitterUntil) so replicas do not move in step. `random` is in [0, 1).
 */
export function nextLookDelayMs(state: ElectionState, timing: LeaderElectionTiming, random: number): number {
  if (state.kind === 'leading') return timing.retryPeriodMs;
  return timing.retryPeriodMs * (1 + random * (JITTER_FACTOR - 1));
}
