// The one retry back-off of the repo: the delay doubles per failure in a row, from a first delay
// up to a bound (client-go's wait.Backoff with factor 2 and a cap, no jitter). Used by watches
// that re-open (shared/kube/watch.ts) and the agent's identity retries.

/** Delay before the next try after `failures` failures in a row (1, 2, ...; 0 counts as 1). */
export function backoffDelayMs(failures: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}
