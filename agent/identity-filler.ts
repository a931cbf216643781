// "When you create the ForeignCluster, the Liqo control plane will contact the authURL to
// retrieve all the required cluster information" (the guide). A ForeignCluster with an
// authUrl but no clusterIdentity.clusterID gets its identity, namespace and trust from /ids.
// Failures are retried with exponential back-off and the reason, with the time of the next
// try, is kept in the IdentityResolved condition. The back-off belongs to one spec: an edit
// (a new metadata.generation, e.g. a corrected authUrl) drops the pending retry and is tried
// at once, starting a fresh back-off, and its result replaces the old URL's message.
//
// This file reconciles one ForeignCluster at a time (read it, ask /ids, plan the retry);
// what to write is decided in identity-fill-decision.ts and written by identity-fill-writes.ts.
import { DISCOVERY_API_VERSION, PLURAL_FOREIGN_CLUSTERS } from '../shared/api/constants.js';
import type { ForeignCluster } from '../shared/api/types.js';
import { backoffDelayMs } from '../shared/kube/backoff.js';
import type { LiqoResources } from '../shared/kube/liqo-resources.js';
import type { IdentityResult } from '../shared/lookup/types.js';
import { watchCollection, type WatchEventType, type WatchHandle } from '../shared/kube/watch.js';
import type { ForeignClusterEventSink } from './foreign-cluster-writer.js';
import {
  generationOf,
  judgeIdsAnswer,
  needsIdentity,
  notResolvedCondition,
  resolvedCondition,
  type FetchOutcome,
  type FillFailure,
  type ObservedCondition,
} from './identity-fill-decision.js';
import { storeIdentity, writeIdentityCondition } from './identity-fill-writes.js';
import type { IdentityFetcher } from './identity-fetcher.js';
import type { AgentKube } from './kube-access.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';
import type { AgentMetrics } from './metrics.js';

export const DEFAULT_IDENTITY_RETRY_MIN_MS = 5_000;
export const DEFAULT_IDENTITY_RETRY_MAX_MS = 300_000;

export interface IdentityFillerOptions {
  ownClusterId: string;
  /** First retry after a failure; doubles per failure of the same spec. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  log: Logger;
  metrics?: AgentMetrics;
  /** Told when IdentityResolved changes status (an Event: what `kubectl describe` shows). */
  events?: ForeignClusterEventSink;
}

/** Per ForeignCluster: the failures (and the pending retry) of one spec generation. */
interface FillState {
  /** metadata.generation the failures were counted for. */
  generation: number | undefined;
  failures: number;
  retryTimer?: NodeJS.Timeout;
  running: boolean;
  /** The spec changed while an attempt was running: go again as soon as it ends. */
  again: boolean;
}

export class IdentityFiller {
  private readonly states = new Map<string, FillState>();
  private watch: WatchHandle | undefined;
  private stopped = false;

  constructor(
    private readonly kube: AgentKube,
    private readonly fetcher: IdentityFetcher,
    private readonly opts: IdentityFillerOptions,
  ) {}

  private get liqo(): LiqoResources {
    return this.kube.liqo;
  }

  start(): void {
    this.watch = watchCollection<ForeignCluster>(
      this.kube.kubeConfig,
      `/apis/${DISCOVERY_API_VERSION}/${PLURAL_FOREIGN_CLUSTERS}`,
      (type, fc) => this.onEvent(type, fc),
      { log: this.opts.log, listTimeoutMs: this.kube.requestTimeoutMs },
    );
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    for (const name of [...this.states.keys()]) this.forget(name);
  }

  /** New objects and spec edits are tried at once; anything else waits for its retry. */
  private onEvent(type: WatchEventType, fc: ForeignCluster): void {
    const name = fc.metadata?.name;
    if (!name) return;
    if (type === 'DELETED' || !needsIdentity(fc)) {
      this.forget(name);
      return;
    }
    const state = this.states.get(name);
    if (!state || state.generation !== generationOf(fc)) this.reconcileSoon(name);
  }

  private forget(name: string): void {
    const state = this.states.get(name);
    if (!state) return;
    clearTimeout(state.retryTimer);
    // a running attempt ends by itself and finds the object gone or filled
    if (!state.running) this.states.delete(name);
  }

  private stateOf(name: string): FillState {
    let state = this.states.get(name);
    if (!state) {
      state = { generation: undefined, failures: 0, running: false, again: false };
      this.states.set(name, state);
    }
    return state;
  }

