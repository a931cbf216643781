// kubectl liqo discover: find clusters on the LAN, in the cluster's SearchDomains, in --domain
// and at --url; read each one's /ids; print one row per cluster as it is found.
import type { CommandContext, CommandModule } from '../command.js';
import { parseDuration, UserError, type GlobalOptions } from '../global.js';
import { outputOption, type OutputFormat } from '../output/print.js';
import { runDiscover } from '../discover/run.js';
import { normalizeSearchDomain, parseDnsServerAddress } from '../../shared/lookup/dns-records.js';
import { DNS_SD_SERVICE_PREFIX } from '../../shared/api/constants.js';
import { selectEndpoints } from '../../shared/lookup/mdns/interfaces.js';
import { AUTH_URL_ACCEPTED, parseAuthUrl } from '../../shared/rules/url.js';

/** What yargs parses. */
export interface DiscoverFlags extends GlobalOptions {
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

/** What run() works from: durations in ms, defaults chosen, the environment read. */
export interface DiscoverOptions {
  /** --url, as given (checked by validate). */
  urls: string[];
  /** --domain, as given (checked by validate). */
  domains: string[];
  /** --dns-server host:port for the domains; undefined: the system's resolver. */
  dnsServer: string | undefined;
  /** --lan / --no-lan; undefined: ClusterConfig decides (and --url/--domain turn it off). */
  lan: boolean | undefined;
  /** --interface names or addresses for mDNS; empty: the default-route interfaces. */
  interfaces: string[];
  /** --timeout: the bound on the whole run (and, without --request-timeout, on each API request). */
  timeoutMs: number;
  /** --interval: with --watch, the time between looks at domains and URLs. */
  intervalMs: number;
  skipIdentity: boolean;
  interactive: boolean;
  join: boolean;
  watch: boolean;
  output: OutputFormat;
  /** false after --no-color. */
  color: boolean;
  verbose: number;
  /** Whether a kubeconfig exists: the STATUS column, -i and --join need a cluster. */
  haveCluster: boolean;
  /** Whether stdin and stderr are a terminal (the -i picker draws there). */
  terminal: boolean;
}

export const discoverCommand: CommandModule<DiscoverFlags, DiscoverOptions> = {
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
        .option('interface', {
          type: 'string',
          array: true,
          describe:
            'Interface name or address for mDNS (default: the default-route interfaces, never container bridges/veths)',
        })
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
  complete,
  validate,
  run,
};

/** Flags → Options; the durations parsed and the interface names read against this host's. */
export function complete(flags: DiscoverFlags, { io, clients }: CommandContext): DiscoverOptions {
  const interfaces = flags.interface ?? [];
  if (interfaces.length) {
    try {
      selectEndpoints(interfaces); // reads the interface table only; opens nothing
    } catch (err) {
      throw new UserError(`--interface: ${(err as Error).message}`);
    }
  }
  return {
    urls: flags.url ?? [],
    domains: flags.domain ?? [],
    dnsServer: flags.dnsServer,
    lan: flags.lan,
    interfaces,
    timeoutMs: parseDuration(flags.timeout ?? '10s', '--timeout') ?? 10_000,
    intervalMs: parseDuration(flags.interval ?? '30s', '--interval') ?? 30_000,
    skipIdentity: flags.skipIdentity ?? false,
    interactive: flags.interactive ?? false,
    join: flags.join ?? false,
    watch: flags.watch ?? false,
    output: flags.output ?? 'table',
    color: flags.color ?? true,
    verbose: flags.verbose ?? 0,
    haveCluster: clients.hasKubeconfig(),
    terminal: Boolean(io.stdin?.isTTY) && io.stderrIsTTY,
  };
}

export function validate(opts: DiscoverOptions): void {
  if (opts.timeoutMs <= 0) throw new UserError('--timeout must be more than 0');
  if (opts.watch && (opts.interactive || opts.join)) {
    throw new UserError('--watch cannot be combined with -i or --join');
  }
  if (opts.interactive && !opts.terminal) {
    throw new UserError('-i needs a terminal (stdin and stderr); use --join to join without asking');
  }
  checkSourceFlags(opts);
  if (opts.watch && opts.intervalMs <= 0) throw new UserError('--interval must be more than 0');
  if (!opts.haveCluster && (opts.interactive || opts.join)) {
    throw new UserError('-i and --join need a cluster: set KUBECONFIG or pass --kubeconfig');
  }
}

export function run(opts: DiscoverOptions, ctx: CommandContext): Promise<void> {
  return runDiscover(opts, ctx);
}

const DNS_SERVER_ACCEPTED = 'an IP address with an optional port: 10.0.0.53, 10.0.0.53:5353 or [::1]:5353';

/**
 * The values of --url, --domain and --dns-server, checked before anything is searched (the
 * --interface names are checked by complete, against this host's interfaces): a value that
 * cannot work is one line naming the flag and what it accepts, exit 1 (not a warning and an
 * empty result).
 */
function checkSourceFlags(opts: DiscoverOptions): void {
  for (const url of opts.urls) {
    const parsed = parseAuthUrl(url);
    if (!parsed.ok) throw new UserError(`--url "${url}" ${parsed.problem} (accepted: ${AUTH_URL_ACCEPTED})`);
  }
  for (const domain of opts.domains) {
    // room for the "_liqo._tcp." the DNS-SD form of the name adds
    const checked = normalizeSearchDomain(domain, DNS_SD_SERVICE_PREFIX.length + 1);
    if (!checked.ok) throw new UserError(`--domain: ${checked.message}`);
  }
  if (opts.dnsServer !== undefined) {
    const parsed = parseDnsServerAddress(opts.dnsServer);
    if (!parsed.ok) {
      const why = parsed.message.replace(/^DNS server ".*?": /, '');
      const accepted = why.startsWith('expected') ? '' : ` (accepted: ${DNS_SERVER_ACCEPTED})`;
      throw new UserError(`--dns-server "${opts.dnsServer}": ${why}${accepted}`);
    }
  }
}
