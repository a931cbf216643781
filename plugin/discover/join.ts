// Joining from discover: --join (every new cluster) and -i (a checkbox on the terminal).
import type { DiscoveredCluster } from '../../shared/discovery/collect.js';
import { fcResourceName } from '../foreign-clusters.js';
import { UserError } from '../global.js';
import type { CommandIO } from '../io.js';
import type { OutputFormat } from '../output/print.js';
import { joinCluster } from '../peering.js';
import { statusOf, type ClusterState } from './cluster-state.js';

/** Clusters one may pick: identity read, not this cluster, not already joined. */
export function joinable(clusters: DiscoveredCluster[], state: ClusterState): DiscoveredCluster[] {
  return clusters.filter((c) => {
    const kind = statusOf(c, state)?.kind;
    return c.identity && (kind === 'new' || kind === 'known');
  });
}

export async function pickClusters(
  clusters: DiscoveredCluster[],
  state: ClusterState,
  io: CommandIO,
): Promise<DiscoveredCluster[]> {
  const choices = joinable(clusters, state);
  if (choices.length === 0) {
    io.stderr.write('Nothing to join: no new or unjoined clusters were found.\n');
    return [];
  }
  const { checkbox } = await import('@inquirer/prompts');
  try {
    return await checkbox(
      {
        message: 'Clusters to join',
        choices: choices.map((c) => ({
          value: c,
          name: `${c.clusterName ?? '<no name>'}  ${c.clusterId}  ${c.authUrl}  (${statusOf(c, state)?.text}, ${c.identity?.trustMode})`,
          short: c.clusterName ?? c.clusterId ?? c.authUrl,
        })),
        pageSize: 15,
      },
      // the picker draws on stderr so that stdout keeps only data
      {
        input: io.stdin as NodeJS.ReadableStream,
        output: io.stderr as NodeJS.WritableStream,
        clearPromptOnDone: false,
      },
    );
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError') throw new UserError('cancelled: nothing was joined');
    throw err;
  }
}

/** Joins each in turn; one failure does not stop the others, but makes the exit code 1. */
export async function joinSelected(
  clusters: DiscoveredCluster[],
  state: ClusterState,
  io: CommandIO,
  format: OutputFormat,
): Promise<void> {
  const out = format === 'table' ? io.stdout : io.stderr; // keep -o json pure
  const failures: string[] = [];
  for (const c of clusters) {
    if (!c.identity) continue;
    try {
      const outcome = await joinCluster(state.resources, {
        identity: c.identity,
        dryRun: 'none',
        ownClusterId: state.ownClusterId,
        existing: state.foreignClusters,
      });
      out.write(`${fcResourceName(outcome.name)} ${outcome.action}\n`);
    } catch (err) {
      failures.push(`${c.clusterId}: ${(err as Error).message}`);
      io.stderr.write(`error: cannot join ${c.clusterId}: ${(err as Error).message}\n`);
    }
  }
  if (failures.length) {
    throw new UserError(`${failures.length} of ${clusters.length} joins failed (first: ${failures[0]})`);
  }
}
