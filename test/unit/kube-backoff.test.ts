// shared/kube/backoff.ts: the delay before a retry (a watch re-opened, an identity fetched
// again) doubles per failure in a row and stays within its bound.
import assert from 'node:assert/strict';
import { backoffDelayMs } from '../../shared/kube/backoff.js';

describe('retry back-off', () => {
  it('doubles per failure in a row, from the first delay', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => backoffDelayMs(n, 1000, 30_000)),
      [1000, 2000, 4000, 8000],
    );
  });

  it('never exceeds its bound, however many failures', () => {
    assert.equal(backoffDelayMs(6, 1000, 30_000), 30_000);
    assert.equal(backoffDelayMs(10_000, 1000, 30_000), 30_000);
  });
});
