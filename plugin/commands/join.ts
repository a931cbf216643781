// kubectl liqo join <authUrl | cluster id | ForeignCluster name>: read /ids, then create or
// update the ForeignCluster with join: true. Re-running it changes nothing.
import type { ForeignCluster } from '../../shared/api/index.js';
import type { LiqoResources } from '../../shared/kube/liqo-resources.js';
import type { OneStepCommandModule } from '../command.js';
import { readForeignClusterRuleOptions } from '../admission-policy.js';
import {
  connect,
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

export interface JoinOptions extends GlobalOptions {
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

export const joinCommand: OneStepCommandModule<JoinOptions> = {
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
  run,
};

export async function run(opts: JoinOptions, io: CommandIO): Promise<void> {
  const mode = opts.dryRun ?? 'none';
  if (opts.wait && mode !== 'none') throw new UserError('--wait cannot be combined with --dry-run');
  const waitMs = parseDuration(opts.timeout ?? '2m', '--timeout') ?? 120_000;
  if (opts.acceptIdentity && mode !== 'none') {
    throw new UserError('--accept-identity cannot be combined with --dry-run');
  }
  const resources = await connect(opts, io);
  const target = await resolveTarget(resources, opts.target);
  const { foreignCluster } = target;
  if (opts.acceptIdentity && !foreignCluster) {
    throw new UserError(
      `--accept-identity needs the ForeignCluster's name or cluster id as target, not an auth URL (${opts.target})`,
    );
  }
  // what is accepted is the identity seen where the change was seen
  const authUrl = opts.acceptIdentity && foreignCluster ? acceptUrl(foreignCluster) : target.authUrl;
  const identity = await fetchIdentityOrFail(authUrl, {
    timeoutMs: parseDuration(opts.idsTimeout ?? '5s', '--ids-timeout') ?? 5000,
    ...(opts.caFile ? { caFile: opts.caFile } : {}),
  });
  if (opts.acceptIdentity && foreignCluster) {
    return acceptAndReport(resources, foreignCluster, identity, opts, io, waitMs);
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
  const format = opts.output ?? 'table';
  let shown: ForeignCluster = outcome.foreignCluster;
  if (format === 'table')
    io.stdout.write(`${fcResourceName(outcome.name)} ${outcome.action}${dryRunSuffix(mode)}\n`);
  if (opts.wait) {
    shown = await waitForJoined(resources, outcome.name, waitMs, io, format === 'table');
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
  waitMs: number,
): Promise<void> {
  const own = await resources.readOwnClusterId();
  if (own && identity.identity.clusterId === own) {
    throw new UserError(
      `refusing to accept: ${identity.authUrl} is this cluster itself (cluster id ${identity.identity.clusterId})`,
    );
  }
  const outcome = await acceptIdentity(resources, current, identity, opts.name);
  const format = opts.output ?? 'table';
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
  if (opts.wait) shown = await waitForJoined(resources, outcome.name, waitMs, io, format === 'table');
  if (format === 'json' || format === 'yaml') return printData(io, format, shown);
  if (format === 'name') io.stdout.write(`${fcResourceName(outcome.name)}\n`);
}

/** The webhook's published rule options (one LIST), and its warnings printed as the API server's are. */
async function clientSideCheck(
  resources: LiqoResources,
  opts: JoinOptions,
  io: CommandIO,
): Promise<ClientSideCheck> {
  const published = await readForeignClusterRuleOptions(
    resources,
    parseDuration(opts.requestTimeout, '--request-timeout') ?? 0,
  );
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

/** A URL is used as given; anything else names a ForeignCluster (by name or cluster id). */
async function resolveTarget(
  resources: LiqoResources,
  target: string,
): Promise<{ authUrl: string; foreignCluster?: ForeignCluster }> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return { authUrl: target };
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
