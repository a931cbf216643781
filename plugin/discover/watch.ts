// discover --watch: clusters that appear are printed as ADDED, those gone as REMOVED (kubectl's
// watch-event vocabulary); -o json prints one event object per line. Runs until interrupted.
//
// The LAN is watched continuously, like `avahi-browse` without -t: one mDNS browser for the whole
// run (RFC 6762 re-query timing), so a peer is ADDED when it announces itself and REMOVED when
// it says goodbye or its records expire, not at the next round. Domains and URLs have no such
// signals and are looked at again every --interval. A cluster is REMOVED only once no source
// has it any more.
//
// The STATUS column is judged against the cluster's ForeignClusters as they are now: they are
// followed with the repo's one Kubernetes watch (shared/kube/watch.ts), so a cluster that
// appears after a `kubectl liqo join` elsewhere shows known/joined, not new.
import {
  collectClusters,
  identifySighting,
  lanSighting,
  type CollectOptions,
  type DiscoveredCluster,
} from '../../shared/discovery/collect.js';
import { DISCOVERY_API_VERSION, PLURAL_FOREIGN_CLUSTERS } from '../../shared/api/constants.js';
import type { ForeignCluster } from '../../shared/api/types.js';
import { watchCollection, type WatchHandle, type WatchLog } from '../../shared/kube/watch.js';
import type { MdnsPeer } from '../../shared/lookup/types.js';
import type { DiscoverOptions } from '../commands/discover.js';
import type { CommandIO } from '../io.js';
import { stdoutColors } from '../output/color.js';
import type { OutputFormat } from '../output/print.js';
import { statusOf, type ClusterState } from './cluster-state.js';
import { nothingSearchedError, type SearchedSources } from './failed-sources.js';
import { DiscoverTable, toRecord } from './render.js';

type WatchEvent = 'ADDED' | 'REMOVED';

/** Which sources have each cluster right now, and the one event stream they feed. */
class PresenceBoard {
  private readonly holders = new Map<string, { cluster: DiscoveredCluster; sources: Set<string> }>();

  constructor(private readonly emit: (cluster: DiscoveredCluster, event: WatchEvent) => void) {}

  hold(holder: string, cluster: DiscoveredCluster): void {
    const key = keyOf(cluster);
    const entry = this.holders.get(key);
    if (entry) {
      entry.sources.add(holder);
      return;
    }
    this.holders.set(key, { cluster, sources: new Set([holder]) });
    this.emit(cluster, 'ADDED');
  }

  release(holder: string, key: string): void {
    const entry = this.holders.get(key);
    if (!entry || !entry.sources.delete(holder) || entry.sources.size > 0) return;
    this.holders.delete(key);
    this.emit(entry.cluster, 'REMOVED');
  }
}

export async function watchClusters(
  collect: CollectOptions,
  state: ClusterState | undefined,
  io: CommandIO,
  format: OutputFormat,
  intervalMs: number,
  opts: DiscoverOptions,
  sources: SearchedSources,
): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const table = new DiscoverTable(io, stdoutColors(io, opts.color), true);
  const board = new PresenceBoard((c, event) => {
    if (format === 'table') table.row(c, state, event);
    else io.stdout.write(`${JSON.stringify({ type: event, cluster: toRecord(c, statusOf(c, state)) })}\n`);
  });
  const { lan, onSourceFailed: _perRun, ...others } = collect;
  const followed = state ? followForeignClusters(state, collect.onSourceError) : undefined;
  const lanWatch = lan ? await watchLan(lan, collect, board, stop.signal) : undefined;
  try {
    const hasRounds = (others.domains?.length ?? 0) > 0 || (others.urls?.length ?? 0) > 0;
    // as `kubectl get -w` does when its first list fails: nothing to watch is an error
    const lanFailed = lan && !lanWatch ? ['lan'] : [];
    if (!hasRounds) {
      const nothing = nothingSearchedError(lanFailed, sources);
      if (nothing) throw nothing;
    }
    let present = new Set<string>();
    let warnedLastRound = new Set<string>();
    let firstRound = true;
    while (hasRounds && !stop.signal.aborted) {
      const round = AbortSignal.any([stop.signal, AbortSignal.timeout(Math.max(1000, intervalMs - 100))]);
      const seen = new Set<string>();
      const warned = new Set<string>();
      const failed: string[] = [...lanFailed];
      const found = await collectClusters({
        ...others,
        signal: round,
        onCluster: (c, change) => {
          if (change !== 'added') return;
          seen.add(keyOf(c));
          board.hold('rounds', c);
        },
        // a source that keeps failing the same way is said once, not every --interval
        onSourceError: (source, message) => {
          const warning = `${source}: ${message}`;
          warned.add(warning);
          if (!warnedLastRound.has(warning)) others.onSourceError?.(source, message);
        },
        onSourceFailed: (source) => failed.push(source),
      });
      if (stop.signal.aborted) break;
      const nothing = firstRound ? nothingSearchedError(failed, sources) : undefined;
      if (nothing) throw nothing;
      firstRound = false;
      warnedLastRound = warned;
      for (const c of found) {
        seen.add(keyOf(c));
        board.hold('rounds', c);
      }
      for (const key of present) if (!seen.has(key)) board.release('rounds', key);
      present = seen;
      await sleep(intervalMs, stop.signal);
    }
    if (!stop.signal.aborted) await sleep(Infinity, stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    followed?.stop();
    await lanWatch?.stop();
  }
}

