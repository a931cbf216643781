// kubectl liqo unjoin <name | cluster id>: stop peering (join: false), or --delete the object.
import type { CommandContext, CommandModule } from '../command.js';
import { dryRunOption, dryRunSuffix, UserError, type DryRunMode, type GlobalOptions } from '../global.js';
import { fcResourceName, findForeignCluster } from '../foreign-clusters.js';
import { outputOption, printData, type OutputFormat } from '../output/print.js';

/** What yargs parses. */
export interface UnjoinFlags extends GlobalOptions {
  target: string;
  delete?: boolean;
  dryRun?: DryRunMode;
  output?: OutputFormat;
}

/** What run() works from. */
export interface UnjoinOptions {
  /** A ForeignCluster name or cluster id. */
  target: string;
  delete: boolean;
  dryRun: DryRunMode;
  output: OutputFormat;
}

export const unjoinCommand: CommandModule<UnjoinFlags, UnjoinOptions> = {
  command: 'unjoin <target>',
  describe: 'Stop peering with a cluster (join: false); --delete removes its ForeignCluster',
  builder: (y) =>
    outputOption(
      dryRunOption(
        y
          .positional('target', {
            type: 'string',
            describe: 'ForeignCluster name or cluster id',
            demandOption: true,
          })
          .option('delete', { type: 'boolean', default: false, describe: 'Delete the ForeignCluster' }),
      ),
      ['table', 'json', 'yaml', 'name'],
    ),
  complete,
  validate,
  run,
};

export function complete(flags: UnjoinFlags): UnjoinOptions {
  return {
    target: String(flags.target ?? ''),
    delete: flags.delete ?? false,
    dryRun: flags.dryRun ?? 'none',
    output: flags.output ?? 'table',
  };
}

export function validate(opts: UnjoinOptions): void {
  if (opts.target.trim() === '') {
    throw new UserError('unjoin needs a ForeignCluster name or cluster id (see "kubectl liqo list")');
  }
}

export async function run(opts: UnjoinOptions, { io, clients }: CommandContext): Promise<void> {
  const resources = await clients.liqo();
  const fc = await findForeignCluster(resources, opts.target);
  if (!fc?.metadata.name) {
    throw new UserError(
      `no ForeignCluster named or with cluster id "${opts.target}" (see "kubectl liqo list")`,
    );
  }
  const name = fc.metadata.name;
  const mode = opts.dryRun;
  const serverDry = mode === 'server';
  let verb: string;
  let result = fc;
  if (opts.delete) {
    if (mode !== 'client') await resources.foreignClusters.delete(name, { dryRun: serverDry });
    verb = 'deleted';
  } else if (fc.spec?.join !== true) {
    verb = 'unchanged';
  } else {
    result =
      mode === 'client'
        ? { ...fc, spec: { ...fc.spec, join: false } }
        : await resources.foreignClusters.patch(name, { spec: { join: false } }, { dryRun: serverDry });
    verb = 'unjoined';
  }
  const format = opts.output;
  if (format === 'json' || format === 'yaml') return printData(io, format, result);
  if (format === 'name') io.stdout.write(`${fcResourceName(name)}\n`);
  else io.stdout.write(`${fcResourceName(name)} ${verb}${dryRunSuffix(mode)}\n`);
}
