// kubectl liqo discover: find clusters on the LAN, in the cluster's SearchDomains, in --domain
// and at --url; read each one's /ids; print one row per cluster as it is found.
import type { CommandModule } from '../command.js';
import { connect, kubeconfigAvailable, parseDuration, UserError, type GlobalOptions } from '../global.js';
import type { CommandIO } from '../io.js';
import { outputOption, type OutputFormat } from '../output/print.js';
import { runDiscover } from '../discover/run.js';

export interface DiscoverOptions extends GlobalOptions {
  url?: string[];
  domain?: string[];
  dnsServer?: string;
  lan?: boolean;
  interface?: string[];
  timeout?: string;
  skipIdentity?: boolean;
  interactive?: boolean;
  join?: boolean;
  watch?: boolean;
  interval?: string;
  output?: OutputFormat;
}

export const discoverCommand: CommandModule<DiscoverOptions> = {
  command: 'discover',
  describe: 'Find clusters (LAN, SearchDomains, --domain, --url) and show whether they are known or joined',
  builder: (y) =>
    outputOption(
      y
        .option('url', { type: 'string', array: true, describe: 'An auth URL to check (repeatable)' })
        .option('domain', { type: 'string', array: true, describe: 'A DNS domain to search (repeatable)' })
        .option('dns-server', {
          type: 'string',
          describe: 'DNS server host:port for --domain and SearchDomains',
        })
        .option('lan', {
          type: 'boolean',
          describe: 'Browse the LAN even if ClusterConfig disables discovery (--no-lan: never)',
        })
        .option('interface', { type: 'string', array: true, describe: 'Interface name or address for mDNS' })
        .option('timeout', { type: 'string', default: '10s', describe: 'Bound on the whole run' })
        .option('skip-identity', {
          type: 'boolean',
          default: false,
          describe: 'List endpoints without reading /ids',
        })
        .option('interactive', {
          alias: 'i',
          type: 'boolean',
          default: false,
          describe: 'Pick clusters to join',
        })
        .option('join', { type: 'boolean', default: false, describe: 'Join every new cluster found' })
        .option('watch', {
          alias: 'w',
          type: 'boolean',
          default: false,
          describe: 'Keep running; print added/removed',
        })
        .option('interval', {
          type: 'string',
          default: '30s',
          describe: 'With --watch: time between looks at domains and URLs (the LAN is watched continuously)',
        })
        .example('$0 discover', 'LAN and SearchDomains, with status from the current cluster')
        .example('$0 discover --url https://10.0.0.5:30443', 'just that endpoint')
        .example('$0 discover --domain example.com --dns-server 10.0.0.53:53', 'a DNS domain'),
      ['table', 'json', 'yaml'],
    ),
  run,
};

export async function run(opts: DiscoverOptions, io: CommandIO): Promise<void> {
  const timeoutMs = parseDuration(opts.timeout ?? '10s', '--timeout') ?? 10_000;
  const intervalMs = parseDuration(opts.interval ?? '30s', '--interval') ?? 30_000;
  if (timeoutMs <= 0) throw new UserError('--timeout must be more than 0');
  if (opts.watch && (opts.interactive || opts.join)) {
    throw new UserError('--watch cannot be combined with -i or --join');
  }
  if (opts.interactive && (!io.stdin?.isTTY || !io.stderrIsTTY)) {
    throw new UserError('-i needs a terminal (stdin and stderr); use --join to join without asking');
  }
  for (const u of opts.url ?? []) {
    if (!/^https:\/\//i.test(u))
      throw new UserError(`--url ${u}: not an https URL (e.g. https://10.0.0.5:443)`);
  }
  const haveKubeconfig = kubeconfigAvailable(opts, io.env);
  if (!haveKubeconfig && (opts.interactive || opts.join)) {
    throw new UserError('-i and --join need a cluster: set KUBECONFIG or pass --kubeconfig');
  }
  await runDiscover(opts, io, {
    timeoutMs,
    intervalMs,
    // Loads the client library only when there is a kubeconfig to use.
    connect: haveKubeconfig
      ? () => connect({ ...opts, requestTimeout: opts.requestTimeout ?? `${timeoutMs}ms` }, io)
      : undefined,
  });
}
