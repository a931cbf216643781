// discover's output: streamed table rows, the JSON/YAML document, and watch events.
import type { DiscoveredCluster } from '../../shared/discovery/collect.js';
import type { CommandIO } from '../io.js';
import type { Colors } from '../output/color.js';
import { StreamingTable, type Column } from '../output/table.js';
import { statusOf, type ClusterState, type ClusterStatus } from './cluster-state.js';

export interface DiscoverRecord {
  clusterId?: string;
  clusterName?: string;
  authUrl: string;
  sources: string[];
  trustMode?: string;
  status?: string;
  error?: string;
}

/** The -o json shape of one cluster: fields absent when unknown. */
export function toRecord(c: DiscoveredCluster, status: ClusterStatus | undefined): DiscoverRecord {
  return {
    ...(c.clusterId ? { clusterId: c.clusterId } : {}),
    ...(c.clusterName ? { clusterName: c.clusterName } : {}),
    authUrl: c.authUrl,
    sources: [...c.sources].sort(),
    ...(c.identity ? { trustMode: c.identity.trustMode } : {}),
    ...(status ? { status: status.kind === 'unreachable' ? 'unreachable' : status.text } : {}),
    ...(c.error ? { error: c.error } : {}),
  };
}

const COLUMNS: Column[] = [
  { header: 'CLUSTER-ID', width: 36 },
  { header: 'NAME', width: 16 },
  { header: 'AUTH-URL', width: 26 },
  { header: 'SOURCE', width: 8 },
  { header: 'TRUST', width: 9 },
  { header: 'STATUS' },
];

export class DiscoverTable {
  private readonly table: StreamingTable;
  constructor(
    io: CommandIO,
    private readonly colors: Colors,
    private readonly withEvent = false,
    /** Rows printed as they come (a terminal, --watch), else aligned at end(). */
    live = true,
  ) {
    const columns = withEvent ? [{ header: 'EVENT', width: 7 }, ...COLUMNS] : COLUMNS;
    this.table = new StreamingTable(columns, (s) => io.stdout.write(s), live);
  }

  end(): void {
    this.table.end();
  }

  row(c: DiscoveredCluster, state: ClusterState | undefined, event?: 'ADDED' | 'REMOVED'): void {
    const status = statusOf(c, state);
    const cells = [
      c.clusterId ?? '<unknown>',
      c.clusterName ?? '<none>',
      c.authUrl,
      [...c.sources].sort().join(','),
      c.identity?.trustMode ?? '<unknown>',
      this.paint(status),
    ];
    this.table.row(this.withEvent ? [event ?? 'ADDED', ...cells] : cells);
  }

  private paint(status: ClusterStatus | undefined): string {
    if (!status) return '<unknown>';
    const c = this.colors;
    switch (status.kind) {
      case 'new':
        return c.green(status.text);
      case 'joined':
        return c.cyan(status.text);
      case 'self':
        return c.dim(status.text);
      case 'unreachable':
        return c.red(status.text);
      default:
        return status.text;
    }
  }
}
