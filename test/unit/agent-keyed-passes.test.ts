// KeyedPasses: one pass at a time per name, one more after a change mid-pass, none after delete
// or stop. Each pass here is held open by the test and released by hand, so the tests assert
// the order of passes, not how long anything takes.
import assert from 'node:assert/strict';
import { KeyedPasses } from '../../agent/keyed-passes.js';

const HOUR = 3_600_000;

interface Call {
  name: string;
  state: string;
  /** End the pass, asking for the next one after `next` ms (undefined: none). */
  end(next?: number): void;
  fail(error: Error): void;
}

/** A KeyedPasses whose passes wait for the test; `started()` resolves with the next pass begun. */
function harness() {
  const calls: Call[] = [];
  const waiting: ((call: Call) => void)[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const passes = new KeyedPasses<string>(
    (name, state) =>
      new Promise<number | undefined>((resolve, reject) => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        const call: Call = {
          name,
          state,
          end: (next) => {
            running--;
            resolve(next);
          },
          fail: (error) => {
            running--;
            reject(error);
          },
        };
        calls.push(call);
        waiting.shift()?.(call);
      }),
  );
  const started = (): Promise<Call> => {
    const already = calls.find((c) => !seen.has(c));
    if (already) {
      seen.add(already);
      return Promise.resolve(already);
    }
    return new Promise((resolve) =>
      waiting.push((call) => {
        seen.add(call);
        resolve(call);
      }),
    );
  };
  const seen = new Set<Call>();
  return { passes, calls, started, mostAtOnce: () => mostAtOnce };
}

/** Let timers of 0 ms and settled promises run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe('agent KeyedPasses', () => {
  it('a change during a pass brings exactly one more pass, after it, with the new state; later changes still bring passes', async () => {
    const h = harness();
    h.passes.set('a', 'v1');
    const first = await h.started();
    assert.equal(first.state, 'v1');
    h.passes.set('a', 'v2');
    h.passes.set('a', 'v3');
    await settle();
    assert.equal(h.calls.length, 1); // never two passes of one name at once
    first.end(HOUR);
    const second = await h.started();
    assert.equal(second.state, 'v3');
    second.end(HOUR);
    await settle();
    assert.equal(h.calls.length, 2);
    // the SearchDomain controller's old bookkeeping stopped here: a name changed mid-pass kept
    // a finished pass as "running" and never passed again
    h.passes.set('a', 'v4');
    const third = await h.started();
    assert.equal(third.state, 'v4');
    third.end(undefined);
    assert.equal(h.mostAtOnce(), 1);
    await h.passes.stop();
  });

  it('passes again after the delay the pass asked for, and not at all when it asked for none', async () => {
    const h = harness();
    h.passes.set('a', 'v1');
    (await h.started()).end(0);
    const again = await h.started();
    assert.equal(again.state, 'v1');
    again.end(undefined);
    await settle();
    assert.equal(h.calls.length, 2);
    h.passes.schedule('a', 0);
    (await h.started()).end(undefined);
    assert.equal(h.calls.length, 3);
    await h.passes.stop();
  });

  it('names are independent: one pass of each may run at once', async () => {
    const h = harness();
    h.passes.set('a', 'x');
    h.passes.set('b', 'y');
    const [one, two] = [await h.started(), await h.started()];
    assert.deepEqual([one.name, two.name].sort(), ['a', 'b']);
    assert.equal(h.mostAtOnce(), 2);
    assert.deepEqual(
      [...h.passes.states()],
      [
        ['a', 'x'],
        ['b', 'y'],
      ],
    );
    one.end(undefined);
    two.end(undefined);
    await h.passes.stop();
  });

  it('delete during a pass resolves when that pass ends, and no pass follows it', async () => {
    const h = harness();
    h.passes.set('a', 'v1');
    const first = await h.started();
    assert.equal(h.passes.isRunning('a'), true);
    let deleted = false;
    const gone = h.passes.delete('a').then(() => (deleted = true));
    await settle();
    assert.equal(deleted, false);
    assert.equal(h.passes.get('a'), undefined);
    first.end(0); // asks for another pass at once: a deleted name gets none
    await gone;
    await settle();
    assert.equal(h.calls.length, 1);
    h.passes.schedule('a', 0); // not followed any more: nothing
    await settle();
    assert.equal(h.calls.length, 1);
    await h.passes.stop();
  });

  it('a name deleted and followed again mid-pass starts afresh; the old pass does not reschedule it', async () => {
    const h = harness();
    h.passes.set('a', 'old');
    const old = await h.started();
    void h.passes.delete('a');
    h.passes.set('a', 'new');
    const fresh = await h.started();
    assert.equal(fresh.state, 'new');
    old.end(0);
    fresh.end(undefined);
    await settle();
    assert.deepEqual(
      h.calls.map((c) => c.state),
      ['old', 'new'],
    );
    await h.passes.stop();
  });

  it('stop waits for the passes under way and cancels every timer', async () => {
    const h = harness();
    h.passes.set('a', 'v1');
    h.passes.set('b', 'v1');
    const a = await h.started();
    const b = await h.started();
    b.end(0); // b is timed to pass again at once
    let stopped = false;
    const stopping = h.passes.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false);
    a.end(0);
    await stopping;
    await settle();
    assert.equal(h.calls.length, 2);
    h.passes.set('c', 'v1'); // after stop nothing passes
    await settle();
    assert.equal(h.calls.length, 2);
  });

  it('a pass that throws asks for no next pass; a change brings one', async () => {
    const h = harness();
    h.passes.set('a', 'v1');
    (await h.started()).fail(new Error('boom'));
    await settle();
    assert.equal(h.passes.isRunning('a'), false);
    assert.equal(h.calls.length, 1);
    h.passes.set('a', 'v2');
    const next = await h.started();
    assert.equal(next.state, 'v2');
    next.end(undefined);
    await h.passes.stop();
  });
});