  /** Drops any pending retry and reconciles now (right after the attempt in flight, if any). */
  private reconcileSoon(name: string): void {
    if (this.stopped) return;
    const state = this.stateOf(name);
    clearTimeout(state.retryTimer);
    state.retryTimer = undefined;
    if (state.running) state.again = true;
    else state.retryTimer = setTimeout(() => void this.reconcile(name), 0);
  }

  private retryLater(name: string, state: FillState, delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(() => void this.reconcile(name), delayMs);
  }

  /** One attempt for one ForeignCluster: read it, decide, write, plan the retry. */
  async reconcile(name: string): Promise<'filled' | 'failed' | 'nothing'> {
    const state = this.stateOf(name);
    state.retryTimer = undefined;
    state.running = true;
    state.again = false;
    try {
      const fc = await this.liqo.foreignClusters.get(name);
      if (!fc || !needsIdentity(fc)) {
        this.states.delete(name);
        return 'nothing';
      }
      if (state.generation !== generationOf(fc)) {
        // a new spec: its back-off starts from the short end
        state.generation = generationOf(fc);
        state.failures = 0;
      }
      const outcome: FetchOutcome = await this.fetcher.fetch(fc.spec.authUrl).then(
        (found) => ({ found }),
        (error: unknown) => ({ error }),
      );
      const decision = judgeIdsAnswer(fc.spec.authUrl, outcome, this.opts.ownClusterId);
      const failure = 'fill' in decision ? await this.fill(fc, decision.fill) : decision.failure;
      if (!failure) {
        this.states.delete(name);
        return 'filled';
      }
      await this.recordFailure(fc, state, failure);
      return 'failed';
    } catch (err) {
      // the API server itself failed us: try again later, same spec
      this.opts.log.warn({ foreignCluster: name, err: errorMessage(err) }, 'identity fill failed');
      this.retryLater(name, state, this.nextDelayMs(state));
      return 'failed';
    } finally {
      state.running = false;
      if (state.again && this.states.get(name) === state) this.reconcileSoon(name);
    }
  }

  private nextDelayMs(state: FillState): number {
    state.failures++;
    return backoffDelayMs(
      state.failures,
      this.opts.initialBackoffMs ?? DEFAULT_IDENTITY_RETRY_MIN_MS,
      this.opts.maxBackoffMs ?? DEFAULT_IDENTITY_RETRY_MAX_MS,
    );
  }

  /** Writes the identity into spec (guarded by resourceVersion), then the True condition. */
  private async fill(fc: ForeignCluster, found: IdentityResult): Promise<FillFailure | undefined> {
    const name = fc.metadata.name ?? '';
    let stored: ForeignCluster;
    try {
      stored = await storeIdentity(this.liqo.foreignClusters, fc, found);
    } catch (err) {
      return { reason: 'UpdateRefused', message: `cannot store the identity: ${errorMessage(err)}` };
    }
    const { condition, alsoStatus } = resolvedCondition(fc.spec.authUrl, found, new Date());
    await this.writeCondition(name, generationOf(stored), condition, alsoStatus);
    this.opts.metrics?.foreignClusterWrites.inc({ type: fc.spec.discoveryType ?? 'Manual', action: 'fill' });
    this.opts.log.info(
      { foreignCluster: name, clusterId: found.identity.clusterId },
      'filled identity from /ids',
    );
    return undefined;
  }

  /** Plans the next try of this spec and says when in the condition. */
  private async recordFailure(fc: ForeignCluster, state: FillState, failure: FillFailure): Promise<void> {
    const name = fc.metadata.name ?? '';
    const delayMs = this.nextDelayMs(state);
    const retryAt = new Date(Date.now() + delayMs).toISOString();
    this.opts.log.info(
      {
        foreignCluster: name,
        generation: generationOf(fc),
        reason: failure.reason,
        retryAt,
        retryInMs: delayMs,
      },
      'identity not filled; will retry',
    );
    this.retryLater(name, state, delayMs);
    await this.writeCondition(name, generationOf(fc), notResolvedCondition(failure, retryAt)).catch(
      (err: unknown) =>
        this.opts.log.warn({ foreignCluster: name, err: errorMessage(err) }, 'cannot write status'),
    );
  }

  private writeCondition(
    name: string,
    generation: number | undefined,
    condition: ObservedCondition,
    alsoStatus: Record<string, unknown> = {},
  ): Promise<void> {
    return writeIdentityCondition(this.liqo.foreignClusters, name, generation, condition, alsoStatus, {
      log: this.opts.log,
      events: this.opts.events,
    });
  }
}
