// The leader election's state machine (agent/leader-election-state.ts), driven by events and the
// times of a clock the test holds: no API server, no timers, no waiting.
import assert from 'node:assert/strict';
import { CliError, parseCli } from '../../agent/cli-options.js';
import {
  DEFAULT_LEADER_ELECTION_TIMING as T,
  JITTER_FACTOR,
  initialState,
  nextLookDelayMs,
  onClock,
  onLeaseRead,
  onStop,
  onWriteSucceeded,
  renewDeadlineAt,
  timingForLeaseDuration,
  timingFromSettings,
  timingProblem,
  type ElectionState,
  type LeaseRecord,
} from '../../agent/leader-election-state.js';

const ME = 'replica-a';
const held = (holder: string, version: string): LeaseRecord => ({
  holder,
  version,
  leaseDurationMs: T.leaseDurationMs,
});

/** A leader whose last successful renewal was sent at `sentAt`. */
function leaderAt(sentAt: number): ElectionState {
  const read = onLeaseRead(initialState(), undefined, sentAt, ME, T);
  assert.deepEqual(read.action, { kind: 'create' });
  return onWriteSucceeded(read.state, { kind: 'create' }, sentAt, sentAt + 10, T).state;
}

describe('leader election: state machine', () => {
  it('no Lease: creates it, and leads once the create succeeded', () => {
    const read = onLeaseRead(initialState(), undefined, 0, ME, T);
    assert.deepEqual(read.action, { kind: 'create' });
    assert.equal(read.state.kind, 'standby');
    const t = onWriteSucceeded(read.state, { kind: 'create' }, 0, 50, T);
    assert.equal(t.state.kind, 'leading');
    assert.deepEqual(
      t.notes.map((n) => n.kind),
      ['renewed', 'acquired', 'startedLeading'],
    );
    assert.deepEqual(t.notes[1], { kind: 'acquired', previous: '(none)' });
  });

  it('a standby waits a full lease duration of an unchanged record (its own clock), then takes over', () => {
    let s = initialState();
    let t = onLeaseRead(s, held('replica-b', 'v1'), 1000, ME, T);
    assert.deepEqual(t.action, { kind: 'wait' });
    s = t.state;
    t = onLeaseRead(s, held('replica-b', 'v1'), 1000 + T.leaseDurationMs - 1, ME, T);
    assert.deepEqual(t.action, { kind: 'wait' }, 'one ms short of the lease duration');
    s = t.state;
    t = onLeaseRead(s, held('replica-b', 'v1'), 1000 + T.leaseDurationMs, ME, T);
    assert.deepEqual(t.action, { kind: 'acquire', previous: 'replica-b' });
    const won = onWriteSucceeded(t.state, { kind: 'acquire', previous: 'replica-b' }, 16_000, 16_010, T);
    assert.equal(won.state.kind, 'leading');
    assert.deepEqual(won.notes[1], { kind: 'acquired', previous: 'replica-b' });
  });

  it('each renewal by the holder starts the standby’s wait again', () => {
    let s = onLeaseRead(initialState(), held('replica-b', 'v1'), 0, ME, T).state;
    s = onLeaseRead(s, held('replica-b', 'v2'), 10_000, ME, T).state;
    const t = onLeaseRead(s, held('replica-b', 'v2'), T.leaseDurationMs + 1, ME, T);
    assert.deepEqual(t.action, { kind: 'wait' }, 'v2 was first seen at 10 s');
    assert.deepEqual(onLeaseRead(s, held('replica-b', 'v2'), 10_000 + T.leaseDurationMs, ME, T).action, {
      kind: 'acquire',
      previous: 'replica-b',
    });
  });

  it('a released Lease (no holder) is taken at once', () => {
    const t = onLeaseRead(initialState(), held('', 'v9'), 0, ME, T);
    assert.deepEqual(t.action, { kind: 'acquire', previous: '' });
    const won = onWriteSucceeded(t.state, { kind: 'acquire', previous: '' }, 0, 5, T);
    assert.deepEqual(won.notes[1], { kind: 'acquired', previous: '(released)' });
  });

  it('the leader renews its own Lease, and a renewal moves its deadline', () => {
    const s = leaderAt(0);
    assert.equal(renewDeadlineAt(s, T), T.renewDeadlineMs);
    const t = onLeaseRead(s, held(ME, 'v2'), 2000, ME, T);
    assert.deepEqual(t.action, { kind: 'renew' });
    const renewed = onWriteSucceeded(t.state, { kind: 'renew' }, 2000, 2100, T);
    assert.deepEqual(
      renewed.notes.map((n) => n.kind),
      ['renewed'],
      'no second startedLeading',
    );
    assert.equal(renewDeadlineAt(renewed.state, T), 2000 + T.renewDeadlineMs);
  });

  it('the leader steps down when its last renewal was sent a renew deadline ago, not before', () => {
    const s = leaderAt(500);
    const before = onClock(s, 500 + T.renewDeadlineMs - 1, T);
    assert.equal(before.state.kind, 'leading');
    assert.deepEqual(before.notes, []);
    const at = onClock(s, 500 + T.renewDeadlineMs, T);
    assert.equal(at.state.kind, 'standby');
    assert.deepEqual(at.notes, [{ kind: 'steppedDown', why: 'renewDeadline' }]);
  });

  it('a renewal answered only after the renew deadline does not count', () => {
    const s = leaderAt(0);
    const late = onWriteSucceeded(s, { kind: 'renew' }, 1000, 1000 + T.renewDeadlineMs, T);
    assert.equal(renewDeadlineAt(late.state, T), T.renewDeadlineMs, 'the deadline of the renewal before');
    assert.deepEqual(late.notes, []);
    const standby = onLeaseRead(initialState(), held('', 'v1'), 0, ME, T).state;
    assert.equal(
      onWriteSucceeded(standby, { kind: 'acquire', previous: '' }, 0, T.renewDeadlineMs, T).state.kind,
      'standby',
    );
  });

  it('a leader that finds another holder steps down and writes nothing', () => {
    const t = onLeaseRead(leaderAt(0), held('replica-b', 'v5'), 3000, ME, T);
    assert.equal(t.state.kind, 'standby');
    assert.deepEqual(t.action, { kind: 'wait' });
    assert.deepEqual(t.notes, [{ kind: 'steppedDown', why: 'heldByOther', holder: 'replica-b' }]);
  });

  it('stop: a leader steps down; nothing is written afterwards', () => {
    const t = onStop(leaderAt(0));
    assert.equal(t.state.kind, 'stopped');
    assert.deepEqual(t.notes, [{ kind: 'steppedDown', why: 'stopped' }]);
    assert.deepEqual(onStop(initialState()).notes, []);
    assert.deepEqual(onLeaseRead(t.state, undefined, 1, ME, T).action, { kind: 'wait' });
    assert.equal(onWriteSucceeded(t.state, { kind: 'create' }, 1, 2, T).state.kind, 'stopped');
  });

  it('two replicas: the standby can take over only after the leader stopped acting', () => {
    // the leader's last successful renewal is sent at 0 and lands at most a request timeout later
    const leader = leaderAt(0);
    for (const seenAt of [0, T.requestTimeoutMs]) {
      // the standby first sees that record at seenAt; its first chance to take over:
      const standby = onLeaseRead(initialState(), held('replica-a', 'v'), seenAt, 'replica-b', T);
      let takeover = seenAt;
      while (
        onLeaseRead(standby.state, held('replica-a', 'v'), takeover, 'replica-b', T).action?.kind === 'wait'
      )
        takeover += 100;
      // by then the leader has stepped down, and a write it started before stepping down is over
      assert.equal(onClock(leader, takeover, T).state.kind, 'standby');
      assert.ok(T.renewDeadlineMs + T.requestTimeoutMs <= takeover);
    }
  });

  it('looks: the leader every retry period, a standby jittered in [1, 1.2) retry periods', () => {
    assert.equal(nextLookDelayMs(leaderAt(0), T, 0.99), T.retryPeriodMs);
    assert.equal(nextLookDelayMs(initialState(), T, 0), T.retryPeriodMs);
    const most = nextLookDelayMs(initialState(), T, 0.999_999);
    assert.ok(most < JITTER_FACTOR * T.retryPeriodMs && most > T.retryPeriodMs);
  });
});

