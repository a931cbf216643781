// The identity filler's API calls: the spec patch that stores an identity, and the status
// patch (plus Event) of the IdentityResolved condition. What they write is decided in
// agent/identity-fill-decision.ts; when to write, in agent/identity-filler.ts.
import type { ForeignCluster } from '../shared/api/types.js';
import type { IdentityResult } from '../shared/lookup/types.js';
import type { ResourceClient } from '../shared/kube/liqo-resources.js';
import type { ForeignClusterEventSink } from './foreign-cluster-writer.js';
import { conditionWrite, identityPatch, type ObservedCondition } from './identity-fill-decision.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';

/** Stores the identity in spec; rejects when the object changed since `fc` was read (409). */
export function storeIdentity(
  foreignClusters: ResourceClient<ForeignCluster>,
  fc: ForeignCluster,
  found: IdentityResult,
): Promise<ForeignCluster> {
  return foreignClusters.patch(fc.metadata.name ?? '', identityPatch(fc, found));
}

/**
 * Sets `condition` for the spec `generation` the attempt saw, reading the object afresh first;
 * records an Event when the condition changes status. Writes nothing when the spec changed
 * meanwhile.
 */
export async function writeIdentityCondition(
  foreignClusters: ResourceClient<ForeignCluster>,
  name: string,
  generation: number | undefined,
  condition: ObservedCondition,
  alsoStatus: Record<string, unknown>,
  out: { log: Logger; events?: ForeignClusterEventSink | undefined },
): Promise<void> {
  const fresh = await foreignClusters.get(name);
  if (!fresh) return;
  const write = conditionWrite(fresh, generation, condition, alsoStatus, new Date().toISOString());
  if (!write) {
    out.log.debug({ foreignCluster: name, generation }, 'spec changed meanwhile; result not written');
    return;
  }
  await foreignClusters.patchStatus(name, write.statusPatch);
  if (write.event) {
    await out
      .events?.(fresh, write.event)
      .catch((err: unknown) =>
        out.log.warn({ foreignCluster: name, err: errorMessage(err) }, 'cannot write Event'),
      );
  }
}
