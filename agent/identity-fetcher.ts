// Fetches peers' /ids for every part of the agent through one bounded pool: at most
// `concurrency` fetches in flight, each with its own timeout and a hard outer deadline, and
// concurrent requests for the same URL share one fetch. A peer whose /ids hangs or lies
// therefore costs one slot for a few seconds and never stalls the others.
import { fetchClusterIdentity, IdentityFetchError } from '../shared/lookup/ids.js';
import { checkClusterId } from '../shared/rules/cluster-id.js';
import type { IdentityResult } from '../shared/lookup/types.js';
import type { AgentMetrics } from './metrics.js';

export interface IdentityFetcherOptions {
  concurrency: number;
  timeoutMs: number;
  caBundle?: string;
  /** Loopback peers may be fetched (--allow-loopback, sandboxes); refused otherwise (SPEC §"Security"). */
  allowLoopback?: boolean;
  metrics?: AgentMetrics;
}

export class IdentityFetcher {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly inFlight = new Map<string, Promise<IdentityResult>>();
  private readonly controller = new AbortController();

  constructor(private readonly opts: IdentityFetcherOptions) {}

  get pending(): number {
    return this.active + this.waiting.length;
  }

  /**
   * `addresses`: connect there instead of resolving the URL's host with the system resolver
   * (SearchDomain targets resolved with the agent's own DNS server).
   */
  fetch(authUrl: string, addresses?: string[]): Promise<IdentityResult> {
    const key = addresses?.length ? `${authUrl}|${addresses.join(',')}` : authUrl;
    const existing = this.inFlight.get(key);
    if (existing) return existing;
    const p = this.withSlot(() => this.fetchBounded(authUrl, addresses)).finally(() =>
      this.inFlight.delete(key),
    );
    this.inFlight.set(key, p);
    return p;
  }

  /** Aborts what is in flight (shutdown). */
  close(): void {
    this.controller.abort();
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.opts.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async fetchBounded(authUrl: string, addresses?: string[]): Promise<IdentityResult> {
    const started = performance.now();
    const deadline = AbortSignal.timeout(this.opts.timeoutMs + 1000);
    const signal = AbortSignal.any([deadline, this.controller.signal]);
    let timer: NodeJS.Timeout | undefined;
    // the look-up honours its own timeout; this outer bound holds even if it did not
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new IdentityFetchError(
              'TIMEOUT',
              `${authUrl}/ids`,
              `${authUrl}/ids: no answer within ${this.opts.timeoutMs} ms`,
            ),
          ),
        this.opts.timeoutMs + 1500,
      );
    });
    try {
      const result = await Promise.race([
        fetchClusterIdentity(authUrl, {
          timeoutMs: this.opts.timeoutMs,
          signal,
          ...(addresses?.length ? { addresses } : {}),
          ...(this.opts.caBundle ? { caBundle: this.opts.caBundle } : {}),
          // every URL the agent fetches came from data (ForeignClusters, DNS, the LAN)
          addressPolicy: { allowLoopback: this.opts.allowLoopback === true },
        }),
        guard,
      ]);
      // the id names a ForeignCluster and its label: a peer that announces an unusable one is
      // reported like one that does not answer, and nothing is written for it
      const refusal = checkClusterId(result.identity.clusterId, `${authUrl}/ids`);
      if (refusal) throw new IdentityFetchError('INVALID_CLUSTER_ID', `${authUrl}/ids`, refusal);
      this.opts.metrics?.identityFetches.inc({ outcome: 'ok' });
      return result;
    } catch (err) {
      const code =
        typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'ERROR';
      this.opts.metrics?.identityFetches.inc({ outcome: code });
      if (err instanceof IdentityFetchError) throw err;
      throw new IdentityFetchError('ERROR', `${authUrl}/ids`, (err as Error).message ?? String(err), {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
      this.opts.metrics?.identityFetchSeconds.observe((performance.now() - started) / 1000);
    }
  }
}
