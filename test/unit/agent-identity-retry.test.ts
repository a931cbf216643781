// The Manual ForeignCluster back-off: its schedule and the agent flags that set it.
import assert from 'node:assert/strict';
import { CliError, parseCli } from '../../agent/cli-options.js';
import { DEFAULT_IDENTITY_RETRY_MAX_MS, DEFAULT_IDENTITY_RETRY_MIN_MS } from '../../agent/identity-filler.js';
import { backoffDelayMs as retryDelayMs } from '../../shared/kube/backoff.js';

describe('agent identity retry back-off', () => {
  it('doubles from the first delay per failure, up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(n, 5000, 300_000)),
      [5000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000],
    );
  });

  it('defaults to 5 s doubling up to 300 s, and takes --identity-retry-min/-max in seconds', () => {
    const defaults = parseCli([]);
    assert.equal(defaults.identityRetryMinMs, DEFAULT_IDENTITY_RETRY_MIN_MS);
    assert.equal(defaults.identityRetryMaxMs, DEFAULT_IDENTITY_RETRY_MAX_MS);
    const set = parseCli(['--identity-retry-min', '1.5', '--identity-retry-max', '60']);
    assert.equal(set.identityRetryMinMs, 1500);
    assert.equal(set.identityRetryMaxMs, 60_000);
  });

  it('refuses a cap below the first delay, or a non-positive delay, in one line naming the flag', () => {
    assert.throws(
      () => parseCli(['--identity-retry-min', '60', '--identity-retry-max', '10']),
      (err: unknown) =>
        err instanceof CliError &&
        err.message === '--identity-retry-max (10) must be at least --identity-retry-min (60)',
    );
    assert.throws(
      () => parseCli(['--identity-retry-min', '0']),
      (err: unknown) =>
        err instanceof CliError && /^--identity-retry-min must be a number > 0/.test(err.message),
    );
  });
});
