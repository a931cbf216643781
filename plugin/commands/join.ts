// kubectl liqo join <authUrl | cluster id | ForeignCluster name>: read /ids, then create or
// update the ForeignCluster with join: true. Re-running it changes nothing.
import type { ForeignCluster } from '../../shared/api/index.js';
import type { LiqoResources } from '../../shared/kube/liqo-resources.js';
import type { CommandContext, CommandModule } from '../command.js';
import { readForeignClusterRuleOptions } from '../admission-policy.js';
import {
  debug,
  dryRunOption,
  dryRunSuffix,
  parseDuration,
  UserError,
  type DryRunMode,
  type GlobalOptions,
} from '../global.js';
import { fetchIdentityOrFail } from '../identity.js';
import type { CommandIO } from '../io.js';
import { fcResourceName, findForeignCluster } from '../foreign-clusters.js';
import { outputOption, printData, type OutputFormat } from '../output/print.js';
import { joinCluster, type ClientSideCheck } from '../peering.js';
import { acceptIdentity, acceptUrl } from '../identity-accept.js';

/** What yargs parses. */
export interface JoinFlags extends GlobalOptions {
  target: string;
  name?: string;
  dryRun?: DryRunMode;
  wait?: boolean;
  timeout?: string;
  idsTimeout?: string;
  caFile?: string;
  output?: OutputFormat;
  acceptIdentity?: boolean;
}

/** A URL is used as given; anything else names a ForeignCluster (by name or cluster id). */
export type JoinTarget = { kind: 'authUrl'; authUrl: string } | { kind: 'foreignCluster'; nameOrId: string };

/** What run() works from. */
export interface JoinOptions {
  target: JoinTarget;
  /** --name: the ForeignCluster to create or update (default: the cluster id, or the target's). */
  name?: string;
  dryRun: DryRunMode;
  /** --wait, bounded by waitTimeoutMs (--timeout). */
  wait: boolean;
  waitTimeoutMs: number;
  /** --ids-timeout: bound on reading /ids. */
  idsTimeoutMs: number;
  caFile?: string;
  output: OutputFormat;
  acceptIdentity: boolean;
  /** --request-timeout (0 = none), for reading the webhook's settings on a client dry run. */
  requestTimeoutMs: number;
  verbose: number;
}

export const joinCommand: CommandModule<JoinFlags, JoinOptions> = {
  command: 'join <target>',
  describe: 'Peer with a cluster: its auth URL, cluster id or ForeignCluster name',
  builder: (y) =>
    outputOption(
      dryRunOption(
        y
          .positional('target', {
            type: 'string',
            describe: 'https://<host>:<port>, a cluster id, or a ForeignCluster name',
            demandOption: true,
          })
          .option('name', { type: 'string', describe: 'ForeignCluster name (default: the cluster id)' })
          .option('wait', {
            type: 'boolean',
            default: false,
            describe: 'Wait until status.outgoing.joined is true',
          })
          .option('timeout', { type: 'string', default: '2m', describe: 'How long --wait waits' })
          .option('ids-timeout', { type: 'string', default: '5s', describe: 'Bound on reading /ids' })
          .option('ca-file', { type: 'string', describe: 'PEM file with extra CA certificates to trust' })
          .option('accept-identity', {
            type: 'boolean',
            default: false,
            describe:
              'Trust the identity the ForeignCluster answers with now (after IdentityChanged): re-pin it and join',
          }),
      ),
      ['table', 'json', 'yaml', 'name'],
    ),
  complete,
  validate,
  run,
};

