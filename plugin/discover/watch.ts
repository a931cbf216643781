// discover --watch: a discovery round every --interval; clusters that appear are printed as
// ADDED, those no longer found as REMOVED (kubectl's watch-event vocabulary). -o json prints
// one event object per line. Runs until interrupted.
import {
  collectClusters,
  type CollectOptions,
  type DiscoveredCluster,
} from '../../shared/discovery/collect.js';
import type { DiscoverOptions } from '../commands/discover.js';
import type { CommandIO } from '../io.js';
import { stdoutColors } from '../output/color.js';
import type { OutputFormat } from '../output/print.js';
import { statusOf, type ClusterState } from './cluster-state.js';
import { DiscoverTable, toRecord } from './render.js';

export async function watchClusters(
  collect: CollectOptions,
  state: ClusterState | undefined,
  io: CommandIO,
  format: OutputFormat,
  intervalMs: number,
  opts: DiscoverOptions,
): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const table = new DiscoverTable(io, stdoutColors(io, opts.color), true);
  const emit = (c: DiscoveredCluster, event: 'ADDED' | 'REMOVED') => {
    if (format === 'table') table.row(c, state, event);
    else io.stdout.write(`${JSON.stringify({ type: event, cluster: toRecord(c, statusOf(c, state)) })}\n`);
  };
  let present = new Map<string, DiscoveredCluster>();
  try {
    while (!stop.signal.aborted) {
      const round = AbortSignal.any([stop.signal, AbortSignal.timeout(Math.max(1000, intervalMs - 100))]);
      const seen = new Map<string, DiscoveredCluster>();
      const found = await collectClusters({
        ...collect,
        signal: round,
        onCluster: (c, change) => {
          if (change !== 'added') return;
          const key = keyOf(c);
          seen.set(key, c);
          if (!present.has(key)) emit(c, 'ADDED');
        },
      });
      if (stop.signal.aborted) break;
      for (const c of found) seen.set(keyOf(c), c);
      for (const [key, c] of present) if (!seen.has(key)) emit(c, 'REMOVED');
      present = seen;
      await sleep(intervalMs, stop.signal);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function keyOf(c: DiscoveredCluster): string {
  return c.identity ? `id:${c.clusterId}` : `url:${c.authUrl}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
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
