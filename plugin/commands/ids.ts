// kubectl liqo ids <authUrl>: the remote identity, its trust and certificate — the guide's
// `curl --insecure https://<address>:<port>/ids`, with the TLS facts curl hides.
import type { IdentityResult } from '../../shared/lookup/types.js';
import type { CommandContext, CommandModule } from '../command.js';
import { parseDuration, type GlobalOptions } from '../global.js';
import { fetchIdentityOrFail } from '../identity.js';
import { stdoutColors } from '../output/color.js';
import { outputOption, printData, type OutputFormat } from '../output/print.js';

/** What yargs parses. */
export interface IdsFlags extends GlobalOptions {
  authUrl: string;
  timeout?: string;
  strict?: boolean;
  caFile?: string;
  output?: OutputFormat;
}

/** What run() works from. */
export interface IdsOptions {
  authUrl: string;
  /** Bound on the whole request. */
  timeoutMs: number;
  strict: boolean;
  /** PEM file with extra CAs; read by run(), whose error names it. */
  caFile?: string;
  output: OutputFormat;
  color: boolean;
}

export const idsCommand: CommandModule<IdsFlags, IdsOptions> = {
  command: 'ids <authUrl>',
  describe: "Show a cluster's identity (GET <authUrl>/ids), trust and certificate fingerprint",
  builder: (y) =>
    outputOption(
      y
        .positional('authUrl', { type: 'string', describe: 'https://<host>:<port>', demandOption: true })
        .option('timeout', { type: 'string', default: '5s', describe: 'Bound on the whole request' })
        .option('strict', {
          type: 'boolean',
          default: false,
          describe: 'Fail unless the certificate verifies',
        })
        .option('ca-file', { type: 'string', describe: 'PEM file with extra CA certificates to trust' }),
      ['table', 'json', 'yaml'],
    ),
  complete,
  validate,
  run,
};

export function complete(flags: IdsFlags): IdsOptions {
  return {
    authUrl: String(flags.authUrl),
    timeoutMs: parseDuration(flags.timeout ?? '5s', '--timeout') ?? 5000,
    strict: flags.strict ?? false,
    ...(flags.caFile ? { caFile: flags.caFile } : {}),
    output: flags.output ?? 'table',
    color: flags.color ?? true,
  };
}

/**
 * Nothing to check here: the URL is judged by the /ids look-up itself, whose one-line error
 * names it (shared/lookup/ids.ts), and --timeout was parsed by complete().
 */
export function validate(_opts: IdsOptions): void {}

export function identityReport(r: IdentityResult): Record<string, unknown> {
  return {
    authUrl: r.authUrl,
    clusterId: r.identity.clusterId,
    ...(r.identity.clusterName !== undefined ? { clusterName: r.identity.clusterName } : {}),
    ...(r.identity.guestNamespace !== undefined ? { guestNamespace: r.identity.guestNamespace } : {}),
    trustMode: r.trustMode,
    ...(r.untrustedReason ? { untrustedReason: r.untrustedReason } : {}),
    certificateSha256: r.certificateSha256,
    certificateNotAfter: r.certificateNotAfter.toISOString(),
  };
}

/** Reads /ids directly: no cluster, so ctx.clients is not used. */
export async function run(opts: IdsOptions, { io }: CommandContext): Promise<void> {
  const result = await fetchIdentityOrFail(opts.authUrl, {
    timeoutMs: opts.timeoutMs,
    ...(opts.strict ? { strict: true } : {}),
    ...(opts.caFile ? { caFile: opts.caFile } : {}),
  });
  const format = opts.output;
  if (format === 'json' || format === 'yaml') return printData(io, format, identityReport(result));
  const c = stdoutColors(io, opts.color);
  const trust =
    result.trustMode === 'Trusted'
      ? c.green('Trusted')
      : `${c.yellow('Untrusted')}${result.untrustedReason ? ` (${result.untrustedReason})` : ''}`;
  const days = Math.floor((result.certificateNotAfter.getTime() - Date.now()) / 86_400_000);
  const lines: [string, string][] = [
    ['Auth URL', result.authUrl],
    ['Cluster ID', result.identity.clusterId],
    ['Cluster name', result.identity.clusterName ?? '<none>'],
    ['Namespace', result.identity.guestNamespace ?? '<none>'],
    ['Trust', trust],
    ['Fingerprint', `SHA256 ${result.certificateSha256}`],
    ['Expires', `${result.certificateNotAfter.toISOString()} (${days >= 0 ? `in ${days} days` : 'expired'})`],
  ];
  for (const [k, v] of lines) io.stdout.write(`${`${k}:`.padEnd(14)}${v}\n`);
}