export function complete(flags: JoinFlags): JoinOptions {
  const target = String(flags.target ?? '');
  return {
    target: /^[a-z][a-z0-9+.-]*:\/\//i.test(target)
      ? { kind: 'authUrl', authUrl: target }
      : { kind: 'foreignCluster', nameOrId: target },
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    dryRun: flags.dryRun ?? 'none',
    wait: flags.wait ?? false,
    waitTimeoutMs: parseDuration(flags.timeout ?? '2m', '--timeout') ?? 120_000,
    idsTimeoutMs: parseDuration(flags.idsTimeout ?? '5s', '--ids-timeout') ?? 5000,
    ...(flags.caFile ? { caFile: flags.caFile } : {}),
    output: flags.output ?? 'table',
    acceptIdentity: flags.acceptIdentity ?? false,
    requestTimeoutMs: parseDuration(flags.requestTimeout, '--request-timeout') ?? 0,
    verbose: flags.verbose ?? 0,
  };
}

export function validate(opts: JoinOptions): void {
  if (opts.wait && opts.dryRun !== 'none') throw new UserError('--wait cannot be combined with --dry-run');
  if (opts.acceptIdentity && opts.dryRun !== 'none') {
    throw new UserError('--accept-identity cannot be combined with --dry-run');
  }
  if (opts.acceptIdentity && opts.target.kind === 'authUrl') {
    throw new UserError(
      `--accept-identity needs the ForeignCluster's name or cluster id as target, not an auth URL (${opts.target.authUrl})`,
    );
  }
  if (opts.target.kind === 'foreignCluster' && opts.target.nameOrId.trim() === '') {
    throw new UserError(
      'join needs an auth URL (https://<host>:<port>), a cluster id or a ForeignCluster name',
    );
  }
}

export async function run(opts: JoinOptions, { io, clients }: CommandContext): Promise<void> {
  const mode = opts.dryRun;
  const resources = await clients.liqo();
  const { authUrl: targetUrl, foreignCluster } = await resolveTarget(resources, opts.target);
  // what is accepted is the identity seen where the change was seen
  const authUrl = opts.acceptIdentity && foreignCluster ? acceptUrl(foreignCluster) : targetUrl;
  const identity = await fetchIdentityOrFail(authUrl, {
    timeoutMs: opts.idsTimeoutMs,
    ...(opts.caFile ? { caFile: opts.caFile } : {}),
  });
  if (opts.acceptIdentity && foreignCluster) {
    return acceptAndReport(resources, foreignCluster, identity, opts, io);
  }
  const clientSide = mode === 'client' ? await clientSideCheck(resources, opts, io) : undefined;
  const outcome = await joinCluster(resources, {
    identity,
    // a target naming a ForeignCluster updates that one (and refuses if /ids answers as another)
    ...(opts.name
      ? { name: opts.name }
      : foreignCluster?.metadata.name
        ? { name: foreignCluster.metadata.name }
        : {}),
    dryRun: mode,
    ownClusterId: await resources.readOwnClusterId(),
    ...(clientSide ? { clientSide } : {}),
  });
  if (identity.trustMode === 'Untrusted' && outcome.action !== 'unchanged') {
    const why = identity.untrustedReason ? ` (${identity.untrustedReason})` : '';
    io.stderr.write(
      `Warning: ${authUrl} has an untrusted certificate${why}; recorded its SHA-256 fingerprint ${identity.certificateSha256}\n`,
    );
  }
  const format = opts.output;
  let shown: ForeignCluster = outcome.foreignCluster;
  if (format === 'table')
    io.stdout.write(`${fcResourceName(outcome.name)} ${outcome.action}${dryRunSuffix(mode)}\n`);
  if (opts.wait) {
    shown = await waitForJoined(resources, outcome.name, opts.waitTimeoutMs, io, format === 'table');
  }
  if (format === 'json' || format === 'yaml') return printData(io, format, shown);
  if (format === 'name') io.stdout.write(`${fcResourceName(outcome.name)}\n`);
}