/**
 * Keeps `state.foreignClusters` current for the STATUS of rows still to come. A failure is said
 * once per distinct message (the watch retries with its back-off meanwhile).
 */
function followForeignClusters(
  state: ClusterState,
  warn: ((source: string, message: string) => void) | undefined,
): WatchHandle {
  const current = new Map(state.foreignClusters.map((fc) => [fc.metadata.name ?? '', fc]));
  const said = new Set<string>();
  const say = (_obj: object, msg: string) => {
    if (said.has(msg)) return;
    said.add(msg);
    warn?.('ForeignClusters', msg);
  };
  const quiet = () => undefined;
  const log: WatchLog = {
    debug: quiet,
    info: quiet,
    warn: (obj, msg) => say(obj, `${msg}: ${String((obj as { err?: unknown }).err ?? '')}`),
    error: (obj, msg) => say(obj, `${msg}: ${String((obj as { err?: unknown }).err ?? '')}`),
  };
  return watchCollection<ForeignCluster>(
    state.resources.kubeConfig,
    `/apis/${DISCOVERY_API_VERSION}/${PLURAL_FOREIGN_CLUSTERS}`,
    (type, fc) => {
      const name = fc.metadata.name ?? '';
      if (type === 'DELETED') current.delete(name);
      else current.set(name, fc);
      state.foreignClusters = [...current.values()];
    },
    { log },
  );
}

/** A continuous mDNS browser whose peers, once identified, hold their cluster on the board. */
async function watchLan(
  lan: NonNullable<CollectOptions['lan']>,
  collect: CollectOptions,
  board: PresenceBoard,
  signal: AbortSignal,
): Promise<{ stop(): Promise<void> } | undefined> {
  const { MdnsBrowser } = await import('../../shared/lookup/mdns.js');
  const browser = new MdnsBrowser({
    ...(lan.interfaces?.length ? { interfaces: lan.interfaces } : {}),
    ...(lan.serviceTypes ? { serviceTypes: lan.serviceTypes } : {}),
  });
  // Per peer (instance of a service type): the cluster key it holds, and a generation so that
  // an identity answering after the peer left (or changed) is not counted.
  const peers = new Map<string, { generation: number; key?: string }>();
  let generations = 0;
  const peerKey = (peer: MdnsPeer) => `${peer.serviceType}|${peer.instance}`.toLowerCase();
  const holder = (id: string) => `lan:${id}`;
  const forget = (id: string) => {
    const entry = peers.get(id);
    peers.delete(id);
    if (entry?.key) board.release(holder(id), entry.key);
  };
  const seen = async (peer: MdnsPeer) => {
    const id = peerKey(peer);
    const generation = ++generations;
    const entry = peers.get(id) ?? { generation };
    entry.generation = generation;
    peers.set(id, entry);
    const cluster = await identifySighting(lanSighting(peer), { ...collect, signal });
    const now = peers.get(id);
    if (signal.aborted || now?.generation !== generation) return;
    const key = keyOf(cluster);
    if (now.key === key) return; // an update (new address, TXT) of the same cluster: no event
    board.hold(holder(id), cluster);
    if (now.key) board.release(holder(id), now.key);
    now.key = key;
  };
  browser.on('added', (peer: MdnsPeer) => void seen(peer));
  browser.on('updated', (peer: MdnsPeer) => void seen(peer));
  browser.on('removed', (peer: MdnsPeer) => forget(peerKey(peer)));
  browser.on('warning', () => undefined); // odd packets are dropped; the watch goes on
  try {
    await browser.start();
  } catch (err) {
    collect.onSourceError?.('lan', (err as Error).message);
    return undefined;
  }
  return { stop: () => browser.stop() };
}

function keyOf(c: DiscoveredCluster): string {
  return c.identity ? `id:${c.clusterId}` : `url:${c.authUrl}`;
}

/** Resolves after `ms` (Infinity: never) or on abort; the timer keeps the process alive meanwhile. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = Number.isFinite(ms) ? setTimeout(resolve, ms) : setInterval(() => undefined, 1 << 30);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