describe('leader election: timing table', () => {
  it('the defaults are client-go’s and pass every check', () => {
    assert.deepEqual([T.leaseDurationMs, T.renewDeadlineMs, T.retryPeriodMs], [15_000, 10_000, 2_000]);
    assert.equal(timingProblem(T), undefined);
  });

  it('another lease duration keeps the proportions; flags may set the renew deadline and retry period', () => {
    assert.deepEqual(timingForLeaseDuration(30), {
      leaseDurationMs: 30_000,
      renewDeadlineMs: 20_000,
      retryPeriodMs: 2_000,
      requestTimeoutMs: 10_000,
    });
    assert.deepEqual(timingFromSettings({ leaseDurationSeconds: 15 }), T);
    const custom = timingFromSettings({ leaseDurationSeconds: 15, renewDeadlineMs: 12_000 });
    assert.equal(custom.requestTimeoutMs, 3_000, 'renew deadline + request timeout fits the lease');
    assert.equal(timingProblem(custom), undefined);
  });

  it('says in one line which relation a table breaks', () => {
    assert.match(timingProblem({ ...T, renewDeadlineMs: 15_000 }) ?? '', /greater than the renew deadline/);
    assert.match(timingProblem({ ...T, retryPeriodMs: 9_000 }) ?? '', /1.2 × the retry period/);
    assert.match(timingProblem({ ...T, requestTimeoutMs: 10_000 }) ?? '', /shorter than the renew deadline/);
    assert.match(
      timingProblem({ ...T, requestTimeoutMs: 6_000 }) ?? '',
      /must not exceed the lease duration/,
    );
  });

  it('the flags are checked against the table the agent runs with, in one line naming them', () => {
    assert.doesNotThrow(() => parseCli(['--lease-duration=15', '--renew-deadline=10']));
    // a renew deadline shorter than the request timeout (5 s) would leave a write in flight
    // after the leader stopped acting: refused when the flags are read, not when the agent starts
    assert.throws(
      () => parseCli(['--lease-duration=15', '--renew-deadline=3']),
      (err: unknown) =>
        err instanceof CliError &&
        /^--lease-duration\/--renew-deadline\/--retry-interval: the request timeout \(5000 ms\) must be shorter than the renew deadline \(3000 ms\)$/.test(
          err.message,
        ),
    );
  });
});