async function acceptAndReport(
  resources: LiqoResources,
  current: ForeignCluster,
  identity: Awaited<ReturnType<typeof fetchIdentityOrFail>>,
  opts: JoinOptions,
  io: CommandIO,
): Promise<void> {
  const own = await resources.readOwnClusterId();
  if (own && identity.identity.clusterId === own) {
    throw new UserError(
      `refusing to accept: ${identity.authUrl} is this cluster itself (cluster id ${identity.identity.clusterId})`,
    );
  }
  const outcome = await acceptIdentity(resources, current, identity, opts.name);
  const format = opts.output;
  if (format === 'table') {
    io.stdout.write(
      `${fcResourceName(outcome.name)} ${outcome.action}: identity accepted (cluster ${identity.identity.clusterId}, ` +
        `certificate ${identity.certificateSha256}, ${identity.authUrl})\n`,
    );
    if (outcome.deleted) {
      io.stdout.write(
        `${fcResourceName(outcome.deleted)} deleted: its cluster id no longer answers at ${identity.authUrl}\n`,
      );
    }
  }
  let shown = outcome.foreignCluster;
  if (opts.wait) {
    shown = await waitForJoined(resources, outcome.name, opts.waitTimeoutMs, io, format === 'table');
  }
  if (format === 'json' || format === 'yaml') return printData(io, format, shown);
  if (format === 'name') io.stdout.write(`${fcResourceName(outcome.name)}\n`);
}

/** The webhook's published rule options (one LIST), and its warnings printed as the API server's are. */
async function clientSideCheck(
  resources: LiqoResources,
  opts: JoinOptions,
  io: CommandIO,
): Promise<ClientSideCheck> {
  const published = await readForeignClusterRuleOptions(resources, opts.requestTimeoutMs);
  debug(
    opts,
    io,
    1,
    published.unreadable
      ? `cannot read the webhook's settings, using its defaults: ${published.unreadable}`
      : `the webhook's settings: loopback auth URLs ${published.options.allowLoopback ? 'allowed' : 'refused'}`,
  );
  return { ...published, onWarning: (w) => io.stderr.write(`Warning: ${w}\n`) };
}

/** The auth URL to read /ids at, and the ForeignCluster the target names. */
async function resolveTarget(
  resources: LiqoResources,
  joinTarget: JoinTarget,
): Promise<{ authUrl: string; foreignCluster?: ForeignCluster }> {
  if (joinTarget.kind === 'authUrl') return { authUrl: joinTarget.authUrl };
  const target = joinTarget.nameOrId;
  const fc = await findForeignCluster(resources, target);
  if (fc?.spec?.authUrl) return { authUrl: fc.spec.authUrl, foreignCluster: fc };
  if (fc)
    throw new UserError(`ForeignCluster "${fc.metadata.name}" has no spec.authUrl to read the identity from`);
  const hint = /^[\w.-]+:\d+$/.test(target) ? ` (did you mean https://${target}?)` : '';
  throw new UserError(
    `"${target}" is not an auth URL nor a known ForeignCluster name or cluster id${hint}; ` +
      'give the auth URL, e.g. https://<host>:<port>',
  );
}

async function waitForJoined(
  resources: LiqoResources,
  name: string,
  timeoutMs: number,
  io: CommandIO,
  announce: boolean,
): Promise<ForeignCluster> {
  const deadline = Date.now() + timeoutMs;
  let last: ForeignCluster | undefined;
  for (;;) {
    last = await resources.foreignClusters.get(name);
    if (!last) throw new UserError(`ForeignCluster "${name}" was deleted while waiting for it to join`);
    if (last.status?.outgoing?.joined === true) {
      if (announce) io.stdout.write(`${fcResourceName(name)} joined\n`);
      return last;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await new Promise((r) => setTimeout(r, Math.min(1000, left)));
  }
  const s = last.status;
  const where = [
    `status.outgoing.joined is ${s?.outgoing?.joined ?? 'unset'}`,
    `authStatus ${s?.authStatus ?? 'unset'}`,
    ...(s?.conditions ?? [])
      .filter((c) => c.status !== 'True' && c.message)
      .map((c) => `${c.type}: ${c.message}`)
      .slice(0, 2),
  ].join(', ');
  throw new UserError(
    `timed out after ${Math.round(timeoutMs / 1000)}s waiting for ForeignCluster "${name}" to join: ${where}`,
  );
}
