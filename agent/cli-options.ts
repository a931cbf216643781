// The agent's command line (yargs). Every flag also has a sensible in-cluster default, so the
// Deployment only sets what differs (e.g. --auth-port to the NodePort).
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import yargs from 'yargs';
import { AGENT_LEASE_NAME, DEFAULT_LIQO_NAMESPACE } from '../shared/api/constants.js';
import type { AgentOptions } from './agent.js';
import { timingFromSettings, timingProblem } from './leader-election-state.js';

/** The agent's options as the command line gives them: paths and switches, not live objects. */
export interface CliOptions extends Omit<AgentOptions, 'kubeConfig' | 'mdns' | 'log' | 'retryIntervalMs'> {
  kubeconfig?: string;
  context?: string;
  retryIntervalMs: number;
  logLevel: string;
  /** false: never advertise or browse, whatever the ClusterConfig says (sandboxes on a real host). */
  mdns: boolean;
}

export class CliError extends Error {}

export function parseCli(argv: string[]): CliOptions {
  const a = yargs(argv)
    .scriptName('liqo-agent')
    .usage(
      '$0 [options]\n\nThe in-cluster Liqo discovery agent: serves /ids, advertises and browses the LAN by mDNS, resolves SearchDomains and keeps ForeignClusters current.',
    )
    .option('kubeconfig', {
      type: 'string',
      describe: 'kubeconfig file (default: in-cluster, then $KUBECONFIG)',
    })
    .option('context', { type: 'string', describe: 'kubeconfig context' })
    .option('namespace', {
      type: 'string',
      default: process.env['POD_NAMESPACE'] || DEFAULT_LIQO_NAMESPACE,
      describe: 'the Liqo namespace',
    })
    .option('ids-port', {
      type: 'number',
      default: 8443,
      describe: 'HTTPS port of GET /ids (0: any free port)',
    })
    .option('ids-bind-address', { type: 'string', describe: 'address the /ids server binds (default all)' })
    .option('health-port', {
      type: 'number',
      default: 8081,
      describe: 'HTTP port of /healthz, /readyz, /metrics',
    })
    .option('health-bind-address', {
      type: 'string',
      describe: 'address the health server binds (default all)',
    })
    .option('interface', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe:
        'mDNS interface (name or address); repeatable; default those carrying the default route(s), never container bridges/veths',
    })
    .option('advertise-address', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: "address peers should use (mDNS A records, certificate); default the interfaces' addresses",
    })
    .option('auth-port', {
      type: 'number',
      describe: 'port peers should use for /ids (e.g. the NodePort); default the ids port',
    })
    .option('hostname', {
      type: 'string',
      describe: 'mDNS host name and certificate name; default the node host name',
    })
    .option('searchdomain-interval', {
      type: 'number',
      default: 30,
      describe: 'seconds between resolutions of each SearchDomain',
    })
    .option('gc-interval', {
      type: 'number',
      default: 30,
      describe: 'seconds between garbage-collection passes',
    })
    .option('lease-name', {
      type: 'string',
      default: AGENT_LEASE_NAME,
      describe: 'the leader-election Lease in the Liqo namespace',
    })
    .option('lease-duration', {
      type: 'number',
      default: 15,
      describe: 'seconds a leader holds the Lease without renewing',
    })
    .option('renew-deadline', {
      type: 'number',
      describe:
        'seconds after its last renewal at which a leader that could not renew stops acting; default two thirds of --lease-duration (10)',
    })
    .option('retry-interval', {
      type: 'number',
      default: 2,
      describe: "seconds between the leader's renewals and between a standby's looks at the Lease",
    })
    .option('identity', {
      type: 'string',
      describe: "this replica's Lease holder identity; default $POD_NAME or host name plus a random suffix",
    })
    .option('dns-server', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: "DNS server for SearchDomains (host or host:port); default the system's",
    })
    .option('ids-timeout', {
      type: 'number',
      default: 5000,
      describe: 'milliseconds allowed for each peer /ids fetch',
    })
    .option('ids-concurrency', {
      type: 'number',
      default: 8,
      describe: 'peer /ids fetches in flight at most',
    })
    .option('identity-retry-min', {
      type: 'number',
      default: 5,
      describe:
        'seconds before retrying a Manual ForeignCluster whose /ids failed; doubles per failure (an edit of its spec is tried at once)',
    })
    .option('identity-retry-max', {
      type: 'number',
      default: 300,
      describe: 'seconds between such retries at most',
    })
    .option('tls-cert-file', {
      type: 'string',
      describe: '/ids certificate (PEM) instead of the self-signed one kept in a Secret',
    })
    .option('tls-key-file', { type: 'string', describe: '/ids private key (PEM)' })
    .option('peer-ca-file', { type: 'string', describe: 'extra CAs (PEM) that make peers Trusted' })
    .option('allow-loopback', {
      type: 'boolean',
      default: false,
      describe:
        'fetch peers whose address is loopback (127.0.0.0/8, ::1): sandboxes on one machine only; link-local, metadata, multicast and unspecified addresses stay refused',
    })
    .option('mdns', {
      type: 'boolean',
      default: true,
      describe:
        'advertise and browse by mDNS when the ClusterConfig says so; --no-mdns turns LAN discovery off entirely',
    })
    .option('cluster-profiles', {
      type: 'string',
      describe:
        'keep one ClusterProfile (multicluster.x-k8s.io, KEP-4322) per ForeignCluster in this namespace (off by default)',
    })
    .option('log-level', {
      type: 'string',
      default: process.env['LOG_LEVEL'] ?? 'info',
      choices: ['trace', 'debug', 'info', 'warn', 'error'],
    })
    .strict()
    .help()
    .version(false)
    .fail((msg, err) => {
      throw new CliError(msg || err?.message || 'invalid arguments');
    })
    .parseSync();

  const positive = (flag: string, v: number, allowZero = false) => {
    if (!Number.isFinite(v) || v < (allowZero ? 0 : 1))
      throw new CliError(`--${flag} must be a number ${allowZero ? '>= 0' : '> 0'}, got ${v}`);
    return v;
  };
  const port = (flag: string, v: number, allowZero = true) => {
    if (!Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535)
      throw new CliError(`--${flag} must be a port in ${allowZero ? 0 : 1}-65535, got ${v}`);
    return v;
  };
  if (Boolean(a['tls-cert-file']) !== Boolean(a['tls-key-file'])) {
    throw new CliError('--tls-cert-file and --tls-key-file go together: give both or neither');
  }
  const leaseDuration = positive('lease-duration', a['lease-duration']);
  const renewDeadline =
    a['renew-deadline'] === undefined ? undefined : positive('renew-deadline', a['renew-deadline']);
  const retryInterval = positive('retry-interval', a['retry-interval']);
  const problem = timingProblem(
    timingFromSettings({
      leaseDurationSeconds: leaseDuration,
      retryPeriodMs: retryInterval * 1000,
      renewDeadlineMs: renewDeadline === undefined ? undefined : renewDeadline * 1000,
    }),
  );
  if (problem) throw new CliError(`--lease-duration/--renew-deadline/--retry-interval: ${problem}`);
  const retryMin = positive('identity-retry-min', a['identity-retry-min']);
  const retryMax = positive('identity-retry-max', a['identity-retry-max']);
  if (retryMax < retryMin) {
    throw new CliError(
      `--identity-retry-max (${retryMax}) must be at least --identity-retry-min (${retryMin})`,
    );
  }
  const interfaces = a.interface.filter(Boolean);
  const out: CliOptions = {
    namespace: a.namespace,
    idsPort: port('ids-port', a['ids-port']),
    healthPort: port('health-port', a['health-port']),
    interfaces,
    advertiseAddresses: a['advertise-address'].length
      ? a['advertise-address']
      : interfaceAddresses(interfaces),
    searchDomainIntervalMs: positive('searchdomain-interval', a['searchdomain-interval']) * 1000,
    gcIntervalMs: positive('gc-interval', a['gc-interval']) * 1000,
    leaseName: a['lease-name'],
    leaseDurationSeconds: leaseDuration,
    retryIntervalMs: retryInterval * 1000,
    dnsServers: a['dns-server'],
    idsTimeoutMs: positive('ids-timeout', a['ids-timeout']),
    idsConcurrency: positive('ids-concurrency', a['ids-concurrency']),
    identityRetryMinMs: retryMin * 1000,
    identityRetryMaxMs: retryMax * 1000,
    logLevel: a['log-level'],
    mdns: a.mdns,
  };
  if (renewDeadline !== undefined) out.renewDeadlineMs = renewDeadline * 1000;
  if (a['allow-loopback']) out.allowLoopback = true;
  if (a.kubeconfig) out.kubeconfig = a.kubeconfig;
  if (a.context) out.context = a.context;
  if (a['ids-bind-address']) out.idsBindAddress = a['ids-bind-address'];
  if (a['health-bind-address']) out.healthBindAddress = a['health-bind-address'];
  if (a['auth-port'] !== undefined) out.authPort = port('auth-port', a['auth-port'], false);
  if (a.hostname) out.hostname = a.hostname;
  if (a['cluster-profiles'] !== undefined) {
    const ns = a['cluster-profiles'];
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns))
      throw new CliError(
        `--cluster-profiles "${ns}": not a namespace name (lower-case DNS label, e.g. fleet)`,
      );
    out.clusterProfilesNamespace = ns;
  }
  const identity = a.identity ?? process.env['POD_NAME'];
  if (identity) out.identity = identity;
  if (a['tls-cert-file']) out.tlsCertFile = a['tls-cert-file'];
  if (a['tls-key-file']) out.tlsKeyFile = a['tls-key-file'];
  if (a['peer-ca-file']) {
    try {
      out.peerCaBundle = readFileSync(a['peer-ca-file'], 'utf8');
    } catch (err) {
      throw new CliError(`--peer-ca-file: cannot read ${a['peer-ca-file']}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** IPv4 addresses of the given interfaces (names pass through as their addresses; IPs as is). */
export function interfaceAddresses(interfaces: string[]): string[] {
  const all = networkInterfaces();
  const out: string[] = [];
  for (const i of interfaces) {
    const infos = all[i];
    if (!infos) {
      out.push(i); // already an address
      continue;
    }
    for (const info of infos) if (info.family === 'IPv4' && !info.internal) out.push(info.address);
  }
  return out;
}
