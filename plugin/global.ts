// kubectl's global flags, the error type every command throws for a user mistake, and the
// small helpers every command's complete() and run() share (durations, -v, --dry-run). The
// connection to the cluster is plugin/client-factory.ts.
import type { Argv } from 'yargs';
import type { CommandIO } from './io.js';

export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  /** kubectl's duration syntax: "0", "30", "30s", "1m", "500ms". */
  requestTimeout?: string;
  verbose?: number;
  /** false after --no-color. */
  color?: boolean;
}

/** A failure the user can act on: printed as `error: <message>`, exit 1, no stack. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export function addGlobalOptions<T>(y: Argv<T>) {
  return y
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file', global: true })
    .option('context', { type: 'string', describe: 'The kubeconfig context to use', global: true })
    .option('cluster', { type: 'string', describe: 'The kubeconfig cluster to use', global: true })
    .option('user', { type: 'string', describe: 'The kubeconfig user to use', global: true })
    .option('request-timeout', {
      type: 'string',
      describe: 'Time to wait for each API request (e.g. 1s, 2m; 0 = no limit)',
      global: true,
    })
    .option('verbose', { alias: 'v', type: 'count', describe: 'More detail on stderr', global: true })
    .option('color', {
      type: 'boolean',
      default: true,
      describe: 'Colour on a terminal (--no-color)',
      global: true,
    });
}

/** Parses kubectl-style durations; a bare number is seconds. */
export function parseDuration(value: string | number | undefined, flag: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number') return value * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UserError(`${flag}: invalid duration "${value}" (use e.g. 500ms, 10s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}

/** Verbose logging on stderr (-v, -vv). */
export function debug(
  opts: Pick<GlobalOptions, 'verbose'>,
  io: CommandIO,
  level: number,
  message: string,
): void {
  if ((opts.verbose ?? 0) >= level) io.stderr.write(`${message}\n`);
}

export type DryRunMode = 'none' | 'client' | 'server';

export function dryRunOption<T>(y: Argv<T>) {
  return y.option('dry-run', {
    type: 'string',
    choices: ['none', 'client', 'server'] as const,
    // no default: yargs would substitute it for a bare --dry-run
    describe: 'client: only print what would be sent; server: let the API server and webhook check it',
    // kubectl accepts a bare --dry-run as "client"
    coerce: (v: unknown) => (v === '' || v === true ? 'client' : v),
  });
}

export function dryRunSuffix(mode: DryRunMode | undefined): string {
  return mode === 'client' ? ' (dry run)' : mode === 'server' ? ' (server dry run)' : '';
}
