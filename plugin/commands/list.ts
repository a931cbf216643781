// kubectl liqo list: the ForeignClusters with what matters for peering.
import type { ForeignCluster } from '../../shared/api/index.js';
import type { CommandContext, CommandModule } from '../command.js';
import type { GlobalOptions } from '../global.js';
import { fcResourceName, foreignClusterId } from '../foreign-clusters.js';
import { asList, outputOption, printData, type OutputFormat } from '../output/print.js';
import { foreignClusterReadiness } from '../output/status-summary.js';
import { age, cell, formatTable } from '../output/table.js';

/** What yargs parses. */
export interface ListFlags extends GlobalOptions {
  output?: OutputFormat;
}

/** What run() works from. */
export interface ListOptions {
  output: OutputFormat;
}

export const listCommand: CommandModule<ListFlags, ListOptions> = {
  command: 'list',
  describe: 'List the ForeignClusters (known remote clusters) and their peering state',
  builder: (y) => outputOption(y),
  complete,
  validate,
  run,
};

export function complete(flags: ListFlags): ListOptions {
  return { output: flags.output ?? 'table' };
}

/** Nothing to check: -o is one of its choices once parsed (outputOption). */
export function validate(_opts: ListOptions): void {}

export async function run(opts: ListOptions, { io, clients }: CommandContext): Promise<void> {
  const resources = await clients.liqo();
  const items = (await resources.foreignClusters.list()).sort((a, b) =>
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  const format = opts.output;
  if (format === 'json' || format === 'yaml') return printData(io, format, asList(items));
  if (format === 'name') {
    for (const fc of items) io.stdout.write(`${fcResourceName(fc.metadata.name)}\n`);
    return;
  }
  if (items.length === 0) {
    io.stderr.write('No ForeignClusters found.\n');
    return;
  }
  const wide = format === 'wide';
  const headers = [
    'NAME',
    'CLUSTER-ID',
    'CLUSTER-NAME',
    'AUTH-URL',
    'DISCOVERY',
    'JOIN',
    'JOINED',
    'READY',
    'REASON',
  ];
  // the message is free text of any length: last, and only in -o wide
  if (wide) headers.push('TRUST', 'NAMESPACE', 'TTL', 'AGE', 'MESSAGE');
  const rows = items.map((fc) => listRow(fc, wide));
  io.stdout.write(formatTable(headers, rows));
}

function listRow(fc: ForeignCluster, wide: boolean): string[] {
  const readiness = foreignClusterReadiness(fc);
  const row = [
    cell(fc.metadata.name),
    cell(foreignClusterId(fc)),
    cell(fc.spec?.clusterIdentity?.clusterName),
    cell(fc.spec?.authUrl),
    cell(fc.spec?.discoveryType),
    String(fc.spec?.join === true),
    String(fc.status?.outgoing?.joined === true),
    cell(readiness.ready),
    cell(readiness.reason),
  ];
  if (wide) {
    row.push(
      cell(fc.spec?.trustMode),
      cell(fc.spec?.namespace),
      fc.status?.ttl !== undefined ? `${fc.status.ttl}s` : '<none>',
      age(fc.metadata.creationTimestamp),
      cell(readiness.message),
    );
  }
  return row;
}
