// The discover run: read what the cluster knows (if there is one), pick the sources, collect
// with a deadline, stream rows, then join (--join / -i) or keep watching (--watch).
import {
  collectClusters,
  compareClusters,
  type CollectOptions,
  type DiscoveredCluster,
} from '../../shared/discovery/collect.js';
import type { LiqoResources } from '../../shared/kube/liqo-resources.js';
import type { CommandContext } from '../command.js';
import type { DiscoverOptions } from '../commands/discover.js';
import { debug, UserError } from '../global.js';
import { stderrColors, stdoutColors } from '../output/color.js';
import { printData } from '../output/print.js';
import { startSpinner } from '../output/spinner.js';
import { readClusterState, statusOf, type ClusterState } from './cluster-state.js';
import { nothingSearchedError, type SearchedSources } from './failed-sources.js';
import { joinSelected, pickClusters } from './join.js';
import { DiscoverTable, toRecord } from './render.js';
import { watchClusters } from './watch.js';

export async function runDiscover(opts: DiscoverOptions, { io, clients }: CommandContext): Promise<void> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const errColors = stderrColors(io, opts.color);
  const note = (m: string) => io.stderr.write(`${errColors.yellow('Warning:')} ${m}\n`);

  const state = await readState(opts, clients, note);
  const plan = planSources(opts, state, note);
  if (!plan.lan && !plan.domains.length && !plan.urls.length) {
    throw new UserError(
      'nothing to search: LAN discovery is off and there are no SearchDomains; pass --lan, --domain or --url',
    );
  }
  debug(opts, io, 1, `discovering on ${plan.describe} (timeout ${opts.timeoutMs} ms)`);
  const format = opts.output;
  const failedSources: string[] = [];
  const collectOptions: CollectOptions = {
    ...(plan.lan ? { lan: plan.lan } : {}),
    domains: plan.domains,
    ...(opts.dnsServer ? { dnsServers: [opts.dnsServer] } : {}),
    urls: plan.urls,
    skipIdentity: opts.skipIdentity,
    identity: { timeoutMs: Math.min(5000, opts.timeoutMs) },
    onSourceError: (source, message) => note(`${source}: ${message}`),
    onSourceFailed: (source) => failedSources.push(source),
  };
  if (opts.watch) {
    return watchClusters(collectOptions, state, io, format, opts.intervalMs, opts, sourceCounts(plan));
  }

  const spinner = await startSpinner(io, `Discovering on ${plan.describe}…`, true, opts.color);
  const table = new DiscoverTable(io, stdoutColors(io, opts.color), false, io.stdoutIsTTY);
  let found = 0;
  let clusters: DiscoveredCluster[];
  try {
    clusters = await collectClusters({
      ...collectOptions,
      signal: deadline,
      onCluster: (c, change) => {
        debug(opts, io, 2, `${change}: ${c.clusterId ?? '?'} at ${c.authUrl} (${c.sources.join(',')})`);
        if (change !== 'added') return;
        found++;
        spinner.text(`Discovering on ${plan.describe}… ${found} found`);
        if (format === 'table') spinner.around(() => table.row(c, state));
      },
    });
  } finally {
    spinner.stop();
  }
  const nothingSearched = nothingSearchedError(failedSources, sourceCounts(plan));
  if (nothingSearched) throw nothingSearched;
  if (format === 'table') table.end();
  if (format === 'json' || format === 'yaml') {
    const records = clusters.sort(compareClusters).map((c) => toRecord(c, statusOf(c, state)));
    await printData(io, format, { clusters: records });
  } else if (clusters.length === 0) {
    io.stderr.write(`No clusters found on ${plan.describe}.\n`);
  }
  if (!state) return;
  if (opts.join)
    await joinSelected(
      clusters.filter((c) => statusOf(c, state)?.kind === 'new'),
      state,
      io,
      format,
    );
  else if (opts.interactive) await joinSelected(await pickClusters(clusters, state, io), state, io, format);
}

async function readState(
  opts: DiscoverOptions,
  clients: CommandContext['clients'],
  note: (m: string) => void,
): Promise<ClusterState | undefined> {
  // without a kubeconfig the client library is never loaded
  if (!opts.haveCluster) {
    note('no kubeconfig: discovering without a cluster, so the STATUS of each cluster cannot be shown');
    return undefined;
  }
  let resources: LiqoResources;
  try {
    // no request outlives the run unless --request-timeout says otherwise
    resources = await clients.liqo({ defaultRequestTimeoutMs: opts.timeoutMs });
  } catch (err) {
    note(`cannot show cluster status: ${(err as Error).message}`);
    return undefined;
  }
  return readClusterState(resources, note);
}

function sourceCounts(plan: SourcePlan): SearchedSources {
  return { lan: plan.lan !== undefined, domains: plan.domains.length, urls: plan.urls.length };
}

interface SourcePlan {
  lan: CollectOptions['lan'] | undefined;
  domains: NonNullable<CollectOptions['domains']>;
  urls: string[];
  describe: string;
}

/**
 * With --url or --domain only those are searched (add --lan for the LAN too); otherwise the LAN
 * (unless ClusterConfig disables discovery) and the cluster's SearchDomains.
 */
function planSources(
  opts: DiscoverOptions,
  state: ClusterState | undefined,
  note: (m: string) => void,
): SourcePlan {
  const urls = opts.urls;
  const explicitDomains = opts.domains;
  const explicit = urls.length > 0 || explicitDomains.length > 0;
  let lanOn: boolean;
  if (opts.lan !== undefined) lanOn = opts.lan;
  else if (explicit) lanOn = false;
  else {
    lanOn = state?.clusterConfig?.spec?.discoveryConfig?.enableDiscovery !== false;
    if (!lanOn) note('LAN discovery is disabled in ClusterConfig; pass --lan to browse the LAN anyway');
  }
  const domains: SourcePlan['domains'] = explicitDomains.map((d) => ({
    domain: d,
    kind: 'dns',
    source: `dns:${d}`,
  }));
  if (!explicit) {
    for (const sd of state?.searchDomains ?? []) {
      if (sd.spec?.domain) {
        domains.push({
          domain: sd.spec.domain,
          kind: 'searchdomain',
          source: `searchdomain:${sd.metadata.name}`,
        });
      }
    }
  }
  // the LAN settles in ~1 s, never longer than the whole run allows
  const lan = lanOn
    ? {
        settleMs: Math.min(1000, Math.max(100, opts.timeoutMs - 200)),
        ...(opts.interfaces.length ? { interfaces: opts.interfaces } : {}),
      }
    : undefined;
  const parts = [
    ...(lan ? ['the LAN'] : []),
    ...(domains.length ? [`${domains.length} domain${domains.length > 1 ? 's' : ''}`] : []),
    ...(urls.length ? [`${urls.length} URL${urls.length > 1 ? 's' : ''}`] : []),
  ];
  return { lan, domains, urls, describe: parts.join(', ') };
}
