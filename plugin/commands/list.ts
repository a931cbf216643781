// kubectl liqo list: the ForeignClusters with what matters for peering.
import type { ForeignCluster } from '../../shared/api/index.js';
import type { OneStepCommandModule } from '../command.js';
import { connect, type GlobalOptions } from '../global.js';
import type { CommandIO } from '../io.js';
import { fcResourceName, foreignClusterId } from '../foreign-clusters.js';
import { asList, outputOption, printData, type OutputFormat } from '../output/print.js';
import { foreignClusterReadiness } from '../output/status-summary.js';
import { age, cell, formatTable } from '../output/table.js';

export interface ListOptions extends GlobalOptions {
  output?: OutputFormat;
}

export const listCommand: OneStepCommandModule<ListOptions> = {
  command: 'list',
  describe: 'List the ForeignClusters (known remote clusters) and their peering state',
  builder: (y) => outputOption(y),
  run,
};

export async function run(opts: ListOptions, io: CommandIO): Promise<void> {
  const resources = await connect(opts, io);
  const items = (await resources.foreignClusters.list()).sort((a, b) =>
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  const format = opts.output ?? 'table';
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
